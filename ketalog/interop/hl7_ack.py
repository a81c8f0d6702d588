"""Acknowledgments (original mode): AA accepted, AE error, AR rejected. MSA-2 echoes the
original control id so the sender can match the answer; MSA-3 and ERR carry the reason."""

from __future__ import annotations

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


def build_ack(code: str, header: MessageHeader | None, text: str, now: datetime,
              ack_control_id: str, receiving_app: str = "ketalog") -> bytes:
    """The ACK for a message (`header` None when even its MSH was unreadable)."""
    if code not in ACK_CODES:
        raise ValueError(f"unknown acknowledgment code {code!r}")
    h = header or MessageHeader("", "", "", "", "", "", "", "")
    version = h.version if h.version[:2] in ("2.", "2") and len(h.version) <= 8 else "2.5.1"
    fields = ["MSH", "^~\\&", escape(receiving_app), escape(h.receiving_facility),
              escape(h.sending_app), escape(h.sending_facility), _ts(now), "",
              "ACK^R01^ACK", escape(ack_control_id), "P", escape(version)]
    segments = ["MSH|" + "|".join(fields[1:])]
    segments.append("|".join(["MSA", code, escape(h.control_id), escape(text)]))
    if code != "AA":
        segments.append("|".join(["ERR", "", "", f"{ERROR_CODES[code]}^^HL70357", "E", "", "",
                                  "", escape(text)]))
    return ("\r".join(segments) + "\r").encode("utf-8")


def parse_ack(payload: bytes) -> tuple[str, str, str]:
    """(MSA-1 code, MSA-2 control id, MSA-3 text) of an ACK: for tests and clients."""
    for segment in payload.decode("utf-8", "replace").split("\r"):
        parts = segment.split("|")
        if parts[0] == "MSA":
            parts += [""] * 4
            return parts[1], parts[2], parts[3]
    raise ValueError("no MSA segment in the acknowledgment")
