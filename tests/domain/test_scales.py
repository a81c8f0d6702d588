"""Tests for ketalog.domain.scales: ranges, boundaries, interpretation, helpers."""

from __future__ import annotations

import dataclasses

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.scales import (
    MOAAS_LEVELS,
    SCALES,
    ScaleError,
    ScaleResult,
    ScaleSpec,
    aldrete_circulation_item,
    aldrete_spo2_item,
    is_nrs_responder,
    nrs_percent_change,
    phq9_remission,
    phq9_response,
)

ITEM_SCALES = [code for code, spec in SCALES.items() if spec.items]
SINGLE_SCALES = [code for code, spec in SCALES.items() if not spec.items]


def _all_items(spec: ScaleSpec, value: int) -> dict[str, int]:
    return {item.name: value for item in spec.items}


# --- registry ---------------------------------------------------------------------------


def test_registry_codes_and_ranges():
    expected = {
        "nrs": (0, 10, 0),
        "moaas": (0, 5, 0),
        "cadss6": (0, 24, 6),
        "aldrete": (0, 10, 5),
        "padss": (0, 8, 4),
        "phq9": (0, 27, 9),
    }
    assert set(SCALES) == set(expected)
    for code, (low, high, n_items) in expected.items():
        spec = SCALES[code]
        assert spec.code == code
        assert (spec.min_total, spec.max_total, len(spec.items)) == (low, high, n_items)
        assert spec.name and spec.source
        if spec.items:
            assert sum(i.min for i in spec.items) == low
            assert sum(i.max for i in spec.items) == high


def test_item_names():
    assert [i.name for i in SCALES["cadss6"].items] == [
        "item_1",
        "item_2",
        "item_6",
        "item_7",
        "item_15",
        "item_22",
    ]
    assert all((i.min, i.max) == (0, 4) for i in SCALES["cadss6"].items)
    assert [i.name for i in SCALES["aldrete"].items] == [
        "activity",
        "respiration",
        "circulation",
        "consciousness",
        "spo2",
    ]
    assert [i.name for i in SCALES["padss"].items] == [
        "vital_signs",
        "activity",
        "nausea_vomiting",
        "pain",
    ]
    assert [i.name for i in SCALES["phq9"].items] == [f"item_{n}" for n in range(1, 10)]
    assert all((i.min, i.max) == (0, 3) for i in SCALES["phq9"].items)


def test_result_and_spec_are_frozen():
    result = SCALES["nrs"].score(3)
    assert isinstance(result, ScaleResult)
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.total = 4  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        SCALES["nrs"].max_total = 11  # type: ignore[misc]


# --- ScaleError -------------------------------------------------------------------------


def test_scale_error_names_field_value_limit():
    err = ScaleError("NRS pain", 11, "0-10")
    assert (err.field, err.value, err.limit) == ("NRS pain", 11, "0-10")
    assert str(err) == "NRS pain: value 11 is outside 0-10"
    assert isinstance(err, ValueError)


def test_nrs_out_of_range_message():
    with pytest.raises(ScaleError) as info:
        SCALES["nrs"].score(11)
    err = info.value
    assert (err.field, err.value, err.limit) == ("nrs", 11, "0-10")
    assert "NRS pain" in str(err) and "11" in str(err) and "0-10" in str(err)
    assert "nrs" in str(err)


# --- single-value scale edges -----------------------------------------------------------


@pytest.mark.parametrize("code", SINGLE_SCALES)
def test_single_value_edges(code):
    spec = SCALES[code]
    assert spec.score(spec.min_total).total == spec.min_total
    assert spec.score(spec.max_total).total == spec.max_total
    for bad in (spec.min_total - 1, spec.max_total + 1):
        with pytest.raises(ScaleError) as info:
            spec.score(bad)
        assert info.value.field == code
        assert info.value.value == bad
        assert info.value.limit == spec.limit
        assert code in str(info.value)


@pytest.mark.parametrize("code", SINGLE_SCALES)
def test_single_value_rejects_items(code):
    with pytest.raises(ScaleError):
        SCALES[code].score(items={"x": 1})


# --- item scale edges -------------------------------------------------------------------


@pytest.mark.parametrize("code", ITEM_SCALES)
def test_item_scale_total_edges(code):
    spec = SCALES[code]
    low = spec.score(items={i.name: i.min for i in spec.items})
    high = spec.score(items={i.name: i.max for i in spec.items})
    assert (low.total, high.total) == (spec.min_total, spec.max_total)
    assert low.scale == high.scale == code


