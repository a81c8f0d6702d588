"""Create or edit a patient. Validation lives in the service; the form shows each
problem beside its field and keeps what was typed."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QWidget,
)

from ketalog.domain.entities import Patient
from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.indications import list_indications
from ketalog.services.patients import SEXES, PatientInput, create_patient, update_patient
from ketalog.store.errors import StoreError
from ketalog.ui.feedback import error_label, finish_form

INDICATIONS = ("neuropathic pain", "CRPS", "fibromyalgia", "chronic pain", "depression")


def _qdate(value: date) -> QDate:
    return QDate(value.year, value.month, value.day)


def _pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


class PatientDialog(QDialog):
    def __init__(self, ctx: Context, patient: Patient | None = None,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.patient = ctx, patient
        self.result_patient: Patient | None = None
        self.setObjectName("patientDialog")
        self.setWindowTitle("Edit patient" if patient else "New patient")
        self.fields: dict[str, QWidget] = {}
        self.errors: dict[str, QLabel] = {}
        self.mrn = QLineEdit(patient.mrn if patient else "")
        self.family = QLineEdit(patient.family_name if patient else "")
        self.given = QLineEdit(patient.given_name if patient else "")
        self.birth = QDateEdit(_qdate(patient.birth_date) if patient else QDate(1980, 1, 1))
        self.birth.setDisplayFormat("yyyy-MM-dd")
        self.birth.setCalendarPopup(True)
        self.sex = QComboBox()
        self.sex.addItems(SEXES)
        self.sex.setCurrentText(patient.sex if patient else "unknown")
        self.allergies = QLineEdit(patient.allergies if patient else "")
        self.allergies.setPlaceholderText("e.g. penicillin (rash); leave empty if none known")
        self.indication = QComboBox()
        self.indication.setEditable(True)
        # the clinic's coded list; other text is kept as typed and listed for the admin
        self.indication.addItems([i.name for i in list_indications(ctx.store)] or INDICATIONS)
        self.indication.setCurrentText(patient.indication if patient else "")
        self.referring = QLineEdit(patient.referring_provider if patient else "")
        self.screen = QLineEdit(patient.contraindication_screen if patient else "")
        self.has_consent = QCheckBox("consent signed on")
        self.consent = QDateEdit(_qdate(patient.consent_date) if patient and patient.consent_date
                                 else _qdate(ctx.clock.now().date()))
        self.consent.setDisplayFormat("yyyy-MM-dd")
        self.has_consent.setChecked(bool(patient and patient.consent_date))
        self.notes = QPlainTextEdit(patient.notes if patient else "")
        self.notes.setFixedHeight(70)
        form = QFormLayout()
        for key, label, widget in (
            ("mrn", "&MRN", self.mrn), ("family_name", "&Family name", self.family),
            ("given_name", "&Given name", self.given), ("birth_date", "Date of &birth", self.birth),
            ("sex", "&Sex", self.sex), ("allergies", "&Allergies", self.allergies),
            ("indication", "&Indication", self.indication),
            ("referring_provider", "&Referring provider", self.referring),
            ("contraindication_screen", "Contraindication scree&n", self.screen),
            ("consent_date", "Consent", self.consent), ("notes", "N&otes", self.notes),
        ):
            widget.setObjectName(f"patient_{key}")
            self.fields[key] = widget
            if key == "consent_date":
                form.addRow(self.has_consent, widget)
            else:
                form.addRow(label, widget)
            error = error_label(f"error_{key}", bold=False)
            self.errors[key] = error
            form.addRow("", error)
        self.general_error = error_label("errorLabel")
        finish_form(self, form, self.general_error, self.save, save=True)
        self.setMinimumWidth(520)

    def data(self) -> PatientInput:
        return PatientInput(
            mrn=self.mrn.text(), family_name=self.family.text(), given_name=self.given.text(),
            birth_date=_pydate(self.birth.date()), sex=self.sex.currentText(),
            allergies=self.allergies.text(), indication=self.indication.currentText(),
            referring_provider=self.referring.text(),
            contraindication_screen=self.screen.text(),
            consent_date=_pydate(self.consent.date()) if self.has_consent.isChecked() else None,
            notes=self.notes.toPlainText())

    def _clear_errors(self) -> None:
        for label in self.errors.values():
            label.hide()
        self.general_error.hide()

    def save(self) -> None:
        self._clear_errors()
        try:
            if self.patient is None:
                self.result_patient = create_patient(self.ctx, self.data())
            else:
                self.result_patient = update_patient(self.ctx, self.patient.id,  # type: ignore[arg-type]
                                                     self.data(), reason="edited in patient form")
        except PlausibilityError as exc:
            for problem in exc.problems:
                label = self.errors.get(problem.field)
                if label is None:
                    self.general_error.setText(problem.message)
                    self.general_error.show()
                else:
                    label.setText(problem.message)
                    label.show()
            first = self.fields.get(exc.problems[0].field)
            if first is not None:
                first.setFocus()
            return
        except (ServiceError, StoreError) as exc:
            self.general_error.setText(str(exc))
            self.general_error.show()
            return
        self.accept()
