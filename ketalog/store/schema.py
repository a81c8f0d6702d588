"""The schema, as sqlite-utils migrations. Each step is atomic; never edit a step that
has shipped: add a new one. `table.transform()` drops triggers, so any step that
transforms a protected table must call `install_protection()` again."""

from __future__ import annotations

import json
import uuid

from sqlite_utils import Database, Migrations

from ketalog.domain.indications import SEED_INDICATIONS, Indication, match_indication
from ketalog.store.history import record_upgrade_writes

MIGRATION_SET = "ketalog"
migrations = Migrations(MIGRATION_SET)

# Tables whose rows belong to one infusion session and lock when it is signed.
SESSION_CHILD_TABLES: tuple[str, ...] = (
    "vitals", "dose_events", "adjunct_medications", "scores", "side_effects", "notes",
)
# Tables that may only ever grow.
APPEND_ONLY_TABLES: tuple[str, ...] = ("audit_log", "signatures", "addenda")

CLINICAL_TABLES: tuple[str, ...] = (
    "patients", "protocols", "sessions", *SESSION_CHILD_TABLES, "follow_ups",
    "signatures", "addenda", "treatment_series",
)

_CORE = """
CREATE TABLE clinic_settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    username TEXT NOT NULL UNIQUE COLLATE NOCASE,
    display_name TEXT NOT NULL,
    credentials TEXT NOT NULL DEFAULT '',
    password_hash TEXT NOT NULL,
    failed_logins INTEGER NOT NULL DEFAULT 0,
    locked INTEGER NOT NULL DEFAULT 0 CHECK (locked IN (0, 1)),
    active INTEGER NOT NULL DEFAULT 1 CHECK (active IN (0, 1)),
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE user_roles (
    user_id INTEGER NOT NULL REFERENCES users(id),
    role TEXT NOT NULL CHECK (role IN ('nurse', 'provider', 'admin')),
    PRIMARY KEY (user_id, role)
) STRICT;

CREATE TABLE patients (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    mrn TEXT NOT NULL UNIQUE,
    family_name TEXT NOT NULL,
    given_name TEXT NOT NULL,
    birth_date TEXT NOT NULL,
    sex TEXT NOT NULL DEFAULT 'unknown',
    allergies TEXT NOT NULL DEFAULT '',
    indication TEXT NOT NULL DEFAULT '',
    referring_provider TEXT NOT NULL DEFAULT '',
    contraindication_screen TEXT NOT NULL DEFAULT '',
    consent_date TEXT,
    notes TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE protocols (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL UNIQUE,
    indication TEXT NOT NULL,
    bolus_mg_per_kg REAL NOT NULL CHECK (bolus_mg_per_kg >= 0),
    rate_mg_per_kg_per_h REAL NOT NULL CHECK (rate_mg_per_kg_per_h > 0),
    duration_min INTEGER NOT NULL CHECK (duration_min > 0),
    series_length INTEGER NOT NULL CHECK (series_length > 0),
    max_total_mg REAL,
    monitoring_interval_min INTEGER NOT NULL CHECK (monitoring_interval_min > 0),
    retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1))
) STRICT;

CREATE TABLE sessions (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    protocol_id INTEGER REFERENCES protocols(id),
    series_number INTEGER NOT NULL CHECK (series_number >= 1),
    series_total INTEGER NOT NULL CHECK (series_total >= series_number),
    chair TEXT NOT NULL DEFAULT '',
    nurse_id INTEGER REFERENCES users(id),
    provider_id INTEGER REFERENCES users(id),
    weight_kg REAL NOT NULL CHECK (weight_kg > 0),
    bag_drug TEXT NOT NULL,
    bag_concentration_mg_per_ml REAL NOT NULL CHECK (bag_concentration_mg_per_ml > 0),
    bag_volume_ml REAL NOT NULL CHECK (bag_volume_ml > 0),
    bag_lot TEXT NOT NULL DEFAULT '',
    bag_expiry TEXT,
    status TEXT NOT NULL CHECK (status IN ('draft', 'in_progress', 'completed', 'signed')),
    arrival_at TEXT,
    infusion_start_at TEXT,
    infusion_end_at TEXT,
    discharge_at TEXT,
    discharge_escort TEXT NOT NULL DEFAULT '',
    discharge_instructions TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
) STRICT;

CREATE TABLE vitals (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at TEXT NOT NULL,
    sbp_mmhg REAL, dbp_mmhg REAL, map_mmhg REAL,
    map_derived INTEGER NOT NULL DEFAULT 0 CHECK (map_derived IN (0, 1)),
    hr_bpm REAL, spo2_pct REAL, rr_per_min REAL, etco2_mmhg REAL, temp_c REAL,
    source TEXT NOT NULL DEFAULT 'manual',
    alerts TEXT NOT NULL DEFAULT '[]',
    late_entry INTEGER NOT NULL DEFAULT 0 CHECK (late_entry IN (0, 1)),
    artifact INTEGER NOT NULL DEFAULT 0 CHECK (artifact IN (0, 1)),
    artifact_reason TEXT NOT NULL DEFAULT '',
    entered_at TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE dose_events (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('bolus', 'start', 'rate_change', 'pause', 'resume', 'stop')),
    bolus_mg REAL,
    rate_mg_per_h REAL,
    weight_kg REAL,
    reason TEXT NOT NULL DEFAULT '',
    acknowledged_warnings TEXT NOT NULL DEFAULT '[]',
    entered_at TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE adjunct_medications (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at TEXT NOT NULL,
    drug TEXT NOT NULL,
    dose REAL NOT NULL CHECK (dose > 0),
    unit TEXT NOT NULL,
    route TEXT NOT NULL,
    reason TEXT NOT NULL DEFAULT '',
    entered_at TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE scores (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at TEXT NOT NULL,
    scale TEXT NOT NULL,
    value INTEGER NOT NULL,
    phase TEXT NOT NULL CHECK (phase IN ('pre', 'intra', 'post', 'follow-up')),
    items TEXT NOT NULL DEFAULT '{}',
    entered_at TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE side_effects (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    onset_at TEXT NOT NULL,
    kind TEXT NOT NULL,
    severity TEXT NOT NULL CHECK (severity IN ('mild', 'moderate', 'severe')),
    action TEXT NOT NULL DEFAULT '',
    resolved_at TEXT,
    note TEXT NOT NULL DEFAULT '',
    entered_at TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE notes (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at TEXT NOT NULL,
    author_id INTEGER NOT NULL REFERENCES users(id),
    text TEXT NOT NULL,
    entered_at TEXT NOT NULL
) STRICT;

CREATE TABLE follow_ups (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    at TEXT NOT NULL,
    nrs INTEGER CHECK (nrs BETWEEN 0 AND 10),
    relief_hours REAL,
    phq9 INTEGER CHECK (phq9 BETWEEN 0 AND 27),
    source TEXT NOT NULL DEFAULT 'phone',
    note TEXT NOT NULL DEFAULT '',
    entered_at TEXT NOT NULL,
    entered_by INTEGER REFERENCES users(id)
) STRICT;

CREATE TABLE signatures (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    user_id INTEGER NOT NULL REFERENCES users(id),
    at TEXT NOT NULL,
    meaning TEXT NOT NULL,
    content_hash TEXT NOT NULL
) STRICT;

CREATE TABLE addenda (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    session_id INTEGER NOT NULL REFERENCES sessions(id),
    author_id INTEGER NOT NULL REFERENCES users(id),
    at TEXT NOT NULL,
    reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
    text TEXT NOT NULL
) STRICT;

CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    user_id INTEGER,
    username TEXT NOT NULL,
    action TEXT NOT NULL,
    table_name TEXT NOT NULL DEFAULT '',
    row_uuid TEXT NOT NULL DEFAULT '',
    old_values TEXT,
    new_values TEXT,
    reason TEXT NOT NULL DEFAULT '',
    prev_hash TEXT NOT NULL,
    entry_hash TEXT NOT NULL
) STRICT;
"""


