"""Rates typed in mg/kg/h, mg/h or pump mL/h, stored and shown by one rounding rule; a
stopped infusion's panel shows the rates it ran at, not the protocol's."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import Qt

from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.ui.dosing_panel import DosingPanel


@pytest.fixture
def panel(qtbot, staffed):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("R1", "Tan", "Mei", date(1985, 5, 5)))
    session = svc.start_session(nurse, svc.SessionStart(patient.id, 55.3,
                                                        Bag("ketamine", 2.0, 250)))
    return store, nurse, session, _panel(qtbot, store, nurse, session.id)


def _panel(qtbot, store, nurse, session_id):
    p = DosingPanel(nurse, session_id)
    qtbot.addWidget(p)
    p.confirm_warnings = lambda warnings: True
    p.confirm_stop = lambda text: True
    p.recorded.connect(lambda: p.show_record(load_record(nurse, session_id)))
    p.show_record(load_record(nurse, session_id))
    p.show()
    return p


def _type_rate(qtbot, p, text: str) -> None:
    p.rate.selectAll()
    qtbot.keyClicks(p.rate, text)


def test_one_rounding_rule_and_three_units(qtbot, panel, clock):
    store, nurse, session, p = panel
    p.rate_unit.setCurrentText("mg/kg/h")
    _type_rate(qtbot, p, "0.35")
    assert "19.4 mg/h = 0.35 mg/kg/h = pump 9.7 mL/h" in p.rate_conversion.text()
    qtbot.mouseClick(p.buttons[DoseKind.START], Qt.MouseButton.LeftButton)
    (start,) = load_record(nurse, session.id).doses
    assert start.rate_mg_per_h == 19.4  # the mg/h shown is the mg/h stored
    assert "Running at 19.4 mg/h = 0.35 mg/kg/h = pump 9.7 mL/h" in p.state_label.text()
    # the pump's mL/h typed directly
    p.rate_unit.setCurrentText("mL/h")
    assert p.rate.value() == pytest.approx(9.7)  # the box converts what it held
    _type_rate(qtbot, p, "15")
    assert "30.0 mg/h = 0.54 mg/kg/h = pump 15.0 mL/h" in p.rate_conversion.text()
    clock.advance(minutes=30)
    qtbot.mouseClick(p.buttons[DoseKind.RATE_CHANGE], Qt.MouseButton.LeftButton)
    assert load_record(nurse, session.id).doses[-1].rate_mg_per_h == 30.0
    p.rate_unit.setCurrentText("mg/h")
    _type_rate(qtbot, p, "25")
    clock.advance(minutes=30)
    qtbot.mouseClick(p.buttons[DoseKind.RATE_CHANGE], Qt.MouseButton.LeftButton)
    assert load_record(nurse, session.id).doses[-1].rate_mg_per_h == 25.0


def test_stopped_panel_shows_the_rates_it_ran_at(qtbot, panel, clock):
    store, nurse, session, p = panel
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=41.0, acknowledge=True)
    clock.advance(minutes=60)
    svc.record_dose(nurse, session.id, DoseKind.RATE_CHANGE, rate_mg_per_h=61.5,
                    acknowledge=True)
    clock.advance(minutes=60)
    svc.record_dose(nurse, session.id, DoseKind.STOP)
    reopened = _panel(qtbot, store, nurse, session.id)
    assert (reopened.rate.value(), reopened.rate_unit.currentText()) == (61.5, "mg/h")
    assert "61.5 mg/h" in reopened.rate_conversion.text()
    text = reopened.state_label.text()
    assert "Ran at: 41.0 mg/h" in text and "61.5 mg/h" in text
