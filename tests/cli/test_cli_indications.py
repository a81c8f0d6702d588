"""`ketalog indications`: the coded list, the unmapped free text, adding one (admin)."""

from __future__ import annotations

from datetime import date

from ketalog.cli import main
from ketalog.services.auth import login
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.connection import open_store
from tests.cli.test_cli_access import db  # noqa: F401  (the fixture)


def test_list_unmapped_and_add(db, clock, capsys):  # noqa: F811
    store = open_store(db, clock)
    admin = login(store, clock, "boss", "admin-pass-1")
    create_patient(admin, PatientInput("U1", "Un", "Mapped", date(1970, 1, 1),
                                       indication="Long COVID fatigue"))
    create_patient(admin, PatientInput("U2", "Is", "Mapped", date(1970, 1, 1),
                                       indication="trd"))
    store.close()
    capsys.readouterr()
    assert main(["--db", str(db), "--user", "boss", "indications"], clock) == 0
    out = capsys.readouterr().out
    assert "treatment-resistant depression" in out and " mood " in out
    assert main(["--db", str(db), "--user", "boss", "indications", "--unmapped"], clock) == 0
    out = capsys.readouterr().out
    assert "Long COVID fatigue" in out and "trd" not in out
    assert main(["--db", str(db), "--user", "boss", "indications", "--add",
                 "long COVID fatigue", "--category", "other", "--unmapped"], clock) == 0
    out = capsys.readouterr().out
    assert "added long COVID fatigue (other)" in out and "0 free-text" in out
