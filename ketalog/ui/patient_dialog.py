"""Create or edit a patient. Validation lives in the service; the form shows each
problem beside its field and keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, QEvent, QObject, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QListWidget,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.allergies import SEVERITIES, Allergy
from ketalog.domain.entities import Patient
from ketalog.domain.errors import PlausibilityError
from ketalog.services import allergies as allergy_service
from ketalog.services.context import Context
from ketalog.services.errors import EditConflict, ServiceError
from ketalog.services.indications import list_indications
from ketalog.services.patients import (
    SEXES,
    PatientInput,
    create_patient,
    get_patient,
    update_patient,
)
from ketalog.ui.feedback import error_label, finish_form

INDICATIONS = ("neuropathic pain", "CRPS", "fibromyalgia", "chronic pain", "depression")
NO_DATE = QDate(1900, 1, 1)  # shown blank: a new patient's date of birth starts empty


class AllergyEditor(QWidget):
    """Allergy entries (substance, reaction, severity): additions and removals are kept
    until the patient form is saved, then written one by one (each audited)."""

    def __init__(self, current: list[Allergy], parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("allergyEditor")
        self.current = list(current)
        self.added: list[Allergy] = []
        self.removed: list[tuple[Allergy, str]] = []
        self.ask_removal_reason: Callable[[Allergy], str | None] = self._ask
        self.substance = QLineEdit()
        self.substance.setObjectName("allergySubstance")
        self.substance.setPlaceholderText("substance or class, e.g. morphine, penicillins")
        self.reaction = QLineEdit()
        self.reaction.setObjectName("allergyReaction")
        self.reaction.setPlaceholderText("reaction, e.g. itching")
        self.severity = QComboBox()
        self.severity.setObjectName("allergySeverity")
        self.severity.addItems(SEVERITIES)
        self.add_button = QPushButton("Add a&llergy")
        self.add_button.setObjectName("addAllergy")
        self.add_button.clicked.connect(self.add)
        # Enter in these boxes adds the entry; it must not reach the dialog's Save
        for box in (self.substance, self.reaction):
            box.installEventFilter(self)
        self.remove_button = QPushButton("Remove…")
        self.remove_button.setObjectName("removeAllergy")
        self.remove_button.clicked.connect(self.remove_selected)
        self.list = QListWidget()
        self.list.setObjectName("allergyList")
        self.list.setMaximumHeight(80)
        row = QHBoxLayout()
        row.addWidget(self.substance, 2)
        row.addWidget(self.reaction, 2)
        row.addWidget(self.severity)
        row.addWidget(self.add_button)
        buttons = QHBoxLayout()
        buttons.addWidget(self.list, 1)
        buttons.addWidget(self.remove_button)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(row)
        layout.addLayout(buttons)
        self.refresh()

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (event.type() == QEvent.Type.KeyPress
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):  # type: ignore[attr-defined]
            self.add()
            return True
        return super().eventFilter(watched, event)

    def _ask(self, allergy: Allergy) -> str | None:
        text, ok = QInputDialog.getText(self, "Remove allergy",
                                        f"Why is '{allergy.text}' removed? (kept in the record)")
        return text.strip() if ok and text.strip() else None

    def entries(self) -> list[Allergy]:
        return [*self.current, *self.added]

    def refresh(self) -> None:
        self.list.clear()
        for a in self.current:
            self.list.addItem(a.text)
        for a in self.added:
            self.list.addItem(f"{a.text}  (new)")

    def add(self) -> None:
        if not self.substance.text().strip():
            self.substance.setFocus()
            return
        self.added.append(Allergy(self.substance.text().strip(), self.reaction.text().strip(),
                                  self.severity.currentText()))
        self.substance.clear()
        self.reaction.clear()
        self.severity.setCurrentIndex(0)
        self.refresh()
        self.substance.setFocus()

    def remove_selected(self) -> None:
        row = self.list.currentRow()
        if row < 0:
            return
        if row >= len(self.current):
            del self.added[row - len(self.current)]
        else:
            allergy = self.current[row]
            reason = self.ask_removal_reason(allergy)
            if reason is None:
                return
            self.removed.append((allergy, reason))
            del self.current[row]
        self.refresh()

    def save(self, ctx: Context, patient_id: int) -> None:
        for allergy, reason in self.removed:
            assert allergy.id is not None
            allergy_service.remove_allergy(ctx, allergy.id, reason)
        for allergy in self.added:
            allergy_service.add_allergy(ctx, patient_id, allergy.substance, allergy.reaction,
                                        allergy.severity)
        self.removed, self.added = [], []


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
        self.birth = QDateEdit()
        self.birth.setMinimumDate(NO_DATE)
        self.birth.setSpecialValueText(" ")  # the minimum shows blank until a date is typed
        self.birth.setDate(_qdate(patient.birth_date) if patient else NO_DATE)
        self.birth.setDisplayFormat("yyyy-MM-dd")
        self.birth.setCalendarPopup(True)
        self.sex = QComboBox()
        self.sex.addItems(SEXES)
        self.sex.setCurrentText(patient.sex if patient else "unknown")
        self.allergies = QLineEdit(patient.allergies if patient else "")
        self.allergies.setPlaceholderText("free text, e.g. penicillin (rash); leave empty if "
                                          "none known")
        self.allergy_editor = AllergyEditor(
            allergy_service.patient_allergies(ctx, patient.id)  # type: ignore[arg-type]
            if patient else [])
        self.indication = QComboBox()
        self.indication.setEditable(True)
        # the clinic's coded list; other text is kept as typed and listed for the admin
        self.indication.addItems([i.name for i in list_indications(ctx)] or INDICATIONS)
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
            ("allergy_entries", "Allergy entries", self.allergy_editor),
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

    def show_current(self) -> None:
        """The fields refilled from the patient as stored now (another workstation saved
        it after this form opened)."""
        if self.patient is None or self.patient.id is None:
            return
        p = self.patient = get_patient(self.ctx, self.patient.id)
        for edit, text in ((self.mrn, p.mrn), (self.family, p.family_name),
                           (self.given, p.given_name), (self.allergies, p.allergies),
                           (self.referring, p.referring_provider),
                           (self.screen, p.contraindication_screen)):
            edit.setText(text)
        self.birth.setDate(_qdate(p.birth_date))
        self.sex.setCurrentText(p.sex)
        self.indication.setCurrentText(p.indication)
        self.has_consent.setChecked(p.consent_date is not None)
        if p.consent_date is not None:
            self.consent.setDate(_qdate(p.consent_date))
        self.notes.setPlainText(p.notes)

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
            if self.birth.date() == NO_DATE:
                raise PlausibilityError.single("birth_date", None, "a date",
                                               "Enter the date of birth (yyyy-mm-dd)")
            if self.patient is None:
                self.result_patient = create_patient(self.ctx, self.data())
            else:
                self.result_patient = update_patient(self.ctx, self.patient.id,  # type: ignore[arg-type]
                                                     self.data(), reason="edited in patient form",
                                                     loaded=self.patient)
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
        except EditConflict as exc:  # changed on another workstation: show what it holds now
            self.show_current()
            self.general_error.setText(str(exc))
            self.general_error.show()
            return
        except ServiceError as exc:
            self.general_error.setText(str(exc))
            self.general_error.show()
            return
        try:
            self.allergy_editor.save(self.ctx, self.result_patient.id)  # type: ignore[arg-type]
        except (PlausibilityError, ServiceError) as exc:
            self.general_error.setText(f"Patient saved; allergy entry not saved: {exc}")
            self.general_error.show()
            self.patient = self.result_patient
            return
        self.accept()
