"""Planning treatment series: open a new series (kind, sessions planned, start date,
goal), plan the next session's day, close a series with a reason. The services check
and audit; these dialogs show their refusals beside the fields and keep the input."""

from __future__ import annotations

from datetime import date

from PySide6.QtCore import QDate
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDateEdit,
    QDialog,
    QFormLayout,
    QLabel,
    QLineEdit,
    QSpinBox,
    QWidget,
)

from ketalog.domain.dosing import is_mood_indication
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.series import MAX_PLANNED_SESSIONS, SeriesKind, SeriesProgress
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.series import (
    NewSeries,
    close_series,
    plan_next_session,
    start_series,
    today_of,
)
from ketalog.ui.feedback import ERROR_STYLE, error_label, finish_form

DEFAULT_GOALS = {
    "pain": "NRS down by at least 30 %, relief lasting a week or more",
    "mood": "PHQ-9 response (50 % lower than the first), remission below 5",
}


def qdate(day: date) -> QDate:
    return QDate(day.year, day.month, day.day)


def pydate(value: QDate) -> date:
    return date(value.year(), value.month(), value.day())


def _date_edit(day: date, name: str) -> QDateEdit:
    edit = QDateEdit(qdate(day))
    edit.setObjectName(name)
    edit.setDisplayFormat("yyyy-MM-dd")
    edit.setCalendarPopup(True)
    return edit


class NewSeriesDialog(QDialog):
    """Start a series for a patient; `series_id` holds the new one after OK."""

    def __init__(self, ctx: Context, patient_id: int, indication: str,
                 protocol_id: int | None = None, default_sessions: int = 6,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.patient_id, self.protocol_id = ctx, patient_id, protocol_id
        self.series_id: int | None = None
        self.setObjectName("newSeriesDialog")
        self.setWindowTitle("New treatment series")
        today = today_of(ctx)
        self.kind = QComboBox()
        self.kind.setObjectName("seriesKind")
        for kind in SeriesKind:
            self.kind.addItem(kind.value.capitalize(), kind.value)
        self.planned = QSpinBox()
        self.planned.setObjectName("seriesPlanned")
        self.planned.setRange(1, MAX_PLANNED_SESSIONS)
        self.planned.setValue(default_sessions)
        self.default_sessions = default_sessions
        self.start_date = _date_edit(today, "seriesStart")
        self.goal = QLineEdit(DEFAULT_GOALS["mood" if is_mood_indication(indication)
                                            else "pain"])
        self.goal.setObjectName("seriesGoal")
        self.plan_next = QCheckBox("Plan the next session on")
        self.plan_next.setObjectName("seriesPlanNext")
        self.next_on = _date_edit(today, "seriesNextOn")
        self.next_on.setEnabled(False)
        self.plan_next.toggled.connect(self.next_on.setEnabled)
        self.kind.currentIndexChanged.connect(self._kind_changed)
        self.error = error_label("seriesError")
        form = QFormLayout()
        form.addRow("&Kind", self.kind)
        form.addRow("Sessions &planned", self.planned)
        form.addRow("&Start date", self.start_date)
        form.addRow("&Goal", self.goal)
        form.addRow(self.plan_next, self.next_on)
        finish_form(self, form, self.error, self.save, ok_text="Start series")
        self.setMinimumWidth(520)

    def _kind_changed(self) -> None:
        """Sensible counts: a course is the protocol's series, a booster one infusion."""
        kind = SeriesKind(self.kind.currentData())
        self.planned.setValue({SeriesKind.INDUCTION: self.default_sessions,
                               SeriesKind.MAINTENANCE: 6, SeriesKind.BOOSTER: 1}[kind])

    def save(self) -> None:
        for widget in (self.goal, self.planned, self.start_date, self.next_on):
            widget.setStyleSheet("")
        new = NewSeries(self.patient_id, str(self.kind.currentData()), self.planned.value(),
                        pydate(self.start_date.date()), self.goal.text(),
                        protocol_id=self.protocol_id,
                        next_session_on=(pydate(self.next_on.date())
                                         if self.plan_next.isChecked() else None))
        try:
            series = start_series(self.ctx, new)
        except PlausibilityError as exc:
            fields = {"goal": self.goal, "planned_sessions": self.planned,
                      "start_date": self.start_date, "next_session_on": self.next_on}
            for problem in exc.problems:
                widget = fields.get(problem.field)
                if widget is not None:
                    widget.setStyleSheet(ERROR_STYLE)
            self.error.setText("; ".join(p.message for p in exc.problems))
            self.error.show()
            return
        except ServiceError as exc:
            self.error.setText(f"Not saved: {exc}")
            self.error.show()
            return
        self.series_id = series.id
        self.accept()


class PlanNextSessionDialog(QDialog):
    """Set or clear the day of a series' next session, with an optional reason."""

    def __init__(self, ctx: Context, current: SeriesProgress,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.current = ctx, current
        self.setObjectName("planNextDialog")
        self.setWindowTitle("Plan the next session")
        today = today_of(ctx)
        s = current.series
        self.day = _date_edit(s.next_session_on or today, "nextSessionOn")
        self.clear = QCheckBox("No date planned (clear it)")
        self.clear.setObjectName("clearNextSession")
        self.clear.toggled.connect(lambda on: self.day.setEnabled(not on))
        self.reason = QLineEdit()
        self.reason.setObjectName("planReason")
        self.reason.setPlaceholderText("optional, e.g. moved at the patient's request")
        self.error = error_label("seriesError")
        form = QFormLayout()
        form.addRow("Series", QLabel(f"{current.label()} · goal: {s.goal}"))
        form.addRow("Next session &on", self.day)
        form.addRow("", self.clear)
        form.addRow("&Reason", self.reason)
        finish_form(self, form, self.error, self.save, save=True)

    def save(self) -> None:
        day = None if self.clear.isChecked() else pydate(self.day.date())
        try:
            plan_next_session(self.ctx, self.current.series.id, day,  # type: ignore[arg-type]
                              self.reason.text().strip())
        except (PlausibilityError, ServiceError) as exc:
            self.day.setStyleSheet(ERROR_STYLE)
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()


class CloseSeriesDialog(QDialog):
    """End a series before its planned sessions are done; the reason is required."""

    def __init__(self, ctx: Context, current: SeriesProgress,
                 parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx, self.current = ctx, current
        self.setObjectName("closeSeriesDialog")
        self.setWindowTitle("Close the series")
        self.reason = QLineEdit()
        self.reason.setObjectName("closeReason")
        self.reason.setPlaceholderText("e.g. goal met; stopped for side effects; "
                                       "patient's choice")
        self.error = error_label("seriesError")
        form = QFormLayout()
        form.addRow("Series", QLabel(current.label()))
        form.addRow("&Reason", self.reason)
        finish_form(self, form, self.error, self.save, ok_text="Close series")
        self.setMinimumWidth(460)

    def save(self) -> None:
        try:
            close_series(self.ctx, self.current.series.id, self.reason.text())  # type: ignore[arg-type]
        except ServiceError as exc:
            self.reason.setStyleSheet(ERROR_STYLE)
            self.error.setText(str(exc))
            self.error.show()
            return
        self.accept()