@pytest.mark.parametrize("code", ITEM_SCALES)
def test_item_scale_each_item_edges(code):
    spec = SCALES[code]
    for item in spec.items:
        base = {i.name: i.min for i in spec.items}
        for good in (item.min, item.max):
            assert spec.score(items={**base, item.name: good}).total == good
        for bad in (item.min - 1, item.max + 1):
            with pytest.raises(ScaleError) as info:
                spec.score(items={**base, item.name: bad})
            assert info.value.field == f"{code}.{item.name}"
            assert info.value.value == bad
            assert info.value.limit == f"{item.min}-{item.max}"
            assert f"{code}.{item.name}" in str(info.value)


@pytest.mark.parametrize("code", ITEM_SCALES)
def test_item_scale_total_value_edges(code):
    spec = SCALES[code]
    assert spec.score(spec.max_total).total == spec.max_total
    for bad in (spec.min_total - 1, spec.max_total + 1):
        with pytest.raises(ScaleError) as info:
            spec.score(bad)
        assert info.value.field == code


@pytest.mark.parametrize("code", ITEM_SCALES)
def test_missing_item_rejected(code):
    spec = SCALES[code]
    items = _all_items(spec, 0)
    missing = spec.items[-1].name
    del items[missing]
    with pytest.raises(ScaleError) as info:
        spec.score(items=items)
    assert info.value.field == f"{code}.{missing}"
    assert info.value.value is None


@pytest.mark.parametrize("code", ITEM_SCALES)
def test_unknown_item_rejected(code):
    spec = SCALES[code]
    items = {**_all_items(spec, 0), "bogus": 0}
    with pytest.raises(ScaleError) as info:
        spec.score(items=items)
    assert info.value.field == f"{code}.bogus"
    assert "bogus" in str(info.value)


def test_value_and_items_together_or_neither_rejected():
    spec = SCALES["aldrete"]
    with pytest.raises(ScaleError):
        spec.score(10, items=_all_items(spec, 2))
    with pytest.raises(ScaleError):
        spec.score()


# --- type checks ------------------------------------------------------------------------


@pytest.mark.parametrize("bad", [True, False, 5.0, 2.5, "5", None])
def test_single_value_rejects_non_int(bad):
    with pytest.raises(ScaleError) as info:
        SCALES["nrs"].score(bad)  # type: ignore[arg-type]
    assert info.value.field == "nrs"


@pytest.mark.parametrize("bad", [True, 1.0, 1.5, "1", None])
def test_item_rejects_non_int(bad):
    spec = SCALES["aldrete"]
    items = {**_all_items(spec, 2), "respiration": bad}
    with pytest.raises(ScaleError) as info:
        spec.score(items=items)  # type: ignore[arg-type]
    assert info.value.field == "aldrete.respiration"
    assert info.value.value is bad


def test_helpers_reject_bool_and_float_scores():
    with pytest.raises(ScaleError):
        nrs_percent_change(True, 0)  # type: ignore[arg-type]
    with pytest.raises(ScaleError):
        nrs_percent_change(8, 4.0)  # type: ignore[arg-type]
    with pytest.raises(ScaleError):
        is_nrs_responder(8.0, 4)  # type: ignore[arg-type]
    with pytest.raises(ScaleError):
        phq9_response(20, 9.0)  # type: ignore[arg-type]
    with pytest.raises(ScaleError):
        phq9_response(False, 9)  # type: ignore[arg-type]


# --- interpretation ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "text", "flag"),
    [
        (0, "none", False),
        (1, "mild", False),
        (3, "mild", False),
        (4, "moderate", False),
        (6, "moderate", False),
        (7, "severe", True),
        (10, "severe", True),
    ],
)
def test_nrs_interpretation(value, text, flag):
    result = SCALES["nrs"].score(value)
    assert (result.interpretation, result.flag) == (text, flag)


def test_moaas_interpretation_is_description_and_flags_deep_sedation():
    assert set(MOAAS_LEVELS) == {0, 1, 2, 3, 4, 5}
    for level, description in MOAAS_LEVELS.items():
        result = SCALES["moaas"].score(level)
        assert result.interpretation == description
        assert result.flag is (level <= 2)
    assert "trapezius" in SCALES["moaas"].score(1).interpretation
    assert SCALES["moaas"].score(0).interpretation == "no response"


