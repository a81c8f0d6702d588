"""Each attack found by trying, from the attacker's side: raw sqlite3 on the closed
file (no ketalog code), then `verify` must find it or the app must refuse it."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from ketalog.domain.clock import FixedClock
from ketalog.domain.signing import PROVIDER_SIGNATURE, signature_message
from ketalog.services import auth, sessions
from ketalog.services.backups import run_backup
from ketalog.store.audit import redacted
from tests.store.helpers import build_signed_session
from tests.trust.attack import (
    copy_clinic,
    full_verify,
    raw,
    recomputed_hash,
    rehash_chain,
    reopen,
    rewrite_audit_values,
    without_trigger,
)

START = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)


@pytest.fixture(scope="module")
def signed_clinic(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A clinic file with one fully signed session and a backup, closed."""
    path = tmp_path_factory.mktemp("clinic") / "clinic.sqlite"
    clock = FixedClock(START)
    store = reopen(path, clock)
    signed = build_signed_session(store, clock)
    clock.advance(minutes=1)
    run_backup(signed.staff.admin, path, path.parent / "backups", "manual")
    store.close()
    return path, signed.session_id


@pytest.fixture
def clinic(tmp_path: Path, signed_clinic: tuple[Path, int]) -> tuple[Path, int, FixedClock]:
    template, session_id = signed_clinic
    return copy_clinic(template, tmp_path / "clinic.sqlite"), session_id, FixedClock(START)


def test_the_untouched_clinic_verifies(clinic):
    path, _, clock = clinic
    assert full_verify(path, clock) == []


def _dose_id(conn, session_id: int) -> int:
    return conn.execute("SELECT id FROM dose_events WHERE session_id = ? AND kind = 'start'",
                        [session_id]).fetchone()[0]


def _triple_dose(path: Path, session_id: int) -> None:
    conn = raw(path)
    dose = _dose_id(conn, session_id)
    without_trigger(conn, "dose_events_locked_update",
                    f"UPDATE dose_events SET rate_mg_per_h = rate_mg_per_h * 3 WHERE id = {dose}")
    conn.close()


def _insert_signature(path: Path, session_id: int, digest: str, **extra: object) -> None:
    conn = raw(path)
    provider = conn.execute("SELECT id FROM users WHERE username = 'paul'").fetchone()[0]
    columns = {"uuid": "forged-signature", "session_id": session_id, "user_id": provider,
               "at": "2026-11-24T16:00:00.000Z", "meaning": PROVIDER_SIGNATURE,
               "content_hash": digest, **extra}
    conn.execute(f"INSERT INTO signatures ({', '.join(columns)}) VALUES "
                 f"({', '.join('?' * len(columns))})", list(columns.values()))
    conn.close()


def test_tripled_dose_with_a_recomputed_sha256_signature_is_found(clinic):
    path, session_id, clock = clinic
    _triple_dose(path, session_id)
    _insert_signature(path, session_id, recomputed_hash(path, clock, session_id))
    problems = "\n".join(full_verify(path, clock))
    assert "carries no signature by its signer's key" in problems
    assert "dose_events" in problems and "differs from its audit history" in problems
    assert "2 provider signatures" in problems


