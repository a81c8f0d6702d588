"""Complete = discharge: the confirmation the nurse gives before the record closes for the
provider's review. It lists every discharge-readiness check (observation since the last
dose, Aldrete/PADSS, escort, open side effects) as the service makes them; a failed check
needs a reason typed beside it before Complete is enabled (the reasons are stored and
printed). An impossible discharge time is named in red and Complete stays off."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from ketalog.domain.discharge import ReadinessCheck
from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.record import load_record
from ketalog.services.sessions import discharge_checks
from ketalog.ui.entry_time import EntryTime

PASS_STYLE = "color: #1b5e20;"
FAIL_STYLE = "color: #b00020; font-weight: bold;"


class CompleteDialog(QDialog):
    def __init__(self, ctx: Context, session_id: int, escort: str = "",
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.setObjectName("completeDialog")
        self.setWindowTitle("Complete session — discharge")
        self.setMinimumWidth(620)
        self.when = EntryTime(ctx.clock, "discharge")
        self.escort = QLineEdit(escort)
        self.escort.setObjectName("dischargeEscort")
        self.escort.setPlaceholderText("responsible adult taking the patient home")
        self.instructions = QPlainTextEdit("No driving for 8 hours. Call the clinic with any "
                                           "concern.")
        self.instructions.setObjectName("dischargeInstructions")
        self.instructions.setFixedHeight(60)
        self.instructions.setTabChangesFocus(True)  # Tab goes on to the readiness reasons
        self.time_error = QLabel()
        self.time_error.setObjectName("dischargeTimeError")
        self.time_error.setStyleSheet(FAIL_STYLE)
        self.time_error.setWordWrap(True)
        self.time_error.hide()
        self.checks_box = QGroupBox("Discharge readiness")
        self.checks_grid = QGridLayout(self.checks_box)
        self.check_labels: dict[str, QLabel] = {}
        self.reasons: dict[str, QLineEdit] = {}
        self.checks: list[ReadinessCheck] = []
        self._typed: dict[str, str] = {}
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Complete")
        self.ok.setObjectName("confirmComplete")
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout(self)
        patient = load_record(ctx, session_id, with_vitals=False).patient
        who = QLabel(f"<b>{patient.display_name}</b> · MRN <b>{patient.mrn}</b> · "
                     f"DOB {patient.birth_date.isoformat()}")
        who.setObjectName("completePatient")
        form.addRow(who)
        intro = QLabel("Completing closes the record for the provider's review. Each "
                       "failed check needs your reason for discharging anyway; it is "
                       "recorded and printed.")
        intro.setWordWrap(True)
        form.addRow(intro)
        form.addRow("Discharge &time", self.when)
        form.addRow("", self.time_error)
        form.addRow("&Escort", self.escort)
        form.addRow("&Instructions", self.instructions)
        form.addRow(self.checks_box)
        form.addRow(self.buttons)
        self.escort.textChanged.connect(self.refresh)
        self.when.now_box.toggled.connect(self.refresh)
        self.when.edit.dateTimeChanged.connect(self.refresh)
        self.refresh()

    def discharge_at(self) -> datetime | None:
        return self.when.value()

    def refresh(self) -> None:
        """Re-run the checks for the time and escort as typed now."""
        self.time_error.hide()
        try:
            self.checks = discharge_checks(self.ctx, self.session_id, self.discharge_at(),
                                           self.escort.text())
        except (PlausibilityError, ServiceError) as exc:
            self.time_error.setText(f"Cannot complete: {exc}")
            self.time_error.show()
            self.checks = []
        # reasons typed survive a refresh (and a moment of an impossible time)
        self._typed.update({code: edit.text() for code, edit in self.reasons.items()})
        typed = self._typed
        while self.checks_grid.count():
            item = self.checks_grid.takeAt(0)
            if item is not None and item.widget() is not None:
                item.widget().deleteLater()  # type: ignore[union-attr]
        self.check_labels, self.reasons = {}, {}
        for row, check in enumerate(self.checks):
            label = QLabel(("✔ " if check.passed else "✖ ") + check.message
                           + f"<br><small>{check.source}</small>")
            label.setObjectName(f"check_{check.code}")
            label.setWordWrap(True)
            label.setStyleSheet(PASS_STYLE if check.passed else FAIL_STYLE)
            self.checks_grid.addWidget(label, row, 0)
            self.check_labels[check.code] = label
            if not check.passed:
                reason = QLineEdit(typed.get(check.code, ""))
                reason.setObjectName(f"ack_{check.code}")
                reason.setPlaceholderText("reason for discharging anyway (required)")
                reason.textChanged.connect(self._update_ok)
                self.checks_grid.addWidget(reason, row, 1)
                self.reasons[check.code] = reason
        self.checks_grid.setColumnStretch(0, 3)
        self.checks_grid.setColumnStretch(1, 2)
        # rebuilt fields join the end of the tab chain (after the buttons, where a typed
        # space would press Cancel): put them straight after the instructions
        chain = [self.instructions, *self.reasons.values(), *self.buttons.buttons()]
        for before, after in zip(chain, chain[1:], strict=False):
            QWidget.setTabOrder(before, after)
        self._update_ok()

    def acknowledged(self) -> dict[str, str]:
        return {code: edit.text().strip() for code, edit in self.reasons.items()
                if edit.text().strip()}

    def _update_ok(self) -> None:
        self.ok.setEnabled(bool(self.checks) and self.time_error.isHidden()
                           and all(e.text().strip() for e in self.reasons.values()))
