"""One rounding rule for mg/h and pump mL/h: what is stored is what is shown."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.rates import in_unit, mg_per_h_from_entry, rate_text

weights = st.decimals(min_value=Decimal("20.0"), max_value=Decimal("350.0"), places=1)
rates = st.decimals(min_value=Decimal("0.05"), max_value=Decimal("3.00"), places=2)
concs = st.sampled_from([0.5, 1.0, 2.0, 10.0])


def test_reported_case_19_4_everywhere():
    mg_h = mg_per_h_from_entry(0.35, "mg/kg/h", 55.3, 1.0)
    assert mg_h == 19.4  # 0.35 x 55.3 = 19.355 exactly, half-up
    assert rate_text(mg_h, 55.3, 1.0) == "19.4 mg/h = 0.35 mg/kg/h = pump 19.4 mL/h"


@given(rates, weights, concs)
def test_stored_mg_per_h_is_the_exact_product_rounded_half_up(rate, weight, conc):
    mg_h = mg_per_h_from_entry(float(rate), "mg/kg/h", float(weight), conc)
    exact = rate * weight
    assert abs(Decimal(repr(mg_h)) - exact) <= Decimal("0.05")
    # shown mg/h is the stored mg/h: formatting cannot round it another way
    assert f"{in_unit(mg_h, 'mg/h', float(weight), conc):.1f}" == f"{mg_h:.1f}"
    assert float(f"{mg_h:.1f}") == mg_h


@given(st.decimals(min_value=Decimal("0.1"), max_value=Decimal("500.0"), places=1),
       weights, concs)
def test_entry_in_any_unit_round_trips(ml_h, weight, conc):
    mg_h = mg_per_h_from_entry(float(ml_h), "mL/h", float(weight), conc)
    back = in_unit(mg_h, "mL/h", float(weight), conc)
    assert abs(back - float(ml_h)) <= 0.05 / conc + 1e-9 + 0.05
    assert mg_per_h_from_entry(mg_h, "mg/h", float(weight), conc) == mg_h


def test_unknown_unit_refused():
    with pytest.raises(ValueError):
        mg_per_h_from_entry(1, "mg/min", 70, 1)
