"""Session records -> one FHIR R4 Bundle (type collection), as plain dicts.

Pure mapping: the services gather SessionRecords and write the JSON. Resource ids are
uuid5 of the record's own uuid, so exporting the same data twice yields the same ids
(only the Bundle's own id and timestamp differ). Choices are explained in
docs/architecture.md "Interop mapping"."""

from __future__ import annotations

import base64
import uuid
from collections.abc import Sequence
from datetime import datetime

from ketalog.domain import dosing
from ketalog.domain.clock import to_iso
from ketalog.domain.entities import (
    AdjunctMedication,
    DoseKind,
    FollowUp,
    Patient,
    Score,
    SessionStatus,
    SideEffect,
    User,
    VitalsReading,
)
from ketalog.domain.record import SessionRecord
from ketalog.domain.scales import SCALES, ScaleError
from ketalog.interop import fhir_codes as c

NAMESPACE = uuid.UUID("6f1c2f5e-8d7b-4c59-9a53-3f1f0b6a2c11")
Resource = dict[str, object]
NURSE_MEANING = "completed by nurse"


def resource_id(*parts: str) -> str:
    return str(uuid.uuid5(NAMESPACE, "/".join(parts)))


def ref(rid: str, display: str | None = None) -> dict[str, str]:
    out = {"reference": f"urn:uuid:{rid}"}
    if display:
        out["display"] = display
    return out


def number(value: float) -> int | float:
    """JSON decimals: whole numbers without a trailing .0, others as stored."""
    return int(value) if float(value).is_integer() else float(value)


def quantity(value: float, ucum: str, unit: str | None = None) -> dict[str, object]:
    return {"value": number(value), "unit": unit or ucum, "system": c.UCUM, "code": ucum}


def concept(*codes: c.Code, text: str | None = None) -> dict[str, object]:
    out: dict[str, object] = {"coding": [code.coding() for code in codes]}
    if text:
        out["text"] = text
    return out


VITAL_SIGNS = concept(c.Code(c.OBS_CATEGORY, "vital-signs", "Vital Signs"))
SURVEY = concept(c.Code(c.OBS_CATEGORY, "survey", "Survey"))
ALERT = [concept(c.Code(c.INTERPRETATION, "A", "Abnormal"),
                 text="outside the clinic's alert range")]
KETAMINE = concept(c.Code(c.RXNORM, c.RXNORM_KETAMINE, "ketamine"), text="ketamine")


class BundleBuilder:
    """Collects entries; every resource gets its urn:uuid fullUrl."""

    def __init__(self) -> None:
        self.entries: list[dict[str, object]] = []
        self._seen: set[str] = set()

    def add(self, resource: Resource) -> dict[str, str]:
        rid = str(resource["id"])
        if rid not in self._seen:
            self._seen.add(rid)
            self.entries.append({"fullUrl": f"urn:uuid:{rid}", "resource": resource})
        return ref(rid)


# -- people -------------------------------------------------------------------
def patient_resource(p: Patient, mrn_system: str = c.MRN_SYSTEM) -> Resource:
    """`mrn_system`: the clinic's identifier system for its MRNs (its own URI or OID)."""
    return {
        "resourceType": "Patient", "id": resource_id("patient", p.uuid),
        "identifier": [{"use": "usual", "type": concept(c.Code(c.IDENTIFIER_TYPE, "MR",
                                                               "Medical record number")),
                        "system": mrn_system, "value": p.mrn}],
        "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
        "gender": c.GENDERS.get(p.sex, "unknown"),
        "birthDate": p.birth_date.isoformat(),
    }


def practitioner_resource(user: User) -> Resource:
    out: Resource = {
        "resourceType": "Practitioner", "id": resource_id("user", user.username.lower()),
        "identifier": [{"system": c.USER_SYSTEM, "value": user.username}],
        "name": [{"text": user.display_name}],
    }
    if user.credentials:
        out["qualification"] = [{"code": {"text": user.credentials}}]
    return out


# -- observations ---------------------------------------------------------------
def _observation(rid: str, status: str, category: dict[str, object], code: dict[str, object],
                 at: datetime | str, subject: dict[str, str],
                 encounter: dict[str, str]) -> Resource:
    return {"resourceType": "Observation", "id": rid, "status": status,
            "category": [category], "code": code, "subject": subject,
            "encounter": encounter, "effectiveDateTime": at if isinstance(at, str)
            else to_iso(at)}


