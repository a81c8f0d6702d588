"""One ketamine total: the domain, `sessions --json`, the session PDF (header and
running-total column), CSV, FHIR, the course view and the course PDF show the same number
for any dose timeline: boluses before, during and after the infusion, pauses, restarts
after stop, rate changes and events struck as entered in error."""

from __future__ import annotations

import csv
import itertools
import json
import re
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ketalog.domain import dosing
from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions as svc
from ketalog.services.course import load_course
from ketalog.services.csv_export import export_patient_csv
from ketalog.services.entered_in_error import EntryKind, strike_entry
from ketalog.services.errors import InvalidState
from ketalog.services.exports import export_course_pdf, export_session_pdf
from ketalog.services.fhir_export import export_session_fhir
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from ketalog.services.summary import session_rows
from tests.readiness import ACK_READINESS
from tests.reports.test_session_pdf import pages_text

pytestmark = pytest.mark.both_engines

MRNS = itertools.count(1)


def new_session(ctx, weight_kg: float = 82.0):
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput(
        f"T{next(MRNS):05d}", "Total", "Tess", date(1975, 3, 4), indication="neuropathic pain"))
    session = svc.start_session(nurse, svc.SessionStart(
        patient.id, weight_kg, Bag("ketamine", 1.0, 1000, "LOT", date(2027, 6, 30)),
        chair="Chair 1"))
    return patient, session


def read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(newline="", encoding="utf-8") as f:
        return list(csv.DictReader(f))


@dataclass
class Shown:
    """Every place a total is shown, read back from what the user gets."""

    json_mg: float
    pdf_header_mg: str
    pdf_running: list[str] = field(default_factory=list)
    csv_session_mg: float = 0.0
    csv_running: list[str] = field(default_factory=list)
    fhir_mg: float = 0.0


def shown_everywhere(ctx, store, patient_id: int, sid: int, tmp: Path, now: datetime) -> Shown:
    nurse = ctx["nurse"]
    [row] = [r for r in session_rows(store, now=now) if r["id"] == sid]
    text = " ".join(" ".join(pages_text(export_session_pdf(nurse, sid, tmp / "s.pdf"))).split())
    header = re.search(r"Total ketamine (\d+\.\d) mg", text)
    assert header is not None, text[:400]
    out = export_patient_csv(nurse, patient_id, tmp / "csv")
    [csv_session] = read_csv(out.path("sessions"))
    doses = read_csv(out.path("doses"))
    bundle = json.loads(export_session_fhir(nurse, sid, tmp / "b.json").path.read_text())
    [parent] = [e["resource"] for e in bundle["entry"]
                if e["resource"]["resourceType"] == "MedicationAdministration"
                and e["resource"]["dosage"].get("text", "").startswith("total ketamine")] or [None]
    return Shown(json_mg=float(row["total_mg"]), pdf_header_mg=header.group(1),  # type: ignore[arg-type]
                 pdf_running=re.findall(r"(\d+\.\d) mg(?![/\w])", text),
                 csv_session_mg=float(csv_session["total_ketamine_mg"]),
                 csv_running=[d["cumulative_mg"] for d in doses
                              if d["entered_in_error"] == "false"],
                 fhir_mg=float(parent["dosage"]["dose"]["value"]) if parent else 0.0)


def assert_same_total(ctx, store, patient_id, sid, tmp, now, expected_mg: float) -> None:
    record = load_record(ctx["nurse"], sid)
    domain = dosing.session_total_mg(record.doses, now)
    assert domain == pytest.approx(expected_mg, abs=1e-6)
    shown = shown_everywhere(ctx, store, patient_id, sid, tmp, now)
    assert shown.json_mg == pytest.approx(round(domain, 2), abs=1e-9)
    assert shown.pdf_header_mg == f"{domain:.1f}"
    assert shown.csv_session_mg == pytest.approx(round(domain, 3), abs=1e-9)
    assert shown.fhir_mg == pytest.approx(round(domain, 3), abs=1e-9)
    live = dosing.live_events(record.doses)
    expected_running = [dosing.running_total_mg(record.doses, e.at) for e in live]
    assert [float(v) for v in shown.csv_running] == pytest.approx(
        [round(v, 3) for v in expected_running], abs=1e-9)
    # the PDF's running-total column: every counted event's running total, in order
    for value in expected_running:
        assert f"{value:.1f}" in shown.pdf_running


