"""Thin table models over domain objects and summary rows; tested without widgets."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from PySide6.QtCore import (
    QAbstractItemModel,
    QAbstractTableModel,
    QModelIndex,
    QPersistentModelIndex,
    Qt,
)
from PySide6.QtGui import QBrush, QColor, QFont
from PySide6.QtWidgets import QAbstractItemView, QHeaderView, QTableView

from ketalog.domain.entities import Patient

T = TypeVar("T")
Index = QModelIndex | QPersistentModelIndex


HIGHLIGHT_COLOUR = "#b00020"
ROWS_MEASURED = 40  # rows a fitted column is measured on (Qt samples them through the list)


class RowsModel(QAbstractTableModel, Generic[T]):
    """Rows of T shown through (header, getter) column specs."""

    def __init__(self, columns: Sequence[tuple[str, Callable[[T], object]]],
                 highlight: Callable[[T], bool] | None = None) -> None:
        """`highlight` marks rows that need attention (white on red, bold)."""
        super().__init__()
        self._columns = list(columns)
        self._rows: list[T] = []
        self._highlight = highlight

    def set_rows(self, rows: Sequence[T]) -> None:
        self.beginResetModel()
        self._rows = list(rows)
        self.endResetModel()

    def row_at(self, row: int) -> T:
        return self._rows[row]

    def rows(self) -> list[T]:
        return list(self._rows)

    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._rows)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._columns)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return self._columns[section][0]
        return None

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        if role in (Qt.ItemDataRole.DisplayRole, Qt.ItemDataRole.ToolTipRole):
            value = self._columns[index.column()][1](self._rows[index.row()])
            return "" if value is None else str(value)
        if self._highlight is not None and self._highlight(self._rows[index.row()]):
            if role == Qt.ItemDataRole.BackgroundRole:
                return QBrush(QColor(HIGHLIGHT_COLOUR))
            if role == Qt.ItemDataRole.ForegroundRole:
                return QBrush(QColor("white"))
            if role == Qt.ItemDataRole.FontRole:
                font = QFont()
                font.setBold(True)
                return font
        return None


def patient_model(allergies: Callable[[Patient], str] | None = None) -> RowsModel[Patient]:
    """`allergies` gives the entries as text (else the free-text field is shown)."""
    def allergy_text(p: Patient) -> str:
        return (allergies(p) if allergies is not None else p.allergies) or "none recorded"

    return RowsModel[Patient]([
        ("MRN", lambda p: p.mrn),
        ("Name", lambda p: p.display_name),
        ("Date of birth", lambda p: p.birth_date.isoformat()),
        ("Indication", lambda p: p.indication),
        ("Allergies", allergy_text),
    ])


def local_time(value: datetime | None) -> str:
    return "" if value is None else value.astimezone().strftime("%H:%M")


def local_date(value: date | datetime | None) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        value = value.astimezone().date()
    return value.isoformat()


def rows_view(model: QAbstractItemModel, name: str, *, fit_columns: bool = True,
              stretch_last: bool = False, alternate: bool = False) -> QTableView:
    """A read-only list of records: whole rows, one at a time, no row numbers. Columns
    fit their contents unless the caller sets fixed widths; fitting measures a sample of
    ROWS_MEASURED rows (measuring all 500 of a ten-year patient list cost 0.1 s at start-up;
    a longer cell further down is elided, its tooltip shows it whole)."""
    view = QTableView()
    view.setObjectName(name)
    view.setModel(model)
    view.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    view.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    view.verticalHeader().hide()
    if fit_columns:
        view.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.ResizeToContents)
        view.horizontalHeader().setResizeContentsPrecision(ROWS_MEASURED)
    view.horizontalHeader().setStretchLastSection(stretch_last)
    view.setAlternatingRowColors(alternate)
    return view
