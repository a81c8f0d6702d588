"""Protocol templates (admin) and the studied regimens they are seeded from."""

from __future__ import annotations

from dataclasses import asdict, dataclass

from ketalog.domain.entities import Protocol, Role
from ketalog.domain.errors import FieldProblem, PlausibilityError
from ketalog.services.context import Context
from ketalog.services.errors import InvalidState, ServiceError, service_boundary
from ketalog.store import protocols as protocol_rows
from ketalog.store import sessions as sessions_store
from ketalog.store.store import SYSTEM, Actor, Store


@dataclass(frozen=True)
class ProtocolInput:
    name: str
    indication: str
    bolus_mg_per_kg: float
    rate_mg_per_kg_per_h: float
    duration_min: int
    series_length: int
    max_total_mg: float | None
    monitoring_interval_min: int


# Seeded from CLINICAL.md "Dosing"; every value is a clinic default the admin may edit.
SEED_PROTOCOLS: tuple[ProtocolInput, ...] = (
    ProtocolInput("Chronic pain 0.5 mg/kg/h x 4 h", "neuropathic pain", 0.35, 0.5, 240, 6,
                  None, 10),
    ProtocolInput("CRPS 0.35 mg/kg/h x 4 h, 10 days", "CRPS", 0.0, 0.35, 240, 10, None, 10),
    ProtocolInput("Fibromyalgia 0.5 mg/kg/h x 2 h", "fibromyalgia", 0.0, 0.5, 120, 6, None, 10),
    ProtocolInput("Depression 0.5 mg/kg over 40 min", "depression", 0.0, 0.75, 40, 6, None, 5),
)


@service_boundary
def validate_protocol(data: ProtocolInput) -> dict[str, object]:
    problems: list[FieldProblem] = []

    def bad(field: str, value: object, limit: str, msg: str) -> None:
        problems.append(FieldProblem(field, value, limit, msg))

    if not data.name.strip():
        bad("name", data.name, "required", "Protocol name is required")
    if not 0 <= data.bolus_mg_per_kg <= 2:
        bad("bolus_mg_per_kg", data.bolus_mg_per_kg, "0-2 mg/kg",
            "Bolus must be 0-2 mg/kg")
    if not 0 < data.rate_mg_per_kg_per_h <= 5:
        bad("rate_mg_per_kg_per_h", data.rate_mg_per_kg_per_h, "0-5 mg/kg/h",
            "Rate must be above 0 and at most 5 mg/kg/h")
    if not 5 <= data.duration_min <= 24 * 60:
        bad("duration_min", data.duration_min, "5-1440 min", "Duration must be 5-1440 min")
    if not 1 <= data.series_length <= 100:
        bad("series_length", data.series_length, "1-100", "Series length must be 1-100")
    if data.max_total_mg is not None and not 0 < data.max_total_mg <= 5000:
        bad("max_total_mg", data.max_total_mg, "0-5000 mg", "Maximum total must be 0-5000 mg")
    if not 1 <= data.monitoring_interval_min <= 60:
        bad("monitoring_interval_min", data.monitoring_interval_min, "1-60 min",
            "Monitoring interval must be 1-60 min")
    if problems:
        raise PlausibilityError(problems)
    return {**asdict(data), "name": data.name.strip()}


@service_boundary
def seed_protocols(store: Store, actor: Actor = SYSTEM) -> int:
    """The starter protocols in an empty clinic (first run: attributed to the system)."""
    if protocol_rows.any_protocol(store):
        return 0
    with store.write(actor) as w:
        for p in SEED_PROTOCOLS:
            protocol_rows.insert_protocol(w, validate_protocol(p))
    return len(SEED_PROTOCOLS)


@service_boundary
def create_protocol(ctx: Context, data: ProtocolInput) -> Protocol:
    ctx.require(Role.ADMIN, action="manage protocols")
    with ctx.store.write(ctx.actor) as w:
        pid = protocol_rows.insert_protocol(w, validate_protocol(data))
    return get_protocol(ctx, pid)


