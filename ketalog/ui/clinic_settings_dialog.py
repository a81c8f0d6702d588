"""Clinic settings for admins: name (heads every PDF), paper size, auto-logoff, the
responder rule and the follow-up schedule. Saved together or not at all; each problem is
shown by its field."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFormLayout,
    QLabel,
    QLineEdit,
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
        self.hours = QLineEdit(", ".join(f"{h:g}" for h in current.follow_up_hours))
        self.hours.setToolTip("Hours after the infusion ends, e.g. 24, 72, 168 (or 1d, 3d, 7d)")
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (kept in the audit log)")
        self.errors: dict[str, QLabel] = {}
        form = QFormLayout()
        for key, label, widget in (
                ("clinic_name", "Clinic name", self.name),
                ("paper_size", "PDF paper size", self.paper),
                ("auto_logoff_min", "Log off after idle", self.logoff),
                ("responder_threshold_pct", "Responder at least", self.threshold),
                ("follow_up_hours", "Follow-up calls (h)", self.hours),
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
                             self.threshold.value(), hours)
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

    def _show(self, field: str, message: str) -> None:
        label = self.errors.get(field)
        if label is None:
            self.general.setText(message)
            return
        label.setText(message)
        label.show()