# -- the case as reported ---------------------------------------------------------
def test_bolus_after_stop_counts_everywhere(staffed, clock, tmp_path):
    """82 kg, 41 mg/h for 60 min, stop, 20 mg bolus at 70 min: 61.0 mg in every place."""
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient, session = new_session(ctx)
    svc.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=41.0, acknowledge=True)
    clock.advance(minutes=60)
    svc.record_dose(nurse, session.id, DoseKind.STOP)
    clock.advance(minutes=10)
    svc.record_dose(nurse, session.id, DoseKind.BOLUS, bolus_mg=20.0, acknowledge=True)
    clock.advance(minutes=60)
    svc.complete_session(nurse, session.id, escort="sister", acknowledged=ACK_READINESS)
    now = clock.now()
    assert_same_total(ctx, store, patient.id, session.id, tmp_path, now, 61.0)
    shown = shown_everywhere(ctx, store, patient.id, session.id, tmp_path, now)
    assert shown.pdf_header_mg == "61.0" and shown.json_mg == 61.0
    assert shown.csv_session_mg == 61.0 and shown.fhir_mg == 61.0
    assert shown.csv_running == ["0", "41", "61"]
    # the course view and the course PDF
    course = load_course(ctx["nurse"], patient.id, now=now)
    assert course.outcome.total_mg == pytest.approx(61.0)
    assert [s.session.total_mg for s in course.outcome.sessions] == [pytest.approx(61.0)]
    text = " ".join(" ".join(pages_text(export_course_pdf(nurse, patient.id,
                                                          tmp_path / "c.pdf"))).split())
    assert "total ketamine 61.0 mg" in text


# -- any timeline ------------------------------------------------------------------
@dataclass
class Model:
    """An independent ledger of what the pump and the syringe gave (not the domain's)."""

    state: str = "not_started"
    rate: float = 0.0
    since: datetime | None = None
    mg: float = 0.0
    boluses: float = 0.0

    def run_until(self, when: datetime) -> float:
        if self.state == "running" and self.since is not None:
            return self.mg + self.rate * (when - self.since).total_seconds() / 3600
        return self.mg


ACTIONS = {
    "not_started": ["bolus", "start"],
    "running": ["bolus", "rate_change", "pause", "stop"],
    "paused": ["bolus", "resume", "resume_rate", "stop"],
    "stopped": ["bolus", "restart"],
}


@settings(max_examples=20, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture,
                                 HealthCheck.too_slow])
@given(data=st.data())
def test_any_timeline_shows_one_total(staffed, clock, tmp_path_factory, data):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient, session = new_session(ctx)
    sid = session.id
    model = Model()
    recorded: list[tuple[int, str, float, datetime]] = []  # (id, kind, amount, at)
    steps = data.draw(st.integers(1, 9), label="steps")
    for _ in range(steps):
        clock.advance(minutes=data.draw(st.integers(1, 45), label="gap min"))
        now = clock.now()
        if recorded and data.draw(st.booleans(), label="strike one?") and data.draw(
                st.booleans(), label="really"):
            target = data.draw(st.sampled_from(recorded), label="struck")
            try:
                strike_entry(nurse, EntryKind.DOSE, target[0], "wrong patient's pump")
            except InvalidState:
                pass  # the sequence would be impossible without it: refused, kept
            else:
                recorded.remove(target)
                model = replay(recorded, now)
            continue
        action = data.draw(st.sampled_from(ACTIONS[model.state]), label="action")
        rate = float(data.draw(st.integers(10, 120), label="rate mg/h"))
        if action == "bolus":
            mg = float(data.draw(st.integers(1, 40), label="bolus mg"))
            e = svc.record_dose(nurse, sid, DoseKind.BOLUS, bolus_mg=mg, acknowledge=True)
            recorded.append((e.id, "bolus", mg, now))
        elif action in ("start", "restart"):
            e = svc.record_dose(nurse, sid, DoseKind.START, rate_mg_per_h=rate, acknowledge=True)
            recorded.append((e.id, "start", rate, now))
        elif action == "rate_change":
            e = svc.record_dose(nurse, sid, DoseKind.RATE_CHANGE, rate_mg_per_h=rate,
                                acknowledge=True)
            recorded.append((e.id, "rate_change", rate, now))
        elif action == "pause":
            e = svc.record_dose(nurse, sid, DoseKind.PAUSE)
            recorded.append((e.id, "pause", 0.0, now))
        elif action == "resume":
            e = svc.record_dose(nurse, sid, DoseKind.RESUME)
            recorded.append((e.id, "resume", 0.0, now))
        elif action == "resume_rate":
            e = svc.record_dose(nurse, sid, DoseKind.RESUME, rate_mg_per_h=rate, acknowledge=True)
            recorded.append((e.id, "resume", rate, now))
        else:
            e = svc.record_dose(nurse, sid, DoseKind.STOP)
            recorded.append((e.id, "stop", 0.0, now))
        model = replay(recorded, now)
    clock.advance(minutes=data.draw(st.integers(0, 30), label="export after min"))
    now = clock.now()
    expected = model.run_until(now) + model.boluses
    assert_same_total(ctx, store, patient.id, sid, tmp_path_factory.mktemp("t"), now, expected)


def replay(recorded: list[tuple[int, str, float, datetime]], now: datetime) -> Model:
    """The independent ledger over the events still counted."""
    m = Model()
    for _id, kind, amount, at in sorted(recorded, key=lambda r: r[3]):
        if kind == "bolus":
            m.boluses += amount
            continue
        m.mg = m.run_until(at)
        if kind in ("start", "rate_change"):
            m.state, m.rate, m.since = "running", amount, at
        elif kind == "pause":
            m.state, m.since = "paused", None
        elif kind == "resume":
            m.state, m.since = "running", at
            m.rate = amount or m.rate
        elif kind == "stop":
            m.state, m.since = "stopped", None
    return m
