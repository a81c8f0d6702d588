"""The only errors the HL7 parser lets out. Each carries the acknowledgment code the
sender should get: AR (rejected: not a message we can read or accept at all) or AE
(read, but its content cannot be used as it stands)."""

from __future__ import annotations

from ketalog.interop.hl7_header import MessageHeader


class Hl7Error(Exception):
    ack_code = "AE"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.header: MessageHeader | None = None  # set when the MSH could be read


class Hl7ParseError(Hl7Error):
    """Not a readable HL7 v2 message (no MSH, broken encoding, no control id)."""

    ack_code = "AR"


class Hl7UnsupportedMessage(Hl7Error):
    """A readable message of a type the feed does not take (only ORU^R01)."""

    ack_code = "AR"


class Hl7MappingError(Hl7Error):
    """An observation ketalog would have to guess about: missing or unknown unit,
    non-numeric value, two different values for one vital at one time, bad time."""

    ack_code = "AE"
