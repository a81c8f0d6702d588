"""Ten years of a busy clinic, for the scale benchmarks: ~3,000 patients, ~50,000
sessions (series, doses, scores with NRS pre/post, side effects, adjuncts, notes,
follow-ups, nurse and provider signatures), vitals every 5 minutes and, for a tenth of
the sessions, monitor data every 10 s: about 10 million vitals rows at scale 1.0.

The brief's "device data at 1 per minute" gives only ~3.6 M rows in total; the device
interval is 10 s (a gateway's usual trend rate) so the file holds the ~10 M rows the
issue sizes the clinic at. ``--device-every-s 60`` builds the other reading.

Speed comes from the raw connection's executemany in one transaction per batch of
sessions (journal off while loading, WAL again at the end). Everything else is as the
app writes it: the real schema (open_store runs the migrations), staff through the auth
services, one summary audit entry per batch (chained like every other entry), and
signatures whose content hashes are computed from exactly the rows inserted (the JSON
of the large vitals list is built once and shared by the nurse's and the provider's
hash), so ``ketalog verify`` passes on the result.

    python -m benchmarks.gen_ten_years --out /work/scale-data/ten.sqlite --scale 0.05
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from ketalog.domain.clock import FixedClock, to_iso
from ketalog.domain.entities import Role
from ketalog.services.auth import add_user, bootstrap_admin
from ketalog.services.context import Context
from ketalog.services.protocols import seed_protocols
from ketalog.services.sessions import NURSE_SIGNATURE, PROVIDER_SIGNATURE
from ketalog.services.signing_keys import open_key, signature_fields
from ketalog.store.audit import values_json
from ketalog.store.connection import open_store
from ketalog.store.schema import LATER_NULLABLE_COLUMNS
from ketalog.store.store import Actor, Store, Writer

GENERATOR_VERSION = 2  # bump when the output changes: cached databases are keyed on it
END = datetime(2026, 12, 1, 13, 0, tzinfo=UTC)  # "now" in the generated clinic
YEARS = 10
PATIENTS = 3_000
SESSIONS = 50_000
MANUAL_EVERY_MIN = 5
DEVICE_FRACTION = 0.1
DEVICE_EVERY_S = 10
BATCH_SESSIONS = 500
PASSWORD = "scale-pass-1"  # every generated account
SPO2, RR, ETCO2 = (96.0, 97.0, 98.0, 98.0, 99.0), (12.0, 14.0, 14.0, 16.0), (36.0, 38.0, 40.0)
CHAIRS = tuple(f"Chair {i}" for i in range(1, 9))
GIVEN = ("Zoë", "Mateo", "Amélie", "José", "Renée", "Søren", "Chloé", "Björn", "Margaret",
         "Daniel", "Priya", "Thomas", "Aisling", "Ethan", "Lucía", "Kwame", "Hannah",
         "Marcus", "Linh", "François", "Grace", "Rafael", "Ingrid", "Samuel", "Fatima",
         "Oliver", "Noémie", "Andrzej", "Sarah", "Dmitri", "Anna", "Peter", "Maria", "John")
FAMILY = ("Lindqvist", "Núñez", "Dubois", "Hernández", "Fischer", "Madsen", "Bernard",
          "Åberg", "O'Brien", "Okafor", "Raman", "Müller", "Ní Bhriain", "Walker", "García",
          "Mensah", "Schröder", "Johnson", "Nguyễn", "Lefèvre", "Kim", "Peña", "Solberg",
          "Cohen", "El-Amin", "Brown", "Gagnon", "Wiśniewski", "Thompson", "Volkov", "Smith",
          "Jones", "Taylor", "Wilson", "Evans", "Roberts", "Patel", "Murphy", "Rossi",
          "Novak", "Kowalski", "Larsen", "Moreau", "Silva", "Costa", "Yamamoto", "Tanaka",
          "Schmidt", "Weber", "Meyer", "Khan", "Ali", "Martin", "Clarke", "Hughes", "Baker")
EFFECTS = (("nausea", "ondansetron 4 mg IV"), ("dizziness", "rate reduced"),
           ("dissociation", "reassurance"), ("anxiety", "midazolam 1 mg IV"),
           ("hypertension", "rate reduced"), ("vomiting", "ondansetron 4 mg IV"))
NOTES = ("Tolerated well; escort present at discharge.",
         "Mild dissociation at 40 min, settled with reassurance and dimmed lights.",
         "IV sited left forearm first attempt; patient slept through the second hour.",
         "Reports pain lower than at the last visit; plans to walk daily.")


def _table_columns(store: Store, table: str) -> tuple[str, ...]:
    """Columns the generator writes: later nullable ones (entered-in-error marks, the
    discharge-readiness record) stay NULL, as on rows never struck."""
    return tuple(c for c in store.columns(table) if c not in LATER_NULLABLE_COLUMNS)


@dataclass
class _Ids:
    """Explicit ids (a fresh file): signatures hash rows exactly as they are read back."""

    next: dict[str, int] = field(default_factory=dict)

    def take(self, table: str) -> int:
        value = self.next.get(table, 1)
        self.next[table] = value + 1
        return value


class _Rows:
    """Fast deterministic builders: uuids from the seeded RNG, canonical UTC stamps."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self._hms = [f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.000Z"
                     for s in range(86_400)]
        self._days: dict[int, str] = {}

    def uuid(self) -> str:
        h = f"{self.rng.getrandbits(128):032x}"
        return f"{h[:8]}-{h[8:12]}-4{h[13:16]}-{'89ab'[int(h[16], 16) & 3]}{h[17:20]}-{h[20:]}"

    def iso(self, posix: float) -> str:
        """to_iso for whole seconds, without a datetime per call."""
        s = int(posix)
        day = s // 86_400
        text = self._days.get(day)
        if text is None:
            text = self._days[day] = datetime.fromtimestamp(day * 86_400, UTC).strftime(
                "%Y-%m-%dT")
        return text + self._hms[s % 86_400]


