"""Clinic settings for admins: name, address and logo (they head every PDF page), paper
size, auto-logoff, the default vitals interval, the responder rule and the follow-up
schedule. Saved together or not at all; each problem is shown by its field."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QSpinBox,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.settings import PAPERS, ClinicSettings, clinic_settings, save_clinic_settings
from ketalog.store.errors import StoreError


def parse_hours(text: str) -> tuple[float, ...] | str:
    """ "24, 72, 168" or "1d, 3d, 7d" -> hours; the text back when it cannot be read."""
    values: list[float] = []
    for part in text.replace(";", ",").split(","):
        part = part.strip().lower()
        if not part:
            continue
        try:
            values.append(float(part[:-1]) * 24 if part.endswith("d") else
                          float(part.removesuffix("h")))
        except ValueError:
            return part
    return tuple(values)


class ClinicSettingsDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("clinicSettingsDialog")
        self.setWindowTitle("Clinic settings")
        current = clinic_settings(ctx.store)
        self.errors: dict[str, QLabel] = {}
        self.name = QLineEdit(current.clinic_name)
        self.paper = QComboBox()
        self.paper.addItems(PAPERS)
        self.paper.setCurrentText(current.paper_size)
        self.logoff = QDoubleSpinBox()
        self.logoff.setRange(0, 1000)
        self.logoff.setDecimals(0)
        self.logoff.setSuffix(" min")
        self.logoff.setValue(current.auto_logoff_min)
        self.threshold = QDoubleSpinBox()
        self.threshold.setRange(0, 100)
        self.threshold.setDecimals(0)
        self.threshold.setSuffix(" % NRS reduction")
        self.threshold.setValue(current.responder_threshold_pct)
        self.address = QPlainTextEdit(current.clinic_address)
        self.address.setObjectName("clinicAddress")
        self.address.setPlaceholderText("street, town, phone (up to 3 lines)")
        self.address.setFixedHeight(58)
        self.address.setTabChangesFocus(True)
        self.logo: bytes | None = current.clinic_logo
        self.logo_preview = QLabel()
        self.logo_preview.setObjectName("logoPreview")
        self.logo_preview.setMinimumHeight(36)
        choose = QPushButton("C&hoose logo...")
        choose.setObjectName("chooseLogo")
        choose.clicked.connect(self.choose_logo)
        remove = QPushButton("No logo")
        remove.setObjectName("removeLogo")
        remove.clicked.connect(lambda: self.set_logo(None))
        self.logo_row = QWidget()
        logo_layout = QHBoxLayout(self.logo_row)
        logo_layout.setContentsMargins(0, 0, 0, 0)
        logo_layout.addWidget(self.logo_preview, 1)
        logo_layout.addWidget(choose)
        logo_layout.addWidget(remove)
        self.set_logo(current.clinic_logo)
        self.monitoring = QSpinBox()
        self.monitoring.setObjectName("monitoringDefault")
        self.monitoring.setRange(0, 1000)
        self.monitoring.setSuffix(" min")
        self.monitoring.setValue(current.monitoring_interval_min)
        self.monitoring.setToolTip("For sessions without a protocol; each protocol sets its own")
        self.observation = QSpinBox()
        self.observation.setObjectName("observationMin")
        self.observation.setRange(0, 1000)
        self.observation.setSuffix(" min")
        self.observation.setValue(current.observation_min)
        self.observation.setToolTip("Discharge readiness: time since the last ketamine dose "
                                    "(Ketalar label: at least 60 min)")
        self.padss = QSpinBox()
        self.padss.setObjectName("padssFitAt")
        self.padss.setRange(0, 8)
        self.padss.setSuffix(" of 8")
        self.padss.setValue(current.padss_fit_at)
        self.padss.setToolTip("Adapted PADSS (4 items, 0-8) pass mark for discharge")
        self.hours = QLineEdit(", ".join(f"{h:g}" for h in current.follow_up_hours))
        self.hours.setToolTip("Hours after the infusion ends, e.g. 24, 72, 168 (or 1d, 3d, 7d)")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (kept in the audit log)")
        form = QFormLayout()
        for key, label, widget in (
                ("clinic_name", "Clinic name", self.name),
                ("clinic_address", "Address", self.address),
                ("clinic_logo", "Logo", self.logo_row),
                ("paper_size", "PDF paper size", self.paper),
                ("auto_logoff_min", "Log off after idle", self.logoff),
                ("monitoring_interval_min", "Vitals every (default)", self.monitoring),
                ("responder_threshold_pct", "Responder at least", self.threshold),
                ("follow_up_hours", "Follow-up calls (h)", self.hours),
                ("observation_min", "Observe after last dose", self.observation),
                ("padss_fit_at", "PADSS discharge at least", self.padss),
                ("reason", "Reason", self.reason)):
            form.addRow(label, widget)
            error = QLabel()
            error.setObjectName(f"error_{key}")
            error.setStyleSheet("color: #b00020;")
            error.hide()
            form.addRow("", error)
            self.errors[key] = error
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.general = QLabel()
        self.general.setStyleSheet("color: #b00020;")
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        layout.addWidget(QLabel("Alert thresholds and protocols have their own screens; "
                                "auto-logoff applies from the next login."))
        layout.addWidget(self.general)
        layout.addWidget(buttons)

    def save(self) -> None:
        for label in self.errors.values():
            label.hide()
        hours = parse_hours(self.hours.text())
        if isinstance(hours, str):
            self._show("follow_up_hours", f"cannot read {hours!r}: give hours like 24, 72, 168")
            return
        new = ClinicSettings(self.name.text(), self.paper.currentText(), self.logoff.value(),
                             self.threshold.value(), hours, self.monitoring.value(),
                             self.address.toPlainText(), self.logo, self.observation.value(),
                             self.padss.value())
        try:
            save_clinic_settings(self.ctx, new, self.reason.text())
        except PlausibilityError as exc:
            for problem in exc.problems:
                self._show(problem.field, problem.message)
            return
        except (ServiceError, StoreError) as exc:
            self.general.setText(str(exc))
            return
        self.accept()

    def choose_logo(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Clinic logo", "",
                                              "Images (*.png *.jpg *.jpeg)")
        if name:
            self.load_logo(Path(name))

    def load_logo(self, path: Path) -> None:
        """Read the file now (it may move later); the service checks it on Save."""
        try:
            self.set_logo(path.read_bytes())
        except OSError as exc:
            self._show("clinic_logo", f"cannot read {path}: {exc.strerror or exc}")

    def set_logo(self, data: bytes | None) -> None:
        self.logo = data or None
        if "clinic_logo" in self.errors:
            self.errors["clinic_logo"].hide()
        if self.logo is None:
            self.logo_preview.setPixmap(QPixmap())
            self.logo_preview.setText("none")
            return
        pixmap = QPixmap()
        if pixmap.loadFromData(self.logo):
            self.logo_preview.setPixmap(pixmap.scaledToHeight(
                32, Qt.TransformationMode.SmoothTransformation))
        else:
            self.logo_preview.setText(f"{len(self.logo)} bytes (not an image Qt can show)")

    def _show(self, field: str, message: str) -> None:
        label = self.errors.get(field)
        if label is None:
            self.general.setText(message)
            return
        label.setText(message)
        label.show()
