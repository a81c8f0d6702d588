"""Record a follow-up (phone call, visit) for one infusion: NRS pain, PHQ-9 for the mood
indications (the nine items, or a total only, marked so), the relief the patient
reports, the source and a note. Item 9 above 0 raises the safety flag."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.sessions import add_follow_up
from ketalog.ui.entry_time import EntryTime
from ketalog.ui.feedback import error_label, finish_form

SOURCES = ("phone", "clinic visit", "video call", "message", "next infusion")


class FollowUpDialog(QDialog):
    def __init__(self, ctx: Context, session_id: int, title: str, mood: bool,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.saved_id: int | None = None
        self.setObjectName("followUpDialog")
        self.setWindowTitle("Record follow-up")
        self.nrs = QSpinBox()
        self.nrs.setRange(-1, 10)
        self.nrs.setSpecialValueText("not asked")
        self.nrs.setValue(-1)
        self.phq9 = QSpinBox()
        self.phq9.setRange(-1, 27)
        self.phq9.setSpecialValueText("not asked")
        self.phq9.setValue(-1)
        self.phq9.setObjectName("followUpPhq9Total")
        self.phq9_items: dict[str, QSpinBox] = {}
        items_box = QWidget()
        grid = QGridLayout(items_box)
        grid.setContentsMargins(0, 0, 0, 0)
        for n in range(1, 10):
            box = QSpinBox()
            box.setObjectName(f"followUpPhq9Item{n}")
            box.setRange(-1, 3)
            box.setSpecialValueText("—")
            box.setValue(-1)
            box.setToolTip(f"PHQ-9 item {n}, 0-3" + (" (thoughts of death or self-harm)"
                                                     if n == 9 else ""))
            grid.addWidget(QLabel(f"{n}"), 0, n - 1)
            grid.addWidget(box, 1, n - 1)
            self.phq9_items[f"item_{n}"] = box
        self.relief = QDoubleSpinBox()
        self.relief.setRange(-1, 8760)
        self.relief.setDecimals(0)
        self.relief.setSpecialValueText("not asked")
        self.relief.setSuffix(" h")
        self.relief.setValue(-1)
        self.source = QComboBox()
        self.source.setEditable(True)
        self.source.addItems(SOURCES)
        self.note = QLineEdit()
        self.when = EntryTime(ctx.clock, "followUpTime")
        self.error = error_label("followUpError", bold=False)
        form = QFormLayout()
        form.addRow("NRS pain 0-10", self.nrs)
        if mood:
            form.addRow("PHQ-9 items 1-9 (0-3)", items_box)
            form.addRow("or PHQ-9 total only", self.phq9)
        form.addRow("Relief lasted (patient says)", self.relief)
        form.addRow("Source", self.source)
        form.addRow("Note", self.note)
        form.addRow("Time", self.when)
        finish_form(self, form, self.error, self.save, save=True, header=QLabel(title))

    def save(self, at: datetime | None = None) -> None:
        items = {k: b.value() for k, b in self.phq9_items.items() if b.value() >= 0}
        if items and len(items) < 9:
            self.error.setText(f"Answer all nine PHQ-9 items ({9 - len(items)} missing), or "
                               "clear them and enter the total only")
            self.error.show()
            return
        try:
            when = at if at is not None else self.when.value()
            self.saved_id = add_follow_up(
                self.ctx, self.session_id,
                nrs=None if self.nrs.value() < 0 else self.nrs.value(),
                phq9=None if items or self.phq9.value() < 0 else self.phq9.value(),
                phq9_items=items or None,
                relief_hours=None if self.relief.value() < 0 else self.relief.value(),
                source=self.source.currentText(), note=self.note.text(), at=when)
        except (PlausibilityError, ServiceError) as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()
