"""The clinic's adjunct formulary: read by every medication entry, edited by admins.

A clinic starts with the cited rows of resources/clinical/formulary.csv; they are
written (audited, as "system") the first time the formulary is read.

`formulary` is the front ends' read and takes the Context; `formulary_entries` and
`check` take a Store for the dose checks of services that checked their caller already
(`sessions.check_adjunct`, adding an adjunct)."""

from __future__ import annotations

from ketalog.domain.entities import Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.formulary import UNITS, FormularyCheck, FormularyEntry, check_adjunct
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.drug_tables import seed_formulary
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.store import formulary as formulary_rows
from ketalog.store import settings as stored
from ketalog.store.errors import StoreError
from ketalog.store.store import SYSTEM, Store

SEEDED_KEY = "formulary_seeded"


@service_boundary
def formulary(ctx: Context, include_retired: bool = False) -> list[FormularyEntry]:
    """By drug and route; any clinical role and the admin (who edits it)."""
    ctx.require(*RECORD_READERS, action="see the formulary")
    return formulary_entries(ctx.store, include_retired)


@service_boundary
def formulary_entries(store: Store, include_retired: bool = False) -> list[FormularyEntry]:
    """The rows without a permission check, for the dose checks named in the module
    docstring; seeds the formulary on first use."""
    if not stored.is_set(store, SEEDED_KEY):
        try:
            _seed(store)
        except StoreError:  # a read-only file: check against the shipped rows
            return seed_formulary()
    return formulary_rows.entries(store, include_retired)


def _seed(store: Store) -> None:
    with store.write(SYSTEM) as w:
        if stored.is_set(store, SEEDED_KEY):  # another connection was first
            return
        for e in seed_formulary():
            formulary_rows.insert_entry(
                w, e, reason="seeded from resources/clinical/formulary.csv")
        stored.write(w, SEEDED_KEY, True, "formulary seeded")


@service_boundary
def check(store: Store, drug: str, dose: float, unit: str, route: str) -> FormularyCheck:
    return check_adjunct(drug, dose, unit, route, formulary_entries(store))


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
    formulary_entries(ctx.store)  # the seed first, so an edit never races it
    with ctx.store.write(ctx.actor) as w:
        if entry.id is None:
            clash = [e for e in formulary_rows.entries(ctx.store, include_retired=True)
                     if e.drug.lower() == entry.drug.strip().lower()
                     and e.route.lower() == entry.route.strip().lower()]
            if clash:
                raise ServiceError(f"{entry.drug} {entry.route} is already in the formulary; "
                                   "edit that row")
            return formulary_rows.insert_entry(w, entry, reason=reason.strip())
        if formulary_rows.entry(ctx.store, entry.id) is None:
            raise ServiceError(f"no formulary row with id {entry.id}")
        formulary_rows.update_entry(w, entry.id, entry, reason=reason.strip())
        return entry.id
