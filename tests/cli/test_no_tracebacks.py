"""Every `ketalog` command, run on a damaged file (random byte flips, invalid UTF-8 in
text columns) or with absurd input, ends with at most one line on stderr and an exit
code: never a Python traceback."""

from __future__ import annotations

import random
import shutil
import socket
import sqlite3
from pathlib import Path

import pytest

from ketalog.cli import main
from ketalog.domain.clock import FixedClock
from ketalog.store.connection import open_store
from tests.store.helpers import ADMIN_PW, build_signed_session
from tests.trust.test_attacks import START

LONG = "x" * 50_000


def commands(tmp: Path, session_id: int, busy_port: int) -> list[list[str]]:
    csv = tmp / "vitals.csv"
    csv.write_text("time,HR\n2026-11-24 14:05,70\n", encoding="utf-8")
    return [
        ["verify"], ["patients"], ["patients", "--search", "Doe"], ["patients", "--json"],
        ["sessions"], ["sessions", "--json"], ["sessions", "--patient", "MRN-001"],
        ["--user", "admin", "audit"], ["--user", "admin", "audit", "--csv", str(tmp / "a.csv")],
        ["--user", "admin", "export", "pdf", "--session", str(session_id),
         "--out", str(tmp / "s.pdf")],
        ["--user", "admin", "export", "course", "--patient", "MRN-001",
         "--out", str(tmp / "c.pdf")],
        ["--user", "admin", "export", "fhir", "--session", str(session_id),
         "--out", str(tmp / "s.json")],
        ["--user", "admin", "export", "csv", "--patient", "MRN-001", "--out", str(tmp / "csv")],
        ["--user", "nina", "import", "vitals", "--session", str(session_id), str(csv)],
        ["--user", "admin", "backup", "--out", str(tmp / "b.sqlite")],
        ["--user", "admin", "user", "add", "zed", "--role", "nurse"],
        ["--user", "admin", "user", "unlock", "nina", "--reason", "checked"],
        ["--user", "admin", "encrypt"],
        ["recover-admin", "admin", "--reason", "locked out, checked in person"],
        ["listen-hl7", "--port", str(busy_port), "--quiet"],
        ["send-hl7", "--port", str(busy_port), "--mrn", "MRN-001", "--count", "1"],
        ["--user", "admin", "restore", str(tmp / "missing.sqlite")],
        ["init", "--clinic", "C", "--admin", "boss"],
        ["demo"],
    ]


ABSURD = [
    ["patients", "--search", LONG], ["sessions", "--patient", LONG],
    ["--user", LONG, "audit"], ["--user", "admin", "audit", "--patient", LONG],
    ["--user", "admin", "audit", "--from", "2026-13-45"], ["--user", "admin", "audit",
                                                           "--limit", "-5"],
    ["--user", "admin", "export", "pdf", "--session", "99999999999999999999999",
     "--out", "/nonexistent/x.pdf"],
    ["--user", "admin", "export", "course", "--patient", "MRN-001", "--from", LONG,
     "--out", "x.pdf"],
    ["--user", "admin", "user", "add", LONG, "--role", "nurse"],
    ["--user", "admin", "user", "add", "ok", "--role", "wizard"],
]


@pytest.fixture(scope="module")
def clinic(tmp_path_factory) -> tuple[Path, int]:
    path = tmp_path_factory.mktemp("cli") / "clinic.sqlite"
    clock = FixedClock(START)
    store = open_store(path, clock)
    signed = build_signed_session(store, clock)
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return path, signed.session_id


@pytest.fixture
def busy_port():
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen(1)
    yield sock.getsockname()[1]
    sock.close()


def _run(argv: list[str], db: Path, capsys) -> None:
    try:
        code = main(["--db", str(db), *argv], FixedClock(START))
    except SystemExit as exc:  # argparse: its own usage line, exit 2
        code = exc.code
    out = capsys.readouterr()
    assert "Traceback" not in out.err + out.out, (argv, out.err)
    assert len(out.err.strip().splitlines()) <= 1 or code == 2, (argv, out.err)
    assert isinstance(code, int), (argv, code)


def _flip(source: Path, target: Path, seed: int) -> Path:
    data = bytearray(source.read_bytes())
    rng = random.Random(seed)
    for _ in range(rng.randint(1, 40)):
        data[rng.randrange(100, len(data))] ^= 1 << rng.randrange(8)
    target.write_bytes(bytes(data))
    return target


@pytest.mark.slow
@pytest.mark.parametrize("seed", range(6))
def test_every_command_on_a_file_with_random_byte_flips(clinic, tmp_path, capsys, seed,
                                                        monkeypatch, busy_port):
    path, session_id = clinic
    monkeypatch.setenv("KETALOG_PASSWORD", ADMIN_PW)
    monkeypatch.setenv("KETALOG_NEW_PASSWORD", "new-password-12")
    monkeypatch.setenv("KETALOG_PASSPHRASE", "a long enough passphrase")
    for argv in commands(tmp_path, session_id, busy_port):
        db = _flip(path, tmp_path / f"flipped-{seed}.sqlite", seed)
        _run(argv, db, capsys)


def test_every_command_on_invalid_utf8_in_text_columns(clinic, tmp_path, capsys,
                                                      monkeypatch, busy_port):
    path, session_id = clinic
    monkeypatch.setenv("KETALOG_PASSWORD", ADMIN_PW)
    monkeypatch.setenv("KETALOG_NEW_PASSWORD", "new-password-12")
    monkeypatch.setenv("KETALOG_PASSPHRASE", "a long enough passphrase")
    for argv in commands(tmp_path, session_id, busy_port):
        db = tmp_path / "utf8.sqlite"
        shutil.copy(path, db)
        conn = sqlite3.connect(db, isolation_level=None)
        for table, column in (("patients", "family_name"), ("notes", "text"),
                              ("audit_log", "username"), ("users", "display_name")):
            for trigger in [r[0] for r in conn.execute(
                    "SELECT name FROM sqlite_master WHERE type='trigger' AND tbl_name=?",
                    [table])]:
                conn.execute(f"DROP TRIGGER {trigger}")
            conn.execute(f"UPDATE {table} SET {column} = CAST(X'C328FFFE' AS TEXT)")
        conn.close()
        _run(argv, db, capsys)


def test_absurd_input_gets_a_one_line_answer(clinic, tmp_path, capsys, monkeypatch):
    path, _ = clinic
    monkeypatch.setenv("KETALOG_PASSWORD", ADMIN_PW)
    monkeypatch.setenv("KETALOG_NEW_PASSWORD", "new-password-12")
    monkeypatch.chdir(tmp_path)
    for argv in ABSURD:
        db = tmp_path / "absurd.sqlite"
        shutil.copy(path, db)
        _run(argv, db, capsys)