@dataclass
class _Plan:
    patient: int  # index
    day: date
    series: int  # index into the series list
    number: int
    total: int


@dataclass
class GenReport:
    path: Path
    patients: int
    sessions: int
    signed: int
    vitals: int
    seconds: float
    size_bytes: int
    counts: dict[str, int]


def _protocols(store: Store) -> list[dict[str, object]]:
    return [r for r in store.rows("protocols", order_by="id") if not r["retired"]]


def _plan(seed: int, n_patients: int, n_sessions: int, protocols: list[dict[str, object]],
          years: int = YEARS) -> tuple[list[dict[str, object]], list[dict[str, object]], list[_Plan]]:
    """Patients, their treatment series and every session day, before any row is built:
    an induction series of the protocol's length, then maintenance series of 6. Patients
    start evenly over the ten years (some before it, some still in treatment today), so
    every day of the decade, today included, is about as busy; the session budget is
    corrected twice so the total lands near `n_sessions`."""
    factor = 1.0
    for _ in range(3):
        patients, series, plans = _plan_once(random.Random(seed), n_patients,
                                             n_sessions * factor, protocols, years)
        factor *= n_sessions / max(1, len(plans))
    return patients, series, plans


def _plan_once(rng: random.Random, n_patients: int, n_sessions: float,
               protocols: list[dict[str, object]], years: int
               ) -> tuple[list[dict[str, object]], list[dict[str, object]], list[_Plan]]:
    first_day = (END - timedelta(days=365 * years)).date()
    span_days = (END.date() - first_day).days
    budget = [rng.expovariate(1.0) for _ in range(n_patients)]
    factor = n_sessions / sum(budget)
    patients: list[dict[str, object]] = []
    series: list[dict[str, object]] = []
    plans: list[_Plan] = []
    for i, weight in enumerate(budget):
        wanted = max(1, round(weight * factor))
        protocol = protocols[i % len(protocols)]
        gap = 3 if protocol["indication"] == "CRPS" else 4
        length = int(protocol["series_length"])  # type: ignore[call-overload]
        est = length * gap // 2 + max(0, wanted - length) * 31  # mean days in treatment
        start = first_day + timedelta(days=rng.randint(-est, span_days))
        patients.append({"index": i, "protocol": protocol, "start": max(start, first_day)})
        day, left, kind = start, wanted, "induction"
        while left > 0 and day <= END.date():
            planned = length if kind == "induction" else 6
            series_index = len(series)
            current = {"patient": i, "protocol_id": protocol["id"], "kind": kind,
                       "planned": planned, "start": day, "done": 0, "last": day}
            for k in range(1, planned + 1):
                while day.weekday() >= 5:
                    day += timedelta(days=1)
                if left == 0 or day > END.date():
                    break
                if day >= first_day:  # before the decade: treated elsewhere
                    if current["done"] == 0:
                        current["start"] = day
                        series.append(current)
                    plans.append(_Plan(i, day, series_index, k, planned))
                    current["done"], current["last"] = k, day
                left -= 1
                day += timedelta(days=rng.randint(1, gap) if kind == "induction"
                                 else rng.randint(14, 35))
            kind = "maintenance"
            day += timedelta(days=rng.randint(20, 60))
    plans.sort(key=lambda p: (p.day, p.patient))
    return patients, series, plans


