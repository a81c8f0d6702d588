"""Export the controlled-substance record for a range of days as PDF or CSV. The data
is gathered on the GUI thread (the store's connection lives there), the PDF rendered
behind a busy dialog, the file written and audited back on the GUI thread."""

from __future__ import annotations

from concurrent.futures import Future
from datetime import date, timedelta
from pathlib import Path

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QComboBox,
    QDateEdit,
    QDialog,
    QFileDialog,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QWidget,
)

from ketalog.services import stock_export
from ketalog.services.context import Context
from ketalog.services.documents import stock_document
from ketalog.ui.feedback import error_label, finish_form
from ketalog.ui.stock_dialogs import USER_ERRORS


def _date_edit(name: str, day: date) -> QDateEdit:
    edit = QDateEdit(QDate(day.year, day.month, day.day))
    edit.setObjectName(name)
    edit.setCalendarPopup(True)
    edit.setDisplayFormat("yyyy-MM-dd")
    return edit


def _day(edit: QDateEdit) -> date:
    d = edit.date()
    return date(d.year(), d.month(), d.day())


class StockExportDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("stockExportDialog")
        self.setWindowTitle("Export the controlled-substance record")
        today = ctx.clock.now().astimezone().date()
        self.since = _date_edit("stockExportFrom", today - timedelta(days=30))
        self.until = _date_edit("stockExportTo", today)
        self.kind = QComboBox()
        self.kind.setObjectName("stockExportFormat")
        self.kind.addItem("PDF (reconciliation, inventory, administrations, lot logs)", ".pdf")
        self.kind.addItem("CSV (movement log + three tables beside it)", ".csv")
        self.path = QLineEdit(str(Path.home() / f"controlled-substances-{today}.pdf"))
        self.path.setObjectName("stockExportPath")
        browse = QPushButton("&Browse...")
        browse.clicked.connect(self._browse)
        row = QHBoxLayout()
        row.addWidget(self.path)
        row.addWidget(browse)
        self.kind.currentIndexChanged.connect(self._suffix)
        self.error = error_label("stockExportError")
        form = QFormLayout()
        form.addRow("&From (clinic day)", self.since)
        form.addRow("&To (inclusive)", self.until)
        form.addRow("F&ormat", self.kind)
        form.addRow("&File", row)
        finish_form(self, form, self.error, self.export, ok_text="Export")
        self.future: Future[bytes] | None = None
        self.written: list[Path] = []

    def _suffix(self) -> None:
        self.path.setText(str(Path(self.path.text()).with_suffix(self.kind.currentData())))

    def _browse(self) -> None:
        name, _ = QFileDialog.getSaveFileName(self, "Export to", self.path.text())
        if name:
            self.path.setText(name)
            self._suffix()

    def _fail(self, exc: Exception) -> None:
        self._say(str(exc))

    def _say(self, message: str) -> None:
        self.error.setText(message)
        self.error.show()

    def export(self) -> Future[bytes] | None:
        out = Path(self.path.text()).expanduser()
        try:
            if self.kind.currentData() == ".csv":
                result = stock_export.export_stock(self.ctx, _day(self.since), _day(self.until),
                                                   out.with_suffix(".csv"))
                self.written = result.files
                self.accept()
                return None
            document = stock_document(self.ctx, _day(self.since), _day(self.until))
        except USER_ERRORS as exc:
            self._fail(exc)
            return None
        from ketalog.ui.pdf_output import export_document

        def written(path: Path) -> None:
            self.written = [path]
            self.accept()

        self.future = export_document(self, self.ctx, document, out.with_suffix(".pdf"),
                                      written, self._say)
        return self.future
