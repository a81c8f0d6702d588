"""The service boundary: a store refusal leaves a service as a ServiceError carrying the
store's own sentence, so the UI needs to catch ServiceError only."""

from __future__ import annotations

import pytest

from ketalog.services.errors import ServiceError, StoreFailed, service_boundary
from ketalog.store.errors import StoreError, WrongPassphrase


@service_boundary
def refused(message: str) -> int:
    raise WrongPassphrase(message)


@service_boundary
def fine(value: int) -> int:
    return value * 2


def test_store_error_becomes_service_error_with_the_same_words():
    with pytest.raises(ServiceError, match="^the database is busy; try again$") as info:
        refused("the database is busy; try again")
    assert isinstance(info.value, StoreFailed)
    assert isinstance(info.value.store_error, WrongPassphrase)
    assert isinstance(info.value.__cause__, StoreError)


def test_results_and_names_pass_through():
    assert fine(21) == 42
    assert fine.__name__ == "fine"
