"""Start, change, bolus, pause, resume, stop: each with a time and a reason; the running
total (mg and mg/kg) always visible; soft warnings shown with their source and
acknowledged before the entry is recorded (the acknowledgement is stored with it)."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QSignalBlocker, Qt, QTimer, Signal
from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QListWidgetItem,
    QMessageBox,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain import dosing, rates
from ketalog.domain.allergies import ALLERGY_CODE
from ketalog.domain.dosing import DoseWarning
from ketalog.domain.entities import DoseKind
from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import InvalidState, ServiceError, WarningsNotAcknowledged
from ketalog.services.record import SessionRecord
from ketalog.services.sessions import record_dose
from ketalog.ui.acknowledge_dialog import ask_reason
from ketalog.ui.confirmations import confirm_stop, stop_text
from ketalog.ui.entry_time import EntryTime
from ketalog.ui.strike import EntryKind, ask_strike_reason, show_struck, strike, struck_text

KIND_TEXT = {"bolus": "Bolus", "start": "Start", "rate_change": "Rate change",
             "pause": "Pause", "resume": "Resume", "stop": "Stop"}
ENABLED_IN = {
    DoseKind.START: {"not_started", "stopped"},  # after a stop: a restart
    DoseKind.RATE_CHANGE: {"running"},
    DoseKind.PAUSE: {"running"},
    DoseKind.RESUME: {"paused"},
    DoseKind.STOP: {"running", "paused"},
    DoseKind.BOLUS: {"not_started", "running", "paused", "stopped"},
}


def ask_acknowledgement(parent: QWidget, warnings: list[DoseWarning]) -> bool:
    text = "\n\n".join(f"⚠ {w.message}\n   Source: {w.source}" for w in warnings)
    box = QMessageBox(QMessageBox.Icon.Warning, "Dose warning",
                      f"{text}\n\nRecord anyway? Your acknowledgement is stored with the entry.",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.button(QMessageBox.StandardButton.Yes).setText("Acknowledge and record")
    box.setDefaultButton(QMessageBox.StandardButton.No)
    return box.exec() == QMessageBox.StandardButton.Yes


class DosingPanel(QGroupBox):
    recorded = Signal()

    def __init__(self, ctx: Context, session_id: int, parent: QWidget | None = None) -> None:
        super().__init__("Ketamine infusion", parent)
        self.ctx, self.session_id = ctx, session_id
        self.setObjectName("dosingPanel")
        self.record_: SessionRecord | None = None
        self.confirm_warnings: Callable[[list[DoseWarning]], bool] = (
            lambda warnings: ask_acknowledgement(self, warnings))
        # Stop asks first (total given and time); Enter alone keeps it running
        self.confirm_stop: Callable[[str], bool] = lambda text: confirm_stop(self, text)
        # allergy warnings need a typed reason: (warnings, what) -> reason or None
        self.ask_allergy_reason: Callable[[list[DoseWarning], str], str | None] = (
            lambda warnings, what: ask_reason(self, warnings, what))
        self.state_label = QLabel()
        self.state_label.setObjectName("doseState")
        self.total_label = QLabel()
        self.total_label.setObjectName("doseTotal")
        self.total_label.setStyleSheet("font-size: 15px; font-weight: bold;")
        self.rate = QDoubleSpinBox()
        self.rate.setObjectName("rateMgPerKgPerH")
        self.rate.setDecimals(2)
        self.rate.setRange(0.0, 5.0)
        self.rate.setSuffix(" mg/kg/h")
        self.rate.setSingleStep(0.05)
        self.rate_unit = QComboBox()
        self.rate_unit.setObjectName("rateUnit")
        self.rate_unit.addItems(list(rates.UNITS))
        self.rate_unit.setToolTip("Enter the rate in mg/kg/h, mg/h or pump mL/h; the other "
                                  "two are computed (mg/h rounded half-up to 0.1)")
        self._unit = rates.UNITS[0]
        self.rate_conversion = QLabel()
        self.rate_conversion.setObjectName("rateConversion")
        self.rate_conversion.setWordWrap(True)
        self.bolus = QDoubleSpinBox()
        self.bolus.setObjectName("bolusMgPerKg")
        self.bolus.setDecimals(2)
        self.bolus.setRange(0.0, 2.0)
        self.bolus.setSingleStep(0.05)
        self.bolus.setSuffix(" mg/kg")
        self.bolus_conversion = QLabel()
        self.bolus_conversion.setObjectName("bolusConversion")
        self.reason = QLineEdit()
        self.reason.setObjectName("doseReason")
        self.reason.setPlaceholderText("reason (optional), e.g. nausea, pain persists")
        self.when = EntryTime(ctx.clock, "dose")
        self.error = QLabel()
        self.error.setObjectName("doseError")
        self.error.setStyleSheet("color: #b00020; font-weight: bold;")
        self.error.setWordWrap(True)
        self.error.hide()
        self.buttons: dict[DoseKind, QPushButton] = {}
        grid = QGridLayout()
        for i, (kind, text) in enumerate((
            (DoseKind.START, "&Start infusion"), (DoseKind.RATE_CHANGE, "&Change rate"),
            (DoseKind.BOLUS, "&Bolus"), (DoseKind.PAUSE, "&Pause"),
            (DoseKind.RESUME, "Res&ume"), (DoseKind.STOP, "S&top"),
        )):
            button = QPushButton(text)
            button.setObjectName(f"dose_{kind.value}")
            button.clicked.connect(lambda _=False, k=kind: self.submit(k))
            grid.addWidget(button, i // 3, i % 3)
            self.buttons[kind] = button
        self.events = QListWidget()
        self.events.setObjectName("doseEvents")
        self.events.setWordWrap(True)
        self.ask_reason: Callable[[str], str | None] = (
            lambda label: ask_strike_reason(self, label))
        self.strike_button = QPushButton("Mark entered in &error…")
        self.strike_button.setObjectName("strikeDose")
        self.strike_button.setToolTip("Strike the selected dose event through (with a reason); "
                                      "it stays on the record and counts in no total")
        self.strike_button.clicked.connect(self.strike_selected)
        self.events.itemSelectionChanged.connect(self._update_strike_button)
        form = QFormLayout()
        rate_row = QHBoxLayout()
        rate_row.addWidget(self.rate)
        rate_row.addWidget(self.rate_unit)
        rate_row.addWidget(self.rate_conversion, 1)
        bolus_row = QHBoxLayout()
        bolus_row.addWidget(self.bolus)
        bolus_row.addWidget(self.bolus_conversion, 1)
        form.addRow("Rate", rate_row)
        form.addRow("Bolus dose", bolus_row)
        form.addRow("Reason", self.reason)
        form.addRow("Time", self.when)
        layout = QVBoxLayout(self)
        layout.addWidget(self.total_label)
        layout.addWidget(self.state_label)
        layout.addLayout(form)
        layout.addLayout(grid)
        layout.addWidget(self.error)
        layout.addWidget(QLabel("Dose events"))
        layout.addWidget(self.events, 1)
        layout.addWidget(self.strike_button)
        self.rate.valueChanged.connect(self._update_conversions)
        self.rate_unit.currentTextChanged.connect(self._change_unit)
        self.bolus.valueChanged.connect(self._update_conversions)
        self.ticker = QTimer(self)
        self.ticker.timeout.connect(self._update_totals)
        self.ticker.start(5000)
        self.read_only = False

    # -- display ------------------------------------------------------------
    def show_record(self, record: SessionRecord) -> None:
        first = self.record_ is None
        self.record_ = record
        if first:
            planned = record.protocol.rate_mg_per_kg_per_h if record.protocol else 0.5
            weight = record.session.weight_kg
            ran = [seg.rate_mg_per_h for seg in dosing.segments(record.doses)]
            if ran:  # running or stopped: the box shows the rate it runs (ran) at, in
                self.rate_unit.setCurrentText("mg/h")  # mg/h: exactly as stored
                self.set_rate_mg_per_h(ran[-1])
            else:
                self.set_rate_mg_per_h(rates.mg_per_h_from_entry(
                    planned, "mg/kg/h", weight, record.session.bag.concentration_mg_per_ml))
            self.bolus.setValue(record.protocol.bolus_mg_per_kg if record.protocol else 0.0)
        self.events.clear()
        for e in record.doses:
            item = QListWidgetItem(self._event_text(e))
            item.setData(Qt.ItemDataRole.UserRole, None if e.struck_reason else e.id)
            if e.struck_reason:
                item.setText(struck_text(item.text(), e.struck_reason))
                show_struck(item)
            self.events.addItem(item)
        self.events.scrollToBottom()
        self._update_conversions()
        self._update_totals()
        self._update_buttons()

    def _event_text(self, e: dosing.DoseLike) -> str:
        weight = self.record_.session.weight_kg if self.record_ else 1.0
        when = e.at.astimezone().strftime("%H:%M")
        parts = [when, KIND_TEXT[str(e.kind.value if hasattr(e.kind, "value") else e.kind)]]
        if e.rate_mg_per_h:
            conc = self.record_.session.bag.concentration_mg_per_ml if self.record_ else 1.0
            parts.append(rates.rate_text(e.rate_mg_per_h, weight, conc))
        if e.bolus_mg:
            parts.append(f"{e.bolus_mg:.1f} mg ({e.bolus_mg / weight:.2f} mg/kg)")
        reason = getattr(e, "reason", "")
        if reason:
            parts.append(f"— {reason}")
        if getattr(e, "acknowledged_warnings", ()):
            parts.append("⚠ warning acknowledged")
        return "  ".join(parts)

    # -- rate entry (one rounding rule: domain.rates) ----------------------------
    def entered_mg_per_h(self) -> float:
        """The mg/h that Start or Change rate would store for what is in the rate box."""
        if self.record_ is None:
            return 0.0
        s = self.record_.session
        return rates.mg_per_h_from_entry(self.rate.value(), self._unit, s.weight_kg,
                                         s.bag.concentration_mg_per_ml)

    def set_rate_mg_per_h(self, mg_per_h: float) -> None:
        if self.record_ is None:
            return
        s = self.record_.session
        self.rate.setValue(rates.in_unit(mg_per_h, self._unit, s.weight_kg,
                                         s.bag.concentration_mg_per_ml))

    def _change_unit(self, unit: str) -> None:
        mg_h = self.entered_mg_per_h()
        self._unit = unit
        decimals, top, step = {"mg/kg/h": (2, 5.0, 0.05), "mg/h": (1, 1000.0, 1.0),
                               "mL/h": (1, 2000.0, 1.0)}[unit]
        with QSignalBlocker(self.rate):
            self.rate.setDecimals(decimals)
            self.rate.setRange(0.0, top)
            self.rate.setSingleStep(step)
            self.rate.setSuffix(f" {unit}")
        self.set_rate_mg_per_h(mg_h)
        self._update_conversions()

    def _update_conversions(self) -> None:
        if self.record_ is None:
            return
        weight = self.record_.session.weight_kg
        conc = self.record_.session.bag.concentration_mg_per_ml
        self.rate_conversion.setText(f"= {rates.rate_text(self.entered_mg_per_h(), weight, conc)}")
        self.bolus_conversion.setText(f"= {self.bolus.value() * weight:.1f} mg")

    def _update_totals(self) -> None:
        if self.record_ is None:
            return
        now = self.ctx.clock.now()
        total = self.record_.total_mg(now)
        weight = self.record_.session.weight_kg
        self.total_label.setText(f"Total given: {total:.1f} mg = {total / weight:.2f} mg/kg")
        state = self.record_.infusion_state
        rate = dosing.rate_at(self.record_.doses, now)
        conc = self.record_.session.bag.concentration_mg_per_ml
        ran = "; ".join(
            f"{rates.rate_text(seg.rate_mg_per_h, weight, conc)} "
            f"{seg.start.astimezone():%H:%M}-"
            f"{seg.end.astimezone():%H:%M}" if seg.end else "" for seg in
            dosing.segments(self.record_.doses))
        text = {
            "not_started": "Infusion not started",
            "running": f"Running at {rates.rate_text(rate, weight, conc)}",
            "paused": "Infusion PAUSED",
            "stopped": f"Infusion stopped. Ran at: {ran}" if ran else "Infusion stopped",
        }[state]
        self.state_label.setText(text)

    def _update_buttons(self) -> None:
        state = self.record_.infusion_state if self.record_ else "not_started"
        for kind, button in self.buttons.items():
            button.setEnabled(not self.read_only and state in ENABLED_IN[kind])
        self.buttons[DoseKind.START].setText("Re&start infusion" if state == "stopped"
                                             else "&Start infusion")
        self._update_strike_button()

    def _update_strike_button(self) -> None:
        item = self.events.currentItem()
        self.strike_button.setEnabled(
            not self.read_only and item is not None and item.isSelected()
            and item.data(Qt.ItemDataRole.UserRole) is not None)

    def strike_selected(self) -> bool:
        """Mark the selected dose event entered in error (a reason is required)."""
        item = self.events.currentItem()
        event_id = item.data(Qt.ItemDataRole.UserRole) if item is not None else None
        if event_id is None:
            return False
        reason = self.ask_reason("dose event")
        if not reason:
            return False
        problem = strike(self.ctx, EntryKind.DOSE, int(event_id), reason)
        if problem:
            self.error.setText(problem)
            self.error.show()
            return False
        self.error.hide()
        self.recorded.emit()
        return True

    def set_read_only(self, read_only: bool) -> None:
        self.read_only = read_only
        for w in (self.rate, self.rate_unit, self.bolus, self.reason, self.when):
            w.setEnabled(not read_only)
        self._update_buttons()

    # -- entry --------------------------------------------------------------
    def submit(self, kind: DoseKind, acknowledge: bool = False,
               allergy_reason: str = "") -> bool:
        if self.record_ is None:
            return False
        self.error.hide()
        if kind is DoseKind.STOP and not acknowledge and not allergy_reason:
            at = self.when.value() or self.ctx.clock.now()
            if not self.confirm_stop(stop_text(self.record_, at)):
                self.error.setText("Not stopped: the infusion keeps running.")
                self.error.show()
                return False
        weight = self.record_.session.weight_kg
        kwargs: dict[str, float] = {}
        if kind in (DoseKind.START, DoseKind.RATE_CHANGE):
            kwargs["rate_mg_per_h"] = self.entered_mg_per_h()
        elif kind is DoseKind.BOLUS:
            kwargs["bolus_mg"] = round(self.bolus.value() * weight, 3)
        elif kind is DoseKind.RESUME:
            rate = self.entered_mg_per_h()
            runs = dosing.segments(self.record_.doses)
            if runs and abs(runs[-1].rate_mg_per_h - rate) > 0.0005:
                kwargs["rate_mg_per_h"] = rate  # resumes at the rate now set
        try:
            record_dose(self.ctx, self.session_id, kind, at=self.when.value(),
                        reason=self.reason.text(), acknowledge=acknowledge,
                        allergy_reason=allergy_reason, **kwargs)
        except WarningsNotAcknowledged as exc:
            allergy = [w for w in exc.warnings if w.code == ALLERGY_CODE]
            if allergy and not allergy_reason:
                drug = self.record_.session.bag.drug
                reason = self.ask_allergy_reason(exc.warnings, f"{drug} {KIND_TEXT[kind.value].lower()}")
                if reason:
                    return self.submit(kind, acknowledge=True, allergy_reason=reason)
            elif self.confirm_warnings(exc.warnings):
                return self.submit(kind, acknowledge=True, allergy_reason=allergy_reason)
            self.error.setText("Not recorded (warning not acknowledged).")
            self.error.show()
            return False
        except (PlausibilityError, InvalidState, ServiceError) as exc:
            self.error.setText(f"Not recorded: {exc}")
            self.error.show()
            return False
        self.reason.clear()
        self.when.reset()
        self.recorded.emit()
        return True
