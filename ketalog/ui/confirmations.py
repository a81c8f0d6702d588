"""Confirmations before what cannot be taken back casually: stopping the infusion and
signing. Each names what is confirmed (patient, total, time); the safe choice is the
default, so Enter alone never stops an infusion."""

from __future__ import annotations

from datetime import datetime

from PySide6.QtWidgets import (
    QDialog,
    QDialogButtonBox,
    QLabel,
    QMessageBox,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.record import SessionRecord
from ketalog.ui.feedback import password_field


def stop_text(record: SessionRecord, at: datetime) -> str:
    """'Stop the infusion at 15:42? Total given 164.0 mg = 2.00 mg/kg over 4 h 00 min.'"""
    weight = record.session.weight_kg
    total = record.running_total_mg(at)  # every bolus and run up to the stop
    start = record.session.infusion_start_at
    minutes = int((at - start).total_seconds() // 60) if start else 0
    p = record.patient
    return (f"Stop the infusion for {p.display_name} (MRN {p.mrn}) at "
            f"{at.astimezone():%H:%M}?\n\nTotal given: {total:.1f} mg = {total / weight:.2f} "
            f"mg/kg over {minutes // 60} h {minutes % 60:02d} min.\n\nThe stop is recorded "
            "with this time.")


def confirm_stop(parent: QWidget, text: str) -> bool:
    box = QMessageBox(QMessageBox.Icon.Question, "Stop infusion", text,
                      QMessageBox.StandardButton.NoButton, parent)
    box.setObjectName("confirmStop")
    stop = box.addButton("S&top infusion", QMessageBox.ButtonRole.DestructiveRole)
    keep = box.addButton("&Keep running", QMessageBox.ButtonRole.RejectRole)
    stop.setAutoDefault(False)
    box.setDefaultButton(keep)  # Enter keeps the infusion running
    box.setEscapeButton(keep)
    box.exec()
    return box.clickedButton() is stop


class SignDialog(QDialog):
    """What is signed (patient, session, total), what signing does, and the password."""

    def __init__(self, record: SessionRecord, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("signDialog")
        self.setWindowTitle("Sign session")
        p, s = record.patient, record.session
        when = s.infusion_start_at or s.arrival_at
        anchor = s.infusion_end_at or when  # the infusion is over: any later time gives the same
        total = record.total_mg(anchor) if anchor else 0.0
        summary = QLabel(
            f"Sign the session of {p.display_name} (MRN {p.mrn}, DOB {p.birth_date}) on "
            f"{when.astimezone():%Y-%m-%d %H:%M}" if when else
            f"Sign the session of {p.display_name} (MRN {p.mrn}, DOB {p.birth_date})")
        summary.setWordWrap(True)
        summary.setObjectName("signSummary")
        detail = QLabel(f"Ketamine total {total:.1f} mg; {len(record.vitals) or 'the'} "
                        "recorded entries as shown. Signing locks the record: corrections "
                        "after this are addenda.")
        detail.setWordWrap(True)
        self.password = password_field("signPassword")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                        | QDialogButtonBox.StandardButton.Cancel)
        self.ok = self.buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.ok.setText("&Sign and lock")
        self.ok.setEnabled(False)
        self.password.textChanged.connect(lambda t: self.ok.setEnabled(bool(t)))
        self.buttons.accepted.connect(self.accept)
        self.buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(summary)
        layout.addWidget(detail)
        layout.addWidget(QLabel("Re-enter your password to sign:"))
        layout.addWidget(self.password)
        layout.addWidget(self.buttons)
        self.setMinimumWidth(460)
