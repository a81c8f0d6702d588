"""`ketalog audit`: filters, one-line errors, CSV export (audited), admins only."""

from __future__ import annotations

import csv

import pytest

from ketalog.cli import main


@pytest.fixture
def db(tmp_path, monkeypatch, clock):
    monkeypatch.setenv("KETALOG_PASSWORD", "admin-pass-1")
    monkeypatch.delenv("KETALOG_USER", raising=False)
    path = tmp_path / "clinic.sqlite"
    assert main(["--db", str(path), "init", "--clinic", "Ketamine Care", "--admin", "boss"],
                clock) == 0
    monkeypatch.setenv("KETALOG_NEW_PASSWORD", "nurse-pass-1")
    assert main(["--db", str(path), "--user", "boss", "user", "add", "nina", "--role",
                 "nurse"], clock) == 0
    return path


def test_audit_lists_filters_and_exports(db, clock, capsys, tmp_path, monkeypatch):
    capsys.readouterr()
    assert main(["--db", str(db), "--user", "boss", "audit", "--user-filter", "boss",
                 "--action", "login", "--limit", "1"], clock) == 0
    out = capsys.readouterr().out
    assert " boss  login " in out and "1 of 2 matching entries" in out and "--limit 1" in out
    day = clock.now().astimezone().date().isoformat()
    out_file = tmp_path / "audit.csv"
    assert main(["--db", str(db), "--user", "boss", "audit", "--from", day, "--to", day,
                 "--csv", str(out_file)], clock) == 0
    written = int(capsys.readouterr().out.split()[1])
    with out_file.open(encoding="utf-8", newline="") as handle:
        assert len(list(csv.DictReader(handle))) == written > 5
    assert main(["--db", str(db), "--user", "boss", "audit", "--action", "export_audit"],
                clock) == 0
    assert "1 of 1 matching" in capsys.readouterr().out

    for args, message in ((["--patient", "K404"], "no patient with MRN K404"),
                          (["--from", "24/11/2026"], "--from must be a date YYYY-MM-DD")):
        assert main(["--db", str(db), "--user", "boss", "audit", *args], clock) == 1
        err = capsys.readouterr().err
        assert err.count("\n") == 1 and message in err
    monkeypatch.setenv("KETALOG_PASSWORD", "nurse-pass-1")
    assert main(["--db", str(db), "--user", "nina", "audit"], clock) == 1
    assert "needs role admin" in capsys.readouterr().err
