"""Alert thresholds for admins: a low and a high limit per vital (either may be off).
Values outside them are stored and flagged red, never refused; limits must lie inside
what is plausible, or the alert could never fire."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QGridLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.alerts import DEFAULT_ALERT_SOURCE, DEFAULT_BANDS, AlertThresholds, Band
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import VITAL_LIMITS
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.settings import alert_thresholds, set_alert_thresholds


class _Limit(QWidget):
    """A checkbox (on/off) and a spin box: "no low limit" is a real choice (DBP)."""

    def __init__(self, low: float, high: float, value: float | None, name: str) -> None:
        super().__init__()
        self.on = QCheckBox()
        self.on.setObjectName(f"{name}On")
        self.spin = QDoubleSpinBox()
        self.spin.setObjectName(name)
        self.spin.setRange(low, high)
        self.spin.setDecimals(1)
        self.set(value)
        self.on.toggled.connect(self.spin.setEnabled)
        layout = QGridLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.on, 0, 0)
        layout.addWidget(self.spin, 0, 1)

    def set(self, value: float | None) -> None:
        self.on.setChecked(value is not None)
        self.spin.setEnabled(value is not None)
        if value is not None:
            self.spin.setValue(value)

    def value(self) -> float | None:
        return self.spin.value() if self.on.isChecked() else None


class AlertThresholdsDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("alertThresholdsDialog")
        self.setWindowTitle("Alert thresholds")
        current = alert_thresholds(ctx).bands
        grid = QGridLayout()
        grid.addWidget(QLabel("<b>Vital</b>"), 0, 0)
        grid.addWidget(QLabel("<b>Alert below</b>"), 0, 1)
        grid.addWidget(QLabel("<b>Alert above</b>"), 0, 2)
        self.limits: dict[str, tuple[_Limit, _Limit]] = {}
        for row, (name, limit) in enumerate(VITAL_LIMITS.items(), start=1):
            band = current.get(name, Band())
            low = _Limit(limit.low, limit.high, band.low, f"{name}_low")
            high = _Limit(limit.low, limit.high, band.high, f"{name}_high")
            grid.addWidget(QLabel(f"{limit.label} {limit.unit} (plausible "
                                  f"{limit.low:g}-{limit.high:g})"), row, 0)
            grid.addWidget(low, row, 1)
            grid.addWidget(high, row, 2)
            self.limits[name] = (low, high)
        defaults = QPushButton("Restore defaults")
        defaults.clicked.connect(self.restore_defaults)
        self.reason = QLineEdit()
        self.reason.setPlaceholderText("why (kept in the audit log)")
        self.error = QLabel()
        self.error.setObjectName("alertError")
        self.error.setStyleSheet("color: #b00020;")
        self.error.setWordWrap(True)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        source = QLabel(DEFAULT_ALERT_SOURCE)
        source.setWordWrap(True)
        source.setStyleSheet("color: #555;")
        layout = QVBoxLayout(self)
        layout.addLayout(grid)
        layout.addWidget(defaults)
        layout.addWidget(source)
        layout.addWidget(self.reason)
        layout.addWidget(self.error)
        layout.addWidget(buttons)

    def restore_defaults(self) -> None:
        for name, (low, high) in self.limits.items():
            band = DEFAULT_BANDS.get(name, Band())
            low.set(band.low)
            high.set(band.high)

    def thresholds(self) -> AlertThresholds:
        bands = {name: Band(low.value(), high.value()) for name, (low, high) in
                 self.limits.items() if low.value() is not None or high.value() is not None}
        return AlertThresholds(bands)

    def save(self) -> None:
        try:
            set_alert_thresholds(self.ctx, self.thresholds(), self.reason.text())
        except PlausibilityError as exc:
            self.error.setText("; ".join(p.message for p in exc.problems))
            return
        except ServiceError as exc:
            self.error.setText(str(exc))
            return
        self.accept()
