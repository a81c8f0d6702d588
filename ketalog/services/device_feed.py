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
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from ketalog.domain.alerts import AlertThresholds
from ketalog.domain.clock import Clock, from_iso, to_iso
from ketalog.domain.errors import PlausibilityError
from ketalog.interop.hl7_errors import Hl7Error
from ketalog.interop.hl7_oru import MessageHeader, OruMessage, decode, parse_oru
from ketalog.services.errors import ServiceError
from ketalog.services.sessions import vitals_row
from ketalog.services.settings import alert_thresholds
from ketalog.store.device_messages import message_by_hash, open_sessions
from ketalog.store.errors import StoreError
from ketalog.store.store import Actor, Store, Writer

DEVICE_PREFIX = "device:"
# Only sessions that began (arrival, else creation) this recently take device readings: a
# draft or an infusion left open from another day must not collect today's vitals.
SESSION_WINDOW = timedelta(hours=24)
# Readings timed before the session began (trend data of the bed's previous patient)
# are refused; a few minutes of slack for the monitor's clock and a late arrival entry.
ARRIVAL_SLACK = timedelta(minutes=15)
_CHAIR_WORDS = ("chair", "bed", "bay", "recliner", "station")


def app_name(header: MessageHeader | None) -> str:
    name = re.sub(r"[^\w.\-]", "_", (header.sending_app if header else "").strip())[:40]
    return name or "unknown"


def device_actor(header: MessageHeader | None) -> Actor:
    """The feed's writes are attributed to the sending application (no user)."""
    return Actor(None, DEVICE_PREFIX + app_name(header))


def chair_key(text: str) -> str:
    """'Chair 2', 'CHAIR2' and 'chair-2' compare equal (and equal to a bed label '2')."""
    key = re.sub(r"[^0-9a-z]", "", text.lower())
    for word in _CHAIR_WORDS:
        if key.startswith(word) and len(key) > len(word):
            return key[len(word):]
    return key


def location_key(location: Sequence[str]) -> str:
    """PV1-3: the bed (3rd component), else the room (2nd), else the point of care."""
    parts = [*location, "", "", ""]
    for text in (parts[2], parts[1], parts[0]):
        if text.strip():
            return chair_key(text)
    return ""


@dataclass(frozen=True)
class Match:
    session_id: int | None
    reason: str = ""  # why there is no session


def match_session(open_rows: Sequence[dict[str, object]], patient_ids: Sequence[str],
                  location: Sequence[str]) -> Match:
    """PID-3 (MRN) when the message has one, else the chair from PV1-3. A bed that points
    at another patient's session, or several open sessions, is never resolved by guessing."""
    def pick(rows: list[dict[str, object]], what: str) -> Match:
        running = [r for r in rows if r["status"] == "in_progress"]
        chosen = running if running else rows
        if len(chosen) == 1:
            return Match(int(chosen[0]["id"]))  # type: ignore[call-overload]
        if not chosen:
            return Match(None, f"no open session for {what}")
        ids = ", ".join(str(r["id"]) for r in chosen)
        return Match(None, f"{what} matches several open sessions ({ids})")

    bed = location_key(location)
    at_bed = [r for r in open_rows if bed and chair_key(str(r["chair"])) == bed]
    ids = [i.strip() for i in patient_ids if i.strip()]
    if ids:
        found = pick([r for r in open_rows if str(r["mrn"]) in ids], f"MRN {'/'.join(ids)}")
        if found.session_id is not None and at_bed and found.session_id not in {
                r["id"] for r in at_bed}:
            others = ", ".join(str(r["id"]) for r in at_bed)
            return Match(None, f"MRN {'/'.join(ids)} is in session {found.session_id} but "
                               f"bed {'^'.join(location)} belongs to session {others}")
        return found
    if not bed:
        return Match(None, "the message names no patient (PID-3) and no bed (PV1-3)")
    return pick(at_bed, f"bed {'^'.join(p for p in location if p)}")


@dataclass(frozen=True)
class FeedResult:
    ack_code: str  # AA, AE or AR
    text: str  # MSA-3
    header: MessageHeader | None
    session_id: int | None = None
    vitals_ids: tuple[int, ...] = ()
    message_id: int | None = None
    duplicate: bool = False


@dataclass(frozen=True)
class Incoming:
    """A received frame, parsed (or not) outside the store lock."""

    raw: str
    digest: str
    message: OruMessage | None
    problem: Hl7Error | None

    @property
    def header(self) -> MessageHeader | None:
        return self.message.header if self.message else (self.problem and self.problem.header)


