"""ORU^R01 (unsolicited observation result) from a patient monitor or its gateway,
read into plain data: who sent it, which patient and bed, and the vital signs by time.

Parsing is pure (no store, no clock) and untrusted input can only raise our own
`Hl7Error`s: python-hl7 splits the message head (MSH, PID, PV1, OBR) and unescapes; the
OBX rows, most of a monitor's message, are split by `_split_obx` into the same shape
python-hl7 would build (a test holds the two equal), because python-hl7's container
per subcomponent was most of the feed's cost. Every field access here is guarded."""

from __future__ import annotations

import math
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo

import hl7
from hl7.util import unescape as hl7_unescape

from ketalog.interop.hl7_codes import CodeMap, code_map
from ketalog.interop.hl7_errors import (
    Hl7Error,
    Hl7MappingError,
    Hl7ParseError,
    Hl7UnsupportedMessage,
)
from ketalog.interop.hl7_header import MessageHeader
from ketalog.interop.hl7_vitals import SENTINELS, to_canonical

# OBX-11 result status: X cannot be obtained, D deleted, W wrong (replaced), N not asked.
SKIPPED_STATUSES = frozenset({"X", "D", "W", "N"})
NUMERIC_TYPES = frozenset({"NM", "SN", "ST", ""})
MAX_REPETITIONS = 20


@dataclass(frozen=True)
class PatientId:
    """One PID-3 repetition (CX): id, assigning authority (CX.4 namespace or universal
    id) and identifier type (CX.5, e.g. MR, PI)."""

    value: str
    authority: str = ""
    authority_id: str = ""
    type_code: str = ""


@dataclass(frozen=True)
class ChannelValue:
    """A value of a vital from a channel other than the one stored (kept apart)."""

    field: str
    channel: str
    value: float
    code: str


@dataclass(frozen=True)
class Refusal:
    """One observation refused on its own; the message's other values are unaffected."""

    field: str  # the vital, '' when not known
    code: str  # OBX-3 as sent
    reason: str


@dataclass(frozen=True)
class Reading:
    """The vitals a message carries for one moment, in ketalog's canonical units."""

    at: datetime
    values: dict[str, float]
    channels: dict[str, str] = field(default_factory=dict)  # vital -> OBX-4 channel stored
    others: tuple[ChannelValue, ...] = ()


@dataclass(frozen=True)
class OruMessage:
    header: MessageHeader
    patient_ids: tuple[str, ...]  # PID-3 identifiers, every repetition
    location: tuple[str, ...]  # PV1-3: point of care, room, bed, facility...
    readings: tuple[Reading, ...]
    ignored: tuple[str, ...] = field(default=())  # OBX-3 of rows that are not vitals
    patient_id_list: tuple[PatientId, ...] = ()
    location_parts: tuple[tuple[str, ...], ...] = ()  # PV1-3 components, each's subcomponents
    refused: tuple[Refusal, ...] = ()
    unknown: tuple[str, ...] = ()  # OBX-3 codes in no row of the code map
    demo: tuple[str, ...] = ()  # OBX-3 of rows whose OBX-8 flags demo/simulated values
    device_id: str = ""  # OBR-3 EUI-64 or OBX-18 equipment instance id
    no_value: tuple[str, ...] = ()  # OBX-3 of vitals sent empty or as a "no value" sentinel

    @property
    def source(self) -> str:
        """MSH-3 (namespace, else universal id), else MSH-4, else the device id."""
        return self.header.source or self.device_id


def decode(payload: bytes) -> str:
    """HL7 v2 text: UTF-8 when it is valid, else Latin-1 (which never fails)."""
    try:
        return payload.decode("utf-8")
    except UnicodeDecodeError:
        return payload.decode("latin-1")


def _normalise(text: str) -> str:
    return text.replace("\r\n", "\r").replace("\n", "\r").strip("\r\x00 \t")


def _leaf(node: object, index: int) -> object:
    """Child `index` (1-based) of a python-hl7 container, '' when absent; a plain string
    stands for a container with that one child."""
    if isinstance(node, str):
        return node if index == 1 else ""
    if isinstance(node, list) and index <= len(node):
        return node[index - 1]
    return ""


Segment = Sequence[object]  # a python-hl7 Segment, or an OBX row from _split_obx


