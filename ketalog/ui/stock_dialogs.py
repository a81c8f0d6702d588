"""Forms of the Controlled substances board: receive, count, resolve, waste from stock,
recall, settings, and a lot's log. Each refuses inline and keeps what was typed."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from PySide6.QtCore import QDate, Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.domain.stock import Discrepancy, DiscrepancyKind, Lot, Movement, containers_text
from ketalog.services import stock
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.ui.feedback import error_label, finish_form, password_field
from ketalog.ui.table_models import RowsModel, rows_view

USER_ERRORS = (PlausibilityError, ServiceError)


def local(value: datetime | None) -> str:
    """A stored time in the clinic's local time, to the minute."""
    return value.astimezone().strftime("%Y-%m-%d %H:%M") if value is not None else ""


class _Form(QDialog):
    """A form whose OK runs one service call; a refusal is shown, the form kept."""

    def __init__(self, title: str, name: str, parent: QWidget | None) -> None:
        super().__init__(parent)
        self.setWindowTitle(title)
        self.setObjectName(name)
        self.error = error_label(f"{name}Error")
        self.form = QFormLayout()

    def finish(self, ok_text: str) -> None:
        finish_form(self, self.form, self.error, self.save, ok_text=ok_text)

    def attempt(self, action: Callable[[], object]) -> bool:
        try:
            self.result_value = action()
        except USER_ERRORS as exc:
            self.error.setText(str(exc))
            self.error.show()
            return False
        self.accept()
        return True

    def save(self) -> None:  # pragma: no cover - each form overrides
        raise NotImplementedError


def _spin(name: str, low: float, high: float, value: float, suffix: str,
          decimals: int = 1) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(low, high)
    spin.setDecimals(decimals)
    spin.setValue(value)
    spin.setSuffix(suffix)
    return spin


class ReceiveDialog(_Form):
    """Stock in (admins and providers): product, strength, container, lot, expiry,
    supplier, invoice and the number of containers, into a storage location."""

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__("Receive controlled substance", "receiveDialog", parent)
        self.ctx = ctx
        self.location = QComboBox()
        self.location.setObjectName("receiveLocation")
        self.location.setEditable(True)
        for loc_id, name in stock.locations(ctx):
            self.location.addItem(name, loc_id)
        if not self.location.count():
            self.location.setCurrentText("Safe A")
        self.product = QLineEdit("Ketamine HCl injection")
        self.product.setObjectName("receiveProduct")
        self.strength = _spin("receiveStrength", 0, 500, 50, " mg/mL")
        self.container = _spin("receiveContainer", 0, 1000, 10, " mL")
        self.lot = QLineEdit()
        self.lot.setObjectName("receiveLot")
        self.expiry = QDateEdit()
        self.expiry.setObjectName("receiveExpiry")
        self.expiry.setCalendarPopup(True)
        self.expiry.setDisplayFormat("yyyy-MM-dd")
        self.expiry.setDate(QDate.currentDate().addYears(1))
        self.supplier = QLineEdit()
        self.supplier.setObjectName("receiveSupplier")
        self.invoice = QLineEdit()
        self.invoice.setObjectName("receiveInvoice")
        self.quantity = QSpinBox()
        self.quantity.setObjectName("receiveQuantity")
        self.quantity.setRange(1, 10000)
        self.quantity.setSuffix(" containers")
        self.total = QLabel()
        for w in (self.strength, self.container, self.quantity):
            w.valueChanged.connect(self._show_total)
        f = self.form
        f.addRow("&Location", self.location)
        f.addRow("&Product", self.product)
        f.addRow("&Strength", self.strength)
        f.addRow("&Container size", self.container)
        f.addRow("L&ot number", self.lot)
        f.addRow("&Expiry", self.expiry)
        f.addRow("S&upplier", self.supplier)
        f.addRow("&Invoice", self.invoice)
        f.addRow("&Quantity", self.quantity)
        f.addRow("Total", self.total)
        self._show_total()
        self.finish("Receive")

    def _show_total(self) -> None:
        mg = self.strength.value() * self.container.value() * self.quantity.value()
        self.total.setText(f"{mg:g} mg in {self.quantity.value()} containers")

    def save(self) -> None:
        def run() -> int:
            loc_id = self.location.currentData()
            if loc_id is None or self.location.currentText() != self.location.itemText(
                    self.location.currentIndex()):
                loc_id = stock.add_location(self.ctx, self.location.currentText())
            e = self.expiry.date()
            return stock.receive(self.ctx, stock.Receipt(
                loc_id, self.product.text(), self.strength.value(), self.container.value(),
                self.lot.text(), date(e.year(), e.month(), e.day()), self.supplier.text(),
                self.invoice.text(), self.quantity.value()))
        self.attempt(run)


