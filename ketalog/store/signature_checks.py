"""Checks that make a signature mean "the signer did this": every signature verifies
with the Ed25519 public key of its own signer, registered in the audit chain before it;
signed status and provider signatures agree; nothing under a session changed after the
provider signed it; every trigger has exactly the text ketalog created it with."""

from __future__ import annotations

import json
import sqlite3

from ketalog.domain.signing import PROVIDER_SIGNATURE, signature_message, signature_valid
from ketalog.store.engine_api import Connection
from ketalog.store.schema import (
    LEGACY_SIGNATURES_ACTION,
    SESSION_CHILD_TABLES,
    expected_triggers,
)


def _tables(conn: sqlite3.Connection) -> set[str]:
    return {r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}


def _trigger_table(sql: str) -> str:
    """The table a CREATE TRIGGER statement of ours is on (the word after ON)."""
    words = sql.split()
    return words[words.index("ON") + 1]


def trigger_problems(conn: sqlite3.Connection) -> list[str]:
    tables = _tables(conn)  # a file from before a step has none of that step's triggers
    expected = {name: sql for name, sql in expected_triggers().items()
                if _trigger_table(sql) in tables}
    found = dict(conn.execute("SELECT name, sql FROM sqlite_master WHERE type = 'trigger'"))
    problems = []
    missing = sorted(set(expected) - set(found))
    if missing:
        problems.append(f"protection triggers missing (records could be changed): "
                        f"{', '.join(missing)}")
    changed = sorted(n for n in expected if n in found and found[n] != expected[n])
    if changed:
        problems.append(f"protection triggers replaced by different code (they may no "
                        f"longer protect anything): {', '.join(changed)}")
    foreign = sorted(set(found) - set(expected))
    if foreign:
        problems.append(f"triggers ketalog never creates (added outside ketalog): "
                        f"{', '.join(foreign)}")
    return problems


def server_trigger_problems(found: set[str], tables: set[str]) -> list[str]:
    """On the clinic server, whose triggers are PL/pgSQL of its own text (pg_schema.py):
    every trigger the file has for a rule must be there under the same name (the server
    adds its TRUNCATE guards besides); the workstation's role can neither drop nor replace
    them, so their names are what is checked."""
    missing = sorted(n for n, sql in expected_triggers().items()
                     if _trigger_table(sql) in tables and n not in found)
    if missing:
        return [f"protection triggers missing (records could be changed): "
                f"{', '.join(missing)}"]
    return []


def legacy_limit(conn: Connection) -> int:
    """The last audit entry from before signing keys (0: the file never had unkeyed ones)."""
    row = conn.execute("SELECT new_values FROM audit_log WHERE action = ? ORDER BY id LIMIT 1",
                       [LEGACY_SIGNATURES_ACTION]).fetchone()
    if row is None or not row[0]:
        return 0
    return int(json.loads(row[0]).get("legacy_signatures_through_entry", 0))


_SIGNATURES = """
SELECT s.id, s.session_id, se.uuid, s.user_id, s.at, s.meaning, s.content_hash, s.key_id,
       s.signature, k.user_id, k.public_key,
       (SELECT min(a.id) FROM audit_log a WHERE a.table_name = 'signatures'
          AND a.row_uuid = s.uuid AND a.action = 'insert'),
       (SELECT min(a.id) FROM audit_log a WHERE a.table_name = 'user_keys'
          AND a.row_uuid = k.uuid AND a.action = 'insert')
FROM signatures s JOIN sessions se ON se.id = s.session_id
LEFT JOIN user_keys k ON k.id = s.key_id ORDER BY s.id"""


def key_signature_problems(conn: Connection, tables: set[str]) -> list[str]:
    """`tables`: the database's tables (the file's before migrating may lack user_keys)."""
    if "user_keys" not in tables:
        return []  # verified read-only before migrating: hash-only signatures
    limit = legacy_limit(conn)
    problems = []
    for (sig_id, session_id, session_uuid, user_id, at, meaning, digest, key_id, signature,
         key_user, public_key, sig_entry, key_entry) in conn.execute(_SIGNATURES):
        where = f"signature {sig_id} (session {session_id})"
        if key_id is None:
            if sig_entry is None or sig_entry > limit:
                problems.append(f"{where}: carries no signature by its signer's key "
                                "(inserted outside ketalog)")
            continue
        if public_key is None:
            problems.append(f"{where}: its signer's key {key_id} is missing")
        elif key_user != user_id:
            problems.append(f"{where}: made with another user's key")
        elif not signature_valid(str(public_key), str(signature or ""), signature_message(
                session_uuid=session_uuid, user_id=user_id, at=at, meaning=meaning,
                content_hash=digest, key_id=key_id)):
            problems.append(f"{where}: does not verify with its signer's public key "
                            "(forged or changed outside ketalog)")
        elif key_entry is None or sig_entry is None or key_entry > sig_entry:
            problems.append(f"{where}: its key was not registered in the audit log before "
                            "the signature")
    return problems


def signed_state_problems(conn: Connection) -> list[str]:
    problems = []
    for session_id, status, provider_signatures in conn.execute(
            "SELECT se.id, se.status, count(*) FROM signatures s JOIN sessions se "
            "ON se.id = s.session_id WHERE s.meaning = ? GROUP BY se.id ORDER BY se.id",
            [PROVIDER_SIGNATURE]):
        if status != "signed":
            problems.append(f"session {session_id} has a provider's signature but is marked "
                            f"{status} (un-signed outside ketalog)")
        if provider_signatures > 1:
            problems.append(f"session {session_id} carries {provider_signatures} provider "
                            "signatures (a signed session is never signed again)")
    signed_at = dict(conn.execute(
        "SELECT s.session_id, min(a.id) FROM signatures s JOIN audit_log a ON "
        "a.table_name = 'signatures' AND a.row_uuid = s.uuid AND a.action = 'insert' "
        "WHERE s.meaning = ? GROUP BY s.session_id", [PROVIDER_SIGNATURE]))
    for table in SESSION_CHILD_TABLES:
        for session_id, last_change in conn.execute(
                f"SELECT c.session_id, max(a.id) FROM {table} c JOIN audit_log a ON "
                f"a.table_name = ? AND a.row_uuid = c.uuid AND a.action IN "
                f"('insert', 'update', 'delete') GROUP BY c.session_id", [table]):
            first_signature = signed_at.get(session_id)
            if first_signature is not None and last_change > first_signature:
                problems.append(f"session {session_id}: its {table} changed after the "
                                "provider signed it (the audit log records a change that "
                                "the locks refuse)")
    return problems
