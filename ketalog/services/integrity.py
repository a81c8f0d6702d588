"""`verify` as one use case: the store's own checks (integrity, triggers, audit chain,
signatures, history) plus the anchors written outside the file, with the numbers its
report names. Read-only and without a login: whoever holds the file may check it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ketalog.services.anchors import anchor_count, anchor_problems, given_heads, head_problems
from ketalog.services.errors import service_boundary
from ketalog.store.backup import PhaseProgress
from ketalog.store.store import Store
from ketalog.store.verify import verify_store


@dataclass(frozen=True)
class IntegrityReport:
    problems: list[str]
    audit_entries: int
    anchors: int
    encrypted: bool

    @property
    def sound(self) -> bool:
        return not self.problems


@service_boundary
def verify_database(store: Store, phases: PhaseProgress | None = None, *,
                    documents: tuple[Path, ...] = (),
                    typed_heads: tuple[str, ...] = ()) -> IntegrityReport:
    """Every check `ketalog verify` runs, on a store opened for verifying, plus the heads
    of the printed or exported `documents` and those typed back from a page's footer
    (anchors out of an attacker's reach). A document that cannot be read, or a typed head
    that is not one, raises ServiceError before any check runs."""
    given = given_heads(list(documents), list(typed_heads))
    problems = verify_store(store, phases)
    problems += anchor_problems(store)
    problems += head_problems(store, given)
    return IntegrityReport(problems, store.table_counts().get("audit_log", 0),
                           anchor_count(store) + len(given), store.encrypted)
