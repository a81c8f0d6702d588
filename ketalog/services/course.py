"""A patient's course of treatment, gathered once for the course PDF and the GUI course
view so both show the same numbers (the rules live in ketalog.domain.course).

Only what the course needs is read: per session its dose events, NRS scores, side
effects and follow-ups; never vitals, which are most of a session's rows."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import date, datetime, tzinfo

from ketalog.domain.course import CourseOutcome, SessionInput, SideEffectCount, summarize_course
from ketalog.domain.dosing import is_mood_indication
from ketalog.domain.entities import FollowUp, Patient, SessionStatus
from ketalog.domain.follow_up_schedule import FollowUpSchedule
from ketalog.domain.mood_course import MoodPoint, MoodSource, MoodTrend, mood_trend
from ketalog.domain.series import SeriesProgress
from ketalog.services.context import RECORD_READERS, Context
from ketalog.services.errors import ServiceError, service_boundary
from ketalog.services.series import list_series
from ketalog.services.setting_declarations import FOLLOW_UP_HOURS, RESPONDER_THRESHOLD_PCT
from ketalog.services.settings import setting_value_without_login
from ketalog.services.summary import dose_summary, nrs_pre_post
from ketalog.store import follow_ups as follow_ups_store
from ketalog.store import patients as patient_rows
from ketalog.store import scores as scores_store
from ketalog.store import sessions as sessions_store
from ketalog.store import side_effects as side_effects_store
from ketalog.store.sessions import SessionListing
from ketalog.store.store import Store


@dataclass(frozen=True)
class CourseSummary:
    """The course with the patient's identifiers (name, MRN, DOB, allergies on every
    page and screen) and the range and moment it was computed for."""

    patient: Patient
    since: date | None
    until: date | None
    now: datetime
    outcome: CourseOutcome
    not_started: int  # sessions created in the range whose infusion never started
    mood: MoodTrend = MoodTrend(())  # PHQ-9 totals in the range (mood indication)
    series: tuple[SeriesProgress, ...] = ()  # every treatment series, newest first
    safety_flags: tuple[FollowUp, ...] = ()  # PHQ-9 item 9 > 0 not yet acknowledged (all dates)
    recorded_follow_ups: tuple[FollowUp, ...] = ()  # in range, struck ones included, newest first

    @property
    def shows_mood(self) -> bool:
        """PHQ-9 is charted for the mood indication, or wherever it was recorded."""
        return is_mood_indication(self.patient.indication) or bool(self.mood.points)

    @property
    def name(self) -> str:
        return self.patient.display_name

    @property
    def mrn(self) -> str:
        return self.patient.mrn

    @property
    def birth_date(self) -> date:
        return self.patient.birth_date


@service_boundary
def load_course(ctx: Context, patient_id: int, since: date | None = None,
                until: date | None = None, now: datetime | None = None, *,
                threshold_pct: float | None = None, schedule: FollowUpSchedule | None = None,
                tz: tzinfo | None = None) -> CourseSummary:
    """Sessions whose infusion started on a clinic-local day in [since, until] (both
    inclusive, either open). Thresholds default to the clinic settings; ``tz`` to the
    computer's zone (the clinic's, as elsewhere in ketalog)."""
    ctx.require(*RECORD_READERS, action="read a patient's course")
    store = ctx.store
    patient = patient_rows.patient(store, patient_id)
    if patient is None:
        raise ServiceError(f"no patient with id {patient_id}")
    now = now or store.clock.now()
    if threshold_pct is None:  # a store-level view: read without a login (services/settings.py)
        threshold_pct = _setting_number(store, RESPONDER_THRESHOLD_PCT)
    threshold = threshold_pct
    schedule = schedule or FollowUpSchedule(_setting_hours(store, FOLLOW_UP_HOURS))

    def in_range(at: datetime) -> bool:
        day = at.astimezone(tz).date()
        return (since is None or day >= since) and (until is None or day <= until)

    sessions: list[SessionInput] = []
    follow_ups: list[FollowUp] = []
    mood: list[MoodPoint] = []
    other_starts: list[datetime] = []
    not_started = 0
    every_mood: list[tuple[MoodPoint, object]] = []  # (point, series id): the baseline's
    flags: list[FollowUp] = []
    listed: list[FollowUp] = []
    for s in sessions_store.listing(store, patient_id=patient_id):
        start = s.session.infusion_start_at
        recorded = follow_ups_store.of_session(store, s.session_id)
        mine = [f for f in recorded if not f.struck_reason]  # entered in error: not counted
        points = _mood_points(store, s.session_id, mine)
        every_mood += [(p, s.session.series_id) for p in points]
        flags += [f for f in mine if f.safety_open]
        if start is None:
            not_started += in_range(s.created_at)
        elif not in_range(start):
            other_starts.append(start)
        else:
            sessions.append(_session_input(store, s, start, now))
            follow_ups += mine
            listed += recorded
            mood += points
    outcome = summarize_course(sessions, follow_ups, now, threshold, schedule, other_starts)
    return CourseSummary(patient, since, until, now, outcome, not_started,
                         mood_trend(mood, series_baseline(every_mood, mood)),
                         tuple(list_series(store, patient_id)), tuple(flags),
                         tuple(sorted(listed, key=lambda f: f.at, reverse=True)))


@service_boundary
def series_baseline(every: list[tuple[MoodPoint, object]],
                    shown: list[MoodPoint]) -> MoodPoint | None:
    """The first PHQ-9 of the series the latest shown PHQ-9 belongs to, whatever range is
    shown (sessions outside a series count as one series of their own)."""
    if not shown:
        return None
    latest = max(shown, key=lambda p: p.at)
    series = next((sid for p, sid in every if p == latest), None)
    same = [p for p, sid in every if sid == series]
    return min(same, key=lambda p: p.at) if same else None


def _mood_points(store: Store, session_id: int, follow_ups: list[FollowUp]) -> list[MoodPoint]:
    """PHQ-9 totals of one session and its follow-ups (struck ones left out)."""
    points = [MoodPoint(s.at, s.value, MoodSource.SESSION, session_id)
              for s in scores_store.live_of_scale(store, session_id, "phq9")]
    points += [MoodPoint(f.at, f.phq9, MoodSource.FOLLOW_UP, session_id)
               for f in follow_ups if f.phq9 is not None]
    return points


def _setting_number(store: Store, key: str) -> float:
    value = setting_value_without_login(store, key)
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ServiceError(f"clinic setting {key!r} is not a number: {value!r}")
    return float(value)


def _setting_hours(store: Store, key: str) -> tuple[float, ...]:
    value = setting_value_without_login(store, key)
    if not isinstance(value, tuple | list):
        raise ServiceError(f"clinic setting {key!r} is not a list of hours: {value!r}")
    return tuple(value)


def _session_input(store: Store, listed: SessionListing, start: datetime,
                   now: datetime) -> SessionInput:
    session = listed.session
    sid = listed.session_id
    running_now = now if session.status is SessionStatus.IN_PROGRESS else None
    dose = dose_summary(store, sid, session.weight_kg, now=running_now)
    pre, post = nrs_pre_post(store, sid)
    effects = Counter((e.kind, e.severity.value)
                      for e in side_effects_store.live_of_session(store, sid))
    return SessionInput(
        session_id=sid, infusion_start=start, infusion_end=session.infusion_end_at,
        nrs_pre=pre, nrs_post=post, total_mg=dose.total_mg, mg_per_kg=dose.mg_per_kg,
        side_effects=tuple(SideEffectCount(k, sev, n) for (k, sev), n in sorted(effects.items())),
        series_number=session.series_number, series_total=session.series_total,
        status=session.status.value)