class Generator:
    def __init__(self, store: Store, seed: int, scale: float, device_every_s: int,
                 say: Callable[[str], None]) -> None:
        self.store = store
        self.conn = store.conn
        self.rng = random.Random(seed)
        self.rows = _Rows(self.rng)
        self.ids = _Ids()
        self.scale = scale
        self.device_every_s = device_every_s
        self.say = say
        self.cols = {t: _table_columns(store, t) for t in (
            "patients", "treatment_series", "sessions", "vitals", "dose_events", "scores",
            "adjunct_medications", "side_effects", "notes", "follow_ups", "signatures")}
        self.inserts = {t: f"INSERT INTO {t} ({', '.join(c)}) VALUES "
                           f"({', '.join(':' + x for x in c)})" for t, c in self.cols.items()}

    # -- staff and reference data -------------------------------------------
    def staff(self) -> None:
        clock = self.store.clock
        admin = bootstrap_admin(self.store, clock, "admin", PASSWORD,
                                display_name="Clinic Administrator",
                                clinic_name="Ten Years Ketamine Clinic (generated)")
        ctx = Context(self.store, clock, admin)
        self.nurses = [int(add_user(ctx, f"nurse{i}", [Role.NURSE], PASSWORD,
                                    display_name=f"Nurse {i}", credentials="RN").id or 0)
                       for i in range(1, 7)]
        self.providers = [int(add_user(ctx, f"provider{i}", [Role.PROVIDER], PASSWORD,
                                       display_name=f"Dr. Provider {i}",
                                       credentials="MD").id or 0) for i in range(1, 4)]
        self.admin = Actor(int(admin.id or 0), "admin")
        seed_protocols(self.store, self.admin)
        # each signature is made with its signer's own key, as the app makes it
        self.keys = {uid: open_key(self.store, uid, PASSWORD)
                     for uid in (*self.nurses, *self.providers)}

    # -- bulk writing --------------------------------------------------------
    def _write(self, batch: dict[str, list[dict[str, object]]], summary: dict[str, object],
               after: Callable[[Writer], None] | None = None) -> None:
        """One transaction: rows by executemany, one audit entry per row (as the app's
        Writer.insert_many writes them) plus one chained summary entry."""
        with self.store.write(self.admin) as w:
            for table, rows in batch.items():
                if rows:
                    self.conn.executemany(self.inserts[table], rows)
                    w.chain.append_many([w.chain.entry(
                        at=w.now, user_id=w.actor.user_id, username=w.actor.username,
                        action="insert", table_name=table, row_uuid=str(r["uuid"]),
                        new_values=values_json(r)) for r in rows])
            if after:
                after(w)
            w.event("bulk_generate", details={
                "generator": f"benchmarks.gen_ten_years v{GENERATOR_VERSION}",
                "rows": {t: len(r) for t, r in batch.items() if r}, **summary})

    def patients_and_series(self, patients: list[dict[str, object]],
                            series: list[dict[str, object]]) -> None:
        rng = self.rng
        names = set()
        prows, srows = [], []
        for p in patients:
            while True:
                given, family = rng.choice(GIVEN), rng.choice(FAMILY)
                birth = date(1940, 1, 1) + timedelta(days=rng.randint(0, 365 * 65))
                if (given, family, birth) not in names:
                    names.add((given, family, birth))
                    break
            p["id"] = pid = self.ids.take("patients")
            protocol = p["protocol"]
            prows.append({
                "id": pid, "uuid": self.rows.uuid(), "mrn": f"M{100000 + pid}",
                "family_name": family, "given_name": given, "birth_date": birth.isoformat(),
                "sex": rng.choice(("female", "male")),
                "allergies": rng.choice(("", "", "penicillin", "latex", "sulfa drugs")),
                "indication": protocol["indication"],  # type: ignore[index]
                "referring_provider": "Dr. L. Chen (pain medicine)",
                "contraindication_screen": "no uncontrolled hypertension, no psychosis",
                "consent_date": p["start"].isoformat(),  # type: ignore[attr-defined]
                "notes": "", "created_at": to_iso(datetime.combine(
                    p["start"], datetime.min.time(), UTC))})  # type: ignore[arg-type]
        for s in series:
            s["id"] = sid = self.ids.take("treatment_series")
            last: date = s["last"]  # type: ignore[assignment]
            incomplete = s["done"] < s["planned"]  # type: ignore[operator]
            recent = (END.date() - last).days < 40
            next_on = (last + timedelta(days=self.rng.randint(3, 30))).isoformat() \
                if incomplete and recent else None
            closed = None if (next_on or not incomplete) else to_iso(
                datetime.combine(last + timedelta(days=60), datetime.min.time(), UTC))
            srows.append({
                "id": sid, "uuid": self.rows.uuid(),
                "patient_id": patients[s["patient"]]["id"],  # type: ignore[index]
                "protocol_id": s["protocol_id"], "kind": s["kind"],
                "planned_sessions": s["planned"],
                "start_date": s["start"].isoformat(),  # type: ignore[attr-defined]
                "goal": "NRS down by at least 30 %, relief lasting a week or more",
                "next_session_on": next_on, "closed_at": closed,
                "closed_reason": "" if closed is None else "Patient paused treatment",
                "created_at": to_iso(datetime.combine(s["start"], datetime.min.time(), UTC)),  # type: ignore[arg-type]
                "created_by": self.nurses[0]})
        self._write({"patients": prows, "treatment_series": srows},
                    {"what": "patients and treatment series"})

    # -- one session ---------------------------------------------------------
    def session(self, plan: _Plan, patients: list[dict[str, object]],
                series: list[dict[str, object]], out: dict[str, list[dict[str, object]]]
                ) -> bool:
        """Append the session's rows to `out`; returns True when it is signed."""
        rng, r = self.rng, self.rows
        patient = patients[plan.patient]
        protocol: dict[str, object] = patient["protocol"]  # type: ignore[assignment]
        duration = int(protocol["duration_min"])  # type: ignore[call-overload]
        arrival = datetime.combine(plan.day, datetime.min.time(), UTC) + timedelta(
            hours=8, minutes=rng.randrange(0, 8 * 60, 5))
        if plan.day == END.date():  # today: keep it in the past
            arrival = min(arrival, END - timedelta(minutes=rng.randint(20, 200)))
        t_arr = arrival.timestamp()
        t_start = t_arr + 60 * rng.randint(15, 25)
        t_stop = t_start + 60 * duration
        t_dis = t_stop + 60 * rng.randint(55, 75)
        now = END.timestamp()
        age_days = (END.date() - plan.day).days
        live = t_dis > now
        if live:
            t_stop = min(t_stop, now - 60)
            t_dis = now
        status = ("in_progress" if live else "signed" if age_days > 3 or rng.random() < 0.3
                  else "completed")
        sid = self.ids.take("sessions")
        nurse = rng.choice(self.nurses)
        provider = rng.choice(self.providers)
        weight = round(rng.uniform(52, 110), 1)
        rate = round(float(protocol["rate_mg_per_kg_per_h"]) * weight, 1)  # type: ignore[arg-type]
        iso = r.iso
        session = {
            "id": sid, "uuid": r.uuid(), "patient_id": patient["id"],
            "protocol_id": protocol["id"], "series_number": plan.number,
            "series_total": plan.total, "chair": rng.choice(CHAIRS), "nurse_id": nurse,
            "provider_id": provider if status == "signed" else None, "weight_kg": weight,
            "bag_drug": "ketamine", "bag_concentration_mg_per_ml": 1.0,
            "bag_volume_ml": 500.0, "bag_lot": f"K{plan.day:%y%m}{rng.randint(10, 99)}",
            "bag_expiry": (plan.day + timedelta(days=300)).isoformat(), "status": "completed",
            "arrival_at": iso(t_arr), "infusion_start_at": iso(t_start),
            "infusion_end_at": None if live else iso(t_stop),
            "discharge_at": None if live else iso(t_dis),
            "discharge_escort": "" if live else rng.choice(("spouse", "friend", "daughter")),
            "discharge_instructions": "" if live else "No driving for 8 h.",
            "created_at": iso(t_arr), "series_id": series[plan.series]["id"]}
        if live:
            session["status"] = "in_progress"
        device = rng.random() < DEVICE_FRACTION
        children = self._children(sid, session, nurse, t_arr, t_start, t_stop, t_dis, rate,
                                  weight, device, live)
        for table, rows in children.items():
            out[table] += rows
        if status in ("signed", "completed"):
            self._signatures(sid, session, children, nurse, provider, t_dis, status, out)
            if status == "signed":
                out["_signed"].append({"id": sid, "uuid": session["uuid"]})
            self._follow_ups(sid, nurse, t_stop, plan, out)
        out["sessions"].append(session)
        return status == "signed"

    def _children(self, sid: int, session: dict[str, object], nurse: int, t_arr: float,
                  t_start: float, t_stop: float, t_dis: float, rate: float, weight: float,
                  device: bool, live: bool) -> dict[str, list[dict[str, object]]]:
        rng, r = self.rng, self.rows
        iso, uuid = r.iso, r.uuid
        sbp0, dbp0, hr0 = rng.gauss(124, 10), rng.gauss(78, 6), rng.gauss(74, 7)
        span = max(t_stop - t_start, 1.0)
        times: list[tuple[float, bool]] = []
        t = t_arr + 600
        while t <= t_dis - 300:
            times.append((t, False))
            t += MANUAL_EVERY_MIN * 60
        if device:
            t = t_arr + 900
            while t <= t_dis - 300:
                times.append((t + 1, True))  # a second after the manual slot: no ties
                t += self.device_every_s
        times.sort()
        vitals = []
        noise = rng.random  # cheaper than gauss/choice on the 10-million-row path
        for t, dev in times:
            phase = max(0.0, min(1.0, (t - t_start) / span)) if t >= t_start else 0.0
            rise = 12 * phase if t <= t_stop else 12 * max(0.0, 1 - (t - t_stop) / 3600)
            sbp = float(round(sbp0 + rise + 8 * (noise() - 0.5)))
            dbp = float(round(min(dbp0 + rise * 0.6 + 5 * (noise() - 0.5), sbp - 20)))
            vitals.append({
                "id": 0, "uuid": uuid(), "session_id": sid, "at": iso(t),
                "sbp_mmhg": sbp, "dbp_mmhg": dbp, "map_mmhg": float(round(dbp + (sbp - dbp) / 3)),
                "map_derived": 0 if dev else 1, "hr_bpm": float(round(hr0 + 8 * (noise() - 0.5))),
                "spo2_pct": SPO2[int(noise() * 5)], "rr_per_min": RR[int(noise() * 4)],
                "etco2_mmhg": ETCO2[int(noise() * 3)] if dev else None,
                "temp_c": 36.6 if not dev and t == times[0][0] else None,
                "source": "device:gateway-mx" if dev else "manual", "alerts": "[]",
                "late_entry": 0, "artifact": 0, "artifact_reason": "",
                "entered_at": iso(t + (0 if dev else 30)),
                "entered_by": None if dev else nurse})
        for v in vitals:
            v["id"] = self.ids.take("vitals")

        def stamp(t: float) -> dict[str, object]:
            return {"entered_at": iso(t + 20), "entered_by": nurse}

        doses = []
        bolus = float(session["weight_kg"]) * 0.35 if rng.random() < 0.25 else None  # type: ignore[arg-type]
        if bolus:
            doses.append(("bolus", t_start, round(bolus, 1), None, "loading bolus"))
        doses.append(("start", t_start + 1, None, rate, ""))
        if rng.random() < 0.2 and span > 1800:
            doses.append(("rate_change", t_start + span / 2, None, round(rate * 0.8, 1),
                          "dizziness"))
        if not live:
            doses.append(("stop", t_stop, None, None, "infusion complete"))
        dose_rows = [{"id": self.ids.take("dose_events"), "uuid": uuid(), "session_id": sid,
                      "at": iso(t), "kind": kind, "bolus_mg": b, "rate_mg_per_h": rt,
                      "weight_kg": weight, "reason": why, "acknowledged_warnings": "[]",
                      **stamp(t)} for kind, t, b, rt, why in doses]
        pre = rng.randint(5, 9)
        scores = [("nrs", "pre", pre, t_start - 300), ("moaas", "intra", rng.randint(3, 5),
                                                       t_start + span / 3)]
        if not live:
            scores += [("nrs", "post", max(0, pre - rng.randint(0, 5)), t_stop + 600),
                       ("aldrete", "post", rng.randint(9, 10), t_stop + 900),
                       ("padss", "post", 10, t_dis - 360)]
        score_rows = [{"id": self.ids.take("scores"), "uuid": uuid(), "session_id": sid,
                       "at": iso(t), "scale": scale, "value": value, "phase": phase,
                       "items": "{}", **stamp(t)} for scale, phase, value, t in sorted(
                           scores, key=lambda s: iso(s[3]))]
        effects, adjuncts = [], []
        if rng.random() < 0.15:
            kind, action = rng.choice(EFFECTS)
            onset = t_start + rng.uniform(0.2, 0.8) * span
            effects.append({"id": self.ids.take("side_effects"), "uuid": uuid(),
                            "session_id": sid, "onset_at": iso(onset), "kind": kind,
                            "severity": rng.choice(("mild", "mild", "moderate")),
                            "action": action, "resolved_at": None if live else iso(onset + 900),
                            "note": "", **stamp(onset)})
            if "ondansetron" in action:
                adjuncts.append({"id": self.ids.take("adjunct_medications"), "uuid": uuid(),
                                 "session_id": sid, "at": iso(onset + 120),
                                 "drug": "ondansetron", "dose": 4.0, "unit": "mg",
                                 "route": "IV", "reason": kind, **stamp(onset + 120)})
        notes = [{"id": self.ids.take("notes"), "uuid": uuid(), "session_id": sid,
                  "at": iso(t_dis - 120 if not live else t_start + 60), "author_id": nurse,
                  "text": rng.choice(NOTES), "entered_at": iso(t_dis - 60 if not live
                                                               else t_start + 90)}]
        return {"vitals": vitals, "dose_events": dose_rows, "scores": score_rows,
                "side_effects": effects, "adjunct_medications": adjuncts, "notes": notes}

    def _signatures(self, sid: int, session: dict[str, object],
                    children: dict[str, list[dict[str, object]]], nurse: int, provider: int,
                    t_dis: float, status: str, out: dict[str, list[dict[str, object]]]) -> None:
        """The nurse's completion hash (no provider yet) and the provider's, as
        store/content.py and domain/hashing.py compute them, sharing the children's JSON."""
        dumps = json.JSONEncoder(sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                                 allow_nan=False, default=str).encode
        parts = {t: dumps(rows) for t, rows in children.items()}

        def digest(session_part: dict[str, object]) -> str:
            h = hashlib.sha256()
            keys = sorted([*parts, "session"])
            h.update(b"{")
            for n, key in enumerate(keys):
                text = dumps(session_part) if key == "session" else parts[key]
                h.update(f'{"," if n else ""}"{key}":{text}'.encode())
            h.update(b"}")
            return h.hexdigest()

        base = {k: v for k, v in session.items() if k != "status" and not (
            k == "series_id" and v is None)}
        sigs = [(nurse, t_dis + 60, NURSE_SIGNATURE, digest({**base, "provider_id": None}))]
        if status == "signed":
            sigs.append((provider, t_dis + 86_400 * self.rng.uniform(0.2, 2.5),
                         PROVIDER_SIGNATURE, digest(base)))
        for who, t, meaning, h in sigs:
            key = self.keys[who]
            assert key is not None
            out["signatures"].append({
                **signature_fields(key, session_uuid=str(session["uuid"]), user_id=who,
                                   at=self.rows.iso(min(t, END.timestamp())), meaning=meaning,
                                   content_hash=h),
                "id": self.ids.take("signatures"), "uuid": self.rows.uuid(), "session_id": sid})

    def _follow_ups(self, sid: int, nurse: int, t_stop: float, plan: _Plan,
                    out: dict[str, list[dict[str, object]]]) -> None:
        for hours in (24, 72, 168)[: self.rng.randint(1, 3)]:
            t = t_stop + hours * 3600
            if t >= END.timestamp():
                break
            out["follow_ups"].append({
                "id": self.ids.take("follow_ups"), "uuid": self.rows.uuid(),
                "session_id": sid, "at": self.rows.iso(t), "nrs": self.rng.randint(2, 8),
                "relief_hours": float(hours), "phq9": None, "source": "phone",
                "note": "", "entered_at": self.rows.iso(t + 60), "entered_by": nurse})

    def _lock(self, w: Writer, rows: list[tuple[object, object]]) -> None:
        """Mark the provider-signed sessions signed, audited as sign_session does."""
        self.conn.executemany("UPDATE sessions SET status = 'signed' WHERE id = ?",
                              [(i,) for i, _ in rows])
        w.chain.append_many([w.chain.entry(
            at=w.now, user_id=w.actor.user_id, username=w.actor.username, action="update",
            table_name="sessions", row_uuid=str(u), old_values=values_json({"status": "completed"}),
            new_values=values_json({"status": "signed"})) for _, u in rows])

    def sessions(self, plans: list[_Plan], patients: list[dict[str, object]],
                 series: list[dict[str, object]]) -> tuple[int, int]:
        signed = vitals = 0
        t0 = time.perf_counter()
        tables = ("sessions", "vitals", "dose_events", "scores", "adjunct_medications",
                  "side_effects", "notes", "follow_ups", "signatures")
        for start in range(0, len(plans), BATCH_SESSIONS):
            out: dict[str, list[dict[str, object]]] = {t: [] for t in (*tables, "_signed")}
            for plan in plans[start:start + BATCH_SESSIONS]:
                signed += self.session(plan, patients, series, out)
            to_sign = [(row["id"], row["uuid"]) for row in out.pop("_signed")]
            vitals += len(out["vitals"])
            # children go in while the session reads 'completed' (signed ones refuse
            # rows); the signed ones are then locked in the same transaction
            self._write(out, {"sessions": [out["sessions"][0]["id"], out["sessions"][-1]["id"]]},
                        after=lambda w, rows=to_sign: self._lock(w, rows))  # type: ignore[misc]
            done = min(start + BATCH_SESSIONS, len(plans))
            rate = vitals / max(time.perf_counter() - t0, 1e-9)
            self.say(f"\rsessions {done:>6}/{len(plans)}  vitals {vitals:>10,}  "
                     f"({rate:,.0f} rows/s)")
        self.say("\n")
        return signed, vitals


