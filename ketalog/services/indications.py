"""The clinic's coded indications: the admin keeps the list (name, category pain / mood /
other, default protocol); a patient's indication is coded from what was typed (the free
text stays as a note). The category picks the guideline rules every dose warning uses,
and the default protocol the start dialog preselects: never a protocol of another
indication (a "chronic pain" patient is not offered the CRPS protocol)."""

from __future__ import annotations

from ketalog.domain.clock import to_iso
from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.indications import Category, Indication, match_indication
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import patients as patient_rows
from ketalog.store import protocols as protocol_rows
from ketalog.store.store import Store

Row = dict[str, object]


def _from_row(row: Row) -> Indication:
    return Indication(int(row["id"]), str(row["name"]), Category(str(row["category"])),  # type: ignore[call-overload]
                      None if row["default_protocol_id"] is None
                      else int(row["default_protocol_id"]),  # type: ignore[call-overload]
                      bool(row["retired"]))


@service_boundary
def list_indications(store: Store, include_retired: bool = False) -> list[Indication]:
    return [_from_row(r) for r in store.rows("indications", order_by="category, name")
            if include_retired or not r["retired"]]


@service_boundary
def get_indication(store: Store, indication_id: int) -> Indication:
    row = store.get("indications", indication_id)
    if row is None:
        raise ServiceError(f"no indication with id {indication_id}")
    return _from_row(row)


@service_boundary
def code_for_text(store: Store, text: str) -> int | None:
    """The coded indication free text maps to (case-insensitive), or None."""
    found = match_indication(text, list_indications(store))
    return found.id if found else None


@service_boundary
def patient_indication(store: Store, patient_id: int) -> Indication | None:
    found = patient_rows.patient(store, patient_id)
    if found is None:
        raise ServiceError(f"no patient with id {patient_id}")
    coded_id = patient_rows.coded_indication_id(store, patient_id)
    if coded_id is not None:
        return get_indication(store, coded_id)
    return match_indication(found.indication, list_indications(store))


@service_boundary
def rule_key(store: Store, protocol_indication: str, patient_id: int) -> str:
    """The guideline rules a dose is judged by: the protocol's indication when it names
    one the clinic codes, else the patient's coded indication, else domain.dosing's
    reading of the text (unknown: the chronic-pain rules)."""
    coded = list_indications(store)
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
    coded = list_indications(store)
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
    coded = list_indications(store)
    for uncoded in patient_rows.uncoded_indications(store):
        text = uncoded.text.strip()
        if text and match_indication(text, coded) is None:  # bulk-loaded rows still match
            counts[text] = counts.get(text, 0) + 1
    return sorted(counts.items(), key=lambda item: (-item[1], item[0].lower()))


@service_boundary
def migration_unmapped(store: Store) -> dict[str, int]:
    value = store.setting("unmapped_indications")  # decoded from its JSON by the store
    return dict(value) if isinstance(value, dict) else {}


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
    if ctx.store.get_by("indications", name=clean) is not None:
        raise PlausibilityError.single("name", clean, "unique",
                                       f"The indication '{clean}' is already on the list")
    if default_protocol_id is not None and protocol_rows.protocol(ctx.store, default_protocol_id) is None:
        raise ServiceError(f"no protocol with id {default_protocol_id}")
    with ctx.store.write(ctx.actor) as w:
        iid = w.insert("indications", {"name": clean, "category": cat.value,
                                       "default_protocol_id": default_protocol_id,
                                       "created_at": to_iso(ctx.clock.now())})
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
        w.update("indications", indication_id, {"default_protocol_id": protocol_id})
