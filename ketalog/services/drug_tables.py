"""The cited tables shipped in resources/clinical: drug classes (for the allergy
cross-check) and the formulary a new clinic starts with."""

from __future__ import annotations

import sys
from functools import lru_cache
from pathlib import Path

from ketalog.domain.allergies import DrugClassTable
from ketalog.domain.formulary import FormularyEntry, parse_csv
from ketalog.services.errors import service_boundary


@service_boundary
def clinical_folder() -> Path:
    """resources/clinical in a PyInstaller bundle, else in the source tree."""
    bundle = getattr(sys, "_MEIPASS", None)
    base = Path(bundle) if bundle else Path(__file__).resolve().parents[2]
    return base / "resources" / "clinical"


@service_boundary
@lru_cache(maxsize=1)
def drug_class_table() -> DrugClassTable:
    folder = clinical_folder()
    return DrugClassTable.from_csv((folder / "drug_classes.csv").read_text(encoding="utf-8"),
                                   (folder / "class_names.csv").read_text(encoding="utf-8"))


@service_boundary
def seed_formulary() -> list[FormularyEntry]:
    return parse_csv((clinical_folder() / "formulary.csv").read_text(encoding="utf-8"))
