"""No export is visible without its audit entry: the file is staged under a hidden
name, the audit committed, then renamed; a failed audit leaves nothing behind."""

from __future__ import annotations

import sqlite3
import stat

import pytest

from ketalog.services.csv_export import export_patient_csv
from ketalog.services.exports import export_session_pdf
from ketalog.services.fhir_export import export_session_fhir
from ketalog.store.errors import StoreError
from tests.store.helpers import build_signed_session


@pytest.fixture
def signed(store, clock):
    return build_signed_session(store, clock)


def _exports(store) -> int:
    return store.count("audit_log", action="export")


@pytest.mark.parametrize("kind", ["pdf", "fhir", "csv"])
def test_an_export_whose_audit_fails_leaves_nothing(store, signed, tmp_path, kind):
    out = tmp_path / "out"
    out.mkdir()
    nurse = signed.staff.nurse

    def export() -> None:
        if kind == "pdf":
            export_session_pdf(nurse, signed.session_id, out / "session.pdf")
        elif kind == "fhir":
            export_session_fhir(nurse, signed.session_id, out / "session.json")
        else:
            export_patient_csv(nurse, signed.patient_id, out)

    before = _exports(store)
    other = sqlite3.connect(str(store.path), isolation_level=None)
    other.execute("BEGIN IMMEDIATE")  # another ketalog holds the write lock
    store.conn.execute("PRAGMA busy_timeout = 200")
    try:
        with pytest.raises(StoreError, match="busy"):
            export()
    finally:
        other.execute("ROLLBACK")
        other.close()
    assert list(out.iterdir()) == []  # not even a hidden temporary file
    assert _exports(store) == before
    export()
    files = sorted(out.iterdir())
    assert files and all(not f.name.startswith(".") for f in files)
    assert {stat.S_IMODE(f.stat().st_mode) for f in files} == {0o600}
    assert _exports(store) == before + 1