@migrations()
def m001_core(db: Database) -> None:
    for statement in _CORE.split(";"):
        if statement.strip():
            db.execute(statement)


def _now_iso(db: Database) -> str:
    return str(db.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()[0])


LOCKED_MESSAGE = "record is locked: the session is signed; add an addendum instead"


def protection_triggers() -> dict[str, str]:
    """Name -> CREATE TRIGGER statement for every immutability rule."""
    triggers: dict[str, str] = {}
    signed = "(SELECT status FROM sessions WHERE id = {ref}.session_id) = 'signed'"
    for table in SESSION_CHILD_TABLES:
        triggers[f"{table}_locked_insert"] = (
            f"CREATE TRIGGER {table}_locked_insert BEFORE INSERT ON {table} "
            f"WHEN {signed.format(ref='NEW')} "
            f"BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
        triggers[f"{table}_locked_update"] = (
            f"CREATE TRIGGER {table}_locked_update BEFORE UPDATE ON {table} "
            f"WHEN {signed.format(ref='OLD')} OR {signed.format(ref='NEW')} "
            f"BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
        triggers[f"{table}_locked_delete"] = (
            f"CREATE TRIGGER {table}_locked_delete BEFORE DELETE ON {table} "
            f"WHEN {signed.format(ref='OLD')} "
            f"BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
    triggers["sessions_locked_update"] = (
        "CREATE TRIGGER sessions_locked_update BEFORE UPDATE ON sessions "
        f"WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
    triggers["sessions_locked_delete"] = (
        "CREATE TRIGGER sessions_locked_delete BEFORE DELETE ON sessions "
        f"WHEN OLD.status = 'signed' BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
    for table in APPEND_ONLY_TABLES:
        for op in ("update", "delete"):
            triggers[f"{table}_append_only_{op}"] = (
                f"CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    return triggers


def install_protection(db: Database) -> None:
    existing = set(db.triggers_dict)
    for name, sql in protection_triggers().items():
        if name not in existing:
            db.execute(sql)


@migrations()
def m002_protection(db: Database) -> None:
    install_protection(db)


_INDEXES = (
    "CREATE INDEX idx_sessions_patient ON sessions(patient_id, infusion_start_at)",
    "CREATE INDEX idx_sessions_created ON sessions(created_at)",
    "CREATE INDEX idx_patients_name ON patients(family_name COLLATE NOCASE, given_name)",
    "CREATE INDEX idx_patients_birth ON patients(birth_date)",
    "CREATE INDEX idx_audit_row ON audit_log(table_name, row_uuid)",
    "CREATE INDEX idx_audit_user ON audit_log(user_id, at)",
    *(f"CREATE INDEX idx_{t}_session ON {t}(session_id)" for t in
      ("dose_events", "adjunct_medications", "scores", "side_effects", "notes",
       "follow_ups", "signatures", "addenda")),
    "CREATE INDEX idx_vitals_session_at ON vitals(session_id, at)",
)


@migrations()
def m003_indexes(db: Database) -> None:
    for statement in _INDEXES:
        db.execute(statement)


_SERIES = """
CREATE TABLE treatment_series (
    id INTEGER PRIMARY KEY,
    uuid TEXT NOT NULL UNIQUE,
    patient_id INTEGER NOT NULL REFERENCES patients(id),
    protocol_id INTEGER REFERENCES protocols(id),
    kind TEXT NOT NULL CHECK (kind IN ('induction', 'maintenance', 'booster')),
    planned_sessions INTEGER NOT NULL CHECK (planned_sessions BETWEEN 1 AND 100),
    start_date TEXT NOT NULL,
    goal TEXT NOT NULL CHECK (length(trim(goal)) > 0),
    next_session_on TEXT,
    closed_at TEXT,
    closed_reason TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    created_by INTEGER REFERENCES users(id)
) STRICT;
ALTER TABLE sessions ADD COLUMN series_id INTEGER REFERENCES treatment_series(id);
CREATE INDEX idx_series_patient ON treatment_series(patient_id, start_date);
CREATE INDEX idx_sessions_series ON sessions(series_id)
"""


@migrations()
def m004_series(db: Database) -> None:
    """Treatment series (induction course, maintenance, booster) with a start date, a
    goal and the next planned session. Sessions signed before this step keep
    series_id NULL, which the signed content leaves out (store/content.py), so their
    hashes still verify."""
    for statement in _SERIES.split(";"):
        if statement.strip():
            db.execute(statement)


_DEVICE_FEED = (
    # Every HL7 message the monitor feed received: the ledger that makes a resent message
    # (same bytes) harmless, and the quarantine (status 'quarantined', raw text kept) of
    # messages that could not be stored, until a nurse assigns or discards them.
    """CREATE TABLE device_messages (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        received_at TEXT NOT NULL,
        sending_app TEXT NOT NULL DEFAULT '',
        control_id TEXT NOT NULL DEFAULT '',
        raw_sha256 TEXT NOT NULL UNIQUE,
        status TEXT NOT NULL
            CHECK (status IN ('stored', 'quarantined', 'assigned', 'discarded')),
        ack_code TEXT NOT NULL CHECK (ack_code IN ('AA', 'AE', 'AR')),
        reason TEXT NOT NULL DEFAULT '',
        session_id INTEGER REFERENCES sessions(id),
        readings INTEGER NOT NULL DEFAULT 0,
        raw TEXT,
        resolved_at TEXT,
        resolved_by INTEGER REFERENCES users(id),
        resolution_note TEXT NOT NULL DEFAULT ''
    ) STRICT""",
    "CREATE INDEX idx_device_messages_status ON device_messages(status, received_at)",
    # the feed looks up open sessions on every message
    "CREATE INDEX idx_sessions_status ON sessions(status)",
)


@migrations()
def m005_device_feed(db: Database) -> None:
    for statement in _DEVICE_FEED:
        db.execute(statement)


_ACCESS = (
    # Break-glass emergency access: who got in, why, until when, and the admin's review.
    """CREATE TABLE emergency_access (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        started_at TEXT NOT NULL,
        expires_at TEXT NOT NULL,
        ended_at TEXT,
        reason TEXT NOT NULL CHECK (length(trim(reason)) > 0),
        account_was_locked INTEGER NOT NULL DEFAULT 0 CHECK (account_was_locked IN (0, 1)),
        reviewed_at TEXT,
        reviewed_by INTEGER REFERENCES users(id),
        review_note TEXT NOT NULL DEFAULT ''
    ) STRICT""",
    "CREATE INDEX idx_emergency_pending ON emergency_access(reviewed_at, started_at)",
    # the audit viewer filters by date range and by action
    "CREATE INDEX idx_audit_at ON audit_log(at)",
    "CREATE INDEX idx_audit_action ON audit_log(action, at)",
)


@migrations()
def m006_access(db: Database) -> None:
    for statement in _ACCESS:
        db.execute(statement)


_SCALE_INDEXES = (
    # Today board: sessions created or started since midnight, in that order. The
    # expression must stay identical to store/sessions.py's BEGAN to be used.
    "CREATE INDEX idx_sessions_began ON sessions(coalesce(infusion_start_at, created_at))",
    # Planned tab: open series with a next day planned (a few dozen of ten years' series).
    "CREATE INDEX idx_series_next ON treatment_series(next_session_on) "
    "WHERE closed_at IS NULL AND next_session_on IS NOT NULL",
    # "This protocol is used by N sessions" (protocols dialog, update_protocol).
    "CREATE INDEX idx_sessions_protocol ON sessions(protocol_id)",
)


@migrations()
def m007_scale_indexes(db: Database) -> None:
    """Indexes found with EXPLAIN QUERY PLAN on ten years of a busy clinic
    (benchmarks/gen_ten_years.py): every other screen query already searched an index;
    these three scanned sessions or series (tests/store/test_query_plans.py)."""
    for statement in _SCALE_INDEXES:
        db.execute(statement)


# Entries that can be struck as entered in error (vitals keep their artifact marking).
STRIKABLE_TABLES: tuple[str, ...] = (
    "dose_events", "adjunct_medications", "side_effects", "scores", "notes", "follow_ups",
)
STRIKE_COLUMNS: tuple[str, ...] = ("struck_reason", "struck_at", "struck_by")
# Added by m008_record, NULL unless set (bulk writers may leave them out).
LATER_NULLABLE_COLUMNS = frozenset({*STRIKE_COLUMNS, "discharge_readiness", "phq9_items",
                                    "indication_id",
                                    "phq9_total_only", "safety_ack_at", "safety_ack_by",
                                    "safety_ack_note"})


@migrations()
def m008_record(db: Database) -> None:
    """Entered-in-error marking on every kind of entry: struck with a reason, by whom and
    when, never deleted; the discharge-readiness record of each completed session. The columns are NULL on rows never struck, which the signed
    content leaves out (store/content.py), so sessions signed before keep their hash."""
    for table in STRIKABLE_TABLES:
        db.execute(f"ALTER TABLE {table} ADD COLUMN struck_reason TEXT")
        db.execute(f"ALTER TABLE {table} ADD COLUMN struck_at TEXT")
        db.execute(f"ALTER TABLE {table} ADD COLUMN struck_by INTEGER REFERENCES users(id)")
    # The discharge-readiness checks as the nurse completed the session (JSON: each
    # check, passed or not, with the reason a failed one was acknowledged).
    db.execute("ALTER TABLE sessions ADD COLUMN discharge_readiness TEXT")
    # Follow-up PHQ-9 with its nine items (JSON) or a total only (flag 1), and the
    # clinician's acknowledgement of an item-9 safety flag.
    for column in ("phq9_items TEXT", "phq9_total_only INTEGER CHECK (phq9_total_only IN (0, 1))",
                   "safety_ack_at TEXT", "safety_ack_by INTEGER REFERENCES users(id)",
                   "safety_ack_note TEXT"):
        db.execute(f"ALTER TABLE follow_ups ADD COLUMN {column}")
    _coded_indications(db)
    record_upgrade_writes(db.conn, "m008_record", _now_iso(db))


def _coded_indications(db: Database) -> None:
    """The clinic's coded indications, seeded; each patient's free-text indication mapped
    case-insensitively (kept as the note it was); what could not be mapped is listed in
    the clinic setting 'unmapped_indications' for the admin (services.indications)."""
    db.execute("""CREATE TABLE indications (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
        category TEXT NOT NULL CHECK (category IN ('pain', 'mood', 'other')),
        default_protocol_id INTEGER REFERENCES protocols(id),
        retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
        created_at TEXT NOT NULL
    ) STRICT""")
    db.execute("ALTER TABLE patients ADD COLUMN indication_id INTEGER "
               "REFERENCES indications(id)")
    db.execute("CREATE INDEX idx_patients_indication ON patients(indication_id)")
    now = db.execute("SELECT strftime('%Y-%m-%dT%H:%M:%fZ', 'now')").fetchone()[0]
    coded: list[Indication] = []
    for name, category in SEED_INDICATIONS:
        cursor = db.execute("INSERT INTO indications (uuid, name, category, created_at) "
                            "VALUES (?, ?, ?, ?)", [str(uuid.uuid4()), name, category.value, now])
        coded.append(Indication(cursor.lastrowid, name, category))
    unmapped: dict[str, int] = {}
    for pid, text in db.execute("SELECT id, indication FROM patients").fetchall():
        if not str(text).strip():
            continue
        found = match_indication(str(text), coded)
        if found is None:
            unmapped[str(text).strip()] = unmapped.get(str(text).strip(), 0) + 1
        else:
            db.execute("UPDATE patients SET indication_id = ? WHERE id = ?", [found.id, pid])
    db.execute("INSERT INTO clinic_settings (key, value) VALUES ('unmapped_indications', ?) "
               "ON CONFLICT(key) DO UPDATE SET value = excluded.value",
               [json.dumps(unmapped, sort_keys=True)])
_BEDSIDE = (
    # Allergies as entries. The free text on patients stays (nothing typed is lost); this
    # step copies each of its pieces into an entry with source_text naming where it came
    # from. Entries are never deleted: removing one sets removed_at with a reason.
    """CREATE TABLE allergies (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        patient_id INTEGER NOT NULL REFERENCES patients(id),
        substance TEXT NOT NULL CHECK (length(trim(substance)) > 0),
        reaction TEXT NOT NULL DEFAULT '',
        severity TEXT NOT NULL DEFAULT 'unknown'
            CHECK (severity IN ('unknown', 'mild', 'moderate', 'severe')),
        source_text TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        entered_by INTEGER REFERENCES users(id),
        removed_at TEXT,
        removed_reason TEXT NOT NULL DEFAULT ''
    ) STRICT""",
    "CREATE INDEX idx_allergies_patient ON allergies(patient_id)",
    # The clinic's adjunct formulary (admin-edited, audited; seeded from
    # resources/clinical/formulary.csv by services.formulary on first use).
    """CREATE TABLE formulary (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        drug TEXT NOT NULL COLLATE NOCASE CHECK (length(trim(drug)) > 0),
        drug_class TEXT NOT NULL DEFAULT '',
        route TEXT NOT NULL COLLATE NOCASE,
        unit TEXT NOT NULL CHECK (unit IN ('mg', 'mcg', 'g', 'mL', 'units')),
        dose_min REAL CHECK (dose_min IS NULL OR dose_min > 0),
        dose_max REAL CHECK (dose_max IS NULL OR dose_max > 0),
        source TEXT NOT NULL CHECK (length(trim(source)) > 0),
        retired INTEGER NOT NULL DEFAULT 0 CHECK (retired IN (0, 1)),
        CHECK (dose_min IS NULL OR dose_max IS NULL OR dose_min <= dose_max),
        UNIQUE (drug, route)
    ) STRICT""",
    # What a nurse acknowledged in a session: an allergy or formulary warning on an
    # adjunct or a ketamine dose (response = the reason to give it anyway), or an alarm
    # on a vitals reading (response = the action taken). Part of the signed content when
    # a session has any (store/content.py), locked with the session.
    """CREATE TABLE acknowledgements (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        session_id INTEGER NOT NULL REFERENCES sessions(id),
        at TEXT NOT NULL,
        kind TEXT NOT NULL CHECK (kind IN ('allergy', 'formulary', 'alarm')),
        subject_table TEXT NOT NULL
            CHECK (subject_table IN ('adjunct_medications', 'dose_events', 'vitals')),
        subject_uuid TEXT NOT NULL,
        warning TEXT NOT NULL,
        source TEXT NOT NULL DEFAULT '',
        response TEXT NOT NULL CHECK (length(trim(response)) > 0),
        entered_at TEXT NOT NULL,
        entered_by INTEGER REFERENCES users(id)
    ) STRICT""",
    "CREATE INDEX idx_acknowledgements_session ON acknowledgements(session_id, at)",
    "CREATE INDEX idx_acknowledgements_subject ON acknowledgements(subject_uuid)",
)


def bedside_triggers() -> dict[str, str]:
    """Acknowledgements are locked with their signed session."""
    return {f"acknowledgements_locked_{op}": (
        f"CREATE TRIGGER acknowledgements_locked_{op} BEFORE {op.upper()} ON acknowledgements "
        f"WHEN (SELECT status FROM sessions WHERE id = {ref}.session_id) = 'signed' "
        f"BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
        for op, ref in (("insert", "NEW"), ("update", "OLD"), ("delete", "OLD"))}


@migrations()
def m009_bedside(db: Database) -> None:
    """Structured allergies (copied from the free text), the adjunct formulary and the
    acknowledgements of allergy, formulary and alarm warnings."""
    import uuid

    from ketalog.domain.allergies import parse_free_text

    for statement in _BEDSIDE:
        db.execute(statement)
    for sql in bedside_triggers().values():
        db.execute(sql)
    rows = db.execute("SELECT id, allergies, created_at FROM patients "
                      "WHERE trim(allergies) != ''").fetchall()
    for patient_id, text, created_at in rows:
        for allergy in parse_free_text(str(text)):
            db.execute("INSERT INTO allergies (uuid, patient_id, substance, reaction, "
                       "source_text, created_at) VALUES (?, ?, ?, ?, ?, ?)",
                       (str(uuid.uuid4()), patient_id, allergy.substance, allergy.reaction,
                        str(text), created_at))
    record_upgrade_writes(db.conn, "m009_bedside", _now_iso(db))


_MONITORS = (
    # What each monitor message carried beyond the stored readings: the source it was
    # attributed to (MSH-3, MSH-4 or the device id), the device id (OBR-3 / OBX-18), the
    # observations refused alone, values of other channels kept apart, the codes not in
    # the code map, and how far the monitor's clock was ahead of the workstation.
    "ALTER TABLE device_messages ADD COLUMN source TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE device_messages ADD COLUMN device_id TEXT NOT NULL DEFAULT ''",
    "ALTER TABLE device_messages ADD COLUMN refused TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE device_messages ADD COLUMN other_channels TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE device_messages ADD COLUMN unknown_codes TEXT NOT NULL DEFAULT '[]'",
    "ALTER TABLE device_messages ADD COLUMN clock_ahead_s REAL",
    # refusal rows (status 'quarantined') point at the message whose good values were stored
    "ALTER TABLE device_messages ADD COLUMN part_of INTEGER REFERENCES device_messages(id)",
    "CREATE INDEX idx_device_messages_source ON device_messages(source, received_at)",
)


@migrations()
def m010_monitors(db: Database) -> None:
    for statement in _MONITORS:
        db.execute(statement)
LEGACY_SIGNATURES_ACTION = "signing_keys_introduced"
_TRUST = (
    # One row per key pair a user ever had (a password reset makes a new one); the
    # private key is sealed under the user's password (domain/signing.py).
    """CREATE TABLE user_keys (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        user_id INTEGER NOT NULL REFERENCES users(id),
        public_key TEXT NOT NULL,
        sealed_key TEXT NOT NULL,
        reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL
    ) STRICT""",
    "CREATE INDEX idx_user_keys_user ON user_keys(user_id, id)",
    "ALTER TABLE signatures ADD COLUMN key_id INTEGER REFERENCES user_keys(id)",
    "ALTER TABLE signatures ADD COLUMN signature TEXT",
)


def trust_triggers() -> dict[str, str]:
    """Key pairs are never changed or removed: old signatures verify against them."""
    return {f"user_keys_append_only_{op}": (
        f"CREATE TRIGGER user_keys_append_only_{op} BEFORE {op.upper()} ON user_keys "
        "BEGIN SELECT RAISE(ABORT, 'user_keys is append-only'); END")
        for op in ("update", "delete")}


def expected_triggers() -> dict[str, str]:
    """Every trigger a ketalog database has, with its exact SQL text (verify compares)."""
    return {**protection_triggers(), **bedside_triggers(), **trust_triggers(),
            **stock_triggers()}


@migrations()
def m011_trust(db: Database) -> None:
    """Signing keys. Signatures made before this step carry no Ed25519 signature: an
    audit entry records the last entry of that era, so verify accepts unkeyed
    signatures only from before it (an unkeyed one inserted later is found)."""
    from datetime import UTC, datetime

    from ketalog.domain.clock import to_iso
    from ketalog.store.audit import AuditChain, values_json

    for statement in _TRUST:
        db.execute(statement)
    for sql in trust_triggers().values():
        db.execute(sql)
    head = db.execute("SELECT max(id) FROM audit_log").fetchone()[0]
    now = to_iso(datetime.now(UTC))
    if head and db.execute("SELECT count(*) FROM signatures").fetchone()[0]:
        AuditChain(db.conn).append(
            at=now, user_id=None, username="system", action=LEGACY_SIGNATURES_ACTION,
            new_values=values_json({"legacy_signatures_through_entry": int(head)}))
    # From here on verify compares every row with its history: rows an older ketalog
    # wrote without an entry get one now, saying so.
    record_upgrade_writes(db.conn, "m011_trust", now)


_STOCK = (
    # Where controlled substances are kept (a safe, a locked cabinet).
    """CREATE TABLE stock_locations (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        name TEXT NOT NULL UNIQUE COLLATE NOCASE CHECK (length(trim(name)) > 0),
        created_at TEXT NOT NULL
    ) STRICT""",
    # One manufacturer's lot of one product in one location. Receipts, draws and
    # wastes are movements; the lot row changes only when it is recalled.
    """CREATE TABLE stock_lots (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        location_id INTEGER NOT NULL REFERENCES stock_locations(id),
        drug TEXT NOT NULL DEFAULT 'ketamine',
        product TEXT NOT NULL CHECK (length(trim(product)) > 0),
        strength_mg_per_ml REAL NOT NULL CHECK (strength_mg_per_ml > 0),
        container_ml REAL NOT NULL CHECK (container_ml > 0),
        lot_number TEXT NOT NULL CHECK (length(trim(lot_number)) > 0),
        expiry TEXT NOT NULL,
        recalled INTEGER NOT NULL DEFAULT 0 CHECK (recalled IN (0, 1)),
        recall_reason TEXT NOT NULL DEFAULT '',
        created_at TEXT NOT NULL,
        UNIQUE (location_id, product, strength_mg_per_ml, container_ml, lot_number)
    ) STRICT""",
    # The ledger. amount_mg > 0 except for adjustments (signed). A waste with a session
    # is that session's remainder; without one, stock destroyed. Append-only.
    """CREATE TABLE stock_movements (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        kind TEXT NOT NULL CHECK (kind IN ('receive', 'draw', 'return', 'waste', 'adjustment')),
        lot_id INTEGER REFERENCES stock_lots(id),
        session_id INTEGER REFERENCES sessions(id),
        at TEXT NOT NULL,
        amount_mg REAL NOT NULL CHECK (amount_mg > 0 OR (kind = 'adjustment' AND amount_mg != 0)
                                       OR (kind = 'waste' AND amount_mg = 0)),
        containers REAL,
        volume_ml REAL,
        supplier TEXT NOT NULL DEFAULT '',
        invoice TEXT NOT NULL DEFAULT '',
        method TEXT NOT NULL DEFAULT '',
        reason TEXT NOT NULL DEFAULT '',
        resolves TEXT NOT NULL DEFAULT '',
        user_id INTEGER NOT NULL REFERENCES users(id),
        witness_id INTEGER REFERENCES users(id),
        witness_at TEXT,
        entered_at TEXT NOT NULL,
        CHECK (kind NOT IN ('receive', 'draw', 'return') OR lot_id IS NOT NULL),
        CHECK (kind != 'waste' OR lot_id IS NOT NULL OR session_id IS NOT NULL),
        CHECK (witness_id IS NULL OR witness_id != user_id)
    ) STRICT""",
    "CREATE INDEX idx_stock_movements_lot ON stock_movements(lot_id, at)",
    "CREATE INDEX idx_stock_movements_session ON stock_movements(session_id)",
    "CREATE INDEX idx_stock_movements_at ON stock_movements(at)",
    """CREATE TABLE stock_counts (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        location_id INTEGER NOT NULL REFERENCES stock_locations(id),
        at TEXT NOT NULL,
        business TEXT NOT NULL CHECK (business IN ('opening', 'close')),
        counted_by INTEGER NOT NULL REFERENCES users(id),
        second_counter_id INTEGER REFERENCES users(id),
        note TEXT NOT NULL DEFAULT '',
        entered_at TEXT NOT NULL,
        CHECK (second_counter_id IS NULL OR second_counter_id != counted_by)
    ) STRICT""",
    """CREATE TABLE stock_count_lines (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        count_id INTEGER NOT NULL REFERENCES stock_counts(id),
        lot_id INTEGER NOT NULL REFERENCES stock_lots(id),
        expected_mg REAL NOT NULL,
        counted_mg REAL NOT NULL CHECK (counted_mg >= 0),
        explanation TEXT NOT NULL DEFAULT '',
        CHECK (abs(counted_mg - expected_mg) < 0.000001 OR length(trim(explanation)) > 0)
    ) STRICT""",
    "CREATE INDEX idx_stock_count_lines_count ON stock_count_lines(count_id)",
    # A provider's or admin's resolution of one discrepancy (key "kind:ref").
    """CREATE TABLE stock_resolutions (
        id INTEGER PRIMARY KEY,
        uuid TEXT NOT NULL UNIQUE,
        discrepancy TEXT NOT NULL UNIQUE,
        at TEXT NOT NULL,
        user_id INTEGER NOT NULL REFERENCES users(id),
        note TEXT NOT NULL CHECK (length(trim(note)) > 0),
        adjustment_id INTEGER REFERENCES stock_movements(id)
    ) STRICT""",
)

STOCK_APPEND_ONLY: tuple[str, ...] = ("stock_movements", "stock_counts", "stock_count_lines",
                                      "stock_resolutions")


def stock_triggers() -> dict[str, str]:
    """The ledger only grows (corrections are new movements), and nothing is added to
    a signed session's stock record: its waste and witness are final."""
    triggers: dict[str, str] = {}
    for table in STOCK_APPEND_ONLY:
        for op in ("update", "delete"):
            triggers[f"{table}_append_only_{op}"] = (
                f"CREATE TRIGGER {table}_append_only_{op} BEFORE {op.upper()} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END")
    triggers["stock_movements_locked_insert"] = (
        "CREATE TRIGGER stock_movements_locked_insert BEFORE INSERT ON stock_movements "
        "WHEN NEW.session_id IS NOT NULL AND "
        "(SELECT status FROM sessions WHERE id = NEW.session_id) = 'signed' "
        f"BEGIN SELECT RAISE(ABORT, '{LOCKED_MESSAGE}'); END")
    triggers["stock_lots_delete"] = (
        "CREATE TRIGGER stock_lots_delete BEFORE DELETE ON stock_lots "
        "BEGIN SELECT RAISE(ABORT, 'stock_lots is append-only'); END")
    triggers["stock_lots_fixed"] = (
        # only the recall flag and its reason may change on a lot
        "CREATE TRIGGER stock_lots_fixed BEFORE UPDATE ON stock_lots WHEN "
        "NEW.location_id IS NOT OLD.location_id OR NEW.product IS NOT OLD.product OR "
        "NEW.strength_mg_per_ml IS NOT OLD.strength_mg_per_ml OR "
        "NEW.container_ml IS NOT OLD.container_ml OR NEW.lot_number IS NOT OLD.lot_number OR "
        "NEW.expiry IS NOT OLD.expiry OR NEW.uuid IS NOT OLD.uuid "
        "BEGIN SELECT RAISE(ABORT, 'stock_lots is append-only'); END")
    return triggers


@migrations()
def m012_stock(db: Database) -> None:
    """The controlled-substance record: locations, lots, the movement ledger, counts and
    resolutions of discrepancies."""
    for statement in _STOCK:
        db.execute(statement)
    for sql in stock_triggers().values():
        db.execute(sql)
