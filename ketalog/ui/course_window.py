"""The course view: how pain responds across a series of infusions and how long relief
lasts. Top: NRS before and after each infusion with its dose; bottom: every session's
relief curve (post score at day 0, then follow-ups by days since that infusion). The
numbers beside it come from ketalog.domain.course, the same as the course PDF."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from html import escape

import pyqtgraph as pg
from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import (
    QDialog,
    QGroupBox,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QPushButton,
    QSplitter,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.course import relief_text
from ketalog.domain.dosing import is_mood_indication
from ketalog.domain.entities import FollowUp, Role
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.follow_up_schedule import ScheduledFollowUp, SlotStatus
from ketalog.domain.mood_course import MoodSource, outcome_text
from ketalog.domain.scales import PHQ9_FLAG_AT
from ketalog.domain.series import SeriesProgress, SeriesState
from ketalog.domain.wording import counted, hours_text
from ketalog.services.context import Context
from ketalog.services.course import CourseSummary, load_course
from ketalog.services.errors import ServiceError
from ketalog.services.sessions import acknowledge_safety_flag
from ketalog.services.views import view_patient
from ketalog.ui.follow_up_dialog import FollowUpDialog
from ketalog.ui.series_dialogs import CloseSeriesDialog, NewSeriesDialog, PlanNextSessionDialog
from ketalog.ui.strike import EntryKind, ask_strike_reason, strike
from ketalog.ui.table_models import RowsModel, local_date, rows_view

MISSED_AFTER = timedelta(days=14)  # an older unanswered call is missed, not a to-do
PALETTE = ("#1565c0", "#c62828", "#2e7d32", "#6a1b9a", "#ef6c00", "#00838f", "#5d4037",
           "#ad1457")


def _next_text(p: SeriesProgress) -> str:
    if p.state is not SeriesState.OPEN:
        return "closed" if p.series.closed_reason else "—"
    day = p.series.next_session_on
    if day is None:
        return "not planned"
    return f"{day} OVERDUE {p.overdue_days} d" if p.overdue_days else day.isoformat()


class CourseWindow(QMainWindow):
    def __init__(self, ctx: Context, patient_id: int, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id = ctx, patient_id
        self.setObjectName("courseWindow")
        view_patient(ctx, patient_id, "course view")
        self.header = QLabel()
        self.header.setObjectName("courseHeader")
        self.header.setStyleSheet("font-size: 15px; padding: 4px; background: #f3f6fa;")
        self.numbers = QLabel()
        self.numbers.setObjectName("courseNumbers")
        self.numbers.setWordWrap(True)
        self.numbers.setTextFormat(Qt.TextFormat.RichText)
        self.view = pg.GraphicsLayoutWidget()
        self.view.setObjectName("courseChart")
        self.sessions_plot = self.view.addPlot(row=0, col=0, title="NRS before (○) and after "
                                               "(●) each infusion; bars: total mg (right)")
        self.relief_plot = self.view.addPlot(row=1, col=0, title="Relief: NRS after each "
                                             "infusion by days since it (one line each)")
        self.mood_plot = self.view.addPlot(row=2, col=0, title="PHQ-9 by date: ● at the "
                                           "infusion, □ at follow-up calls; dashed: 10")
        self._setup_plots()
        self.slots: RowsModel[ScheduledFollowUp] = RowsModel([
            ("Infusion", lambda s: self._number.get(s.session_id, "?")),
            ("Call", lambda s: s.label),
            ("Due", lambda s: f"{s.due_at.astimezone():%Y-%m-%d %H:%M}"),
            ("Status", lambda s: s.status.value.upper() if s.status is SlotStatus.OVERDUE
             else s.status.value),
        ])
        self.slot_view = rows_view(self.slots, "followUpsDue")
        self.slot_view.activated.connect(lambda _i: self.record_selected())
        self.record_button = QPushButton("&Record follow-up...")
        self.record_button.setObjectName("recordFollowUp")
        self.record_button.clicked.connect(lambda: self.record_selected())
        self.series_model: RowsModel[SeriesProgress] = RowsModel([
            ("Series", lambda p: p.short_label()),
            ("Next session", _next_text),
            ("Since", lambda p: p.series.start_date.isoformat()),
            ("Goal / outcome", lambda p: p.series.goal + (
                f" — closed: {p.series.closed_reason}" if p.series.closed_reason else "")),
        ])
        self.series_view = rows_view(self.series_model, "seriesTable", stretch_last=True)
        self.series_view.setWordWrap(True)  # a goal is a sentence: wrapped, never cut
        self.legend = QLabel(
            "○ NRS before · ● NRS after · <span style='color:#c62828'>▲</span> side effects "
            "recorded · <span style='color:#6a1b9a'>▮</span> total mg (right axis) · relief: "
            "one line per infusion, coloured as in the key (#n = infusion number)")
        self.legend.setObjectName("courseLegend")
        self.legend.setWordWrap(True)
        self.series_buttons = {}
        for name, text, slot in (("newSeries", "&New series...", self.new_series),
                                 ("planNext", "&Plan next session...", self.plan_next),
                                 ("closeSeries", "C&lose series...", self.close_series)):
            button = QPushButton(text)
            button.setObjectName(name)
            button.clicked.connect(lambda _c=False, s=slot: s())
            self.series_buttons[name] = button
        self.safety = QLabel()
        self.safety.setObjectName("safetyFlags")
        self.safety.setWordWrap(True)
        self.safety.setStyleSheet("background: #b00020; color: white; font-weight: bold; "
                                  "padding: 4px;")
        self.safety_button = QPushButton("Ac&knowledge safety flag...")
        self.safety_button.setObjectName("ackSafety")
        self.safety_button.clicked.connect(lambda: self.acknowledge_safety())
        self.ask_safety_note: Callable[[str], str | None] = self._ask_safety_note
        self.recorded: RowsModel[FollowUp] = RowsModel([
            ("Date", lambda f: f"{f.at.astimezone():%Y-%m-%d %H:%M}"),
            ("NRS", lambda f: "" if f.nrs is None else str(f.nrs)),
            ("PHQ-9", lambda f: "" if f.phq9 is None else f"{f.phq9}"
             + (" total only" if f.phq9_total_only else "")
             + (" ⚑ item 9" + ("" if f.safety_ack_at else " NOT ACKNOWLEDGED")
                if f.safety_flag else "")),
            ("Source", lambda f: f.source),
            ("Note", lambda f: f"ENTERED IN ERROR: {f.struck_reason} — {f.note}"
             if f.struck_reason else f.note),
        ])
        self.recorded_view = rows_view(self.recorded, "recordedFollowUps", stretch_last=True)
        self.recorded_view.selectionModel().selectionChanged.connect(
            lambda *_: self._update_strike_follow_up())
        self.strike_follow_up_button = QPushButton("Mark entered in error...")
        self.strike_follow_up_button.setObjectName("strikeFollowUp")
        self.strike_follow_up_button.clicked.connect(lambda: self.strike_selected_follow_up())
        self.ask_strike_reason: Callable[[str], str | None] = (
            lambda label: ask_strike_reason(self, label))
        self._number: dict[int, int] = {}
        self.summary: CourseSummary | None = None
        self._layout()
        for keys, slot, name in (("F5", self.reload, "actionReloadCourse"),
                                 ("Ctrl+W", self.close, "actionCloseCourse")):
            action = QAction(self)
            action.setObjectName(name)
            action.setShortcut(QKeySequence(keys))
            action.triggered.connect(lambda _checked=False, s=slot: s())
            self.addAction(action)
        self.reload()
        self.resize(1366, 740)

    def _setup_plots(self) -> None:
        p = self.sessions_plot
        p.setLabel("left", "NRS 0-10")
        p.setLabel("bottom", "infusion #")
        p.setYRange(0, 10.5, padding=0)
        p.showGrid(x=False, y=True, alpha=0.2)
        p.setMouseEnabled(y=False)
        self.dose_box = pg.ViewBox()
        p.showAxis("right")
        p.scene().addItem(self.dose_box)
        p.getAxis("right").linkToView(self.dose_box)
        p.getAxis("right").setLabel("total mg")
        self.dose_box.setXLink(p)
        p.vb.sigResized.connect(lambda: self.dose_box.setGeometry(p.vb.sceneBoundingRect()))
        r = self.relief_plot
        r.setLabel("left", "NRS 0-10")
        r.setLabel("bottom", "days since the infusion")
        for plot in (p, r):  # a relief under a day read "(x0.001)" with ticks up to 900
            for side in ("left", "bottom", "right"):
                plot.getAxis(side).enableAutoSIPrefix(False)
        r.setYRange(0, 10.5, padding=0)
        r.showGrid(x=True, y=True, alpha=0.2)
        self.relief_legend = r.addLegend(offset=(-10, 10), labelTextSize="8pt")
        m = self.mood_plot
        m.setLabel("left", "PHQ-9 0-27")
        m.setAxisItems({"bottom": pg.DateAxisItem()})
        m.setYRange(0, 27.5, padding=0)
        m.showGrid(x=True, y=True, alpha=0.2)
        m.setMouseEnabled(y=False)

    def _layout(self) -> None:
        side = QGroupBox("Course")
        side_layout = QVBoxLayout(side)
        side_layout.addWidget(self.safety)
        side_layout.addWidget(self.safety_button)
        side_layout.addWidget(self.numbers)
        side_layout.addWidget(QLabel("<b>Treatment series</b> (newest first)"))
        side_layout.addWidget(self.series_view, 1)
        series_row = QHBoxLayout()
        series_row.addStretch(1)
        for button in self.series_buttons.values():
            series_row.addWidget(button)
        side_layout.addLayout(series_row)
        side_layout.addWidget(QLabel("<b>Follow-up calls</b> (due, upcoming, and overdue "
                                     "for up to 14 days)"))
        side_layout.addWidget(self.slot_view, 1)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.record_button)
        side_layout.addLayout(row)
        side_layout.addWidget(QLabel("<b>Follow-ups recorded</b> (newest first)"))
        side_layout.addWidget(self.recorded_view, 1)
        strike_row = QHBoxLayout()
        strike_row.addStretch(1)
        strike_row.addWidget(self.strike_follow_up_button)
        side_layout.addLayout(strike_row)
        chart = QWidget()
        chart_layout = QVBoxLayout(chart)
        chart_layout.setContentsMargins(0, 0, 0, 0)
        chart_layout.addWidget(self.legend)
        chart_layout.addWidget(self.view, 1)
        body = QSplitter(Qt.Orientation.Horizontal)
        body.addWidget(chart)
        body.addWidget(side)
        body.setSizes([900, 460])
        central = QWidget()
        layout = QVBoxLayout(central)
        layout.addWidget(self.header)
        layout.addWidget(body, 1)
        self.setCentralWidget(central)

    # -- data ---------------------------------------------------------------
    def reload(self) -> None:
        self.summary = course = load_course(self.ctx, self.patient_id,
                                            now=self.ctx.clock.now())
        p = course.patient
        self.setWindowTitle(f"Course — {p.display_name} — MRN {p.mrn} — DOB {p.birth_date}")
        allergies = (f"<span style='background:#b00020;color:white'>&nbsp;ALLERGIES: "
                     f"{p.allergies}&nbsp;</span>" if p.allergies.strip() else
                     "allergies: none recorded")
        self.header.setText(f"<b>{p.display_name}</b> &nbsp; MRN <b>{p.mrn}</b> &nbsp; "
                            f"DOB {p.birth_date.isoformat()} &nbsp; {p.indication or ''} "
                            f"&nbsp; {allergies}")
        o = course.outcome
        self._number = {s.session.session_id: i for i, s in enumerate(o.sessions, start=1)}
        self._draw()
        self.numbers.setText(self._numbers_text() + self._mood_text())
        self._show_safety_flags()
        self.recorded.set_rows(course.recorded_follow_ups)
        self._update_strike_follow_up()
        now = self.ctx.clock.now()
        slots = [s for outcome in o.sessions for s in outcome.schedule
                 if s.status in (SlotStatus.DUE, SlotStatus.UPCOMING)
                 or (s.status is SlotStatus.OVERDUE and now - s.closes_at <= MISSED_AFTER)]
        order = {SlotStatus.OVERDUE: 0, SlotStatus.DUE: 1, SlotStatus.UPCOMING: 2}
        self.slots.set_rows(sorted(slots, key=lambda s: (order[s.status], s.due_at)))
        self.series_model.set_rows(course.series)
        self.series_view.resizeRowsToContents()

    def _selected_follow_up(self) -> FollowUp | None:
        rows = self.recorded_view.selectionModel().selectedRows()
        return self.recorded.row_at(rows[0].row()) if rows else None

    def _update_strike_follow_up(self) -> None:
        chosen = self._selected_follow_up()
        self.strike_follow_up_button.setEnabled(
            chosen is not None and not chosen.struck_reason
            and bool(self.ctx.user.roles & {Role.NURSE, Role.PROVIDER}))

    def strike_selected_follow_up(self) -> bool:
        """A follow-up recorded by mistake: struck with a reason (it sits outside the
        signature, so this works on signed sessions too), never deleted."""
        chosen = self._selected_follow_up()
        if chosen is None or chosen.struck_reason:
            return False
        reason = self.ask_strike_reason("follow-up")
        if not reason:
            return False
        problem = strike(self.ctx, EntryKind.FOLLOW_UP, int(chosen.id or 0), reason)
        if problem:
            self.safety.setVisible(True)
            self.safety.setText(escape(problem))
            return False
        self.reload()
        return True

    def _show_safety_flags(self) -> None:
        """PHQ-9 item 9 above 0 at a follow-up: shown until a clinician acknowledges it."""
        assert self.summary is not None
        flags = self.summary.safety_flags
        self.safety.setVisible(bool(flags))
        self.safety_button.setVisible(bool(flags))
        self.safety_button.setEnabled(bool(flags) and bool(
            self.ctx.user.roles & {Role.NURSE, Role.PROVIDER}))
        self.safety.setText("<br>".join(
            f"⚑ PHQ-9 item 9 (thoughts of death or self-harm) = {f.phq9_items.get('item_9')} "
            f"at the follow-up of {f.at.astimezone():%Y-%m-%d %H:%M} — not yet acknowledged"
            for f in flags))

    def _ask_safety_note(self, text: str) -> str | None:
        note, ok = QInputDialog.getText(self, "Acknowledge safety flag",
                                        f"{text}\n\nWhat was done (e.g. safety plan reviewed "
                                        "by phone, provider informed)?")
        return note.strip() if ok and note.strip() else None

    def acknowledge_safety(self) -> bool:
        """Acknowledge the oldest open flag (audited), with what was done."""
        if self.summary is None or not self.summary.safety_flags:
            return False
        flag = self.summary.safety_flags[0]
        note = self.ask_safety_note(f"PHQ-9 item 9 = {flag.phq9_items.get('item_9')} at the "
                                    f"follow-up of {flag.at.astimezone():%Y-%m-%d %H:%M}")
        if not note:
            return False
        try:
            acknowledge_safety_flag(self.ctx, int(flag.id or 0), note)
        except (PlausibilityError, ServiceError) as exc:
            self.safety.setText(f"{self.safety.text()}<br>Not acknowledged: {escape(str(exc))}")
            return False
        self.reload()
        return True

    def _mood_text(self) -> str:
        """PHQ-9 response and remission on two lines of their own (never one verdict)."""
        assert self.summary is not None
        if not self.summary.shows_mood or self.summary.mood.latest is None:
            return ""
        response, remission = outcome_text(self.summary.mood)
        return f"<br><b>{escape(response)}</b><br><b>{escape(remission)}</b>"

    def _numbers_text(self) -> str:
        assert self.summary is not None
        o = self.summary.outcome
        if not o.sessions:
            return "No infusions yet."
        verdict = {True: "<b style='color:#1b5e20'>RESPONDER</b>",
                   False: "<b>not a responder</b>", None: "not evaluable"}[o.course_responder]
        mean = ("—" if o.mean_nrs_pre is None or o.mean_nrs_post is None
                else f"{o.mean_nrs_pre:.1f} → {o.mean_nrs_post:.1f}")
        rate = "—" if o.responder_rate_pct is None else f"{o.responder_rate_pct:.0f} %"
        relief = ("—" if o.median_relief_at_least_h is None else
                  f"≥ {hours_text(o.median_relief_at_least_h)}")
        last = o.sessions[-1]
        effects = ", ".join(f"{k} {v}" for k, v in o.side_effects_by_kind.items()) or "none"
        return (f"{counted(o.session_count, 'infusion')}, {o.total_mg:.0f} mg in all<br>"
                f"mean NRS before → after: <b>{mean}</b><br>"
                f"responders (≥ {o.threshold_pct:g} % less pain): {o.responder_count} of "
                f"{o.evaluable_count} ({rate}) → course {verdict}<br>"
                f"median relief: <b>{relief}</b> ({o.relief_known_count} with follow-ups)<br>"
                f"latest infusion: {local_date(last.session.infusion_start)}, relief "
                f"{relief_text(last)}<br>side effects: {effects}")

    def _draw(self) -> None:
        assert self.summary is not None
        o = self.summary.outcome
        p, r = self.sessions_plot, self.relief_plot
        p.clear()
        r.clear()
        self.dose_box.clear()
        xs = list(range(1, len(o.sessions) + 1))
        doses = [s.session.total_mg for s in o.sessions]
        if xs:
            self.dose_box.addItem(pg.BarGraphItem(x=xs, height=doses, width=0.5,
                                                  brush=pg.mkBrush(106, 27, 154, 45),
                                                  pen=pg.mkPen(106, 27, 154, 90)))
            self.dose_box.setYRange(0, max(doses + [1.0]) * 1.2, padding=0)
        for x, s in zip(xs, o.sessions, strict=True):
            pre, post = s.session.nrs_pre, s.session.nrs_post
            if pre is not None and post is not None:
                p.plot([x, x], [pre, post], pen=pg.mkPen("#444", width=1.5))
            if pre is not None:
                p.plot([x], [pre], pen=None, symbol="o", symbolBrush="w",
                       symbolPen=pg.mkPen("#222", width=1.5), symbolSize=10)
            if post is not None:
                p.plot([x], [post], pen=None, symbol="o", symbolBrush="#222", symbolSize=9)
            if s.session.side_effects:
                p.plot([x], [10.2], pen=None, symbol="t", symbolBrush="#c62828",
                       symbolSize=9)
        p.setXRange(0.5, max(xs + [1]) + 0.5, padding=0)
        for i, s in enumerate(o.sessions):
            points = [(0.0, float(s.session.nrs_post))] if s.session.nrs_post is not None else []
            points += [(v.hours_after / 24, float(v.follow_up.nrs)) for v in s.follow_ups
                       if v.counted and v.follow_up.nrs is not None]
            if not points:
                continue
            colour = PALETTE[i % len(PALETTE)]
            r.plot([d for d, _ in points], [n for _, n in points], pen=pg.mkPen(colour, width=1.6),
                   symbol="s", symbolSize=6, symbolBrush=colour, name=f"#{i + 1}")
        r.enableAutoRange(axis=pg.ViewBox.XAxis)
        self._draw_mood()

    def _draw_mood(self) -> None:
        assert self.summary is not None
        m, mood = self.mood_plot, self.summary.mood
        m.clear()
        m.setVisible(self.summary.shows_mood)
        if not self.summary.shows_mood:
            return
        m.addLine(y=PHQ9_FLAG_AT, pen=pg.mkPen("#999", width=1, style=Qt.PenStyle.DashLine))
        if not mood.points:
            m.setTitle("PHQ-9: none recorded yet (record it at the infusion or at a "
                       "follow-up call)")
            return
        m.setTitle("PHQ-9 by date: ● at the infusion, □ at follow-up calls; dashed: 10")
        xs = [p.at.timestamp() for p in mood.points]
        m.plot(xs, [p.phq9 for p in mood.points], pen=pg.mkPen("#6a1b9a", width=1.4))
        for source, symbol in ((MoodSource.SESSION, "o"), (MoodSource.FOLLOW_UP, "s")):
            chosen = [p for p in mood.points if p.source is source]
            m.plot([p.at.timestamp() for p in chosen], [p.phq9 for p in chosen], pen=None,
                   symbol=symbol, symbolSize=8, symbolBrush="#6a1b9a" if symbol == "o" else "w",
                   symbolPen=pg.mkPen("#6a1b9a", width=1.4))
        m.setXRange(min(xs) - 86400, max(xs) + 86400, padding=0)

    # -- actions --------------------------------------------------------------
    def record_selected(self, at: object = None) -> int | None:
        """Open the follow-up form for the selected call (or the first due one)."""
        rows = self.slot_view.selectionModel().selectedRows()
        if rows:
            slot = self.slots.row_at(rows[0].row())
        elif self.slots.rowCount():
            slot = self.slots.row_at(0)
        else:
            return None
        assert self.summary is not None
        number = self._number.get(slot.session_id, 0)
        title = (f"{self.summary.patient.display_name} (MRN {self.summary.mrn}) — infusion "
                 f"#{number}, {slot.label} call due {slot.due_at.astimezone():%Y-%m-%d %H:%M}")
        dialog = FollowUpDialog(self.ctx, slot.session_id, title,
                                is_mood_indication(self.summary.patient.indication), self)
        if self.open_dialog(dialog):
            self.reload()
            return dialog.saved_id
        return None

    def selected_series(self) -> SeriesProgress | None:
        rows = self.series_view.selectionModel().selectedRows()
        if rows:
            return self.series_model.row_at(rows[0].row())
        open_ones = [p for p in self.series_model.rows() if p.state is SeriesState.OPEN]
        return open_ones[0] if open_ones else None

    def new_series(self) -> int | None:
        assert self.summary is not None
        latest = self.summary.series[0].series if self.summary.series else None
        dialog = NewSeriesDialog(self.ctx, self.patient_id, self.summary.patient.indication,
                                 latest.protocol_id if latest else None,
                                 latest.planned_sessions if latest else 6, self)
        if self.open_dialog(dialog):
            self.reload()
            return dialog.series_id
        return None

    def plan_next(self) -> bool:
        current = self.selected_series()
        if current is None or current.state is not SeriesState.OPEN:
            self.statusBar().showMessage("Select an open series to plan its next session", 5000)
            return False
        if self.open_dialog(PlanNextSessionDialog(self.ctx, current, self)):
            self.reload()
            return True
        return False

    def close_series(self) -> bool:
        current = self.selected_series()
        if current is None or current.state is not SeriesState.OPEN:
            self.statusBar().showMessage("Select an open series to close it", 5000)
            return False
        if self.open_dialog(CloseSeriesDialog(self.ctx, current, self)):
            self.reload()
            return True
        return False

    def open_dialog(self, dialog: QDialog) -> bool:
        """Separate so tests can fill the form instead of a person."""
        return bool(dialog.exec())
