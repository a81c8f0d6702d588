"""The `ketalog` command as a script would use it: exit codes, one-line errors, JSON."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from ketalog.cli import main

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def env(monkeypatch):
    monkeypatch.setenv("KETALOG_PASSWORD", "admin-pass-1")
    monkeypatch.delenv("KETALOG_USER", raising=False)
    monkeypatch.delenv("KETALOG_DB", raising=False)


@pytest.fixture
def db(tmp_path, env, clock):
    path = tmp_path / "clinic.sqlite"
    assert main(["--db", str(path), "init", "--clinic", "Ketamine Care", "--admin", "boss"],
                clock) == 0
    return path


def run(args, clock, capsys):  # noqa: ANN001, ANN201
    code = main(args, clock)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_init_then_user_add_patients_sessions(db, clock, capsys, monkeypatch):
    monkeypatch.setenv("KETALOG_NEW_PASSWORD", "nurse-pass-1")
    code, out, _ = run(["--db", str(db), "--user", "boss", "user", "add", "nina",
                        "--role", "nurse", "--name", "Nina Nurse"], clock, capsys)
    assert code == 0 and "added nina (nurse)" in out
    code, out, _ = run(["--db", str(db), "--user", "boss", "patients", "--json"], clock, capsys)
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(["--db", str(db), "--user", "boss", "sessions", "--json"], clock, capsys)
    assert code == 0 and json.loads(out) == []
    code, out, _ = run(["--db", str(db), "verify"], clock, capsys)
    assert code == 0 and "sound" in out


def test_user_errors_are_one_line_without_traceback(db, clock, capsys, monkeypatch):
    code, _, err = run(["--db", str(db), "patients"], clock, capsys)
    assert code == 1 and err.count("\n") == 1 and "--user" in err
    monkeypatch.setenv("KETALOG_PASSWORD", "wrong")
    code, _, err = run(["--db", str(db), "--user", "boss", "patients"], clock, capsys)
    assert code == 1 and "wrong username or password" in err and "Traceback" not in err
    code, _, err = run(["--db", str(db.parent / "missing.sqlite"), "verify"], clock, capsys)
    assert code == 1 and "no database" in err
    code, _, err = run(["--db", str(db), "init", "--clinic", "x", "--admin", "y"], clock, capsys)
    assert code == 1 and "already has users" in err


def test_not_a_database_is_refused_cleanly(tmp_path, env, clock, capsys):
    junk = tmp_path / "notes.txt"
    junk.write_text("hello, this is not a database\n" * 10)
    code, _, err = run(["--db", str(junk), "verify"], clock, capsys)
    assert code == 1 and "not a ketalog database" in err


def test_verify_exit_1_describes_each_problem(db, clock, capsys):
    conn = sqlite3.connect(db)
    conn.execute("DROP TRIGGER audit_log_append_only_update")
    conn.execute("UPDATE audit_log SET username = 'mallory' WHERE id = 1")
    conn.commit()
    conn.close()
    code, out, _ = run(["--db", str(db), "verify"], clock, capsys)
    assert code == 1
    assert "protection triggers missing" in out and "entry 1" in out


def test_backup_and_restore_round_trip(db, clock, capsys, tmp_path):
    out_file = tmp_path / "b" / "copy.sqlite"
    code, out, _ = run(["--db", str(db), "--user", "boss", "backup", "--out", str(out_file)],
                       clock, capsys)
    assert code == 0 and "verified" in out and out_file.exists()
    conn = sqlite3.connect(db)
    conn.execute("INSERT INTO clinic_settings (key, value) VALUES ('after_backup', '1')")
    conn.commit()
    conn.close()
    code, out, _ = run(["--db", str(db), "--user", "boss", "restore", str(out_file)],
                       clock, capsys)
    assert code == 0 and "replaced file is kept" in out
    conn = sqlite3.connect(db)
    assert conn.execute("SELECT count(*) FROM clinic_settings WHERE key='after_backup'"
                        ).fetchone()[0] == 0
    actions = [r[0] for r in conn.execute("SELECT action FROM audit_log ORDER BY id")]
    conn.close()
    assert actions[-1] == "restore" and "backup" in actions
    assert list(db.parent.glob("clinic.sqlite.replaced-*"))
    code, out, _ = run(["--db", str(db), "verify"], clock, capsys)
    assert code == 0


def test_console_script_entry_point_runs(tmp_path):
    out = subprocess.run([sys.executable, "-m", "ketalog", "--version"], cwd=ROOT,
                         capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.startswith("ketalog ")


def test_export_pdf_of_a_demo_session_headless(tmp_path):
    """In its own process: the export must not load Qt, and it writes an audited PDF."""
    db, out = tmp_path / "demo.sqlite", tmp_path / "session.pdf"
    code = (
        "import json, os, sys, io, contextlib\n"
        "from ketalog.cli import main\n"
        f"assert main(['--db', {str(db)!r}, 'demo']) == 0\n"
        "os.environ['KETALOG_PASSWORD'] = 'demo-provider-1'\n"
        "buf = io.StringIO()\n"
        "with contextlib.redirect_stdout(buf):\n"
        f"    main(['--db', {str(db)!r}, '--user', 'provider', 'sessions', '--json'])\n"
        "sid = [r for r in json.loads(buf.getvalue()) if r['status'] == 'signed'][0]['id']\n"
        f"rc = main(['--db', {str(db)!r}, '--user', 'provider', 'export', 'pdf', "
        f"'--session', str(sid), '--out', {str(out)!r}])\n"
        "bad = [m for m in sys.modules if m.split('.')[0] in ('PySide6','shiboken6','pyqtgraph')]\n"
        "sys.exit(1 if bad or rc else 0)\n")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True,
                            text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
    assert out.read_bytes().startswith(b"%PDF") and "wrote" in result.stdout
    with sqlite3.connect(db) as conn:
        action, user = conn.execute("SELECT action, username FROM audit_log "
                                    "ORDER BY id DESC LIMIT 1").fetchone()
    assert (action, user) == ("export", "provider")


def test_export_pdf_errors_are_one_line(db, clock, capsys, tmp_path):
    code, _, err = run(["--db", str(db), "--user", "boss", "export", "pdf", "--session", "99",
                        "--out", str(tmp_path / "x.pdf")], clock, capsys)
    assert code == 1 and err.count("\n") == 1 and "no session with id 99" in err


def test_export_course_cli_checks_dates(db, clock, capsys, tmp_path):
    code, _, err = run(["--db", str(db), "--user", "boss", "export", "course", "--patient",
                        "NOPE", "--out", str(tmp_path / "c.pdf")], clock, capsys)
    assert code == 1 and "no patient with MRN NOPE" in err
    code, _, err = run(["--db", str(db), "--user", "boss", "export", "course", "--patient",
                        "X", "--from", "2026-13-01", "--out", str(tmp_path / "c.pdf")],
                       clock, capsys)
    assert code == 1 and "--from must be a date" in err


def test_backup_without_out_is_the_apps_rotated_backup(db, clock, capsys):
    from ketalog.services.backups import list_backups

    code, out, _ = run(["--db", str(db), "--user", "boss", "backup"], clock, capsys)
    assert code == 0 and "verified" in out
    backups = list_backups(db.parent / "backups", db)
    assert len(backups) == 1 and backups[0].taken_at == clock.now()
