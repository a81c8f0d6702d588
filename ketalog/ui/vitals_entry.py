"""The vitals entry row: Tab between fields, Enter records at "now". Implausible values
are shown at the field and nothing is stored; what was typed stays for correction."""

from __future__ import annotations

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ketalog.domain.entities import VitalsReading
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import VITAL_LIMITS
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.sessions import record_vitals
from ketalog.ui.entry_time import EntryTime
from ketalog.ui.feedback import ERROR_STYLE

ENTRY_FIELDS = ("sbp_mmhg", "dbp_mmhg", "hr_bpm", "spo2_pct", "rr_per_min", "etco2_mmhg",
                "temp_c")


def parse_number(text: str) -> float | None:
    """'' -> None; accepts a decimal comma. Raises ValueError for anything else."""
    cleaned = text.strip().replace(",", ".")
    return None if not cleaned else float(cleaned)


class VitalsEntry(QWidget):
    recorded = Signal(object)  # VitalsReading

    def __init__(self, ctx: Context, session_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.setObjectName("vitalsEntry")
        self.inputs: dict[str, QLineEdit] = {}
        grid = QGridLayout(self)
        grid.setContentsMargins(0, 0, 0, 0)
        for col, field in enumerate(ENTRY_FIELDS):
            limit = VITAL_LIMITS[field]
            label = QLabel(f"{limit.label} {limit.unit}")
            edit = QLineEdit()
            edit.setObjectName(f"vital_{field}")
            edit.setMaximumWidth(80)
            edit.setToolTip(f"{limit.label} in {limit.unit} (plausible "
                            f"{limit.low:g}-{limit.high:g}); Enter records")
            edit.returnPressed.connect(self.record)
            label.setBuddy(edit)
            grid.addWidget(label, 0, col)
            grid.addWidget(edit, 1, col)
            self.inputs[field] = edit
        self.when = EntryTime(ctx.clock, "vitals")
        self.when.submitted.connect(self.record)
        grid.addWidget(QLabel("Time"), 0, len(ENTRY_FIELDS))
        grid.addWidget(self.when, 1, len(ENTRY_FIELDS))
        self.button = QPushButton("&Record vitals")
        self.button.setObjectName("recordVitals")
        self.button.clicked.connect(self.record)
        self.button.setMinimumWidth(self.button.sizeHint().width())  # never "Record v"
        grid.addWidget(self.button, 1, len(ENTRY_FIELDS) + 1)
        self.error = QLabel()
        self.error.setObjectName("vitalsError")
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.setWordWrap(True)
        self.error.hide()
        grid.addWidget(self.error, 2, 0, 1, len(ENTRY_FIELDS) + 2)
        grid.setColumnStretch(len(ENTRY_FIELDS) + 2, 1)

    def focus_first(self) -> None:
        self.inputs[ENTRY_FIELDS[0]].setFocus(Qt.FocusReason.OtherFocusReason)

    def _show_errors(self, problems: list[tuple[str, str]]) -> None:
        for field, _ in problems:
            if field in self.inputs:
                self.inputs[field].setStyleSheet(ERROR_STYLE)
        self.error.setText("Not recorded: " + "; ".join(msg for _, msg in problems))
        self.error.show()
        first = next((f for f, _ in problems if f in self.inputs), None)
        if first:
            self.inputs[first].setFocus()
            self.inputs[first].selectAll()

    def _clear_errors(self) -> None:
        for edit in self.inputs.values():
            edit.setStyleSheet("")
        self.error.hide()

    def record(self) -> None:
        self._clear_errors()
        values: dict[str, float | None] = {}
        bad: list[tuple[str, str]] = []
        for field, edit in self.inputs.items():
            try:
                values[field] = parse_number(edit.text())
            except ValueError:
                bad.append((field, f"{VITAL_LIMITS[field].label} {edit.text()!r} is not a number"))
        if bad:
            self._show_errors(bad)
            return
        try:
            reading: VitalsReading = record_vitals(self.ctx, self.session_id, values,
                                                   at=self.when.value())
        except PlausibilityError as exc:
            self._show_errors([(p.field, p.message) for p in exc.problems])
            return
        except ServiceError as exc:
            self._show_errors([("", str(exc))])
            return
        for edit in self.inputs.values():
            edit.clear()
        self.when.reset()
        self.focus_first()
        self.recorded.emit(reading)

    def set_read_only(self, read_only: bool) -> None:
        for edit in self.inputs.values():
            edit.setEnabled(not read_only)
        self.button.setEnabled(not read_only)
        self.when.setEnabled(not read_only)
