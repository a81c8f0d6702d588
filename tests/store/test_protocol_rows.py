"""store/protocols.py: typed reads of the protocols table, in the orders lists use."""

from __future__ import annotations

import pytest

from ketalog.domain.entities import Protocol
from ketalog.services.protocols import SEED_PROTOCOLS, seed_protocols
from ketalog.store import protocols as protocol_rows
from ketalog.store.store import SYSTEM

pytestmark = pytest.mark.both_engines


def test_reads_return_protocols_in_the_orders_lists_use(store):
    assert not protocol_rows.any_protocol(store)
    assert seed_protocols(store, SYSTEM) == len(SEED_PROTOCOLS)
    oldest_first = protocol_rows.protocols_by_age(store)
    assert [p.name for p in oldest_first] == [p.name for p in SEED_PROTOCOLS]
    assert all(isinstance(p, Protocol) for p in oldest_first)
    by_name = protocol_rows.protocols_by_name(store)
    assert [p.name for p in by_name] == sorted(p.name for p in SEED_PROTOCOLS)
    first = oldest_first[0]
    assert first.id is not None and protocol_rows.protocol(store, first.id) == first
    assert protocol_rows.protocol(store, 10_000) is None
    with store.write(SYSTEM) as w:
        protocol_rows.update_protocol(w, first.id, {"retired": 1}, reason="replaced")
    assert first.name not in [p.name for p in protocol_rows.protocols_by_name(store)]
    assert first.name in [p.name for p in protocol_rows.protocols_by_name(store, True)]
    assert store.audit_rows()[-1]["reason"] == "replaced"
