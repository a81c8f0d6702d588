"""Column readers: what the database may hand back, and what must be refused."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.store.errors import StoreError
from ketalog.store.values import as_flag, as_float, as_int, as_text, opt_float, opt_int


@given(st.integers())
def test_whole_numbers_survive_every_storage_form(n):
    assert as_int(n) == as_int(str(n)) == as_int(f" {n} ") == n


@given(st.integers(min_value=-(2**53), max_value=2**53))
def test_whole_reals_read_as_whole_numbers(n):
    assert as_int(float(n)) == n


@given(st.floats(allow_nan=False, allow_infinity=False))
def test_reals_read_back_unchanged(x):
    assert as_float(x) == x
    assert as_float(repr(x)) == x


@pytest.mark.parametrize("bad", [None, "", "12 mg", 1.5, b"1", [1], object()])
def test_not_a_whole_number_is_refused(bad):
    with pytest.raises(StoreError, match="whole number"):
        as_int(bad)


@pytest.mark.parametrize("bad", [None, "", "ten", b"1.0", {}])
def test_not_a_number_is_refused(bad):
    with pytest.raises(StoreError, match="number"):
        as_float(bad)


def test_optional_and_text_columns():
    assert opt_int(None) is None and opt_int("") is None and opt_int(3) == 3
    assert opt_float(None) is None and opt_float(2) == 2.0
    assert as_text(None) == "" and as_text("x") == "x" and as_text(4) == "4"
    assert as_flag(1) is True and as_flag(0) is False and as_flag(True) is True
    with pytest.raises(StoreError):
        as_flag("yes")
