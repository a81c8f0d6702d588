"""Start a session: protocol, today's weight (kg or lb), the bag, chair, series and
provider, with the planned dose shown live as mg, mg/kg, mg/h and pump mL/h and every
guideline warning with its source, before anything is stored.

The session is created as a draft: the nurse starts the infusion itself on the session
screen, where the dose is recorded and its warnings acknowledged. The patient's name,
MRN, date of birth and allergies stay at the top, as on every session screen."""

from __future__ import annotations

import html
from collections.abc import Callable
from datetime import date

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QMessageBox,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.dosing import DosePlan, kg_to_lb, lb_to_kg
from ketalog.domain.entities import Bag, Protocol
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.series import SeriesProgress
from ketalog.services import chairs
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.indications import default_protocol_id
from ketalog.services.patients import get_patient
from ketalog.services.planning import list_providers, next_series_number, plan_for
from ketalog.services.protocols import list_protocols
from ketalog.services.series import open_series
from ketalog.services.sessions import SessionStart, start_session
from ketalog.ui.feedback import ERROR_COLOUR, ERROR_STYLE, error_label
from ketalog.ui.series_dialogs import NewSeriesDialog
from ketalog.ui.vitals_entry import parse_number

CHAIRS: tuple[str, ...] = tuple(f"Chair {n}" for n in range(1, 7))
NO_PROVIDER = "—"
NEW_SERIES = "new"
# Service problem field -> the form row whose error label shows it.
FIELD_ROWS: dict[str, str] = {
    "weight_kg": "weight", "bag_drug": "bag", "bag_concentration_mg_per_ml": "bag",
    "bag_volume_ml": "bag", "bag_expiry": "expiry", "series_number": "series",
    "series_total": "series",
}


def _number(field: str, label: str, text: str) -> float | None:
    """Parse a typed number (decimal comma allowed) or raise a problem naming the field."""
    try:
        return parse_number(text)
    except ValueError:
        raise PlausibilityError.single(field, text, "a number",
                                       f"{label} {text.strip()!r} is not a number") from None


def _hours(minutes: int) -> str:
    hours, rest = divmod(minutes, 60)
    return f"{hours} h {rest:02d} min" if hours else f"{rest} min"


def plan_lines(plan: DosePlan, concentration_mg_per_ml: float, bag_mg: float | None) -> list[str]:
    """The planned dose in the units a nurse checks against the pump and the order."""
    lines = [
        (f"Loading bolus: {plan.bolus_mg:.1f} mg ({plan.bolus_mg / plan.weight_kg:.2f} mg/kg)"
         if plan.bolus_mg > 0 else "Loading bolus: none"),
        f"Infusion: {plan.rate_mg_per_kg_per_h:.2f} mg/kg/h = {plan.rate_mg_per_h:.1f} mg/h"
        f" = pump {plan.rate_ml_per_h:.1f} mL/h at {concentration_mg_per_ml:g} mg/mL",
        f"Duration: {plan.duration_min} min ({_hours(plan.duration_min)})",
        f"Planned total: {plan.planned_total_mg:.1f} mg ({plan.planned_total_mg_per_kg:.2f} "
        "mg/kg)",
    ]
    if bag_mg is not None:
        enough = ("" if bag_mg >= plan.planned_total_mg
                  else " — less than the planned total: a second bag will be needed")
        lines.append(f"Bag holds {bag_mg:g} mg{enough}")
    return lines


