"""Column values read back as the Python types their columns hold. SQLite hands back
`object`s (a column's affinity is not a promise); these say what a column must contain
and refuse anything else loudly instead of letting a wrong type travel into a dose."""

from __future__ import annotations

from ketalog.store.errors import StoreError


def as_int(value: object) -> int:
    """An INTEGER column (ids, counts, 0/1 flags)."""
    if isinstance(value, bool):
        return int(value)
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            return int(value.strip())
        except ValueError:
            pass
    raise StoreError(f"expected a whole number in the database, found {value!r}")


def as_float(value: object) -> float:
    """A REAL column (mg, kg, mL/h...). Whole numbers stored as INTEGER count too."""
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    if isinstance(value, str):
        try:
            return float(value.strip())
        except ValueError:
            pass
    raise StoreError(f"expected a number in the database, found {value!r}")


def as_text(value: object) -> str:
    """A TEXT column; NULL reads as the empty string (free-text columns default to '')."""
    return "" if value is None else str(value)


def opt_int(value: object) -> int | None:
    """A nullable INTEGER column (a foreign key not yet set, an optional score)."""
    return None if value is None or value == "" else as_int(value)


def opt_float(value: object) -> float | None:
    """A nullable REAL column (a vital not measured)."""
    return None if value is None or value == "" else as_float(value)


def as_flag(value: object) -> bool:
    """A 0/1 INTEGER flag column."""
    return as_int(value) != 0
