"""The clinic's adjunct formulary: read by every medication entry, edited by admins.

A clinic starts with the cited rows of resources/clinical/formulary.csv; they are
written (audited, as "system") the first time the formulary is read."""

from __future__ import annotations

from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.formulary import UNITS, FormularyCheck, FormularyEntry, check_adjunct
from ketalog.services.context import Context
from ketalog.services.drug_tables import seed_formulary
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import records
from ketalog.store.errors import StoreError
from ketalog.store.store import SYSTEM, Store

SEEDED_KEY = "formulary_seeded"


@service_boundary
def formulary(store: Store, include_retired: bool = False) -> list[FormularyEntry]:
    if store.setting(SEEDED_KEY) is None:
        try:
            _seed(store)
        except StoreError:  # a read-only file: check against the shipped rows
            return seed_formulary()
    entries = [records.formulary_from_row(r) for r in store.rows("formulary", order_by="drug, route")]
    return [e for e in entries if include_retired or not e.retired]


def _seed(store: Store) -> None:
    with store.write(SYSTEM) as w:
        if store.setting(SEEDED_KEY) is not None:  # another connection was first
            return
        for e in seed_formulary():
            w.insert("formulary", _row(e), reason="seeded from resources/clinical/formulary.csv")
        w.set_setting(SEEDED_KEY, True, "formulary seeded")


def _row(e: FormularyEntry) -> dict[str, object]:
    return {"drug": e.drug, "drug_class": e.drug_class, "route": e.route, "unit": e.unit,
            "dose_min": e.dose_min, "dose_max": e.dose_max, "source": e.source,
            "retired": int(e.retired)}


@service_boundary
def check(store: Store, drug: str, dose: float, unit: str, route: str) -> FormularyCheck:
    return check_adjunct(drug, dose, unit, route, formulary(store))


@service_boundary
def validate_entry(e: FormularyEntry) -> None:
    if not e.drug.strip() or not e.route.strip():
        raise PlausibilityError.single("drug" if not e.drug.strip() else "route", "",
                                       "required", "Drug and route are required")
    if e.unit not in UNITS:
        raise PlausibilityError.single("unit", e.unit, "/".join(UNITS),
                                       f"Unit must be one of {', '.join(UNITS)}")
    for name, value in (("dose_min", e.dose_min), ("dose_max", e.dose_max)):
        if value is not None and value <= 0:
            raise PlausibilityError.single(name, value, "> 0", "Doses must be above 0")
    if e.dose_min is not None and e.dose_max is not None and e.dose_min > e.dose_max:
        raise PlausibilityError.single("dose_max", e.dose_max, f">= {e.dose_min:g}",
                                       "The usual maximum must not be below the minimum")
    if not e.source.strip():
        raise PlausibilityError.single("source", e.source, "required",
                                       "Name the source of the usual dose (label, guideline, "
                                       "clinic policy)")


@service_boundary
def save_entry(ctx: Context, entry: FormularyEntry, reason: str = "") -> int:
    """Add (entry.id None) or change a row; admin only, audited."""
    ctx.require(Role.ADMIN, action="edit the formulary")
    validate_entry(entry)
    formulary(ctx.store)  # the seed first, so an edit never races it
    row = _row(entry)
    with ctx.store.write(ctx.actor) as w:
        if entry.id is None:
            clash = [r for r in ctx.store.rows("formulary") if
                     str(r["drug"]).lower() == entry.drug.strip().lower()
                     and str(r["route"]).lower() == entry.route.strip().lower()]
            if clash:
                raise ServiceError(f"{entry.drug} {entry.route} is already in the formulary; "
                                   "edit that row")
            return w.insert("formulary", row, reason=reason.strip())
        if ctx.store.get("formulary", entry.id) is None:
            raise ServiceError(f"no formulary row with id {entry.id}")
        w.update("formulary", entry.id, row, reason=reason.strip())
        return entry.id
