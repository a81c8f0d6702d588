"""Adjunct medications, side effects, scores and notes of one session, each saved the
moment it is added (services with at=None, i.e. "now").

Scale totals and their interpretation come live from domain.scales, so the nurse sees
"ready for discharge" before recording it. A refused entry keeps everything typed and
names the problem in red in its own tab. The panel does not reload itself: it emits
``changed`` and its owner reloads the whole record once and calls ``show_record`` (the
chart and header need the same reload)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from PySide6.QtCore import QEvent, QObject, Qt, Signal
from PySide6.QtGui import QBrush, QColor, QKeyEvent
from PySide6.QtWidgets import (
    QAbstractItemView,
    QCheckBox,
    QComboBox,
    QFormLayout,
    QGridLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPlainTextEdit,
    QPushButton,
    QScrollArea,
    QSpinBox,
    QSplitter,
    QTableWidget,
    QTableWidgetItem,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.entities import ADJUNCT_DRUGS, SIDE_EFFECT_KINDS, Phase, Score, Severity
from ketalog.domain.errors import PlausibilityError
from ketalog.domain.scales import MOAAS_LEVELS, SCALES, ScaleError, ScaleResult
from ketalog.services import sessions as svc
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError, WarningsNotAcknowledged
from ketalog.services.record import SessionRecord
from ketalog.ui.acknowledge_dialog import ask_reason
from ketalog.ui.entry_time import EntryTime
from ketalog.ui.feedback import ERROR_COLOUR, ERROR_STYLE, error_label
from ketalog.ui.strike import EntryKind, ask_strike_reason, show_struck, strike, struck_text
from ketalog.ui.vitals_entry import parse_number

UNITS: tuple[str, ...] = ("mg", "mcg", "mL")
ROUTES: tuple[str, ...] = ("IV", "PO", "IM", "SL", "IN", "SC")
REASONS: tuple[str, ...] = ("nausea", "hypertension", "anxiety", "emergence reaction")
ACTION_EXAMPLES = "e.g. rate halved, paused, ondansetron 4 mg IV"
SCORE_PHASES: tuple[str, ...] = (Phase.PRE.value, Phase.INTRA.value, Phase.POST.value)
OK_COLOUR = "#1b5e20"

#: Level wording for the 0-2 discharge items, best first as on the paper forms.
#: Circulation and SpO2 follow CLINICAL.md; the other texts are the commonly published
#: Modified Aldrete / PADSS wording (unverified against the full texts; clinic to check).
ITEM_LEVELS: dict[str, dict[str, tuple[str, ...]]] = {
    "aldrete": {
        "activity": ("moves 4 limbs on command", "moves 2 limbs", "moves no limbs"),
        "respiration": ("breathes deeply, coughs freely", "dyspnoea or limited breathing",
                        "apnoeic"),
        "circulation": ("BP within 20 mmHg of baseline", "BP 20-50 mmHg from baseline",
                        "BP more than 50 mmHg from baseline"),
        "consciousness": ("fully awake", "arousable on calling", "not responding"),
        "spo2": ("> 92 % on room air", "needs O2 to stay > 90 %", "< 90 % even with O2"),
    },
    "padss": {
        "vital_signs": ("BP and pulse within 20 % of baseline", "20-40 % from baseline",
                        "more than 40 % from baseline"),
        "activity": ("steady gait, no dizziness", "needs assistance", "unable to walk"),
        "nausea_vomiting": ("minimal, or oral treatment", "moderate, parenteral treatment",
                            "severe, continues despite treatment"),
        "pain": ("minimal, acceptable", "moderate", "severe"),
    },
    # PHQ-9: "over the last 2 weeks, how often...", the same four answers for every item
    "phq9": {f"item_{n}": ("nearly every day", "more than half the days", "several days",
                           "not at all") for n in range(1, 10)},
}


def _hhmm(when: datetime | None) -> str:
    """Clinic-local wall time; storage is UTC."""
    return when.astimezone().strftime("%H:%M") if when is not None else ""


def _table(name: str, headers: Sequence[str]) -> QTableWidget:
    table = QTableWidget(0, len(headers))
    table.setObjectName(name)
    table.setHorizontalHeaderLabels(list(headers))
    table.verticalHeader().hide()
    table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
    table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
    table.horizontalHeader().setStretchLastSection(True)
    return table


def _fill(table: QTableWidget, rows: Sequence[Sequence[str]],
          keys: Sequence[object] | None = None, flagged: Sequence[bool] | None = None,
          struck: Sequence[str] | None = None) -> None:
    """Replace the table's rows; ``keys`` go to column 0's UserRole so a selection maps
    back to its record id whatever the display order. A row with a ``struck`` reason
    (entered in error) is drawn struck through, the reason in its last column, and
    carries no key (it cannot be resolved or struck again)."""
    table.setRowCount(len(rows))
    for r, row in enumerate(rows):
        reason = struck[r] if struck is not None else ""
        for c, text in enumerate(row):
            item = QTableWidgetItem(struck_text(text, reason) if reason and c == len(row) - 1
                                    else text)
            if c == 0 and keys is not None:
                item.setData(Qt.ItemDataRole.UserRole, None if reason else keys[r])
            if reason:
                show_struck(item)
            elif flagged is not None and flagged[r]:
                item.setForeground(QBrush(QColor(ERROR_COLOUR)))
            table.setItem(r, c, item)
    table.resizeColumnsToContents()


def _editable_combo(name: str, items: Sequence[str]) -> QComboBox:
    """Suggestions with free text allowed; typed text is not added to the list."""
    combo = QComboBox()
    combo.setObjectName(name)
    combo.setEditable(True)
    combo.setInsertPolicy(QComboBox.InsertPolicy.NoInsert)
    combo.addItems(list(items))
    combo.setCurrentIndex(-1)
    combo.setEditText("")
    return combo


def _combo(name: str, items: Sequence[str]) -> QComboBox:
    combo = QComboBox()
    combo.setObjectName(name)
    combo.addItems(list(items))
    return combo


def _narrow(combo: QComboBox, characters: int = 16) -> QComboBox:
    """Long level descriptions must not widen the panel beside the chart: the closed box
    shows the start (the score digit first), the open list shows the whole text."""
    combo.setSizeAdjustPolicy(QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
    combo.setMinimumContentsLength(characters)
    combo.view().setTextElideMode(Qt.TextElideMode.ElideNone)
    return combo


def score_result(score: Score) -> ScaleResult | None:
    """The interpretation of a stored score, or None for a scale this version does not
    know (imported data); items are preferred so PHQ-9's item-9 warning survives."""
    spec = SCALES.get(score.scale)
    if spec is None:
        return None
    try:
        return spec.score(items=score.items) if score.items else spec.score(value=score.value)
    except ScaleError:
        return None