def _profiled(obs: Resource, key: str) -> Resource:
    obs["meta"] = {"profile": [c.VITAL_PROFILES[key]]}
    return obs


def vitals_observations(r: VitalsReading, status: str, subject: dict[str, str],
                        encounter: dict[str, str],
                        performer: dict[str, str] | None = None) -> list[Resource]:
    """One Observation per measured vital; SBP and DBP together as the BP panel, each
    declaring its FHIR vital-signs profile. An artifact keeps its values but is
    entered-in-error, with the reason as a note. `performer`: who is responsible (the
    session's nurse); a monitor's reading also names the device."""
    if r.artifact:
        status = "entered-in-error"
    extras: dict[str, object] = {}
    if performer is not None:
        extras["performer"] = [performer]
    if r.artifact:
        extras["note"] = [{"text": f"Marked as artifact in ketalog: {r.artifact_reason}"}]
    if r.source != "manual":
        extras["device"] = {"display": r.source}
    extras["extension"] = [{"url": c.EXT_SOURCE, "valueString": r.source}]
    out: list[Resource] = []
    bp_id = None
    when = to_iso(r.at)  # once per reading: a 1 Hz session has tens of thousands
    if r.sbp_mmhg is not None and r.dbp_mmhg is not None:
        bp_id = resource_id("vitals", r.uuid, "bp")
        bp = _observation(bp_id, status, VITAL_SIGNS, concept(c.BP_PANEL, text="Blood pressure"),
                          when, subject, encounter)
        bp["component"] = [
            _component(c.SBP, quantity(r.sbp_mmhg, "mm[Hg]", "mmHg"), "sbp_mmhg" in r.alerts),
            _component(c.DBP, quantity(r.dbp_mmhg, "mm[Hg]", "mmHg"), "dbp_mmhg" in r.alerts)]
        out.append(_profiled({**bp, **extras}, "bp"))
    for field, vital in c.VITALS.items():
        value = getattr(r, field)
        if value is None:
            continue
        obs = _observation(resource_id("vitals", r.uuid, field), status, VITAL_SIGNS,
                           concept(*vital.codes), when, subject, encounter)
        obs["valueQuantity"] = quantity(value, vital.ucum, vital.unit)
        if field in r.alerts:
            obs["interpretation"] = ALERT
        obs.update(extras)
        if field == "map_mmhg" and r.map_derived:
            obs["note"] = [*obs.get("note", []),  # type: ignore[misc]
                           {"text": "Calculated from SBP and DBP: DBP + (SBP - DBP) / 3"}]
            if bp_id:
                obs["derivedFrom"] = [ref(bp_id)]
        out.append(_profiled(obs, field))
    return out


def _component(code: c.Code, value: dict[str, object], alert: bool) -> dict[str, object]:
    out: dict[str, object] = {"code": concept(code), "valueQuantity": value}
    if alert:
        out["interpretation"] = ALERT
    return out


def score_observation(s: Score, status: str, subject: dict[str, str],
                      encounter: dict[str, str]) -> Resource:
    code = c.SCALE_CODES.get(s.scale, c.Code(c.SCALE_SYSTEM, s.scale, s.scale))
    spec = SCALES.get(s.scale)
    if s.struck_reason:
        status = "entered-in-error"
    obs = _observation(resource_id("score", s.uuid), status, SURVEY,
                       concept(code, text=spec.name if spec else s.scale), s.at, subject,
                       encounter)
    obs["valueInteger"] = int(s.value)
    obs["extension"] = [{"url": c.EXT_PHASE, "valueCode": s.phase.value}]
    if s.struck_reason:
        obs["note"] = [{"text": f"Entered in error: {s.struck_reason}"}]
    if spec is not None:
        try:
            result = spec.score(items=s.items) if s.items else spec.score(value=s.value)
            obs["interpretation"] = [{"text": result.interpretation}]
        except ScaleError:
            pass  # a stored score the current rules would not accept: value only
    if s.items:
        obs["component"] = [{"code": concept(_item_code(s.scale, name)),
                             "valueInteger": int(value)}
                            for name, value in sorted(s.items.items())]
    return obs


def _item_code(scale: str, name: str) -> c.Code:
    """A scale item's LOINC code where the scale's LOINC panel has one (PHQ-9)."""
    if scale == "phq9" and name in c.PHQ9_ITEMS:
        return c.PHQ9_ITEMS[name]
    return c.Code(c.SCALE_SYSTEM, f"{scale}.{name}", name)


