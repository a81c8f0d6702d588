"""One document flow for every PDF: gathered with the reader's permission, rendered
without the store, saved whole and audited, or printed and audited; a store failure
leaves as a ServiceError with the store's wording and leaves no file."""

from __future__ import annotations

import json
import sqlite3
import threading
from datetime import date

import pytest

from ketalog.services.documents import course_document, session_document, stock_document
from ketalog.services.errors import PermissionDenied, ServiceError, StoreFailed
from tests.store.helpers import build_signed_session

pytestmark = pytest.mark.both_engines


@pytest.fixture
def signed(store, clock):
    return build_signed_session(store, clock)


def _entries(store, action: str) -> list[dict]:
    return [r for r in store.audit_rows() if r["action"] == action]


def _details(entry: dict) -> dict:
    return json.loads(entry["new_values"])


def test_session_document_renders_off_the_store_then_saves_and_audits(store, signed,
                                                                      tmp_path):
    nurse = signed.staff.nurse
    document = session_document(nurse, signed.session_id)
    rendered: list[bytes] = []
    worker = threading.Thread(target=lambda: rendered.append(document.render()))
    worker.start()  # the render touches no store: a thread without a connection can run it
    worker.join(60)
    assert rendered and rendered[0].startswith(b"%PDF")
    out = document.save(nurse, rendered[0], tmp_path / "s.pdf")
    assert out.read_bytes() == rendered[0]
    entry = _entries(store, "export")[-1]
    assert entry["row_uuid"] == document.row_uuid and document.table == "sessions"
    details = _details(entry)
    assert details["kind"] == "session" and details["audit_head"] == document.details["audit_head"]
    assert details["file"] == str(out.resolve()) and details["bytes"] == len(rendered[0])


def test_a_print_is_audited_with_printer_and_copies(store, signed):
    provider = signed.staff.provider
    document = course_document(provider, signed.patient_id)
    assert document.render().startswith(b"%PDF") and document.table == "patients"
    document.printed(provider, "front-desk", 2)
    entry = _entries(store, "print")[-1]
    details = _details(entry)
    assert (details["printer"], details["copies"], details["kind"]) == ("front-desk", 2, "course")


def test_the_stock_record_is_refused_to_a_nurse(signed):
    with pytest.raises(PermissionDenied):
        stock_document(signed.staff.nurse, date(2026, 11, 1), date(2026, 11, 30))
    document = stock_document(signed.staff.provider, date(2026, 11, 1), date(2026, 11, 30))
    assert document.render().startswith(b"%PDF")


@pytest.mark.sqlite_only("holds the file's write lock from a second sqlite3 connection")
def test_a_busy_database_is_a_service_error_and_leaves_no_file(store, signed, tmp_path):
    nurse = signed.staff.nurse
    document = session_document(nurse, signed.session_id)
    data = document.render()
    other = sqlite3.connect(str(store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another workstation holds the write lock
    store.conn.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(StoreFailed, match="busy") as caught:
            document.save(nurse, data, tmp_path / "s.pdf")
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert isinstance(caught.value, ServiceError)
    assert list(tmp_path.glob("*.pdf")) == [] and list(tmp_path.glob(".*")) == []
