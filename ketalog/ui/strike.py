"""Marking an entry as entered in error from any list on the session screen: the reason is
asked for (required), the service strikes the entry (never deletes it), and struck rows
are drawn struck through with the reason beside them."""

from __future__ import annotations

from PySide6.QtGui import QFont
from PySide6.QtWidgets import QInputDialog, QListWidgetItem, QTableWidgetItem, QWidget

from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.entered_in_error import LABELS, EntryKind, strike_entry
from ketalog.services.errors import ServiceError

STRUCK_PREFIX = "ENTERED IN ERROR"


def ask_strike_reason(parent: QWidget, label: str) -> str | None:
    """The reason, or None when the nurse cancels. The entry stays on the record,
    struck through; it is not counted in any total."""
    text, ok = QInputDialog.getText(
        parent, "Mark as entered in error",
        f"Why is this {label} entered in error? It stays on the record, struck through,\n"
        "and counts in no total. (Before signing only; after signing add an addendum.)")
    return text.strip() if ok and text.strip() else None


def strike(ctx: Context, kind: EntryKind, entry_id: int, reason: str) -> str | None:
    """Strike the entry; the refusal's sentence when the service says no, else None."""
    try:
        strike_entry(ctx, kind, entry_id, reason)
    except (PlausibilityError, ServiceError) as exc:
        return f"Not marked: {exc}"
    return None


def struck_text(text: str, reason: str) -> str:
    return f"{text}  — {STRUCK_PREFIX}: {reason}"


def show_struck(item: QListWidgetItem | QTableWidgetItem) -> None:
    font = QFont(item.font())
    font.setStrikeOut(True)
    item.setFont(font)


__all__ = ["LABELS", "EntryKind", "ask_strike_reason", "show_struck", "strike", "struck_text"]
