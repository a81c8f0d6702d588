"""The vitals table: alert cells coloured and bold with a marker (not colour alone),
artifacts struck through with their reason, newest first or last as the nurse likes."""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Callable, Sequence
from typing import Any

from PySide6.QtCore import QAbstractTableModel, QModelIndex, QPersistentModelIndex, Qt
from PySide6.QtGui import QBrush, QColor, QFont

from ketalog.domain.entities import VitalsReading
from ketalog.domain.vitals import format_vital

Index = QModelIndex | QPersistentModelIndex

COLUMNS: tuple[tuple[str, str], ...] = (
    ("at", "Time"), ("sbp_mmhg", "SBP mmHg"), ("dbp_mmhg", "DBP mmHg"),
    ("map_mmhg", "MAP mmHg"), ("hr_bpm", "HR /min"), ("spo2_pct", "SpO2 %"),
    ("rr_per_min", "RR /min"), ("etco2_mmhg", "EtCO2 mmHg"), ("temp_c", "Temp °C"),
    ("source", "Source"), ("flags", "Notes"),
)
ALERT_BACKGROUND = QColor("#ffd6d6")
ALERT_FOREGROUND = QColor("#9b0000")
ARTIFACT_FOREGROUND = QColor("#888888")


class VitalsTableModel(QAbstractTableModel):
    """Rows are vitals ids in time order; full readings are fetched in pages as rows come
    into view, so a 14,400-row device session opens without converting every row."""

    PAGE = 200

    def __init__(self, newest_first: bool = True) -> None:
        super().__init__()
        self._ids: list[int] = []  # chronological
        self._at: list[float] = []
        self._cache: dict[int, VitalsReading] = {}
        self._fetch: Callable[[list[int]], list[VitalsReading]] = lambda ids: []
        self.newest_first = newest_first

    # -- data in ------------------------------------------------------------
    def set_readings(self, readings: Sequence[VitalsReading]) -> None:
        ordered = sorted(readings, key=lambda r: (r.at, r.id or 0))
        self.set_source([r.id or 0 for r in ordered], [r.at.timestamp() for r in ordered],
                        lambda ids: [], preloaded=ordered)

    def set_source(self, ids: Sequence[int], at_s: Sequence[float],
                   fetch: Callable[[list[int]], list[VitalsReading]],
                   preloaded: Sequence[VitalsReading] = ()) -> None:
        """ids and times in chronological order; fetch loads full readings by id."""
        self.beginResetModel()
        self._ids, self._at, self._fetch = list(ids), list(at_s), fetch
        self._cache = {r.id or 0: r for r in preloaded}
        self.endResetModel()

    def append(self, reading: VitalsReading) -> None:
        """Insert one reading in time order (late entries land where they belong)."""
        t = reading.at.timestamp()
        pos = bisect_right(self._at, t)
        row = self._view_row(pos, len(self._ids) + 1)
        self.beginInsertRows(QModelIndex(), row, row)
        self._ids.insert(pos, reading.id or 0)
        self._at.insert(pos, t)
        self._cache[reading.id or 0] = reading
        self.endInsertRows()

    def replace(self, reading: VitalsReading) -> None:
        key = reading.id or 0
        if key not in self._ids:
            return
        self._cache[key] = reading
        row = self._view_row(self._ids.index(key), len(self._ids))
        self.dataChanged.emit(self.index(row, 0), self.index(row, len(COLUMNS) - 1))

    def set_newest_first(self, newest_first: bool) -> None:
        if newest_first != self.newest_first:
            self.beginResetModel()
            self.newest_first = newest_first
            self.endResetModel()

    def _view_row(self, pos: int, count: int) -> int:
        return count - 1 - pos if self.newest_first else pos

    def reading_at(self, row: int) -> VitalsReading:
        pos = self._view_row(row, len(self._ids))
        key = self._ids[pos]
        reading = self._cache.get(key)
        if reading is None:
            low = max(0, pos - self.PAGE // 2)
            page = [i for i in self._ids[low:low + self.PAGE] if i not in self._cache]
            for fetched in self._fetch(page):
                self._cache[fetched.id or 0] = fetched
            reading = self._cache[key]
        return reading

    # -- Qt model -----------------------------------------------------------
    def rowCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(self._ids)

    def columnCount(self, parent: Index = QModelIndex()) -> int:  # noqa: B008, N802
        return 0 if parent.isValid() else len(COLUMNS)

    def headerData(self, section: int, orientation: Qt.Orientation,  # noqa: N802
                   role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if role == Qt.ItemDataRole.DisplayRole and orientation == Qt.Orientation.Horizontal:
            return COLUMNS[section][1]
        return None

    def text(self, reading: VitalsReading, field: str) -> str:
        if field == "at":
            return reading.at.astimezone().strftime("%H:%M:%S" if reading.source != "manual"
                                                    else "%H:%M")
        if field == "source":
            return reading.source
        if field == "flags":
            parts = []
            if reading.map_derived:
                parts.append("MAP calc.")
            if reading.late_entry:
                parts.append("late entry")
            if reading.artifact:
                parts.append(f"artifact: {reading.artifact_reason}")
            return "; ".join(parts)
        value = format_vital(field, getattr(reading, field))
        if value and field in reading.alerts:
            return f"{value} !"
        return value

    def data(self, index: Index, role: int = Qt.ItemDataRole.DisplayRole) -> Any:
        if not index.isValid():
            return None
        reading = self.reading_at(index.row())
        field = COLUMNS[index.column()][0]
        alert = field in reading.alerts and not reading.artifact
        if role == Qt.ItemDataRole.DisplayRole:
            return self.text(reading, field)
        if role == Qt.ItemDataRole.BackgroundRole and alert:
            return QBrush(ALERT_BACKGROUND)
        if role == Qt.ItemDataRole.ForegroundRole:
            if reading.artifact:
                return QBrush(ARTIFACT_FOREGROUND)
            if alert:
                return QBrush(ALERT_FOREGROUND)
        if role == Qt.ItemDataRole.FontRole and (alert or reading.artifact):
            font = QFont()
            font.setBold(alert)
            font.setStrikeOut(reading.artifact)
            return font
        if role == Qt.ItemDataRole.ToolTipRole:
            if reading.artifact:
                return f"Marked as artifact: {reading.artifact_reason}"
            if alert:
                return "Outside the clinic's alert threshold"
            if field == "flags":  # the last column is cut on small screens
                return self.text(reading, field) or None
        if role == Qt.ItemDataRole.TextAlignmentRole and field not in ("source", "flags"):
            return int(Qt.AlignmentFlag.AlignRight | Qt.AlignmentFlag.AlignVCenter)
        if role == Qt.ItemDataRole.UserRole:
            return reading.id
        return None
