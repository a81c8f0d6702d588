"""Session > Import vitals from CSV: pick a monitor's CSV export, see every parsed row and
every error (with its line number) before anything is stored; Import stores all rows in
one transaction or none. Big files are parsed on a worker thread behind a progress bar;
the checks against the session and the write stay on the GUI thread (the store's
connection belongs to it)."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from concurrent.futures import Future
from pathlib import Path

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QListWidget,
    QProgressDialog,
    QPushButton,
    QSplitter,
    QTableView,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import VITAL_FIELDS
from ketalog.domain.vitals import derive_map_mmhg, format_vital
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.vitals_import import (
    ImportPreview,
    ImportRejected,
    ParsedReading,
    VitalsCsv,
    check_vitals_import,
    column_map,
    commit_vitals_import,
    parse_file,
)
from ketalog.ui.table_models import RowsModel
from ketalog.ui.tasks import tasks_of

Row = tuple[ParsedReading, tuple[str, ...]]
LABELS = {"sbp_mmhg": "SBP", "dbp_mmhg": "DBP", "map_mmhg": "MAP", "hr_bpm": "HR",
          "spo2_pct": "SpO2", "rr_per_min": "RR", "etco2_mmhg": "EtCO2", "temp_c": "Temp °C"}


def _vital(field: str) -> Callable[[Row], object]:
    def get(row: Row) -> str:
        values = row[0].values
        if field == "map_mmhg" and field not in values and "sbp_mmhg" in values \
                and "dbp_mmhg" in values:  # as the import will store it
            return format_vital(field, derive_map_mmhg(values["sbp_mmhg"], values["dbp_mmhg"]))
        return format_vital(field, values.get(field))
    return get


def preview_model() -> RowsModel[Row]:
    columns: list[tuple[str, Callable[[Row], object]]] = [
        ("Line", lambda row: row[0].line),
        ("Time", lambda row: row[0].at.astimezone().strftime("%Y-%m-%d %H:%M:%S")),
    ]
    columns += [(LABELS[f], _vital(f)) for f in VITAL_FIELDS]
    columns += [("Alerts", lambda row: ", ".join(LABELS.get(a, a) for a in row[1])),
                ("Artifact", lambda row: row[0].artifact_reason if row[0].artifact else "")]
    return RowsModel[Row](columns)


def split_mapping(text: str) -> dict[str, str]:
    """'hr_bpm=PR, time=Timestamp' (commas, semicolons or new lines between pairs)."""
    return column_map([p for p in re.split(r"[,;\n]", text) if p.strip()])


class VitalsImportDialog(QDialog):
    imported = Signal(int)

    def __init__(self, ctx: Context, session_id: int, parent: QWidget | None = None,
                 path: Path | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.preview: ImportPreview | None = None
        self._generation = 0  # a newer preview makes an older, slower one stale
        self.setObjectName("vitalsImportDialog")
        self.setWindowTitle("Import vitals from CSV")
        self.file = QLineEdit(str(path) if path else "")
        self.file.setObjectName("importFile")
        browse = QPushButton("&Browse...")
        browse.clicked.connect(self.browse)
        self.mapping = QLineEdit()
        self.mapping.setObjectName("importMapping")
        self.mapping.setPlaceholderText("only if the monitor names columns differently, "
                                        "e.g. hr_bpm=PR, time=Timestamp")
        self.time_format = QLineEdit()
        self.time_format.setObjectName("importTimeFormat")
        self.time_format.setPlaceholderText("ISO-8601 by default; e.g. %d/%m/%Y %H:%M:%S")
        self.preview_button = QPushButton("&Preview")
        self.preview_button.setObjectName("importPreview")
        self.preview_button.clicked.connect(lambda: self.load_preview())
        self.summary = QLabel("Choose a file, then Preview. Nothing is stored until Import.")
        self.summary.setObjectName("importSummary")
        self.summary.setWordWrap(True)
        self.rows = preview_model()
        self.table = QTableView()
        self.table.setObjectName("importPreviewTable")
        self.table.setModel(self.rows)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setStretchLastSection(True)
        for column, width in enumerate((50, 150, *([60] * len(VITAL_FIELDS)), 120)):
            self.table.setColumnWidth(column, width)  # fixed: big files have many rows
        self.errors = QListWidget()
        self.errors.setObjectName("importErrors")
        self.buttons = QDialogButtonBox(QDialogButtonBox.StandardButton.Cancel)
        self.commit_button = self.buttons.addButton("&Import",
                                                    QDialogButtonBox.ButtonRole.AcceptRole)
        self.commit_button.setObjectName("importCommit")
        self.commit_button.setEnabled(False)
        self.commit_button.clicked.connect(self.commit)
        self.buttons.rejected.connect(self.reject)
        form = QFormLayout()
        file_row = QHBoxLayout()
        file_row.addWidget(self.file, 1)
        file_row.addWidget(browse)
        file_label = QLabel("CSV &file")
        file_label.setBuddy(self.file)
        form.addRow(file_label, file_row)
        form.addRow("Column &mapping", self.mapping)
        form.addRow("&Time format", self.time_format)
        split = QSplitter(Qt.Orientation.Vertical)
        split.addWidget(self.table)
        errors_box = QWidget()
        errors_layout = QVBoxLayout(errors_box)
        errors_layout.setContentsMargins(0, 0, 0, 0)
        errors_layout.addWidget(QLabel("Errors (fix the file and preview again):"))
        errors_layout.addWidget(self.errors)
        split.addWidget(errors_box)
        split.setSizes([380, 140])
        layout = QVBoxLayout(self)
        layout.addLayout(form)
        row = QHBoxLayout()
        row.addWidget(self.summary, 1)
        row.addWidget(self.preview_button)
        layout.addLayout(row)
        layout.addWidget(split, 1)
        layout.addWidget(self.buttons)
        self.resize(980, 620)

    def browse(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Monitor CSV export", self.file.text(),
                                              "CSV files (*.csv *.txt);;All files (*)")
        if name:
            self.file.setText(name)
            self.load_preview()

    def _clear(self, message: str) -> None:
        self.preview = None
        self.rows.set_rows([])
        self.errors.clear()
        self.commit_button.setEnabled(False)
        self.summary.setText(message)

    def load_preview(self) -> Future[VitalsCsv] | None:
        """Parse on a worker (progress bar for big files), then check on this thread."""
        self._generation += 1
        generation = self._generation
        path = Path(self.file.text().strip()).expanduser()
        try:
            mapping = split_mapping(self.mapping.text())
            data = path.read_bytes()
        except ServiceError as exc:
            self._clear(f"Mapping: {exc}")
            return None
        except OSError as exc:
            self._clear(f"Cannot read {path}: {exc.strerror or exc}")
            return None
        self._clear(f"Reading {path.name}...")
        time_format = self.time_format.text().strip() or None
        bar = QProgressDialog(f"Reading {path.name}...", "", 0, 100, self)
        bar.setObjectName("importProgress")
        bar.setCancelButton(None)
        bar.setMinimumDuration(400)
        tasks = tasks_of(self)
        shown = tasks.progress(lambda _phase, done, total: bar.setValue(
            min(99, 100 * done // max(total, 1))))

        def parse() -> VitalsCsv:
            return parse_file(data, path.name, mapping, time_format=time_format,
                              progress=lambda done, total: shown("read", done, total))

        def ended(outcome: VitalsCsv | BaseException) -> None:
            bar.close()
            bar.deleteLater()
            if generation == self._generation:  # a newer preview replaces this one
                self._parsed(outcome, path.name, hashlib.sha256(data).hexdigest())

        return tasks.run(parse, ended, ended, owner=self)

    def _parsed(self, outcome: VitalsCsv | BaseException, name: str, sha256: str) -> None:
        try:
            if isinstance(outcome, BaseException):
                raise outcome
            preview = check_vitals_import(self.ctx, self.session_id, outcome, name, sha256)
        except ServiceError as exc:
            self._clear(str(exc))
            return
        self.preview = preview
        self.rows.set_rows(list(zip(preview.readings, preview.alerts, strict=True)))
        for e in preview.errors:
            self.errors.addItem(str(e))
        if preview.error_count > len(preview.errors):
            self.errors.addItem(f"... and {preview.error_count - len(preview.errors)} more")
        parsed = preview.parsed
        columns = ", ".join(f"{ours} ← {theirs}" for ours, theirs in parsed.columns.items())
        ignored = f"; ignored: {', '.join(parsed.ignored)}" if parsed.ignored else ""
        skipped = f", {parsed.skipped_empty} rows without values skipped" \
            if parsed.skipped_empty else ""
        alerts = sum(1 for a in preview.alerts if a)
        head = (f"{len(preview.readings)} readings ready to import ({alerts} with alerts"
                f"{skipped})." if preview.ok else
                f"{preview.error_count} error(s): nothing can be imported until the file is "
                f"fixed." if preview.error_count else "No readings in this file.")
        self.summary.setText(f"{head}\nColumns: {columns}{ignored}")
        self.commit_button.setEnabled(preview.ok)

    def commit(self) -> bool:
        if self.preview is None:
            return False
        try:
            result = commit_vitals_import(self.ctx, self.preview)
        except (ImportRejected, ServiceError) as exc:
            self._clear(f"Nothing imported: {exc}")
            return False
        self.imported.emit(result.imported)
        self.accept()
        return True