def _get(segment: Segment, field_num: int, rep: int = 1, comp: int = 1,
         escapes: hl7.Container | None = None) -> str:
    """Field, repetition and component (1-based) as unescaped text; '' when absent.
    Walks the containers directly (python-hl7's extract_field costs ~30 us a call).
    `escapes`: the container whose separators unescape the text (the segment itself
    when it is python-hl7's)."""
    if field_num >= len(segment):
        return ""
    node = _leaf(_leaf(segment[field_num], rep), comp)
    while isinstance(node, list):  # subcomponents: the first one
        node = node[0] if node else ""
    if not isinstance(node, str):
        return ""
    if "\\" in node:
        try:
            node = hl7_unescape(escapes if escapes is not None else segment, node)
        except Exception:  # noqa: BLE001 - a broken escape stays as sent
            pass
    return node.strip()


def _repetitions(segment: Segment, field_num: int, comp: int = 1,
                 escapes: hl7.Container | None = None) -> Iterator[str]:
    if field_num >= len(segment):
        return
    field = segment[field_num]
    count = len(field) if isinstance(field, list) and field and not isinstance(field[0], str) \
        else 1
    for rep in range(1, min(count, MAX_REPETITIONS) + 1):
        value = _get(segment, field_num, rep, comp, escapes)
        if value:
            yield value


def _subcomponents(segment: Segment, field_num: int, comp: int,
                   escapes: hl7.Container | None = None) -> tuple[str, ...]:
    """Every subcomponent of a component (first repetition), unescaped and stripped."""
    if field_num >= len(segment):
        return ()
    node = _leaf(_leaf(segment[field_num], 1), comp)
    parts = node if isinstance(node, list) else [node]
    out = []
    for part in parts:
        while isinstance(part, list):
            part = part[0] if part else ""
        text = part if isinstance(part, str) else ""
        if "\\" in text:
            try:
                text = hl7_unescape(escapes if escapes is not None else segment, text)
            except Exception:  # noqa: BLE001 - a broken escape stays as sent
                pass
        out.append(text.strip())
    return tuple(out)


def _patient_ids(pid: Segment) -> tuple[PatientId, ...]:
    """PID-3, every repetition (at most MAX_REPETITIONS) with its authority and type."""
    if 3 >= len(pid):
        return ()
    field3 = pid[3]
    count = len(field3) if isinstance(field3, list) and field3 and \
        not isinstance(field3[0], str) else 1
    out = []
    for rep in range(1, min(count, MAX_REPETITIONS) + 1):
        value = _get(pid, 3, rep, 1)
        if value:
            authority = _leaf(_leaf(pid[3], rep), 4)
            subs = authority if isinstance(authority, list) else [authority]
            names = [str(x[0] if isinstance(x, list) and x else x).strip() for x in subs]
            names += ["", ""]
            out.append(PatientId(value, names[0], names[1], _get(pid, 3, rep, 5).upper()))
    return tuple(out)


# The fields ketalog reads, per segment (MSH counts its separator as field 1).
READ_FIELDS = {"MSH": 12, "PID": 3, "PV1": 3, "OBR": 7, "OBX": 18}


def _slim(text: str, separator: str) -> list[str]:
    """Only the segments and leading fields we read are split (python-hl7 builds a
    container per subcomponent: a gateway's device-hierarchy and equipment fields
    otherwise cost more than the vitals). Exact, because escapes never hold the raw
    field separator."""
    kept = []
    for segment in text.split("\r"):
        keep = READ_FIELDS.get(segment[:3])
        if keep is not None:
            kept.append(separator.join(segment.split(separator, keep + (segment[:3] != "MSH")
                                                     )[:keep + (segment[:3] != "MSH")]))
    return kept


def _split_field(text: str, rep: str, comp: str, sub: str) -> list[object]:
    """One field the way python-hl7 builds it: [text] when it has no separator, else
    repetitions, each [text] or a list of components, each [text] or its subcomponents."""
    if rep not in text and comp not in text and sub not in text:
        return [text]
    out: list[object] = []
    for repetition in text.split(rep):
        if comp not in repetition and sub not in repetition:
            out.append([repetition])
            continue
        out.append([[c] if sub not in c else c.split(sub) for c in repetition.split(comp)])
    return out


