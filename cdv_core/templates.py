"""Downloadable file templates and the column guide, generated from `formats.KINDS`.

The importer checks files against the same declarations, so a template, its example and its guide can
never disagree with what the import accepts.
"""

from __future__ import annotations

import pandas as pd

from cdv_core import exports
from cdv_core.formats import KINDS, LIBELLES, Column, FileKind

# What a referential-coded column accepts, said in words.
_KIND_HINTS = {
    "ref_pilier": "un code ou un libellé du référentiel des piliers",
    "ref_thematique": "un code ou un libellé du référentiel des thématiques (ex. 2.1 ou Santé)",
    "ref_financeur": "un code ou un libellé du référentiel des financeurs",
    "ref_financeur_list": "codes ou libellés du référentiel des financeurs séparés par | (le premier pilote)",
    "ref_contrat": "un code de contrat de ville (CV… ou CN…)",
    "qpv_list": "codes QPV séparés par |, ou * pour tous les QPV du contrat",
    "qpv_code": "QPdddnnn (géographie 2015) ou QNdddnnX (2024)",
    "commune_list": "codes INSEE à 5 caractères séparés par |",
    "year": "année sur 4 chiffres",
    "amount": "montant en euros (12 500 ou 12500,50)",
    "number": "nombre (virgule décimale acceptée)",
    "int": "nombre entier positif",
    "bool": "oui / non",
    "siret": "14 chiffres",
    "territoire": "code QPV, code INSEE, SIREN d'EPCI, code de département ou FR",
}


def kind(code: str) -> FileKind:
    """The file kind `code` (KeyError for an unknown one)."""
    return KINDS[code]


def empty_template(code: str) -> pd.DataFrame:
    """The header of a file kind, without rows."""
    return pd.DataFrame(columns=[c.name for c in kind(code).columns])


def example(code: str) -> pd.DataFrame:
    """One example row of a file kind, made of each column's declared example."""
    columns = kind(code).columns
    return pd.DataFrame([[c.example for c in columns]], columns=[c.name for c in columns])


def _accepted(col: Column) -> str:
    if col.choices:
        return ", ".join(f"{c} ({LIBELLES[c]})" if c in LIBELLES else c for c in col.choices)
    return _KIND_HINTS.get(col.kind, "texte libre" if col.kind == "text" else "code")


def column_guide(code: str) -> pd.DataFrame:
    """One line per column: name, required, meaning, accepted values, example, other accepted names."""
    return pd.DataFrame(
        [{"Colonne": c.name, "Obligatoire": "oui" if c.required else "non", "Contenu": c.help,
          "Valeurs acceptées": _accepted(c), "Exemple": c.example,
          "Autres noms acceptés": ", ".join(c.aliases)} for c in kind(code).columns],
        columns=["Colonne", "Obligatoire", "Contenu", "Valeurs acceptées", "Exemple", "Autres noms acceptés"],
    )


def file_name(code: str, with_example: bool, extension: str) -> str:
    """`modele_<kind>.csv` for an empty template, `exemple_<kind>.xlsx` for an example."""
    return f"{'exemple' if with_example else 'modele'}_{code}.{extension}"


def csv_bytes(code: str, with_example: bool) -> bytes:
    """The template as CSV for French Excel (`;`, UTF-8 with BOM)."""
    df = example(code) if with_example else empty_template(code)
    return exports.to_csv_bytes(df)


def xlsx_bytes(code: str, with_example: bool) -> bytes:
    """The template as a workbook: the data sheet (named after the kind, read by the importer) then the guide."""
    df = example(code) if with_example else empty_template(code)
    return exports.to_xlsx_bytes({code: df, "Guide des colonnes": column_guide(code)})
