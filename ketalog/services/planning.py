"""Planning a session before it starts: who can sign it, where the patient stands in a
series, and the planned dose with its guideline warnings.

Read-only use cases: any logged-in user may plan (the start itself is checked by
sessions.start_session), so these take no role."""

from __future__ import annotations

from ketalog.domain.dosing import DosePlan, plan_dose
from ketalog.domain.entities import Protocol, Role, User
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.plausibility import require_positive, validate_weight_kg
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.indications import rule_key
from ketalog.store import patients as patient_rows
from ketalog.store import protocols as protocol_rows
from ketalog.store import sessions as sessions_store
from ketalog.store import users as user_rows
from ketalog.store.store import Store

__all__ = ["list_providers", "next_series_number", "plan_for"]

MAX_CONCENTRATION_MG_PER_ML = 100  # same hard limit as sessions.start_session


def _protocol(store: Store, protocol_id: int) -> Protocol:
    found = protocol_rows.protocol(store, protocol_id)
    if found is None:
        raise ServiceError(f"no protocol with id {protocol_id}")
    return found


@service_boundary
def list_providers(ctx: Context) -> list[User]:
    """Active users holding the provider role, by display name: the people a nurse may
    name as the session's signing provider. Locked accounts stay listed (an admin can
    unlock them before the signature is due)."""
    ctx.require(*RECORD_READERS, action="see the providers")
    return [user for user in user_rows.active_users_by_display_name(ctx.store)
            if user.has_role(Role.PROVIDER)]


@service_boundary
def next_series_number(ctx: Context, patient_id: int, protocol_id: int) -> tuple[int, int]:
    """(k, N) for the patient's next session on this protocol: N is the protocol's series
    length, k is 1 + the sessions already held on it. Once a series is complete the next
    one starts again at 1, so k is always in 1..N (what start_session accepts)."""
    ctx.require(*RECORD_READERS, action="read patients' records")
    store = ctx.store
    total = _protocol(store, protocol_id).series_length
    if not patient_rows.patient_exists(store, patient_id):
        raise ServiceError(f"no patient with id {patient_id}")
    done = sessions_store.count_on_protocol(store, protocol_id, patient_id=patient_id)
    return done % total + 1, total


@service_boundary
def plan_for(ctx: Context, patient_id: int, protocol_id: int, weight_kg: float,
             concentration_mg_per_ml: float) -> DosePlan:
    """The protocol's dose for today's weight, as mg, mg/h and pump mL/h, with every soft
    warning (rate, bolus, total) judged against the protocol's indication: the same rule
    sessions.dose_warnings applies once the infusion runs, so the plan warns exactly
    where the dose entry will.

    Raises PlausibilityError for an implausible weight or concentration, so the screen
    shows the same message the start would."""
    protocol = _protocol(ctx.store, protocol_id)
    if not patient_rows.patient_exists(ctx.store, patient_id):
        raise ServiceError(f"no patient with id {patient_id}")
    weight = validate_weight_kg(weight_kg)
    concentration = require_positive("bag_concentration_mg_per_ml", "Bag concentration",
                                     concentration_mg_per_ml, "mg/mL",
                                     MAX_CONCENTRATION_MG_PER_ML)
    try:
        return plan_dose(weight_kg=weight, bolus_mg_per_kg=protocol.bolus_mg_per_kg,
                         rate_mg_per_kg_per_h=protocol.rate_mg_per_kg_per_h,
                         duration_min=protocol.duration_min,
                         concentration_mg_per_ml=concentration,
                         indication=rule_key(ctx.store, protocol.indication, patient_id),
                         max_total_mg=protocol.max_total_mg, protocol_name=protocol.name)
    except (ValueError, ZeroDivisionError) as exc:  # guarded above; never a traceback
        raise PlausibilityError.single("plan", weight, "plannable dose", str(exc)) from exc