class CountDialog(_Form):
    """A count of one location: each lot's physical amount (full containers and the
    mL left in an open one), explained where it differs from the record."""

    def __init__(self, ctx: Context, data: stock.BoardData, parent: QWidget | None = None
                 ) -> None:
        super().__init__("Count controlled substances", "countDialog", parent)
        self.ctx, self.data = ctx, data
        self.location = QComboBox()
        self.location.setObjectName("countLocation")
        for loc_id, name in stock.locations(ctx):
            self.location.addItem(name, loc_id)
        self.business = QComboBox()
        self.business.setObjectName("countBusiness")
        self.business.addItem("close of business", "close")
        self.business.addItem("opening of business", "opening")
        self.table = QTableWidget(0, 5)
        self.table.setObjectName("countLines")
        self.table.setHorizontalHeaderLabels(["Lot", "Record mg", "Full containers",
                                              "Open container mL", "Explanation"])
        self.table.horizontalHeader().setSectionResizeMode(0, QHeaderView.ResizeMode.Stretch)
        self.rows: list[tuple[Lot, QSpinBox, QDoubleSpinBox, QLineEdit]] = []
        self.second = QLineEdit()
        self.second.setObjectName("countSecondUser")
        self.second_password = password_field("countSecondPassword")
        self.note = QLineEdit()
        self.note.setObjectName("countNote")
        two = stock.count_users_required(ctx.store) == 2
        f = self.form
        f.addRow("&Location", self.location)
        f.addRow("&Taken at", self.business)
        f.addRow(self.table)
        f.addRow(QLabel("Second counter (required by the clinic)" if two
                        else "Second counter (optional)"))
        f.addRow("&Username", self.second)
        f.addRow("&Password", self.second_password)
        f.addRow("&Note", self.note)
        self.location.currentIndexChanged.connect(self._fill)
        self._fill()
        self.finish("Record count")
        self.resize(820, 420)

    def _fill(self) -> None:
        loc_id = self.location.currentData()
        balances = self.data.picture.balances
        lots = [lot for lot in self.data.lots if lot.location_id == loc_id
                and abs(balances[lot.id].balance_mg) > 1e-6]
        self.table.setRowCount(len(lots))
        self.rows = []
        for row, lot in enumerate(lots):
            b = balances[lot.id]
            for col, text in enumerate((lot.label, f"{b.balance_mg:g} ({containers_text(b)})")):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
            full = QSpinBox()
            full.setObjectName(f"countFull{row}")
            full.setRange(0, 100000)
            partial = _spin(f"countPartial{row}", 0, lot.container_ml, 0, " mL", 2)
            explanation = QLineEdit()
            explanation.setObjectName(f"countExplanation{row}")
            self.table.setCellWidget(row, 2, full)
            self.table.setCellWidget(row, 3, partial)
            self.table.setCellWidget(row, 4, explanation)
            self.rows.append((lot, full, partial, explanation))

    def entries(self) -> list[stock.CountEntry]:
        return [stock.CountEntry(lot.id, full.value() * lot.container_mg
                                 + partial.value() * lot.strength_mg_per_ml, why.text())
                for lot, full, partial, why in self.rows]

    def save(self) -> None:
        self.attempt(lambda: stock.count_location(
            self.ctx, self.location.currentData(), self.business.currentData(),
            self.entries(), self.second.text(), self.second_password.text(), self.note.text()))


