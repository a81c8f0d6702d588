"""Mutated monitor messages through the feed service: each one is stored (its unusable
values refused alone, named and kept in the quarantine) or not at all (then quarantined);
only our own errors are handled, nothing escapes."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from ketalog.interop.hl7_build import oru_message
from ketalog.interop.hl7_errors import Hl7Error
from ketalog.interop.hl7_oru import parse_oru
from ketalog.services.device_feed import DeviceFeed
from ketalog.store.verify import verify_store
from tests.services.test_device_feed import open_session

pytestmark = pytest.mark.both_engines

AT = datetime(2026, 11, 24, 13, 58, tzinfo=UTC)
BASE = oru_message("Z1", {"sbp_mmhg": 120, "dbp_mmhg": 80, "hr_bpm": 70, "spo2_pct": 98,
                          "temp_c": 36.9}, AT, mrn="KZ", bed="CHAIR1", extra_obx=[
    "OBX|{n}|NM|8867-4^HR^LN||72|/min|||||F|||20261124135700+0000"])
CHARS = st.sampled_from(list("|^~\\&\r0123456789.+-X ") + ["8867-4", "OBX|", "\x0b"])


@settings(max_examples=150, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.lists(st.tuples(st.integers(0, len(BASE) - 1), st.integers(0, 30),
                          st.lists(CHARS, max_size=4).map("".join)), min_size=1, max_size=3))
def test_mutated_messages_are_stored_or_quarantined_never_lost(feed_store, edits):
    store, feed = feed_store
    text = BASE
    for at, cut, insert in edits:
        text = text[:at] + insert + text[at + cut:]
    try:
        expected = len(parse_oru(text, UTC).readings)
    except Hl7Error:
        expected = None
    vitals, ledger = store.count("vitals"), store.count("device_messages")
    result = feed.receive(text.encode())
    new_vitals = store.count("vitals") - vitals
    new_ledger = store.count("device_messages") - ledger
    event(result.ack_code + (" dup" if result.duplicate else ""))
    if result.duplicate:
        assert (new_vitals, new_ledger) == (0, 0)
    elif result.ack_code == "AA" and result.vitals_ids:
        assert 1 <= new_vitals <= expected
        # a refused value is named in an ERR W and kept in the quarantine beside it
        assert new_ledger == (2 if result.warnings else 1)
        if new_vitals < expected:
            assert result.warnings
    elif result.message_id is None:  # a query answered without keeping it
        assert (new_vitals, new_ledger) == (0, 0)
    else:
        assert new_vitals == 0 and new_ledger == 1
        assert store.get("device_messages", result.message_id)["status"] == "quarantined"


@pytest.fixture
def feed_store(staffed, clock):
    store, ctx = staffed
    open_session(ctx["nurse"], "KZ", "Chair 1")
    yield store, DeviceFeed(store, clock, UTC)
    assert verify_store(store) == []