def generate(out: Path | str, scale: float = 1.0, seed: int = 1,
             device_every_s: int = DEVICE_EVERY_S,
             say: Callable[[str], None] | None = None, years: int = YEARS) -> GenReport:
    """Build the database at `out` (which must not exist yet). `years` < 10 with
    `scale` = years / 10 is the same clinic (as busy every day) over fewer years."""
    out = Path(out)
    if out.exists():
        raise FileExistsError(f"{out} exists; remove it first")
    say = say or (lambda text: print(text, end="", file=sys.stderr, flush=True))
    t0 = time.perf_counter()
    store = open_store(out, FixedClock(END))
    try:
        store.conn.execute("PRAGMA journal_mode = OFF")  # bulk load; WAL again below
        store.conn.execute("PRAGMA synchronous = OFF")
        store.conn.execute("PRAGMA cache_size = -1000000")  # ~1 GB: the uuid indexes
        gen = Generator(store, seed, scale, device_every_s, say)
        gen.staff()
        protocols = _protocols(store)
        patients, series, plans = _plan(seed, max(1, round(PATIENTS * scale)),
                                        max(1, round(SESSIONS * scale)), protocols, years)
        say(f"planned {len(patients)} patients, {len(series)} series, {len(plans)} sessions\n")
        gen.patients_and_series(patients, series)
        signed, vitals = gen.sessions(plans, patients, series)
        store.conn.execute("PRAGMA journal_mode = WAL")
        counts = store.table_counts()
    finally:
        store.close()
    seconds = time.perf_counter() - t0
    size = out.stat().st_size
    say(f"generated {out} in {seconds:.1f} s: {size / 1e6:,.0f} MB, {len(plans)} sessions, "
        f"{vitals:,} vitals\n")
    return GenReport(out, len(patients), len(plans), signed, vitals, seconds, size, counts)


def cached(folder: Path | str, scale: float, seed: int = 1,
           say: Callable[[str], None] | None = None, years: int = YEARS) -> Path:
    """The database for (generator version, scale, seed, years) under `folder`, built if
    missing. A half-built file never takes the final name."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    span = "" if years == YEARS else f"-y{years}"
    path = folder / f"ten-years-v{GENERATOR_VERSION}-s{scale:g}{span}-seed{seed}.sqlite"
    if not path.exists():
        partial = path.with_name(path.name + ".building")
        for leftover in _with_sidecars(partial):
            leftover.unlink(missing_ok=True)
        generate(partial, scale, seed, say=say, years=years)
        partial.rename(path)
    return path


def _with_sidecars(path: Path) -> Iterator[Path]:
    yield path
    yield Path(f"{path}-wal")
    yield Path(f"{path}-shm")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", required=True, type=Path)
    parser.add_argument("--scale", type=float, default=1.0, help="fraction of the clinic")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--device-every-s", type=int, default=DEVICE_EVERY_S)
    parser.add_argument("--years", type=int, default=YEARS,
                        help="span of the history (with --scale years/10: the same clinic)")
    args = parser.parse_args(argv)
    generate(args.out, args.scale, args.seed, args.device_every_s, years=args.years)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
