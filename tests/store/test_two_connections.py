"""Two connections on one database (the GUI and the monitor feed's listener on a file, or
two workstations of a clinic server) both write: each write must chain onto the other's
newest audit entry, a writer held up by another is told to retry, and a session's content
cannot change between its hashing and its signature."""

from __future__ import annotations

import threading
import time
from datetime import date

import pytest

from ketalog.domain.entities import Bag, DoseKind
from ketalog.services import sessions
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store.errors import StoreError
from ketalog.store.schema import LOCKED_MESSAGE
from ketalog.store.store import SYSTEM
from ketalog.store.verify import verify_store
from tests.engines import hold_write_lock
from tests.readiness import ACK_READINESS

pytestmark = pytest.mark.both_engines
READING = {"sbp_mmhg": 120, "dbp_mmhg": 80}


def test_interleaved_writers_keep_one_sound_chain(store, reopen):
    first, second = store, reopen()
    seeded = first.count("audit_log")  # the upgrade steps' own entries
    for n in range(6):
        writer = first if n % 2 == 0 else second
        with writer.write(SYSTEM) as w:
            w.event("test", details={"n": n})
    assert verify_store(first) == []
    assert first.count("audit_log") == seeded + 6


def _completed_session(ctx, clock) -> int:
    """Completed, its provider already named (signing then changes only its status)."""
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("TWO-1", "Doe", "Jane", date(1980, 5, 17)))
    session = sessions.start_session(nurse, sessions.SessionStart(
        patient.id, 70.0, Bag("ketamine", 1.0, 100.0, lot="L1"),
        provider_id=ctx["provider"].user.id))
    sessions.record_vitals(nurse, session.id, READING)
    sessions.record_dose(nurse, session.id, DoseKind.START, rate_mg_per_h=35.0,
                         acknowledge=True)
    clock.advance(minutes=40)
    sessions.record_dose(nurse, session.id, DoseKind.STOP)
    clock.advance(minutes=30)
    sessions.complete_session(nurse, session.id, acknowledged=ACK_READINESS)
    return session.id


def test_a_writer_held_up_by_another_is_told_to_retry(staffed, clock, reopen, engine):
    store, ctx = staffed
    nurse = ctx["nurse"]
    patient = create_patient(nurse, PatientInput("TWO-2", "Doe", "Jane", date(1980, 5, 17)))
    session = sessions.start_session(nurse, sessions.SessionStart(
        patient.id, 70.0, Bag("ketamine", 1.0, 100.0)))
    before = store.count("vitals"), store.count("audit_log")
    other = reopen()
    hold_write_lock(other)  # another writer in the middle of a long write
    if engine == "postgresql":
        store.engine.write_wait_ms = 200
    else:
        store.conn.execute("PRAGMA busy_timeout = 200")
    with pytest.raises(StoreError, match="busy \\(another (ketalog|workstation) is writing\\); "
                                         "try again"):
        sessions.record_vitals(nurse, session.id, READING)
    other.engine.rollback()
    assert (store.count("vitals"), store.count("audit_log")) == before
    sessions.record_vitals(nurse, session.id, READING)
    assert verify_store(store) == []


def test_an_entry_added_while_the_session_is_signed_waits_and_is_refused(
        staffed, clock, reopen, engine, driver, monkeypatch):
    """The signature's transaction holds the session (the file: its write lock; the
    server: the session row) before hashing its content, so an entry written meanwhile by
    another connection that takes none of ketalog's locks is not left out of the hash:
    it waits and is refused (the server), or is refused as busy (the file)."""
    store, ctx = staffed
    sid = _completed_session(ctx, clock)
    vitals = store.count("vitals")
    raw = reopen(raw=True)
    entry = ("INSERT INTO vitals (uuid, session_id, at, entered_at, sbp_mmhg, entered_by) "
             f"VALUES ('raw-entry', {sid}, 'now', 'now', 99, {ctx['nurse'].user.id})")
    outcome: dict[str, BaseException | None] = {}

    def add_entry() -> None:
        try:
            raw.execute(entry)
            outcome["error"] = None
        except driver.Error as exc:
            outcome["error"] = exc

    watch = reopen(raw=True)

    def waiting() -> bool:
        if engine == "postgresql":
            return bool(watch.execute("SELECT count(*) FROM pg_locks WHERE NOT granted"
                                      ).fetchone()[0])
        return False

    from ketalog.services import sessions as svc_sessions

    original = svc_sessions.session_signature

    def hash_while_another_writes(*args, **kwargs):
        thread = threading.Thread(target=add_entry)
        thread.start()
        deadline = time.monotonic() + 10
        while thread.is_alive() and not waiting():
            assert time.monotonic() < deadline, "the entry neither waited nor finished"
            time.sleep(0.02)
        outcome["waited"] = thread.is_alive()
        outcome["thread"] = thread  # type: ignore[assignment]
        return original(*args, **kwargs)

    monkeypatch.setattr(svc_sessions, "session_signature", hash_while_another_writes)
    digest = sessions.sign_session(ctx["provider"], sid, "provider-pass-1")
    outcome["thread"].join(10)  # type: ignore[union-attr]
    error = outcome["error"]
    assert isinstance(error, driver.DatabaseError), outcome
    if engine == "postgresql":
        assert outcome["waited"] and LOCKED_MESSAGE in str(error)
    else:
        assert "locked" in str(error)  # the file's write lock: "database is locked"
    assert store.count("vitals") == vitals
    assert store.get("sessions", sid)["status"] == "signed"
    assert verify_store(store) == []
    assert digest
