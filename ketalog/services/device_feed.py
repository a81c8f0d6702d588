"""The monitor feed: one HL7 ORU^R01 in, its vitals stored on the right session (or the
message quarantined), one acknowledgment out.

Each message is one durable transaction: the session is matched, every reading checked
by the same rules as manual entry (`sessions.vitals_row`), and the vitals plus the
message's ledger row committed together, or only the ledger row with the raw text as a
quarantined message. The caller sends the ACK after `receive` returns, so an AA always
follows a commit. The same bytes received twice (a sender that resends because our ACK
was lost) are answered from the ledger without storing anything twice.

Writes are attributed to the sending application, not to a user: the audit log shows
`device:<MSH-3>` with no user id, and the vitals' source says the same."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import datetime, timedelta, tzinfo

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.clock import Clock, from_iso, to_iso
from ketalog.domain.errors import PlausibilityError
from ketalog.interop.hl7_errors import Hl7Error, Hl7UnsupportedMessage
from ketalog.interop.hl7_oru import (
    MessageHeader,
    OruMessage,
    Reading,
    Refusal,
    decode,
    parse_header,
    parse_oru,
)
from ketalog.services.device_feed_config import FeedConfig, bed_key, feed_config
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.sessions import vitals_row
from ketalog.services.settings import alert_thresholds_without_login
from ketalog.store import vitals as vitals_store
from ketalog.store.device_messages import (
    DeviceMessage,
    OpenSession,
    insert_message,
    message_by_hash,
    open_sessions,
)
from ketalog.store.errors import StoreError
from ketalog.store.store import Actor, Store, Writer

DEVICE_PREFIX = "device:"
# Only sessions that began (arrival, else creation) this recently take device readings: a
# draft or an infusion left open from another day must not collect today's vitals.
SESSION_WINDOW = timedelta(hours=24)
# Readings timed before the session began (trend data of the bed's previous patient)
# are refused; a few minutes of slack for the monitor's clock and a late arrival entry.
ARRIVAL_SLACK = timedelta(minutes=15)
_CHAIR_WORDS = re.compile(r"(chair|bed|room|bay|recliner|station|platz|lit|cama|letto)")
CONFIG_RELOAD = timedelta(seconds=30)
_BP = frozenset({"sbp_mmhg", "dbp_mmhg", "map_mmhg"})
# What a monitor sends on its own besides vitals (patient queries, its bed/patient
# confirmations) is answered (AR, unsupported type), never kept in the quarantine.
QUERY_TYPES = ("QRY", "QBP", "ADT")


@service_boundary
def app_name(header: MessageHeader | None, device_id: str = "") -> str:
    """The source a message is attributed to: MSH-3 (namespace, else universal id), else
    MSH-4, else the device id from OBR-3/OBX-18; 'unknown' only when none exists."""
    raw = (header.source if header else "") or device_id
    name = re.sub(r"[^\w.\-]", "_", raw.strip())[:40]
    return name or "unknown"


@service_boundary
def device_actor(header: MessageHeader | None, device_id: str = "") -> Actor:
    """The feed's writes are attributed to the sending application (no user)."""
    return Actor(None, DEVICE_PREFIX + app_name(header, device_id))


@service_boundary
def chair_key(text: str) -> str:
    """'Chair 2', 'BED-002', 'bed 02', 'Room2' and '2' compare equal: case, punctuation,
    leading zeros and the words chair/bed/room/bay/recliner/station are ignored."""
    key = _CHAIR_WORDS.sub("", re.sub(r"[^0-9a-z]", "", text.lower()))
    key = re.sub(r"(?<![0-9])0+(?=[0-9])", "", key)  # leading zeros of each number
    return key


@service_boundary
def location_keys(parts: Sequence[Sequence[str]]) -> list[str]:
    """PV1-3 (PL: point of care ^ room ^ bed ^ facility...): the bed, else the room, else
    the point of care. HL7 gives the bed no subcomponents, yet some monitors send them
    (`^^&24`, `^^ICU&01&0&0&0`): then every non-empty subcomponent other than zeros is a
    candidate, and more than one chair matching them is refused, never guessed."""
    padded = [*parts, (), (), ()]
    for component in (padded[2], padded[1], padded[0]):
        keys = [chair_key(t) for t in component if t.strip() and t.strip("0 ")]
        keys = [k for k in keys if k]
        if keys:
            return list(dict.fromkeys(keys))
    return []


