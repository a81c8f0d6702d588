"""Session > Import vitals from CSV: the preview shows every parsed row and every error
with its line number, nothing is stored until Import, then all rows are; and the
Patient menu's FHIR and CSV exports write audited files."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest

from ketalog.domain.entities import Bag
from ketalog.services import sessions as svc
from ketalog.ui.main_window import MainWindow
from ketalog.ui.session_window import SessionWindow
from ketalog.ui.vitals_import_dialog import VitalsImportDialog
from tests.interop.records import new_patient


@pytest.fixture
def live(staffed, clock):
    store, ctx = staffed
    patient = new_patient(ctx)
    sid = svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 82.0, Bag("ketamine", 1.0, 500), series_total=6,
        arrival_at=clock.now() - timedelta(hours=2))).id
    return store, ctx, patient, sid


def monitor_file(tmp_path, clock, bad: bool = False):
    base = clock.now() - timedelta(hours=1)
    lines = ["Timestamp;NIBP-S;NIBP-D;PR;SpO2;Temp"]
    for i in range(40):
        at = (base + timedelta(minutes=i)).strftime("%d/%m/%Y %H:%M:%S")
        hr = 900 if bad and i in (3, 17) else 70 + i % 5
        lines.append(f"{at};{120 + i};{80};{hr};{98 if i != 5 else 89};36,{i % 10}")
    path = tmp_path / "monitor.csv"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def wait_preview(qtbot, dialog: VitalsImportDialog, **fields) -> None:
    dialog.mapping.setText(fields.get("mapping", "sbp_mmhg=NIBP-S, dbp_mmhg=NIBP-D, "
                                                 "time=Timestamp"))
    dialog.time_format.setText("%d/%m/%Y %H:%M:%S")
    future = dialog.load_preview()
    assert future is not None
    qtbot.waitUntil(lambda: future.done() and dialog.preview is not None, timeout=10_000)


def test_preview_then_import(qtbot, live, clock, tmp_path):
    store, ctx, _, sid = live
    dialog = VitalsImportDialog(ctx["nurse"], sid, path=monitor_file(tmp_path, clock))
    qtbot.addWidget(dialog)
    before = (store.count("vitals"), store.count("audit_log"))
    wait_preview(qtbot, dialog)
    assert dialog.rows.rowCount() == 40 and dialog.errors.count() == 0
    assert dialog.rows.data(dialog.rows.index(0, 0)) == "2"  # file line of the first row
    assert dialog.rows.data(dialog.rows.index(0, 5)) == "70"  # HR
    assert dialog.rows.data(dialog.rows.index(5, 10)) == "SpO2"  # alert shown in preview
    assert "40 readings ready" in dialog.summary.text()
    assert "hr_bpm ← PR" in dialog.summary.text()
    assert dialog.commit_button.isEnabled()
    assert (store.count("vitals"), store.count("audit_log")) == before  # nothing yet
    imported: list[int] = []
    dialog.imported.connect(imported.append)
    dialog.commit_button.click()
    assert imported == [40] and store.count("vitals") == 40
    stored = svc.vitals(store, sid)
    assert stored[0].source == "import:monitor.csv" and stored[5].alerts == ("spo2_pct",)
    assert stored[3].temp_c == pytest.approx(36.3)
    assert store.audit_rows()[-1]["action"] == "import"


def test_errors_block_the_import_and_name_their_lines(qtbot, live, clock, tmp_path):
    store, ctx, _, sid = live
    dialog = VitalsImportDialog(ctx["nurse"], sid, path=monitor_file(tmp_path, clock, bad=True))
    qtbot.addWidget(dialog)
    wait_preview(qtbot, dialog)
    errors = [dialog.errors.item(i).text() for i in range(dialog.errors.count())]
    assert errors[0].startswith("line 5: HR 900 /min") and errors[1].startswith("line 19: ")
    assert dialog.rows.rowCount() == 38  # the sound rows are still shown
    assert not dialog.commit_button.isEnabled() and "2 error(s)" in dialog.summary.text()
    assert dialog.commit() is False and store.count("vitals") == 0
    dialog.mapping.setText("hr_bpm=nope")  # a bad mapping is explained, nothing shown
    future = dialog.load_preview()
    qtbot.waitUntil(lambda: future.done() and "'nope'" in dialog.summary.text(),
                    timeout=10_000)
    assert dialog.preview is None and dialog.rows.rowCount() == 0


def test_session_menu_opens_the_dialog_and_reloads(qtbot, live, clock, tmp_path):
    store, ctx, _, sid = live
    window = SessionWindow(ctx["nurse"], sid)
    qtbot.addWidget(window)
    assert window.import_action.isEnabled()
    opened: list[VitalsImportDialog] = []
    window.open_dialog = opened.append  # type: ignore[assignment]
    dialog = window.import_vitals(monitor_file(tmp_path, clock))
    assert opened == [dialog]
    dialog.mapping.setText("sbp_mmhg=NIBP-S, dbp_mmhg=NIBP-D, time=Timestamp")
    dialog.time_format.setText("%d/%m/%Y %H:%M:%S")
    future = dialog.load_preview()
    qtbot.waitUntil(lambda: future.done() and dialog.preview is not None, timeout=10_000)
    assert dialog.commit()
    assert window.vitals_model.rowCount() == 40  # the window reloaded
    bundle = json.loads(window.export_fhir(tmp_path / "s.json").read_text(encoding="utf-8"))
    assert sum(e["resource"]["resourceType"] == "Encounter" for e in bundle["entry"]) == 1
    provider = SessionWindow(ctx["provider"], sid)
    qtbot.addWidget(provider)
    assert not provider.import_action.isEnabled()  # nurses and admins import


def test_patient_menu_exports_fhir_and_csv(qtbot, live, clock, tmp_path):
    store, ctx, patient, sid = live
    svc.record_vitals(ctx["nurse"], sid, {"hr_bpm": 0 + 70, "rr_per_min": 0})
    window = MainWindow(ctx["nurse"], store.path)
    qtbot.addWidget(window)
    window.search.setText("K0001")
    path = window.export_fhir(tmp_path / "k.json")
    assert path is not None and json.loads(path.read_text())["resourceType"] == "Bundle"
    folder = window.export_csv(tmp_path)
    assert folder == tmp_path / "K0001-csv"
    assert (folder / "vitals.csv").read_text(encoding="utf-8").count("\n") == 2
    actions = [e["new_values"] for e in store.audit_rows() if e["action"] == "export"]
    assert '"format": "fhir-r4"' in actions[-2] and '"format": "csv"' in actions[-1]
    names = {a.objectName() for a in window.menus["patient"].actions()}
    assert {"actionExportFhir", "actionExportCsv"} <= names



def test_a_malformed_mapping_is_named_and_nothing_is_read(qtbot, live, clock, tmp_path):
    _, ctx, _, sid = live
    dialog = VitalsImportDialog(ctx["nurse"], sid, path=monitor_file(tmp_path, clock))
    qtbot.addWidget(dialog)
    dialog.mapping.setText("time=Timestamp, PR")
    assert dialog.load_preview() is None
    assert dialog.summary.text() == "Mapping: mapping ' PR' must look like ourcol=theircol"
    assert dialog.preview is None and not dialog.commit_button.isEnabled()
