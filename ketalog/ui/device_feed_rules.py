"""The feed dialog's other tabs: the monitors seen this week (messages, quarantined, the
clock against the workstation, codes the code map does not know) and the clinic's rules
(clock tolerance, MRN authority, its own code rows, bed/device -> chair mappings). Each
change is saved with a reason (audited)."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QComboBox,
    QDoubleSpinBox,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QSpinBox,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.services.context import Context
from ketalog.services.device_feed_config import (
    MATCHES,
    MAX_CLOCK_AHEAD_MIN,
    NOT_RECORDED,
    VITALS,
    CodeRow,
    FeedRules,
    add_clinic_code,
    clinic_code_rows,
    feed_config,
    feed_rules,
    map_bed,
    save_feed_rules,
)
from ketalog.services.device_feed_overview import monitor_overview, unknown_total
from ketalog.services.errors import ServiceError


def _skew(seconds: float | None) -> str:
    if seconds is None:
        return "-"
    if seconds > 0:
        return f"{seconds:.0f} s ahead"
    return f"readings {-seconds:.0f} s old on arrival"


class MonitorsTab(QWidget):
    COLUMNS = ("Monitor (source)", "Messages", "Quarantined", "Last message",
               "Clock vs. workstation", "Unknown codes")

    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.table = QTableWidget(0, len(self.COLUMNS))
        self.table.setObjectName("feedMonitors")
        self.table.setHorizontalHeaderLabels(self.COLUMNS)
        self.table.setEditTriggers(QTableWidget.EditTrigger.NoEditTriggers)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.unknown = QLabel()
        self.unknown.setObjectName("feedUnknownCodes")
        self.unknown.setWordWrap(True)
        refresh = QPushButton("&Refresh")
        refresh.clicked.connect(self.refresh)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Monitors that sent messages in the last 7 days"))
        layout.addWidget(self.table)
        layout.addWidget(self.unknown)
        layout.addWidget(refresh)
        self.refresh()

    def refresh(self) -> None:
        summaries = monitor_overview(self.ctx)
        self.table.setRowCount(len(summaries))
        for row, s in enumerate(summaries):
            unknown = ", ".join(f"{code} ({n})" for code, n in s.unknown.most_common(5))
            cells = (s.source, str(s.messages), str(s.quarantined),
                     s.last_at.astimezone().strftime("%d %b %H:%M") if s.last_at else "-",
                     _skew(s.clock_ahead_s), unknown or "none")
            for col, text in enumerate(cells):
                self.table.setItem(row, col, QTableWidgetItem(text))
        self.table.resizeColumnsToContents()
        total = unknown_total(summaries)
        self.unknown.setText(
            f"{sum(total.values())} observation(s) with {len(total)} code(s) the code map "
            "does not know were ignored; add them under Codes and beds if they are vitals."
            if total else "Every observation code received is in the code map.")


class RulesTab(QWidget):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        rules = feed_rules(ctx.store)
        self.reason = QLineEdit()
        self.reason.setObjectName("feedRuleReason")
        self.reason.setPlaceholderText("Why (kept in the audit log)")
        self.tolerance = QDoubleSpinBox()
        self.tolerance.setObjectName("feedClockTolerance")
        self.tolerance.setRange(0, MAX_CLOCK_AHEAD_MIN)
        self.tolerance.setSuffix(" min")
        self.tolerance.setValue(rules.clock_ahead_min)
        self.authority = QLineEdit(rules.assigning_authority)
        self.authority.setObjectName("feedAuthority")
        self.authority.setPlaceholderText("any (PID-3 CX.4 of the clinic's MRNs)")
        save_rules = QPushButton("Save &rules")
        save_rules.clicked.connect(self.save_rules)
        self.match = QComboBox()
        self.match.addItems(MATCHES)
        self.match.setCurrentText("TEXT")
        self.code = QLineEdit()
        self.code.setObjectName("feedCodeKey")
        self.code.setPlaceholderText("e.g. NIBP SYS, 150301, 8480-6")
        self.vital = QComboBox()
        self.vital.setObjectName("feedCodeVital")
        self.vital.addItems([*VITALS, NOT_RECORDED])
        self.priority = QSpinBox()
        self.priority.setRange(0, 9)
        self.source = QLineEdit()
        self.source.setObjectName("feedCodeSource")
        self.source.setPlaceholderText("where this is documented (manual, page)")
        add_code = QPushButton("&Add code")
        add_code.setObjectName("feedAddCode")
        add_code.clicked.connect(self.add_code)
        self.bed = QLineEdit()
        self.bed.setObjectName("feedBedLabel")
        self.bed.setPlaceholderText("bed label (PV1-3) or device id (EUI-64, MSH-3)")
        self.chair = QLineEdit()
        self.chair.setObjectName("feedBedChair")
        self.chair.setPlaceholderText("chair, e.g. Chair 2 (empty removes the mapping)")
        map_button = QPushButton("&Map bed")
        map_button.setObjectName("feedMapBed")
        map_button.clicked.connect(self.map_bed)
        self.message = QLabel()
        self.message.setObjectName("feedRuleMessage")
        self.message.setWordWrap(True)
        self.current = QLabel()
        self.current.setWordWrap(True)

        rules_box = QGroupBox("Rules")
        form = QFormLayout(rules_box)
        form.addRow("Monitor clocks may run ahead by", self.tolerance)
        form.addRow("MRN assigning authority", self.authority)
        form.addRow(save_rules)
        code_box = QGroupBox("Add a code the clinic's monitors send")
        code_form = QFormLayout(code_box)
        row = QHBoxLayout()
        row.addWidget(self.match)
        row.addWidget(self.code)
        code_form.addRow("Match / code", row)
        code_form.addRow("ketalog vital", self.vital)
        code_form.addRow("Priority (0 wins)", self.priority)
        code_form.addRow("Source", self.source)
        code_form.addRow(add_code)
        bed_box = QGroupBox("Map a monitor's bed or device to a chair")
        bed_form = QFormLayout(bed_box)
        bed_form.addRow("Bed or device", self.bed)
        bed_form.addRow("Chair", self.chair)
        bed_form.addRow(map_button)
        layout = QVBoxLayout(self)
        layout.addWidget(QLabel("Reason for a change"))
        layout.addWidget(self.reason)
        layout.addWidget(rules_box)
        layout.addWidget(code_box)
        layout.addWidget(bed_box)
        layout.addWidget(self.message)
        layout.addWidget(self.current)
        self.show_current()

    def show_current(self) -> None:
        codes = ", ".join(f"{r.key} -> {r.vital}" for r in clinic_code_rows(self.ctx.store))
        beds = ", ".join(f"{k} -> {v}" for k, v in feed_config(self.ctx.store).beds.items())
        self.current.setText(f"Clinic codes: {codes or 'none'}\nBed mappings: {beds or 'none'}")

    def _do(self, action: str, call: object) -> bool:
        try:
            call()  # type: ignore[operator]
        except (PlausibilityError, ServiceError) as exc:
            self.message.setStyleSheet("color: #b00020;")
            self.message.setText(str(exc))
            return False
        self.message.setStyleSheet("")
        self.message.setText(f"{action} saved (audited).")
        self.show_current()
        return True

    def save_rules(self) -> bool:
        return self._do("Rules", lambda: save_feed_rules(
            self.ctx, FeedRules(self.tolerance.value(), self.authority.text()),
            self.reason.text()))

    def add_code(self) -> bool:
        row = CodeRow(self.match.currentText(), self.code.text(), self.vital.currentText(),
                      self.priority.value(), self.source.text())
        return self._do(f"Code {row.key}", lambda: add_clinic_code(self.ctx, row,
                                                                     self.reason.text()))

    def map_bed(self) -> bool:
        return self._do(f"Bed {self.bed.text()}", lambda: map_bed(
            self.ctx, self.bed.text(), self.chair.text(), self.reason.text()))