@service_boundary
def location_key(location: Sequence[str]) -> str:
    """PV1-3 as plain components: the bed (3rd), else the room (2nd), else the point of
    care."""
    keys = location_keys([(t,) for t in location])
    return keys[0] if keys else ""


@dataclass(frozen=True)
class Match:
    session_id: int | None
    reason: str = ""  # why there is no session


@service_boundary
def match_session(open_rows: Sequence[OpenSession], patient_ids: Sequence[str],
                  location: Sequence[str], beds: Sequence[str] | None = None) -> Match:
    """PID-3 (MRN) when the message has one, else the chair from PV1-3 (`beds`: the chair
    keys it may name, else read from `location`). A bed that points at another patient's
    session, or a chair with two open sessions, is never resolved by guessing."""
    def pick(rows: list[OpenSession], what: str, prefer_running: bool) -> Match:
        running = [r for r in rows if r.status == "in_progress"]
        chosen = running if running and prefer_running else rows
        if len(chosen) == 1:
            return Match(chosen[0].id)
        if not chosen:
            return Match(None, f"no open session for {what}")
        ids = ", ".join(str(r.id) for r in chosen)
        if not prefer_running:
            return Match(None, f"{what}: the chair has {len(chosen)} open sessions ({ids}); "
                               "close the one that is not at this chair")
        return Match(None, f"{what} matches several open sessions ({ids})")

    keys = list(beds) if beds is not None else [k for k in [location_key(location)] if k]
    at_bed = [r for r in open_rows if chair_key(r.chair) in keys]
    bed = "/".join(keys)
    shown = "^".join(p for p in location if p) or bed
    ids = [i.strip() for i in patient_ids if i.strip()]
    if ids:
        found = pick([r for r in open_rows if r.mrn in ids], f"MRN {'/'.join(ids)}", True)
        if found.session_id is not None and at_bed and found.session_id not in {
                r.id for r in at_bed}:
            others = ", ".join(str(r.id) for r in at_bed)
            return Match(None, f"MRN {'/'.join(ids)} is in session {found.session_id} but "
                               f"bed {shown} belongs to session {others}")
        return found
    if not keys:
        return Match(None, "the message names no patient (PID-3) and no bed (PV1-3)")
    chairs = {chair_key(r.chair) for r in at_bed}
    if len(chairs) > 1:
        return Match(None, f"bed {shown} could be chair {' or '.join(sorted(chairs))}; "
                           "ketalog does not guess (map the bed to a chair)")
    return pick(at_bed, f"bed {shown}", False)


@dataclass(frozen=True)
class FeedResult:
    ack_code: str  # AA, AE or AR
    text: str  # MSA-3
    header: MessageHeader | None
    session_id: int | None = None
    vitals_ids: tuple[int, ...] = ()
    message_id: int | None = None
    duplicate: bool = False
    warnings: tuple[str, ...] = ()  # values refused alone: ERR segments of severity W


@dataclass(frozen=True)
class Incoming:
    """A received frame, parsed (or not) outside the store lock."""

    raw: str
    digest: str
    message: OruMessage | None
    problem: Hl7Error | None

    @property
    def header(self) -> MessageHeader | None:
        if self.message:
            return self.message.header
        return None if self.problem is None else self.problem.header