def follow_up_observations(f: FollowUp, subject: dict[str, str],
                           encounter: dict[str, str]) -> list[Resource]:
    """Follow-ups sit outside the signature, so they are always 'final' as recorded."""
    out: list[Resource] = []
    note = [{"text": f"Follow-up ({f.source}){': ' + f.note if f.note else ''}"}]
    status = "entered-in-error" if f.struck_reason else "final"
    if f.struck_reason:
        note.append({"text": f"Entered in error: {f.struck_reason}"})
    phase = [{"url": c.EXT_PHASE, "valueCode": "follow-up"}]
    if f.nrs is not None:
        obs = _observation(resource_id("follow-up", f.uuid, "nrs"), status, SURVEY,
                           concept(c.PAIN_NRS, text="NRS pain (0-10)"), f.at, subject,
                           encounter)
        out.append({**obs, "valueInteger": f.nrs, "extension": phase, "note": note})
    if f.phq9 is not None:
        obs = _observation(resource_id("follow-up", f.uuid, "phq9"), status, SURVEY,
                           concept(c.PHQ9_TOTAL, text="PHQ-9 (0-27)"), f.at, subject,
                           encounter)
        out.append({**obs, "valueInteger": f.phq9, "extension": phase, "note": note})
    if f.relief_hours is not None:
        obs = _observation(resource_id("follow-up", f.uuid, "relief"), status, SURVEY,
                           concept(c.RELIEF_DURATION), f.at, subject, encounter)
        out.append({**obs, "valueQuantity": quantity(f.relief_hours, "h", "h"),
                    "extension": phase, "note": note})
    return out


# -- medications ---------------------------------------------------------------
def _route(route: str) -> dict[str, object]:
    code = c.ROUTES.get(route.strip().upper())
    return concept(code, text=route) if code else {"text": route}


def _dose_quantity(amount: float, unit: str) -> dict[str, object]:
    ucum = c.UCUM_UNITS.get(unit.strip())
    if ucum is None:
        return {"value": number(amount), "unit": unit}
    return quantity(amount, ucum, unit)


