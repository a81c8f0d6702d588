"""The controlled-substance screens driven through their real widgets: the board and its
dialogs, the draw after a session starts, the witnessed waste at Complete."""

from __future__ import annotations

from datetime import date

import pytest
from PySide6.QtCore import QDate, Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from ketalog.domain.entities import Bag, DoseKind, Role
from ketalog.domain.stock import DiscrepancyKind, MovementKind
from ketalog.services import sessions as svc
from ketalog.services import stock
from ketalog.services.auth import add_user, login
from ketalog.services.patients import PatientInput, create_patient
from ketalog.store import stock as stock_db
from ketalog.ui.main_window import MainWindow
from ketalog.ui.session_window import SessionWindow
from ketalog.ui.stock_board import StockBoard
from ketalog.ui.stock_dialogs import CountDialog, LotLogDialog, ReceiveDialog, ResolveDialog
from ketalog.ui.stock_session_dialogs import DrawDialog, WasteDialog

WITNESS_PW = "witness-pass-1"


@pytest.fixture
def clinic(staffed, clock):
    store, ctx = staffed
    add_user(ctx["admin"], "wendy", [Role.NURSE], WITNESS_PW, "Wendy Witness", "RN")
    safe = stock.add_location(ctx["provider"], "Safe A")
    lot = stock.receive(ctx["provider"], stock.Receipt(
        safe, "Ketamine HCl injection", 50.0, 10.0, "KX1001", date(2027, 6, 30), "Acme",
        "INV-1", 4))
    patient = create_patient(ctx["nurse"], PatientInput("S0001", "Stock", "Sam",
                                                        date(1975, 2, 3)))
    session = svc.start_session(ctx["nurse"], svc.SessionStart(
        patient.id, 80.0, Bag("ketamine", 1.0, 500), chair="Chair 1"))
    return store, ctx, safe, lot, session


def _show(qtbot, widget):
    qtbot.addWidget(widget)
    widget.show()
    qtbot.waitExposed(widget)
    return widget


def _ok(dialog) -> None:
    from PySide6.QtWidgets import QDialogButtonBox

    box = dialog.findChild(QDialogButtonBox)
    button = box.button(QDialogButtonBox.StandardButton.Ok)
    qtbot_click(button)


class ModalDriver:
    """Handles the modal dialogs a call opens, one handler each in order, from a timer
    (a modal exec() blocks the test). A failing handler rejects its dialog so the test
    never hangs; the failure is raised afterwards."""

    def __init__(self, *handlers) -> None:
        self.handlers = list(handlers)
        self.done: list[object] = []
        self.errors: list[BaseException] = []
        self.timer = QTimer()
        self.timer.setInterval(20)
        self.timer.timeout.connect(self._tick)
        self.timer.start()

    def _tick(self) -> None:
        widget = QApplication.activeModalWidget()
        if widget is None or not widget.isVisible() or any(widget is d for d in self.done):
            return
        self.done.append(widget)
        if not self.handlers:
            self.errors.append(AssertionError(f"unexpected dialog {widget.windowTitle()}"))
            widget.reject()
            return
        handler = self.handlers.pop(0)
        try:
            handler(widget)
        except BaseException as exc:  # noqa: BLE001 - re-raised in check()
            self.errors.append(exc)
            widget.reject()

    def check(self) -> None:
        self.timer.stop()
        if self.errors:
            raise self.errors[0]
        assert not self.handlers, f"{len(self.handlers)} dialog(s) never opened"


def qtbot_click(button) -> None:
    from PySide6.QtTest import QTest

    QTest.mouseClick(button, Qt.MouseButton.LeftButton)


def test_receive_through_the_board(qtbot, clinic):
    store, ctx, safe, lot, session = clinic
    board = _show(qtbot, StockBoard(ctx["provider"]))
    assert board.balances.rowCount() == 1 and "2000 mg on hand" in board.summary.text()
    form = _show(qtbot, ReceiveDialog(ctx["provider"], board))
    qtbot.keyClicks(form.lot, "KX2002")
    form.expiry.setDate(QDate(2028, 1, 31))
    qtbot.keyClicks(form.supplier, "Acme Pharma")
    _ok(form)
    assert form.error.isVisible() and "Invoice is required" in form.error.text()
    qtbot.keyClicks(form.invoice, "INV-2")
    form.quantity.setValue(3)
    assert form.total.text() == "1500 mg in 3 containers"
    _ok(form)
    assert form.result() == form.DialogCode.Accepted
    board.refresh()
    assert board.balances.rowCount() == 2 and "3500 mg on hand" in board.summary.text()
    # a nurse never gets the board
    with pytest.raises(Exception, match="may not open"):
        StockBoard(ctx["nurse"])


def test_draw_dialog_prepares_the_bag(qtbot, clinic):
    store, ctx, safe, lot, session = clinic
    dialog = _show(qtbot, DrawDialog(ctx["nurse"], session.id, 500.0))
    assert dialog.table.rowCount() == 1
    assert "STOCK, Sam · MRN S0001" in dialog.identity.text()
    dialog.amounts[0].setValue(250.0)
    dialog.volume.setValue(250.0)
    assert dialog.concentration.text() == "250 mg in 250 mL = 1.000 mg/mL"
    _ok(dialog)
    assert dialog.result() == dialog.DialogCode.Accepted
    bag = svc.get_session(store, session.id).bag
    assert (bag.concentration_mg_per_ml, bag.volume_ml, bag.lot) == (1.0, 250.0, "KX1001")
    assert stock.balance_of(store, lot) == 1750.0