def test_reusing_the_providers_signature_over_the_new_hash_does_not_verify(clinic):
    """The attacker rewrites the real signature row's hash (and its audit history, then
    rehashes the whole chain): the Ed25519 signature no longer matches, and the anchors
    outside the file no longer match the chain."""
    path, session_id, clock = clinic
    _triple_dose(path, session_id)
    digest = recomputed_hash(path, clock, session_id)
    conn = raw(path)
    sig_id, sig_uuid = conn.execute(
        "SELECT id, uuid FROM signatures WHERE session_id = ? AND meaning = ?",
        [session_id, PROVIDER_SIGNATURE]).fetchone()
    without_trigger(conn, "signatures_append_only_update",
                    f"UPDATE signatures SET content_hash = '{digest}' WHERE id = {sig_id}")
    entry = conn.execute("SELECT id FROM audit_log WHERE table_name = 'signatures' AND "
                         "row_uuid = ?", [sig_uuid]).fetchone()[0]
    rewrite_audit_values(conn, entry, {"content_hash": digest})
    dose_uuid = conn.execute("SELECT uuid, rate_mg_per_h FROM dose_events WHERE id = ?",
                             [_dose_id(conn, session_id)]).fetchone()
    dose_entry = conn.execute("SELECT id FROM audit_log WHERE table_name = 'dose_events' AND "
                              "row_uuid = ?", [dose_uuid[0]]).fetchone()[0]
    rewrite_audit_values(conn, dose_entry, {"rate_mg_per_h": dose_uuid[1]})
    rehash_chain(conn)
    conn.close()
    problems = "\n".join(full_verify(path, clock))
    assert "does not verify with its signer's public key" in problems
    assert "the chain was rewritten" in problems
    assert "differs from its audit history" not in problems  # history was forged too


def test_a_key_pair_made_by_the_attacker_is_found(clinic):
    """A fresh Ed25519 pair registered for the provider by INSERT and a valid signature
    with it: the key has no audit entry and the provider signed twice."""
    path, session_id, clock = clinic
    _triple_dose(path, session_id)
    digest = recomputed_hash(path, clock, session_id)
    private = Ed25519PrivateKey.generate()
    public = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw).hex()
    conn = raw(path)
    provider = conn.execute("SELECT id FROM users WHERE username = 'paul'").fetchone()[0]
    conn.execute("INSERT INTO user_keys (uuid, user_id, public_key, sealed_key, created_at) "
                 "VALUES ('k', ?, ?, '{}', '2026-11-24T16:00:00.000Z')", [provider, public])
    key_id = conn.execute("SELECT max(id) FROM user_keys").fetchone()[0]
    session_uuid = conn.execute("SELECT uuid FROM sessions WHERE id = ?",
                                [session_id]).fetchone()[0]
    conn.close()
    at = "2026-11-24T16:00:00.000Z"
    signature = private.sign(signature_message(
        session_uuid=session_uuid, user_id=provider, at=at, meaning=PROVIDER_SIGNATURE,
        content_hash=digest, key_id=key_id)).hex()
    _insert_signature(path, session_id, digest, key_id=key_id, signature=signature, at=at)
    problems = "\n".join(full_verify(path, clock))
    assert "user_keys k: has no audit entry" in problems
    assert "its key was not registered in the audit log before the signature" in problems
    assert "2 provider signatures" in problems


def test_unsigning_a_session_is_found(clinic):
    path, session_id, clock = clinic
    conn = raw(path)
    without_trigger(conn, "sessions_locked_update",
                    f"UPDATE sessions SET status = 'completed' WHERE id = {session_id}")
    conn.close()
    problems = "\n".join(full_verify(path, clock))
    assert "has a provider's signature but is marked completed" in problems
    assert "sessions" in problems and "status differs from its audit history" in problems


def test_a_no_op_trigger_of_the_same_name_is_found(clinic):
    path, _, clock = clinic
    conn = raw(path)
    conn.execute("DROP TRIGGER dose_events_locked_update")
    conn.execute("CREATE TRIGGER dose_events_locked_update BEFORE UPDATE ON dose_events "
                 "WHEN 0 BEGIN SELECT RAISE(ABORT, 'never'); END")
    conn.close()
    problems = full_verify(path, clock)
    assert any("replaced by different code" in p and "dose_events_locked_update" in p
               for p in problems)


def test_an_added_trigger_is_found(clinic):
    path, _, clock = clinic
    conn = raw(path)
    conn.execute("CREATE TRIGGER sneaky AFTER INSERT ON vitals BEGIN "
                 "UPDATE vitals SET hr_bpm = 70 WHERE id = NEW.id; END")
    conn.close()
    assert any("sneaky" in p for p in full_verify(path, clock))