class DeviceFeed:
    """Turns received frames into stored readings; one instance per store connection."""

    def __init__(self, store: Store, clock: Clock, local_tz: tzinfo | None = None) -> None:
        self.store, self.clock, self.local_tz = store, clock, local_tz
        self.config: FeedConfig = feed_config(store)
        self._loaded_at = clock.now()

    def reload(self) -> None:
        """Read the clinic's code rows, bed map and rules again (after an admin's change;
        a running listener also does so every CONFIG_RELOAD)."""
        self.config = feed_config(self.store)
        self._loaded_at = self.clock.now()

    def prepare(self, payload: bytes) -> Incoming:
        """Parse only: safe on any thread, so parsing overlaps another message's commit."""
        raw = decode(payload)
        digest = hashlib.sha256(payload).hexdigest()
        config = self.config
        try:
            channels = None
            if config.channels:
                channels = config.channels.get(parse_header(raw).source)
            return Incoming(raw, digest, parse_oru(raw, self.local_tz, config.codes, channels),
                            None)
        except Hl7Error as exc:
            return Incoming(raw, digest, None, exc)

    def receive(self, payload: bytes) -> FeedResult:
        return self.commit([self.prepare(payload)])[0]

    def commit(self, batch: list[Incoming]) -> list[FeedResult]:
        """Store (or quarantine) every message of `batch` in ONE durable transaction (group
        commit: messages from several monitors share an fsync); each keeps its own
        attribution, audit entries and result. Nothing is acknowledged before the COMMIT."""
        try:
            if abs(self.clock.now() - self._loaded_at) > CONFIG_RELOAD:
                self.reload()
            with self.store.write(device_actor(batch[0].header)):
                view = _BatchView(self.store, self.clock.now())
                return [self._one(Writer(self.store, device_actor(
                    i.header, i.message.device_id if i.message else "")), i, view)
                    for i in batch]
        except StoreError as exc:  # nothing was written: the senders should resend
            return [FeedResult("AE", f"not stored, resend later: {exc}", i.header)
                    for i in batch]

    def _one(self, w: Writer, incoming: Incoming, view: _BatchView) -> FeedResult:
        seen = message_by_hash(self.store, incoming.digest)
        if seen is not None:
            return _repeat(seen, incoming.header)
        if incoming.message is None:
            problem = incoming.problem
            header = incoming.header
            if isinstance(problem, Hl7UnsupportedMessage) and header is not None and \
                    header.message_type.split("^")[0] in QUERY_TYPES:
                # a monitor's periodic query or confirmation: answered, not kept (ketalog
                # has no patient list to give), so it never fills the quarantine
                return FeedResult("AR", f"{header.message_type} is not answered: ketalog "
                                  "takes ORU^R01 vitals only", header)
            return self._quarantine(w, incoming.raw, incoming.digest, header,
                                    problem.ack_code if problem else "AR", str(problem))
        return self._store(w, incoming.raw, incoming.digest, incoming.message, view)

    def _not_patient_data(self, message: OruMessage) -> str:
        """Why the message is not a patient's data ('' when it is)."""
        kind = {"T": "a training message", "D": "a debugging message"}.get(
            message.header.processing_id[:1])
        if kind:
            return (f"{kind} (MSH-11 = {message.header.processing_id}): not a patient's "
                    "data, not filed in any chart")
        if message.demo:
            return (f"the monitor is in demo mode (OBX-8 = DEMO on {', '.join(message.demo[:4])}"
                    "): simulated values, not filed in any chart")
        return ""

    def _patient_ids(self, message: OruMessage) -> list[str]:
        """PID-3 repetitions that may be MRNs: type MR or untyped, and of the clinic's
        assigning authority when one is set (a monitor's own id, type PI, never is)."""
        authority = self.config.rules.assigning_authority.lower()
        if not message.patient_id_list:
            return list(message.patient_ids)
        return [p.value for p in message.patient_id_list if p.type_code in ("", "MR")
                and (not authority or authority in (p.authority.lower(),
                                                    p.authority_id.lower()))]

    def _bed_keys(self, message: OruMessage) -> list[str]:
        """The chairs PV1-3 may name, an admin's mapping of the device id or bed label first."""
        beds = self.config.beds
        for name in (message.device_id, message.header.sending_app_id, message.header.source):
            if name and bed_key(name) in beds:
                return [chair_key(beds[bed_key(name)])]
        labels = [t for component in message.location_parts for t in component if t]
        joined = bed_key(" ".join(message.location))
        for key in [joined, *(bed_key(t) for t in labels)]:
            if key and key in beds:
                return [chair_key(beds[key])]
        if message.location_parts:
            return location_keys(message.location_parts)
        return [k for k in [location_key(message.location)] if k]

    def _store(self, w: Writer, raw: str, digest: str, message: OruMessage,
               view: _BatchView) -> FeedResult:
        header = message.header
        extra = _Extra(message)
        not_patient = self._not_patient_data(message)
        if not_patient:
            return self._quarantine(w, raw, digest, header, "AA", not_patient, extra=extra)
        if not message.readings:
            if message.refused:
                return self._quarantine(w, raw, digest, header, "AE", "nothing stored: " +
                                        "; ".join(_describe(r) for r in message.refused),
                                        extra=extra)
            if message.no_value:
                reason = ("no values: the monitor sent " + ", ".join(message.no_value[:6]) +
                          " empty or as its 'no value' number")
            else:
                codes = ", ".join(message.ignored[:5]) or "no OBX"
                reason = f"no vital sign ketalog records in the message ({codes})"
            return self._quarantine(w, raw, digest, header, "AE", reason, extra=extra)
        now, recent = view.now, view.recent_sessions()
        mrns = self._patient_ids(message)
        match = match_session(recent, mrns, message.location, self._bed_keys(message))
        if match.session_id is None:
            reason = match.reason
            skipped = [p for p in message.patient_id_list if p.value not in mrns]
            if skipped and not mrns:
                shown = ", ".join(f"{p.value} (type {p.type_code or '-'}, authority "
                                  f"{p.authority or p.authority_id or '-'})" for p in skipped[:3])
                reason += (f"; PID-3 holds no medical record number of this clinic: {shown} "
                           "is not matched against MRNs")
            return self._quarantine(w, raw, digest, header, "AE", reason, extra=extra)
        began = next(from_iso(r.began_at) for r in recent if r.id == match.session_id)
        early = [r.at for r in message.readings if r.at < began - ARRIVAL_SLACK]
        if early:
            return self._quarantine(
                w, raw, digest, header, "AE", f"reading at {to_iso(early[0])} is from before "
                f"session {match.session_id} began ({to_iso(began)}): the bed's previous "
                "patient?", match.session_id)
        source = DEVICE_PREFIX + app_name(header, message.device_id)
        thresholds = view.thresholds()
        readings, ahead_s = self._clock_checked(message.readings, now, extra)
        rows = []
        try:
            for reading in readings:
                row = self._checked_row(now, match.session_id, reading, source, thresholds,
                                        extra)
                if row is not None:
                    rows.append(row)
        except ServiceError as exc:
            return self._quarantine(w, raw, digest, header, "AE", f"not stored: {exc}",
                                    match.session_id, extra=extra)
        if not rows:
            return self._quarantine(w, raw, digest, header, "AE", "nothing stored: " +
                                    "; ".join(_describe(r) for r in extra.refused),
                                    match.session_id, extra=extra)
        note = f"HL7 {header.control_id}"
        if ahead_s > 0:
            note += (f"; monitor clock {ahead_s:.0f} s ahead: stored at the time received "
                     f"({to_iso(now)})")
        ids = tuple(vitals_store.insert(w, row, reason=note) for row in rows)
        message_id = insert_message(w, {
            "received_at": to_iso(now), "sending_app": header.sending_app,
            "control_id": header.control_id, "raw_sha256": digest, "status": "stored",
            "ack_code": "AA", "session_id": match.session_id, "readings": len(rows),
            **extra.columns(ahead_s)})
        text = f"stored {len(rows)} reading(s) in session {match.session_id}"
        warnings = tuple(_describe(r) for r in extra.refused)
        if warnings:
            # the refusal waits in the quarantine beside the stored message
            insert_message(w, {
                "received_at": to_iso(now), "sending_app": header.sending_app,
                "control_id": header.control_id,
                "raw_sha256": hashlib.sha256(f"{digest}:refused".encode()).hexdigest(),
                "status": "quarantined", "ack_code": "AA", "session_id": match.session_id,
                "reason": "refused alone (the message's other values were stored): "
                          + "; ".join(warnings), "raw": raw, "part_of": message_id,
                **extra.columns(ahead_s)})
            text += f"; {len(warnings)} value(s) refused"
        return FeedResult("AA", text, header, match.session_id, ids, message_id,
                          warnings=warnings)

    def _clock_checked(self, readings: Sequence[Reading], now: datetime, extra: _Extra
                       ) -> tuple[list[Reading], float]:
        """Readings timed ahead of the workstation: within the clinic's tolerance they are
        stored at the time received (flagged in the audit reason); beyond it refused alone.
        Returns the kept readings and how far the latest was ahead (s; negative: behind)."""
        kept: list[Reading] = []
        ahead = max((r.at - now).total_seconds() for r in readings)
        for r in readings:
            if r.at <= now:
                kept.append(r)
            elif r.at - now <= self.config.clock_ahead:
                kept.append(replace(r, at=now))
            else:
                minutes = self.config.rules.clock_ahead_min
                extra.refused.extend(Refusal(f, "", f"timed {to_iso(r.at)}, the monitor clock "
                                             f"is {(r.at - now).total_seconds() / 60:.0f} min "
                                             f"ahead (tolerance {minutes:g} min)")
                                     for f in r.values)
        return kept, ahead

    def _checked_row(self, now: datetime, session_id: int, reading: Reading, source: str,
                     thresholds: AlertThresholds, extra: _Extra) -> dict[str, object] | None:
        """The reading by the manual-entry rules; an implausible value is refused alone
        (named, kept in the quarantine) and the reading's other values are stored."""
        values = dict(reading.values)
        while values:
            try:
                return vitals_row(self.store, now, session_id, values, reading.at, source,
                                  None, thresholds)
            except PlausibilityError as exc:
                bad = {p.field: p for p in exc.problems}
                if bad.keys() & _BP:  # a blood pressure is stored whole or not at all
                    first = next(p for p in exc.problems if p.field in _BP)
                    for name in _BP & values.keys():
                        problem = bad.get(name, first)
                        extra.refused.append(Refusal(name, "", f"{values[name]:g} refused: "
                                                     f"{problem.message}"))
                        values.pop(name)
                    continue
                if not bad.keys() & values.keys():  # not a value's fault (the time)
                    extra.refused.extend(Refusal(f, "", str(exc)) for f in values)
                    return None
                for name in bad.keys() & values.keys():
                    extra.refused.append(Refusal(name, "", f"{values.pop(name):g} refused: "
                                                 f"{bad[name].message}"))
        return None

    def _quarantine(self, w: Writer, raw: str, digest: str, header: MessageHeader | None,
                    code: str, reason: str, session_id: int | None = None,
                    extra: _Extra | None = None) -> FeedResult:
        columns = extra.columns(None) if extra else {}
        message_id = insert_message(w, {
            "received_at": to_iso(self.clock.now()),
            "sending_app": header.sending_app if header else "",
            "control_id": header.control_id if header else "", "raw_sha256": digest,
            "status": "quarantined", "ack_code": code, "reason": reason, "raw": raw,
            "session_id": session_id, **columns})
        return FeedResult(code, f"quarantined: {reason}", header, session_id,
                          message_id=message_id)


