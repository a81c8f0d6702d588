"""Export a patient's course summary: choose the date range (default: all infusions),
then the PDF renders off the GUI thread with progress and the export is audited."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import Patient


def _qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


class CourseRangeDialog(QDialog):
    def __init__(self, patient: Patient, today: date, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("courseRangeDialog")
        self.setWindowTitle("Export course PDF")
        self.all_time = QCheckBox("All infusions")
        self.all_time.setChecked(True)
        self.since = QDateEdit(_qdate(today.replace(day=1)))
        self.until = QDateEdit(_qdate(today))
        for edit in (self.since, self.until):
            edit.setDisplayFormat("yyyy-MM-dd")
            edit.setCalendarPopup(True)
            edit.setEnabled(False)
        self.all_time.toggled.connect(lambda on: (self.since.setEnabled(not on),
                                                  self.until.setEnabled(not on)))
        form = QFormLayout()
        form.addRow(self.all_time)
        form.addRow("From (infusion day)", self.since)
        form.addRow("To (infusion day)", self.until)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.accept)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel(f"{patient.display_name} — MRN {patient.mrn} — "
                                f"DOB {patient.birth_date.isoformat()}"))
        layout.addLayout(form)
        layout.addWidget(buttons)

    def range(self) -> tuple[date | None, date | None]:
        if self.all_time.isChecked():
            return None, None
        since, until = self.since.date(), self.until.date()
        return (date(since.year(), since.month(), since.day()),
                date(until.year(), until.month(), until.day()))


def suggested_name(patient: Patient, since: date | None, until: date | None) -> str:
    span = f"{since}_{until}" if since or until else "all"
    return f"course-{patient.mrn}-{span}.pdf"



