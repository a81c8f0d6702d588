"""Acknowledgments (original mode): AA accepted, AE error, AR rejected. MSA-2 echoes the
original control id so the sender can match the answer; MSA-3 and ERR carry the reason."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime

from ketalog.interop.hl7_oru import MessageHeader

ACK_CODES = ("AA", "AE", "AR")
# HL7 table 0357: 100 segment sequence, 101 required field missing, 102 data type error,
# 200 unsupported message type, 204 unknown key identifier, 207 application internal error.
ERROR_CODES = {"AR": "200", "AE": "207"}
_ESCAPES = (("\\", "\\E\\"), ("|", "\\F\\"), ("^", "\\S\\"), ("&", "\\T\\"), ("~", "\\R\\"))


def escape(text: str) -> str:
    """Text safe inside one HL7 field (default delimiters; line breaks become spaces)."""
    clean = " ".join(text.split())
    for char, code in _ESCAPES:
        clean = clean.replace(char, code)
    return clean[:800]


def _ts(when: datetime) -> str:
    return when.strftime("%Y%m%d%H%M%S") + when.strftime("%z")


def _trigger(header: MessageHeader) -> str:
    trigger = header.trigger.strip()
    return trigger if re.fullmatch(r"[A-Z0-9]{3}", trigger) else "R01"


def build_ack(code: str, header: MessageHeader | None, text: str, now: datetime,
              ack_control_id: str, receiving_app: str = "ketalog",
              warnings: Sequence[str] = ()) -> bytes:
    """The ACK for a message (`header` None when even its MSH was unreadable). MSH-9 is
    ACK^<the message's own trigger>^ACK (R01 when it could not be read); each of
    `warnings` (a value refused alone while the rest was accepted) is an ERR segment of
    severity W."""
    if code not in ACK_CODES:
        raise ValueError(f"unknown acknowledgment code {code!r}")
    h = header or MessageHeader("", "", "", "", "", "", "", "")
    version = h.version if h.version[:2] in ("2.", "2") and len(h.version) <= 8 else "2.5.1"
    fields = ["MSH", "^~\\&", escape(receiving_app), escape(h.receiving_facility),
              escape(h.sending_app), escape(h.sending_facility), _ts(now), "",
              f"ACK^{_trigger(h)}^ACK", escape(ack_control_id), "P", escape(version)]
    segments = ["MSH|" + "|".join(fields[1:])]
    segments.append("|".join(["MSA", code, escape(h.control_id), escape(text)]))
    if code != "AA":
        error = "200" if code == "AR" else ERROR_CODES[code]
        name = {"200": "Unsupported message type", "207": "Application internal error"}[error]
        segments.append("|".join(["ERR", "", "", f"{error}^{name}^HL70357", "E", "", "",
                                  "", escape(text)]))
    for warning in warnings[:20]:
        segments.append("|".join(["ERR", "", "", "207^Application internal error^HL70357",
                                  "W", "", "", "", escape(warning)]))
    return ("\r".join(segments) + "\r").encode("utf-8")


def parse_ack(payload: bytes) -> tuple[str, str, str]:
    """(MSA-1 code, MSA-2 control id, MSA-3 text) of an ACK: for tests and clients."""
    for segment in payload.decode("utf-8", "replace").split("\r"):
        parts = segment.split("|")
        if parts[0] == "MSA":
            parts += [""] * 4
            return parts[1], parts[2], parts[3]
    raise ValueError("no MSA segment in the acknowledgment")
