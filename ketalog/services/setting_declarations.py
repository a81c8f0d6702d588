"""Every plain clinic setting declared once: key, type, default, bounds, unit, label,
help, group and the role that may change it. The service (services/settings.py) reads,
checks and writes by these; the Clinic settings dialog is built from them, so a bound
cannot differ between what the form allows and what the save accepts.

Structured settings (tables and rule sets with their own screens and checks) are not
declared here; STRUCTURED names each with the module that owns it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from ketalog.domain.course import DEFAULT_RESPONDER_THRESHOLD_PCT
from ketalog.domain.discharge import DEFAULT_OBSERVATION_MIN
from ketalog.domain.entities import Role
from ketalog.domain.follow_up_schedule import DEFAULT_FOLLOW_UP_HOURS
from ketalog.domain.scales import PADSS_FIT_AT

Kind = Literal["text", "choice", "int", "float", "hours", "image"]


@dataclass(frozen=True)
class SettingDeclaration:
    """One setting. ``minimum``/``maximum`` bound the number (int, float), each entry
    (hours), the length in characters (text) or the size in bytes (image); ``unit`` is
    what the number counts, shown in the label, the spin box and every refusal."""

    key: str
    kind: Kind
    default: object
    label: str
    group: str
    help: str
    unit: str = ""
    minimum: float | None = None
    maximum: float | None = None
    choices: tuple[str, ...] = ()
    max_lines: int | None = None
    decimals: int = 0
    role: Role = Role.ADMIN

    @property
    def bounds(self) -> str:
        """The allowed values as a person reads them: "1-60 min", "A4 or Letter"."""
        if self.kind == "choice":
            return " or ".join(self.choices)
        unit = f" {self.unit}" if self.unit else ""
        if self.kind == "text":
            lines = f", at most {self.max_lines} lines" if self.max_lines else ""
            return f"{self.minimum:g}-{self.maximum:g} characters{lines}"
        if self.kind == "image":
            assert self.maximum is not None
            return f"PNG or JPEG, at most {self.maximum / 1024:g} KB"
        return f"{self.minimum:g}-{self.maximum:g}{unit}"

    @property
    def label_with_unit(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


CLINIC_NAME = "clinic_name"
CLINIC_ADDRESS = "clinic_address"
CLINIC_LOGO = "clinic_logo_b64"
PAPER_SIZE = "paper_size"
AUTO_LOGOFF_MIN = "auto_logoff_min"
MONITORING_INTERVAL_MIN = "monitoring_interval_min"
OBSERVATION_MIN = "observation_min"
PADSS_FIT_AT_KEY = "padss_fit_at"
RESPONDER_THRESHOLD_PCT = "responder_threshold_pct"
FOLLOW_UP_HOURS = "follow_up_hours"

PAPERS = ("A4", "Letter")
MAX_LOGO_BYTES = 256 * 1024

SETTINGS: tuple[SettingDeclaration, ...] = (
    SettingDeclaration(
        CLINIC_NAME, "text", "ketalog clinic", "Clinic name", "Clinic",
        "Heads every PDF page and the window title", minimum=1, maximum=120),
    SettingDeclaration(
        CLINIC_ADDRESS, "text", "", "Address", "Clinic",
        "Printed under the name on every PDF: street, town, phone", minimum=0, maximum=200,
        max_lines=3),
    SettingDeclaration(
        CLINIC_LOGO, "image", None, "Logo", "Clinic",
        "PNG or JPEG printed on every PDF; kept in the database, so a restored backup "
        "prints the same pages", maximum=MAX_LOGO_BYTES),
    SettingDeclaration(
        PAPER_SIZE, "choice", "A4", "PDF paper size", "Clinic",
        "Page size of every PDF ketalog writes", choices=PAPERS),
    SettingDeclaration(
        AUTO_LOGOFF_MIN, "float", 15.0, "Log off after idle", "Workstation",
        "A workstation left idle this long locks; applies from the next login",
        unit="minutes", minimum=1, maximum=240),
    SettingDeclaration(
        MONITORING_INTERVAL_MIN, "int", 15, "Vitals every (default)", "Session",
        "For sessions without a protocol; each protocol sets its own (CLINICAL.md: at "
        "least every 15 min during infusion)", unit="minutes", minimum=1, maximum=60),
    SettingDeclaration(
        OBSERVATION_MIN, "int", DEFAULT_OBSERVATION_MIN, "Observe after last dose",
        "Discharge", "Discharge readiness: time since the last ketamine dose (Ketalar "
        "label: at least 60 min)", unit="minutes", minimum=15, maximum=480),
    SettingDeclaration(
        PADSS_FIT_AT_KEY, "int", PADSS_FIT_AT, "PADSS discharge at least", "Discharge",
        "Adapted PADSS (4 items, 0-8) pass mark for discharge", unit="of 8", minimum=1,
        maximum=8),
    SettingDeclaration(
        RESPONDER_THRESHOLD_PCT, "float", DEFAULT_RESPONDER_THRESHOLD_PCT,
        "Responder at least", "Course of treatment",
        "NRS reduction from the first 'pre' to the last 'post' score that makes a session "
        "a responder", unit="% NRS reduction", minimum=5, maximum=90),
    SettingDeclaration(
        FOLLOW_UP_HOURS, "hours", tuple(DEFAULT_FOLLOW_UP_HOURS), "Follow-up calls",
        "Course of treatment", "Hours after the infusion ends, e.g. 24, 72, 168 (or 1d, 3d, "
        "7d); at least one", unit="h", minimum=1, maximum=2160),
)

BY_KEY: dict[str, SettingDeclaration] = {d.key: d for d in SETTINGS}
GROUPS: tuple[str, ...] = tuple(dict.fromkeys(d.group for d in SETTINGS))

# Settings kept in clinic_settings but not declared above, and where they live: each has
# its own screen and a check that spans several values (or it is internal bookkeeping).
STRUCTURED: dict[str, str] = {
    "alert_thresholds": "services/settings.py: per-vital low/high table (Alert thresholds)",
    "hl7_feed": "services/device_feed_settings.py: listener on/off, host and port together",
    "hl7_feed_rules": "services/device_feed_config.py: feed rules",
    "hl7_clinic_codes": "services/device_feed_config.py: the clinic's HL7 code rows",
    "hl7_bed_map": "services/device_feed_config.py: bed to chair map",
    "hl7_primary_channels": "services/device_feed_config.py: primary channel per monitor",
    "stock_count_users": "services/stock.py: saved with the waste tolerance (Stock settings)",
    "stock_waste_tolerance_mg": "services/stock.py: saved with the count users",
    "backup_folder": "services/backups.py: saved with the interval (Backup settings)",
    "backup_every_hours": "services/backups.py: saved with the folder",
    "anchor_folder": "services/backups.py: saved with the backup folder",
    "server_backup_folder": "services/server_backups.py: where `ketalog server backup` "
                            "writes on the server machine",
    "fhir_mrn_system": "services/fhir_export.py: the MRN identifier system (FHIR export)",
    "unmapped_indications": "services/indications.py: kept by a migration, read-only",
    "formulary_seeded": "services/formulary.py: bookkeeping, set once",
}
