"""Dosing math: CLINICAL.md's worked examples and properties that must always hold."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain import dosing
from ketalog.domain.entities import DoseKind
from ketalog.domain.errors import PlausibilityError

T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)


@dataclass(frozen=True)
class Ev:
    at: datetime
    kind: DoseKind
    bolus_mg: float | None = None
    rate_mg_per_h: float | None = None
    struck_reason: str = ""


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def test_worked_example_82kg_half_mg_per_kg_per_h_for_4h():
    rate = dosing.mg_per_h_from_mg_per_kg_per_h(0.5, 82)
    assert rate == pytest.approx(41.0)
    assert dosing.ml_per_h_from_mg_per_h(rate, 500 / 500) == pytest.approx(41.0)
    events = [Ev(at(0), DoseKind.START, rate_mg_per_h=rate), Ev(at(240), DoseKind.STOP)]
    total = dosing.running_total_mg(events, at(240))
    assert total == pytest.approx(164.0)
    assert total / 82 == pytest.approx(2.0)


def test_worked_example_rate_change_at_90_min():
    events = [Ev(at(0), DoseKind.START, rate_mg_per_h=41.0),
              Ev(at(90), DoseKind.RATE_CHANGE, rate_mg_per_h=61.5),
              Ev(at(240), DoseKind.STOP)]
    assert dosing.running_total_mg(events, at(240)) == pytest.approx(215.25)
    assert dosing.running_total_mg(events, at(300)) == pytest.approx(215.25)  # stopped
    assert dosing.rate_at(events, at(89)) == 41.0
    assert dosing.rate_at(events, at(90)) == 61.5
    assert dosing.rate_at(events, at(241)) == 0.0
    assert dosing.max_rate_mg_per_h(events) == 61.5


def test_bolus_pause_resume():
    events = [Ev(at(0), DoseKind.BOLUS, bolus_mg=20.0),
              Ev(at(0), DoseKind.START, rate_mg_per_h=60.0),
              Ev(at(30), DoseKind.PAUSE),
              Ev(at(45), DoseKind.RESUME),
              Ev(at(75), DoseKind.STOP)]
    # 20 mg bolus + 30 min at 60 mg/h + 30 min at 60 mg/h (resume restores the rate)
    assert dosing.running_total_mg(events, at(75)) == pytest.approx(80.0)
    assert dosing.running_total_mg(events, at(40)) == pytest.approx(50.0)  # paused
    assert dosing.running_total_mg(events, at(-1)) == 0.0
    assert dosing.infusion_state(events) == "stopped"


def test_resume_at_a_new_rate():
    events = [Ev(at(0), DoseKind.START, rate_mg_per_h=60.0), Ev(at(60), DoseKind.PAUSE),
              Ev(at(70), DoseKind.RESUME, rate_mg_per_h=30.0)]
    assert dosing.running_total_mg(events, at(130)) == pytest.approx(90.0)
    assert dosing.infusion_state(events) == "running"


@pytest.mark.parametrize("events, message", [
    ([Ev(at(0), DoseKind.RATE_CHANGE, rate_mg_per_h=5)], "cannot rate change"),
    ([Ev(at(0), DoseKind.PAUSE)], "cannot pause"),
    ([Ev(at(0), DoseKind.START, rate_mg_per_h=5), Ev(at(1), DoseKind.START, rate_mg_per_h=5)],
     "cannot start"),
    ([Ev(at(0), DoseKind.START, rate_mg_per_h=5), Ev(at(1), DoseKind.RESUME)], "cannot resume"),
    ([Ev(at(0), DoseKind.START, rate_mg_per_h=5), Ev(at(1), DoseKind.STOP),
      Ev(at(2), DoseKind.STOP)], "cannot stop"),
    ([Ev(at(0), DoseKind.START, rate_mg_per_h=0)], "positive rate"),
    ([Ev(at(0), DoseKind.BOLUS, bolus_mg=-1)], "positive dose"),
])
def test_invalid_sequences_are_rejected(events, message):
    with pytest.raises(PlausibilityError, match=message):
        dosing.validate_timeline(events)


def test_unit_conversions_and_pounds():
    assert dosing.lb_to_kg(180) == pytest.approx(81.65, abs=0.01)
    assert dosing.kg_to_lb(dosing.lb_to_kg(180)) == pytest.approx(180)
    assert dosing.mg_per_kg_per_h_from_mg_per_h(41, 82) == pytest.approx(0.5)
    with pytest.raises(ValueError):
        dosing.ml_per_h_from_mg_per_h(10, 0)


def test_guideline_warnings_name_their_source():
    [w] = dosing.bolus_warnings(0.5 * 80, 80, "CRPS")
    assert "Cohen" in w.source and "0.35" in w.message
    assert dosing.bolus_warnings(0.35 * 80, 80, "CRPS") == []
    [w] = dosing.rate_warnings(2.5 * 80, 80, "neuropathic pain")
    assert w.code == "rate_above_guideline" and "Cohen" in w.source
    [w] = dosing.rate_warnings(0.3 * 80, 80, "neuropathic pain")
    assert w.code == "rate_below_guideline"
    assert dosing.rate_warnings(0.75 * 80, 80, "depression") == []
    [w] = dosing.rate_warnings(1.2 * 80, 80, "depression")
    assert "Pennsylvania" in w.source
    [w] = dosing.total_warnings(301, 300, "CRPS 10 day")
    assert "protocol" in w.source


def test_plan_dose_matches_worked_example():
    plan = dosing.plan_dose(weight_kg=82, bolus_mg_per_kg=0, rate_mg_per_kg_per_h=0.5,
                            duration_min=240, concentration_mg_per_ml=1.0,
                            indication="neuropathic pain", max_total_mg=None,
                            protocol_name="p")
    assert (plan.rate_mg_per_h, plan.rate_ml_per_h) == (pytest.approx(41), pytest.approx(41))
    assert plan.planned_total_mg == pytest.approx(164)
    assert plan.planned_total_mg_per_kg == pytest.approx(2.0)
    assert plan.warnings == ()


# -- properties -------------------------------------------------------------
rates = st.floats(min_value=0.5, max_value=500, allow_nan=False)
steps = st.lists(st.tuples(st.sampled_from(["rate", "pause_resume", "bolus"]),
                           st.floats(min_value=1, max_value=60), rates),
                 min_size=0, max_size=12)


@st.composite
def timelines(draw):  # noqa: ANN201
    t = 0.0
    events = [Ev(at(t), DoseKind.START, rate_mg_per_h=draw(rates))]
    for kind, gap, value in draw(steps):
        t += gap
        if kind == "rate":
            events.append(Ev(at(t), DoseKind.RATE_CHANGE, rate_mg_per_h=value))
        elif kind == "bolus":
            events.append(Ev(at(t), DoseKind.BOLUS, bolus_mg=value / 10))
        else:
            events.append(Ev(at(t), DoseKind.PAUSE))
            t += gap
            events.append(Ev(at(t), DoseKind.RESUME))
    if draw(st.booleans()):
        t += draw(st.floats(min_value=1, max_value=120))
        events.append(Ev(at(t), DoseKind.STOP))
    return events, t


@given(timelines(), st.lists(st.floats(min_value=-10, max_value=600), min_size=2, max_size=6))
def test_total_never_decreases_with_time(timeline, minutes):
    events, _ = timeline
    totals = [dosing.running_total_mg(events, at(m)) for m in sorted(minutes)]
    assert all(b >= a - 1e-9 for a, b in zip(totals, totals[1:], strict=False))


@given(rates, st.floats(min_value=5, max_value=240), st.floats(min_value=1, max_value=120))
def test_pauses_add_nothing(rate, run_min, pause_min):
    plain = [Ev(at(0), DoseKind.START, rate_mg_per_h=rate), Ev(at(run_min), DoseKind.STOP)]
    paused = [Ev(at(0), DoseKind.START, rate_mg_per_h=rate),
              Ev(at(run_min / 2), DoseKind.PAUSE),
              Ev(at(run_min / 2 + pause_min), DoseKind.RESUME),
              Ev(at(run_min + pause_min), DoseKind.STOP)]
    end = at(run_min + pause_min + 10)
    assert dosing.running_total_mg(paused, end) == pytest.approx(dosing.running_total_mg(plain, end))
    mid_pause = at(run_min / 2 + pause_min / 2)
    assert dosing.running_total_mg(paused, mid_pause) == pytest.approx(
        dosing.running_total_mg(paused, at(run_min / 2)))


@given(rates, st.lists(st.floats(min_value=1, max_value=239), max_size=10))
def test_splitting_a_constant_rate_changes_nothing(rate, cut_minutes):
    plain = [Ev(at(0), DoseKind.START, rate_mg_per_h=rate), Ev(at(240), DoseKind.STOP)]
    split = ([Ev(at(0), DoseKind.START, rate_mg_per_h=rate)]
             + [Ev(at(m), DoseKind.RATE_CHANGE, rate_mg_per_h=rate) for m in sorted(cut_minutes)]
             + [Ev(at(240), DoseKind.STOP)])
    for probe in (0, 60, 120.5, 240, 300):
        assert dosing.running_total_mg(split, at(probe)) == pytest.approx(
            dosing.running_total_mg(plain, at(probe)))


@given(st.floats(min_value=0.01, max_value=1000), st.floats(min_value=0.1, max_value=100))
def test_ml_per_h_and_mg_per_h_round_trip(rate_mg_per_h, conc):
    ml = dosing.ml_per_h_from_mg_per_h(rate_mg_per_h, conc)
    assert dosing.mg_per_h_from_ml_per_h(ml, conc) == pytest.approx(rate_mg_per_h)


@given(st.floats(min_value=0.05, max_value=5), st.floats(min_value=20, max_value=350))
def test_mg_per_kg_per_h_round_trip(per_kg, weight):
    mg_h = dosing.mg_per_h_from_mg_per_kg_per_h(per_kg, weight)
    assert dosing.mg_per_kg_per_h_from_mg_per_h(mg_h, weight) == pytest.approx(per_kg)


@given(timelines())
def test_constant_rate_total_equals_rate_times_running_time(timeline):
    events, _ = timeline
    end = events[-1].at + timedelta(minutes=30)
    expected = sum(e.bolus_mg or 0 for e in events if e.kind is DoseKind.BOLUS)
    for seg in dosing.segments(events):
        seg_end = end if seg.end is None else seg.end
        expected += seg.rate_mg_per_h * (seg_end - seg.start).total_seconds() / 3600
    assert dosing.running_total_mg(events, end) == pytest.approx(expected)


def test_warnings_compare_at_displayed_precision_and_know_crps_regimen():
    assert dosing.rate_warnings(41.0, 82.04, "neuropathic pain") == []  # 0.4998 shows 0.50
    assert dosing.bolus_warnings(28.7, 82.0, "neuropathic pain") == []  # 0.35 mg/kg
    assert dosing.rate_warnings(0.35 * 70, 70, "CRPS") == []  # studied CRPS regimen
    [w] = dosing.rate_warnings(0.3 * 70, 70, "CRPS")
    assert w.code == "rate_below_guideline"