def _split_obx(text: str, separators: str) -> list[object]:
    """An OBX row as python-hl7 would split it (`separators` as python-hl7 keeps them:
    segment, field, repetition, component, subcomponent)."""
    field, rep, comp, sub = separators[1:5]
    return [_split_field(f, rep, comp, sub) for f in text.split(field)]


@dataclass(frozen=True)
class _Parts:
    head: hl7.Message  # MSH, PID, PV1, OBR as python-hl7 parsed them
    segments: tuple[tuple[str, Segment], ...]  # every segment we read, in order, by name


def _split(text: str) -> _Parts:
    text = _normalise(text)
    if not text.startswith("MSH") or len(text) < 8:
        raise Hl7ParseError("not an HL7 v2 message (it must start with an MSH segment)")
    separator = text[3]
    if separator.isalnum() or separator in "\r ":
        raise Hl7ParseError(f"invalid field separator {separator!r} in MSH")
    kept = _slim(text, separator)
    try:
        head_texts = [s for s in kept if s[:3] != "OBX"]
        head = hl7.parse("\r".join(head_texts))
        if len(head) != len(head_texts):
            raise ValueError("python-hl7 found another number of segments")
        head_segments = iter(head)
        segments = tuple((s[:3], _split_obx(s, head.separators) if s[:3] == "OBX"
                          else next(head_segments)) for s in kept)
    except Exception as exc:  # noqa: BLE001 - any failure of the splitter is a parse error
        raise Hl7ParseError(f"the message cannot be split into segments: {exc}") from exc
    return _Parts(head, segments)


def _header(parts: _Parts) -> MessageHeader:
    try:
        msh = parts.head.segment("MSH")
    except Exception as exc:  # noqa: BLE001
        raise Hl7ParseError("no MSH segment") from exc
    kind = "^".join(p for p in (_get(msh, 9, 1, 1), _get(msh, 9, 1, 2)) if p)
    return MessageHeader(sending_app=_get(msh, 3), sending_facility=_get(msh, 4),
                         receiving_app=_get(msh, 5), receiving_facility=_get(msh, 6),
                         message_type=kind, control_id=_get(msh, 10),
                         version=_get(msh, 12), sent_at_text=_get(msh, 7),
                         processing_id=_get(msh, 11).upper(),
                         sending_app_id=_get(msh, 3, 1, 2), sending_facility_id=_get(msh, 4, 1, 2))


def parse_header(text: str) -> MessageHeader:
    """Just the MSH: enough to acknowledge a message whose body cannot be used."""
    return _header(_split(text))


_TS = re.compile(r"^(\d{4})(\d{2})(\d{2})(\d{2})(\d{2})(\d{2})?(?:\.(\d{1,4}))?"
                 r"(?:([+-])(\d{2})(\d{2}))?$")


def parse_time(text: str, local_tz: tzinfo | None = None) -> datetime:
    """HL7 DTM to an aware UTC datetime; at least minutes are required. Without an
    offset the time is the clinic's local time (`local_tz`, else the machine's zone)."""
    match = _TS.match(text.strip())
    if not match:
        raise Hl7MappingError(f"time {text!r} is not an HL7 time with at least minutes "
                              "(YYYYMMDDHHMM[SS[.S]][+ZZZZ])")
    year, month, day, hour, minute, second, frac, sign, oh, om = match.groups()
    try:
        naive = datetime(int(year), int(month), int(day), int(hour), int(minute),
                         int(second or 0), int((frac or "0").ljust(6, "0")[:6]))
        if sign:
            offset = timedelta(hours=int(oh), minutes=int(om))
            if offset > timedelta(hours=14):
                raise ValueError("offset beyond 14 h")
            aware = naive.replace(tzinfo=timezone(-offset if sign == "-" else offset))
        elif local_tz is not None:
            aware = naive.replace(tzinfo=local_tz)
        else:
            aware = naive.astimezone()  # the machine's zone, daylight saving included
        return aware.astimezone(UTC)
    except (ValueError, OverflowError) as exc:
        raise Hl7MappingError(f"time {text!r} is not a valid date and time: {exc}") from exc


