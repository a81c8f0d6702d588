"""The clinic's coded indications: the admin keeps the list (name, category pain / mood /
other, default protocol); a patient's indication is coded from what was typed (the free
text stays as a note). The category picks the guideline rules every dose warning uses,
and the default protocol the start dialog preselects: never a protocol of another
indication (a "chronic pain" patient is not offered the CRPS protocol).

`list_indications` is the front ends' read and takes the Context; the lookups that take
a Store (coding a patient's text, the rules a dose is judged by, the start dialog's
default protocol) are steps of services that checked their caller already."""

from __future__ import annotations

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.indications import Category, Indication, match_indication
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import indications as indication_rows
from ketalog.store import patients as patient_rows
from ketalog.store import protocols as protocol_rows
from ketalog.store import settings as stored
from ketalog.store.store import Store

UNMAPPED_KEY = "unmapped_indications"


@service_boundary
def list_indications(ctx: Context, include_retired: bool = False) -> list[Indication]:
    """The coded list by category and name; any clinical role and the admin."""
    ctx.require(*RECORD_READERS, action="see the indications list")
    return indication_rows.indications(ctx.store, include_retired)


@service_boundary
def get_indication(store: Store, indication_id: int) -> Indication:
    found = indication_rows.indication(store, indication_id)
    if found is None:
        raise ServiceError(f"no indication with id {indication_id}")
    return found


@service_boundary
def code_for_text(store: Store, text: str) -> int | None:
    """The coded indication free text maps to (case-insensitive), or None."""
    found = match_indication(text, indication_rows.indications(store))
    return found.id if found else None


@service_boundary
def patient_indication(store: Store, patient_id: int) -> Indication | None:
    found = patient_rows.patient(store, patient_id)
    if found is None:
        raise ServiceError(f"no patient with id {patient_id}")
    coded_id = patient_rows.coded_indication_id(store, patient_id)
    if coded_id is not None:
        return get_indication(store, coded_id)
    return match_indication(found.indication, indication_rows.indications(store))


@service_boundary
def rule_key(store: Store, protocol_indication: str, patient_id: int) -> str:
    """The guideline rules a dose is judged by: the protocol's indication when it names
    one the clinic codes, else the patient's coded indication, else domain.dosing's
    reading of the text (unknown: the chronic-pain rules)."""
    coded = indication_rows.indications(store)
    found = match_indication(protocol_indication, coded) if protocol_indication.strip() else None
    if found is None:
        found = patient_indication(store, patient_id)
    if found is not None:
        return found.rule_key
    patient = patient_rows.patient(store, patient_id)
    return protocol_indication.strip() or (patient.indication if patient else "")


@service_boundary
def default_protocol_id(store: Store, patient_id: int) -> int | None:
    """The coded indication's default protocol, else the one protocol (not retired)
    written for that same indication; None rather than a protocol of another indication."""
    indication = patient_indication(store, patient_id)
    if indication is None:
        return None
    usable = protocol_rows.protocols_by_name(store)
    if indication.default_protocol_id is not None and any(
            p.id == indication.default_protocol_id for p in usable):
        return indication.default_protocol_id
    coded = indication_rows.indications(store)
    same = [p.id for p in usable
            if p.id is not None and (m := match_indication(p.indication, coded)) is not None
            and m.id == indication.id]
    return same[0] if same else None


@service_boundary
def unmapped_indications(store: Store) -> list[tuple[str, int]]:
    """Free-text indications no coded one matches, with how many patients have each: for
    the admin to add to the list or correct (the migration's list is in the setting
    'unmapped_indications')."""
    counts: dict[str, int] = {}
    coded = indication_rows.indications(store)
    for uncoded in patient_rows.uncoded_indications(store):
        text = uncoded.text.strip()
        if text and match_indication(text, coded) is None:  # bulk-loaded rows still match
            counts[text] = counts.get(text, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


@service_boundary
def migration_unmapped(store: Store) -> dict[str, int]:
    """The migration's count of patients per unmapped text (written once, as counts)."""
    return {text: n for text, n in stored.mapping(store, UNMAPPED_KEY).items()
            if isinstance(n, int)}


@service_boundary
def add_indication(ctx: Context, name: str, category: Category | str,
                   default_protocol_id: int | None = None) -> Indication:
    """A new coded indication; patients whose uncoded text it matches are coded too."""
    ctx.require(Role.ADMIN, action="edit the indications list")
    clean = name.strip()
    if not clean:
        raise PlausibilityError.single("name", name, "required", "An indication needs a name")
    try:
        cat = Category(category)
    except ValueError as exc:
        raise PlausibilityError.single("category", category, "pain/mood/other",
                                       "Category must be pain, mood or other") from exc
    if indication_rows.indication_named(ctx.store, clean) is not None:
        raise PlausibilityError.single("name", clean, "unique",
                                       f"The indication '{clean}' is already on the list")
    if default_protocol_id is not None and protocol_rows.protocol(ctx.store, default_protocol_id) is None:
        raise ServiceError(f"no protocol with id {default_protocol_id}")
    with ctx.store.write(ctx.actor) as w:
        iid = indication_rows.insert_indication(w, clean, cat, default_protocol_id,
                                                to_iso(ctx.clock.now()))
        new = Indication(iid, clean, cat, default_protocol_id)
        for uncoded in patient_rows.uncoded_indications(ctx.store):
            if match_indication(uncoded.text, [new]) is not None:
                patient_rows.update_patient(w, uncoded.patient_id, {"indication_id": iid},
                                            reason=f"coded as '{clean}'")
    return get_indication(ctx.store, iid)


@service_boundary
def set_default_protocol(ctx: Context, indication_id: int, protocol_id: int | None) -> None:
    ctx.require(Role.ADMIN, action="edit the indications list")
    get_indication(ctx.store, indication_id)
    if protocol_id is not None and protocol_rows.protocol(ctx.store, protocol_id) is None:
        raise ServiceError(f"no protocol with id {protocol_id}")
    with ctx.store.write(ctx.actor) as w:
        indication_rows.set_default_protocol(w, indication_id, protocol_id)