def test_waste_with_witness_at_complete(qtbot, clinic, clock):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    window = _show(qtbot, SessionWindow(ctx["nurse"], session.id))
    window.confirm_close = lambda: True
    window.dosing.confirm_warnings = lambda warnings: True
    svc.record_dose(ctx["nurse"], session.id, DoseKind.START, rate_mg_per_h=60,
                    acknowledge=True)
    clock.advance(hours=2)
    svc.record_dose(ctx["nurse"], session.id, DoseKind.STOP)
    seen: dict[str, object] = {}

    def waste_step(dialog) -> None:
        assert isinstance(dialog, WasteDialog)
        seen["summary"] = dialog.findChild(type(dialog.error), "wasteSummary").text()
        assert dialog.amount.value() == pytest.approx(380.0)
        assert "STOCK, Sam · MRN S0001 · DOB 1975-02-03" in dialog.identity.text()
        dialog.witness.setCurrentText("nurse")  # the same user: refused on the screen
        qtbot.keyClicks(dialog.witness_password, "nurse-pass-1")
        _ok(dialog)
        seen["same"] = dialog.error.text()
        assert dialog.isVisible()
        dialog.witness.setCurrentText("wendy")
        qtbot.keyClicks(dialog.witness_password, WITNESS_PW)
        _ok(dialog)

    def complete_step(dialog) -> None:
        assert dialog.windowTitle() == "Complete session"
        dialog.accept()

    driver = ModalDriver(waste_step, complete_step)
    window._ask_complete()
    driver.check()
    assert "given 120.0 mg" in seen["summary"] and "380.0 mg to waste" in seen["summary"]
    assert "another user" in seen["same"]
    assert svc.get_session(store, session.id).status.value == "completed"
    (waste,) = [m for m in stock_db.session_movements(store, session.id)
                if m.kind is MovementKind.WASTE]
    assert waste.amount_mg == pytest.approx(380.0) and "wendy" in waste.witness
    assert stock.board(ctx["provider"]).open_discrepancies == []


def test_complete_without_waste_asks_and_leaves_a_discrepancy(qtbot, clinic, clock,
                                                              monkeypatch):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    svc.record_dose(ctx["nurse"], session.id, DoseKind.BOLUS, bolus_mg=20, acknowledge=True)
    window = _show(qtbot, SessionWindow(ctx["nurse"], session.id))
    window.confirm_close = lambda: True
    asked = []
    monkeypatch.setattr(QMessageBox, "question",
                        lambda *a, **k: asked.append(a[2]) or QMessageBox.StandardButton.Yes)
    driver = ModalDriver(lambda d: d.reject(), lambda d: d.accept())
    window._ask_complete()
    driver.check()
    assert asked and "No waste is recorded" in asked[0]
    (d,) = stock.board(ctx["provider"]).open_discrepancies
    assert d.kind is DiscrepancyKind.NO_WASTE


def test_board_count_resolve_and_open_the_record(qtbot, clinic, clock):
    store, ctx, safe, lot, session = clinic
    stock.draw_for_session(ctx["nurse"], session.id, [stock.DrawLine(lot, 500.0)], 500)
    svc.record_dose(ctx["nurse"], session.id, DoseKind.BOLUS, bolus_mg=20, acknowledge=True)
    svc.complete_session(ctx["nurse"], session.id)
    board = _show(qtbot, StockBoard(ctx["provider"]))
    count = _show(qtbot, CountDialog(ctx["provider"], board.data, board))
    full, partial, why = count.rows[0][1], count.rows[0][2], count.rows[0][3]
    full.setValue(2)
    partial.setValue(9.5)  # 1000 + 475 mg: the record says 1500
    _ok(count)
    assert "explain the difference" in count.error.text()
    qtbot.keyClicks(why, "stopper leaked")
    _ok(count)
    assert count.result() == count.DialogCode.Accepted
    board.refresh()
    kinds = [board.discrepancies.row_at(i).kind for i in range(board.discrepancies.rowCount())]
    assert kinds == [DiscrepancyKind.NO_WASTE, DiscrepancyKind.COUNT_DIFFERENCE]
    opened = []
    board.open_session_requested.connect(opened.append)
    board.open_record(board.discrepancies.index(0, 0))
    assert opened == [session.id]
    log = board.open_record(board.discrepancies.index(1, 0))
    qtbot.addWidget(log)
    assert isinstance(log, LotLogDialog) and log.model.rowCount() == 2  # receive, draw
    board.discrepancy_view.selectRow(1)
    resolve = _show(qtbot, ResolveDialog(ctx["provider"], board.selected_discrepancy(), board))
    assert resolve.adjust.isVisibleTo(resolve)
    qtbot.keyClicks(resolve.note, "stopper replaced; 25 mg lost")
    resolve.adjust.setChecked(True)
    _ok(resolve)
    board.refresh()
    assert board.discrepancies.rowCount() == 1
    assert stock.balance_of(store, lot) == pytest.approx(1475.0)


def test_main_window_menu_for_providers_not_nurses(qtbot, clinic, tmp_path):
    store, ctx, *_ = clinic
    provider = MainWindow(ctx["provider"], tmp_path / "x.sqlite")
    qtbot.addWidget(provider)
    assert "stock" in provider.menus
    board = provider.stock_board()
    qtbot.addWidget(board)
    assert board.objectName() == "stockBoard"
    nurse = MainWindow(ctx["nurse"], tmp_path / "x.sqlite")
    qtbot.addWidget(nurse)
    assert "stock" not in nurse.menus
    wendy = login(store, ctx["admin"].clock, "wendy", WITNESS_PW)
    assert "nurse" in stock.witness_candidates(wendy)
