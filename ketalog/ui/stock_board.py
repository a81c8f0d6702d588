"""The Controlled substances board (admins and providers): balances by lot, recent
movements, and the open discrepancies, each opening the record behind it (the session,
the lot's log, or the count)."""

from __future__ import annotations

from PySide6.QtCore import QModelIndex, Signal
from PySide6.QtGui import QKeySequence, QShortcut
from PySide6.QtWidgets import (
    QDialog,
    QFileDialog,
    QGroupBox,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import Role
from ketalog.domain.stock import Discrepancy, LotBalance, containers_text
from ketalog.services import stock
from ketalog.services.context import Context
from ketalog.ui.stock_dialogs import (
    USER_ERRORS,
    CountDialog,
    LotLogDialog,
    ReceiveDialog,
    ResolveDialog,
    StockSettingsDialog,
    StockWasteDialog,
    local,
    movements_model,
)
from ketalog.ui.table_models import RowsModel, rows_view

RECENT = 200


def balances_model(today_expired: set[int]) -> RowsModel[LotBalance]:
    return RowsModel[LotBalance]([
        ("Lot", lambda b: b.lot.lot_number),
        ("Expiry", lambda b: b.lot.expiry.isoformat()
         + (" EXPIRED" if b.lot.id in today_expired else "")
         + (" RECALLED" if b.lot.recalled else "")),
        ("Balance mg", lambda b: f"{b.balance_mg:g}"),
        ("Containers", containers_text),
        ("mg/mL", lambda b: f"{b.lot.strength_mg_per_ml:g}"),
        ("mL each", lambda b: f"{b.lot.container_ml:g}"),
        ("Drawn mg", lambda b: f"{b.drawn_mg:g}"),
        ("Location", lambda b: b.lot.location), ("Product", lambda b: b.lot.product),
    ])


def discrepancy_model() -> RowsModel[Discrepancy]:
    return RowsModel[Discrepancy]([
        ("Kind", lambda d: d.kind.value.replace("_", " ")),
        ("What the record shows", lambda d: d.text),
    ])


class StockBoard(QDialog):
    open_session_requested = Signal(int)

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("stockBoard")
        self.setWindowTitle("Controlled substances")
        self.summary = QLabel()
        self.summary.setObjectName("stockSummary")
        self.summary.setWordWrap(True)
        self.balances = balances_model(set())
        self.balance_view = rows_view(self.balances, "stockBalances", stretch_last=True,
                                      alternate=True)
        self.discrepancies = discrepancy_model()
        self.discrepancy_view = rows_view(self.discrepancies, "stockDiscrepancies",
                                          stretch_last=True, alternate=True)
        self.discrepancy_view.setWordWrap(True)
        self.discrepancy_view.verticalHeader().setSectionResizeMode(
            QHeaderView.ResizeMode.ResizeToContents)
        self.discrepancy_view.horizontalHeader().setSectionResizeMode(
            1, QHeaderView.ResizeMode.Stretch)
        self.recent_view = rows_view(RowsModel([]), "stockMovements", stretch_last=True,
                                     alternate=True)
        buttons = QHBoxLayout()
        self.buttons: dict[str, QPushButton] = {}
        for name, text, slot in (
                ("receive", "&Receive...", self.receive), ("count", "&Count...", self.count),
                ("resolve", "Re&solve...", self.resolve_selected),
                ("lotLog", "Lot &log...", self.lot_log),
                ("waste", "&Waste from stock...", self.waste_from_stock),
                ("recall", "Re&call lot...", self.recall),
                ("export", "&Export report...", self.export),
                ("settings", "Se&ttings...", self.settings)):
            button = QPushButton(text)
            button.setObjectName(f"stock_{name}")
            button.clicked.connect(lambda _c=False, s=slot: s())
            buttons.addWidget(button)
            self.buttons[name] = button
        self.buttons["settings"].setVisible(Role.ADMIN in ctx.roles)
        buttons.addStretch(1)
        lots_box = QGroupBox("Balances by lot (Enter: the lot's log)")
        QVBoxLayout(lots_box).addWidget(self.balance_view)
        open_box = QGroupBox("Open discrepancies (Enter: the record behind it; Ctrl+R: "
                             "resolve)")
        QVBoxLayout(open_box).addWidget(self.discrepancy_view)
        recent_box = QGroupBox("Recent movements")
        QVBoxLayout(recent_box).addWidget(self.recent_view)
        top = QSplitter()
        top.addWidget(lots_box)
        top.addWidget(open_box)
        top.setSizes([760, 600])
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(top, 3)
        layout.addWidget(recent_box, 2)
        layout.addLayout(buttons)
        self.balance_view.activated.connect(lambda i: self.lot_log(i.row()))
        self.discrepancy_view.activated.connect(self.open_record)
        QShortcut(QKeySequence("Ctrl+R"), self, activated=self.resolve_selected)
        QShortcut(QKeySequence("F5"), self, activated=self.refresh)
        self.resize(1360, 760)
        self.refresh()

    def refresh(self) -> None:
        self.data = stock.board_data(self.ctx)
        today = self.data.as_of.astimezone().date()
        expired = {lot.id for lot in self.data.lots if lot.expired_on(today)}
        self.balances = balances_model(expired)
        self.balances.set_rows([self.data.picture.balances[lot.id] for lot in self.data.lots])
        self.balance_view.setModel(self.balances)
        self.discrepancies.set_rows(self.data.picture.open_discrepancies)
        self.recent = movements_model(self.data)
        self.recent.set_rows(list(reversed(self.data.movements[-RECENT:])))
        self.recent_view.setModel(self.recent)
        total = sum(b.balance_mg for b in self.data.picture.balances.values())
        n_open = len(self.data.picture.open_discrepancies)
        self.summary.setText(
            f"{len(self.data.lots)} lots, {total:g} mg on hand as of {local(self.data.as_of)}"
            f" · {n_open} open discrepanc{'y' if n_open == 1 else 'ies'}")
        self.summary.setStyleSheet("font-weight: bold;" + (" color: #b00020;" if n_open else ""))

    def _selected(self, view: object) -> int | None:
        rows = view.selectionModel().selectedRows()  # type: ignore[attr-defined]
        return rows[0].row() if rows else None

    def selected_discrepancy(self) -> Discrepancy | None:
        row = self._selected(self.discrepancy_view)
        if row is None and self.discrepancies.rowCount() == 1:
            row = 0
        return None if row is None else self.discrepancies.row_at(row)

    def selected_balance(self) -> LotBalance | None:
        row = self._selected(self.balance_view)
        return None if row is None else self.balances.row_at(row)

    def open_record(self, index: QModelIndex) -> QWidget | None:
        """A session discrepancy opens the session; a lot's or a count's opens the log."""
        d = self.discrepancies.row_at(index.row())
        if d.session_id is not None:
            self.open_session_requested.emit(d.session_id)
            return None
        lot = self.data.lot(d.lot_id)
        if lot is None:
            return None
        dialog = LotLogDialog(self.data, lot, self)
        dialog.show()
        return dialog

    def _run(self, dialog: QDialog) -> bool:
        ok = bool(dialog.exec())
        if ok:
            self.refresh()
        return ok

    def receive(self) -> None:
        self._run(ReceiveDialog(self.ctx, self))

    def count(self) -> None:
        if not stock.locations(self.ctx):
            QMessageBox.information(self, "Count", "Nothing has been received yet.")
            return
        self._run(CountDialog(self.ctx, self.data, self))

    def resolve_selected(self) -> None:
        d = self.selected_discrepancy()
        if d is None:
            QMessageBox.information(self, "Resolve", "Select an open discrepancy first.")
            return
        self._run(ResolveDialog(self.ctx, d, self))

    def lot_log(self, row: int | None = None) -> QWidget | None:
        row = self._selected(self.balance_view) if row is None else row
        if row is None:
            QMessageBox.information(self, "Lot log", "Select a lot first.")
            return None
        dialog = LotLogDialog(self.data, self.balances.row_at(row).lot, self)
        dialog.show()
        return dialog

    def waste_from_stock(self) -> None:
        b = self.selected_balance()
        if b is None:
            QMessageBox.information(self, "Waste from stock", "Select a lot first.")
            return
        self._run(StockWasteDialog(self.ctx, b.lot, b.balance_mg, self))

    def recall(self) -> None:
        from PySide6.QtWidgets import QInputDialog

        b = self.selected_balance()
        if b is None:
            QMessageBox.information(self, "Recall lot", "Select a lot first.")
            return
        reason, ok = QInputDialog.getText(
            self, "Recall lot", f"Recall {b.lot.label}? It can no longer be drawn (this "
            "cannot be undone). Reason (notice, number):")
        if ok:
            try:
                stock.recall_lot(self.ctx, b.lot.id, reason)
            except USER_ERRORS as exc:
                QMessageBox.warning(self, "Recall lot", str(exc))
                return
            self.refresh()

    def settings(self) -> None:
        self._run(StockSettingsDialog(self.ctx, self))

    def export(self) -> None:
        from ketalog.ui.stock_export import StockExportDialog

        StockExportDialog(self.ctx, self).exec()

    def choose_file(self, suggested: str) -> str:
        path, _ = QFileDialog.getSaveFileName(self, "Export stock report", suggested,
                                              "PDF (*.pdf);;CSV (*.csv)")
        return path
