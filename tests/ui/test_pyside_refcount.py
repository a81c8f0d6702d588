"""Guards against a Qt binding that leaks references to True/False: on Python 3.11 such a
leak aborts the app after a few thousand signal emits (PySide6 6.12.0 did this)."""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    bare = Signal()
    carrying = Signal(object)


def test_signal_emit_keeps_bool_refcounts(qapp):
    emitter = _Emitter()
    emitter.bare.connect(lambda: None)
    emitter.bare.emit()
    before = (sys.getrefcount(True), sys.getrefcount(False))
    for _ in range(500):
        emitter.bare.emit()
        emitter.carrying.emit(False)
    after = (sys.getrefcount(True), sys.getrefcount(False))
    assert after[0] >= before[0] - 5 and after[1] >= before[1] - 5, (before, after)


def test_chart_paints_do_not_leak_bool_references(qtbot):
    from ketalog.ui.session_chart import SessionChart

    chart = SessionChart()
    qtbot.addWidget(chart)
    chart.show()
    chart.grab()
    before = sys.getrefcount(True)
    for _ in range(50):
        chart.grab()
    assert sys.getrefcount(True) >= before - 5