def test_cadss6_interpretation():
    spec = SCALES["cadss6"]
    below = spec.score(7)
    at = spec.score(8)
    assert "7 of 24" in below.interpretation and not below.flag
    assert "8 of 24" in at.interpretation and at.flag
    assert "unverified" in at.interpretation


def test_aldrete_9_ready_8_not():
    spec = SCALES["aldrete"]
    nine = spec.score(items={**_all_items(spec, 2), "activity": 1})
    eight = spec.score(items={**_all_items(spec, 2), "activity": 1, "spo2": 1})
    assert nine.total == 9 and not nine.flag
    assert nine.interpretation.startswith("ready for discharge")
    assert eight.total == 8 and eight.flag
    assert eight.interpretation.startswith("not ready")
    assert not spec.score(10).flag


def test_padss_7_fit_6_not_and_says_clinic_default():
    spec = SCALES["padss"]
    seven = spec.score(items={**_all_items(spec, 2), "pain": 1})
    six = spec.score(items={**_all_items(spec, 2), "pain": 1, "nausea_vomiting": 1})
    assert seven.total == 7 and not seven.flag
    assert seven.interpretation.startswith("fit for discharge")
    assert six.total == 6 and six.flag
    assert six.interpretation.startswith("not fit")
    for result in (seven, six):
        assert "clinic default" in result.interpretation
        assert "not a guideline" in result.interpretation
    assert "clinic default" in spec.source


@pytest.mark.parametrize(
    ("total", "band", "flag"),
    [
        (0, "minimal", False),
        (4, "minimal", False),
        (5, "mild", False),
        (9, "mild", False),
        (10, "moderate", True),
        (14, "moderate", True),
        (15, "moderately severe", True),
        (19, "moderately severe", True),
        (20, "severe", True),
        (27, "severe", True),
    ],
)
def test_phq9_bands(total, band, flag):
    result = SCALES["phq9"].score(total)
    assert (result.interpretation, result.flag) == (band, flag)
    # Same result when scored from items.
    items = {f"item_{n}": 0 for n in range(1, 10)}
    remaining = total
    for n in range(1, 10):
        items[f"item_{n}"] = min(3, remaining)
        remaining -= items[f"item_{n}"]
    from_items = SCALES["phq9"].score(items=items)
    if items["item_9"] == 0:
        assert from_items == result
    else:  # item 9 positive adds the safety flag whatever the total
        assert from_items.interpretation == f"{band}; item 9 positive: assess safety now"
        assert from_items.flag is True


# --- Aldrete item helpers ---------------------------------------------------------------


@pytest.mark.parametrize(
    ("now", "baseline", "expected"),
    [
        (120, 120, 2),
        (140, 120, 2),  # exactly +20
        (100, 120, 2),  # exactly -20
        (140.5, 120, 1),
        (170, 120, 1),  # exactly +50
        (70, 120, 1),  # exactly -50
        (170.5, 120, 0),
        (69, 120, 0),
    ],
)
def test_aldrete_circulation_boundaries(now, baseline, expected):
    assert aldrete_circulation_item(now, baseline) == expected


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), True, 0, 400])
def test_aldrete_circulation_rejects_nonsense(bad):
    with pytest.raises(ScaleError):
        aldrete_circulation_item(bad, 120)


@pytest.mark.parametrize(
    ("spo2", "on_o2", "expected"),
    [
        (100, False, 2),
        (92.5, False, 2),
        (92, False, 1),  # not > 92
        (91, False, 1),
        (90, False, 1),
        (89.9, False, 0),
        (100, True, 1),  # needs O2: never 2
        (90, True, 1),
        (89, True, 0),
    ],
)
def test_aldrete_spo2_boundaries(spo2, on_o2, expected):
    assert aldrete_spo2_item(spo2, on_o2) == expected


@pytest.mark.parametrize(("spo2", "on_o2"), [(101, False), (float("nan"), False), (95, 1)])
def test_aldrete_spo2_rejects_nonsense(spo2, on_o2):
    with pytest.raises(ScaleError):
        aldrete_spo2_item(spo2, on_o2)


# --- NRS change and responder -----------------------------------------------------------


@pytest.mark.parametrize(
    ("pre", "post", "expected"),
    [(8, 4, -50.0), (6, 6, 0.0), (4, 6, 50.0), (10, 7, -30.0), (0, 5, None), (0, 0, None)],
)
def test_nrs_percent_change(pre, post, expected):
    assert nrs_percent_change(pre, post) == expected


