"""The feed's matching rules: beds (case, punctuation, leading zeros, words; PV1-3
subcomponents; an admin's mapping), two open sessions on a chair, PID-3 types and
assigning authority, the source name, the clinic's own code rows, and the channel a
clinic picks."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.errors import PlausibilityError
from ketalog.interop.hl7_build import oru_message
from ketalog.interop.hl7_codes import CodeRow
from ketalog.interop.hl7_oru import parse_oru
from ketalog.services.device_feed import DeviceFeed, app_name, chair_key, location_keys
from ketalog.services.device_feed_config import (
    FeedRules,
    add_clinic_code,
    map_bed,
    save_feed_rules,
    set_primary_channel,
)
from ketalog.services.errors import PermissionDenied
from tests.services.test_device_feed import BP, audit_of, open_session

pytestmark = pytest.mark.both_engines

WORDS = st.sampled_from(["", "chair", "Chair ", "BED-", "bed ", "Room", "room-", "BAY "])


@given(WORDS, st.integers(0, 999), st.integers(0, 3), st.sampled_from(["", " ", "-", "_", "."]))
def test_chair_key_ignores_case_punctuation_zeros_and_words(word, number, zeros, punct):
    label = f"{word}{punct}{'0' * zeros}{number}"
    assert chair_key(label) == chair_key(f"Chair {number}") == str(number)
    assert chair_key(label.upper()) == chair_key(label.lower())


def test_chair_key_keeps_different_chairs_apart():
    assert chair_key("Chair 12") != chair_key("Chair 1") and chair_key("10") != chair_key("1")
    assert chair_key("BED-002") == chair_key("Chair 2") == "2"


@pytest.mark.parametrize("pv1_3, keys", [
    ("^^&24", ["24"]),  # a bed sent as the 2nd subcomponent (Comen)
    ("^^ICU&01&0&0&0", ["icu", "1"]),  # every non-zero subcomponent is a candidate
    ("ICU^^5^XYZ HOSPITAL", ["5"]),  # point of care ^ room ^ bed ^ facility
    ("HO Surgery^OR^1", ["1"]),
    ("My Unit^Room 7", ["7"]),  # no bed: the room
    ("INFUSION", ["infusion"]),
    ("^^", []),
])
def test_pv1_3_components_and_subcomponents(pv1_3, keys):
    text = oru_message("L1", BP, _now()).replace("PV1||O|", f"PV1||O|{pv1_3}", 1)
    assert location_keys(parse_oru(text).location_parts) == keys


def _now():
    from datetime import UTC, datetime
    return datetime(2026, 11, 24, 13, 59, tzinfo=UTC)


@pytest.fixture
def feed(staffed, clock):
    store, ctx = staffed
    return store, ctx, clock


def _receive(store, clock, text: str):
    return DeviceFeed(store, clock).receive(text.encode())


def test_subcomponent_bed_matches_its_chair(feed):
    store, ctx, clock = feed
    sid = open_session(ctx["nurse"], "K24", "Chair 24")
    text = oru_message("B1", BP, clock.now()).replace("PV1||O|", "PV1||I|^^&24", 1)
    assert _receive(store, clock, text).session_id == sid


def test_two_candidate_chairs_are_never_guessed(feed):
    store, ctx, clock = feed
    open_session(ctx["nurse"], "K1", "Chair 1")
    open_session(ctx["nurse"], "K2", "ICU")
    text = oru_message("B2", BP, clock.now()).replace("PV1||O|", "PV1||I|^^ICU&01&0&0&0", 1)
    result = _receive(store, clock, text)
    assert result.ack_code == "AE" and "does not guess" in result.text


def test_two_open_sessions_on_one_chair_quarantine_its_bed_messages(feed):
    store, ctx, clock = feed
    draft = open_session(ctx["nurse"], "K1", "Chair 3", start=False)
    running = open_session(ctx["nurse"], "K2", "Chair 3")
    result = _receive(store, clock, oru_message("B3", BP, clock.now(), bed="BED-003"))
    assert result.ack_code == "AE" and store.count("vitals") == 0
    assert f"the chair has 2 open sessions ({draft}, {running})" in result.text
    by_mrn = _receive(store, clock, oru_message("B4", BP, clock.now(), mrn="K2"))
    assert by_mrn.session_id == running  # the MRN still names the patient


def test_admin_maps_a_bed_label_or_device_to_a_chair_audited(feed):
    store, ctx, clock = feed
    sid = open_session(ctx["nurse"], "K9", "Recliner 9")
    with pytest.raises(PermissionDenied):
        map_bed(ctx["nurse"], "WEST-A", "Recliner 9", "ward layout")
    with pytest.raises(PlausibilityError):
        map_bed(ctx["admin"], "WEST-A", "Recliner 9", " ")
    map_bed(ctx["admin"], "WEST-A", "Recliner 9", "ward layout")
    assert _receive(store, clock, oru_message("B5", BP, clock.now(), bed="west a")).session_id \
        == sid
    device = oru_message("B6", BP, clock.now(), bed="unknown", sending_app="VSP^080019FFFE0B4020")
    map_bed(ctx["admin"], "080019FFFE0B4020", "Recliner 9", "monitor on chair 9")
    assert _receive(store, clock, device).session_id == sid
    entries = [e for e in store.audit_rows() if e["table_name"] == "clinic_settings"]
    assert entries[-1]["reason"] == "monitor on chair 9" and entries[-1]["username"] == "admin"


def test_pid3_only_mr_or_untyped_and_the_clinics_authority(feed):
    store, ctx, clock = feed
    sid = open_session(ctx["nurse"], "K55", "Chair 5")
    base = oru_message("P1", BP, clock.now())
    pi = base.replace("PID|||^^^KETA^MR", "PID|||K55^^^MON^PI", 1)
    result = _receive(store, clock, pi)
    assert result.ack_code == "AE" and "K55 (type PI, authority MON) is not matched" in result.text
    two = base.replace("PID|||^^^KETA^MR", "PID|||X1^^^MON^PI~K55^^^KETA^MR", 1)
    two = two.replace("MSH|^~\\&|MONITOR_GW", "MSH|^~\\&|MONITOR_GW2", 1)
    assert _receive(store, clock, two).session_id == sid
    save_feed_rules(ctx["admin"], FeedRules(5.0, "HOSP"), "our MRNs are HOSP's")
    other = two.replace("P1|P|", "P2|P|", 1)
    assert _receive(store, clock, other).ack_code == "AE"  # KETA is not the clinic's authority
    ours = other.replace("K55^^^KETA^MR", "K55^^^HOSP^MR").replace("P2|P|", "P3|P|", 1)
    assert _receive(store, clock, ours).session_id == sid


@pytest.mark.parametrize("msh3, msh4, source", [
    ("MONITOR_GW", "KETA_CLINIC", "MONITOR_GW"),
    ("^00A037009B023649^EUI-64", "KETA_CLINIC", "00A037009B023649"),
    ("", "KC575235977G", "KC575235977G"),
    ("", "", "ACDE48234567ABCD"),  # the device id in OBR-3
])
def test_source_from_msh3_then_msh4_then_the_device(msh3, msh4, source):
    text = oru_message("S1", BP, _now())
    text = text.replace("MSH|^~\\&|MONITOR_GW|KETA_CLINIC|", f"MSH|^~\\&|{msh3}|{msh4}|", 1)
    text = text.replace("OBR|1|S1^MONITOR_GW|", "OBR|1|S1^MONITOR_GW|AB1^Acme^ACDE48234567ABCD"
                        "^EUI-64|", 1).replace("|S1^MONITOR_GW|182777000", "|182777000", 1)
    message = parse_oru(text)
    assert app_name(message.header, message.device_id) == source


def test_clinic_code_rows_make_an_unknown_code_known_audited(feed):
    store, ctx, clock = feed
    sid = open_session(ctx["nurse"], "K77", "Chair 7")
    local = "OBX|{n}|NM|XT-9^Probe nine^99CLINIC||36.9|Cel|||||F|||{ts}"
    before = _receive(store, clock, oru_message("U1", {"hr_bpm": 70}, clock.now(), mrn="K77",
                                                extra_obx=[local]))
    ledger = store.get("device_messages", before.message_id)
    assert json.loads(ledger["unknown_codes"]) == ["XT-9^Probe nine"]
    with pytest.raises(PlausibilityError):
        add_clinic_code(ctx["admin"], CodeRow("TEXT", "XT-9", "temperature", 0, "x"), "r")
    with pytest.raises(PermissionDenied):
        add_clinic_code(ctx["nurse"], CodeRow("TEXT", "XT-9", "temp_c", 0, "ours"), "r")
    add_clinic_code(ctx["admin"], CodeRow("TEXT", "XT-9", "temp_c", 0,
                                          "clinic monitor manual p. 12"), "new probe")
    after = _receive(store, clock, oru_message("U2", {"hr_bpm": 71}, clock.now(), mrn="K77",
                                               extra_obx=[local]))
    row = store.get("vitals", after.vitals_ids[0])
    assert (row["session_id"], row["temp_c"], row["hr_bpm"]) == (sid, 36.9, 71.0)
    assert audit_of(store, "clinic_settings")[-1]["reason"] == "new probe"


def test_clinic_picks_the_stored_channel_per_device(feed):
    store, ctx, clock = feed
    open_session(ctx["nurse"], "K88", "Chair 8")
    temps = ["OBX|{n}|NM|150344^MDC_TEMP^MDC|1.26.1.1|36.2|268192^MDC_DIM_DEGC^MDC|||||R|||{ts}",
             "OBX|{n}|NM|150344^MDC_TEMP^MDC|1.26.2.1|37.4|268192^MDC_DIM_DEGC^MDC|||||R|||{ts}"]
    first = _receive(store, clock, oru_message("C1", {"hr_bpm": 70}, clock.now(), mrn="K88",
                                               extra_obx=temps))
    assert store.get("vitals", first.vitals_ids[0])["temp_c"] == 36.2
    set_primary_channel(ctx["admin"], "MONITOR_GW", "temp_c", "1.26.2", "core probe")
    second = _receive(store, clock, oru_message("C2", {"hr_bpm": 70}, clock.now(), mrn="K88",
                                                extra_obx=temps))
    assert store.get("vitals", second.vitals_ids[0])["temp_c"] == 37.4
    kept = json.loads(store.get("device_messages", second.message_id)["other_channels"])
    assert [(o["channel"], o["value"]) for o in kept] == [("1.26.1", 36.2)]


def test_clock_tolerance_is_the_clinics(feed):
    from datetime import timedelta
    store, ctx, clock = feed
    open_session(ctx["nurse"], "K66", "Chair 6")
    save_feed_rules(ctx["admin"], FeedRules(1.0, ""), "monitors are synchronised")
    ahead = _receive(store, clock, oru_message("T1", BP, clock.now() + timedelta(minutes=3),
                                               mrn="K66"))
    assert ahead.ack_code == "AE" and "tolerance 1 min" in ahead.text
    with pytest.raises(PlausibilityError):
        save_feed_rules(ctx["admin"], FeedRules(90.0, ""), "too much")


def test_a_running_feed_picks_up_an_admins_change_within_30_s(feed):
    store, ctx, clock = feed
    open_session(ctx["nurse"], "K31", "Chair 31")
    device = DeviceFeed(store, clock)  # as the listener holds it
    map_bed(ctx["admin"], "EAST-7", "Chair 31", "new bay")
    early = device.receive(oru_message("R1", BP, clock.now(), bed="EAST-7").encode())
    assert early.ack_code == "AE"  # the feed read its configuration before the change
    clock.advance(seconds=31)
    later = device.receive(oru_message("R2", BP, clock.now(), bed="EAST-7").encode())
    assert later.ack_code == "AA"
