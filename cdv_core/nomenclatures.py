"""The two ANCT thématique nomenclatures, each read for its own years (FORMATS §8), and the thématique ->
pilier correspondence.

- 2020-2023 (and before): the former nomenclature (4 themes: 1 Cohésion sociale, 2 Développement
  économique et emploi, 3 Cadre de vie et renouvellement urbain, 4 Pilotage…). Its codes are stored with
  the prefix `2020-` (`2020-1.2` = Santé) so that they never meet the current codes.
- 2024 onwards: the current nomenclature (6 themes, 25 sub-themes, data/referentiels/thematiques.csv),
  codes stored as published (`1.2` = Soutien à la scolarité).

A code typed in a file is read in the nomenclature of its row's year: `1.2` is Santé in 2021 and Soutien
à la scolarité in 2024; a code that does not exist in its year's nomenclature is an error naming both.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import pandas as pd

from cdv_core.reading import normalize_choice

FORMER_PREFIX = "2020-"
FORMER = "2020-2023"
CURRENT = "2024"
LABELS = {FORMER: "nomenclature 2020-2023", CURRENT: "nomenclature 2024 (en vigueur)"}
PERIODS = {FORMER: "2020-2023", CURRENT: "depuis 2024"}
GENERATIONS = {FORMER: "2015-2023", CURRENT: "2024-2030"}

# The former nomenclature, as FORMATS §8 lists it: (theme code, theme label, code, label).
FORMER_THEMES = {
    "1": "Cohésion sociale",
    "2": "Développement économique et emploi",
    "3": "Cadre de vie et renouvellement urbain",
    "4": "Pilotage, ingénierie, ressources et évaluations",
}
FORMER_CODES = (
    ("1", "1.1", "Éducation"),
    ("1", "1.2", "Santé"),
    ("1", "1.3", "Parentalité et droits sociaux"),
    ("1", "1.4", "Culture et expression artistique"),
    ("1", "1.5", "Lien social, citoyenneté et participation des habitants"),
    ("1", "1.5a", "Jeunesse"),
    ("1", "1.5b", "Sport et loisir"),
    ("1", "1.6", "Prévention et lutte contre les discriminations liées à l'origine et à l'adresse"),
    ("2", "2.1", "Emploi"),
    ("2", "2.2", "Développement économique"),
    ("3", "3.1", "Cadre de vie et renouvellement urbain"),
    ("3", "3.2", "Tranquillité et sûreté publique"),
    ("4", "4.1", "Pilotage, ingénierie, ressources et évaluations"),
    ("4", "4.2", "Structures mutualisatrices"),
)

# Nearest former sub-theme of each current one (used to build the demonstration data only).
CURRENT_TO_FORMER = {
    "1.1": "1.1", "1.2": "1.1", "1.3": "1.1", "1.4": "1.1",
    "2.1": "1.2", "2.2": "1.3", "2.3": "1.5", "2.4": "1.6",
    "3.1": "3.1", "3.2": "3.2", "3.3": "1.5", "3.4": "3.1",
    "4.1": "1.5a", "4.2": "1.4", "4.3": "1.5b", "4.4": "1.5b",
    "5.1": "2.1", "5.2": "2.1", "5.3": "2.2", "5.4": "2.2", "5.5": "2.2",
    "6.1": "1.5", "6.2": "1.5", "6.3": "4.1", "6.4": "4.2",
}

NON_VENTILE = "non_ventile"
CORRESPONDANCE_FILE = "thematiques_piliers.csv"

_CODE = re.compile(r"^(\d+(?:\.\d+[a-z]?)?)(?:\s*[-–:]\s*|\s+|$)(.*)$", re.IGNORECASE)


def nomenclature_of(annee: int) -> str:
    """The nomenclature a year's codes are read in: FORMER up to 2023, CURRENT from 2024."""
    return FORMER if int(annee) <= 2023 else CURRENT


def nomenclature_of_generation(generation: str) -> str | None:
    """FORMER for the 2015-2023 contracts, CURRENT for 2024-2030, None otherwise."""
    return {v: k for k, v in GENERATIONS.items()}.get((generation or "").strip())


def stored(code: str, nomenclature: str) -> str:
    """The code as stored in the database (former codes prefixed)."""
    return FORMER_PREFIX + code if nomenclature == FORMER else code


def of_stored(code: str) -> tuple[str, str]:
    """(nomenclature, code as published) of a stored code."""
    if code.startswith(FORMER_PREFIX):
        return FORMER, code[len(FORMER_PREFIX):]
    return CURRENT, code


