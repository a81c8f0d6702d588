"""Encryption at rest: an encrypted file is unreadable without its passphrase (plain
sqlite3 sees no database), everything the store does works on it (writes, migrations,
protection triggers, audit chain, verify), backups stay encrypted and restore, a wrong
passphrase is said plainly, and a plain database converts in place."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from ketalog.cli import main
from ketalog.domain.clock import FixedClock
from ketalog.services import sessions
from ketalog.services.backups import restore_database
from ketalog.store.backup import backup_to, check_copy, restore_from
from ketalog.store.connection import open_store
from ketalog.store.encryption import encrypt_in_place
from ketalog.store.engine import FileKind, classify
from ketalog.store.errors import (
    DamagedDatabase,
    PassphraseRequired,
    RecordLocked,
    StoreError,
    WrongPassphrase,
)
from ketalog.store.schema import LOCKED_MESSAGE, migrations
from ketalog.store.store import SYSTEM
from ketalog.store.verify import verify_store

from .helpers import build_signed_session, make_staff, start_patient_session

pytestmark = [pytest.mark.both_engines, pytest.mark.sqlite_only(
    "SQLCipher encryption of the local file (a clinic server's disk encryption is the server's)")]

KEY = "correct horse battery staple"
SECRET_MRN = "MRN-SECRET-4711"


def plain_sqlite_cannot_read(path: Path) -> None:
    conn = sqlite3.connect(str(path))
    try:
        with pytest.raises(sqlite3.DatabaseError, match="not a database"):
            conn.execute("SELECT count(*) FROM sqlite_master").fetchall()
    finally:
        conn.close()


@pytest.fixture
def encrypted(tmp_path, clock):
    store = open_store(tmp_path / "enc.sqlite", clock, passphrase=KEY)
    yield store
    store.close()


def test_encrypted_file_is_unreadable_without_the_passphrase(encrypted, clock):
    signed = build_signed_session(encrypted, clock)
    path = encrypted.path
    assert encrypted.encrypted
    encrypted.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    raw = path.read_bytes()
    assert raw[:16] != b"SQLite format 3\x00" and classify(path) is FileKind.ENCRYPTED
    assert b"Jane" not in raw and b"penicillin" not in raw and b"MRN-001" not in raw
    plain_sqlite_cannot_read(path)
    encrypted.close()

    with pytest.raises(PassphraseRequired):
        open_store(path, clock)
    with pytest.raises(WrongPassphrase, match="passphrase .* is wrong"):
        open_store(path, clock, passphrase="not the passphrase")
    store = open_store(path, clock, passphrase=KEY)
    try:
        assert store.get("sessions", signed.session_id)["status"] == "signed"
        assert store.get_by("patients", mrn="MRN-001")["allergies"] == "penicillin"
        assert verify_store(store) == []
        assert store.cipher_problems() == []
    finally:
        store.close()


def test_triggers_audit_and_errors_work_on_an_encrypted_file(encrypted, clock):
    signed = build_signed_session(encrypted, clock)
    conn = encrypted.conn
    # protection triggers abort, and the error is sqlite3's (sqlite-utils and the store
    # catch sqlite3 classes), translated by the store into RecordLocked
    with pytest.raises(sqlite3.IntegrityError, match=LOCKED_MESSAGE):
        conn.execute("UPDATE vitals SET hr_bpm = 1 WHERE session_id = ?", [signed.session_id])
    with pytest.raises(RecordLocked), encrypted.write(SYSTEM) as w:
        w.update("sessions", signed.session_id, {"chair": "X"})
    with pytest.raises(sqlite3.OperationalError):
        conn.execute("SELECT nope FROM nowhere")
    encrypted.engine.db["no_such_table"].drop(ignore=True)  # sqlite-utils catches OperationalError
    assert encrypted.engine.db["sessions"].exists()
    # audit entries for every write, chain intact
    actions = {r["action"] for r in encrypted.audit_rows()}
    assert {"insert", "update", "login"} <= actions
    assert verify_store(encrypted) == []


def test_migrations_run_on_an_encrypted_file_and_the_copy_aside_stays_encrypted(
        tmp_path, clock):
    from sqlite_utils import Database

    from ketalog.store.connection import connect

    path = tmp_path / "old.sqlite"
    conn = connect(path, passphrase=KEY)
    migrations.apply(Database(conn), stop_before="m002_protection")
    conn.close()
    store = open_store(path, clock, passphrase=KEY)
    try:
        assert migrations.pending(store.engine.db) == []
        assert verify_store(store) == []
    finally:
        store.close()
    aside = list(tmp_path.glob("old.sqlite.pre-migrate-*"))
    assert len(aside) == 1 and classify(aside[0]) is FileKind.ENCRYPTED
    plain_sqlite_cannot_read(aside[0])


def test_backups_of_an_encrypted_database_are_encrypted_and_restore(encrypted, clock,
                                                                    tmp_path):
    staff = make_staff(encrypted, clock)
    _, sid = start_patient_session(staff, mrn=SECRET_MRN)
    sessions.record_vitals(staff.nurse, sid, {"sbp_mmhg": 120, "dbp_mmhg": 80})
    target = tmp_path / "backups" / "enc-20261124-140000.sqlite"
    report = backup_to(encrypted, target)
    assert classify(target) is FileKind.ENCRYPTED
    assert SECRET_MRN.encode() not in target.read_bytes()
    plain_sqlite_cannot_read(target)
    with pytest.raises(PassphraseRequired):
        check_copy(target)
    with pytest.raises(WrongPassphrase):
        check_copy(target, passphrase="wrong passphrase!")
    assert check_copy(target, passphrase=KEY) == report.row_counts

    sessions.record_vitals(staff.nurse, sid, {"sbp_mmhg": 130, "dbp_mmhg": 85})  # after it
    path = encrypted.path
    encrypted.close()
    result, store = restore_database(target, path, clock, "admin", passphrase=KEY)
    try:
        assert store.encrypted and store.count("vitals") == 1
        assert classify(path) is FileKind.ENCRYPTED
        assert verify_store(store) == []
        assert store.audit_rows()[-1]["action"] == "restore"
    finally:
        store.close()
    assert classify(result.replaced_copy) is FileKind.ENCRYPTED  # kept aside, encrypted
    with pytest.raises(StoreError):  # a restore needs the backup's passphrase
        restore_from(target, path, "again")


def test_damaged_page_in_an_encrypted_file_is_found(encrypted, clock):
    build_signed_session(encrypted, clock)
    encrypted.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    assert verify_store(encrypted) == []
    path = encrypted.path
    encrypted.close()
    data = bytearray(path.read_bytes())
    data[5 * 4096 + 700] ^= 0xFF  # one bit pattern in page 6
    path.write_bytes(bytes(data))
    with pytest.raises(DamagedDatabase):
        open_store(path, clock, passphrase=KEY)
    assert path.read_bytes() == bytes(data)  # refused untouched
    # damage found later, on a file already open: verify runs cipher_integrity_check
    from ketalog.store.connection import connect
    from ketalog.store.sqlite_engine import SqliteEngine
    from ketalog.store.store import Store

    late = Store(SqliteEngine(connect(path, passphrase=KEY), path, encrypted=True), path, clock,
                 passphrase=KEY)
    try:
        assert any(p.startswith("encryption: HMAC verification failed for page 6")
                   for p in verify_store(late))
    finally:
        late.close()


def test_a_plain_database_converts_in_place(tmp_path, clock):
    path = tmp_path / "clinic.sqlite"
    store = open_store(path, clock)
    build_signed_session(store, clock)
    before = store.table_counts()
    other = sqlite3.connect(str(path))  # another program still has it open
    other.execute("SELECT count(*) FROM users").fetchall()
    store.close()
    with pytest.raises(StoreError, match="open in another program"):
        encrypt_in_place(path, KEY, "s1")
    other.close()
    with pytest.raises(StoreError, match="at least"):
        encrypt_in_place(path, "short", "s1")

    with path.open("rb") as old_file:  # a handle on the plain file's data
        report = encrypt_in_place(path, KEY, "s1")
        old_file.seek(0)
        remains = old_file.read()
    assert len(remains) > 4096 and remains.count(0) == len(remains)  # wiped, not just unlinked
    assert report.plain_copy is None and not list(tmp_path.glob("clinic.sqlite.plain-*"))
    assert classify(path) is FileKind.ENCRYPTED
    plain_sqlite_cannot_read(path)
    store = open_store(path, clock, passphrase=KEY)
    try:
        assert store.table_counts() == before and verify_store(store) == []
    finally:
        store.close()
    with pytest.raises(StoreError, match="already encrypted"):
        encrypt_in_place(path, KEY, "s2")


def test_cli_init_encrypt_verify_backup_and_wrong_passphrase(tmp_path, monkeypatch, capsys):
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    db = tmp_path / "cli.sqlite"
    monkeypatch.setenv("KETALOG_PASSWORD", "admin-pass-1")
    monkeypatch.setenv("KETALOG_PASSPHRASE", KEY)
    assert main(["--db", str(db), "init", "--clinic", "C", "--admin", "boss", "--encrypt"],
                clock) == 0
    assert classify(db) is FileKind.ENCRYPTED
    assert main(["--db", str(db), "verify"], clock) == 0
    assert "encryption page checks" in capsys.readouterr().out
    assert main(["--db", str(db), "--user", "boss", "backup"], clock) == 0
    backups = list((tmp_path / "backups").glob("cli-*.sqlite"))
    assert len(backups) == 1 and classify(backups[0]) is FileKind.ENCRYPTED
    monkeypatch.setenv("KETALOG_PASSPHRASE", "a wrong passphrase")
    assert main(["--db", str(db), "verify"], clock) == 1
    err = capsys.readouterr().err
    assert "passphrase" in err and "wrong" in err and len(err.strip().splitlines()) == 1


def test_cli_encrypt_converts_and_audits(tmp_path, monkeypatch, capsys):
    clock = FixedClock(datetime(2026, 11, 24, 14, 0, tzinfo=UTC))
    db = tmp_path / "plain.sqlite"
    monkeypatch.setenv("KETALOG_PASSWORD", "admin-pass-1")
    assert main(["--db", str(db), "init", "--clinic", "C", "--admin", "boss"], clock) == 0
    monkeypatch.setenv("KETALOG_PASSPHRASE", KEY)
    assert main(["--db", str(db), "--user", "boss", "encrypt"], clock) == 0
    out = capsys.readouterr().out
    assert "overwritten and removed" in out and "first encrypted backup" in out
    assert classify(db) is FileKind.ENCRYPTED
    store = open_store(db, clock, passphrase=KEY)
    try:
        assert [r["username"] for r in store.audit_rows() if r["action"] == "encrypt"] == [
            "boss"]
    finally:
        store.close()
    backups = list((tmp_path / "backups").glob("plain-*.sqlite"))
    assert backups and all(classify(b) is FileKind.ENCRYPTED for b in backups)


def test_keep_plain_keeps_a_readable_copy_under_a_telling_name(tmp_path, clock):
    path = tmp_path / "clinic.sqlite"
    store = open_store(path, clock)
    build_signed_session(store, clock)
    before = store.table_counts()
    store.close()
    report = encrypt_in_place(path, KEY, "s1", keep_plain=True)
    assert report.plain_copy == tmp_path / "clinic.sqlite.plain-s1"
    assert classify(report.plain_copy) is FileKind.PLAIN
    assert check_copy(report.plain_copy) == before
    assert classify(path) is FileKind.ENCRYPTED
