"""Course outcome: responders, relief duration, follow-ups due, course numbers. The
examples are worked by hand in the comments; the properties guard the rules' shape."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ketalog.domain.course import (
    ReliefStatus,
    SessionInput,
    SideEffectCount,
    relief_level,
    session_outcome,
    summarize_course,
)
from ketalog.domain.entities import FollowUp
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.follow_up_schedule import (
    FollowUpSchedule,
    SlotStatus,
    schedule_follow_ups,
)
from ketalog.domain.scales import is_nrs_responder

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
END = START + timedelta(hours=4)


def session(sid: int = 1, pre: int | None = 8, post: int | None = 4, start: datetime = START,
            hours: float = 4, mg: float = 164.0, effects: tuple[SideEffectCount, ...] = ()
            ) -> SessionInput:
    return SessionInput(sid, start, start + timedelta(hours=hours), pre, post, mg, mg / 82,
                        effects)


def fu(hours: float, nrs: int | None, sid: int = 1, end: datetime = END, fid: int | None = None,
       relief_hours: float | None = None, phq9: int | None = None) -> FollowUp:
    return FollowUp(fid, "", sid, end + timedelta(hours=hours), nrs, relief_hours, phq9)


# --- one session ------------------------------------------------------------------------


def test_responder_with_relief_lost_between_follow_ups():
    # pre 8, post 4: change (4 - 8) / 8 = -50 %; 50 >= 30 -> responder.
    # relief level 8 * (1 - 0.30) = 5.6: NRS 3 at 24 h and 5 at 72 h are in relief,
    # 7 at 168 h is not -> at least 72 h (3 days), lost by 168 h (7 days).
    o = session_outcome(session(), [fu(24, 3), fu(72, 5), fu(168, 7)], END + timedelta(days=8))
    assert (o.change_pct, o.responder) == (-50.0, True)
    assert o.relief.level == pytest.approx(5.6)
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.LOST, 72.0, 168.0)
    assert (o.relief.at_least_days, o.relief.lost_by_days) == (3.0, 7.0)
    assert [v.in_relief for v in o.follow_ups] == [True, True, False]
    assert [s.status for s in o.schedule] == [SlotStatus.DONE] * 3


def test_out_of_order_follow_ups_give_the_same_outcome():
    ordered = [fu(24, 3, fid=1), fu(72, 5, fid=2), fu(168, 7, fid=3)]
    now = END + timedelta(days=8)
    a = session_outcome(session(), ordered, now)
    b = session_outcome(session(), ordered[::-1], now)
    assert a == b
    assert [v.hours_after for v in b.follow_ups] == [24.0, 72.0, 168.0]


def test_no_follow_ups_relief_unknown_and_calls_come_due():
    # 24 h call: due END+24 h, window +-25 % of 24 h = +-6 h -> 18-30 h after the end.
    # 72 h call: +-18 h -> 54-90 h. 7 d call: +-42 h -> 126-210 h.
    def statuses(hours_after_end: float) -> list[SlotStatus]:
        o = session_outcome(session(), [], END + timedelta(hours=hours_after_end))
        assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
            ReliefStatus.NO_FOLLOW_UP, None, None)
        return [s.status for s in o.schedule]

    up, due, late = SlotStatus.UPCOMING, SlotStatus.DUE, SlotStatus.OVERDUE
    assert statuses(2) == [up, up, up]
    assert statuses(18) == [due, up, up]  # window opens (inclusive)
    assert statuses(30) == [due, up, up]  # window closes (inclusive)
    assert statuses(31) == [late, up, up]
    assert statuses(60) == [late, due, up]
    assert statuses(211) == [late, late, late]


def test_schedule_windows_and_labels():
    o = session_outcome(session(), [], END)
    assert [s.label for s in o.schedule] == ["24 h", "72 h", "7 d"]
    seven = o.schedule[2]
    assert (seven.opens_at, seven.due_at, seven.closes_at) == (
        END + timedelta(hours=126), END + timedelta(hours=168), END + timedelta(hours=210))


def test_session_without_post_score_has_no_responder_status_but_relief_from_pre():
    # pre 6, no post: no change, no responder status. Relief level 6 * 0.7 = 4.2:
    # NRS 4 at 24 h is in relief ((6 - 4) * 100 = 200 >= 30 * 6 = 180);
    # NRS 5 at 48 h is not (100 < 180) -> at least 24 h, lost by 48 h.
    o = session_outcome(session(pre=6, post=None), [fu(24, 4), fu(48, 5)], END)
    assert (o.change_pct, o.responder) == (None, None)
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.LOST, 24.0, 48.0)


def test_patient_who_got_worse_has_no_relief_whatever_comes_later():
    # pre 4, post 6: change (6 - 4) / 4 = +50 % (more pain) -> not a responder.
    # The post score is hour 0 and out of relief -> relief 0 h, lost by 0 h; the NRS 2 at
    # 24 h does not start a new episode from this infusion.
    o = session_outcome(session(pre=4, post=6), [fu(24, 2)], END)
    assert (o.change_pct, o.responder) == (50.0, False)
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.NO_RELIEF, 0.0, 0.0)
    without_follow_up = session_outcome(session(pre=4, post=6), [], END)
    assert without_follow_up.relief.at_least_h == 0.0


def test_relief_lost_at_the_first_follow_up_is_zero_hours():
    # pre 8, post 4 (in relief at hour 0), NRS 8 at 24 h -> at least 0 h, lost by 24 h.
    o = session_outcome(session(), [fu(24, 8)], END)
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.LOST, 0.0, 24.0)
    # Without a post score no observation was ever in relief.
    o = session_outcome(session(post=None), [fu(24, 8)], END)
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.NO_RELIEF, 0.0, 24.0)


def test_relief_still_ongoing_and_post_alone_is_not_a_duration():
    o = session_outcome(session(), [fu(24, 2), fu(72, 5)], END)
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.ONGOING, 72.0, None)
    assert session_outcome(session(), [], END).relief.status is ReliefStatus.NO_FOLLOW_UP


def test_exactly_thirty_percent_counts_and_threshold_is_a_parameter():
    # 10 -> 7 is exactly -30 %: a responder at 30 %, not at 50 %.
    assert session_outcome(session(pre=10, post=7), [], END).responder is True
    strict = session_outcome(session(pre=10, post=7), [fu(24, 5)], END, threshold_pct=50)
    assert strict.responder is False
    # at 50 %: level 10 * 0.5 = 5; the post score 7 is out of relief -> relief 0.
    assert (strict.relief.level, strict.relief.status) == (5.0, ReliefStatus.NO_RELIEF)
    with pytest.raises(PlausibilityError, match="threshold"):
        session_outcome(session(), [], END, threshold_pct=0)


def test_pre_zero_or_missing_has_no_baseline():
    o = session_outcome(session(pre=0, post=0), [fu(24, 0)], END)
    assert (o.change_pct, o.responder, o.relief.status) == (None, None, ReliefStatus.NO_BASELINE)
    assert o.follow_ups[0].in_relief is None
    o = session_outcome(session(pre=None, post=3), [fu(24, 2)], END)
    assert (o.responder, o.relief.status, o.relief.at_least_h) == (
        None, ReliefStatus.NO_BASELINE, None)


def test_patient_reported_relief_is_shown_beside_not_mixed_in():
    o = session_outcome(session(), [fu(24, 3, relief_hours=40), fu(72, 7, relief_hours=60)], END)
    # computed: in relief at 24 h, out at 72 h; the patient's 60 h is reported, not used.
    assert (o.relief.at_least_h, o.relief.lost_by_h, o.relief.reported_h) == (24.0, 72.0, 60.0)
    assert [v.reported_relief_h for v in o.follow_ups] == [40, 60]


def test_phq9_only_follow_up_fills_a_call_but_says_nothing_about_pain():
    o = session_outcome(session(), [fu(24, None, phq9=12)], END + timedelta(hours=25))
    assert o.schedule[0].status is SlotStatus.DONE
    assert o.relief.status is ReliefStatus.NO_FOLLOW_UP


def test_follow_ups_after_the_next_infusion_do_not_count():
    # Next infusion starts 72 h after this one ended. The 80 h follow-up (NRS 7) measures
    # the next infusion: excluded, so relief is "at least 24 h", still not seen lost.
    nxt = END + timedelta(hours=72)
    o = session_outcome(session(), [fu(24, 3), fu(80, 7)], END + timedelta(days=10),
                        next_infusion_start=nxt)
    assert [v.counted for v in o.follow_ups] == [True, False]
    assert o.follow_ups[1].excluded_reason == "after the next infusion started"
    assert (o.relief.status, o.relief.at_least_h, o.relief.lost_by_h) == (
        ReliefStatus.ONGOING, 24.0, None)
    # 24 h done; 72 h and 7 d calls fall at or after the next infusion: not needed.
    assert [s.status for s in o.schedule] == [
        SlotStatus.DONE, SlotStatus.NOT_NEEDED, SlotStatus.NOT_NEEDED]


def test_next_infusion_inside_a_window_closes_it_early():
    # Next infusion at 80 h: the 72 h window (54-90 h) closes at 80 h; nothing in it.
    nxt = END + timedelta(hours=80)
    o = session_outcome(session(), [fu(24, 3)], END + timedelta(hours=85), next_infusion_start=nxt)
    slot = o.schedule[1]
    assert (slot.closes_at, slot.status) == (nxt, SlotStatus.OVERDUE)


def test_one_follow_up_fills_one_slot_nearest_due():
    # Schedule 24 h and 30 h: windows 18-30 h and 22.5-37.5 h overlap. One call at 26 h
    # goes to the 24 h slot (first in order, in its window); the 30 h slot stays open.
    sched = FollowUpSchedule((30, 24))
    assert sched.hours == (24.0, 30.0)
    slots = schedule_follow_ups(1, END, [fu(26, 3)], sched, END + timedelta(hours=31))
    assert [s.status for s in slots] == [SlotStatus.DONE, SlotStatus.DUE]
    # Two calls in the 24 h window: the one nearer 24 h (23 h, not 19 h) fills it.
    slots = schedule_follow_ups(1, END, [fu(19, 3, fid=1), fu(23, 4, fid=2)],
                                FollowUpSchedule((24,)), END + timedelta(hours=31))
    assert slots[0].follow_up is not None and slots[0].follow_up.id == 2


def test_schedule_and_session_validation():
    with pytest.raises(PlausibilityError):
        FollowUpSchedule(())
    with pytest.raises(PlausibilityError):
        FollowUpSchedule((24, -1))
    with pytest.raises(PlausibilityError):
        FollowUpSchedule((24,), tolerance_pct=100)
    with pytest.raises(ValueError, match="timezone"):
        SessionInput(1, datetime(2026, 3, 2, 9), None, 8, 4, 100.0, 1.2)
    with pytest.raises(PlausibilityError, match="before its start"):
        SessionInput(1, START, START - timedelta(minutes=1), 8, 4, 100.0, 1.2)


def test_running_session_counts_from_its_start():
    s = SessionInput(1, START, None, 8, None, 41.0, 0.5, status="in_progress")
    o = session_outcome(s, [], START + timedelta(hours=1))
    assert o.session.anchor == START
    assert o.schedule[0].due_at == START + timedelta(hours=24)


# --- the course -------------------------------------------------------------------------


def course_sessions() -> list[SessionInput]:
    day = timedelta(days=7)
    nausea = SideEffectCount("nausea", "mild", 2)
    return [
        session(1, 8, 4, START, mg=164.0, effects=(nausea,)),  # -50 %, responder
        session(2, 6, 5, START + day, mg=170.0,  # -16.7 %, not a responder
                effects=(SideEffectCount("hypertension", "severe", 1),
                         SideEffectCount("nausea", "moderate", 1))),
        session(3, 10, 7, START + 2 * day, mg=180.0),  # -30 %, responder (exactly)
        session(4, 7, None, START + 3 * day, mg=150.0,  # no post: not evaluable
                effects=(SideEffectCount("dizziness", "mild", 1),)),
    ]


def test_course_numbers_worked_by_hand():
    end1, end2 = END, END + timedelta(days=7)
    # session 1 (level 5.6): NRS 3 at 24 h, 5 at 72 h in relief, 7 at 120 h not -> 72 h.
    # session 2 (level 6 * 0.7 = 4.2): post 5 is out at hour 0 -> no relief, 0 h.
    follow = [fu(24, 3, 1, end1), fu(72, 5, 1, end1), fu(120, 7, 1, end1), fu(24, 5, 2, end2)]
    c = summarize_course(course_sessions()[::-1], follow, START + timedelta(days=40))
    assert [o.session.session_id for o in c.sessions] == [1, 2, 3, 4]
    assert c.session_count == 4
    assert c.total_mg == pytest.approx(164 + 170 + 180 + 150)  # 664 mg
    # paired sessions 1-3: pre (8 + 6 + 10) / 3 = 8.0; post (4 + 5 + 7) / 3 = 5.333
    assert (c.paired_count, c.mean_nrs_pre) == (3, 8.0)
    assert c.mean_nrs_post == pytest.approx(16 / 3)
    # changes -50, -16.67, -30 -> median -30
    assert c.median_change_pct == pytest.approx(-30.0)
    # responders 1 and 3 of 3 evaluable: 2 * 2 > 3 -> course responder, 66.7 %
    assert (c.evaluable_count, c.responder_count, c.course_responder) == (3, 2, True)
    assert c.responder_rate_pct == pytest.approx(200 / 3)
    # relief known: session 1 at least 72 h, session 2 0 h -> median (0 + 72) / 2 = 36 h
    # (3 has no follow-up, 4 has none either)
    assert [o.relief.status for o in c.sessions] == [
        ReliefStatus.LOST, ReliefStatus.NO_RELIEF, ReliefStatus.NO_FOLLOW_UP,
        ReliefStatus.NO_FOLLOW_UP]
    assert (c.relief_known_count, c.median_relief_at_least_h) == (2, 36.0)
    # side effects: nausea 2 mild + 1 moderate = 3; hypertension 1 severe; dizziness 1 mild
    assert dict(c.side_effects_by_kind) == {"nausea": 3, "dizziness": 1, "hypertension": 1}
    assert list(c.side_effects_by_severity.items()) == [
        ("mild", 3), ("moderate", 1), ("severe", 1)]
    assert c.side_effects[0] == SideEffectCount("nausea", "mild", 2)
    # the next session starts a week after the last one started, 164 h after its end,
    # before the 7 d call is due (168 h): every 7 d call but the last is "not needed".
    assert all(o.schedule[2].status is SlotStatus.NOT_NEEDED for o in c.sessions[:3])
    # 24 h and 72 h calls of sessions 2 (72 h), 3 and 4 were never made: overdue by now.
    assert [(s.session_id, s.label) for s in c.open_follow_ups] == [
        (2, "72 h"), (3, "24 h"), (3, "72 h"), (4, "24 h"), (4, "72 h"), (4, "7 d")]


def test_course_responder_needs_more_than_half():
    # 1 of 2 evaluable respond: exactly half -> not a course responder.
    c = summarize_course(course_sessions()[:2], [], END)
    assert (c.responder_count, c.evaluable_count, c.course_responder) == (1, 2, False)
    assert c.responder_rate_pct == 50.0
    # nothing evaluable -> None, and no means
    c = summarize_course([session(pre=None, post=None)], [], END)
    assert (c.course_responder, c.responder_rate_pct, c.mean_nrs_pre) == (None, None, None)
    empty = summarize_course([], [], END)
    assert (empty.session_count, empty.total_mg, empty.median_relief_at_least_h) == (0, 0, None)


def test_infusion_outside_the_range_still_ends_relief():
    # Only session 1 is in range; the patient's next infusion (outside it) starts at 48 h.
    follow = [fu(24, 3), fu(72, 8)]
    alone = summarize_course([session()], follow, END + timedelta(days=9))
    cut = summarize_course([session()], follow, END + timedelta(days=9),
                           other_infusion_starts=[START - timedelta(days=7),
                                                  END + timedelta(hours=48)])
    assert (alone.sessions[0].relief.status, alone.sessions[0].relief.lost_by_h) == (
        ReliefStatus.LOST, 72.0)
    assert (cut.sessions[0].relief.status, cut.sessions[0].relief.at_least_h) == (
        ReliefStatus.ONGOING, 24.0)
    assert cut.sessions[0].next_infusion_start == END + timedelta(hours=48)


def test_relief_level_line():
    assert relief_level(8) == pytest.approx(5.6)
    assert relief_level(10, 50) == 5.0


# --- properties -------------------------------------------------------------------------

nrs = st.integers(0, 10)
maybe_nrs = st.none() | nrs
thresholds = st.integers(5, 90).map(float)
follow_ups = st.lists(st.tuples(st.integers(0, 400 * 60), maybe_nrs), max_size=8).map(
    lambda items: [fu(minutes / 60, n, fid=i + 1) for i, (minutes, n) in enumerate(items)])
next_starts = st.none() | st.integers(1, 400 * 60).map(lambda m: END + timedelta(minutes=m))


def _at_least(o) -> float:
    return -1.0 if o.relief.at_least_h is None else o.relief.at_least_h


@given(maybe_nrs, maybe_nrs, follow_ups, thresholds, next_starts)
def test_relief_bounds_are_ordered(pre, post, fus, t, nxt):
    o = session_outcome(session(pre=pre, post=post), fus, END, t, next_infusion_start=nxt)
    r = o.relief
    if r.at_least_h is not None and r.lost_by_h is not None:
        assert 0 <= r.at_least_h <= r.lost_by_h
    assert (r.lost_by_h is None) == (r.status not in (ReliefStatus.LOST, ReliefStatus.NO_RELIEF))


@given(nrs, maybe_nrs, follow_ups, thresholds, st.integers(0, 400 * 60), next_starts)
def test_a_follow_up_in_relief_never_shortens_relief(pre, post, fus, t, minutes, nxt):
    base = session_outcome(session(pre=pre, post=post), fus, END, t, next_infusion_start=nxt)
    if base.relief.level is None:
        return
    in_relief = int(base.relief.level)  # floor of the level: always still in relief
    added = session_outcome(session(pre=pre, post=post), [*fus, fu(minutes / 60, in_relief)],
                            END, t, next_infusion_start=nxt)
    assert _at_least(added) >= _at_least(base)


@given(nrs, nrs, thresholds)
def test_responder_matches_is_nrs_responder(pre, post, t):
    o = session_outcome(session(pre=pre, post=post), [], END, t)
    assert o.responder == is_nrs_responder(pre, post, t)


@given(maybe_nrs, maybe_nrs, follow_ups, thresholds, st.randoms(use_true_random=False))
def test_follow_up_order_does_not_matter(pre, post, fus, t, rnd):
    shuffled = list(fus)
    rnd.shuffle(shuffled)
    a = session_outcome(session(pre=pre, post=post), fus, END, t)
    b = session_outcome(session(pre=pre, post=post), shuffled, END, t)
    assert a == b


@given(nrs, maybe_nrs, follow_ups, follow_ups, st.integers(1, 400 * 60))
def test_follow_ups_after_the_next_infusion_never_change_relief(pre, post, fus, late, minutes):
    nxt = END + timedelta(minutes=minutes)
    after = [FollowUp(None, "", 1, nxt + (f.at - END), f.nrs) for f in late]
    a = session_outcome(session(pre=pre, post=post), fus, END, next_infusion_start=nxt)
    b = session_outcome(session(pre=pre, post=post), [*fus, *after], END,
                        next_infusion_start=nxt)
    assert a.relief == b.relief
    assert [s.status for s in a.schedule] == [s.status for s in b.schedule]


@given(follow_ups, st.integers(0, 500 * 60), next_starts)
def test_each_follow_up_fills_at_most_one_slot_inside_its_window(fus, minutes, nxt):
    slots = schedule_follow_ups(1, END, fus, FollowUpSchedule((24, 30, 72, 168), 50),
                                END + timedelta(minutes=minutes), nxt)
    used = [s.follow_up.id for s in slots if s.follow_up is not None]
    assert len(used) == len(set(used))
    for s in slots:
        assert (s.follow_up is not None) == (s.status is SlotStatus.DONE)
        if s.follow_up is not None:
            assert s.opens_at <= s.follow_up.at <= s.closes_at


@given(st.lists(st.tuples(maybe_nrs, maybe_nrs), max_size=8), thresholds)
def test_course_responder_is_a_strict_majority(scores, t):
    sessions = [session(i + 1, pre, post, START + timedelta(days=7 * i))
                for i, (pre, post) in enumerate(scores)]
    c = summarize_course(sessions, [], END, t)
    assert c.responder_count == sum(1 for o in c.sessions if o.responder)
    if c.evaluable_count:
        assert c.course_responder == (2 * c.responder_count > c.evaluable_count)
    else:
        assert c.course_responder is None