def ketamine_administrations(record: SessionRecord, as_of: datetime, subject: dict[str, str],
                             encounter: dict[str, str]) -> list[Resource]:
    """A whole-session administration carrying the total, with each bolus and each
    constant-rate stretch (mg/h over its effective period) as partOf it."""
    doses = dosing.live_events(record.doses)
    struck = [d for d in record.doses if d.struck_reason]
    if not doses and not struck:
        return []
    session = record.session
    state = dosing.infusion_state(doses)
    times = [d.at for d in doses] or [d.at for d in struck]
    first = min(times)
    last = max(times)
    end = last if state in ("stopped", "not_started") else None
    total = record.total_mg(as_of)
    weight = session.weight_kg
    parent_id = resource_id("ketamine", session.uuid)
    boluses = [d for d in doses if d.kind is DoseKind.BOLUS]
    bolus_mg = sum(float(d.bolus_mg or 0) for d in boluses)
    period: dict[str, str] = {"start": to_iso(first)}
    if end is not None:
        period["end"] = to_iso(end)
    parent: Resource = {
        "resourceType": "MedicationAdministration", "id": parent_id,
        "status": "completed" if end is not None else "in-progress",
        "medicationCodeableConcept": KETAMINE, "subject": subject, "context": encounter,
        "effectivePeriod": period,
        "dosage": {"text": f"total ketamine {total:.1f} mg ({total / weight:.2f} mg/kg at "
                           f"{weight:g} kg): boluses {bolus_mg:g} mg, infusion "
                           f"{total - bolus_mg:.1f} mg"
                           + ("" if end else f" (running; total as of {to_iso(as_of)})"),
                   "route": _route("IV"), "dose": quantity(round(total, 3), "mg")},
        "note": [{"text": f"Bag {session.bag.drug} {session.bag.concentration_mg_per_ml:g} "
                          f"mg/mL, {session.bag.volume_ml:g} mL"
                          + (f", lot {session.bag.lot}" if session.bag.lot else "")}],
    }
    out: list[Resource] = [parent]
    part_of = [ref(parent_id)]
    for d in boluses:
        item: Resource = {
            "resourceType": "MedicationAdministration", "id": resource_id("dose", d.uuid),
            "status": "completed", "medicationCodeableConcept": KETAMINE, "subject": subject,
            "context": encounter, "partOf": part_of, "effectiveDateTime": to_iso(d.at),
            "dosage": {"text": f"bolus {d.bolus_mg:g} mg", "route": _route("IV"),
                       "dose": quantity(float(d.bolus_mg or 0), "mg")}}
        if d.reason:
            item["note"] = [{"text": d.reason}]
        out.append(item)
    for d in struck:  # kept, counted nowhere: the receiver sees what was corrected
        amount = (f"bolus {d.bolus_mg:g} mg" if d.bolus_mg is not None else
                  f"{d.kind.value.replace('_', ' ')}"
                  + (f" {d.rate_mg_per_h:g} mg/h" if d.rate_mg_per_h is not None else ""))
        out.append({
            "resourceType": "MedicationAdministration", "id": resource_id("dose", d.uuid),
            "status": "entered-in-error", "medicationCodeableConcept": KETAMINE,
            "subject": subject, "context": encounter, "partOf": part_of,
            "effectiveDateTime": to_iso(d.at), "dosage": {"text": amount},
            "note": [{"text": f"Entered in error: {d.struck_reason}"}]})
    starts = {d.at: d for d in doses if d.kind in (DoseKind.START, DoseKind.RATE_CHANGE,
                                                   DoseKind.RESUME)}
    for seg in dosing.segments(doses):
        event = starts.get(seg.start)
        seg_end = seg.end or as_of
        given = seg.rate_mg_per_h * (seg_end - seg.start).total_seconds() / 3600.0
        seg_period = {"start": to_iso(seg.start)}
        if seg.end is not None:
            seg_period["end"] = to_iso(seg.end)
        item = {
            "resourceType": "MedicationAdministration",
            "id": resource_id("segment", event.uuid if event else session.uuid, to_iso(seg.start)),
            "status": "completed" if seg.end is not None else "in-progress",
            "medicationCodeableConcept": KETAMINE, "subject": subject, "context": encounter,
            "partOf": part_of, "effectivePeriod": seg_period,
            "dosage": {"text": f"infusion {seg.rate_mg_per_h:g} mg/h "
                               f"({seg.rate_mg_per_h / weight:.3g} mg/kg/h at {weight:g} kg)",
                       "route": _route("IV"),
                       "rateQuantity": quantity(seg.rate_mg_per_h, "mg/h"),
                       "dose": quantity(round(given, 3), "mg")}}
        notes = []
        if event is not None and event.reason:
            notes.append({"text": f"{event.kind.value.replace('_', ' ')}: {event.reason}"})
        if event is not None and event.acknowledged_warnings:
            notes += [{"text": f"warning acknowledged: {w}"} for w in event.acknowledged_warnings]
        if notes:
            item["note"] = notes
        out.append(item)
    return out


def _adjunct_concept(drug: str) -> dict[str, object]:
    code = c.ADJUNCT_RXNORM.get(drug.strip().lower())
    return concept(code, text=drug) if code else {"text": drug}


def adjunct_administration(a: AdjunctMedication, subject: dict[str, str],
                           encounter: dict[str, str]) -> Resource:
    out: Resource = {
        "resourceType": "MedicationAdministration", "id": resource_id("adjunct", a.uuid),
        "status": "entered-in-error" if a.struck_reason else "completed",
        "medicationCodeableConcept": _adjunct_concept(a.drug),
        "subject": subject, "context": encounter, "effectiveDateTime": to_iso(a.at),
        "dosage": {"text": f"{a.drug} {a.dose:g} {a.unit} {a.route}", "route": _route(a.route),
                   "dose": _dose_quantity(a.dose, a.unit)}}
    if a.reason:
        out["reasonCode"] = [{"text": a.reason}]
    if a.struck_reason:
        out["note"] = [{"text": f"Entered in error: {a.struck_reason}"}]
    return out