class EnterFilter(QObject):
    """Enter on an editable combo box runs ``action`` once. Its line edit's returnPressed
    is not enough: an Enter the line edit sees first reaches the combo box, which hands it
    back to the line edit, so returnPressed fires twice and the second add is refused."""

    def __init__(self, combo: QWidget, action: Callable[[], object]) -> None:
        super().__init__(combo)
        self.action = action
        combo.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:  # noqa: N802 (Qt override)
        if (event.type() == QEvent.Type.KeyPress and isinstance(event, QKeyEvent)
                and event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)):
            self.action()
            return True
        return super().eventFilter(watched, event)


class NoteEdit(QPlainTextEdit):
    """Ctrl+Enter submits; plain Enter stays a new line, as in any text box."""

    submitted = Signal()

    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt override)
        if (event.key() in (Qt.Key.Key_Return, Qt.Key.Key_Enter)
                and event.modifiers() & Qt.KeyboardModifier.ControlModifier):
            self.submitted.emit()
            event.accept()
            return
        super().keyPressEvent(event)


class ItemScaleBox(QGroupBox):
    """One multi-item scale with a live total: spin boxes for CADSS-6 (0-4 each), level
    combos for the discharge scores and PHQ-9, which start unselected so an unassessed
    item cannot pass as the best score."""

    def __init__(self, code: str, title: str, phases: Sequence[str], default_phase: str,
                 add: Callable[[ItemScaleBox], None]) -> None:
        super().__init__(title)
        self.code = code
        self.spec = SCALES[code]
        self.setObjectName(f"scale_{code}")
        self.inputs: dict[str, QSpinBox | QComboBox] = {}
        levels = ITEM_LEVELS.get(code)
        grid = QGridLayout(self)
        for row, item in enumerate(self.spec.items):
            widget: QSpinBox | QComboBox
            if levels is None:
                widget = QSpinBox()
                widget.setRange(item.min, item.max)
                widget.valueChanged.connect(self.update_total)
            else:
                widget = _narrow(QComboBox())
                widget.setPlaceholderText(f"choose {item.min}-{item.max}")
                for value, text in zip(range(item.max, item.min - 1, -1), levels[item.name],
                                       strict=True):
                    widget.addItem(f"{value} — {text}", value)
                widget.setCurrentIndex(-1)
                widget.currentIndexChanged.connect(self.update_total)
            widget.setObjectName(f"{code}_{item.name}")
            label = QLabel(f"{item.label} ({item.min}-{item.max})")
            label.setWordWrap(True)  # PHQ-9's item texts must not widen the panel
            label.setBuddy(widget)
            grid.addWidget(label, row, 0)
            grid.addWidget(widget, row, 1)
            self.inputs[item.name] = widget
        grid.setColumnStretch(1, 1)
        self.phase = _combo(f"{code}Phase", phases)
        self.phase.setCurrentText(default_phase)
        self.phase.setVisible(len(phases) > 1)
        self.total = QLabel()
        self.total.setObjectName(f"{code}Total")
        self.total.setWordWrap(True)
        self.button = QPushButton(f"Add {self.spec.short_name}")
        self.button.setObjectName(f"add_{code}")
        self.button.clicked.connect(lambda: add(self))
        footer = QHBoxLayout()
        footer.addWidget(self.total, 1)
        if len(phases) > 1:
            footer.addWidget(QLabel("phase"))
        else:
            footer.addWidget(QLabel(f"phase {default_phase}"))
        footer.addWidget(self.phase)
        footer.addWidget(self.button)
        grid.addLayout(footer, len(self.spec.items), 0, 1, 2)
        self.update_total()

    def items(self) -> dict[str, int]:
        """The entered items; unselected levels are left out, so scoring names them."""
        values: dict[str, int] = {}
        for name, widget in self.inputs.items():
            if isinstance(widget, QSpinBox):
                values[name] = widget.value()
            elif widget.currentIndex() >= 0:
                values[name] = int(widget.currentData())
        return values

    def update_total(self) -> None:
        items = self.items()
        if len(items) < len(self.inputs):
            missing = len(self.inputs) - len(items)
            self.total.setText(f"{sum(items.values())}/{self.spec.max_total} so far — "
                               f"{missing} item(s) still to score")
            self.total.setStyleSheet("")
            return
        result = self.spec.score(items=items)
        self.total.setText(f"{result.total}/{self.spec.max_total} — {result.interpretation}")
        colour = ERROR_COLOUR if result.flag else OK_COLOUR
        self.total.setStyleSheet(f"color: {colour}; font-weight: bold;")

    def reset(self) -> None:
        for widget in self.inputs.values():
            if isinstance(widget, QSpinBox):
                widget.setValue(widget.minimum())
            else:
                widget.setCurrentIndex(-1)
        self.update_total()

    def fields(self) -> dict[str, QWidget]:
        """Error field names ("aldrete.activity") -> input, to mark a refused item."""
        return {f"{self.code}.{name}": widget for name, widget in self.inputs.items()}


