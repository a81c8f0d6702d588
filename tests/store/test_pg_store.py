"""The store on a clinic server (store/pg_engine.py, pg_connection.py), on the real test
server: a workstation opens only a database set up for this ketalog, its writes keep the
hash chain whole even when several workstations append at once, and the server's
refusals reach the user in the words the local file uses."""

from __future__ import annotations

import threading
from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.store import patients as patient_rows
from ketalog.store.audit import walk_chain
from ketalog.store.errors import Conflict, NewerSchema, NotKetalogDatabase, RecordLocked, StoreError
from ketalog.store.pg_connection import is_server_address, open_server_store, safe_location
from ketalog.store.pg_engine import qmark_to_pyformat
from ketalog.store.store import Actor
from tests.pg_clinic import OWNER_LOGIN, WORKSTATION_LOGIN, new_database

psycopg = pytest.importorskip("psycopg", reason="psycopg is not installed")

NURSE = Actor(None, "nurse")


def patient_row(mrn: str, family: str = "Okafor") -> dict[str, object]:
    return {"mrn": mrn, "family_name": family, "given_name": "Ada",
            "birth_date": date(1980, 2, 3).isoformat(), "sex": "female",
            "created_at": "2026-11-24T14:00:00.000Z"}


@pytest.fixture
def server_store(pg_clinic, clock):
    store = open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
    yield store
    store.close()


def test_a_workstation_opens_the_clinic_database(server_store, pg_clinic):
    assert server_store.engine.name == "postgresql"
    assert server_store.location == f"postgresql://{WORKSTATION_LOGIN}@[{pg_clinic.server.host}]" \
        f":{pg_clinic.server.port}/{pg_clinic.name}"
    with pytest.raises(StoreError, match="needs the local database file"):
        _ = server_store.path
    with server_store.write(NURSE) as w:
        made = patient_rows.insert_patient(w, patient_row("K1"))
    found = patient_rows.patient(server_store, made)
    assert found is not None and found.mrn == "K1" and found.uuid
    assert server_store.audit_rows()[-1]["action"] == "insert"
    assert list(walk_chain(server_store.conn)) == []


def test_a_database_not_set_up_for_ketalog_is_refused(pg_roles, clock):
    empty = new_database(pg_roles)
    with pytest.raises(NotKetalogDatabase, match="server init"):
        open_server_store(empty.conninfo(WORKSTATION_LOGIN), clock)


def test_a_database_a_newer_ketalog_migrated_is_refused(pg_clinic, clock):
    with pg_clinic.owner(autocommit=True) as conn:
        conn.execute("INSERT INTO schema_migrations (migration_set, name, applied_at) "
                     "SELECT migration_set, 'm099_future', applied_at FROM schema_migrations "
                     "LIMIT 1")
    with pytest.raises(NewerSchema, match="m099_future"):
        open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)


def test_an_unreachable_server_says_so_without_the_password(clock):
    address = "postgresql://nurse:s3cret@127.0.0.1:1/clinic"
    with pytest.raises(StoreError, match="cannot reach the clinic server") as info:
        open_server_store(address, clock)
    assert "s3cret" not in str(info.value)
    assert safe_location(address) == "postgresql://nurse@127.0.0.1:1/clinic"


def test_a_duplicate_mrn_is_the_same_conflict_as_in_the_file(server_store):
    with server_store.write(NURSE) as w:
        patient_rows.insert_patient(w, patient_row("D1"))
    with pytest.raises(Conflict, match="^a patient with this MRN already exists$"):
        with server_store.write(NURSE) as w:
            patient_rows.insert_patient(w, patient_row("D1", "Other"))
    assert patient_rows.patient_with_mrn(server_store, "D1").family_name == "Okafor"


def test_the_workstation_cannot_rewrite_the_audit_log_through_the_store(server_store):
    with server_store.write(NURSE) as w:
        patient_rows.insert_patient(w, patient_row("A1"))
    with pytest.raises(RecordLocked, match="refused|append-only"):
        with server_store.write(NURSE) as w:
            w.conn.execute("UPDATE audit_log SET username = 'someone else'")
    assert {r["username"] for r in server_store.audit_rows()} <= {"nurse", "system"}


