"""The course PDF prints the domain's numbers, names the patient on every page and is
audited; a date range narrows it."""

from __future__ import annotations

import io
import json
from datetime import date, timedelta

import pytest
from pypdf import PdfReader

from ketalog.domain.entities import Bag, DoseKind, Phase, Severity
from ketalog.services import sessions as svc
from ketalog.services.course import load_course
from ketalog.services.errors import ServiceError
from ketalog.services.exports import export_course_pdf
from ketalog.services.patients import PatientInput, create_patient
from tests.readiness import ACK_READINESS


def text_of(path) -> list[str]:  # noqa: ANN001
    return [" ".join((p.extract_text() or "").split())
            for p in PdfReader(io.BytesIO(path.read_bytes())).pages]


@pytest.fixture
def course(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("C1", "Ólafsdóttir", "Þóra", date(1966, 3, 3),
                                                 indication="CRPS"))
    for k, (pre, post) in enumerate(((7, 4), (6, 5), (8, 3)), start=1):
        s = svc.start_session(nurse, svc.SessionStart(patient.id, 70.0, Bag("ketamine", 1, 500),
                                                      series_number=k, series_total=3))
        svc.add_score(nurse, s.id, "nrs", Phase.PRE, value=pre)
        svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=24.5, acknowledge=True)
        clock.advance(hours=4)
        svc.record_dose(nurse, s.id, DoseKind.STOP)
        svc.add_score(nurse, s.id, "nrs", Phase.POST, value=post)
        if k == 2:
            svc.add_side_effect(nurse, s.id, "nausea", Severity.MILD)
        svc.complete_session(nurse, s.id, acknowledged=ACK_READINESS)
        clock.advance(days=1)
        svc.add_follow_up(nurse, s.id, nrs=pre - 3 if k != 2 else pre, source="phone")
        clock.advance(days=6)
    return store, ctx, patient


def test_course_pdf_prints_the_domain_numbers(course, tmp_path):
    store, ctx, patient = course
    out = export_course_pdf(ctx["provider"], patient.id, tmp_path / "course.pdf")
    pages = text_of(out)
    for page in pages:
        assert "ÓLAFSDÓTTIR, Þóra" in page and "MRN C1" in page and "DOB 1966-03-03" in page
    whole = " ".join(pages)
    outcome = load_course(ctx["nurse"], patient.id).outcome
    assert f"total ketamine {outcome.total_mg:.1f} mg" in whole
    assert outcome.responder_count == 2 and outcome.course_responder is True
    assert "2 of 3 evaluable infusions responded" in whole and "course RESPONDER" in whole
    assert "nausea (mild)" in whole and "By severity: mild: 1." in whole
    assert "DRAFT" not in whole  # a summary, not a record awaiting signature
    audit = store.audit_rows()[-1]
    details = json.loads(str(audit["new_values"]))
    assert audit["action"] == "export" and details["kind"] == "course"
    assert len(details["sessions"]) == 3


def test_date_range_narrows_and_bad_range_is_refused(course, tmp_path):
    store, ctx, patient = course
    first = load_course(ctx["nurse"], patient.id).outcome.sessions[0].session.infusion_start
    day = first.astimezone().date()
    out = export_course_pdf(ctx["nurse"], patient.id, tmp_path / "one.pdf", day, day)
    whole = " ".join(text_of(out))
    assert "1 infusion, total" in whole and f"Course {day} to {day}" in whole
    with pytest.raises(ServiceError, match="starts"):
        export_course_pdf(ctx["nurse"], patient.id, tmp_path / "x.pdf", day,
                          day - timedelta(days=1))
