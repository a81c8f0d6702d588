"""The two stock steps of a session: drawing the bag from stock after the session is
started, and wasting the remainder with a witness before it is completed. Each is its
own dialog, reached through a small hook (`after_session_start`, `before_complete`) so
the start and complete dialogs stay as they are."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QComboBox,
    QDialog,
    QDoubleSpinBox,
    QFormLayout,
    QHeaderView,
    QLabel,
    QLineEdit,
    QMessageBox,
    QTableWidget,
    QTableWidgetItem,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services import stock
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.sessions import read_session
from ketalog.services.witness import witness_candidates
from ketalog.ui.feedback import error_label, finish_form, password_field

USER_ERRORS = (PlausibilityError, ServiceError)


def _spin(name: str, high: float, suffix: str, decimals: int = 1) -> QDoubleSpinBox:
    spin = QDoubleSpinBox()
    spin.setObjectName(name)
    spin.setRange(0, high)
    spin.setDecimals(decimals)
    spin.setSuffix(suffix)
    return spin


def _identity(ctx: Context, session_id: int) -> QLabel:
    label = QLabel(stock.session_patient(ctx, session_id))
    label.setObjectName("stockPatient")
    label.setStyleSheet("font-weight: bold; font-size: 11pt;")
    return label


class DrawDialog(QDialog):
    """Lots and mg drawn for this session's bag, and the bag's final volume: the bag's
    concentration (and so the pump's mL/h) comes from what was drawn."""

    def __init__(self, ctx: Context, session_id: int, bag_volume_ml: float,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.setObjectName("drawDialog")
        self.setWindowTitle("Draw ketamine from stock")
        self.lots = stock.drawable_lots(ctx)
        self.identity = _identity(ctx, session_id)
        self.table = QTableWidget(len(self.lots), 4)
        self.table.setObjectName("drawLots")
        self.table.setHorizontalHeaderLabels(["Location", "Lot", "On hand mg", "Draw mg"])
        self.table.horizontalHeader().setSectionResizeMode(1, QHeaderView.ResizeMode.Stretch)
        self.amounts: list[QDoubleSpinBox] = []
        for row, (lot, balance) in enumerate(self.lots):
            for col, text in enumerate((lot.location, f"{lot.label} (exp {lot.expiry})",
                                        f"{balance:g}")):
                item = QTableWidgetItem(text)
                item.setFlags(item.flags() & ~Qt.ItemFlag.ItemIsEditable)
                self.table.setItem(row, col, item)
            spin = _spin(f"drawMg{row}", balance, " mg")
            spin.valueChanged.connect(self._show_concentration)
            self.amounts.append(spin)
            self.table.setCellWidget(row, 3, spin)
        self.volume = _spin("bagVolume", 5000, " mL")
        self.volume.setValue(bag_volume_ml)
        self.volume.valueChanged.connect(self._show_concentration)
        self.concentration = QLabel()
        self.concentration.setObjectName("drawConcentration")
        self.error = error_label("drawError")
        form = QFormLayout()
        form.addRow(self.identity)
        form.addRow(QLabel("Expired and recalled lots are not offered. Enter the mg drawn "
                           "from each lot and the bag's final volume (drug + diluent)."))
        form.addRow(self.table)
        form.addRow("Final bag &volume", self.volume)
        form.addRow("Bag concentration", self.concentration)
        finish_form(self, form, self.error, self.save, ok_text="Record draw")
        self.resize(720, 360)
        self._show_concentration()

    def lines(self) -> list[stock.DrawLine]:
        return [stock.DrawLine(lot.id, spin.value())
                for (lot, _), spin in zip(self.lots, self.amounts, strict=True) if spin.value()]

    def _show_concentration(self) -> None:
        total = sum(spin.value() for spin in self.amounts)
        volume = self.volume.value()
        self.concentration.setText(f"{total:g} mg in {volume:g} mL = "
                                   f"{total / volume:.3f} mg/mL" if volume else "—")

    def save(self) -> None:
        try:
            stock.draw_for_session(self.ctx, self.session_id, self.lines(), self.volume.value())
        except USER_ERRORS as exc:
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


class WasteDialog(QDialog):
    """The unused remainder, wasted in front of a witness who signs in on this screen."""

    def __init__(self, ctx: Context, plan: stock.WastePlan, parent: QWidget | None = None,
                 header: str = "") -> None:
        super().__init__(parent)
        self.ctx, self.plan = ctx, plan
        self.setObjectName("wasteDialog")
        self.setWindowTitle("Waste ketamine (witnessed)")
        intro = QLabel(
            (header + "\n" if header else "")
            + f"Drawn {plan.drawn_mg:g} mg"
            + (f", returned {plan.returned_mg:g} mg" if plan.returned_mg else "")
            + f", given {plan.given_mg:.1f} mg (dose timeline): "
            f"{plan.expected_waste_mg:.1f} mg to waste.")
        intro.setObjectName("wasteSummary")
        intro.setWordWrap(True)
        self.amount = _spin("wasteMg", 100000, " mg", 2)
        self.amount.setValue(round(plan.expected_waste_mg, 2))
        self.method = QComboBox()
        self.method.setObjectName("wasteMethod")
        self.method.addItems(stock.METHODS)
        self.note = QLineEdit()
        self.note.setObjectName("wasteNote")
        self.note.setPlaceholderText("optional")
        self.witness = QComboBox()
        self.witness.setObjectName("witnessUser")
        self.witness.setEditable(True)
        self.witness.addItems(witness_candidates(ctx))
        self.witness.setCurrentText("")
        self.witness_password = password_field("witnessPassword")
        self.error = error_label("wasteError")
        form = QFormLayout()
        self.identity = _identity(ctx, plan.session_id)
        form.addRow(self.identity)
        form.addRow(intro)
        form.addRow("&Wasted", self.amount)
        form.addRow("&Method", self.method)
        form.addRow("&Note", self.note)
        form.addRow(QLabel(f"Wasted by {ctx.user.signed_name}. Witness (another nurse or "
                           "provider) signs in here:"))
        form.addRow("Witness &username", self.witness)
        form.addRow("Witness &password", self.witness_password)
        finish_form(self, form, self.error, self.save, ok_text="Record waste")
        self.resize(520, 0)

    def save(self) -> None:
        try:
            stock.record_waste(self.ctx, self.plan.session_id, self.amount.value(),
                               self.method.currentText(), self.witness.currentText(),
                               self.witness_password.text(), self.note.text())
        except USER_ERRORS as exc:
            self.witness_password.clear()
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


def after_session_start(parent: QWidget | None, ctx: Context, session_id: int,
                        bag_volume_ml: float) -> bool:
    """Offer the draw when the clinic keeps stock in ketalog. False if skipped."""
    try:
        if not stock.drawable_lots(ctx):
            return False
        dialog = DrawDialog(ctx, session_id, bag_volume_ml, parent)
    except USER_ERRORS:
        return False
    return bool(dialog.exec())


def draw_later(parent: QWidget, ctx: Context, session_id: int,
               run: Callable[[QDialog], object]) -> bool:
    """The draw from the session screen (skipped at the start, or a draft re-prepared)."""
    try:
        lots = stock.drawable_lots(ctx)
        bag_ml = read_session(ctx, session_id).bag.volume_ml
    except USER_ERRORS as exc:
        QMessageBox.warning(parent, "Draw from stock", str(exc))
        return False
    if not lots:
        QMessageBox.information(parent, "Draw from stock",
                                "No lot can be drawn from: nothing in stock that is in date "
                                "and not recalled.")
        return False
    return bool(run(DrawDialog(ctx, session_id, bag_ml, parent)))


def before_complete(parent: QWidget, ctx: Context, session_id: int) -> bool:
    """The waste step at Complete: True to go on completing. A session with ketamine
    drawn and nothing wasted yet asks for the witnessed waste; skipping it is allowed
    after a confirmation (the board then lists the session until it is resolved)."""
    try:
        plan = stock.waste_plan(ctx, session_id)
    except USER_ERRORS:
        return True
    if plan is None or plan.already:
        return True
    if abs(plan.drawn_mg - plan.returned_mg - plan.given_mg) <= stock.waste_tolerance_mg(
            ctx.store):
        return True  # everything drawn was given: nothing to waste, nothing to witness
    if WasteDialog(ctx, plan, parent).exec():
        return True
    answer = QMessageBox.question(
        parent, "Complete without waste?",
        "No waste is recorded for the ketamine drawn. Complete anyway? The session will "
        "stay on the Controlled substances board as a discrepancy until the waste is "
        "recorded or a provider resolves it.")
    return answer == QMessageBox.StandardButton.Yes