def test_rehashing_the_whole_chain_after_an_edit_is_found_by_the_anchors(clinic):
    path, _, clock = clinic
    conn = raw(path)
    rewrite_audit_values(conn, 2, {"display_name": "Someone Else"})
    rehash_chain(conn)
    conn.close()
    problems = "\n".join(full_verify(path, clock))
    assert "the chain was rewritten" in problems
    assert "audit log entry" in problems and "backup clinic-" in problems  # backup head too
    assert "clinic-anchors.log" in problems


def test_deleting_the_newest_50_audit_entries_is_found(clinic):
    path, session_id, clock = clinic
    clock.advance(hours=24)
    store = reopen(path, clock)
    nurse = auth.login(store, clock, "nina", "nurse-password-1")
    for n in range(25):  # follow-up calls are allowed on a signed session
        sessions.add_follow_up(nurse, session_id, nrs=n % 10, note=f"call {n}")
    auth.login(store, clock, "admin", "admin-password-1")  # anchors the head
    head = store.conn.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    store.close()
    assert head > 50
    conn = raw(path)
    without_trigger(conn, "audit_log_append_only_delete",
                    f"DELETE FROM audit_log WHERE id > {head - 50}")
    conn.close()
    problems = "\n".join(full_verify(path, clock))
    assert f"audit log entry {head} is gone" in problems
    assert "entries were deleted" in problems


def test_a_nurse_made_admin_with_one_insert_is_found(clinic):
    path, _, clock = clinic
    conn = raw(path)
    conn.execute("INSERT INTO user_roles (user_id, role) SELECT id, 'admin' FROM users "
                 "WHERE username = 'nina'")
    conn.close()
    problems = full_verify(path, clock)
    assert any(p.startswith("user_roles ") and "roles differs" in p for p in problems)


def test_a_swapped_password_hash_is_found(clinic):
    path, _, clock = clinic
    conn = raw(path)
    conn.execute("UPDATE users SET password_hash = (SELECT password_hash FROM users WHERE "
                 "username = 'admin') WHERE username = 'nina'")
    conn.close()
    problems = full_verify(path, clock)
    assert any(p.startswith("users ") and "password_hash differs" in p for p in problems)


@pytest.mark.parametrize("edit, table", [
    ("UPDATE patients SET allergies = '' WHERE mrn = 'MRN-001'", "patients"),
    ("UPDATE clinic_settings SET value = '\"Other clinic\"' WHERE key = 'clinic_name'",
     "clinic_settings"),
    ("DELETE FROM patients WHERE 0", None),  # a no-op: nothing to find
])
def test_edited_allergies_and_settings_are_found(clinic, edit, table):
    path, _, clock = clinic
    conn = raw(path)
    conn.execute(edit)
    conn.close()
    problems = full_verify(path, clock)
    if table is None:
        assert problems == []
    else:
        assert any(p.startswith(f"{table} ") and "differs from its audit history" in p
                   for p in problems), problems


def test_a_swapped_public_key_is_found(clinic):
    path, _, clock = clinic
    other = Ed25519PrivateKey.generate().public_key().public_bytes(
        Encoding.Raw, PublicFormat.Raw).hex()
    conn = raw(path)
    without_trigger(conn, "user_keys_append_only_update",
                    f"UPDATE user_keys SET public_key = '{other}'")
    conn.close()
    problems = "\n".join(full_verify(path, clock))
    assert "does not verify with its signer's public key" in problems
    assert "public_key differs from its audit history" in problems


def test_redacted_password_hashes_are_audited_as_their_sha256(clinic):
    path, _, clock = clinic
    conn = raw(path)
    stored = conn.execute("SELECT password_hash FROM users WHERE username = 'nina'").fetchone()[0]
    entries = [json.loads(v)["password_hash"] for (v,) in conn.execute(
        "SELECT new_values FROM audit_log WHERE table_name = 'users' AND new_values LIKE "
        "'%password_hash%'")]
    conn.close()
    assert redacted(stored) in entries
    assert all(e.startswith("sha256:") and "argon2" not in e for e in entries)