@service_boundary
def sessions_using(ctx: Context, protocol_id: int) -> int:
    return sessions_store.count_on_protocol(ctx.store, protocol_id)


@service_boundary
def update_protocol(ctx: Context, protocol_id: int, data: ProtocolInput, reason: str = "",
                    loaded: Protocol | None = None) -> Protocol:
    """Only a protocol no session has used can change in place: sessions (signed ones
    above all) must keep showing the regimen they were given. Use new_version instead.
    With `loaded` (the protocol as the form showed it), only the fields the admin changed
    are written, and only if nobody changed them meanwhile (else `EditConflict`)."""
    ctx.require(Role.ADMIN, action="manage protocols")
    get_protocol(ctx, protocol_id)
    used = sessions_using(ctx, protocol_id)
    if used:
        raise InvalidState(f"this protocol is used by {used} session(s); save a new version "
                           "instead (the old one is retired and stays on its sessions)")
    values = validate_protocol(data)
    expected: dict[str, object] | None = None
    if loaded is not None:
        before = {k: getattr(loaded, k) for k in values}
        values = {k: v for k, v in values.items() if before[k] != v}
        expected = {k: before[k] for k in values}
    with ctx.store.write(ctx.actor) as w:
        protocol_rows.update_protocol(w, protocol_id, values, reason=reason, expected=expected)
    return get_protocol(ctx, protocol_id)


@service_boundary
def new_version(ctx: Context, protocol_id: int, data: ProtocolInput, reason: str) -> Protocol:
    """Create the changed protocol and retire the old one, in one transaction."""
    ctx.require(Role.ADMIN, action="manage protocols")
    old = get_protocol(ctx, protocol_id)
    if not reason.strip():
        raise PlausibilityError.single("reason", reason, "required",
                                       "Give a reason for the new version")
    values = validate_protocol(data)
    if values["name"] == old.name:
        raise PlausibilityError.single("name", data.name, "a new name",
                                       "Give the new version its own name (e.g. add v2)")
    with ctx.store.write(ctx.actor) as w:
        new_id = protocol_rows.insert_protocol(w, values)
        protocol_rows.update_protocol(w, protocol_id, {"retired": 1},
                                      reason=f"replaced by '{values['name']}': {reason.strip()}",
                                      expected={"retired": int(old.retired)})
    return get_protocol(ctx, new_id)


@service_boundary
def retire_protocol(ctx: Context, protocol_id: int, reason: str = "") -> None:
    """Retired protocols cannot start sessions; old sessions keep showing them."""
    ctx.require(Role.ADMIN, action="manage protocols")
    if get_protocol(ctx, protocol_id).retired:
        raise InvalidState("this protocol is already retired")
    with ctx.store.write(ctx.actor) as w:
        protocol_rows.update_protocol(w, protocol_id, {"retired": 1}, reason=reason,
                                      expected={"retired": 0})


@service_boundary
def require_usable_protocol(store: Store, protocol_id: int | None) -> None:
    """A new session or series may name no protocol, or one that exists and is not retired."""
    if protocol_id is None:
        return
    protocol = protocol_rows.protocol(store, protocol_id)
    if protocol is None:
        raise ServiceError(f"no protocol with id {protocol_id}")
    if protocol.retired:
        raise InvalidState(f"protocol '{protocol.name}' is retired")


@service_boundary
def get_protocol(ctx: Context, protocol_id: int) -> Protocol:
    found = protocol_rows.protocol(ctx.store, protocol_id)
    if found is None:
        raise ServiceError(f"no protocol with id {protocol_id}")
    return found


@service_boundary
def list_protocols(ctx: Context, include_retired: bool = False) -> list[Protocol]:
    return protocol_rows.protocols_by_name(ctx.store, include_retired)
