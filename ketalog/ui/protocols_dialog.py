"""Protocol templates for admins: create, edit (in place only while unused; otherwise as
a new version that retires the old), retire. Old sessions keep their protocol."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import Protocol
from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.protocols import (
    ProtocolInput,
    create_protocol,
    list_protocols,
    new_version,
    retire_protocol,
    sessions_using,
    update_protocol,
)
from ketalog.services.settings import monitoring_interval_min
from ketalog.ui.patient_dialog import INDICATIONS
from ketalog.ui.table_models import RowsModel, rows_view

ERRORS = (PlausibilityError, ServiceError)


def _spin(low: float, high: float, decimals: int, suffix: str, step: float) -> QDoubleSpinBox:
    box = QDoubleSpinBox()
    box.setRange(low, high)
    box.setDecimals(decimals)
    box.setSingleStep(step)
    box.setSuffix(f" {suffix}")
    return box


class ProtocolForm(QDialog):
    """One protocol's values; `mode` is "new", "edit" (unused) or "version" (in use)."""

    def __init__(self, ctx: Context, protocol: Protocol | None, mode: str,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.protocol, self.mode = ctx, protocol, mode
        self.result_protocol: Protocol | None = None
        self.setObjectName("protocolForm")
        self.setWindowTitle({"new": "New protocol", "edit": "Edit protocol",
                             "version": "New version of a protocol in use"}[mode])
        self.name = QLineEdit(protocol.name if protocol else "")
        self.indication = QComboBox()
        self.indication.setEditable(True)
        self.indication.addItems(INDICATIONS)
        self.indication.setCurrentText(protocol.indication if protocol else "neuropathic pain")
        self.bolus = _spin(0, 2, 2, "mg/kg", 0.05)
        self.rate = _spin(0.01, 5, 2, "mg/kg/h", 0.05)
        self.duration = QSpinBox()
        self.duration.setRange(5, 1440)
        self.duration.setSuffix(" min")
        self.series = QSpinBox()
        self.series.setRange(1, 100)
        self.max_total = _spin(0, 5000, 0, "mg (0 = none)", 10)
        self.monitoring = QSpinBox()
        self.monitoring.setRange(1, 60)
        self.monitoring.setSuffix(" min")
        if protocol:
            self.bolus.setValue(protocol.bolus_mg_per_kg)
            self.rate.setValue(protocol.rate_mg_per_kg_per_h)
            self.duration.setValue(protocol.duration_min)
            self.series.setValue(protocol.series_length)
            self.max_total.setValue(protocol.max_total_mg or 0)
            self.monitoring.setValue(protocol.monitoring_interval_min)
        else:
            self.rate.setValue(0.5)
            self.duration.setValue(240)
            self.series.setValue(6)
            self.monitoring.setValue(monitoring_interval_min(ctx))  # clinic default
        if mode == "version" and protocol:
            self.name.setText(f"{protocol.name} v2")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (kept in the audit log)")
        self.error = QLabel()
        self.error.setObjectName("protocolError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        form = QFormLayout()
        for label, widget in (("Name", self.name), ("Indication", self.indication),
                              ("Loading bolus", self.bolus), ("Infusion rate", self.rate),
                              ("Duration", self.duration), ("Series length", self.series),
                              ("Maximum total", self.max_total),
                              ("Vitals every", self.monitoring), ("Reason", self.reason)):
            form.addRow(label, widget)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if mode == "version":
            note = QLabel("Sessions already use this protocol, so it is not changed: the new "
                          "version is saved under its own name and the old one is retired.")
            note.setWordWrap(True)
            layout.addWidget(note)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def values(self) -> ProtocolInput:
        return ProtocolInput(
            self.name.text(), self.indication.currentText().strip(), self.bolus.value(),
            self.rate.value(), self.duration.value(), self.series.value(),
            self.max_total.value() or None, self.monitoring.value())

    def save(self) -> None:
        try:
            if self.mode == "new":
                self.result_protocol = create_protocol(self.ctx, self.values())
            elif self.mode == "edit" and self.protocol:
                self.result_protocol = update_protocol(self.ctx, self.protocol.id or 0,
                                                       self.values(), self.reason.text(),
                                                       loaded=self.protocol)
            elif self.protocol:
                self.result_protocol = new_version(self.ctx, self.protocol.id or 0,
                                                   self.values(), self.reason.text())
        except ERRORS as exc:
            self.error.setText(str(exc))
            return
        self.accept()


class ProtocolsDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("protocolsDialog")
        self.setWindowTitle("Protocols")
        self.model = RowsModel[Protocol]([
            ("Name", lambda p: p.name), ("Indication", lambda p: p.indication),
            ("Bolus mg/kg", lambda p: f"{p.bolus_mg_per_kg:g}"),
            ("Rate mg/kg/h", lambda p: f"{p.rate_mg_per_kg_per_h:g}"),
            ("Duration min", lambda p: p.duration_min), ("Series", lambda p: p.series_length),
            ("Max total mg", lambda p: "-" if p.max_total_mg is None else f"{p.max_total_mg:g}"),
            ("Vitals every min", lambda p: p.monitoring_interval_min),
            ("Status", lambda p: "retired" if p.retired else "active"),
        ])
        self.view = rows_view(self.model, "protocolTable")
        self.view.activated.connect(lambda _i: self.edit())
        self.message = QLabel()
        self.message.setStyleSheet("color: #b00020;")
        buttons = QHBoxLayout()
        for text, slot, name in (("&New...", self.new, "newProtocol"),
                                 ("&Edit...", self.edit, "editProtocol"),
                                 ("&Retire...", self.retire, "retireProtocol")):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(slot)
            buttons.addWidget(button)
        buttons.addStretch(1)
        close = QPushButton("Close")
        close.clicked.connect(self.accept)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view)
        layout.addWidget(self.message)
        layout.addLayout(buttons)
        self.resize(980, 380)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(list_protocols(self.ctx, include_retired=True))

    def selected(self) -> Protocol | None:
        rows = self.view.selectionModel().selectedRows()
        return self.model.row_at(rows[0].row()) if rows else None

    def form_for(self, protocol: Protocol | None) -> ProtocolForm:
        if protocol is None:
            return ProtocolForm(self.ctx, None, "new", self)
        mode = "version" if sessions_using(self.ctx, protocol.id or 0) else "edit"
        return ProtocolForm(self.ctx, protocol, mode, self)

    def new(self) -> None:
        if self.form_for(None).exec():
            self.refresh()

    def edit(self) -> None:
        protocol = self.selected()
        if protocol is None or protocol.retired:
            self.message.setText("Select an active protocol to edit.")
            return
        if self.form_for(protocol).exec():
            self.refresh()

    def retire(self) -> None:
        protocol = self.selected()
        if protocol is None:
            return
        reason, ok = QInputDialog.getText(self, "Retire protocol",
                                          f"Why retire '{protocol.name}'? It stays on the "
                                          "sessions that used it.")
        if not ok:
            return
        try:
            retire_protocol(self.ctx, protocol.id or 0, reason)
        except ERRORS as exc:
            self.message.setText(str(exc))
            return
        self.refresh()
