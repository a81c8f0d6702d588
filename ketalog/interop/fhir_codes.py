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
    # 19891-1 is the partial pressure (mmHg), what ketalog records; 19889-5 would be the
    # volume fraction (%).
    "etco2_mmhg": VitalCode("etco2_mmhg", (
        _loinc("19891-1", "Carbon dioxide [Partial pressure] in Exhaled gas --at end expiration"),),
        "mm[Hg]", "mmHg"),
    "temp_c": VitalCode("temp_c", (_loinc("8310-5", "Body temperature"),), "Cel", "°C"),
}

# The FHIR R4 vital-signs profiles (http://hl7.org/fhir/R4/observation-vitalsigns.html):
# the specific one where the vital has it, the base profile for MAP and EtCO2.
PROFILE_BASE = "http://hl7.org/fhir/StructureDefinition/"
VITAL_PROFILES: dict[str, str] = {
    "bp": PROFILE_BASE + "bp", "hr_bpm": PROFILE_BASE + "heartrate",
    "spo2_pct": PROFILE_BASE + "oxygensat", "rr_per_min": PROFILE_BASE + "resprate",
    "temp_c": PROFILE_BASE + "bodytemp", "weight": PROFILE_BASE + "bodyweight",
    "map_mmhg": PROFILE_BASE + "vitalsigns", "etco2_mmhg": PROFILE_BASE + "vitalsigns",
}

# PHQ-9 items, as the LOINC panel 44249-1 "PHQ-9 quick depression assessment panel"
# lists them (in HL7's published PHQ-9 Questionnaire built on that panel).
PHQ9_ITEMS: dict[str, Code] = {
    "item_1": _loinc("44250-9", "Little interest or pleasure in doing things in last 2 weeks"),
    "item_2": _loinc("44255-8", "Feeling down, depressed, or hopeless in last 2 weeks"),
    "item_3": _loinc("44259-0", "Trouble falling or staying asleep, or sleeping too much in "
                                "last 2 weeks"),
    "item_4": _loinc("44254-1", "Feeling tired or having little energy in last 2 weeks"),
    "item_5": _loinc("44251-7", "Poor appetite or overeating in last 2 weeks"),
    "item_6": _loinc("44258-2", "Feeling bad about yourself - or that you are a failure or "
                                "have let yourself or your family down in last 2 weeks"),
    "item_7": _loinc("44252-5", "Trouble concentrating on things, such as reading the "
                                "newspaper or watching television in last 2 weeks"),
    "item_8": _loinc("44253-3", "Moving or speaking so slowly that other people could have "
                                "noticed. Or the opposite - being so fidgety or restless "
                                "that you have been moving around a lot more than usual in "
                                "last 2 weeks"),
    "item_9": _loinc("44260-8", "Thoughts that you would be better off dead, or of hurting "
                                "yourself in some way in last 2 weeks"),
}

# RxNorm ingredients of the adjuncts the session screen offers, where verified (the CPIC
# drug table lists RxNorm 26225 ondansetron and 6960 midazolam); others travel as text.
ADJUNCT_RXNORM: dict[str, Code] = {
    "ondansetron": Code(RXNORM, "26225", "ondansetron"),
    "midazolam": Code(RXNORM, "6960", "midazolam"),
}

# Encounter.type: SNOMED CT 18629005 "Administration of drug or medicament" (procedure).
ENCOUNTER_TYPE = Code(SNOMED, "18629005", "Administration of drug or medicament")

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