def _number(value_type: str, text: str, code: str) -> float | None:
    """OBX-5 as a number; None when empty. SN like '^120' or '=^120' is accepted."""
    raw = text.strip()
    if value_type == "SN":
        parts = raw.split("^")
        raw = parts[1] if len(parts) > 1 and parts[0] in ("", "=") else raw
    if not raw:
        return None
    try:
        number = float(raw)
    except ValueError as exc:
        raise Hl7MappingError(f"{code}: value {raw[:40]!r} is not a number") from exc
    if not math.isfinite(number):
        raise Hl7MappingError(f"{code}: value {raw[:40]!r} is not a finite number")
    if number in SENTINELS:
        return None  # the vendor's "no value"
    return number


def _obx_value_text(segment: Segment, escapes: hl7.Container) -> str:
    """OBX-5 whole (an SN keeps its '^' so its comparator can be read)."""
    parts = [_get(segment, 5, 1, c, escapes) for c in (1, 2)]
    return "^".join(parts) if parts[1] else parts[0]


def parse_oru(text: str, local_tz: tzinfo | None = None, codes: CodeMap | None = None,
              primary_channels: dict[str, str] | None = None) -> OruMessage:
    """Read an ORU^R01 into readings grouped by observation time. An observation that
    cannot be used is refused alone (`refused`); the others are kept. Raises Hl7Error
    (with the message's header when it was readable) only when the message as a whole
    cannot be read. `primary_channels`: vital -> OBX-4 channel the clinic stores for
    this device (default: the first channel in the message)."""
    parts = _split(text)
    header = _header(parts)
    try:
        return _body(parts, header, local_tz, codes or code_map(), primary_channels or {})
    except Hl7Error as exc:
        exc.header = header
        raise
    except Exception as exc:  # noqa: BLE001 - never let a library error escape
        error = Hl7ParseError(f"the message could not be read: {type(exc).__name__}")
        error.header = header
        raise error from exc


def channel_of(sub_id: str) -> str:
    """The channel of an OBX-4 sub-ID: IEEE 11073 containment MDS.VMD.channel.metric
    gives 'MDS.VMD.channel'; a shorter sub-ID is its own channel; '' when none."""
    parts = [p for p in sub_id.strip().split(".")]
    return ".".join(parts[:3]) if len(parts) >= 4 else sub_id.strip()


def _device_id(segments: tuple[tuple[str, Segment], ...], escapes: hl7.Container) -> str:
    """OBR-3 (filler id) when it names an EUI-64 device, else the first OBX-18."""
    for name, segment in segments:
        if name == "OBR":
            kind = _get(segment, 3, 1, 4, escapes).upper()
            if kind == "EUI-64":
                return _get(segment, 3, 1, 3, escapes) or _get(segment, 3, 1, 1, escapes)
    for name, segment in segments:
        if name == "OBX":
            found = _get(segment, 18, 1, 1, escapes)
            if found:
                return found
    return ""


_Candidate = tuple[int, int, str, float, str]  # priority, order, channel, value, code


