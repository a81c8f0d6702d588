"""Two workstations on the real test server, each with its own app controller and store:
what one records shows on the other's open windows (ui/live_updates.py) without polling."""

from __future__ import annotations

import time
from datetime import date

import pytest

from ketalog.domain.entities import Bag, Role
from ketalog.services import sessions as svc
from ketalog.services.auth import add_user, bootstrap_admin, login
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.protocols import list_protocols, seed_protocols
from ketalog.store.pg_connection import open_server_store
from ketalog.store.store import SYSTEM
from ketalog.ui.app import GuiController
from tests.pg_clinic import WORKSTATION_LOGIN
from tests.readiness import ACK_READINESS

pytest.importorskip("psycopg", reason="psycopg is not installed")


@pytest.fixture
def workstations(pg_clinic, clock, tmp_path, monkeypatch):
    """Two workstations' stores and controllers, a nurse logged in on each."""
    from ketalog.ui import app as app_module

    # the integrity watch reads a local file's pages; nothing of it is under test here
    monkeypatch.setattr(app_module.GuiController, "_show_integrity", lambda self: None)
    stores = [open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock) for _ in "ab"]
    bootstrap_admin(stores[0], clock, "admin", "admin-pass-1", "Ada Admin", "Test Clinic")
    admin = login(stores[0], clock, "admin", "admin-pass-1")
    add_user(admin, "nurse1", [Role.NURSE], "nurse-pass-1", "Nina One", "RN")
    add_user(admin, "nurse2", [Role.NURSE, Role.PROVIDER], "nurse-pass-2", "Nora Two", "RN")
    seed_protocols(stores[0], SYSTEM)
    ctxs = [login(stores[0], clock, "nurse1", "nurse-pass-1"),
            login(stores[1], clock, "nurse2", "nurse-pass-2")]
    controllers = []
    for n, ctx in enumerate(ctxs):
        controller = GuiController(ctx.store, clock, tmp_path / f"ws{n}.db")
        controller.backup_timer.stop()
        controller._integrity_started = True
        controller.open_main(ctx)
        controllers.append(controller)
    yield ctxs, controllers
    for controller in controllers:
        controller._close_all()
        controller.tasks.shutdown()
    for store in stores:
        store.close()


def _session(ctx) -> int:  # noqa: ANN001
    patient = create_patient(ctx, PatientInput("K7001", "Lindqvist", "Åsa", date(1971, 4, 2)))
    protocol = next(p for p in list_protocols(ctx) if p.indication == "neuropathic pain")
    return svc.start_session(ctx, svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500, "L1", date(2027, 1, 1)),
        protocol_id=protocol.id, chair="Chair 1")).id


def test_a_reading_on_one_workstation_shows_in_the_others_session_window(qtbot, workstations):
    (nurse1, _nurse2), (_a, b) = workstations
    session_id = _session(nurse1)
    assert b.live.subscription is not None and b.live.subscription.live
    qtbot.waitUntil(lambda: any(line.session_id == session_id
                                for line in b.main.board.rows()), timeout=1000)
    b.open_session(session_id)
    window = b.sessions[session_id]
    qtbot.addWidget(window)
    window.confirm_close = lambda: True
    window.device_timer.stop()  # the feed's poll must not be what brings the reading
    assert window.vitals_model.rowCount() == 0
    latencies = []
    for n in range(10):
        started = time.perf_counter()
        svc.record_vitals(nurse1, session_id, {"hr_bpm": 70 + n, "sbp_mmhg": 128,
                                               "dbp_mmhg": 80, "spo2_pct": 98})
        qtbot.waitUntil(lambda n=n: window.vitals_model.rowCount() == n + 1, timeout=1000)
        latencies.append(time.perf_counter() - started)
    latencies.sort()
    print(f"reading shown on the other workstation: median {latencies[5] * 1000:.0f} ms, "
          f"max {latencies[-1] * 1000:.0f} ms")
    assert len(window.columns.ids) == 10 and latencies[-1] < 1.0

def test_a_new_patient_a_dose_and_a_signature_reach_the_other_screens(qtbot, workstations):
    (nurse1, nurse2), (a, b) = workstations
    create_patient(nurse1, PatientInput("K1", "Andersen", "Bo", date(1980, 1, 1)))
    qtbot.waitUntil(lambda: any(p.mrn == "K1" for p in b.main.patients.rows()), timeout=1000)
    session_id = _session(nurse1)
    b.open_session(session_id)
    window = b.sessions[session_id]
    qtbot.addWidget(window)
    window.confirm_close = lambda: True
    window.device_timer.stop()
    svc.record_dose(nurse1, session_id, "start", rate_mg_per_h=40.0, acknowledge=True)
    qtbot.waitUntil(lambda: window.dosing.events.count() == 1, timeout=1000)
    svc.record_dose(nurse1, session_id, "stop", acknowledge=True)
    svc.complete_session(nurse1, session_id, acknowledged=ACK_READINESS)
    qtbot.waitUntil(lambda: window.complete_button.isEnabled() is False
                    and window.sign_button.isEnabled(), timeout=1000)
    qtbot.waitUntil(lambda: any(line.session_id == session_id
                                for line in b.main.awaiting.rows()), timeout=1000)
    # the other way round: nurse2 signs on workstation b, a's board follows
    assert window.sign("nurse-pass-2")
    qtbot.waitUntil(lambda: not any(line.session_id == session_id
                                    for line in a.main.awaiting.rows()), timeout=1000)


def test_a_local_file_subscribes_to_nothing(qtbot, staffed, tmp_path, clock):
    store, ctx = staffed
    controller = GuiController(store, clock, tmp_path / "db.sqlite")
    controller.backup_timer.stop()
    controller._integrity_started = True
    controller.open_main(ctx["nurse"])
    qtbot.addWidget(controller.main)
    assert controller.live.notifier is None
    assert controller.live.subscription is not None
    assert not controller.live.subscription.live
    controller._close_all()


def test_a_stale_patient_form_says_who_changed_it_and_shows_the_record_now(qtbot,
                                                                           workstations):
    from ketalog.services.patients import get_patient, update_patient
    from ketalog.ui.patient_dialog import PatientDialog

    (nurse1, nurse2), _controllers = workstations
    made = create_patient(nurse1, PatientInput("K5", "Berg", "Ida", date(1975, 5, 5)))
    form = PatientDialog(nurse2, get_patient(nurse2, made.id))  # open on workstation b
    qtbot.addWidget(form)
    loaded = get_patient(nurse1, made.id)
    update_patient(nurse1, made.id, PatientInput("K5", "Berg", "Ida", date(1975, 5, 5),
                                                 allergies="penicillin"), loaded=loaded)
    form.allergies.setText("latex")
    form.save()
    assert form.result() == 0  # not accepted
    assert form.general_error.text().startswith("Nina One (nurse1) changed this patient at")
    assert form.allergies.text() == "penicillin"  # the record as it is now
    assert get_patient(nurse2, made.id).allergies == "penicillin"
    form.allergies.setText("penicillin, latex")  # again, on the current record: saved
    form.save()
    assert get_patient(nurse1, made.id).allergies == "penicillin, latex"