def adverse_event(se: SideEffect, subject: dict[str, str], encounter: dict[str, str],
                  suspect: dict[str, str] | None) -> Resource:
    """R4 AdverseEvent has no note or resolution time: both travel as extensions."""
    extensions: list[dict[str, object]] = []
    if se.action:
        extensions.append({"url": c.EXT_ACTION, "valueString": se.action})
    if se.resolved_at is not None:
        extensions.append({"url": c.EXT_RESOLVED, "valueDateTime": to_iso(se.resolved_at)})
    if se.struck_reason:
        extensions.append({"url": c.EXT_ENTERED_IN_ERROR, "valueString": se.struck_reason})
    out: Resource = {
        "resourceType": "AdverseEvent", "id": resource_id("side-effect", se.uuid),
        "actuality": "actual", "event": {"text": se.kind + (f" ({se.note})" if se.note else "")},
        "subject": subject, "encounter": encounter, "date": to_iso(se.onset_at),
        "severity": concept(c.Code(c.AE_SEVERITY, se.severity.value,
                                   se.severity.value.capitalize())),
        "outcome": concept(c.Code(c.AE_OUTCOME, "resolved", "Resolved")
                           if se.resolved_at else c.Code(c.AE_OUTCOME, "ongoing", "Ongoing")),
    }
    if suspect is not None:
        out["suspectEntity"] = [{"instance": suspect}]
    if extensions:
        out["extension"] = extensions
    return out


# -- documents and provenance ----------------------------------------------------
def text_document(rid: str, kind: str, text: str, at: datetime, author: dict[str, str] | None,
                  subject: dict[str, str], encounter: dict[str, str],
                  struck_reason: str = "") -> Resource:
    out: Resource = {
        "resourceType": "DocumentReference", "id": rid,
        "status": "entered-in-error" if struck_reason else "current",
        "type": {"text": kind}, "subject": subject, "date": to_iso(at),
        "content": [{"attachment": {"contentType": "text/plain; charset=utf-8",
                                    "data": base64.b64encode(text.encode()).decode("ascii"),
                                    "title": kind}}],
        "context": {"encounter": [encounter]}}
    if author is not None:
        out["author"] = [author]
    if struck_reason:
        out["description"] = f"Entered in error: {struck_reason}"
    return out


def signature_provenance(record: SessionRecord, index: int, who: dict[str, str],
                         targets: list[dict[str, str]]) -> Resource:
    sig = record.signatures[index]
    nurse = sig.meaning == NURSE_MEANING
    sig_type = c.AUTHOR_SIGNATURE if nurse else c.VERIFICATION_SIGNATURE
    role = c.Code(c.PROVENANCE_ROLE, "author", "Author") if nurse else \
        c.Code(c.PROVENANCE_ROLE, "verifier", "Verifier")
    return {
        "resourceType": "Provenance", "id": resource_id("signature", sig.uuid),
        "target": targets, "recorded": to_iso(sig.at),
        "reason": [{"text": sig.meaning}],
        "agent": [{"type": concept(role), "who": who}],
        "signature": [{"type": [c.Code(c.SIGNATURE_TYPE, *sig_type).coding()],
                       "when": to_iso(sig.at), "who": who}],
        "extension": [{"url": c.EXT_CONTENT_HASH, "valueString": sig.content_hash}],
    }


def observation_status(record: SessionRecord) -> str:
    """Signed records are final; anything not yet signed by the provider is preliminary."""
    return "final" if record.session.status is SessionStatus.SIGNED else "preliminary"


ENCOUNTER_STATUS = {SessionStatus.DRAFT: "arrived", SessionStatus.IN_PROGRESS: "in-progress",
                    SessionStatus.COMPLETED: "finished", SessionStatus.SIGNED: "finished"}


def encounter_resource(record: SessionRecord, subject: dict[str, str],
                       people: dict[int, dict[str, str]]) -> Resource:
    s = record.session
    period: dict[str, str] = {}
    if s.arrival_at or s.infusion_start_at:
        period["start"] = to_iso(s.arrival_at or s.infusion_start_at)  # type: ignore[arg-type]
    end = s.discharge_at or s.infusion_end_at
    if end is not None and s.status in (SessionStatus.COMPLETED, SessionStatus.SIGNED):
        period["end"] = to_iso(end)
    protocol = record.protocol.name if record.protocol else "no protocol"
    out: Resource = {
        "resourceType": "Encounter", "id": resource_id("session", s.uuid),
        "identifier": [{"system": c.SESSION_SYSTEM, "value": s.uuid}],
        "status": ENCOUNTER_STATUS[s.status],
        "class": c.Code(c.ACT_CODE, "AMB", "ambulatory").coding(),
        "type": [concept(c.ENCOUNTER_TYPE, text=f"Ketamine infusion: {protocol} (series "
                                                f"{s.series_number} of {s.series_total})")],
        "subject": subject,
    }
    if period:
        out["period"] = period
    participants = []
    for user_id, code in ((s.nurse_id, ("PPRF", "primary performer")),
                          (s.provider_id, ("ATND", "attender"))):
        if user_id is not None and user_id in people:
            participants.append({"type": [concept(c.Code(c.PARTICIPATION, *code))],
                                 "individual": people[user_id]})
    if participants:
        out["participant"] = participants
    if record.patient.indication:
        out["reasonCode"] = [{"text": record.patient.indication}]
    if s.chair:
        out["location"] = [{"location": {"display": s.chair}}]
    return out