def _body(parts: _Parts, header: MessageHeader, local_tz: tzinfo | None, codes: CodeMap,
          primary_channels: dict[str, str]) -> OruMessage:
    if not header.control_id:
        raise Hl7ParseError("MSH-10 (message control id) is empty")
    if header.message_type not in ("ORU^R01", "ORU"):
        raise Hl7UnsupportedMessage(f"message type {header.message_type or '(none)'} is not "
                                    "accepted; the monitor feed takes ORU^R01")
    pids = [s for name, s in parts.segments if name == "PID"]
    patient_ids = tuple(_repetitions(pids[0], 3)) if pids else ()
    id_list = _patient_ids(pids[0]) if pids else ()
    pv1s = [s for name, s in parts.segments if name == "PV1"]
    location = tuple(_get(pv1s[0], 3, 1, c) for c in range(1, 5)) if pv1s else ()
    location_parts = tuple(_subcomponents(pv1s[0], 3, c) for c in range(1, 5)) if pv1s else ()
    obr_time = ""
    found: dict[tuple[datetime, str], list[_Candidate]] = {}
    ignored: list[str] = []
    unknown: list[str] = []
    refused: list[Refusal] = []
    demo: list[str] = []
    no_value: list[str] = []
    escapes = parts.head
    for order, (name, segment) in enumerate(parts.segments):
        if name == "OBR":
            obr_time = _get(segment, 7)
        if name != "OBX":
            continue
        ident, label, system = (_get(segment, 3, 1, c, escapes) for c in (1, 2, 3))
        code = "^".join(p for p in (ident, label) if p) or "(no code)"
        if _get(segment, 11, escapes=escapes).upper() in SKIPPED_STATUSES:
            continue
        value_text = _obx_value_text(segment, escapes)
        if not value_text.strip("^ "):
            continue  # no value: device hierarchy rows, or nothing measured
        if any(f.upper() in DEMO_FLAGS for f in _repetitions(segment, 8, escapes=escapes)):
            demo.append(code)
        known, vital = codes.identify(ident, label, system)
        if not known:
            unknown.append(code)
        if vital is None:
            ignored.append(code)
            continue
        try:
            value_type = _get(segment, 2, escapes=escapes).upper()
            if value_type not in NUMERIC_TYPES:
                raise Hl7MappingError(f"OBX {code}: value type {value_type} is not numeric")
            number = _number(value_type, value_text, code)
            if number is None:
                no_value.append(code)
                continue  # the monitor had no value for this parameter
            units = (_get(segment, 6, 1, 1, escapes), _get(segment, 6, 1, 2, escapes))
            canonical = to_canonical(vital.field, number, units)
            when_text = _get(segment, 14, escapes=escapes) or obr_time or header.sent_at_text
            if not when_text:
                raise Hl7MappingError(f"OBX {code}: no observation time (OBX-14, OBR-7 or "
                                      "MSH-7)")
            at = parse_time(when_text, local_tz)
        except Hl7MappingError as exc:
            refused.append(Refusal(vital.field, code, str(exc)))
            continue
        channel = channel_of(_get(segment, 4, escapes=escapes))
        found.setdefault((at, vital.field), []).append(
            (vital.priority, order, channel, canonical, code))
    values: dict[datetime, dict[str, float]] = {}
    channels: dict[datetime, dict[str, str]] = {}
    others: dict[datetime, list[ChannelValue]] = {}
    for (at, vital_field), candidates in found.items():
        chosen, rest, conflict = _primary(candidates, primary_channels.get(vital_field, ""))
        if conflict:
            refused.append(Refusal(vital_field, chosen[4], conflict))
            continue
        values.setdefault(at, {})[vital_field] = chosen[3]
        channels.setdefault(at, {})[vital_field] = chosen[2]
        others.setdefault(at, []).extend(ChannelValue(vital_field, c[2], c[3], c[4])
                                         for c in rest)
    readings = tuple(Reading(at, values[at], channels[at], tuple(others.get(at, ())))
                     for at in sorted(values))
    return OruMessage(header, patient_ids, location, readings, tuple(ignored), id_list,
                      location_parts, tuple(refused), tuple(unknown), tuple(demo),
                      _device_id(parts.segments, escapes), tuple(no_value))


DEMO_FLAGS = frozenset({"DEMO"})  # OBX-8 as Mindray monitors flag demo-mode values


def _primary(candidates: list[_Candidate], preferred: str
             ) -> tuple[_Candidate, list[_Candidate], str]:
    """(stored, kept apart, conflict): the best-priority code's value from the clinic's
    preferred channel, else from the first channel in the message. Two different values
    on the stored channel (or where one row has no OBX-4) are a conflict: ketalog does
    not choose between them."""
    best = min(c[0] for c in candidates)
    group = sorted((c for c in candidates if c[0] == best), key=lambda c: c[1])
    chosen = next((c for c in group if preferred and c[2] == preferred), group[0])
    # a row without a sub-ID does not say it is another channel
    same = [c for c in group if c is not chosen
            and (c[2] == chosen[2] or not c[2] or not chosen[2])]
    clash = next((c for c in same if c[3] != chosen[3]), None)
    if clash is not None:
        return chosen, [], (f"two different values on one channel ({chosen[4]} "
                            f"{chosen[3]:g}, {clash[4]} {clash[3]:g}); ketalog does not "
                            "choose between them")
    rest = [c for c in candidates if c is not chosen and c not in same]
    return chosen, rest, ""
