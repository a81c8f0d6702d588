"""Errors of the domain: each names the field, the value and the limit so a nurse can
fix the entry without guessing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class FieldProblem:
    field: str
    value: object
    limit: str
    message: str


class PlausibilityError(ValueError):
    """A value that cannot be physiological or valid. Nothing is stored."""

    def __init__(self, problems: list[FieldProblem]) -> None:
        if not problems:
            raise ValueError("PlausibilityError needs at least one problem")
        self.problems = list(problems)
        super().__init__("; ".join(p.message for p in self.problems))

    @property
    def fields(self) -> list[str]:
        return [p.field for p in self.problems]

    @classmethod
    def single(cls, field: str, value: object, limit: str, message: str) -> PlausibilityError:
        return cls([FieldProblem(field, value, limit, message)])
