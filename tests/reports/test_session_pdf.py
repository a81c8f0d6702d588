"""The session PDF, read back as text (pypdf): identifiers on every page, the total dose
as the domain computes it, every vitals row, alert marks, signatures, the DRAFT
watermark until signed; and a 4-hour 1 Hz session summarised and saying so."""

from __future__ import annotations

import io
import json
import re
from datetime import date, timedelta
from pathlib import Path

import pytest
from pypdf import PdfReader

from ketalog.domain import dosing
from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Bag, DoseKind, Phase, Severity
from ketalog.reports.session_pdf import session_pdf
from ketalog.reports.vitals_rows import select_rows
from ketalog.services import sessions as svc
from ketalog.services.exports import export_session_pdf, session_report
from ketalog.services.patients import PatientInput, create_patient
from ketalog.services.record import load_record
from tests.readiness import ACK_READINESS

LONG_NOTE = ("Patient reports burning pain ≥ 7 in the left foot; gabapentin 300 µg dose "
             "question clarified with pharmacy. " * 12).strip()


def pages_text(path_or_bytes: Path | bytes) -> list[str]:
    data = path_or_bytes if isinstance(path_or_bytes, bytes) else Path(path_or_bytes).read_bytes()
    return [p.extract_text() or "" for p in PdfReader(io.BytesIO(data)).pages]


@pytest.fixture
def session(staffed, clock):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput(
        "K0001", "Núñez-Øvergaard", "Zoë", date(1980, 5, 17), allergies="penicillin",
        indication="neuropathic pain"))
    s = svc.start_session(nurse, svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500, "LOT-7", date(2027, 6, 30)),
        chair="Chair 2", series_number=2, series_total=6))
    svc.add_score(nurse, s.id, "nrs", Phase.PRE, value=7)
    svc.record_vitals(nurse, s.id, {"sbp_mmhg": 128, "dbp_mmhg": 80, "hr_bpm": 72,
                                    "spo2_pct": 98})
    svc.record_dose(nurse, s.id, DoseKind.BOLUS, bolus_mg=20.0, acknowledge=True)
    svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=41.0, acknowledge=True)
    times = []
    for sbp in (131, 186, 142, 138):  # every 15 minutes
        clock.advance(minutes=15)
        reading = svc.record_vitals(nurse, s.id, {"sbp_mmhg": sbp, "dbp_mmhg": 84,
                                                  "hr_bpm": 80, "spo2_pct": 97})
        times.append(reading)
    svc.mark_artifact(nurse, times[-1].id, "cuff slipped")
    svc.add_adjunct(nurse, s.id, "ondansetron", 4, "mg", "IV", "nausea")
    svc.add_side_effect(nurse, s.id, "nausea", Severity.MILD, action="ondansetron 4 mg IV")
    svc.record_dose(nurse, s.id, DoseKind.RATE_CHANGE, rate_mg_per_h=61.5,
                    reason="pain persists, titrated per order", acknowledge=True)
    clock.advance(minutes=60)
    svc.record_dose(nurse, s.id, DoseKind.STOP)
    svc.add_score(nurse, s.id, "nrs", Phase.POST, value=3)
    svc.add_note(nurse, s.id, LONG_NOTE)
    clock.advance(minutes=30)
    svc.complete_session(nurse, s.id, escort="husband", acknowledged=ACK_READINESS)
    return store, ctx, s.id


def test_draft_then_signed_record_reads_right_on_every_page(session, tmp_path, clock):
    store, ctx, sid = session
    out = export_session_pdf(ctx["nurse"], sid, tmp_path / "draft.pdf")
    pages = pages_text(out)
    assert len(pages) >= 2
    for text in pages:  # a loose page always names its patient and record
        assert "NÚÑEZ-ØVERGAARD, Zoë" in text and "MRN K0001" in text
        assert "DOB 1980-05-17" in text and f"(#{sid})" in text
        assert re.search(r"page \d+ of \d+", text)
        assert "DRAFT" in text
    whole = " ".join(" ".join(pages).split())  # wrapped lines read as one
    record = load_record(ctx["nurse"], sid)
    total = dosing.running_total_mg(record.doses, record.session.infusion_end_at)
    assert f"Total ketamine {total:.1f} mg = {total / 82.0:.2f} mg/kg" in whole
    for v in record.vitals:  # every reading listed, at its local clock time
        assert v.at.astimezone().strftime("%H:%M") in whole
    assert "186 ▲" in whole  # alert value: bold and a symbol
    assert "ARTIFACT: cuff slipped" in whole
    assert "ondansetron" in whole and "pain persists, titrated per order" in whole
    assert "Pain NRS 7 → 3 (-57 %)" in whole
    assert "µg" in whole and "≥ 7" in whole  # Unicode through the bundled font
    assert "pharmacy." in whole  # the long note wrapped, not cut
    assert store.audit_rows()[-1]["action"] == "export"

    svc.sign_session(ctx["provider"], sid, "provider-pass-1")
    signed = pages_text(export_session_pdf(ctx["provider"], sid, tmp_path / "signed.pdf"))
    assert all("DRAFT" not in text for text in signed)
    text = " ".join(" ".join(signed).split())
    assert "reviewed and signed by provider" in text
    assert "Dr. Paul Provider, MD" in text and "completed by nurse" in text
    assert all("Status: SIGNED" in t for t in signed)


