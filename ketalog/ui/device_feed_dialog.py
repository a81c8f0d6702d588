"""Admin > Monitor feed: switch the app's HL7 listener on or off and choose its address
(saved in the clinic settings, audited); the listener itself is in ui/feed_runner.py."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.device_feed_settings import FeedSettings, feed_settings, save_feed_settings
from ketalog.services.errors import ServiceError
from ketalog.ui.device_feed_rules import MonitorsTab, RulesTab
from ketalog.ui.feed_runner import FeedRunner


class FeedSettingsDialog(QDialog):
    def __init__(self, ctx: Context, db_path: Path | str, runner: FeedRunner,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.db_path, self.runner = ctx, db_path, runner
        self.setObjectName("feedSettingsDialog")
        self.setWindowTitle("Monitor feed (HL7 v2)")
        current = feed_settings(ctx)
        self.enabled = QCheckBox("Receive vitals from patient monitors (HL7 ORU^R01 over MLLP)")
        self.enabled.setObjectName("feedEnabled")
        self.enabled.setChecked(current.enabled)
        self.host = QLineEdit(current.host)
        self.host.setObjectName("feedHost")
        self.host.setToolTip("127.0.0.1: this computer only; 0.0.0.0: every network card")
        self.port = QSpinBox()
        self.port.setObjectName("feedPort")
        self.port.setRange(1, 65535)
        self.port.setValue(current.port)
        self.status = QLabel(runner.status())
        self.status.setObjectName("feedStatus")
        self.status.setWordWrap(True)
        self.message = QLabel()
        self.message.setStyleSheet("color: #b00020;")
        self.message.setWordWrap(True)
        restart = QPushButton("Restart listener")
        restart.clicked.connect(self.restart)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Close)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        form = QFormLayout()
        form.addRow(self.enabled)
        form.addRow("Listen on address", self.host)
        form.addRow("TCP port", self.port)
        form.addRow("Status", self.status)
        listener = QWidget()
        inner = QVBoxLayout(listener)
        inner.addLayout(form)
        inner.addWidget(QLabel("Readings are matched to the open session by MRN (PID-3) or "
                               "chair (PV1-3); anything else waits in Patient > Monitor "
                               "quarantine."))
        inner.addWidget(self.message)
        inner.addWidget(restart)
        inner.addStretch()
        self.monitors = MonitorsTab(ctx)
        self.rules = RulesTab(ctx)
        self.tabs = QTabWidget()
        self.tabs.addTab(listener, "&Listener")
        self.tabs.addTab(self.monitors, "M&onitors")
        self.tabs.addTab(self.rules, "&Codes and beds")
        layout = QVBoxLayout(self)
        layout.addWidget(self.tabs)
        layout.addWidget(buttons)

    def settings(self) -> FeedSettings:
        return FeedSettings(self.enabled.isChecked(), self.host.text(), self.port.value())

    def save(self) -> bool:
        """Save (audited), then start or stop the listener to match."""
        try:
            saved = save_feed_settings(self.ctx, self.settings())
        except (PlausibilityError, ServiceError) as exc:
            self.message.setText(str(exc))
            return False
        self.runner.stop()
        if saved.enabled and not self.runner.start(self.db_path, saved, self.ctx):
            self.message.setText(f"Saved, but {self.runner.error}")
            self.status.setText(self.runner.status())
            return False
        self.status.setText(self.runner.status())
        self.accept()
        return True

    def restart(self) -> None:
        self.runner.stop()
        if feed_settings(self.ctx).enabled:
            self.runner.start(self.db_path, feed_settings(self.ctx), self.ctx)
        self.status.setText(self.runner.status())