def test_prefix_search_ignores_ascii_case_and_takes_wildcards_literally(server_store):
    with server_store.write(NURSE) as w:
        patient_rows.insert_patient(w, patient_row("P_1", "Okafor"))
        patient_rows.insert_patient(w, patient_row("PX1", "Oliver"))
    assert [p.mrn for p in patient_rows.search(server_store, "oka", 10)] == ["P_1"]
    assert [p.mrn for p in patient_rows.search(server_store, "p_", 10)] == ["P_1"]
    assert [p.family_name for p in patient_rows.search(server_store, "", 10)] == [
        "Okafor", "Oliver"]


def test_two_workstations_appending_at_once_keep_one_chain(pg_clinic, clock):
    """Each write takes the server's write lock first, so the chain's head read inside
    the transaction is the one the insert follows: no fork, no gap."""
    stores = [open_server_store(pg_clinic.conninfo(WORKSTATION_LOGIN), clock)
              for _ in range(4)]
    errors: list[BaseException] = []

    def chart(n: int) -> None:
        try:
            for i in range(15):
                with stores[n].write(Actor(None, f"ws{n}")) as w:
                    patient_rows.insert_patient(w, patient_row(f"W{n}-{i}"))
        except BaseException as exc:  # noqa: BLE001 - reported by the assertion
            errors.append(exc)

    threads = [threading.Thread(target=chart, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    try:
        assert errors == []
        assert len(patient_rows.search(stores[0], "W", 100)) == 60
        assert list(walk_chain(stores[0].conn)) == []
    finally:
        for s in stores:
            s.close()


def test_the_owner_login_opens_it_too(pg_clinic, clock):
    store = open_server_store(pg_clinic.conninfo(OWNER_LOGIN), clock)
    try:
        assert patient_rows.any_patient(store) is False
    finally:
        store.close()


def test_percent_signs_reach_the_server_as_written(server_store):
    conn = server_store.conn
    assert conn.execute("SELECT 100 % 7, '%'").fetchone() == (2, "%")
    assert conn.execute("SELECT 100 % ?, '%?'", [7]).fetchone() == (2, "%?")


def test_server_addresses_are_told_from_files():
    assert is_server_address("postgresql://nurse@server/clinic")
    assert is_server_address("postgres://server/clinic")
    assert is_server_address("dbname=clinic host=server")
    assert not is_server_address("/home/clinic/ketalog.sqlite")
    assert not is_server_address("C:\\ketalog\\clinic.sqlite")


@given(st.lists(st.sampled_from(["?", "%", "'", '"', "a", " ", "%s", "??"]), max_size=30))
def test_placeholders_outside_quotes_become_pyformat(parts):
    sql = "".join(parts)
    out = qmark_to_pyformat(sql)
    # every literal % is doubled, and only ? outside quotes became %s
    quote, expected = "", []
    for ch in sql:
        if quote:
            expected.append("%%" if ch == "%" else ch)
            quote = "" if ch == quote else quote
        elif ch in "'\"":
            quote = ch
            expected.append(ch)
        else:
            expected.append({"?": "%s", "%": "%%"}.get(ch, ch))
    assert out == "".join(expected)


def test_placeholders_examples():
    assert qmark_to_pyformat("SELECT * FROM t WHERE a = ? AND b LIKE ? ESCAPE '\\'") == \
        "SELECT * FROM t WHERE a = %s AND b LIKE %s ESCAPE '\\'"
    assert qmark_to_pyformat("SELECT '?', \"x?\" FROM t WHERE c = ?") == \
        "SELECT '?', \"x?\" FROM t WHERE c = %s"
    assert qmark_to_pyformat("SELECT 100 % 7, '%' FROM t") == "SELECT 100 %% 7, '%%' FROM t"
