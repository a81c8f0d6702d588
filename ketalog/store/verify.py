"""`ketalog verify`: everything that can prove the file was not damaged or tampered with.
Its cost grows linearly with the file (integrity reads every page, the chain hashes every
audit entry, each signed session is re-hashed with its vitals), so it reports progress
by phase: "integrity", "foreign keys", "audit chain", "signatures", "signature keys",
"rows against history". The checks outside the file (anchors, backups) are services.tamper's.

The same checks run on a clinic server: the audit chain, the signatures and the history
replay through the store's connection on either engine; the catalog checks (triggers,
and on the server their functions and the workstation role's grants) are SQLite's own
(signature_checks) or the server's (pg_verify)."""

from __future__ import annotations

import sqlite3

from ketalog.domain.hashing import content_hash
from ketalog.store import pg_verify
from ketalog.store import sessions as sessions_store
from ketalog.store.audit import walk_chain
from ketalog.store.content import session_content
from ketalog.store.history import history_problems
from ketalog.store.progress import PhaseProgress, every
from ketalog.store.signature_checks import (
    key_signature_problems,
    signed_state_problems,
    trigger_problems,
)
from ketalog.store.sqlite_engine import sqlite_connection
from ketalog.store.store import Store


def verify_store(store: Store, progress: PhaseProgress | None = None) -> list[str]:
    def report(phase: str, done: int, total: int) -> None:
        if progress:
            progress(phase, done, total)

    problems: list[str] = []
    try:
        report("integrity", 0, 1)
        problems += store.cipher_problems()
        problems += store.integrity_problems()
        report("integrity", 1, 1)
    except sqlite3.DatabaseError as exc:  # a damaged page can stop the check itself
        return [*problems, f"integrity: the file is damaged ({exc})"]
    phase = ["foreign keys"]

    def report_phase(name: str, done: int, total: int) -> None:
        phase[0] = name
        report(name, done, total)

    try:
        problems += _checks(store, report_phase)
    except Exception as exc:  # a damaged page found by a later phase ends the walk there
        if not _is_damage(exc):
            raise
        problems.append(f"{phase[0]}: the file is damaged ({exc})")
    return problems


def _is_damage(exc: Exception) -> bool:
    """sqlite3's, or SQLCipher's own class of the same name (it is not a subclass)."""
    return isinstance(exc, sqlite3.DatabaseError) or (
        type(exc).__module__.startswith("sqlcipher3") and type(exc).__name__ == "DatabaseError")


def _checks(store: Store, report: PhaseProgress) -> list[str]:
    """Every check after the page-level integrity check, in the order they report."""
    problems: list[str] = []
    report("foreign keys", 0, 1)
    problems += store.foreign_key_problems()
    report("foreign keys", 1, 1)
    server = store.on_server
    if server:
        tables = store.engine.table_columns()
        problems += pg_verify.trigger_problems(store.conn)
        problems += pg_verify.grant_problems(store.conn, list(tables))
    else:
        sqlite = sqlite_connection(store.engine)  # the catalog checks below read SQLite's own
        problems += trigger_problems(sqlite)
    entries = store.audit_entry_count()
    chain_step = every(entries)

    def chain(done: int) -> None:
        if done % chain_step == 0 or done == entries:
            report("audit chain", done, entries)

    report("audit chain", 0, entries)
    problems += list(walk_chain(store.conn, chain))
    signed = sessions_store.signed_ids(store)
    step = every(len(signed))
    report("signatures", 0, len(signed))
    for n, session_id in enumerate(signed, 1):
        if n % step == 0 or n == len(signed):
            report("signatures", n, len(signed))
        signatures = store.rows("signatures", order_by="id", session_id=session_id)
        if not signatures:
            problems.append(f"session {session_id} is signed but has no signature")
            continue
        actual = content_hash(session_content(store, session_id))
        if signatures[-1]["content_hash"] != actual:
            problems.append(f"session {session_id}: content no longer matches its signature "
                            f"(changed after signing)")
    report("signatures", len(signed), len(signed))
    report("signature keys", 0, 1)  # each signature against its signer's public key
    if server:
        problems += key_signature_problems(store.conn, set(tables))
        problems += signed_state_problems(store.conn)
    else:
        problems += key_signature_problems(sqlite)
        problems += signed_state_problems(sqlite)
    report("signature keys", 1, 1)
    report("rows against history", 0, 1)
    if server:
        problems += history_problems(store.conn, pg_verify.history_catalog(store.conn, tables))
    else:
        problems += history_problems(sqlite)
    report("rows against history", 1, 1)
    return problems
