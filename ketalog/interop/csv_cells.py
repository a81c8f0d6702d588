"""Cells of the CSV files ketalog writes and reads, safe in a spreadsheet.

Formula injection (OWASP "CSV Injection"): a cell that begins with = + - @, a tab or a
carriage return is run as a formula by Excel, LibreOffice and Google Sheets. Every cell
ketalog writes that begins so, or that begins with the escaping quote itself, gets a
leading single quote; reading ketalog's own files removes exactly one, so a round trip
is exact (a note "=SUM(A1)" comes back as written, and so does "'quoted").

Spreadsheets re-saving a file in another language write their own words for booleans
(WAHR/FALSCH, VRAI/FAUX...): the reader takes them all."""

from __future__ import annotations

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
ESCAPE = "'"

# Spreadsheet TRUE/FALSE as Excel and LibreOffice write them in their languages, and
# yes/no words: English, German, French, Spanish, Italian, Dutch, Portuguese, Swedish,
# Danish, Norwegian, Finnish, Polish, Czech, Hungarian, Russian, Turkish.
TRUE_WORDS = frozenset({
    "1", "true", "yes", "y", "x", "wahr", "ja", "vrai", "oui", "verdadero", "sí", "si",
    "vero", "waar", "verdadeiro", "sim", "sant", "sand", "sann", "tosi", "kyllä",
    "prawda", "tak", "pravda", "ano", "igaz", "igen", "истина", "да", "doğru", "evet"})
FALSE_WORDS = frozenset({
    "", "0", "false", "no", "n", "falsch", "nein", "faux", "non", "falso", "onwaar", "nee",
    "não", "nao", "falskt", "nej", "falsk", "usann", "nei", "epätosi", "ei", "fałsz", "nie",
    "nepravda", "ne", "hamis", "nem", "ложь", "нет", "yanlış", "hayır"})


def neutralise(text: str) -> str:
    """The cell as written: a leading quote where a spreadsheet would see a formula."""
    if text.startswith(FORMULA_START) or text.startswith(ESCAPE):
        return ESCAPE + text
    return text


def restore(text: str) -> str:
    """A cell of a file ketalog wrote, as it was before `neutralise` (its exact inverse:
    a quote that `neutralise` would not have added is kept)."""
    rest = text[1:]
    if text.startswith(ESCAPE) and (rest.startswith(FORMULA_START) or rest.startswith(ESCAPE)):
        return rest
    return text


def flag_word(text: str) -> bool | None:
    """True/False for a yes/no cell in any of the languages above; None if not one."""
    value = text.strip().casefold()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    return None
