"""`ketalog export fhir|csv` and `ketalog import vitals` as a script would use them."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ketalog.cli import main
from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from tests.conftest import PASSWORDS
from tests.interop.records import full_session, new_patient


@pytest.fixture
def clinic(staffed, clock, monkeypatch):
    store, ctx = staffed
    monkeypatch.setenv("KETALOG_PASSWORD", PASSWORDS["nurse"])
    monkeypatch.delenv("KETALOG_USER", raising=False)
    patient = new_patient(ctx)
    signed = full_session(ctx, patient, clock)
    live = svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500), series_number=2, series_total=6,
        arrival_at=clock.now() - timedelta(hours=28))).id
    return store, str(store.path), signed, live


def run(args, clock, capsys):
    code = main(args, clock)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_export_fhir_session_and_patient(clinic, clock, capsys, tmp_path):
    store, db, signed, live = clinic
    out = tmp_path / "s.json"
    code, text, err = run(["--db", db, "--user", "nurse", "export", "fhir", "--session",
                           str(signed), "--out", str(out)], clock, capsys)
    assert code == 0, err
    assert "FHIR R4 Bundle, 1 session(s)" in text and "Encounter" in text
    assert json.loads(out.read_text(encoding="utf-8"))["type"] == "collection"
    code, text, err = run(["--db", db, "--user", "nurse", "export", "fhir", "--patient",
                           "K0001", "--out", str(tmp_path / "p.json")], clock, capsys)
    assert code == 0 and "2 session(s)" in text
    code, _, err = run(["--db", db, "--user", "nurse", "export", "fhir", "--patient", "NOPE",
                        "--out", str(tmp_path / "x.json")], clock, capsys)
    assert code == 1 and "no patient with MRN NOPE" in err
    with pytest.raises(SystemExit):  # --session and --patient are exclusive
        main(["--db", db, "export", "fhir", "--session", "1", "--patient", "K0001", "--out",
              "x"], clock)


def test_export_csv_then_import_vitals_round_trip(clinic, clock, capsys, tmp_path):
    store, db, signed, live = clinic
    folder = tmp_path / "csv"
    code, text, err = run(["--db", db, "--user", "nurse", "export", "csv", "--patient", "K0001",
                           "--out", str(folder)], clock, capsys)
    assert code == 0, err
    assert "vitals.csv  4 rows" in text and (folder / "follow_ups.csv").exists()
    # The live session was opened (back-dated) before the signed one's readings.
    before = store.count("vitals")
    code, text, err = run(["--db", db, "--user", "nurse", "import", "vitals",
                           str(folder / "vitals.csv"), "--session", str(live)], clock, capsys)
    assert code == 0, err
    assert f"imported 4 readings into session {live}" in text
    assert store.count("vitals") == before + 4


def test_import_errors_are_line_numbered_and_nothing_is_written(clinic, clock, capsys,
                                                                tmp_path):
    store, db, signed, live = clinic
    at = (clock.now() - timedelta(minutes=30)).strftime("%d/%m/%Y %H:%M:%S")
    monitor = tmp_path / "monitor.csv"
    monitor.write_text(f"Timestamp;PR;SpO2\n{at};72;98\n{at};900;97\n{at};70;140\n",
                       encoding="utf-8")
    before = store.count("vitals")
    audit_before = store.count("audit_log")
    args = ["--db", db, "--user", "nurse", "import", "vitals", str(monitor), "--session",
            str(live), "--map", "time=Timestamp", "--map", "hr_bpm=PR", "--time-format",
            "%d/%m/%Y %H:%M:%S"]
    code, _, err = run(args, clock, capsys)
    assert code == 1
    assert "nothing imported, 2 error(s)" in err
    assert "line 3: HR 900 /min is outside" in err and "line 4: SpO2 140 % is outside" in err
    assert "Traceback" not in err
    assert store.count("vitals") == before
    assert [e["action"] for e in store.audit_rows()[audit_before:]] == ["login"]
    monitor.write_text(f"Timestamp;PR;SpO2\n{at};72;98\n", encoding="utf-8")
    code, text, err = run(args, clock, capsys)
    assert code == 0 and "imported 1 readings" in text
    code, _, err = run([*args[:6], str(monitor), "--session", str(signed), "--map",
                        "time=Timestamp", "--map", "hr_bpm=PR"], clock, capsys)
    assert code == 1 and "signed" in err
    code, _, err = run([*args[:9], "--map", "hr_bpm"], clock, capsys)
    assert code == 1 and "ourcol=theircol" in err


def test_provider_may_not_import(clinic, clock, capsys, tmp_path, monkeypatch):
    store, db, signed, live = clinic
    monkeypatch.setenv("KETALOG_PASSWORD", PASSWORDS["provider"])
    monitor = tmp_path / "m.csv"
    monitor.write_text(f"time,hr_bpm\n{clock.now().isoformat()},70\n", encoding="utf-8")
    code, _, err = run(["--db", db, "--user", "provider", "import", "vitals", str(monitor),
                        "--session", str(live)], clock, capsys)
    assert code == 1 and "may not import vitals" in err