def test_nrs_percent_change_range_checked():
    with pytest.raises(ScaleError) as info:
        nrs_percent_change(11, 4)
    assert info.value.field == "pre"
    with pytest.raises(ScaleError) as info:
        nrs_percent_change(8, -1)
    assert info.value.field == "post"


def test_responder_at_exactly_30_percent():
    assert is_nrs_responder(10, 7) is True  # exactly 30 %
    assert is_nrs_responder(10, 8) is False  # 20 %
    assert is_nrs_responder(8, 4) is True
    assert is_nrs_responder(4, 6) is False
    assert is_nrs_responder(0, 0) is None
    assert is_nrs_responder(10, 5, threshold_pct=50.0) is True  # exactly 50 %
    assert is_nrs_responder(10, 6, threshold_pct=50.0) is False


@given(st.integers(1, 10), st.integers(0, 10))
def test_responder_agrees_with_percent_change(pre, post):
    change = nrs_percent_change(pre, post)
    assert change is not None
    assert is_nrs_responder(pre, post) is (-change >= 30.0 - 1e-9)


# --- PHQ-9 response ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("baseline", "current", "expected"),
    [
        (20, 10, True),  # exactly 50 % drop
        (20, 11, False),
        (21, 10, True),  # 52 % drop
        (27, 13, True),  # 51.9 % drop
        (27, 14, False),  # 48.1 % drop
        (12, 9, False),  # only 25 % down: below 10 is not a response
        (12, 10, False),
        (5, 9, False),  # worse: never a response
        (8, 9, False),  # the case the old rule called a response
        (0, 10, False),
        (0, 0, False),  # nothing to drop from
        (2, 1, True),  # 50 % of a small score is still a response (and a remission)
    ],
)
def test_phq9_response(baseline, current, expected):
    assert phq9_response(baseline, current) is expected


@given(st.integers(0, 27), st.integers(0, 27))
def test_phq9_response_is_a_halving_and_never_a_rise(baseline, current):
    assert phq9_response(baseline, current) is (current <= baseline / 2 and current < baseline)
    if current >= baseline:
        assert not phq9_response(baseline, current)
    assert phq9_remission(current) is (current < 5)


def test_phq9_response_range_checked():
    with pytest.raises(ScaleError) as info:
        phq9_response(28, 5)
    assert info.value.field == "baseline"
    with pytest.raises(ScaleError) as info:
        phq9_response(20, -1)
    assert info.value.field == "current"


# --- properties -------------------------------------------------------------------------


@st.composite
def in_range_items(draw):
    code = draw(st.sampled_from(ITEM_SCALES))
    spec = SCALES[code]
    items = {item.name: draw(st.integers(item.min, item.max)) for item in spec.items}
    return code, items


@given(in_range_items())
def test_in_range_items_total_is_sum(case):
    code, items = case
    spec = SCALES[code]
    result = spec.score(items=items)
    assert result.total == sum(items.values())
    assert spec.min_total <= result.total <= spec.max_total
    assert result.scale == code
    if code == "phq9" and items["item_9"] > 0:
        assert result.flag is True  # safety flag from item 9, not from the total
    else:
        assert result == spec.score(result.total)


@st.composite
def one_item_out_of_range(draw):
    code, items = draw(in_range_items())
    spec = SCALES[code]
    item = draw(st.sampled_from(spec.items))
    bad = draw(st.one_of(st.integers(max_value=item.min - 1), st.integers(min_value=item.max + 1)))
    return code, {**items, item.name: bad}, item.name


@given(one_item_out_of_range())
def test_out_of_range_item_always_raises(case):
    code, items, bad_item = case
    returned = None
    with pytest.raises(ScaleError) as info:
        returned = SCALES[code].score(items=items)
    assert returned is None
    assert info.value.field == f"{code}.{bad_item}"


@given(st.sampled_from(SINGLE_SCALES), st.integers())
def test_single_value_in_or_out(code, value):
    spec = SCALES[code]
    if spec.min_total <= value <= spec.max_total:
        assert spec.score(value).total == value
    else:
        with pytest.raises(ScaleError):
            spec.score(value)


def test_phq9_item9_positive_is_flagged_even_with_low_total():
    items = {f"item_{i}": 0 for i in range(1, 10)}
    items["item_9"] = 1
    result = SCALES["phq9"].score(items=items)
    assert result.total == 1
    assert result.flag is True
    assert "item 9" in result.interpretation
    items["item_9"] = 0
    assert SCALES["phq9"].score(items=items).flag is False