def _scrolling(tab: QWidget) -> QScrollArea:
    """A tab scrolls when the window is short: its form must not set the session
    window's minimum height (which once passed a 1366x768 screen)."""
    area = QScrollArea()
    area.setWidgetResizable(True)
    area.setFrameShape(QScrollArea.Shape.NoFrame)
    area.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
    area.setWidget(tab)
    return area


class EntriesPanel(QTabWidget):
    """The session's entries other than vitals and ketamine doses, in four tabs."""

    changed = Signal()

    def __init__(self, ctx: Context, session_id: int, parent: QWidget | None = None,
                 score_table_elsewhere: bool = False) -> None:
        """score_table_elsewhere: the owner shows `score_table` itself (the session window
        puts it beside the vitals table), so the Scores tab is all inputs."""
        super().__init__(parent)
        self.ctx, self.session_id = ctx, session_id
        self.score_table_elsewhere = score_table_elsewhere
        self.setObjectName("entriesPanel")
        self.record: SessionRecord | None = None
        self.read_only = False
        self.inputs: list[QWidget] = []
        self._infusion_state: str | None = None
        for tab, title in ((self._medications_tab(), "Medications"),
                           (self._side_effects_tab(), "Side effects"),
                           (self._scores_tab(), "Scores"), (self._notes_tab(), "Notes")):
            # the Scores tab scrolls its own inputs: a second scroll area around it left
            # them about 100 px at 1366x768
            self.addTab(tab if title == "Scores" else _scrolling(tab), title)
        self.ask_strike_reason: Callable[[str], str | None] = (
            lambda label: ask_strike_reason(self, label))
        self.strike_buttons: dict[EntryKind, QPushButton] = {}
        self._strike_targets: dict[EntryKind, tuple[QTableWidget, QLabel]] = {}
        for kind, table, error, name in (
                (EntryKind.ADJUNCT, self.med_table, self.med_error, "strikeMedication"),
                (EntryKind.SIDE_EFFECT, self.se_table, self.se_error, "strikeSideEffect"),
                (EntryKind.SCORE, self.score_table, self.score_error, "strikeScore"),
                (EntryKind.NOTE, self.note_table, self.note_error, "strikeNote")):
            self._add_strike_button(kind, table, error, name)

    # -- entered in error --------------------------------------------------------------
    def _add_strike_button(self, kind: EntryKind, table: QTableWidget, error: QLabel,
                           name: str) -> None:
        button = QPushButton("Mark entered in error…")
        button.setObjectName(name)
        button.setToolTip("Strike the selected entry through (with a reason); it stays on "
                          "the record and counts in no summary")
        button.clicked.connect(lambda: self.strike_selected(kind))
        table.itemSelectionChanged.connect(self._update_strike_buttons)
        layout = error.parentWidget().layout()  # the tab's column (tables may sit in splitters)
        assert layout is not None
        layout.addWidget(button)
        self.strike_buttons[kind] = button
        self._strike_targets[kind] = (table, error)
        button.setEnabled(False)

    def _selected_key(self, table: QTableWidget) -> int | None:
        selected = table.selectionModel().selectedRows()
        if not selected:
            return None
        key = table.item(selected[0].row(), 0).data(Qt.ItemDataRole.UserRole)
        return None if key is None else int(key)

    def _update_strike_buttons(self) -> None:
        for kind, button in self.strike_buttons.items():
            table, _ = self._strike_targets[kind]
            button.setEnabled(not self.read_only and self._selected_key(table) is not None)

    def strike_selected(self, kind: EntryKind) -> bool:
        """Mark the selected entry of a list entered in error (a reason is required)."""
        table, error = self._strike_targets[kind]
        key = self._selected_key(table)
        if key is None:
            return False
        reason = self.ask_strike_reason({EntryKind.ADJUNCT: "medication",
                                         EntryKind.SIDE_EFFECT: "side effect",
                                         EntryKind.SCORE: "score", EntryKind.NOTE: "note"}[kind])
        if not reason:
            return False
        problem = strike(self.ctx, kind, key, reason)
        if problem:
            error.setText(problem)
            error.show()
            return False
        error.hide()
        self.changed.emit()
        return True

    # -- shared ----------------------------------------------------------------------
    def _attempt(self, error: QLabel, fields: Mapping[str, QWidget],
                 action: Callable[[], object]) -> bool:
        """Run one service call; on refusal mark the named fields, show every message and
        keep the input. Emits ``changed`` only when something was stored."""
        for widget in fields.values():
            widget.setStyleSheet("")
        error.hide()
        try:
            action()
        except PlausibilityError as exc:
            problems = [(p.field, p.message) for p in exc.problems]
        except ScaleError as exc:
            problems = [(exc.field, str(exc))]
        except (ServiceError, ValueError) as exc:
            problems = [("", str(exc))]
        else:
            self.changed.emit()
            return True
        marked = [fields[name] for name, _ in problems if name in fields]
        for widget in marked:
            widget.setStyleSheet(ERROR_STYLE)
        error.setText("Not recorded: " + "; ".join(message for _, message in problems))
        error.show()
        if marked:
            marked[0].setFocus()
        return False

    def _track(self, *widgets: QWidget) -> None:
        self.inputs.extend(widgets)

    # -- medications -------------------------------------------------------------------
    def _medications_tab(self) -> QWidget:
        tab = QWidget()
        self.drug = _editable_combo("adjunctDrug", ADJUNCT_DRUGS)
        self.dose = QLineEdit()
        self.dose.setObjectName("adjunctDose")
        self.dose.setPlaceholderText("dose, e.g. 4 or 0,5")
        self.unit = _combo("adjunctUnit", UNITS)
        self.route = _combo("adjunctRoute", ROUTES)
        self.med_reason = _editable_combo("adjunctReason", REASONS)
        self._enter = EnterFilter(self.med_reason, self.add_medication)
        self.add_med_button = QPushButton("Add medication")
        self.add_med_button.setObjectName("addAdjunct")
        self.add_med_button.clicked.connect(self.add_medication)
        self.med_error = error_label("adjunctError")
        self.med_note = QLabel()
        self.med_note.setObjectName("adjunctNote")
        self.med_note.setWordWrap(True)
        self.med_note.setStyleSheet("color: #555;")
        self.med_note.hide()
        # (warnings, what) -> reason or None; tests replace it to drive the dialog
        self.ask_reason: Callable[[list, str], str | None] = (
            lambda warnings, what: ask_reason(self, warnings, what))
        self.med_table = _table("adjunctTable", ("Time", "Drug", "Dose", "Route", "Reason"))
        dose_row = QHBoxLayout()
        dose_row.addWidget(self.dose, 1)
        dose_row.addWidget(self.unit)
        dose_row.addWidget(QLabel("route"))
        dose_row.addWidget(self.route)
        form = QFormLayout()
        form.addRow("Drug", self.drug)
        form.addRow("Dose", dose_row)
        form.addRow("Reason", self.med_reason)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_med_button)
        layout = QVBoxLayout(tab)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.med_error)
        layout.addWidget(self.med_note)
        layout.addWidget(self.med_table, 1)
        self._track(self.drug, self.dose, self.unit, self.route, self.med_reason,
                    self.add_med_button)
        return tab

    def add_medication(self) -> bool:
        """Record the adjunct now; on success clear the form and return to the drug."""
        def record() -> None:
            text = self.dose.text()
            try:
                amount = parse_number(text)
            except ValueError:
                raise PlausibilityError.single(
                    "dose", text, "a number",
                    f"Dose {text.strip()!r} is not a number (enter e.g. 4 or 0,5; the unit "
                    "has its own box)") from None
            if amount is None:
                raise PlausibilityError.single("dose", "", "required", "Enter the dose")
            args = (self.ctx, self.session_id, self.drug.currentText(), amount,
                    self.unit.currentText(), self.route.currentText(),
                    self.med_reason.currentText())
            try:
                svc.add_adjunct(*args)
            except WarningsNotAcknowledged as exc:
                what = f"{self.drug.currentText().strip()} {amount:g} {self.unit.currentText()}"
                reason = self.ask_reason(exc.warnings, what)
                if reason is None:
                    raise ServiceError("not recorded: warning not acknowledged") from None
                svc.add_adjunct(*args, acknowledgement=reason)
            checked = svc.check_adjunct(self.ctx, self.session_id,
                                        self.drug.currentText(), amount,
                                        self.unit.currentText(), self.route.currentText())
            self.med_note.setText(checked.note)
            self.med_note.setVisible(bool(checked.note))

        fields = {"drug": self.drug, "dose": self.dose, "unit": self.unit,
                  "route": self.route}
        if not self._attempt(self.med_error, fields, record):
            return False
        self.drug.setCurrentIndex(-1)
        self.drug.setEditText("")
        self.dose.clear()
        self.unit.setCurrentIndex(0)
        self.route.setCurrentIndex(0)
        self.med_reason.setCurrentIndex(-1)
        self.med_reason.setEditText("")
        self.drug.setFocus()
        return True

    # -- side effects ------------------------------------------------------------------
    def _side_effects_tab(self) -> QWidget:
        tab = QWidget()
        self.se_kind = _combo("sideEffectKind", SIDE_EFFECT_KINDS)
        self.se_severity = _combo("sideEffectSeverity", [s.value for s in Severity])
        self.se_action = QLineEdit()
        self.se_action.setObjectName("sideEffectAction")
        self.se_action.setPlaceholderText(ACTION_EXAMPLES)
        self.se_action.returnPressed.connect(self.add_side_effect)
        self.se_resolved = QCheckBox("resolved now")
        self.se_resolved.setObjectName("sideEffectResolvedNow")
        self.add_se_button = QPushButton("Add side effect")
        self.add_se_button.setObjectName("addSideEffect")
        self.add_se_button.clicked.connect(self.add_side_effect)
        self.resolve_button = QPushButton("Mark resolved")
        self.resolve_button.setObjectName("resolveSideEffect")
        self.resolve_button.setToolTip("Resolve the selected ongoing side effect now")
        self.resolve_button.clicked.connect(self.resolve_selected)
        self.se_error = error_label("sideEffectError")
        self.se_table = _table("sideEffectTable",
                               ("Onset", "Kind", "Severity", "Action", "Resolved"))
        self.se_table.itemSelectionChanged.connect(self._update_resolve_button)
        form = QFormLayout()
        form.addRow("Kind", self.se_kind)
        form.addRow("Severity", self.se_severity)
        form.addRow("Action taken", self.se_action)
        form.addRow("", self.se_resolved)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_se_button)
        buttons.addWidget(self.resolve_button)
        layout = QVBoxLayout(tab)
        layout.addLayout(form)
        layout.addLayout(buttons)
        layout.addWidget(self.se_error)
        layout.addWidget(self.se_table, 1)
        self._track(self.se_kind, self.se_severity, self.se_action, self.se_resolved,
                    self.add_se_button)
        self._update_resolve_button()
        return tab

    def add_side_effect(self) -> bool:
        resolved = self.ctx.clock.now() if self.se_resolved.isChecked() else None
        fields = {"kind": self.se_kind, "resolved_at": self.se_resolved}
        if not self._attempt(self.se_error, fields, lambda: svc.add_side_effect(
                self.ctx, self.session_id, self.se_kind.currentText(),
                self.se_severity.currentText(), self.se_action.text(),
                resolved_at=resolved)):
            return False
        self.se_action.clear()
        self.se_resolved.setChecked(False)
        self.se_kind.setFocus()
        return True

    def selected_ongoing_side_effect(self) -> int | None:
        """Id of the selected side effect if it is still ongoing, else None."""
        selected = self.se_table.selectionModel().selectedRows()
        if not selected or self.record is None:
            return None
        row = selected[0].row()
        key = self.se_table.item(row, 0).data(Qt.ItemDataRole.UserRole)
        effect = next((s for s in self.record.side_effects if s.id == key), None)
        return None if effect is None or effect.resolved_at is not None else effect.id

    def _update_resolve_button(self) -> None:
        self.resolve_button.setEnabled(not self.read_only
                                       and self.selected_ongoing_side_effect() is not None)

    def resolve_selected(self) -> bool:
        effect_id = self.selected_ongoing_side_effect()
        if effect_id is None:
            self.se_error.setText("Select an ongoing side effect in the list first.")
            self.se_error.show()
            return False
        return self._attempt(self.se_error, {},
                             lambda: svc.resolve_side_effect(self.ctx, effect_id))

    # -- scores ------------------------------------------------------------------------
    def _scores_tab(self) -> QWidget:
        inner = QWidget()
        column = QVBoxLayout(inner)
        nrs = QGroupBox("NRS pain (0-10)")
        nrs.setObjectName("scale_nrs")
        self.nrs_phase = _combo("nrsPhase", SCORE_PHASES)
        self.nrs_value = QSpinBox()
        self.nrs_value.setObjectName("nrsValue")
        # starts (and returns to) empty after each score: a left-over 7 must not be
        # recorded again as the post score; -1 shows as "—" and is refused
        self.nrs_value.setRange(-1, 10)
        self.nrs_value.setSpecialValueText("—")
        self.nrs_value.setValue(-1)
        self.add_nrs_button = QPushButton("Add NRS")
        self.add_nrs_button.setObjectName("add_nrs")
        self.add_nrs_button.clicked.connect(self.add_nrs)
        self._nrs_enter = EnterFilter(self.nrs_value, self.add_nrs)  # Enter records the NRS
        row = QHBoxLayout(nrs)
        row.addWidget(QLabel("phase"))
        row.addWidget(self.nrs_phase)
        row.addWidget(QLabel("pain"))
        row.addWidget(self.nrs_value)
        row.addStretch(1)
        row.addWidget(self.add_nrs_button)
        moaas = QGroupBox("MOAA/S sedation (0-5)")
        moaas.setObjectName("scale_moaas")
        self.moaas_value = QComboBox()
        self.moaas_value.setSizeAdjustPolicy(
            QComboBox.SizeAdjustPolicy.AdjustToMinimumContentsLengthWithIcon)
        self.moaas_value.setMinimumContentsLength(20)
        self.moaas_value.setObjectName("moaasValue")
        self.moaas_value.setPlaceholderText("choose the level")
        for level in sorted(MOAAS_LEVELS, reverse=True):
            self.moaas_value.addItem(f"{level} — {MOAAS_LEVELS[level]}", level)
        self.moaas_value.setCurrentIndex(-1)
        self.moaas_phase = _combo("moaasPhase", SCORE_PHASES)
        self.moaas_phase.setCurrentText(Phase.INTRA.value)
        self.add_moaas_button = QPushButton("Add MOAA/S")
        self.add_moaas_button.setObjectName("add_moaas")
        self.add_moaas_button.clicked.connect(self.add_moaas)
        rows = QVBoxLayout(moaas)  # the level texts get the whole width (they were cut)
        rows.addWidget(self.moaas_value)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(QLabel("phase"))
        row.addWidget(self.moaas_phase)
        row.addWidget(self.add_moaas_button)
        rows.addLayout(row)
        self.scale_boxes = {
            "cadss6": ItemScaleBox("cadss6", "CADSS-6 dissociation (each 0-4, total 0-24)",
                                   (Phase.INTRA.value, Phase.POST.value), Phase.INTRA.value,
                                   self.add_item_scale),
            "aldrete": ItemScaleBox("aldrete", "Modified Aldrete at discharge (0-10)",
                                    (Phase.POST.value,), Phase.POST.value,
                                    self.add_item_scale),
            "padss": ItemScaleBox("padss", "PADSS, adapted (0-8)", (Phase.POST.value,),
                                  Phase.POST.value, self.add_item_scale),
            # mood indication: before the infusion (the baseline) and after it
            "phq9": ItemScaleBox("phq9", "PHQ-9 depression (each 0-3, total 0-27)",
                                 (Phase.PRE.value, Phase.POST.value), Phase.PRE.value,
                                 self.add_item_scale),
        }
        for box in (nrs, moaas, *self.scale_boxes.values()):
            column.addWidget(box)
        column.addStretch(1)
        scroll = QScrollArea()
        scroll.setObjectName("scoreInputs")
        scroll.setWidgetResizable(True)
        scroll.setHorizontalScrollBarPolicy(Qt.ScrollBarPolicy.ScrollBarAlwaysOff)
        scroll.setWidget(inner)
        self.score_error = error_label("scoreError")
        self.score_time = EntryTime(self.ctx.clock, "score")
        time_row = QHBoxLayout()
        time_row.addWidget(QLabel("Time of the scores below:"))
        time_row.addWidget(self.score_time)
        time_row.addStretch(1)
        self.score_table = _table("scoreTable",
                                  ("Time", "Scale", "Phase", "Total", "Interpretation"))
        tab = QWidget()
        layout = QVBoxLayout(tab)
        layout.setContentsMargins(4, 4, 4, 4)
        layout.addLayout(time_row)
        layout.addWidget(self.score_error)
        if self.score_table_elsewhere:
            layout.addWidget(scroll, 1)
        else:
            split = QSplitter(Qt.Orientation.Vertical)
            split.addWidget(scroll)
            split.addWidget(self.score_table)
            split.setSizes([300, 150])
            layout.addWidget(split, 1)
        self._track(self.score_time, self.nrs_phase, self.nrs_value, self.add_nrs_button,
                    self.moaas_value,
                    self.moaas_phase, self.add_moaas_button, *self.scale_boxes.values())
        return tab

    def _add_score(self, code: str, phase: str, fields: Mapping[str, QWidget], *,
                   value: int | None = None, items: Mapping[str, int] | None = None) -> bool:
        if not self._attempt(self.score_error, fields, lambda: svc.add_score(
                self.ctx, self.session_id, code, phase, value=value, items=items,
                at=self.score_time.value())):
            return False
        self.score_time.reset()
        return True

    def add_nrs(self) -> bool:
        if self.nrs_value.value() < 0:
            self.score_error.setText("Not recorded: NRS: choose the pain score (0-10)")
            self.score_error.show()
            self.nrs_value.setStyleSheet(ERROR_STYLE)
            self.nrs_value.setFocus()
            return False
        if not self._add_score("nrs", self.nrs_phase.currentText(),
                               {"nrs": self.nrs_value}, value=self.nrs_value.value()):
            return False
        self.nrs_value.setValue(-1)
        return True

    def add_moaas(self) -> bool:
        def record() -> None:
            if self.moaas_value.currentIndex() < 0:
                raise ScaleError("moaas", None, "0-5", "MOAA/S: choose the level (0-5)")
            svc.add_score(self.ctx, self.session_id, "moaas", self.moaas_phase.currentText(),
                          value=int(self.moaas_value.currentData()),
                          at=self.score_time.value())

        if not self._attempt(self.score_error, {"moaas": self.moaas_value}, record):
            return False
        self.moaas_value.setCurrentIndex(-1)
        self.score_time.reset()
        return True

    def add_item_scale(self, box: ItemScaleBox) -> bool:
        if not self._add_score(box.code, box.phase.currentText(), box.fields(),
                               items=box.items()):
            return False
        box.reset()
        return True

    # -- notes -------------------------------------------------------------------------
    def _notes_tab(self) -> QWidget:
        tab = QWidget()
        self.note_text = NoteEdit()
        self.note_text.setObjectName("noteText")
        self.note_text.setPlaceholderText("Note (Ctrl+Enter adds it)")
        self.note_text.setTabChangesFocus(True)
        self.note_text.setFixedHeight(80)
        self.note_text.submitted.connect(self.add_note)
        self.add_note_button = QPushButton("Add note")
        self.add_note_button.setObjectName("addNote")
        self.add_note_button.setToolTip("Ctrl+Enter")
        self.add_note_button.clicked.connect(self.add_note)
        self.note_error = error_label("noteError")
        self.note_table = _table("noteTable", ("Time", "Author", "Note"))
        self.note_table.setWordWrap(True)
        buttons = QHBoxLayout()
        buttons.addStretch(1)
        buttons.addWidget(self.add_note_button)
        layout = QVBoxLayout(tab)
        layout.addWidget(self.note_text)
        layout.addLayout(buttons)
        layout.addWidget(self.note_error)
        layout.addWidget(self.note_table, 1)
        self._track(self.note_text, self.add_note_button)
        return tab

    def add_note(self) -> bool:
        if not self._attempt(self.note_error, {"text": self.note_text},
                             lambda: svc.add_note(self.ctx, self.session_id,
                                                  self.note_text.toPlainText())):
            return False
        self.note_text.clear()
        self.note_text.setFocus()
        return True

    # -- refresh and state -------------------------------------------------------------
    def show_record(self, record: SessionRecord) -> None:
        """Refill the four lists from a freshly loaded record."""
        self.record = record
        _fill(self.med_table, [(_hhmm(a.at), a.drug, f"{a.dose:g} {a.unit}", a.route,
                                "  ".join([a.reason, *(f"⚠ {k.kind} warning acknowledged: "
                                                       f"{k.response}" for k in
                                                       record.acknowledgements_of(a.uuid))]
                                          ).strip())
                               for a in record.adjuncts], keys=[a.id for a in record.adjuncts],
              struck=[a.struck_reason for a in record.adjuncts],
              flagged=[bool(record.acknowledgements_of(a.uuid)) for a in record.adjuncts])
        _fill(self.se_table, [(_hhmm(s.onset_at), s.kind, s.severity.value, s.action,
                               _hhmm(s.resolved_at) if s.resolved_at else "ongoing")
                              for s in record.side_effects],
              keys=[s.id for s in record.side_effects],
              flagged=[s.resolved_at is None for s in record.side_effects],
              struck=[s.struck_reason for s in record.side_effects])
        rows: list[tuple[str, ...]] = []
        flags: list[bool] = []
        for score in record.scores:
            result = score_result(score)
            spec = SCALES.get(score.scale)
            rows.append((_hhmm(score.at), spec.short_name if spec else score.scale,
                         score.phase.value, str(score.value),
                         result.interpretation if result else ""))
            flags.append(bool(result and result.flag))
        _fill(self.score_table, rows, keys=[s.id for s in record.scores], flagged=flags,
              struck=[s.struck_reason for s in record.scores])
        _fill(self.note_table, [(_hhmm(n.at), record.user_name(n.author_id), n.text)
                                for n in record.notes], keys=[n.id for n in record.notes],
              struck=[n.struck_reason for n in record.notes])
        self.note_table.resizeRowsToContents()
        self._default_nrs_phase(record.infusion_state)
        self._update_resolve_button()
        self._update_strike_buttons()

    def _default_nrs_phase(self, state: str) -> None:
        """Follow the infusion (pre before start, intra while running, post after stop),
        but only when it changes, so a phase the nurse picked is not overridden."""
        if state == self._infusion_state:
            return
        self._infusion_state = state
        phase = {"not_started": Phase.PRE, "running": Phase.INTRA, "paused": Phase.INTRA,
                 "stopped": Phase.POST}.get(state, Phase.PRE)
        self.nrs_phase.setCurrentText(phase.value)

    def set_read_only(self, read_only: bool) -> None:
        """Disable every input (signed or completed session, or a non-clinical user); the
        lists stay enabled so they can be scrolled and selected."""
        self.read_only = read_only
        for widget in self.inputs:
            widget.setEnabled(not read_only)
        self._update_resolve_button()
        if hasattr(self, "strike_buttons"):
            self._update_strike_buttons()
