"""Clinic settings for admins, built from the declarations (services/setting_declarations.py):
one group box per declared group, labels with their units, spin boxes whose ranges are the
declared bounds (so they refuse what the save would refuse) and the help as tooltips.
Saved together or not at all; each problem is shown by its field and nothing typed is
lost."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QPixmap
from PySide6.QtWidgets import (
    QAbstractSpinBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QDoubleSpinBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
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
from ketalog.services.setting_declarations import CLINIC_LOGO, GROUPS, SETTINGS, SettingDeclaration
from ketalog.services.settings import change_settings, clinic_settings

ERROR_STYLE = "color: #b00020;"


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


class _Mnemonics:
    """Alt+letter for each label, the first letter of it not yet taken (keyboard use)."""

    def __init__(self, taken: str = "") -> None:
        self.taken = set(taken.lower())

    def __call__(self, text: str) -> str:
        for i, char in enumerate(text):
            if char.isalpha() and char.lower() not in self.taken:
                self.taken.add(char.lower())
                return f"{text[:i]}&{text[i:]}"
        return text


def spin_box(decl: SettingDeclaration) -> QSpinBox | QDoubleSpinBox:
    """A spin box whose range is the declaration's bounds and whose suffix is its unit."""
    assert decl.minimum is not None and decl.maximum is not None
    box: QSpinBox | QDoubleSpinBox
    if decl.kind == "int":
        box = QSpinBox()
        box.setRange(int(decl.minimum), int(decl.maximum))
    else:
        box = QDoubleSpinBox()
        box.setDecimals(decl.decimals)
        box.setRange(decl.minimum, decl.maximum)
    box.setSuffix(f" {decl.unit}")
    box.setCorrectionMode(QAbstractSpinBox.CorrectionMode.CorrectToPreviousValue)
    return box


class ClinicSettingsDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("clinicSettingsDialog")
        self.setWindowTitle("Clinic settings")
        current = clinic_settings(ctx)
        self.errors: dict[str, QLabel] = {}
        self.fields: dict[str, QWidget] = {}
        self.logo: bytes | None = None
        mnemonic = _Mnemonics("sc")  # Save, Cancel
        layout = QVBoxLayout(self)
        for group in GROUPS:
            box = QGroupBox(group)
            form = QFormLayout(box)
            for decl in (d for d in SETTINGS if d.group == group):
                widget = self._field(decl, current[decl.key])
                self.fields[decl.key] = widget
                widget.setObjectName(f"setting_{decl.key}")
                tip = f"{decl.help}. Allowed: {decl.bounds}."
                widget.setToolTip(tip)
                label = QLabel(mnemonic(decl.label_with_unit))
                label.setToolTip(tip)
                label.setBuddy(self._focus_target(widget))
                form.addRow(label, widget)
                self._error_row(form, decl.key)
            layout.addWidget(box)
        self.reason = QLineEdit()
        self.reason.setObjectName("settingsReason")
        self.reason.setPlaceholderText("why (kept in the audit log)")
        reason_form = QFormLayout()
        reason_label = QLabel(mnemonic("Reason"))
        reason_label.setBuddy(self.reason)
        reason_form.addRow(reason_label, self.reason)
        layout.addLayout(reason_form)
        buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Save
                                   | QDialogButtonBox.StandardButton.Cancel)
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        self.general = QLabel()
        self.general.setObjectName("settingsGeneralError")
        self.general.setStyleSheet(ERROR_STYLE)
        self.general.setWordWrap(True)
        layout.addWidget(QLabel("Alert thresholds, protocols, stock, backups and the monitor "
                                "feed have their own screens."))
        layout.addWidget(self.general)
        layout.addWidget(buttons)
        first = self.fields[SETTINGS[0].key]
        first.setFocus()

    # -- building ------------------------------------------------------------------------
    def _field(self, decl: SettingDeclaration, value: object) -> QWidget:
        if decl.kind == "text" and decl.max_lines:
            edit = QPlainTextEdit(str(value))
            edit.setPlaceholderText(f"up to {decl.max_lines} lines")
            edit.setFixedHeight(18 * decl.max_lines + 4)
            edit.setTabChangesFocus(True)
            return edit
        if decl.kind == "text":
            line = QLineEdit(str(value))
            if decl.maximum is not None:
                line.setMaxLength(int(decl.maximum))
            return line
        if decl.kind == "choice":
            combo = QComboBox()
            combo.addItems(decl.choices)
            combo.setCurrentText(str(value))
            return combo
        if decl.kind in ("int", "float"):
            spin = spin_box(decl)
            spin.setValue(value)  # type: ignore[arg-type]
            return spin
        if decl.kind == "hours":
            return QLineEdit(", ".join(f"{h:g}" for h in value))  # type: ignore[attr-defined]
        if decl.kind == "image":
            return self._logo_row(value if isinstance(value, bytes) else None)
        raise ValueError(f"no field for setting kind {decl.kind!r}")

    def _logo_row(self, logo: bytes | None) -> QWidget:
        self.logo_preview = QLabel()
        self.logo_preview.setObjectName("logoPreview")
        self.logo_preview.setMinimumHeight(36)
        self.choose_button = QPushButton("C&hoose logo...")
        self.choose_button.setObjectName("chooseLogo")
        self.choose_button.clicked.connect(self.choose_logo)
        remove = QPushButton("No logo")
        remove.setObjectName("removeLogo")
        remove.clicked.connect(lambda: self.set_logo(None))
        row = QWidget()
        row_layout = QHBoxLayout(row)
        row_layout.setContentsMargins(0, 0, 0, 0)
        row_layout.addWidget(self.logo_preview, 1)
        row_layout.addWidget(self.choose_button)
        row_layout.addWidget(remove)
        self.set_logo(logo)
        return row

    def _focus_target(self, widget: QWidget) -> QWidget:
        return self.choose_button if widget.findChild(QLabel, "logoPreview") else widget

    def _error_row(self, form: QFormLayout, key: str) -> None:
        error = QLabel()
        error.setObjectName(f"error_{key}")
        error.setStyleSheet(ERROR_STYLE)
        error.setWordWrap(True)
        error.hide()
        form.addRow("", error)
        self.errors[key] = error

    # -- saving --------------------------------------------------------------------------
    def values(self) -> dict[str, object] | None:
        """What the form holds, by key; None (each problem shown) when a field cannot be
        read as its kind."""
        values: dict[str, object] = {}
        unreadable = False
        for decl in SETTINGS:
            widget = self.fields[decl.key]
            if isinstance(widget, QSpinBox | QDoubleSpinBox):
                if not widget.hasAcceptableInput():
                    self._show(decl.key, f"{decl.label} must be {decl.bounds}")
                    unreadable = True
                values[decl.key] = widget.value()
            elif isinstance(widget, QPlainTextEdit):
                values[decl.key] = widget.toPlainText()
            elif isinstance(widget, QComboBox):
                values[decl.key] = widget.currentText()
            elif decl.kind == "hours" and isinstance(widget, QLineEdit):
                hours = parse_hours(widget.text())
                if isinstance(hours, str):
                    self._show(decl.key, f"cannot read {hours!r}: give hours like 24, 72, 168")
                    unreadable = True
                values[decl.key] = hours
            elif isinstance(widget, QLineEdit):
                values[decl.key] = widget.text()
            elif decl.kind == "image":
                values[decl.key] = self.logo
        return None if unreadable else values

    def save(self) -> None:
        for label in self.errors.values():
            label.hide()
        self.general.clear()
        values = self.values()
        if values is None:
            return
        try:
            change_settings(self.ctx, values, self.reason.text())
        except PlausibilityError as exc:
            for problem in exc.problems:
                self._show(problem.field, problem.message)
            return
        except ServiceError as exc:
            self.general.setText(str(exc))
            return
        self.accept()

    # -- the logo --------------------------------------------------------------------------
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
            self._show(CLINIC_LOGO, f"cannot read {path}: {exc.strerror or exc}")

    def set_logo(self, data: bytes | None) -> None:
        self.logo = data or None
        if CLINIC_LOGO in self.errors:
            self.errors[CLINIC_LOGO].hide()
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
