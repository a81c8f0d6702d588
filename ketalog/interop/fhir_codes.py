"""Code systems and codes used in the FHIR export, in one place so a wrong code is fixed
once. LOINC and UCUM from CLINICAL.md "Codes for exports"; ketalog's own concepts (scales
without a LOINC code, dosing phases) use local `urn:ketalog:` systems rather than
borrowed codes that would mean something else."""

from __future__ import annotations

from dataclasses import dataclass

LOINC = "http://loinc.org"
UCUM = "http://unitsofmeasure.org"
SNOMED = "http://snomed.info/sct"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
IDENTIFIER_TYPE = "http://terminology.hl7.org/CodeSystem/v2-0203"
AE_SEVERITY = "http://terminology.hl7.org/CodeSystem/adverse-event-severity"
AE_OUTCOME = "http://terminology.hl7.org/CodeSystem/adverse-event-outcome"
PROVENANCE_ROLE = "http://terminology.hl7.org/CodeSystem/provenance-participant-type"
DATA_OPERATION = "http://terminology.hl7.org/CodeSystem/v3-DataOperation"
SIGNATURE_TYPE = "urn:iso-astm:E1762-95:2013"
AUTHOR_SIGNATURE = ("1.2.840.10065.1.12.1.1", "Author's Signature")
VERIFICATION_SIGNATURE = ("1.2.840.10065.1.12.1.5", "Verification Signature")

# ketalog's own identifier and code systems.
MRN_SYSTEM = "urn:ketalog:mrn"
SESSION_SYSTEM = "urn:ketalog:session"
USER_SYSTEM = "urn:ketalog:user"
SCALE_SYSTEM = "urn:ketalog:scale"
OBSERVATION_SYSTEM = "urn:ketalog:observation"
EXT_PHASE = "urn:ketalog:fhir:score-phase"
EXT_CONTENT_HASH = "urn:ketalog:fhir:content-hash"
EXT_ACTION = "urn:ketalog:fhir:adverse-event-action"
EXT_RESOLVED = "urn:ketalog:fhir:adverse-event-resolved"
EXT_SOURCE = "urn:ketalog:fhir:reading-source"
# R4 AdverseEvent has no status element: an entry struck as entered in error says so here.
EXT_ENTERED_IN_ERROR = "urn:ketalog:fhir:entered-in-error"

# RxNorm ingredient for ketamine (CLINICAL.md: unverified; kept in this one constant).
RXNORM_KETAMINE = "6130"


@dataclass(frozen=True)
class Code:
    system: str
    code: str
    display: str

    def coding(self) -> dict[str, str]:
        return {"system": self.system, "code": self.code, "display": self.display}


@dataclass(frozen=True)
class VitalCode:
    field: str
    codes: tuple[Code, ...]  # the first is primary; more are alternative codings
    ucum: str
    unit: str


def _loinc(code: str, display: str) -> Code:
    return Code(LOINC, code, display)


BP_PANEL = _loinc("85354-9", "Blood pressure panel with all children optional")
SBP = _loinc("8480-6", "Systolic blood pressure")
DBP = _loinc("8462-4", "Diastolic blood pressure")
BODY_WEIGHT = _loinc("29463-7", "Body weight")
PAIN_NRS = _loinc("72514-3", "Pain severity - 0-10 verbal numeric rating [Score] - Reported")
PHQ9_TOTAL = _loinc("44261-6", "Patient Health Questionnaire 9 item (PHQ-9) total score [Reported]")

# Vitals other than SBP/DBP (which travel together in the BP panel).
VITALS: dict[str, VitalCode] = {
    "map_mmhg": VitalCode("map_mmhg", (_loinc("8478-0", "Mean blood pressure"),),
                          "mm[Hg]", "mmHg"),
    "hr_bpm": VitalCode("hr_bpm", (_loinc("8867-4", "Heart rate"),), "/min", "/min"),
    "spo2_pct": VitalCode("spo2_pct", (
        _loinc("59408-5", "Oxygen saturation in Arterial blood by Pulse oximetry"),
        _loinc("2708-6", "Oxygen saturation in Arterial blood")), "%", "%"),
    "rr_per_min": VitalCode("rr_per_min", (_loinc("9279-1", "Respiratory rate"),), "/min",
                            "/min"),
    "etco2_mmhg": VitalCode("etco2_mmhg", (
        _loinc("19889-5", "Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration"),),
        "mm[Hg]", "mmHg"),
    "temp_c": VitalCode("temp_c", (_loinc("8310-5", "Body temperature"),), "Cel", "°C"),
}

# Scales: LOINC where CLINICAL.md gives one, ketalog's local code otherwise.
SCALE_CODES: dict[str, Code] = {
    "nrs": PAIN_NRS,
    "phq9": PHQ9_TOTAL,
    "moaas": Code(SCALE_SYSTEM, "moaas", "MOAA/S sedation (0-5)"),
    "cadss6": Code(SCALE_SYSTEM, "cadss6", "CADSS-6 dissociation (0-24)"),
    "aldrete": Code(SCALE_SYSTEM, "aldrete", "Modified Aldrete (0-10)"),
    "padss": Code(SCALE_SYSTEM, "padss", "PADSS adapted (0-8)"),
}

RELIEF_DURATION = Code(OBSERVATION_SYSTEM, "relief-duration",
                       "Duration of pain relief reported at follow-up")

# SNOMED CT route concepts for the routes the session screen offers.
ROUTES: dict[str, Code] = {
    "IV": Code(SNOMED, "47625008", "Intravenous route"),
    "PO": Code(SNOMED, "26643006", "Oral route"),
    "IM": Code(SNOMED, "78421000", "Intramuscular route"),
    "SL": Code(SNOMED, "37161004", "Sublingual route"),
    "IN": Code(SNOMED, "46713006", "Nasal route"),
    "SC": Code(SNOMED, "34206005", "Subcutaneous route"),
}

# Dose units the session screen offers -> UCUM.
UCUM_UNITS: dict[str, str] = {"mg": "mg", "mcg": "ug", "ug": "ug", "g": "g", "mL": "mL",
                              "ml": "mL"}

GENDERS = {"female": "female", "male": "male", "other": "other", "unknown": "unknown"}