def libelle_periode(code: str, libelle: str | None) -> str:
    """How a thématique is named where both nomenclatures may meet: "1.2 Santé (2020-2023)"."""
    nomenclature, plain = of_stored(str(code))
    return f"{plain} {libelle or ''}".strip() + f" ({PERIODS[nomenclature]})"


def former_frame() -> pd.DataFrame:
    """The former nomenclature as rows of the `thematique` table."""
    rows = [{"code": stored(code, FORMER), "libelle": lib, "theme_code": stored(theme, FORMER),
             "theme_libelle": FORMER_THEMES[theme]} for theme, code, lib in FORMER_CODES]
    return pd.DataFrame(rows, columns=["code", "libelle", "theme_code", "theme_libelle"])


@dataclass
class Resolver:
    """Reads a thématique typed in a file in the nomenclature of its year."""

    codes: dict[str, dict[str, str]] = field(default_factory=dict)    # nomenclature -> published code -> label
    labels: dict[str, dict[str, str]] = field(default_factory=dict)   # nomenclature -> folded label -> code

    @classmethod
    def from_rows(cls, rows: Iterable[tuple[str, str, str | None, str | None]]) -> Resolver:
        """From (code, libelle, theme_code, theme_libelle) rows of the `thematique` table."""
        res = cls({FORMER: {}, CURRENT: {}}, {FORMER: {}, CURRENT: {}})
        rows = list(rows)
        if not any(str(r[0]).startswith(FORMER_PREFIX) for r in rows):  # a database built before: built-in list
            rows += list(former_frame().itertuples(index=False, name=None))
        for code, lib, theme, theme_lib in rows:
            for c, label in ((code, lib), (theme, theme_lib)):
                if not c:
                    continue
                nom, plain = of_stored(str(c))
                res.codes[nom].setdefault(plain, label or "")
        for code, lib, theme, theme_lib in rows:  # sub-theme labels first: "Emploi" is 5.1, not the theme 5
            for c, label in ((code, lib), (theme, theme_lib)):
                if c and label:
                    nom, plain = of_stored(str(c))
                    res.labels[nom].setdefault(normalize_choice(label), plain)
        return res

    def known(self, nomenclature: str) -> list[str]:
        return sorted((c for c in self.codes[nomenclature] if "." in c), key=_sort_key)

    def resolve(self, raw: str, nomenclature: str, annee: int | str | None = None) -> tuple[str | None, str | None]:
        """(stored code, None) or (None, French message) for a cell read in `nomenclature`."""
        text = raw.strip()
        where = LABELS[nomenclature] + (f", celle de l'année {annee}" if annee is not None else "")
        if text.startswith(FORMER_PREFIX):
            if nomenclature != FORMER:
                return None, (f"« {raw} » est un code de la nomenclature 2020-2023 : il ne vaut pas pour la "
                              f"{where}.")
            text = text[len(FORMER_PREFIX):]
        codes = self.codes[nomenclature]
        m = _CODE.match(text)
        if m:
            code = m.group(1).lower()
            label = m.group(2).strip()
            if code in codes:
                if label and normalize_choice(label) != normalize_choice(codes[code]):
                    return None, (f"« {raw} » : dans la {where}, le code {code} est « {codes[code]} », pas "
                                  f"« {label} ».")
                return stored(code, nomenclature), None
            if not label or normalize_choice(text) not in self.labels[nomenclature]:
                return None, f"Thématique « {raw} » inconnue dans la {where}."
        code = self.labels[nomenclature].get(normalize_choice(text))
        if code is None:
            return None, f"Thématique « {raw} » inconnue dans la {where}."
        return stored(code, nomenclature), None

    def fix(self, nomenclature: str) -> str:
        known = self.known(nomenclature)
        return (f"Codes de la {LABELS[nomenclature]} : {', '.join(known[:30])}"
                + (", …" if len(known) > 30 else "") + ".")


def sort_key(code: str) -> tuple:
    """Order of stored codes: the former nomenclature first, then the current one, each in code order."""
    nomenclature, plain = of_stored(str(code))
    return (nomenclature != FORMER, _sort_key(plain))


def _sort_key(code: str) -> tuple:
    parts = re.findall(r"\d+|[a-z]+", code)
    return tuple((int(p), "") if p.isdigit() else (0, p) for p in parts)


def pilier_for(correspondance: dict[tuple[str, str, str], str], generation: str, contrat: str | None,
               thematique: str | None) -> str:
    """The pillar of a thématique for a contract: its own correspondence, else its generation's (sub-theme,
    then theme), else "Non ventilé"."""
    if thematique:
        theme = thematique.split(".")[0]
        for c in ((contrat or ""), ""):
            for t in (thematique, theme):
                pilier = correspondance.get((generation, c, t))
                if pilier:
                    return pilier
    return NON_VENTILE