def add_session(b: BundleBuilder, record: SessionRecord, subject: dict[str, str],
                as_of: datetime) -> None:
    people = {uid: b.add(practitioner_resource(user)) for uid, user in record.users.items()}
    enc = b.add(encounter_resource(record, subject, people))
    nurse = people.get(record.session.nurse_id) if record.session.nurse_id else None
    status = observation_status(record)
    signed: list[dict[str, str]] = [enc]  # what a signature covers (store/content.py)
    s = record.session
    weight = _observation(resource_id("weight", s.uuid), status, VITAL_SIGNS,
                          concept(c.BODY_WEIGHT), s.arrival_at or s.infusion_start_at or as_of,
                          subject, enc)
    weight["valueQuantity"] = quantity(s.weight_kg, "kg")
    if nurse is not None:
        weight["performer"] = [nurse]
    signed.append(b.add(_profiled(weight, "weight")))
    for reading in record.vitals:
        signed += [b.add(o) for o in vitals_observations(reading, status, subject, enc,
                                                         nurse)]
    ketamine = ketamine_administrations(record, as_of, subject, enc)
    signed += [b.add(m) for m in ketamine]
    signed += [b.add(adjunct_administration(a, subject, enc)) for a in record.adjuncts]
    suspect = ref(str(ketamine[0]["id"])) if ketamine else None
    signed += [b.add(adverse_event(se, subject, enc, suspect)) for se in record.side_effects]
    signed += [b.add(score_observation(sc, status, subject, enc)) for sc in record.scores]
    signed += [b.add(text_document(resource_id("note", n.uuid), "Nursing note", n.text, n.at,
                                   people.get(n.author_id), subject, enc, n.struck_reason))
               for n in record.notes]
    for f in record.follow_ups:
        for obs in follow_up_observations(f, subject, enc):
            b.add(obs)
    for i, sig in enumerate(record.signatures):
        who = people.get(sig.user_id) or {"display": f"user {sig.user_id}"}
        b.add(signature_provenance(record, i, who, signed))
    for a in record.addenda:
        author = people.get(a.author_id) or {"display": f"user {a.author_id}"}
        doc = b.add(text_document(resource_id("addendum", a.uuid), "Addendum",
                                  f"{a.text}\n\nReason: {a.reason}", a.at, author, subject, enc))
        b.add({"resourceType": "Provenance", "id": resource_id("addendum-provenance", a.uuid),
               "target": [doc, enc], "recorded": to_iso(a.at), "reason": [{"text": a.reason}],
               "activity": concept(c.Code(c.DATA_OPERATION, "APPEND", "append")),
               "agent": [{"type": concept(c.Code(c.PROVENANCE_ROLE, "author", "Author")),
                          "who": author}],
               "signature": [{"type": [c.Code(c.SIGNATURE_TYPE, *c.AUTHOR_SIGNATURE).coding()],
                              "when": to_iso(a.at), "who": author}]})


def build_bundle(records: Sequence[SessionRecord], *, exported_at: datetime,
                 bundle_id: str, mrn_system: str = c.MRN_SYSTEM) -> Resource:
    """All records must belong to one patient (the Patient resource is shared)."""
    if not records:
        raise ValueError("a FHIR export needs at least one session")
    patients = {r.patient.uuid for r in records}
    if len(patients) != 1:
        raise ValueError("a FHIR bundle holds one patient's sessions")
    b = BundleBuilder()
    subject = b.add(patient_resource(records[0].patient, mrn_system))
    for record in records:
        add_session(b, record, subject, exported_at)
    return {"resourceType": "Bundle", "id": bundle_id, "type": "collection",
            "timestamp": to_iso(exported_at), "entry": b.entries}


def resource_counts(bundle: Resource) -> dict[str, int]:
    counts: dict[str, int] = {}
    for entry in bundle["entry"]:  # type: ignore[attr-defined]
        kind = str(entry["resource"]["resourceType"])
        counts[kind] = counts.get(kind, 0) + 1
    return dict(sorted(counts.items()))
