"""The Clinic settings dialog is built from the declarations: every spin box's range is
its declared bounds, each field carries its help, and the keyboard reaches each one."""

from __future__ import annotations

from PySide6.QtWidgets import QDoubleSpinBox, QGroupBox, QLabel, QSpinBox

from ketalog.services.setting_declarations import GROUPS, SETTINGS
from ketalog.ui.clinic_settings_dialog import ClinicSettingsDialog


def test_each_spin_box_range_is_its_declaration(qtbot, staffed):
    _, ctx = staffed
    dialog = ClinicSettingsDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    spins = [d for d in SETTINGS if d.kind in ("int", "float")]
    assert spins
    for decl in spins:
        box = dialog.fields[decl.key]
        assert isinstance(box, QSpinBox | QDoubleSpinBox)
        assert (box.minimum(), box.maximum()) == (decl.minimum, decl.maximum), decl.key
        assert box.suffix().strip() == decl.unit
    for decl in SETTINGS:
        assert decl.help in dialog.fields[decl.key].toolTip()
    assert [b.title() for b in dialog.findChildren(QGroupBox)] == list(GROUPS)


def test_an_unreadable_spin_box_refuses_save_and_keeps_the_text(qtbot, staffed):
    store, ctx = staffed
    dialog = ClinicSettingsDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    box = dialog.fields["observation_min"]
    box.lineEdit().setText("")
    before = len(store.audit_rows())
    dialog.save()
    assert "15-480 minutes" in dialog.errors["observation_min"].text()
    assert len(store.audit_rows()) == before and not dialog.result()


def test_every_field_has_an_alt_letter_of_its_own(qtbot, staffed):
    _, ctx = staffed
    dialog = ClinicSettingsDialog(ctx["admin"])
    qtbot.addWidget(dialog)
    labels = [label for label in dialog.findChildren(QLabel) if label.buddy() is not None]
    letters = [label.text()[label.text().index("&") + 1].lower() for label in labels]
    assert len(labels) == len(SETTINGS) + 1  # each setting and the reason
    assert len(set(letters)) == len(letters)
