"""The vitals table model, tested without any view."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from PySide6.QtCore import Qt

from ketalog.domain.entities import VitalsReading
from ketalog.ui.vitals_model import COLUMNS, VitalsTableModel

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
COL = {field: i for i, (field, _) in enumerate(COLUMNS)}


def reading(i: int, minutes: float, **kw: object) -> VitalsReading:
    values = {"sbp_mmhg": 120.0, "dbp_mmhg": 80.0, "map_mmhg": 93.3, "hr_bpm": 70.0}
    values.update(kw)  # type: ignore[arg-type]
    return VitalsReading(i, f"u{i}", 1, T0 + timedelta(minutes=minutes), **values)  # type: ignore[arg-type]


def cell(model: VitalsTableModel, row: int, field: str, role: int = Qt.ItemDataRole.DisplayRole):
    return model.data(model.index(row, COL[field]), role)


def test_newest_first_and_last():
    model = VitalsTableModel(newest_first=True)
    model.set_readings([reading(1, 0), reading(2, 5), reading(3, 10)])
    assert [model.reading_at(r).id for r in range(3)] == [3, 2, 1]
    model.set_newest_first(False)
    assert [model.reading_at(r).id for r in range(3)] == [1, 2, 3]


def test_append_keeps_time_order_for_late_entries():
    model = VitalsTableModel(newest_first=False)
    model.set_readings([reading(1, 0), reading(2, 10)])
    model.append(reading(3, 5, late_entry=True))
    assert [model.reading_at(r).id for r in range(3)] == [1, 3, 2]
    assert "late entry" in cell(model, 1, "flags")
    # the Notes column is cut on a small screen: its tooltip holds the whole text
    assert cell(model, 1, "flags", Qt.ItemDataRole.ToolTipRole) == cell(model, 1, "flags")


def test_alert_cells_are_marked_in_text_colour_and_bold():
    model = VitalsTableModel()
    model.set_readings([reading(1, 0, sbp_mmhg=185.0, alerts=("sbp_mmhg",))])
    assert cell(model, 0, "sbp_mmhg") == "185 !"  # a symbol, not colour alone
    assert cell(model, 0, "sbp_mmhg", Qt.ItemDataRole.BackgroundRole) is not None
    assert cell(model, 0, "sbp_mmhg", Qt.ItemDataRole.FontRole).bold()
    assert cell(model, 0, "hr_bpm", Qt.ItemDataRole.BackgroundRole) is None
    assert cell(model, 0, "hr_bpm") == "70"


def test_artifacts_are_struck_through_with_reason_never_hidden():
    model = VitalsTableModel()
    model.set_readings([reading(1, 0, artifact=True, artifact_reason="cuff moved")])
    assert model.rowCount() == 1
    assert cell(model, 0, "sbp_mmhg", Qt.ItemDataRole.FontRole).strikeOut()
    assert "cuff moved" in cell(model, 0, "flags")
    assert "cuff moved" in cell(model, 0, "sbp_mmhg", Qt.ItemDataRole.ToolTipRole)


def test_replace_updates_in_place_and_headers_carry_units():
    model = VitalsTableModel()
    model.set_readings([reading(1, 0), reading(2, 5)])
    model.replace(reading(1, 0, artifact=True, artifact_reason="motion"))
    assert model.reading_at(1).artifact
    headers = [model.headerData(i, Qt.Orientation.Horizontal) for i in range(len(COLUMNS))]
    assert "SBP mmHg" in headers and "SpO2 %" in headers and "Temp °C" in headers


def test_rows_are_fetched_in_pages_as_they_come_into_view():
    readings = {i: reading(i, i / 60) for i in range(1, 1001)}
    asked: list[list[int]] = []

    def fetch(ids: list[int]) -> list[VitalsReading]:
        asked.append(ids)
        return [readings[i] for i in ids]

    model = VitalsTableModel(newest_first=True)
    model.set_source(list(readings), [r.at.timestamp() for r in readings.values()], fetch)
    assert model.rowCount() == 1000 and asked == []  # nothing converted up front
    assert model.reading_at(0).id == 1000
    assert len(asked) == 1 and len(asked[0]) <= VitalsTableModel.PAGE
    assert model.reading_at(5).id == 995 and len(asked) == 1  # same page, no new query
    assert model.reading_at(999).id == 1
    assert len(asked) == 2
    model.append(reading(2000, 30))  # a new reading needs no fetch
    assert model.reading_at(0).id == 2000 and len(asked) == 2