class StartSessionDialog(QDialog):
    """On accept, ``session_id`` holds the new draft session's id."""

    def __init__(self, ctx: Context, patient_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id = ctx, patient_id
        self.session_id: int | None = None
        self.setObjectName("startSessionDialog")
        self.patient = patient = get_patient(ctx, patient_id)
        self.setWindowTitle(f"Start session — {patient.display_name} — MRN {patient.mrn}")
        today = ctx.clock.now().astimezone().date()
        self.identity = QLabel(
            f"<b>{html.escape(patient.display_name)}</b> · MRN {html.escape(patient.mrn)} · "
            f"DOB {patient.birth_date.isoformat()} ({patient.age_on(today)} y) · "
            f"{html.escape(patient.indication or 'no indication recorded')}")
        self.identity.setObjectName("startPatient")
        self.allergies = QLabel(f"ALLERGIES: {patient.allergies}" if patient.allergies
                                else "Allergies: none recorded")
        self.allergies.setObjectName("startAllergies")
        self.allergies.setWordWrap(True)
        self.allergies.setTextFormat(Qt.TextFormat.PlainText)
        if patient.allergies:
            self.allergies.setStyleSheet(f"background: {ERROR_COLOUR}; color: white; "
                                         "font-weight: bold; padding: 2px 6px;")
        self.protocols: list[Protocol] = list_protocols(ctx)
        self.protocol = QComboBox()
        self.protocol.setObjectName("protocol")
        for proto in self.protocols:
            self.protocol.addItem(proto.name, proto.id)
        if not self.protocols:
            self.protocol.addItem("— no protocol —", None)
        # Preselect the coded indication's protocol; none rather than another's.
        wanted = default_protocol_id(ctx.store, patient_id)
        if self.protocols and wanted is None:
            self.protocol.insertItem(0, "— choose a protocol —", None)
        self.protocol.setCurrentIndex(max(0, self.protocol.findData(wanted))
                                      if wanted is not None else 0)
        self.protocol_info = QLabel()
        self.protocol_info.setObjectName("protocolInfo")
        self.weight = QLineEdit()
        self.weight.setObjectName("weight")
        self.weight.setPlaceholderText("today's weight")
        self.weight_unit = QComboBox()
        self.weight_unit.setObjectName("weightUnit")
        self.weight_unit.addItems(["kg", "lb"])
        self.weight_both = QLabel()
        self.weight_both.setObjectName("weightBoth")
        self.drug = QLineEdit("ketamine")
        self.drug.setObjectName("bagDrug")
        self.concentration = QLineEdit("1")
        self.concentration.setObjectName("bagConcentration")
        self.volume = QLineEdit("500")
        self.volume.setObjectName("bagVolume")
        self.lot = QLineEdit()
        self.lot.setObjectName("bagLot")
        self.expiry = QDateEdit(QDate(today.year, today.month, today.day).addYears(1))
        self.expiry.setObjectName("bagExpiry")
        self.expiry.setDisplayFormat("yyyy-MM-dd")
        self.expiry.setCalendarPopup(True)
        self.chair = QComboBox()
        self.chair.setObjectName("chair")
        self.chair.setEditable(True)
        self.chair.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
        self.chair.addItems(list(CHAIRS))
        free = chairs.first_free(ctx, CHAIRS)
        if free is not None:  # propose a free chair, never one with a patient in it
            self.chair.setCurrentText(free)
        self.chair_status = QLabel()
        self.chair_status.setObjectName("chairStatus")
        self.chair_status.setWordWrap(True)
        self.chair.currentTextChanged.connect(self._show_chair)
        # (occupants' text) -> True to seat the patient anyway; tests replace it
        self.confirm_shared_chair: Callable[[str], bool] = self._ask_shared_chair
        self._show_chair(self.chair.currentText())
        self.series_k = QSpinBox()
        self.series_k.setObjectName("seriesNumber")
        self.series_n = QSpinBox()
        self.series_n.setObjectName("seriesTotal")
        self.series_n.setRange(1, 100)
        self.series_k.setRange(1, 100)
        self.series_n.valueChanged.connect(self.series_k.setMaximum)
        self.series_choice = QComboBox()
        self.series_choice.setObjectName("seriesChoice")
        self.series_choice.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.series_choice.setMinimumContentsLength(40)
        self._series: dict[int, SeriesProgress] = {}
        self._series_index = 0
        self.provider = QComboBox()
        self.provider.setObjectName("provider")
        self.provider.addItem(NO_PROVIDER, None)
        for user in list_providers(ctx):
            self.provider.addItem(user.signed_name, user.id)
        self.plan = QLabel()
        self.plan.setObjectName("plannedDose")
        self.plan.setWordWrap(True)
        self.warnings = QLabel()
        self.warnings.setObjectName("doseWarnings")
        self.warnings.setWordWrap(True)
        self.warnings.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold;")
        self.warnings.hide()
        self.errors = {name: error_label(f"error_{name}")
                       for name in ("protocol", "weight", "bag", "expiry", "series")}
        self.error = error_label("errorLabel")
        self.error.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold;")
        self.fields: dict[str, QWidget] = {
            "weight_kg": self.weight, "bag_drug": self.drug,
            "bag_concentration_mg_per_ml": self.concentration, "bag_volume_ml": self.volume,
            "bag_expiry": self.expiry, "series_number": self.series_k,
            "series_total": self.series_n}
        for label in (self.protocol_info, self.weight_both, self.plan, self.warnings):
            label.setTextFormat(Qt.TextFormat.PlainText)
        self._layout()
        for signal in (self.weight.textChanged, self.concentration.textChanged,
                       self.volume.textChanged):
            signal.connect(self.update_plan)
        self.weight_unit.currentIndexChanged.connect(self.update_plan)
        self.protocol.currentIndexChanged.connect(self._protocol_changed)
        self._fill_series(None)
        self.series_choice.activated.connect(self._series_activated)
        self._protocol_changed()
        self.weight.setFocus()
        self.setMinimumWidth(600)

    def _layout(self) -> None:
        weight_row = QHBoxLayout()
        weight_row.addWidget(self.weight)
        weight_row.addWidget(self.weight_unit)
        weight_row.addWidget(self.weight_both, 1)
        bag_row = QHBoxLayout()
        bag_row.addWidget(self.drug, 2)
        bag_row.addWidget(self.concentration, 1)
        bag_row.addWidget(QLabel("mg/mL"))
        bag_row.addWidget(self.volume, 1)
        bag_row.addWidget(QLabel("mL"))
        series_row = QHBoxLayout()
        series_row.addWidget(self.series_k)
        series_row.addWidget(QLabel("of"))
        series_row.addWidget(self.series_n)
        series_row.addStretch(1)
        form = QFormLayout()

        def buddy(text: str, widget: QWidget) -> QLabel:
            # Rows holding a layout get no automatic buddy: the mnemonic needs one.
            label = QLabel(text)
            label.setBuddy(widget)
            return label

        form.addRow("&Protocol", self.protocol)
        form.addRow("", self.protocol_info)
        form.addRow("", self.errors["protocol"])
        form.addRow(buddy("&Weight", self.weight), weight_row)
        form.addRow("", self.errors["weight"])
        form.addRow(buddy("&Bag", self.drug), bag_row)
        form.addRow("", self.errors["bag"])
        form.addRow("Bag &lot", self.lot)
        form.addRow("Bag e&xpiry", self.expiry)
        form.addRow("", self.errors["expiry"])
        form.addRow("&Chair", self.chair)
        form.addRow("", self.chair_status)
        form.addRow("T&reatment series", self.series_choice)
        form.addRow(buddy("&Series", self.series_k), series_row)
        form.addRow("", self.errors["series"])
        form.addRow("Pro&vider", self.provider)
        box = QGroupBox("Planned dose")
        box.setObjectName("plannedDoseBox")
        inner = QVBoxLayout(box)
        inner.addWidget(self.plan)
        inner.addWidget(self.warnings)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Ok
                                   | QDialogButtonBox.StandardButton.Cancel)
        self.start_button = buttons.button(QDialogButtonBox.StandardButton.Ok)
        self.start_button.setText("Start session")
        self.start_button.setObjectName("startSession")
        buttons.accepted.connect(self.start)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.identity)
        layout.addWidget(self.allergies)
        layout.addLayout(form)
        layout.addWidget(box)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    # -- live values ---------------------------------------------------------------
    def current_protocol(self) -> Protocol | None:
        protocol_id = self.protocol.currentData()
        return next((p for p in self.protocols if p.id == protocol_id), None)

    def weight_kg(self) -> float | None:
        """Today's weight in kg (lb converted); None when empty. Raises PlausibilityError
        (field weight_kg) for text that is not a number."""
        value = _number("weight_kg", "Weight", self.weight.text())
        if value is None:
            return None
        return lb_to_kg(value) if self.weight_unit.currentText() == "lb" else value

    def _protocol_changed(self) -> None:
        protocol = self.current_protocol()
        if protocol is None:
            self.protocol_info.setText("No protocol: the dose is entered on the session "
                                       "screen.")
            if self.current_series() is None:
                self.series_n.setValue(1)
                self.series_k.setValue(1)
        else:
            bolus = (f"bolus {protocol.bolus_mg_per_kg:g} mg/kg, "
                     if protocol.bolus_mg_per_kg else "no bolus, ")
            limit = f", max {protocol.max_total_mg:g} mg" if protocol.max_total_mg else ""
            self.protocol_info.setText(
                f"{protocol.indication or 'no indication'}: {bolus}"
                f"{protocol.rate_mg_per_kg_per_h:g} mg/kg/h for {protocol.duration_min} min"
                f"{limit}\nseries of {protocol.series_length}; vitals every "
                f"{protocol.monitoring_interval_min} min")
            if self.current_series() is None:
                k, n = next_series_number(self.ctx, self.patient_id, protocol.id)  # type: ignore[arg-type]
                self.series_n.setValue(n)
                self.series_k.setMaximum(n)
                self.series_k.setValue(k)
        self.update_plan()

    # -- treatment series ------------------------------------------------------------
    def current_series(self) -> SeriesProgress | None:
        data = self.series_choice.currentData()
        return self._series.get(data) if isinstance(data, int) else None

    def _fill_series(self, select: int | None) -> None:
        """Open series first (the one on this protocol preselected), then New, then none."""
        self._series = {p.series.id: p for p in open_series(self.ctx, self.patient_id)  # type: ignore[misc]
                        if p.series.id is not None}
        self.series_choice.clear()
        for series_id, p in self._series.items():
            planned = (f" · next planned {p.series.next_session_on}"
                       if p.series.next_session_on else "")
            self.series_choice.addItem(
                f"{p.label()} · since {p.series.start_date}{planned} · goal: {p.series.goal}",
                series_id)
        self.series_choice.addItem("New series...", NEW_SERIES)
        self.series_choice.addItem("No series (single session)", None)
        protocol = self.current_protocol()
        wanted = select if select in self._series else next(
            (sid for sid, p in self._series.items()
             if protocol is not None and p.series.protocol_id == protocol.id),
            next(iter(self._series), None))
        self.series_choice.setCurrentIndex(self.series_choice.findData(wanted))
        self._series_index = self.series_choice.currentIndex()
        self._series_changed()

    def _series_activated(self, index: int) -> None:
        if self.series_choice.itemData(index) == NEW_SERIES:
            self.new_series()
            return
        self._series_index = index
        self._series_changed()

    def new_series(self) -> None:
        protocol = self.current_protocol()
        dialog = NewSeriesDialog(self.ctx, self.patient_id, self.patient.indication,
                                 protocol.id if protocol else None,
                                 protocol.series_length if protocol else 6, self)
        if self.open_dialog(dialog):
            self._fill_series(dialog.series_id)
        else:
            self.series_choice.setCurrentIndex(self._series_index)

    def open_dialog(self, dialog: QDialog) -> bool:
        """Seam for tests, which drive the dialog instead of a nested event loop."""
        return dialog.exec() == QDialog.DialogCode.Accepted

    def _series_changed(self) -> None:
        """A series decides k of N (and its protocol); without one they are typed."""
        current = self.current_series()
        for spin in (self.series_k, self.series_n):
            spin.setEnabled(current is None)
        if current is None:
            self._protocol_changed()
            return
        if current.series.protocol_id is not None:
            index = self.protocol.findData(current.series.protocol_id)
            if index >= 0 and index != self.protocol.currentIndex():
                self.protocol.setCurrentIndex(index)  # re-enters _protocol_changed
        self.series_n.setValue(current.series.planned_sessions)
        self.series_k.setMaximum(current.series.planned_sessions)
        self.series_k.setValue(current.next_number or 1)

    def update_plan(self) -> None:
        """Recompute the weight line and the planned dose on every change."""
        self.warnings.hide()
        self.warnings.clear()
        try:
            kg = self.weight_kg()
        except PlausibilityError:
            self.weight_both.setText("not a number")
            self.plan.setText("Enter today's weight to see the planned dose.")
            return
        self.weight_both.setText("" if kg is None else f"{kg:.1f} kg = {kg_to_lb(kg):.1f} lb")
        protocol = self.current_protocol()
        if protocol is None:
            self.plan.setText("No protocol chosen: no planned dose.")
            return
        if kg is None:
            self.plan.setText("Enter today's weight to see the planned dose.")
            return
        try:
            concentration = _number("bag_concentration_mg_per_ml", "Bag concentration",
                                    self.concentration.text())
            volume = _number("bag_volume_ml", "Bag volume", self.volume.text())
            plan = plan_for(self.ctx, self.patient_id, protocol.id, kg,  # type: ignore[arg-type]
                            concentration if concentration is not None else 0.0)
        except (PlausibilityError, ServiceError) as exc:
            self.plan.setText(f"No plan: {exc}")
            return
        assert concentration is not None
        bag_mg = concentration * volume if volume and volume > 0 else None
        self.plan.setText("\n".join(plan_lines(plan, concentration, bag_mg)))
        if plan.warnings:
            self.warnings.setText("\n".join(f"⚠ {w.message} [{w.source}]"
                                            for w in plan.warnings))
            self.warnings.show()

    # -- start ---------------------------------------------------------------------
    def _clear_errors(self) -> None:
        for label in (*self.errors.values(), self.error):
            label.hide()
        for widget in self.fields.values():
            widget.setStyleSheet("")

    def _show_problems(self, exc: PlausibilityError) -> None:
        entered_lb = self.weight_unit.currentText() == "lb"
        for problem in exc.problems:
            row = FIELD_ROWS.get(problem.field)
            message = problem.message
            if problem.field == "weight_kg" and entered_lb and self.weight.text().strip():
                message += f" (entered {self.weight.text().strip()} lb)"
            label = self.errors[row] if row else self.error
            label.setText(message if label.isHidden() else f"{label.text()}; {message}")
            label.show()
            widget = self.fields.get(problem.field)
            if widget is not None:
                widget.setStyleSheet(ERROR_STYLE)
        first = self.fields.get(exc.problems[0].field)
        if first is not None:
            first.setFocus()

    def session_start(self) -> SessionStart:
        """The form as the service's input; raises PlausibilityError for unreadable text."""
        kg = self.weight_kg()
        if kg is None:
            raise PlausibilityError.single("weight_kg", None, "required",
                                           "Enter today's weight")
        concentration = _number("bag_concentration_mg_per_ml", "Bag concentration",
                                self.concentration.text())
        volume = _number("bag_volume_ml", "Bag volume", self.volume.text())
        expiry = self.expiry.date()
        bag = Bag(self.drug.text(), concentration if concentration is not None else 0.0,
                  volume if volume is not None else 0.0, self.lot.text(),
                  date(expiry.year(), expiry.month(), expiry.day()))
        return SessionStart(self.patient_id, kg, bag, protocol_id=self.protocol.currentData(),
                            chair=self.chair.currentText(), series_number=self.series_k.value(),
                            series_total=self.series_n.value(),
                            series_id=(self.current_series().series.id  # type: ignore[union-attr]
                                       if self.current_series() else None),
                            provider_id=self.provider.currentData())

    def _show_chair(self, chair: str) -> None:
        taken = chairs.occupants_of(self.ctx, chair)
        if taken:
            self.chair_status.setText("In use: " + "; ".join(o.text for o in taken))
            self.chair_status.setStyleSheet(f"color: {ERROR_COLOUR}; font-weight: bold;")
        else:
            self.chair_status.setText("free" if chair.strip() else "no chair")
            self.chair_status.setStyleSheet("color: #1b5e20;")

    def _ask_shared_chair(self, text: str) -> bool:
        box = QMessageBox(QMessageBox.Icon.Warning, "Chair in use", text,
                          QMessageBox.StandardButton.NoButton, self)
        seat = box.addButton("Seat here &anyway", QMessageBox.ButtonRole.AcceptRole)
        other = box.addButton("Choose &another chair", QMessageBox.ButtonRole.RejectRole)
        seat.setAutoDefault(False)
        box.setDefaultButton(other)
        box.setEscapeButton(other)
        box.exec()
        return box.clickedButton() is seat

    def start(self) -> None:
        """Create the draft session; on refusal show why beside the field, keep the form."""
        self._clear_errors()
        taken = chairs.occupants_of(self.ctx, self.chair.currentText())
        if taken:
            text = (f"{self.chair.currentText()} is in use by "
                    + "; ".join(o.text for o in taken)
                    + ".\n\nThe monitor feed matches readings to a patient by chair: with two "
                      "patients in one chair their readings cannot be told apart. Seat "
                      f"{self.patient.display_name} here anyway?")
            if not self.confirm_shared_chair(text):
                self.chair.setFocus()
                return
        try:
            session = start_session(self.ctx, self.session_start())
        except PlausibilityError as exc:
            self._show_problems(exc)
            return
        except ServiceError as exc:
            self.error.setText(f"Not started: {exc}")
            self.error.show()
            return
        self.session_id = session.id
        self.accept()