def _describe(refusal: Refusal) -> str:
    what = refusal.field or "value"
    code = f" ({refusal.code})" if refusal.code else ""
    return f"{what}{code}: {refusal.reason}"


class _Extra:
    """What the ledger keeps of a message beyond its status: source, device, refusals,
    other channels' values, unknown codes."""

    def __init__(self, message: OruMessage) -> None:
        self.message = message
        self.refused: list[Refusal] = list(message.refused)

    def columns(self, ahead_s: float | None) -> dict[str, object]:
        m = self.message
        others = [{"field": o.field, "channel": o.channel, "value": o.value, "code": o.code,
                   "at": to_iso(r.at)} for r in m.readings for o in r.others]
        return {"source": app_name(m.header, m.device_id), "device_id": m.device_id[:64],
                "refused": json.dumps([r.__dict__ for r in self.refused]),
                "other_channels": json.dumps(others),
                "unknown_codes": json.dumps(list(dict.fromkeys(m.unknown))[:50]),
                "clock_ahead_s": ahead_s}


class _BatchView:
    """What every message of one batch reads alike, read once per transaction: the
    messages only add vitals and ledger rows, so the open sessions and the thresholds
    stay as they were for the whole batch (both were a query per message)."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now
        self._recent: list[OpenSession] | None = None
        self._thresholds: AlertThresholds | None = None

    def recent_sessions(self) -> list[OpenSession]:
        if self._recent is None:
            self._recent = [r for r in open_sessions(self.store)
                            if from_iso(r.began_at) >= self.now - SESSION_WINDOW]
        return self._recent

    def thresholds(self) -> AlertThresholds:
        if self._thresholds is None:
            self._thresholds = alert_thresholds_without_login(self.store)
        return self._thresholds


def _repeat(seen: DeviceMessage, header: MessageHeader | None) -> FeedResult:
    """A resent message: answer as before (AA once it is stored, however that came)."""
    status = seen.status
    if status in ("stored", "assigned"):
        return FeedResult("AA", f"already received (message {seen.id}, {status})", header,
                          seen.session_id, message_id=seen.id, duplicate=True)
    return FeedResult(seen.ack_code, f"already received and {status}: {seen.reason}",
                      header, message_id=seen.id, duplicate=True)
