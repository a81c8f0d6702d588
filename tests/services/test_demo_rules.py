"""The demo clinic obeys the rules the services apply: its stated totals are the dosing
engine's, its signatures verify, every row it writes is audited to a demo user, and a
seed fixes its content."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from ketalog.domain import dosing
from ketalog.domain.clock import FixedClock, from_iso
from ketalog.services.demo import DemoReport, create_demo
from ketalog.services.sessions import dose_events
from ketalog.store.connection import open_store
from ketalog.store.store import Store
from ketalog.store.verify import verify_store
from tests.engines import ENGINES, open_new_database

pytestmark = pytest.mark.both_engines

NOW = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
DEMO_USERS = {"admin", "nurse", "nurse2", "provider"}
# Reference data seeded by opening a store or bootstrapping its first admin, not by the demo.
SEEDED = {"indications", "clinic_settings"}
TOTAL = re.compile(r"Ketamine (\d+) mg \(")


@pytest.fixture(scope="module", params=ENGINES)
def built(request, tmp_path_factory) -> tuple[Store, DemoReport]:
    clock = FixedClock(NOW)
    store = open_new_database(request.param, request, tmp_path_factory.mktemp("demo_rules"), clock)
    report = create_demo(store, clock, seed=3)
    yield store, report
    store.close()


def test_stated_totals_are_the_dosing_engines(built: tuple[Store, DemoReport]) -> None:
    store, _ = built
    checked = 0
    for session in store.rows("sessions"):
        if session["status"] == "in_progress":
            continue
        end = from_iso(session["infusion_end_at"])
        total = dosing.session_total_mg(dose_events(store, session["id"]), end)
        stated = [int(m.group(1)) for n in store.rows("notes", session_id=session["id"])
                  if (m := TOTAL.search(str(n["text"])))]
        assert stated, session["id"]
        assert stated[-1] == pytest.approx(total, abs=0.5), session["id"]
        checked += 1
    assert checked > 100


def test_every_signature_verifies(built: tuple[Store, DemoReport]) -> None:
    store, _ = built
    assert store.rows("signatures")
    assert verify_store(store) == []


def _uuid_tables(store: Store) -> list[str]:
    return [n for n, columns in store.engine.table_columns().items()
            if n != "audit_log" and not n.startswith("sqlite_") and "uuid" in columns]


def test_every_demo_row_is_audited_to_a_demo_user(built: tuple[Store, DemoReport]) -> None:
    store, _ = built
    inserted: dict[tuple[str, str], str] = {}
    for entry in store.audit_rows(action="insert"):
        inserted.setdefault((str(entry["table_name"]), str(entry["row_uuid"])),
                            str(entry["username"]))
    admin = next(u["id"] for u in store.rows("users") if u["username"] == "admin")
    tables = [t for t in _uuid_tables(store) if t not in SEEDED]
    assert {"patients", "sessions", "vitals", "signatures"} <= set(tables)
    for table in tables:
        for row in store.rows(table):
            who = inserted.get((table, str(row["uuid"])))
            if (table, row.get("id" if table == "users" else "user_id")) in {
                    ("users", admin), ("user_keys", admin)}:
                assert who is not None  # the first admin and key, bootstrapped as system
                continue
            assert who in DEMO_USERS, (table, row["uuid"], who)


def _content(store: Store) -> dict[str, list[dict[str, object]]]:
    skip = {"id", "uuid", "created_at", "updated_at", "hash", "password_hash", "salt",
            "public_key", "sealed_private_key", "nonce", "signature", "entry_hash",
            "prev_hash", "row_uuid", "old_values", "new_values", "content_hash", "key_id"}
    return {t: [{k: v for k, v in r.items() if k not in skip} for r in store.rows(t)]
            for t in ("patients", "sessions", "notes", "scores", "side_effects")}


def test_same_seed_same_content(tmp_path) -> None:
    clock = FixedClock(NOW)
    contents = []
    for name in ("a", "b"):
        store = open_store(tmp_path / f"{name}.db", clock)
        create_demo(store, clock, seed=5)
        contents.append(_content(store))
        store.close()
    assert contents[0] == contents[1]