class ResolveDialog(_Form):
    """A provider or admin closes one discrepancy with what was found and done."""

    def __init__(self, ctx: Context, discrepancy: Discrepancy, parent: QWidget | None = None
                 ) -> None:
        super().__init__("Resolve discrepancy", "resolveDialog", parent)
        self.ctx, self.discrepancy = ctx, discrepancy
        text = QLabel(discrepancy.text)
        text.setWordWrap(True)
        text.setObjectName("resolveText")
        self.note = QPlainTextEdit()
        self.note.setObjectName("resolveNote")
        self.note.setPlaceholderText("what was found, what was done (e.g. DEA Form 106 filed)")
        self.note.setFixedHeight(80)
        self.adjust = QCheckBox(f"Book the difference ({discrepancy.amount_mg:+.1f} mg) as an "
                                "adjustment so the record matches the count")
        self.adjust.setObjectName("resolveAdjust")
        self.adjust.setVisible(discrepancy.kind is DiscrepancyKind.COUNT_DIFFERENCE)
        self.form.addRow(text)
        self.form.addRow("&Resolution", self.note)
        self.form.addRow(self.adjust)
        self.finish("Resolve")
        self.resize(560, 0)

    def save(self) -> None:
        self.attempt(lambda: stock.resolve(self.ctx, self.discrepancy.key,
                                           self.note.toPlainText(), self.adjust.isChecked()))


class StockWasteDialog(_Form):
    """Stock destroyed outside a session (expired, broken), witnessed on this screen."""

    def __init__(self, ctx: Context, lot: Lot, balance_mg: float,
                 parent: QWidget | None = None) -> None:
        super().__init__("Waste from stock (witnessed)", "stockWasteDialog", parent)
        self.ctx, self.lot = ctx, lot
        self.amount = _spin("stockWasteMg", 0, max(balance_mg, 0), max(balance_mg, 0), " mg", 2)
        self.method = QComboBox()
        self.method.addItems(stock.METHODS)
        self.reason = QLineEdit("expired" if lot.expired_on(ctx.clock.now().astimezone().date())
                                else "")
        self.reason.setObjectName("stockWasteReason")
        self.witness = QLineEdit()
        self.witness.setObjectName("stockWasteWitness")
        self.witness_password = password_field("stockWastePassword")
        f = self.form
        f.addRow(QLabel(f"{lot.label} at {lot.location}: {balance_mg:g} mg on hand"))
        f.addRow("&Amount", self.amount)
        f.addRow("&Method", self.method)
        f.addRow("&Reason", self.reason)
        f.addRow("Witness &username", self.witness)
        f.addRow("Witness &password", self.witness_password)
        self.finish("Record waste")

    def save(self) -> None:
        if not self.attempt(lambda: stock.waste_from_stock(
                self.ctx, self.lot.id, self.amount.value(), self.method.currentText(),
                self.reason.text(), self.witness.text(), self.witness_password.text())):
            self.witness_password.clear()


class StockSettingsDialog(_Form):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__("Controlled-substance settings", "stockSettingsDialog", parent)
        self.ctx = ctx
        self.counters = QComboBox()
        self.counters.setObjectName("stockCounters")
        self.counters.addItem("one user", 1)
        self.counters.addItem("two users (second signs in)", 2)
        self.counters.setCurrentIndex(stock.count_users_required(ctx.store) - 1)
        self.tolerance = _spin("stockTolerance", 0, 50, stock.waste_tolerance_mg(ctx.store),
                               " mg", 2)
        self.reason = QLineEdit()
        self.form.addRow("A count is taken by", self.counters)
        self.form.addRow("Waste &tolerance (drawn = given + wasted)", self.tolerance)
        self.form.addRow("&Reason for the change", self.reason)
        self.finish("Save")

    def save(self) -> None:
        self.attempt(lambda: stock.set_stock_settings(
            self.ctx, self.counters.currentData(), self.tolerance.value(), self.reason.text()))


