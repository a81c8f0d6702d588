"""The menu actions for FHIR and CSV: a file or folder picker, the service (which writes
and audits), a line in the status bar. Kept here so the windows only add a menu entry."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication
from PySide6.QtWidgets import QDialog, QFileDialog, QMainWindow, QMessageBox

from ketalog.domain.entities import Patient
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError


@contextmanager
def busy() -> Iterator[None]:
    QGuiApplication.setOverrideCursor(Qt.CursorShape.WaitCursor)
    try:
        yield
    finally:
        QGuiApplication.restoreOverrideCursor()


def _start_dir() -> Path:
    documents = Path.home() / "Documents"
    return documents if documents.is_dir() else Path.home()


def ask_json_path(parent: QMainWindow, suggested: str) -> Path | None:
    name, _ = QFileDialog.getSaveFileName(parent, "Export FHIR", str(_start_dir() / suggested),
                                          "FHIR JSON (*.json)")
    if not name:
        return None
    path = Path(name)
    return path if path.suffix.lower() == ".json" else path.with_name(path.name + ".json")


def ask_folder(parent: QMainWindow, title: str) -> Path | None:
    name = QFileDialog.getExistingDirectory(parent, title, str(_start_dir()))
    return Path(name) if name else None


def export_fhir(window: QMainWindow, ctx: Context, *, patient: Patient | None = None,
                session_id: int | None = None, path: Path | None = None) -> Path | None:
    """A patient's sessions or one session as a FHIR R4 Bundle."""
    from ketalog.services.fhir_export import export_patient_fhir, export_session_fhir

    suggested = f"{patient.mrn}-fhir.json" if patient else f"session-{session_id}-fhir.json"
    path = path or ask_json_path(window, suggested)
    if path is None:
        return None
    try:
        with busy():
            if patient is not None:
                result = export_patient_fhir(ctx, patient.id or 0, path)
            else:
                result = export_session_fhir(ctx, session_id or 0, path)
    except ServiceError as exc:
        QMessageBox.warning(window, "Export FHIR", str(exc))
        return None
    window.statusBar().showMessage(f"FHIR bundle written to {result.path}: {result.sessions} "
                                   f"session(s), {result.total} resources", 15_000)
    return result.path


def export_csv(window: QMainWindow, ctx: Context, patient: Patient,
               folder: Path | None = None) -> Path | None:
    """All of a patient's records as CSV files (one per kind) into a folder."""
    from ketalog.services.csv_export import export_patient_csv

    folder = folder or ask_folder(window, f"Export CSV for {patient.mrn}: choose a folder")
    if folder is None:
        return None
    target = folder / f"{patient.mrn}-csv"
    try:
        with busy():
            result = export_patient_csv(ctx, patient.id or 0, target)
    except ServiceError as exc:
        QMessageBox.warning(window, "Export CSV", str(exc))
        return None
    rows = ", ".join(f"{k} {n}" for k, n in result.rows.items())
    window.statusBar().showMessage(f"CSV files written to {target}: {rows}", 15_000)
    return target


def import_vitals(window: QMainWindow, ctx: Context, session_id: int, reload: Callable[[], None],
                  open_dialog: Callable[[QDialog], object], path: Path | None = None) -> QDialog:
    from ketalog.ui.vitals_import_dialog import VitalsImportDialog

    dialog = VitalsImportDialog(ctx, session_id, window, path)

    def done(count: int) -> None:
        reload()
        window.statusBar().showMessage(f"Imported {count} readings from CSV", 15_000)

    dialog.imported.connect(done)
    if path is not None:
        dialog.load_preview()
    open_dialog(dialog)
    return dialog
