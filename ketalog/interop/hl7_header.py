"""The MSH segment as plain data: who sent a message, its type and control id. Its own
module because both the parser (hl7_oru) and its errors (hl7_errors, which carry the
header once it could be read, so the ACK can answer the right control id) need it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class MessageHeader:
    sending_app: str
    sending_facility: str
    receiving_app: str
    receiving_facility: str
    message_type: str  # e.g. "ORU^R01"
    control_id: str
    version: str
    sent_at_text: str
    processing_id: str = ""  # MSH-11.1: P production, T training, D debugging
    sending_app_id: str = ""  # MSH-3.2, the universal id (e.g. the device's EUI-64)
    sending_facility_id: str = ""  # MSH-4.2

    @property
    def trigger(self) -> str:
        """The trigger event of MSH-9 (R01 of ORU^R01), '' when absent."""
        parts = self.message_type.split("^")
        return parts[1] if len(parts) > 1 else ""

    @property
    def source(self) -> str:
        """Who sent it, from the header alone: MSH-3 namespace, else its universal id,
        else MSH-4 (namespace, else universal id); '' when none is given."""
        for name in (self.sending_app, self.sending_app_id, self.sending_facility,
                     self.sending_facility_id):
            if name.strip():
                return name.strip()
        return ""