class DeviceFeed:
    """Turns received frames into stored readings; one instance per store connection."""

    def __init__(self, store: Store, clock: Clock, local_tz: tzinfo | None = None) -> None:
        self.store, self.clock, self.local_tz = store, clock, local_tz

    def prepare(self, payload: bytes) -> Incoming:
        """Parse only: safe on any thread, so parsing overlaps another message's commit."""
        raw = decode(payload)
        digest = hashlib.sha256(payload).hexdigest()
        try:
            return Incoming(raw, digest, parse_oru(raw, self.local_tz), None)
        except Hl7Error as exc:
            return Incoming(raw, digest, None, exc)

    def receive(self, payload: bytes) -> FeedResult:
        return self.commit([self.prepare(payload)])[0]

    def commit(self, batch: list[Incoming]) -> list[FeedResult]:
        """Store (or quarantine) every message of `batch` in ONE durable transaction (group
        commit: messages from several monitors share an fsync); each keeps its own
        attribution, audit entries and result. Nothing is acknowledged before the COMMIT."""
        try:
            with self.store.write(device_actor(batch[0].header)):
                view = _BatchView(self.store, self.clock.now())
                return [self._one(Writer(self.store, device_actor(i.header)), i, view)
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
            return self._quarantine(w, incoming.raw, incoming.digest, incoming.header,
                                    problem.ack_code if problem else "AR", str(problem))
        return self._store(w, incoming.raw, incoming.digest, incoming.message, view)

    def _store(self, w: Writer, raw: str, digest: str, message: OruMessage,
               view: _BatchView) -> FeedResult:
        header = message.header
        if not message.readings:
            codes = ", ".join(message.ignored[:5]) or "no OBX"
            return self._quarantine(w, raw, digest, header, "AE",
                                    f"no vital sign ketalog records in the message ({codes})")
        now, recent = view.now, view.recent_sessions()
        match = match_session(recent, message.patient_ids, message.location)
        if match.session_id is None:
            return self._quarantine(w, raw, digest, header, "AE", match.reason)
        began = next(from_iso(str(r["began_at"])) for r in recent if r["id"] == match.session_id)
        early = [r.at for r in message.readings if r.at < began - ARRIVAL_SLACK]
        if early:
            return self._quarantine(
                w, raw, digest, header, "AE", f"reading at {to_iso(early[0])} is from before "
                f"session {match.session_id} began ({to_iso(began)}): the bed's previous "
                "patient?", match.session_id)
        source = DEVICE_PREFIX + app_name(header)
        thresholds = view.thresholds()
        try:
            rows = [vitals_row(self.store, now, match.session_id, r.values, r.at, source, None,
                               thresholds) for r in message.readings]
        except (PlausibilityError, ServiceError) as exc:
            return self._quarantine(w, raw, digest, header, "AE", f"not stored: {exc}",
                                    match.session_id)
        note = f"HL7 {header.control_id}"
        ids = tuple(w.insert("vitals", row, reason=note) for row in rows)
        message_id = w.insert("device_messages", {
            "received_at": to_iso(now), "sending_app": header.sending_app,
            "control_id": header.control_id, "raw_sha256": digest, "status": "stored",
            "ack_code": "AA", "session_id": match.session_id, "readings": len(rows)})
        text = f"stored {len(rows)} reading(s) in session {match.session_id}"
        return FeedResult("AA", text, header, match.session_id, ids, message_id)

    def _quarantine(self, w: Writer, raw: str, digest: str, header: MessageHeader | None,
                    code: str, reason: str, session_id: int | None = None) -> FeedResult:
        message_id = w.insert("device_messages", {
            "received_at": to_iso(self.clock.now()),
            "sending_app": header.sending_app if header else "",
            "control_id": header.control_id if header else "", "raw_sha256": digest,
            "status": "quarantined", "ack_code": code, "reason": reason, "raw": raw,
            "session_id": session_id})
        return FeedResult(code, f"quarantined: {reason}", header, session_id,
                          message_id=message_id)


class _BatchView:
    """What every message of one batch reads alike, read once per transaction: the
    messages only add vitals and ledger rows, so the open sessions and the thresholds
    stay as they were for the whole batch (both were a query per message)."""

    def __init__(self, store: Store, now: datetime) -> None:
        self.store, self.now = store, now
        self._recent: list[dict[str, object]] | None = None
        self._thresholds: AlertThresholds | None = None

    def recent_sessions(self) -> list[dict[str, object]]:
        if self._recent is None:
            self._recent = [r for r in open_sessions(self.store)
                            if from_iso(str(r["began_at"])) >= self.now - SESSION_WINDOW]
        return self._recent

    def thresholds(self) -> AlertThresholds:
        if self._thresholds is None:
            self._thresholds = alert_thresholds(self.store)
        return self._thresholds


def _repeat(seen: dict[str, object], header: MessageHeader | None) -> FeedResult:
    """A resent message: answer as before (AA once it is stored, however that came)."""
    status = str(seen["status"])
    if status in ("stored", "assigned"):
        return FeedResult("AA", f"already received (message {seen['id']}, {status})", header,
                          seen["session_id"], message_id=int(seen["id"]),  # type: ignore[arg-type, call-overload]
                          duplicate=True)
    return FeedResult(str(seen["ack_code"]), f"already received and {status}: {seen['reason']}",
                      header, message_id=int(seen["id"]), duplicate=True)  # type: ignore[call-overload]