def test_letter_paper_and_export_audit_details(session, tmp_path):
    store, ctx, sid = session
    with store.write(ctx["admin"].actor) as w:
        w.set_setting("paper_size", "Letter")
    report = session_report(ctx["nurse"], sid)
    page = PdfReader(io.BytesIO(session_pdf(report))).pages[0]
    assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (612, 792)
    export_session_pdf(ctx["nurse"], sid, tmp_path / "x.pdf")
    details = json.loads(str(store.audit_rows()[-1]["new_values"]))
    assert details["kind"] == "session" and details["session_id"] == sid
    assert details["file"].endswith("x.pdf") and details["bytes"] > 1000


def test_export_to_a_missing_folder_is_a_clear_error_and_writes_nothing(session, tmp_path):
    from ketalog.services.errors import ServiceError

    store, ctx, sid = session
    before = store.count("audit_log")
    with pytest.raises(ServiceError, match="does not exist"):
        export_session_pdf(ctx["nurse"], sid, tmp_path / "nope" / "x.pdf")
    assert store.count("audit_log") == before


def test_a_4_hour_1hz_session_is_summarised_and_says_so(staffed, clock, tmp_path):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("D1", "Device", "Dora", date(1970, 1, 1)))
    s = svc.start_session(nurse, svc.SessionStart(patient.id, 80, Bag("ketamine", 1, 500)))
    start = clock.now()
    svc.record_dose(nurse, s.id, DoseKind.START, rate_mg_per_h=40.0, acknowledge=True)
    rows = []
    for i in range(14_400):
        sbp = 190 if i in (3_600, 9_000) else 120 + (i % 600) / 60
        rows.append({"session_id": s.id, "at": to_iso(start + timedelta(seconds=i)),
                     "sbp_mmhg": sbp, "dbp_mmhg": 78.0, "map_mmhg": 92.0, "hr_bpm": 74.0,
                     "spo2_pct": 97.0, "source": "device:MON1",
                     "alerts": json.dumps(["sbp_mmhg"] if sbp >= 180 else []),
                     "entered_at": to_iso(start), "entered_by": nurse.user.id})
    with store.write(nurse.actor) as w:
        w.insert_many("vitals", rows)
    clock.advance(hours=4, minutes=1)
    svc.record_vitals(nurse, s.id, {"sbp_mmhg": 124, "dbp_mmhg": 79},
                      at=start + timedelta(minutes=61, seconds=30))  # a manual check
    record = load_record(ctx["nurse"], s.id)
    chosen = select_rows(record.vitals)
    medians = [r for r in chosen.rows if r.source.startswith("5-min median of ")]
    assert len(medians) == 48  # 4 h in 5-minute buckets
    assert sum(r.source.endswith(" 299") for r in medians) == 2  # alert readings listed apart
    assert sum(1 for r in chosen.rows if r.alerts) == 2
    assert sum(1 for r in chosen.rows if r.source == "manual") == 1
    pages = pages_text(export_session_pdf(nurse, s.id, tmp_path / "device.pdf"))
    whole = " ".join(" ".join(pages).split())
    assert "Device data: 14,400 readings" in whole and "48 5-minute medians" in whole
    assert whole.count("190 ▲") == 2  # both alert values listed individually
    assert len(pages) <= 6  # usable: not 300 pages of rows


def test_clinic_address_and_logo_head_every_page(session):
    from dataclasses import replace

    from PIL import Image

    store, ctx, sid = session
    png = io.BytesIO()
    Image.new("RGB", (300, 100), (20, 90, 160)).save(png, "PNG")
    report = replace(session_report(ctx["nurse"], sid),
                     clinic_address="1 Lake Road\nSpringfield", clinic_logo=png.getvalue())
    pdf = PdfReader(io.BytesIO(session_pdf(report)))
    assert len(pdf.pages) >= 2
    for page in pdf.pages:
        assert "1 Lake Road · Springfield" in page.extract_text()
        assert len(page.images) == 1  # the logo, on every page


def test_bp_gaps_longer_than_the_interval_are_listed_on_paper(session, tmp_path, clock):
    """Protocol-less session: the clinic's default interval (15 min) + 2 min tolerance.
    BP at 0, 15, 30, 45 min, 60 (an artifact: no measurement), stop at 120 min: one
    75 min gap."""
    from ketalog.domain.monitoring_gaps import monitoring_gaps

    store, ctx, sid = session
    record = load_record(ctx["nurse"], sid)
    text = " ".join(" ".join(pages_text(export_session_pdf(ctx["nurse"], sid,
                                                           tmp_path / "g.pdf"))).split())
    gaps = monitoring_gaps(record.vitals, record.session.infusion_start_at,
                           record.session.infusion_end_at, 15)
    assert [g.minutes for g in gaps] == [75]  # the 60-min reading was marked artifact
    assert "Monitoring gaps (no BP for longer than the 15 min monitoring interval (clinic " \
           "setting) + 2 min" in text
    start = gaps[0].start.astimezone().strftime("%H:%M")
    assert f"BP {start}–" in text and "(75 min)" in text
