"""The session header: the patient's two identifiers, allergies (highlighted), weight,
protocol, series, the session clock and the vitals-due reminder, always in view."""

from __future__ import annotations

from datetime import datetime, timedelta

from PySide6.QtWidgets import QFrame, QGridLayout, QLabel, QWidget

from ketalog.domain.chair_state import session_state
from ketalog.domain.dosing import kg_to_lb
from ketalog.domain.entities import SessionStatus
from ketalog.domain.monitor_silence import silent_since
from ketalog.services.record import SessionRecord
from ketalog.services.settings import DEFAULT_MONITORING_MIN


def elapsed_text(start: datetime | None, now: datetime) -> str:
    if start is None:
        return "not started"
    seconds = max(0, int((now - start).total_seconds()))
    return f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"


def vitals_due(record: SessionRecord, now: datetime, last_bp_at: datetime | None,
               default_interval_min: int = DEFAULT_MONITORING_MIN) -> tuple[str, bool]:
    """(text, overdue). A gap in blood pressure is itself a finding (CLINICAL.md). A
    session without a protocol uses the clinic's default interval."""
    if record.session.status is not SessionStatus.IN_PROGRESS:
        return "", False
    interval = (record.protocol.monitoring_interval_min if record.protocol
                else default_interval_min)
    last = max((t for t in (last_bp_at, record.session.infusion_start_at) if t is not None),
               default=None)
    if last is None:
        return "BP due now", True
    due = last + timedelta(minutes=interval)
    if now > due:
        late = int((now - due).total_seconds() // 60)
        return f"BP OVERDUE by {late} min (every {interval} min)", True
    return f"next BP due {due.astimezone():%H:%M} (every {interval} min)", False


class SessionHeader(QFrame):
    def __init__(self, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.setObjectName("sessionHeader")
        self.setFrameShape(QFrame.Shape.StyledPanel)
        self.setStyleSheet("#sessionHeader { background: #f3f6fa; }")
        self.labels: dict[str, QLabel] = {}
        self.last_bp_at: datetime | None = None  # kept current by the session window
        self.default_interval_min = DEFAULT_MONITORING_MIN  # clinic setting, set by the window
        self.device_times: list[datetime] = []  # monitor-feed readings, kept by the window
        grid = QGridLayout(self)
        grid.setContentsMargins(8, 4, 8, 4)
        grid.setHorizontalSpacing(18)
        positions = {"patient": (0, 0), "mrn": (0, 1), "dob": (0, 2), "allergies": (0, 3),
                     "clock": (0, 4), "weight": (1, 0), "protocol": (1, 1), "series": (1, 2),
                     "status": (1, 3), "due": (1, 4), "total": (0, 5), "silent": (1, 5)}
        for key, (row, col) in positions.items():
            label = QLabel()
            label.setObjectName(f"header_{key}")
            grid.addWidget(label, row, col)
            self.labels[key] = label
        self.labels["patient"].setStyleSheet("font-size: 16px; font-weight: bold;")
        self.labels["clock"].setStyleSheet("font-size: 16px; font-family: monospace;")
        self.labels["total"].setStyleSheet("font-size: 14px; font-weight: bold;")
        grid.setColumnStretch(3, 1)

    def show_record(self, record: SessionRecord, now: datetime) -> None:
        p, s = record.patient, record.session
        self.labels["patient"].setText(p.display_name)
        self.labels["mrn"].setText(f"MRN <b>{p.mrn}</b>")
        self.labels["dob"].setText(f"DOB {p.birth_date.isoformat()} ({p.age_on(now.date())} y)")
        allergies = self.labels["allergies"]
        listed = "; ".join(a.text for a in record.allergies) or p.allergies.strip()
        if listed:
            allergies.setText(f"ALLERGIES: {listed}")
            allergies.setStyleSheet("background: #b00020; color: white; font-weight: bold; "
                                    "padding: 2px 6px; border-radius: 3px;")
        else:
            allergies.setText("Allergies: none recorded")
            allergies.setStyleSheet("color: #444;")
        self.labels["weight"].setText(f"Weight {s.weight_kg:.1f} kg ({kg_to_lb(s.weight_kg):.0f} lb)")
        self.labels["protocol"].setText(
            f"Protocol: {record.protocol.name if record.protocol else 'none'}")
        self.labels["series"].setText(f"{record.series_text}"
                                      f"{' · ' + s.chair if s.chair else ''}")
        self.tick(record, now)

    def tick(self, record: SessionRecord, now: datetime) -> None:
        end = record.session.infusion_end_at
        self.labels["clock"].setText(
            f"Infusion {elapsed_text(record.session.infusion_start_at, end or now)}")
        self.labels["status"].setText(
            f"Status: {session_state(record.session.status, record.doses, now).text}")
        total = record.total_mg(now)
        weight = record.session.weight_kg
        self.labels["total"].setText(f"{total:.1f} mg · {total / weight:.2f} mg/kg")
        text, overdue = vitals_due(record, now, self.last_bp_at, self.default_interval_min)
        due = self.labels["due"]
        due.setText(text)
        due.setStyleSheet("color: white; background: #c05000; font-weight: bold; padding: 2px 6px;"
                          if overdue else "color: #333;")
        open_ = record.session.status in (SessionStatus.DRAFT, SessionStatus.IN_PROGRESS)
        since = silent_since(self.device_times, now) if open_ else None
        self.labels["silent"].setText(
            f"monitor silent since {since.astimezone():%H:%M}" if since else "")
        self.labels["silent"].setStyleSheet("color: #b00020; font-size: 11px;")
