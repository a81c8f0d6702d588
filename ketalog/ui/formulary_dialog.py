"""The adjunct formulary for admins: drug, class, route, usual unit, usual dose range and
the source of that range. Rows are never deleted (a retired row stops warning); every
change is audited with the reason typed here."""

from __future__ import annotations

from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFormLayout,
    QHBoxLayout,
    QLineEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from ketalog.domain.errors import PlausibilityError
from ketalog.domain.formulary import UNITS, FormularyEntry
from ketalog.services.context import Context
from ketalog.services.errors import ServiceError
from ketalog.services.formulary import formulary, save_entry
from ketalog.ui.feedback import error_label
from ketalog.ui.table_models import RowsModel, rows_view
from ketalog.ui.vitals_entry import parse_number


def formulary_model() -> RowsModel[FormularyEntry]:
    return RowsModel[FormularyEntry]([
        ("Drug", lambda e: e.drug), ("Class", lambda e: e.drug_class),
        ("Route", lambda e: e.route), ("Usual dose", lambda e: e.range_text),
        ("Retired", lambda e: "retired" if e.retired else ""),
        ("Source", lambda e: e.source)])


class FormularyDialog(QDialog):
    def __init__(self, ctx: Context, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self.ctx = ctx
        self.setObjectName("formularyDialog")
        self.setWindowTitle("Adjunct formulary")
        self.model = formulary_model()
        self.view = rows_view(self.model, "formularyTable", stretch_last=True, alternate=True)
        self.editing: FormularyEntry | None = None
        self.drug, self.drug_class, self.route = QLineEdit(), QLineEdit(), QLineEdit()
        self.unit = QComboBox()
        self.unit.addItems(UNITS)
        self.dose_min, self.dose_max = QLineEdit(), QLineEdit()
        self.source, self.reason = QLineEdit(), QLineEdit()
        self.retired = QCheckBox("retired (no longer checked)")
        for name, widget in (("Drug", self.drug), ("Class", self.drug_class),
                             ("Route", self.route), ("Unit", self.unit),
                             ("Min", self.dose_min), ("Max", self.dose_max),
                             ("Source", self.source), ("Reason", self.reason),
                             ("Retired", self.retired)):
            widget.setObjectName(f"formulary{name}")
        self.source.setPlaceholderText("where the usual dose comes from (label, guideline, "
                                       "clinic policy)")
        self.reason.setPlaceholderText("reason for the change (audited)")
        self.error = error_label("formularyError")
        dose = QHBoxLayout()
        for w in (self.dose_min, self.dose_max, self.unit):
            dose.addWidget(w)
        form = QFormLayout()
        form.addRow("&Drug", self.drug)
        form.addRow("&Class", self.drug_class)
        form.addRow("&Route", self.route)
        form.addRow("Usual dose (min, max, unit)", dose)
        form.addRow("&Source", self.source)
        form.addRow("", self.retired)
        form.addRow("Reaso&n", self.reason)
        self.new_button = QPushButton("&New row")
        self.new_button.clicked.connect(self.new_row)
        self.save_button = QPushButton("&Save row")
        self.save_button.setObjectName("formularySave")
        self.save_button.clicked.connect(self.save)
        row = QHBoxLayout()
        row.addStretch(1)
        row.addWidget(self.new_button)
        row.addWidget(self.save_button)
        close = QDialogButtonBox(QDialogButtonBox.StandardButton.Close)
        close.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        layout.addWidget(self.view, 1)
        layout.addLayout(form)
        layout.addWidget(self.error)
        layout.addLayout(row)
        layout.addWidget(close)
        self.view.selectionModel().currentRowChanged.connect(lambda cur, _p: self.edit(cur.row()))
        self.resize(900, 600)
        self.refresh()

    def refresh(self) -> None:
        self.model.set_rows(formulary(self.ctx, include_retired=True))

    def new_row(self) -> None:
        self.editing = None
        for w in (self.drug, self.drug_class, self.route, self.dose_min, self.dose_max,
                  self.source, self.reason):
            w.clear()
        self.retired.setChecked(False)
        self.drug.setFocus()

    def edit(self, row: int) -> None:
        if row < 0:
            return
        e = self.model.row_at(row)
        self.editing = e
        self.drug.setText(e.drug)
        self.drug_class.setText(e.drug_class)
        self.route.setText(e.route)
        self.unit.setCurrentText(e.unit)
        self.dose_min.setText("" if e.dose_min is None else f"{e.dose_min:g}")
        self.dose_max.setText("" if e.dose_max is None else f"{e.dose_max:g}")
        self.source.setText(e.source)
        self.retired.setChecked(e.retired)

    def save(self) -> bool:
        self.error.hide()
        try:
            entry = FormularyEntry(
                self.drug.text().strip(), self.drug_class.text().strip(),
                self.route.text().strip(), self.unit.currentText(),
                parse_number(self.dose_min.text()), parse_number(self.dose_max.text()),
                self.source.text().strip(), id=self.editing.id if self.editing else None,
                retired=self.retired.isChecked())
            save_entry(self.ctx, entry, self.reason.text())
        except PlausibilityError as exc:
            self.error.setText("Not saved: " + "; ".join(p.message for p in exc.problems))
            self.error.show()
            return False
        except ValueError:
            self.error.setText("Not saved: the doses must be numbers (e.g. 4 or 0,5)")
            self.error.show()
            return False
        except ServiceError as exc:
            self.error.setText(f"Not saved: {exc}")
            self.error.show()
            return False
        self.refresh()
        self.reason.clear()
        return True
