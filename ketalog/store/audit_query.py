"""Reading the audit log for the admin's viewer and its export: filtered, newest first,
paged by id (keyset, so page 50 costs what page 1 costs). The chain itself lives in
store/audit.py; nothing here writes."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from ketalog.store.schema import SESSION_CHILD_TABLES
from ketalog.store.store import Store
from ketalog.store.values import as_int

# Tables whose rows belong to a patient through their session.
_VIA_SESSION = (*SESSION_CHILD_TABLES, "follow_ups", "signatures", "addenda")
COLUMNS = ("id", "at", "user_id", "username", "action", "table_name", "row_uuid",
           "old_values", "new_values", "reason")


@dataclass(frozen=True)
class AuditQuery:
    """Filters in storage form: ISO UTC bounds (since inclusive, until exclusive)."""

    user_id: int | None = None
    patient_id: int | None = None
    since: str | None = None
    until: str | None = None
    action: str | None = None


def _patient_ids_sql() -> str:
    """Audit entry ids of one patient's rows: the patient, its series, its sessions and
    everything under them. Each branch is an indexed (table_name, row_uuid) lookup."""
    parts = ["SELECT id FROM audit_log WHERE table_name = 'patients' AND row_uuid IN "
             "(SELECT uuid FROM patients WHERE id = ?)",
             "SELECT id FROM audit_log WHERE table_name = 'sessions' AND row_uuid IN "
             "(SELECT uuid FROM sessions WHERE patient_id = ?)",
             "SELECT id FROM audit_log WHERE table_name = 'treatment_series' AND row_uuid IN "
             "(SELECT uuid FROM treatment_series WHERE patient_id = ?)"]
    parts += [f"SELECT id FROM audit_log WHERE table_name = '{t}' AND row_uuid IN "
              f"(SELECT c.uuid FROM {t} c JOIN sessions s ON s.id = c.session_id "
              f"WHERE s.patient_id = ?)" for t in _VIA_SESSION]
    return " UNION ALL ".join(parts)


def _where(query: AuditQuery, before_id: int | None = None) -> tuple[str, list[object]]:
    clauses: list[str] = []
    params: list[object] = []
    if query.user_id is not None:
        clauses.append("user_id = ?")
        params.append(query.user_id)
    if query.action:
        clauses.append("action = ?")
        params.append(query.action)
    if query.since:
        clauses.append("at >= ?")
        params.append(query.since)
    if query.until:
        clauses.append("at < ?")
        params.append(query.until)
    if query.patient_id is not None:
        patient_sql = _patient_ids_sql()
        clauses.append(f"id IN ({patient_sql})")
        params += [query.patient_id] * patient_sql.count("?")
    if before_id is not None:
        clauses.append("id < ?")
        params.append(before_id)
    return (" WHERE " + " AND ".join(clauses)) if clauses else "", params


def audit_page(store: Store, query: AuditQuery, limit: int = 200,
               before_id: int | None = None) -> list[dict[str, object]]:
    """Up to `limit` matching entries older than `before_id`, newest first."""
    clause, params = _where(query, before_id)
    cursor = store.conn.execute(f"SELECT {', '.join(COLUMNS)} FROM audit_log{clause} "
                                "ORDER BY id DESC LIMIT ?", [*params, int(limit)])
    return [dict(zip(COLUMNS, row, strict=True)) for row in cursor]


def audit_count(store: Store, query: AuditQuery) -> int:
    clause, params = _where(query)
    return int(store.conn.execute(f"SELECT count(*) FROM audit_log{clause}",
                                  params).fetchone()[0])


def iter_audit(store: Store, query: AuditQuery, batch: int = 2000
               ) -> Iterator[dict[str, object]]:
    """Every matching entry, newest first, in batches (an export of the whole log must
    not hold it all in memory twice)."""
    before: int | None = None
    while True:
        rows = audit_page(store, query, batch, before)
        yield from rows
        if len(rows) < batch:
            return
        before = as_int(rows[-1]["id"])


def audit_actions(store: Store) -> list[str]:
    """The distinct actions in the log (for the viewer's filter list)."""
    return [r[0] for r in store.conn.execute(
        "SELECT DISTINCT action FROM audit_log ORDER BY action")]


def patient_refs(store: Store, row_uuids: list[str]) -> dict[str, str]:
    """row uuid -> the MRN of the patient it belongs to, for the rows shown on a page
    (patients, sessions and their children; others are simply absent)."""
    found: dict[str, str] = {}
    for start in range(0, len(row_uuids), 500):  # stay under SQLite's variable limit
        found.update(_patient_refs(store, row_uuids[start:start + 500]))
    return found


def _patient_refs(store: Store, row_uuids: list[str]) -> dict[str, str]:
    marks = ", ".join("?" * len(row_uuids))
    sql = [f"SELECT uuid, mrn FROM patients WHERE uuid IN ({marks})",
           f"SELECT s.uuid, p.mrn FROM sessions s JOIN patients p ON p.id = s.patient_id "
           f"WHERE s.uuid IN ({marks})"]
    sql += [f"SELECT c.uuid, p.mrn FROM {t} c JOIN sessions s ON s.id = c.session_id "
            f"JOIN patients p ON p.id = s.patient_id WHERE c.uuid IN ({marks})"
            for t in _VIA_SESSION]
    found: dict[str, str] = {}
    for statement in sql:
        for row_uuid, mrn in store.conn.execute(statement, row_uuids):
            found[str(row_uuid)] = str(mrn)
    return found


def count_tagged(store: Store, user_id: int, since: str, username: str) -> int:
    """Entries one user wrote under a given actor name since a time (the entries of an
    emergency grant; idx_audit_user narrows it to that user)."""
    return int(store.conn.execute(
        "SELECT count(*) FROM audit_log WHERE user_id = ? AND at >= ? AND username = ?",
        [user_id, since, username]).fetchone()[0])
