"""French number formatting: `1 234 567 €`, `12,5 %`."""

from __future__ import annotations

import math

NBSP = "\u00a0"  # no-break space: the figure never wraps between its digits and its unit

MOIS = ("janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre",
        "novembre", "décembre")


def _missing(value: object) -> bool:
    """No value: None, NaN, or pandas' missing markers (a population unknown in an Int64 column is `pd.NA`)."""
    if value is None or type(value).__name__ in ("NAType", "NaTType"):
        return True
    try:
        return math.isnan(value)  # type: ignore[arg-type]
    except TypeError:
        return False


def insecables(text: str) -> str:
    """French typography: the spaces before « : ; ! ? » and inside « guillemets » do not break, so no line
    starts with a colon or a closing guillemet and none ends with an opening one (a 1366 px title wrapped as
    "… sa contribution" / ": +1 254 050 €", a 1920 px one as "devant «" / "Emploi » (15 %)")."""
    for before, after in ((" :", f"{NBSP}:"), (" ;", f"{NBSP};"), (" !", f"{NBSP}!"), (" ?", f"{NBSP}?"),
                          ("« ", f"«{NBSP}"), (" »", f"{NBSP}»")):
        text = text.replace(before, after)
    return text


def nombre(value: float | int | None, decimales: int = 0) -> str:
    """`1 234 567` or `12,5`; an em dash when there is no value."""
    if value is None or _missing(value):
        return "—"
    text = f"{float(value):,.{decimales}f}"
    return text.replace(",", NBSP).replace(".", ",")


def accord(value: float | int | None, singulier: str, pluriel: str | None = None) -> str:
    """The words in agreement with the number `value` (French: singular below 2, so 0 and 1,5 too; plural when
    there is no number). `pluriel` defaults to `singulier` + "s"; give it for several words or an irregular plural
    ("nouveau porteur", "nouveaux porteurs"; "qui reçoit", "qui reçoivent")."""
    plural = pluriel if pluriel is not None else singulier + "s"
    if value is None or _missing(value):
        return plural
    return singulier if abs(float(value)) < 2 else plural


def compte(value: float | int | None, singulier: str, pluriel: str | None = None, decimales: int = 0) -> str:
    """`1 action`, `0 action`, `12 actions`, `2 dossiers non financés`: the number in French and its words in
    agreement (`accord`)."""
    return f"{nombre(value, decimales)} {accord(value, singulier, pluriel)}"


def periode(debut: int, fin: int) -> str:
    """`de 2016 à 2022`, or `en 2025` when the period is one year (never « de 2025 à 2025 »)."""
    return f"en {debut}" if debut == fin else f"de {debut} à {fin}"


def euros(value: float | int | None, decimales: int = 0) -> str:
    """`1 234 567 €`."""
    if _missing(value):
        return "—"
    return f"{nombre(value, decimales)}{NBSP}€"


def euros_compact(value: float | int | None) -> str:
    """`5,76 M€`, `247 k€` or `950 €`: short amounts for chart labels."""
    if value is None or _missing(value):
        return "—"
    v = float(value)
    if abs(v) >= 1_000_000:
        return f"{nombre(v / 1_000_000, 2)}{NBSP}M€"
    if abs(v) >= 10_000:
        return f"{nombre(v / 1_000, 0)}{NBSP}k€"
    return euros(v)


def pourcent(value: float | None, decimales: int = 1, signe: bool = False) -> str:
    """`12,5 %` from 12.5 (a percentage, not a ratio); `+47,0 %` with `signe`."""
    if value is None or _missing(value):
        return "—"
    text = f"{nombre(abs(value) if signe else value, decimales)}{NBSP}%"
    if signe:
        return ("+" if value >= 0 else "−") + text
    return text


def date_fr(value) -> str:
    """`3 mars 2026` from a date or datetime."""
    return f"{value.day} {MOIS[value.month - 1]} {value.year}"


def date_heure_fr(value) -> str:
    """`3 mars 2026 à 14 h 05`."""
    return f"{date_fr(value)} à {value.hour} h {value.minute:02d}"