def movements_model(data: stock.BoardData) -> RowsModel[Movement]:
    def lot_text(m: Movement) -> str:
        lot = data.lot(m.lot_id)
        return lot.lot_number if lot else "session remainder"

    def amount(m: Movement) -> str:
        sign = {"receive": "+", "return": "+", "draw": "−"}.get(m.kind.value, "")
        if m.kind.value == "waste":
            sign = "−" if m.session_id is None else "(from drawn) "
        if m.kind.value == "adjustment":
            return f"{m.amount_mg:+g}"
        return f"{sign}{m.amount_mg:g}"

    def patient(m: Movement) -> str:
        account = data.picture.accounts.get(m.session_id) if m.session_id else None
        return f"{account.use.patient} ({account.use.mrn})" if account else ""

    return RowsModel[Movement]([
        ("When", lambda m: local(m.at)), ("Kind", lambda m: m.kind.value),
        ("Lot", lot_text), ("mg", amount),
        ("Session", lambda m: "" if m.session_id is None else str(m.session_id)),
        ("Patient (MRN)", patient),
        ("By", lambda m: m.user),
        ("Witness", lambda m: m.witness + (f" at {local(m.witness_at)[11:]}"
                                           if m.witness_at else "")),
        ("Detail", lambda m: " · ".join(x for x in (
            m.method, m.reason, m.supplier and f"{m.supplier} inv. {m.invoice}") if x)),
    ])


class LotLogDialog(QDialog):
    """Every movement of one lot, with who and the witness."""

    def __init__(self, data: stock.BoardData, lot: Lot, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("lotLogDialog")
        self.setWindowTitle(f"Log of {lot.label}")
        b = data.picture.balances[lot.id]
        head = QLabel(f"{lot.label} · {lot.location} · expiry {lot.expiry}"
                      f"{' · RECALLED: ' + lot.recall_reason if lot.recalled else ''}\n"
                      f"Received {b.received_mg:g} mg − drawn {b.drawn_mg:g} + returned "
                      f"{b.returned_mg:g} − wasted from stock {b.wasted_from_stock_mg:g}"
                      f"{f' + adjusted {b.adjusted_mg:+g}' if b.adjusted_mg else ''} = "
                      f"{b.balance_mg:g} mg ({containers_text(b)} containers)")
        head.setObjectName("lotLogHead")
        self.model = movements_model(data)
        self.model.set_rows(data.lot_movements(lot.id))
        view = rows_view(self.model, "lotLog", stretch_last=True, alternate=True)
        layout = QVBoxLayout(self)
        layout.addWidget(head)
        layout.addWidget(view)
        self.resize(1000, 420)


class ReturnDialog(_Form):
    """A sealed container drawn in error goes back into its lot, with the reason."""

    def __init__(self, ctx: Context, data: stock.BoardData, session_id: int,
                 parent: QWidget | None = None) -> None:
        super().__init__("Return to stock", "returnDialog", parent)
        self.ctx, self.session_id = ctx, session_id
        self.lot = QComboBox()
        self.lot.setObjectName("returnLot")
        drawn: dict[int, float] = {}
        for m in data.movements:
            if m.session_id == session_id and m.lot_id is not None:
                sign = {"draw": 1, "return": -1}.get(m.kind.value, 0)
                drawn[m.lot_id] = drawn.get(m.lot_id, 0.0) + sign * m.amount_mg
        for lot_id, left in drawn.items():
            lot = data.lot(lot_id)
            if lot is not None and left > 1e-6:
                self.lot.addItem(f"{lot.label} ({left:g} mg drawn, not returned)", lot_id)
        self.amount = _spin("returnMg", 0, 100000, 0, " mg")
        self.reason = QLineEdit()
        self.reason.setObjectName("returnReason")
        self.reason.setPlaceholderText("e.g. drawn for the wrong chair; vial still sealed")
        self.form.addRow(QLabel(stock.session_patient(ctx, session_id)))
        self.form.addRow("&Lot", self.lot)
        self.form.addRow("&Amount", self.amount)
        self.form.addRow("&Reason", self.reason)
        self.finish("Return")

    def save(self) -> None:
        self.attempt(lambda: stock.return_to_stock(
            self.ctx, self.session_id, self.lot.currentData() or 0, self.amount.value(),
            self.reason.text()))
