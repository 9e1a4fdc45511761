"""Import of upload files: whole-file validation, all-or-nothing writes, journal and undo."""

from __future__ import annotations

import getpass
import hashlib
import logging
import os
import re
import threading
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from cdv_core import facts, fmt, nomenclatures, reading
from cdv_core.errors import CdvError
from cdv_core.formats import GENERATIONS, IMPORT_ORDER, KINDS, LIBELLES, Column, FileKind
from cdv_core.reading import normalize_choice, normalize_name
from cdv_core.schema import table_columns

ERREUR = "erreur"
AVERTISSEMENT = "avertissement"

# Rows of a table an import replaces are those sharing these columns with the incoming rows.
TABLE_SCOPE: dict[str, tuple[str, ...]] = {
    "action": ("action_id", "annee"),
    "action_qpv": ("action_id", "annee"),
    "financement": ("action_id", "annee"),
    "indicateur": ("territoire", "indicateur", "annee"),
    "indicateur_def": ("code",),
    "enquete_reponse": ("enquete",),
    "enquete_diffusion": ("enquete", "type_repondant"),
    "qpv": ("code_qpv",),
    "qpv_commune": ("code_qpv",),
    "pilier": ("code",),
    "financeur": ("code",),
    "thematique": ("code",),
    "contrat": ("code_contrat",),
    "cible_pilier": ("pilier", "nature"),
    "contour": ("niveau", "code"),
    "thematique_pilier": ("generation", "contrat", "thematique"),
    "engagement": ("engagement_id",),
    "suivi_engagement": ("engagement_id", "annee"),
}

# What identifies one row of a table, to count rows added, changed and removed.
TABLE_IDENTITY: dict[str, tuple[str, ...]] = {
    "action": ("action_id", "annee"),
    "financement": ("action_id", "annee", "financeur", "dispositif", "section", "nature"),
    "indicateur": ("territoire", "indicateur", "annee"),
    "enquete_reponse": ("enquete", "repondant", "question", "item"),
    "enquete_diffusion": ("enquete", "type_repondant"),
    "qpv": ("code_qpv",),
    "pilier": ("code",),
    "financeur": ("code",),
    "thematique": ("code",),
}

# Tables the fact tables are derived from (all scoped by action_id, annee).
FACT_SOURCES = {"action", "action_qpv", "financement"}

MAIN_TABLE = {
    "programmation": "action", "financements": "financement", "indicateurs": "indicateur",
    "enquete": "enquete_reponse", "enquete_diffusion": "enquete_diffusion", "qpv": "qpv", "piliers": "pilier",
    "financeurs": "financeur", "thematiques": "thematique", "cible_pilier": "cible_pilier",
    # FORMATS §8 (cdv_core/public_files.py, cdv_core/contours.py) and the thématique -> pilier referential
    "thematiques_piliers": "thematique_pilier", "contours": "contour", "subventions_anct": "action",
    "postes_anct": "action", "insee_stats": "indicateur", "insee_meta": "indicateur_def", "liste_qpv": "qpv",
    "engagements": "engagement", "suivi_engagements": "suivi_engagement",
}

QPV_2015 = re.compile(r"^QP\d{6}$")
QPV_2024 = re.compile(r"^QN(\d{3}|02[AB])\d{2}[A-Z]$")
DEP_CODE = re.compile(r"^(\d{2}|2[AB]|97\d)$")

# Ranges of numbers, by column kind, checked before anything is written (the base's columns: BIGINT, DOUBLE).
INT_MAX = 2**63 - 1  # BIGINT
MONTANT_MAX = 1e12  # 1 000 milliards d'euros: beyond, a figure is a typing or export error, never a subsidy
NOMBRE_MAX = 1e15  # indicator values (counts of people, euros, rates)
# Above this amount (in euros, for one line) a value is shown as a warning to re-read; CDV_PLAFOND_MONTANT.
PLAFOND_MONTANT = 10_000_000
ENV_PLAFOND = "CDV_PLAFOND_MONTANT"


def plafond_montant() -> float:
    """The amount above which a line gets a warning: `CDV_PLAFOND_MONTANT` if a positive number, else 10 M€."""
    raw = os.environ.get(ENV_PLAFOND, "").strip()
    try:
        value = reading.parse_number(raw)
    except ValueError:
        return PLAFOND_MONTANT
    return value if value > 0 else PLAFOND_MONTANT


# Characters nobody types on purpose: controls (vertical tab, NUL…), invisible formatting (zero-width space,
# joiners, BOM, bidirectional marks, soft hyphen), line/paragraph separators, surrogates, private use.
_INVISIBLE_CATEGORIES = {"Cc", "Cf", "Zl", "Zp", "Cs", "Co"}


def invisible_characters(text: str, allow_newline: bool = False) -> list[str]:
    """The invisible or control characters of `text`, as `U+200B` names (with `allow_newline`, tabs and line
    breaks of free text aside)."""
    found = []
    for ch in text:
        if allow_newline and ch in "\t\r\n":
            continue
        if unicodedata.category(ch) in _INVISIBLE_CATEGORIES and f"U+{ord(ch):04X}" not in found:
            found.append(f"U+{ord(ch):04X}")
    return found


def strip_invisible(text: str) -> str:
    """`text` without invisible or control characters; tabs become spaces, line breaks are kept as \\n."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\t", " ")
    return "".join(ch for ch in text if ch == "\n" or unicodedata.category(ch) not in _INVISIBLE_CATEGORIES)


def _nombre_fr(value: float | int) -> str:
    """`1 234 567` with narrow no-break spaces (messages only)."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.2f}"
    return text.replace(",", "\u202f").replace(".", ",")

# Writers are serialised inside one process; DuckDB's file lock serialises processes.
WRITE_LOCK = threading.Lock()


@dataclass
class Issue:
    """One problem found in a file: where it is, what is wrong and how to fix it."""

    line: int | None
    column: str | None
    value: str | None
    message: str
    severity: str = ERREUR
    fix: str = ""

    def format(self, file_name: str) -> str:
        """`file:line:column: message`, as the CLI prints it."""
        return f"{file_name}:{self.line or 0}:{self.column or ''}: {self.message}"


@dataclass
class Report:
    """Result of checking one file: the rows ready to write, per table, and every issue found."""

    file_name: str
    checksum: str
    kind: FileKind | None
    issues: list[Issue] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    n_rows: int = 0
    sheet: str | None = None  # the sheet read, for a workbook
    resume: list[str] = field(default_factory=list)  # what the rows became, in French sentences

    @property
    def errors(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == ERREUR]

    @property
    def warnings(self) -> list[Issue]:
        return [i for i in self.issues if i.severity == AVERTISSEMENT]

    @property
    def ok(self) -> bool:
        return not self.errors

    def issues_frame(self) -> pd.DataFrame:
        """Issues as a table with French column names (for display and CSV download)."""
        return pd.DataFrame(
            [
                {"Ligne": i.line, "Colonne": i.column, "Valeur": i.value, "Problème": i.message,
                 "Comment corriger": i.fix, "Gravité": i.severity}
                for i in self.issues
            ],
            columns=["Ligne", "Colonne", "Valeur", "Problème", "Comment corriger", "Gravité"],
        )


class ImportRejected(CdvError):
    """The file has errors; nothing was written."""

    def __init__(self, report: Report):
        super().__init__(f"{report.file_name} : {fmt.compte(len(report.errors), 'erreur')}")
        self.report = report


class UndoRefused(CdvError):
    """An undo cannot be done; `.message` says why in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class ImportResult:
    """What an import (or an undo) did."""

    import_id: int
    kind: str
    file_name: str
    n_rows: int
    added: int
    changed: int
    removed: int
    report: Report | None = None


@dataclass
class TableDiff:
    """Rows an import would add, change and remove in one table."""

    table: str
    added: pd.DataFrame
    changed_before: pd.DataFrame
    changed_after: pd.DataFrame
    removed: pd.DataFrame


# --------------------------------------------------------------------------- detection


def _header_map(kind: FileKind, header: list[str]) -> dict[str, int]:
    wanted: dict[str, str] = {}
    for col in kind.columns:
        wanted[normalize_name(col.name)] = col.name
        for alias in col.aliases:
            wanted.setdefault(normalize_name(alias), col.name)
    found: dict[str, int] = {}
    for idx, cell in enumerate(header):
        name = wanted.get(normalize_name(cell))
        if name and name not in found:
            found[name] = idx
    return found


def detect_kind(header: list[str]) -> FileKind | None:
    """The file kind whose required columns are all in `header` (the most specific one), or None."""
    best: tuple[int, FileKind] | None = None
    for kind in KINDS.values():
        found = _header_map(kind, header)
        if all(c in found for c in kind.required):
            score = len(kind.required) * 100 + len(found)
            if best is None or score > best[0]:
                best = (score, kind)
    return best[1] if best else None


def detect_kind_of(data: bytes, file_name: str) -> FileKind | None:
    """The kind of a file recognised from its header (only the start of a large CSV file is read), or None."""
    try:
        return detect_kind(reading.read_header(data, file_name))
    except reading.UnreadableFile:
        return None


# --------------------------------------------------------------------------- referential context


@dataclass
class _Context:
    piliers: dict[str, str]
    pilier_generation: dict[str, str]
    thematiques: dict[str, str]
    financeurs: dict[str, str]
    financeur_nature: dict[str, str]
    contrats: dict[str, str]
    qpv: dict[str, tuple[str, str | None]]
    qpv_by_contrat: dict[str, list[str]]
    communes: set[str]
    epci: set[str]
    indicateurs: set[str]
    action_contrats: set[str]
    nomenclature: nomenclatures.Resolver = field(default_factory=nomenclatures.Resolver)
    correspondance: dict[tuple[str, str, str], str] = field(default_factory=dict)


def _label_map(rows: Iterable[tuple[str, str]]) -> dict[str, str]:
    out: dict[str, str] = {}
    rows = list(rows)
    for code, _ in rows:
        out.setdefault(normalize_choice(str(code)), code)
    for code, libelle in rows:
        if libelle:
            out.setdefault(normalize_choice(str(libelle)), code)
    return out


def _context(con: duckdb.DuckDBPyConnection) -> _Context:
    piliers = con.execute("SELECT code, libelle, generation FROM pilier").fetchall()
    them = con.execute(
        "SELECT code, libelle FROM thematique UNION ALL "
        "SELECT DISTINCT theme_code, theme_libelle FROM thematique WHERE theme_code IS NOT NULL"
    ).fetchall()
    fin = con.execute("SELECT code, libelle, nature_defaut FROM financeur").fetchall()
    qpv_rows = con.execute("SELECT code_qpv, geographie, contrat FROM qpv").fetchall()
    by_contrat: dict[str, list[str]] = {}
    for code, _, contrat in qpv_rows:
        if contrat:
            by_contrat.setdefault(contrat, []).append(code)
    return _Context(
        piliers=_label_map([(c, lib) for c, lib, _ in piliers]),
        pilier_generation={c: g for c, _, g in piliers if g},
        thematiques=_label_map(them),
        financeurs=_label_map([(c, lib) for c, lib, _ in fin]),
        financeur_nature={c: n for c, _, n in fin},
        contrats=dict(con.execute("SELECT code_contrat, generation FROM contrat").fetchall()),
        qpv={c: (g, k) for c, g, k in qpv_rows},
        qpv_by_contrat={k: sorted(v) for k, v in by_contrat.items()},
        communes={r[0] for r in con.execute("SELECT code_insee FROM commune").fetchall()},
        epci={r[0] for r in con.execute("SELECT epci_siren FROM epci").fetchall()},
        indicateurs={r[0] for r in con.execute("SELECT code FROM indicateur_def").fetchall()},
        action_contrats={r[0] for r in con.execute(
            "SELECT DISTINCT contrat FROM action WHERE contrat IS NOT NULL").fetchall()},
        nomenclature=nomenclatures.Resolver.from_rows(con.execute(
            "SELECT code, libelle, theme_code, theme_libelle FROM thematique").fetchall()),
        correspondance={(g, c, t): p for g, c, t, p in con.execute(
            "SELECT generation, contrat, thematique, pilier FROM thematique_pilier").fetchall()},
    )


_CONTEXT_CACHE = threading.local()


def _context_cached(con: duckdb.DuckDBPyConnection) -> _Context:
    """`_context(con)`, read once per check of a file (see `check_file`) rather than once per step."""
    held = getattr(_CONTEXT_CACHE, "value", None)
    if held is not None and held[0] is con:
        return held[1]
    return _context(con)


# --------------------------------------------------------------------------- cell parsing


def _siret_luhn(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def _enumeration(values: Iterable[str], limit: int = 12) -> str:
    values = list(values)
    shown = ", ".join(values[:limit])
    return shown + (", …" if len(values) > limit else "")


class _RowChecker:
    """Turns the raw cells of one row into typed values, collecting issues."""

    def __init__(self, ctx: _Context, issues: list[Issue], keys: Iterable[str] = ()):
        self.ctx = ctx
        self.issues = issues
        self.keys = set(keys)  # text columns that identify a row: held to the rules of codes

    def error(self, line: int, col: str | None, value: str | None, message: str, fix: str = "") -> None:
        self.issues.append(Issue(line, col, value, message, ERREUR, fix))

    def warn(self, line: int, col: str, value: str | None, message: str, fix: str = "") -> None:
        self.issues.append(Issue(line, col, value, message, AVERTISSEMENT, fix))

    def thematique(self, name: str, raw: str, line: int, values: dict) -> str | None:
        """A thématique read in the nomenclature of the row's year (or of its contract generation)."""
        nom: str | None
        if values.get("annee") is not None:
            nom, year = nomenclatures.nomenclature_of(values["annee"]), values["annee"]
        else:
            nom, year = nomenclatures.nomenclature_of_generation(values.get("generation") or ""), None
        if nom is None:
            return None  # the generation column says what is wrong
        code, message = self.ctx.nomenclature.resolve(raw, nom, year)
        if code is None:
            self.error(line, name, raw, message or "", self.ctx.nomenclature.fix(nom))
        return code

    def convert(self, col: Column, raw: str, line: int) -> object:
        """The typed value of a non-empty cell, or None after recording an error."""
        kind = col.kind
        name = col.name
        if kind == "text" and name not in self.keys:
            hidden = invisible_characters(raw, allow_newline=True)
            if hidden:
                raw = strip_invisible(raw).strip()
                self.warn(line, name, raw,
                          f"Caractère invisible ou de contrôle retiré : {hidden[0]}." if len(hidden) == 1 else
                          f"Caractères invisibles ou de contrôle retirés : {', '.join(hidden)}.",
                          "Vérifiez le texte : il a été importé sans ces caractères.")
            return raw
        hidden = invisible_characters(raw)
        if hidden:
            self.error(line, name, raw.encode("unicode_escape").decode("ascii"),
                       f"La valeur de « {name} » contient un caractère invisible ou de contrôle ({', '.join(hidden)}) : "
                       "un code ou un identifiant ne peut pas en contenir (il ferait un doublon d'apparence identique).",
                       "Retapez la valeur à la main, sans copier-coller.")
            return None
        try:
            if kind in ("text", "code"):
                return raw
            if kind == "year":
                year = reading.parse_int(raw)
                if not 2000 <= year <= 2100:
                    raise ValueError
                return year
            if kind == "int":
                value = reading.parse_int(raw)
                if value < 0:
                    self.error(line, name, raw, "Nombre négatif : un effectif est positif ou nul.",
                               "Corrigez la valeur.")
                    return None
                if value > INT_MAX:
                    self.error(line, name, raw, f"« {raw} » est trop grand pour « {name} » (au plus "
                               f"{_nombre_fr(INT_MAX)}).", "Corrigez la valeur : un effectif, pas un code.")
                    return None
                return value
            if kind == "number":
                number = reading.parse_number(raw)
                if abs(number) > NOMBRE_MAX:
                    self.error(line, name, raw, f"« {raw} » est hors de portée pour « {name} » (au plus "
                               f"{_nombre_fr(int(NOMBRE_MAX))} en valeur absolue).", "Corrigez la valeur.")
                    return None
                return number
            if kind == "amount":
                try:
                    amount = reading.parse_amount(raw)
                except reading.AmountError as exc:
                    self.error(line, name, raw, exc.message, "Saisissez un montant en euros, par exemple 12 337,50.")
                    return None
                if amount < 0:
                    self.error(line, name, raw, "Montant négatif : un montant est positif ou nul.",
                               "Saisissez le montant sans signe moins.")
                    return None
                if amount > MONTANT_MAX:
                    self.error(line, name, raw, f"Montant hors de portée : « {raw} » dépasse "
                               f"{_nombre_fr(int(MONTANT_MAX))} €.", "Corrigez le montant.")
                    return None
                ceiling = plafond_montant()
                if amount > ceiling:
                    self.warn(line, name, raw, f"Montant inhabituel : {_nombre_fr(amount)} € dépasse le plafond de "
                              f"vraisemblance de {_nombre_fr(ceiling)} €.",
                              "Vérifiez le montant (virgule ou zéros en trop ?).")
                return amount
            if kind == "bool":
                return reading.parse_bool(raw)
        except ValueError:
            messages = {
                "year": (f"« {raw} » n'est pas une année valide (attendu : un nombre entre 2000 et 2100).",
                         "Saisissez l'année sur 4 chiffres, par exemple 2022."),
                "int": (f"« {raw} » n'est pas un nombre entier.", "Saisissez un nombre entier, sans texte."),
                "number": (f"« {raw} » n'est pas un nombre lisible.", "Saisissez un nombre, par exemple 12,5."),
                "amount": (f"« {raw} » n'est pas un montant lisible.",
                           "Saisissez un montant en euros, par exemple 12 337,50."),
                "bool": (f"« {raw} » n'est pas une réponse oui/non reconnue.", "Saisissez oui ou non."),
            }
            message, fix = messages[kind]
            self.error(line, name, raw, message, fix)
            return None
        if kind == "choice":
            key = normalize_choice(raw)
            if key in col.choices:
                return key
            allowed = ", ".join(col.choices)
            self.error(line, name, raw, f"« {raw} » n'est pas une valeur possible pour « {name} ».",
                       f"Valeurs possibles : {allowed}.")
            return None
        if kind == "siret":
            digits = re.sub(r"\s", "", raw)
            if not digits.isdigit() or len(digits) != 14:
                self.error(line, name, raw, f"Un SIRET compte 14 chiffres : « {raw} » en compte "
                           f"{sum(ch.isdigit() for ch in digits)}.", "Recopiez le SIRET complet (14 chiffres).")
                return None
            if not _siret_luhn(digits):
                self.warn(line, name, raw, f"Le SIRET « {raw} » ne passe pas le contrôle de clé.",
                          "Vérifiez le SIRET sur l'annuaire des entreprises.")
            return digits
        if kind == "ref_thematique":
            return raw  # read in the nomenclature of the row's year, once the whole row is read
        if kind in ("ref_pilier", "ref_financeur"):
            table, label = {
                "ref_pilier": (self.ctx.piliers, "pilier"),
                "ref_financeur": (self.ctx.financeurs, "financeur"),
            }[kind]
            code = table.get(normalize_choice(raw))
            if code is None:
                known = sorted({v for v in table.values()})
                self.error(line, name, raw, f"{label.capitalize()} « {raw} » inconnu du référentiel.",
                           f"Utilisez un code ou un libellé du référentiel ({_enumeration(known)}).")
            return code
        if kind == "ref_contrat":
            code = raw.strip().upper()
            if code not in self.ctx.contrats:
                self.error(line, name, raw, f"Contrat de ville « {raw} » inconnu.",
                           "Utilisez le code du contrat (CV… pour 2015-2023, CN… pour 2024-2030).")
                return None
            return code
        if kind == "qpv_code":
            code = raw.strip().upper()
            if not (QPV_2015.match(code) or QPV_2024.match(code)):
                self.error(line, name, raw, f"« {raw} » n'est pas un code QPV (QPdddnnn ou QNdddnnX).",
                           "Recopiez le code officiel du quartier.")
                return None
            return code
        if kind == "commune_list":
            codes = [c.strip() for c in raw.split("|") if c.strip()]
            unknown = [c for c in codes if c not in self.ctx.communes]
            if unknown:
                self.error(line, name, raw, (f"Commune inconnue : {unknown[0]}." if len(unknown) == 1
                                            else f"Communes inconnues : {', '.join(unknown)}."),
                           "Utilisez les codes INSEE à 5 caractères, séparés par |.")
                return None
            return "|".join(codes)
        if kind == "qpv_list":
            if not any(p.strip() for p in raw.split("|")):
                # only separators: the action would have no quartier at all, hence no share of its amount
                self.error(line, name, raw, f"« {raw} » ne contient aucun code QPV.",
                           "Indiquez au moins un code QPV (séparés par |), ou * pour tous les QPV du contrat.")
                return None
            # each code is checked here, so that a row with several mistakes shows all of them
            unknown = [p.strip() for p in raw.split("|") if p.strip() and p.strip() != "*"
                       and p.strip().upper() not in self.ctx.qpv]
            for part in unknown:
                self.error(line, name, part, f"Code QPV « {part} » inconnu (ni géographie 2015, ni 2024).",
                           "Recopiez le code officiel (QP… pour 2015-2023, QN… à partir de 2024).")
            return None if unknown else raw.strip()
        if kind == "territoire":
            return raw.strip()
        if kind == "ref_financeur_list":
            return _financeur_list(self, raw, line, name)
        raise AssertionError(f"unknown column kind {kind}")


# --------------------------------------------------------------------------- validation


def checksum(data: bytes) -> str:
    """SHA-256 of the file's bytes."""
    return hashlib.sha256(data).hexdigest()


def check_file(
    con: duckdb.DuckDBPyConnection,
    data: bytes,
    file_name: str,
    kind: str | None = None,
    pending_actions: set[tuple[str, int]] | None = None,
    limites: reading.Limites | None = None,
) -> Report:
    """Validate a whole file against the database's referentials; writes nothing.

    `pending_actions` are (action_id, annee) keys imported earlier in the same upload; `limites` those of the
    reading (reading.LIMITES by default; the command line's are wider, see reading.limites_for).
    """
    if kind is not None and kind not in KINDS:
        raise ValueError(f"unknown file kind {kind}")
    report = Report(file_name=file_name, checksum=checksum(data or b""), kind=None)
    try:
        _CONTEXT_CACHE.value = (con, _context(con))
        _check_into(report, con, data, file_name, kind, pending_actions, limites)
    except Exception:  # noqa: BLE001 - a file, however built, never ends in a traceback
        logging.getLogger(__name__).exception("check of %s failed", file_name)
        report.tables = {}
        report.issues.append(Issue(None, None, None, f"Le fichier « {file_name} » n'a pas pu être vérifié à cause "
                                   "d'une erreur inattendue : rien n'a été écrit.", ERREUR,
                                   "Vérifiez le fichier (partez d'un modèle) ; si le problème persiste, "
                                   "transmettez-le à l'équipe technique."))
    finally:
        _CONTEXT_CACHE.value = None
    return report


def _sheet_issue(raw: reading.RawTable) -> Issue | None:
    """The warning saying which sheet of a workbook was read, when it has others (hidden ones are never read)."""
    if raw.sheet is None or not raw.other_sheets:
        return None
    others = [f"« {n} »" + (" (masquée)" if n in raw.hidden_sheets else "") for n in raw.other_sheets]
    return Issue(None, None, raw.sheet, f"Classeur de {len(others) + 1} feuilles : seule la feuille « {raw.sheet} » "
                 f"a été lue ; les autres ({', '.join(others)}) sont ignorées.", AVERTISSEMENT,
                 "Placez les données dans une feuille visible nommée comme le type de fichier, ou en première "
                 "feuille visible.")


def _check_into(report: Report, con, data: bytes, file_name: str, kind: str | None,
                pending_actions: set[tuple[str, int]] | None, limites: reading.Limites | None = None) -> None:
    from cdv_core import contours, public_files  # they build on this module

    if kind == "contours" or (kind is None and contours.looks_like_contours(data, file_name)):
        public_files.check_contours(con, data, report)
        return
    try:
        raw = reading.read_table(data, file_name, sheet_hint=kind, limites=limites)
    except reading.UnreadableFile as exc:
        report.issues.append(Issue(None, None, None, exc.message, ERREUR,
                                   "Enregistrez le tableau au format CSV ou Excel (.xlsx)."))
        return
    if kind is None:
        file_kind = detect_kind(raw.header)
        if file_kind is not None and raw.sheet is not None and raw.other_sheets:
            # the visible sheet named after the kind wins over the first one, as when the kind is chosen
            named = reading.read_table(data, file_name, sheet_hint=file_kind.code, limites=limites)
            if named.sheet != raw.sheet and detect_kind(named.header) == file_kind:
                raw = named
        if file_kind is None:
            report.issues.append(Issue(
                raw.header_line, None, None,
                "Type de fichier non reconnu : les colonnes obligatoires d'aucun format ne sont présentes "
                f"(colonnes lues : {_enumeration(raw.header)}).",
                ERREUR, "Partez d'un modèle de fichier, ou choisissez le type de fichier."))
            return
    else:
        file_kind = KINDS[kind]
    report.kind = file_kind
    report.sheet = raw.sheet
    sheet_issue = _sheet_issue(raw)
    if sheet_issue is not None:
        report.issues.append(sheet_issue)
    if file_kind.code in public_files.CONVERTED:
        report.tables = public_files.build(con, raw, file_kind, report)
        report.issues.sort(key=lambda i: i.line or 0)
        return
    cols = _validate_columns(con, raw, file_kind, report.issues, consume=True)
    header_line = raw.header_line
    del raw  # the columns hold what is needed: the text of the file can go
    pa.default_memory_pool().release_unused()
    rows: list[dict] | dict[str, np.ndarray]
    if cols is None:
        rows = []
    elif file_kind.code in _COLUMN_BUILDERS:
        rows = cols if len(cols["_line"]) else []
    else:
        names = ["_line", *[c.name for c in file_kind.columns]]
        rows = [dict(zip(names, values, strict=True)) for values in zip(*(cols[n].tolist() for n in names),
                                                                        strict=True)]
    del cols
    report.n_rows = len(rows) if isinstance(rows, list) else len(rows["_line"])
    empty = not len(rows)
    if not empty:
        # the checks that need whole rows (QPV, contract, known actions) run even when some rows already
        # failed, on the rows that passed, so that the person sees every error of the file at once
        report.tables = _build_tables(con, file_kind, rows, report.issues, pending_actions or set())
    del rows
    if empty and report.ok:
        report.issues.append(Issue(header_line, None, None, "Le fichier ne contient aucune ligne de données.",
                                   ERREUR, "Ajoutez des lignes sous l'en-tête."))
    report.issues.sort(key=lambda i: i.line or 0)  # in file order, whichever check found them


def _validate_rows(con, raw: reading.RawTable, kind: FileKind, issues: list[Issue]) -> list[dict]:
    """The rows that passed the cell checks, as dicts {"_line": line, column: value} (see `_validate_columns`)."""
    cols = _validate_columns(con, raw, kind, issues)
    if cols is None:
        return []
    names = ["_line", *[c.name for c in kind.columns]]
    arrays = [cols[n].tolist() for n in names]
    return [dict(zip(names, values, strict=True)) for values in zip(*arrays, strict=True)]


def _header_issues(raw: reading.RawTable, kind: FileKind, issues: list[Issue]) -> dict[str, int] | None:
    """Issues of the header (doubled, unknown, missing columns); the column positions, or None if one is missing."""
    found = _header_map(kind, raw.header)
    seen_names: dict[str, int] = {}
    for idx, cell in enumerate(raw.header):
        if not cell.strip():
            continue
        key = normalize_name(cell)
        if key in seen_names:
            issues.append(Issue(raw.header_line, cell, cell, f"La colonne « {cell} » apparaît deux fois.",
                                ERREUR, "Supprimez ou renommez l'une des deux colonnes."))
        seen_names[key] = idx
        if idx not in found.values():
            issues.append(Issue(raw.header_line, cell, cell, f"Colonne « {cell} » inconnue, elle sera ignorée.",
                                AVERTISSEMENT, "Vérifiez l'orthographe si elle devait être importée."))
    missing = [c for c in kind.required if c not in found]
    for name in missing:
        issues.append(Issue(raw.header_line, name, None, f"Colonne obligatoire « {name} » absente.", ERREUR,
                            f"Ajoutez la colonne « {name} » (voir le modèle de fichier « {kind.code} »)."))
    return None if missing else found


def _shaped_rows(raw: reading.RawTable, checker: _RowChecker, width: int) -> tuple[np.ndarray, list[pa.ChunkedArray]]:
    """(lines, one Arrow string column per header position) of the rows as wide as the header; the others are
    reported (too many cells, or too few in a CSV file) or, in a workbook, completed with empty cells."""
    rows: list[tuple[int, list[str]]]
    store = raw.store
    if store is not None and store.width == width:
        rows = store.others
    else:
        store, rows = None, raw.rows
    kept_lines: list[int] = []
    kept: list[list[str]] = []
    for line, cells in rows:
        if len(cells) > width and any(c.strip() for c in cells[width:]):
            checker.error(line, None, None, f"Cette ligne a {len(cells)} cellules alors que l'en-tête a "
                          f"{fmt.compte(width, 'colonne')}.",
                          "Vérifiez les séparateurs (point-virgule en trop dans une cellule ?).")
            continue
        if len(cells) < width and raw.delimiter is None:
            # a workbook row simply stops at its last filled cell: the missing ones are empty, not truncated
            cells = cells + [""] * (width - len(cells))
        if len(cells) < width:
            checker.error(line, None, None, f"Ligne incomplète : {fmt.compte(len(cells), 'cellule')} au lieu de {width} ; "
                          "le fichier semble tronqué.", "Complétez la ligne ou ré-enregistrez le fichier.")
            continue
        kept_lines.append(line)
        kept.append([c.strip() for c in cells[:width]])
    extra_lines = np.array(kept_lines, dtype=np.int64)
    extra = [pa.chunked_array([pa.array(list(col), type=pa.large_string())], type=pa.large_string())
             for col in zip(*kept, strict=True)] if kept else \
        [pa.chunked_array([], type=pa.large_string()) for _ in range(width)]
    if store is None:
        return extra_lines, extra
    if not kept:
        return store.lines, store.columns
    # rows of both kinds: back in line order
    lines = np.concatenate([store.lines, extra_lines])
    order = np.argsort(lines, kind="stable")
    columns = [pa.chunked_array(a.chunks + b.chunks, type=pa.large_string()).take(pa.array(order))
               for a, b in zip(store.columns, extra, strict=True)]
    return lines[order], columns


# Cells read column by column when they are written in the plain way a spreadsheet writes them (anything else
# goes through `_RowChecker.convert`, cell value by cell value, as before): RE2 patterns for pyarrow.
_SPACES_RE2 = r"[ \x{a0}\x{202f}\x{2009}\x{2007}]"
_FAST_AMOUNT = (r"^(?:[0-9]{1,12}|[0-9]{1,3}(?:" + _SPACES_RE2 + r"[0-9]{3}){1,3})(?:[.,][0-9]{1,9})?$")
_FAST_NUMBER = r"^-?[0-9]{1,15}(?:[.,][0-9]{1,15})?$"
_FAST_INT = r"^[0-9]{1,15}$"
_FAST_YEAR = r"^[0-9]{4}$"
# Controls a spreadsheet cell never holds on purpose (ASCII part of _INVISIBLE_CATEGORIES), with and without
# the tab and line breaks free text may hold.
_ASCII_CONTROLS = r"[\x00-\x1f\x7f]"
_ASCII_CONTROLS_TEXT = r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]"


def _invisible_mask(values: pa.ChunkedArray, allow_newline: bool) -> np.ndarray:
    """Which cells hold an invisible or control character (as `invisible_characters` finds them)."""
    mask = _np(pc.match_substring_regex(values, _ASCII_CONTROLS_TEXT if allow_newline else _ASCII_CONTROLS))
    not_ascii = ~_np(pc.string_is_ascii(values))
    if not_ascii.any():
        idx = np.flatnonzero(not_ascii)
        texts = values.take(pa.array(idx)).to_pylist()
        chars = set("".join(texts))
        bad = [ch for ch in chars if ord(ch) > 0x7F and unicodedata.category(ch) in _INVISIBLE_CATEGORIES]
        if bad:
            hit = [any(ch in t for ch in bad) for t in texts]
            mask[idx[np.array(hit, dtype=bool)]] = True
    return mask


def _np(array) -> np.ndarray:
    """A boolean or numeric Arrow result as a numpy array (nulls as False)."""
    if isinstance(array, pa.ChunkedArray):
        array = array.combine_chunks() if array.num_chunks != 1 else array.chunk(0)
    if pa.types.is_boolean(array.type):
        return array.fill_null(False).to_numpy(zero_copy_only=False)
    return array.to_numpy(zero_copy_only=False)


def _objects(items: list) -> np.ndarray:
    out = np.empty(len(items), dtype=object)
    out[:] = items
    return out


def _shared(values: pa.ChunkedArray) -> np.ndarray:
    """The strings of `values` as Python objects, one object per distinct string (a column of a few repeated
    values costs a pointer per cell, not a string)."""
    encoded = pc.dictionary_encode(values).combine_chunks()
    return _objects(encoded.dictionary.to_pylist())[encoded.indices.to_numpy(zero_copy_only=False)]


def _fast_column(col: Column, values: pa.ChunkedArray, keys: set[str]) -> tuple[np.ndarray, Any]:
    """(cells read here, their values in order) for the cells of `values` (non-empty) written in the plain way;
    the other cells are left to `_RowChecker.convert`. Never decides anything `convert` would decide otherwise:
    a plain cell has no issue and the same value."""
    kind = col.kind
    n = len(values)
    if kind in ("text", "code"):
        ok = ~_invisible_mask(values, allow_newline=kind == "text" and col.name not in keys)
        return ok, _shared(values.filter(pa.array(ok)))
    pattern = {"amount": _FAST_AMOUNT, "number": _FAST_NUMBER, "int": _FAST_INT, "year": _FAST_YEAR}.get(kind)
    if pattern is None:
        return np.zeros(n, dtype=bool), None
    ok = _np(pc.match_substring_regex(values, pattern))
    if not ok.any():
        return ok, None
    chosen = values.filter(pa.array(ok))
    if kind in ("int", "year"):
        numbers = _np(pc.cast(chosen, pa.int64()))
        if kind == "year":
            inside = (numbers >= 2000) & (numbers <= 2100)
            ok[np.flatnonzero(ok)[~inside]] = False
            numbers = numbers[inside]
        uniques, where = np.unique(numbers, return_inverse=True)
        return ok, _objects(uniques.tolist())[where]  # one Python int per distinct year or count
    text = pc.replace_substring_regex(chosen, _SPACES_RE2, "")
    text = pc.replace_substring(text, ",", ".")
    floats = _np(pc.cast(text, pa.float64())) + 0.0
    if kind == "amount":
        inside = floats <= min(plafond_montant(), MONTANT_MAX)  # above: a warning or an error, said by convert
    else:
        inside = np.abs(floats) <= NOMBRE_MAX
    ok[np.flatnonzero(ok)[~inside]] = False
    return ok, floats[inside].tolist()


def _validate_columns(con, raw: reading.RawTable, kind: FileKind, issues: list[Issue],
                      consume: bool = False) -> dict[str, np.ndarray] | None:
    """Check every cell of the file, column by column: {"_line": lines, column: values} of the rows that passed
    (values are Python objects, None for an empty cell), or None when a required column is missing.
    `consume`: `raw` is not used afterwards, its text columns go as soon as they are read (less memory).

    The issues are the ones `_RowChecker.convert` gives, cell by cell (same messages, same values): plain cells
    (digits, text without control characters) are read whole columns at a time; every other cell goes through
    `convert` once per distinct value, its issues repeated on each line holding that value.
    """
    found = _header_issues(raw, kind, issues)
    if found is None:
        return None
    ctx = _context_cached(con)
    checker = _RowChecker(ctx, issues, keys=kind.key)
    width = len(raw.header)
    lines, columns = _shaped_rows(raw, checker, width)
    n = len(lines)
    failed = np.zeros(n, dtype=bool)
    out: dict[str, np.ndarray] = {}
    for col in kind.columns:
        values = np.full(n, None, dtype=object)
        out[col.name] = values
        pos = found.get(col.name)
        if pos is None or n == 0:
            continue
        cells = columns[pos]
        if consume and list(found.values()).count(pos) == 1:
            columns[pos] = None  # `cells` is now the only holder: the column goes once read
        empty = _np(pc.equal(cells, ""))
        if col.required and empty.any():
            for i in np.flatnonzero(empty).tolist():
                checker.error(int(lines[i]), col.name, "", f"Valeur obligatoire manquante dans « {col.name} ».",
                              "Remplissez la cellule.")
            failed |= empty
        filled = np.flatnonzero(~empty)
        if len(filled) == 0:
            continue
        present = cells if len(filled) == n else cells.take(pa.array(filled))
        fast, fast_values = _fast_column(col, present, checker.keys)
        if fast_values is not None and fast.any():
            values[filled[fast]] = fast_values
        slow = filled[~fast]
        if len(slow) == 0:
            continue
        raws = present.filter(pa.array(~fast))
        uniques = pc.unique(raws)
        where = _np(pc.index_in(raws, value_set=uniques)).astype(np.int64)
        converted = np.empty(len(uniques), dtype=object)
        bad_value = np.zeros(len(uniques), dtype=bool)
        with_issues: dict[int, list[Issue]] = {}
        for u, cell in enumerate(uniques.to_pylist()):
            scratch: list[Issue] = []
            converted[u] = _RowChecker(ctx, scratch, keys=kind.key).convert(col, cell, 0)
            bad_value[u] = converted[u] is None and col.kind != "bool"
            if scratch:
                with_issues[u] = scratch
        values[slow] = converted[where]
        failed[slow[bad_value[where]]] = True
        if with_issues:
            noisy = np.flatnonzero(np.isin(where, list(with_issues)))
            for j in noisy.tolist():  # in file order
                for issue in with_issues[int(where[j])]:
                    issues.append(replace(issue, line=int(lines[int(slow[j])])))
    for col in kind.columns:
        if col.kind != "ref_thematique":
            continue
        values = out[col.name]
        annees = out.get("annee")
        generations = out.get("generation")
        tmemo: dict[tuple, tuple[object, list[Issue]]] = {}
        for i in np.flatnonzero(values != None).tolist():  # noqa: E711 - elementwise on an object array
            context = {"annee": annees[i] if annees is not None else None,
                       "generation": generations[i] if generations is not None else None}
            key = (values[i], context["annee"], context["generation"])
            got = tmemo.get(key)
            if got is None:
                scratch = []
                code: Any = _RowChecker(ctx, scratch).thematique(col.name, values[i], 0, context)
                got = tmemo[key] = (code, scratch)
            code, found_issues = got
            values[i] = code
            for issue in found_issues:
                issues.append(replace(issue, line=int(lines[i])))
            if code is None:
                failed[i] = True
    keep = ~failed
    pa.default_memory_pool().release_unused()
    if keep.all():  # every row passed: the columns as they are, no copy
        return {"_line": lines, **out}
    result = {"_line": lines[keep]}
    for name in list(out):
        result[name] = out.pop(name)[keep]
    return result


# Kinds whose table builder reads the checked columns whole (the large files: funding lines).
_COLUMN_BUILDERS = {"financements"}


def _fold_key(value: object) -> object:
    """How two key values are compared for duplicates: text without regard to case (and Unicode form), so that
    `FR`/`fr` or `commune`/`Commune`, which become one row once normalised, are caught before writing."""
    if isinstance(value, str):
        return unicodedata.normalize("NFC", value).casefold().strip()
    return value


def _check_duplicates(kind: FileKind, rows: list[dict], issues: list[Issue]) -> None:
    """Rows of the file sharing a key (after the normalisations of the builders, case ignored)."""
    key_cols = kind.key
    seen: dict[tuple, int] = {}
    for row in rows:
        key = tuple(_fold_key(row.get(c)) for c in key_cols)
        if key in seen:
            shown = ", ".join(f"{c} = {row.get(c)}" for c in key_cols if row.get(c) is not None)
            issues.append(Issue(row["_line"], key_cols[0], str(row.get(key_cols[0])),
                                f"Doublon : la même clé ({shown}) figure déjà ligne {seen[key]}.", ERREUR,
                                "Supprimez l'une des deux lignes ou corrigez la clé."))
        else:
            seen[key] = row["_line"]


def _frame(rows: list[dict], columns: list[str]) -> pd.DataFrame:
    return pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=columns)


def _build_tables(con, kind: FileKind, rows, issues: list[Issue],
                  pending_actions: set[tuple[str, int]]) -> dict[str, pd.DataFrame]:
    builder = {
        "programmation": _tables_programmation,
        "financements": _tables_financements,
        "indicateurs": _tables_indicateurs,
        "enquete": _tables_enquete,
        "enquete_diffusion": _tables_diffusion,
        "qpv": _tables_qpv,
        "piliers": _tables_simple,
        "financeurs": _tables_simple,
        "thematiques": _tables_thematiques,
        "thematiques_piliers": _tables_thematiques_piliers,
        "engagements": _tables_engagements,
        "suivi_engagements": _tables_suivi,
    }[kind.code]
    ctx = _context_cached(con)
    tables = builder(con, ctx, kind, rows, issues, pending_actions)
    if kind.code != "financements":  # financements: checked by its builder once the defaults are known
        _check_duplicates(kind, rows, issues)
    _check_case_conflicts(con, kind, rows, issues)
    if any(i.severity == ERREUR for i in issues):
        return {}
    return tables


# Identifiers that the base compares exactly (DuckDB text is case-sensitive) but that people read without regard
# to case: file column -> (table, column). A value differing from one in the base only by case is refused, or
# the base would hold two look-alike rows (two pillars "Emploi" and "emploi", two actions "A-1" and "a-1").
CASE_KEYS: dict[str, tuple[str, str, str]] = {
    "programmation": ("action_id", "action", "action_id"),
    "piliers": ("code", "pilier", "code"),
    "financeurs": ("code", "financeur", "code"),
    "thematiques": ("sous_theme_code", "thematique", "code"),
    "indicateurs": ("indicateur", "indicateur_def", "code"),
    "enquete": ("enquete", "enquete_reponse", "enquete"),
    "enquete_diffusion": ("enquete", "enquete_diffusion", "enquete"),
}


def _check_case_conflicts(con, kind: FileKind, rows: list[dict], issues: list[Issue]) -> None:
    spec = CASE_KEYS.get(kind.code)
    if spec is None or not rows:
        return
    col, table, db_col = spec
    first_line: dict[str, int] = {}
    for r in rows:
        value = r.get(col)
        if isinstance(value, str):
            first_line.setdefault(value, r["_line"])
    values = pd.DataFrame({"v": list(first_line)})
    con.register("_case_values", values)
    try:
        pairs = con.execute(f"SELECT DISTINCT f.v, t.{db_col} FROM _case_values f JOIN {table} t "
                            f"ON lower(t.{db_col}) = lower(f.v) AND t.{db_col} <> f.v").fetchall()
    finally:
        con.unregister("_case_values")
    for mine, theirs in sorted(pairs, key=lambda p: first_line[p[0]]):
        issues.append(Issue(first_line[mine], col, mine, f"« {mine} » ne diffère de « {theirs} », déjà dans la base, "
                            "que par les majuscules et minuscules : ce serait un second identifiant d'apparence "
                            "identique.", ERREUR, f"Écrivez « {theirs} » exactement comme dans la base."))


def _generation_of(year: int) -> str:
    return "2015-2023" if year <= 2023 else "2024-2030"


def _tables_programmation(con, ctx: _Context, kind, rows, issues, pending):
    checker = _RowChecker(ctx, issues)
    file_contrats: dict[str, set[str]] = {}
    for r in rows:
        gen = _generation_of(r["annee"])
        if r.get("contrat"):
            file_contrats.setdefault(gen, set()).add(r["contrat"])
        elif r["qpv"] != "*":
            for code in r["qpv"].split("|"):
                info = ctx.qpv.get(code.strip().upper())
                if info and info[1]:
                    file_contrats.setdefault(gen, set()).add(info[1])
    splits: list[dict] = []
    for r in rows:
        line = r["_line"]
        r["statut"] = r.get("statut") or "accordee"
        gen = _generation_of(r["annee"])
        pgen = ctx.pilier_generation.get(r["pilier"])
        if pgen and pgen != gen:
            checker.warn(line, "pilier", r["pilier"], f"Le pilier « {r['pilier']} » relève des contrats "
                         f"{pgen}, l'action est de {r['annee']}.", "Vérifiez le pilier ou l'année.")
        cgen = ctx.contrats.get(r.get("contrat") or "")
        if cgen and cgen != gen:
            checker.error(line, "contrat", r["contrat"], f"Le contrat {r['contrat']} est un contrat {cgen}, "
                          f"l'action est de {r['annee']}.", "Les actions 2015-2023 relèvent des contrats CV…, celles "
                          "de 2024 et après des contrats CN… ; corrigez le contrat ou l'année.")
            continue
        if r["qpv"] == "*":
            contrat = r.get("contrat")
            if not contrat:
                candidates = file_contrats.get(gen) or {
                    c for c in ctx.action_contrats if ctx.contrats.get(c) == gen}
                if len(candidates) == 1:
                    contrat = next(iter(candidates))
                else:
                    checker.error(line, "contrat", None,
                                  "« * » désigne tous les QPV d'un contrat : précisez le contrat dans la colonne "
                                  "« contrat ».", "Ajoutez une colonne contrat avec le code CV… ou CN….")
                    continue
            codes = ctx.qpv_by_contrat.get(contrat, [])
            if not codes:
                checker.error(line, "qpv", "*", f"Le contrat {contrat} n'a aucun QPV dans le référentiel.",
                              "Indiquez les codes QPV de l'action.")
                continue
            r["contrat"] = contrat
        else:
            codes = []
            bad = False
            for part in r["qpv"].split("|"):
                code = part.strip().upper()
                if not code:
                    continue
                info = ctx.qpv.get(code)
                if info is None:
                    checker.error(line, "qpv", part, f"Code QPV « {part} » inconnu (ni géographie 2015, ni 2024).",
                                  "Recopiez le code officiel (QP… pour 2015-2023, QN… à partir de 2024).")
                    bad = True
                    continue
                geo, contrat = info
                if (geo == "2024") != (r["annee"] >= 2024):
                    checker.error(line, "qpv", code, f"Le QPV {code} appartient à la géographie prioritaire {geo}, "
                                  f"l'action est de {r['annee']} : les deux géographies ne se mélangent pas.",
                                  "Les actions 2015-2023 utilisent les codes QP…, celles de 2024 et après les "
                                  "codes QN… ; corrigez le code ou l'année.")
                    bad = True
                    continue
                if contrat and r.get("contrat") and contrat != r["contrat"]:
                    checker.error(line, "qpv", code, f"Le QPV {code} relève du contrat {contrat}, l'action est "
                                  f"du contrat {r['contrat']}.", "Corrigez le code du quartier ou celui du contrat.")
                    bad = True
                    continue
                if code not in codes:
                    codes.append(code)
                if not r.get("contrat") and contrat:
                    r["contrat"] = contrat
            if bad or not codes:
                continue
            r["qpv"] = "|".join(codes)
        part = 1.0 / len(codes)
        splits.extend({"action_id": r["action_id"], "annee": r["annee"], "code_qpv": c, "part": part}
                      for c in codes)
    action_cols = [c.name for c in kind.columns]
    return {
        "action": _frame(rows, action_cols),
        "action_qpv": pd.DataFrame(splits, columns=["action_id", "annee", "code_qpv", "part"]),
    }


def _columns_of(rows: list[dict], names: list[str]) -> dict[str, np.ndarray]:
    """Rows as dicts → {name: object array} (the form `_validate_columns` gives)."""
    out: dict[str, np.ndarray] = {}
    for name in ["_line", *names]:
        arr = np.empty(len(rows), dtype=object)
        arr[:] = [r.get(name) for r in rows]
        out[name] = arr
    return out


def _folded_codes(values: np.ndarray) -> np.ndarray:
    """One integer per value, equal for two values whose `_fold_key` are equal (None has its own code)."""
    codes, uniques = pd.factorize(pd.Series(values, dtype=object), use_na_sentinel=False)
    folded = pd.Series([_fold_key(v) for v in uniques], dtype=object)
    same, _ = pd.factorize(folded, use_na_sentinel=False)
    return same[codes]


def _check_duplicates_columns(kind: FileKind, cols: dict[str, np.ndarray], issues: list[Issue]) -> None:
    """`_check_duplicates` on columns: the same issues, in the same order."""
    key_cols = list(kind.key)
    lines = cols["_line"]
    if len(lines) < 2:
        return
    folded = pd.DataFrame({c: _folded_codes(cols[c]) for c in key_cols})
    dup = folded.duplicated(keep="first").to_numpy()
    if not dup.any():
        return
    first: dict[tuple, int] = {}
    dup_keys = {tuple(r) for r in folded[dup].itertuples(index=False, name=None)}
    keys = list(folded.itertuples(index=False, name=None))
    for i in np.flatnonzero(~dup).tolist():
        if keys[i] in dup_keys:
            first[keys[i]] = int(lines[i])
    for i in np.flatnonzero(dup).tolist():
        key = keys[i]
        row = {c: cols[c][i] for c in key_cols}
        shown = ", ".join(f"{c} = {row.get(c)}" for c in key_cols if row.get(c) is not None)
        issues.append(Issue(int(lines[i]), key_cols[0], str(row.get(key_cols[0])),
                            f"Doublon : la même clé ({shown}) figure déjà ligne {first[key]}.", ERREUR,
                            "Supprimez l'une des deux lignes ou corrigez la clé."))


def _unknown_actions(con, cols: dict[str, np.ndarray], pending: set[tuple[str, int]]) -> np.ndarray:
    """Positions of the rows whose (action_id, annee) is neither in the base nor in `pending`."""
    n = len(cols["_line"])
    if n == 0:
        return np.zeros(0, dtype=np.int64)
    keys = pd.DataFrame({"action_id": pd.Series(cols["action_id"], dtype=object),
                         "annee": pd.Series(cols["annee"], dtype="int64"), "_i": np.arange(n)})
    con.register("_incoming_keys", keys)
    try:
        missing = con.execute(
            "SELECT k._i FROM _incoming_keys k ANTI JOIN action a USING (action_id, annee) ORDER BY k._i"
        ).fetchnumpy()["_i"]
    finally:
        con.unregister("_incoming_keys")
    missing = np.asarray(missing, dtype=np.int64)
    if pending and len(missing):
        ids, years = cols["action_id"], cols["annee"]
        missing = np.array([i for i in missing.tolist() if (ids[i], years[i]) not in pending], dtype=np.int64)
    return missing


def _tables_financements(con, ctx: _Context, kind, rows, issues, pending):
    """Funding lines → the `financement` table, checked column by column (`rows`: dicts or columns)."""
    cols = rows if isinstance(rows, dict) else _columns_of(rows, [c.name for c in kind.columns])
    n = len(cols["_line"])
    lines = cols["_line"]
    action_id, annee = cols["action_id"], cols["annee"]
    for i in _unknown_actions(con, cols, set(pending)).tolist():
        issues.append(Issue(int(lines[i]), "action_id", action_id[i],
                            f"L'action « {action_id[i]} » n'existe pas pour l'année {annee[i]}.",
                            ERREUR, "Importez d'abord la programmation de cette action, ou corrigez "
                            "l'identifiant ou l'année."))
    natures = ctx.financeur_nature
    nature = np.empty(n, dtype=object)
    nature[:] = [v or natures.get(f) or "specifique" for v, f in zip(cols["nature"].tolist(),
                                                                    cols["financeur"].tolist(), strict=True)]
    section = np.empty(n, dtype=object)
    section[:] = [v or "fonctionnement" for v in cols["section"].tolist()]
    cols["nature"], cols["section"] = nature, section
    demande = pd.to_numeric(pd.Series(cols["montant_demande"], dtype=object), errors="coerce").to_numpy(float)
    accorde = pd.to_numeric(pd.Series(cols["montant_accorde"], dtype=object), errors="coerce").to_numpy(float)
    with np.errstate(invalid="ignore"):
        lower = np.flatnonzero(~np.isnan(demande) & (demande < accorde))
    for i in lower.tolist():
        issues.append(Issue(int(lines[i]), "montant_demande", str(cols["montant_demande"][i]),
                            "Le montant accordé dépasse le montant demandé.", AVERTISSEMENT,
                            "Vérifiez les deux montants."))
    # Rows identical on the key but for an empty nature would be duplicates after the defaults.
    _check_duplicates_columns(kind, cols, issues)
    names = ["action_id", "annee", "financeur", "montant_accorde", "montant_demande", "nature", "dispositif",
             "section"]
    # the frame pandas builds from the columns as lists, without the lists: numbers as numpy arrays (an all-empty
    # amount column stays a column of None, as pandas leaves it); each checked column goes (taken out of `rows`)
    # once its copy is in the frame, so that the file is never twice in memory
    del action_id, annee, lines
    frame = pd.DataFrame(index=pd.RangeIndex(n))
    for c in names:
        values = cols.pop(c)
        if c == "annee":
            frame[c] = values.astype(np.int64)
        elif c in ("montant_accorde", "montant_demande"):
            floats = accorde if c == "montant_accorde" else demande
            frame[c] = floats if not np.isnan(floats).all() else values.tolist()
        else:
            frame[c] = values
        del values
    return {"financement": frame}


def _tables_indicateurs(con, ctx: _Context, kind, rows, issues, pending):
    defs: dict[str, dict] = {}
    for r in rows:
        terr = r["territoire"].strip()
        up = terr.upper()
        if QPV_2015.match(up) or QPV_2024.match(up):
            if up not in ctx.qpv:
                issues.append(Issue(r["_line"], "territoire", terr, f"QPV « {terr} » inconnu.", ERREUR,
                                    "Recopiez le code officiel du quartier."))
            terr = up
        elif up == "FR":
            terr = "FR"
        elif re.fullmatch(r"\d{9}", terr):
            if terr not in ctx.epci:
                issues.append(Issue(r["_line"], "territoire", terr, f"EPCI « {terr} » inconnu (SIREN).", ERREUR,
                                    "Utilisez le SIREN à 9 chiffres de l'intercommunalité."))
        elif len(terr) == 5:
            if terr not in ctx.communes:
                issues.append(Issue(r["_line"], "territoire", terr, f"Commune « {terr} » inconnue (code INSEE).",
                                    ERREUR, "Utilisez le code INSEE à 5 caractères (pas le code postal)."))
        elif DEP_CODE.match(up):
            terr = up
        else:
            issues.append(Issue(r["_line"], "territoire", terr, f"Territoire « {terr} » non reconnu.", ERREUR,
                                "Attendu : code QPV, code INSEE de commune, SIREN d'EPCI, code de département "
                                "ou FR."))
        r["territoire"] = terr
        code = r["indicateur"]
        if r.get("libelle"):
            defs.setdefault(code, {"code": code, "libelle": r["libelle"], "unite": r.get("unite")})
        elif code not in ctx.indicateurs and code not in defs:
            issues.append(Issue(r["_line"], "libelle", None, f"Nouvel indicateur « {code} » sans libellé.", ERREUR,
                                "Indiquez son libellé dans la colonne « libelle » (au moins sur une ligne)."))
    cols = ["territoire", "indicateur", "annee", "valeur", "unite", "source"]
    return {
        "indicateur": _frame(rows, cols),
        "indicateur_def": pd.DataFrame(list(defs.values()), columns=["code", "libelle", "unite"]),
    }


def _tables_enquete(con, ctx, kind, rows, issues, pending):
    for r in rows:
        r["type_repondant"] = normalize_choice(r["type_repondant"])
    years: dict[str, set[int]] = {}
    for r in rows:
        years.setdefault(r["enquete"], set()).add(r["annee"])
    for code, ys in years.items():
        if len(ys) > 1:
            issues.append(Issue(None, "annee", None, f"L'enquête {code} porte plusieurs années "
                                f"({', '.join(map(str, sorted(ys)))}).", ERREUR,
                                "Une enquête a une seule année ; donnez un code distinct à chaque vague."))
    cols = [c.name for c in kind.columns]
    return {"enquete_reponse": _frame(rows, cols)}


def _tables_diffusion(con, ctx, kind, rows, issues, pending):
    for r in rows:
        r["type_repondant"] = normalize_choice(r["type_repondant"])
    return {"enquete_diffusion": _frame(rows, ["enquete", "type_repondant", "nb_sollicites"])}


def _tables_qpv(con, ctx: _Context, kind, rows, issues, pending):
    links = []
    for r in rows:
        code = r["code_qpv"]
        geo = "2015" if code.startswith("QP") else "2024"
        if r["geographie"] != geo:
            issues.append(Issue(r["_line"], "geographie", r["geographie"], f"Le code {code} est un code de la "
                                f"géographie {geo}.", ERREUR, f"Indiquez {geo} dans la colonne geographie."))
        cgen = ctx.contrats.get(r.get("contrat") or "")
        wanted = "2015-2023" if r["geographie"] == "2015" else "2024-2030"
        if cgen and cgen != wanted:
            issues.append(Issue(r["_line"], "contrat", r["contrat"], f"Le quartier {code} (géographie "
                                f"{r['geographie']}) ne peut pas être rattaché au contrat {r['contrat']}, un contrat "
                                f"{cgen}.", ERREUR, "Les quartiers QP… relèvent des contrats CV… (2015-2023), les "
                                "quartiers QN… des contrats CN… (2024-2030) ; corrigez le contrat."))
        for c in (r.get("communes_insee") or "").split("|"):
            if c:
                links.append({"code_qpv": code, "code_insee": c})
    cols = [c.name for c in kind.columns]
    return {"qpv": _frame(rows, cols), "qpv_commune": pd.DataFrame(links, columns=["code_qpv", "code_insee"])}


def _tables_simple(con, ctx, kind, rows, issues, pending):
    table = MAIN_TABLE[kind.code]
    if kind.code == "financeurs":
        for r in rows:
            r["nature_defaut"] = r.get("nature_defaut") or "specifique"
    return {table: _frame(rows, [c.name for c in kind.columns])}


def _tables_thematiques(con, ctx, kind, rows, issues, pending):
    out = [{"code": r["sous_theme_code"], "libelle": r["sous_theme_libelle"], "theme_code": r["theme_code"],
            "theme_libelle": r["theme_libelle"]} for r in rows]
    return {"thematique": pd.DataFrame(out, columns=["code", "libelle", "theme_code", "theme_libelle"])}


def _tables_thematiques_piliers(con, ctx: _Context, kind, rows, issues, pending):
    for r in rows:
        r["contrat"] = r.get("contrat") or ""
        r["generation"] = r["generation"].strip()
        if r["generation"] not in GENERATIONS:
            issues.append(Issue(r["_line"], "generation", r["generation"], f"Génération « {r['generation']} » "
                                "inconnue.", ERREUR, f"Valeurs possibles : {', '.join(GENERATIONS)}."))
            continue
        pgen = ctx.pilier_generation.get(r["pilier"])
        if pgen and pgen != r["generation"]:
            issues.append(Issue(r["_line"], "pilier", r["pilier"], f"Le pilier « {r['pilier']} » relève des "
                                f"contrats {pgen}, la correspondance est pour {r['generation']}.", ERREUR,
                                "Choisissez un pilier (ou axe) de la même génération de contrats."))
        if r["contrat"] and ctx.contrats.get(r["contrat"]) not in (None, r["generation"]):
            issues.append(Issue(r["_line"], "contrat", r["contrat"], f"Le contrat {r['contrat']} est de la "
                                f"génération {ctx.contrats[r['contrat']]}.", ERREUR,
                                "Corrigez la génération ou le contrat."))
    return {"thematique_pilier": _frame(rows, ["generation", "contrat", "thematique", "pilier"])}


# --------------------------------------------------------------------------- engagements (FORMATS.md §6-7)

# Year marking an engagement identifier in the set of keys checked earlier in the same upload
# (`pending_actions` holds (action_id, annee) pairs; a year is never 0).
PENDING_ENGAGEMENT = 0


def pending_keys(report: Report) -> set[tuple[str, int]]:
    """Keys a checked file brings that later files of the same upload may refer to: its actions
    (action_id, annee) and its engagements (engagement_id, PENDING_ENGAGEMENT)."""
    keys: set[tuple[str, int]] = set()
    act = report.tables.get("action")
    if act is not None and not act.empty:
        keys |= set(zip(act["action_id"], act["annee"].astype(int), strict=True))
    eng = report.tables.get("engagement")
    if eng is not None and not eng.empty:
        keys |= {(e, PENDING_ENGAGEMENT) for e in eng["engagement_id"]}
    return keys


def _financeur_list(checker: _RowChecker, raw: str, line: int, name: str) -> str | None:
    """`code|code` of the funders named in `raw` (codes or labels), or None after an error per unknown one."""
    codes: list[str] = []
    ok = True
    for part in (p.strip() for p in raw.split("|")):
        if not part:
            continue
        code = checker.ctx.financeurs.get(normalize_choice(part))
        if code is None:
            known = sorted(set(checker.ctx.financeurs.values()))
            checker.error(line, name, part, f"Signataire « {part} » inconnu du référentiel des financeurs.",
                          f"Utilisez un code ou un libellé du référentiel ({_enumeration(known)}), ou ajoutez-le "
                          "au référentiel des financeurs.")
            ok = False
        elif code not in codes:
            codes.append(code)
    if not codes and ok:
        checker.error(line, name, raw, "Aucun signataire indiqué.", "Indiquez le code du signataire.")
        return None
    return "|".join(codes) if ok else None


def _geography_of_contract(ctx: _Context, contrat: str) -> str:
    gen = ctx.contrats.get(contrat) or ""
    return "2015" if gen.startswith("2015") or contrat.startswith("CV") else "2024"


def _tables_engagements(con, ctx: _Context, kind, rows, issues, pending):
    checker = _RowChecker(ctx, issues)
    used = {r[0] for r in con.execute("SELECT DISTINCT contrat FROM engagement WHERE contrat IS NOT NULL"
                                      ).fetchall()}
    candidates = {r["contrat"] for r in rows if r.get("contrat")} | used | ctx.action_contrats
    for r in rows:
        line = r["_line"]
        codes = [c.strip().upper() for c in (r.get("qpv") or "*").split("|") if c.strip() and c.strip() != "*"]
        contrat = r.get("contrat")
        if not contrat and codes:
            found = {ctx.qpv[c][1] for c in codes if c in ctx.qpv and ctx.qpv[c][1]}
            if len(found) == 1:
                contrat = next(iter(found))
        if not contrat and len(candidates) == 1:
            contrat = next(iter(candidates))
        if not contrat:
            checker.error(line, "contrat", None, "Contrat de ville non précisé : la base en compte plusieurs "
                          f"({_enumeration(sorted(candidates))}).",
                          "Ajoutez une colonne contrat avec le code CV… ou CN… de l'engagement.")
            continue
        r["contrat"] = contrat
        geo = _geography_of_contract(ctx, contrat)
        for code in codes:
            qgeo, qcontrat = ctx.qpv.get(code, (None, None))
            if qgeo is None:
                continue  # already reported by the cell check
            if qgeo != geo:
                checker.error(line, "qpv", code, f"Le QPV {code} relève de la géographie prioritaire {qgeo} : il "
                              f"ne peut pas figurer dans le contrat {contrat} (géographie {geo}).",
                              "Les contrats CV… (2015-2023) utilisent les codes QP…, les contrats CN… "
                              "(2024-2030) les codes QN….")
            elif qcontrat and qcontrat != contrat:
                checker.error(line, "qpv", code, f"Le QPV {code} appartient au contrat {qcontrat}, pas au "
                              f"contrat {contrat}.", "Corrigez le code du quartier ou celui du contrat.")
        r["qpv"] = "|".join(dict.fromkeys(codes)) if codes else "*"
        pgen = ctx.pilier_generation.get(r.get("pilier") or "")
        cgen = ctx.contrats.get(contrat)
        if pgen and cgen and pgen != cgen:
            checker.warn(line, "pilier", r["pilier"], f"Le pilier « {r['pilier']} » relève des contrats {pgen}, "
                         f"le contrat {contrat} est de la génération {cgen}.", "Vérifiez le pilier ou le contrat.")
        if r.get("debut") is not None and r.get("echeance") is not None and r["echeance"] < r["debut"]:
            checker.error(line, "echeance", str(r["echeance"]), f"L'échéance ({r['echeance']}) précède le début "
                          f"({r['debut']}).", "Corrigez l'une des deux années.")
        pilote = r["signataire"].split("|")[0]
        r["nature"] = r.get("nature") or ctx.financeur_nature.get(pilote) or "specifique"
    return {"engagement": _frame(rows, [c.name for c in kind.columns])}


def _tables_suivi(con, ctx: _Context, kind, rows, issues, pending):
    ids = sorted({r["engagement_id"] for r in rows})
    known = {k for k, y in pending if y == PENDING_ENGAGEMENT}
    if ids:
        con.register("_incoming_ids", pd.DataFrame({"engagement_id": ids}))
        try:
            known |= {r[0] for r in con.execute(
                "SELECT e.engagement_id FROM engagement e SEMI JOIN _incoming_ids i USING (engagement_id)"
            ).fetchall()}
        finally:
            con.unregister("_incoming_ids")
    for r in rows:
        if r["engagement_id"] not in known:
            issues.append(Issue(r["_line"], "engagement_id", r["engagement_id"],
                                f"L'engagement « {r['engagement_id']} » n'existe pas : il n'est ni dans les "
                                "engagements importés, ni dans le fichier d'engagements de ce même envoi.", ERREUR,
                                "Importez d'abord le fichier des engagements, ou corrigez l'identifiant."))
    return {"suivi_engagement": _frame(rows, [c.name for c in kind.columns])}


# --------------------------------------------------------------------------- diff and write


def _scope_join(table: str, alias: str = "s") -> str:
    cols = TABLE_SCOPE[table]
    return " AND ".join(f"t.{c} IS NOT DISTINCT FROM {alias}.{c}" for c in cols)


def _current_rows(con, table: str, incoming_view: str) -> pd.DataFrame:
    cols = ", ".join(TABLE_SCOPE[table])
    return con.execute(
        f"SELECT t.* FROM {table} t SEMI JOIN (SELECT DISTINCT {cols} FROM {incoming_view}) s "
        f"ON {_scope_join(table)}"
    ).df()


def _normalise(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    out = []
    for row in df[columns].itertuples(index=False, name=None):
        out.append(tuple(None if (v is None or (isinstance(v, float) and pd.isna(v)) or v is pd.NA)
                         else (float(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v)
                         for v in row))
    return out


def _diff_frames(table: str, columns: list[str], before: pd.DataFrame, after: pd.DataFrame) -> TableDiff:
    ident = list(TABLE_IDENTITY.get(table, TABLE_SCOPE[table]))
    pos = [columns.index(c) for c in ident]
    b_rows = {tuple(r[i] for i in pos): r for r in _normalise(before.reindex(columns=columns), columns)}
    a_rows = {tuple(r[i] for i in pos): r for r in _normalise(after.reindex(columns=columns), columns)}
    changed = [k for k in a_rows if k in b_rows and a_rows[k] != b_rows[k]]

    def frame(keys, source):
        return pd.DataFrame([source[k] for k in keys], columns=columns)

    return TableDiff(table, frame([k for k in a_rows if k not in b_rows], a_rows), frame(changed, b_rows),
                     frame(changed, a_rows), frame([k for k in b_rows if k not in a_rows], b_rows))


# From this many incoming rows on, a table whose identity is a key is compared in DuckDB (same result as
# `_diff_frames`, which compares row by row in Python).
SQL_DIFF_ROWS = 20_000


def _diff_sql(con, table: str, columns: list[str], incoming: pd.DataFrame) -> TableDiff:
    """`_diff_frames(table, columns, current rows, incoming)` computed by DuckDB, for a table whose identity
    (TABLE_IDENTITY) is a key: rows added and changed in the order of `incoming`, numbers as floats."""
    ident = list(TABLE_IDENTITY[table])
    on = " AND ".join(f"b.{c} IS NOT DISTINCT FROM i.{c}" for c in ident)
    same = " AND ".join(f"b.{c} IS NOT DISTINCT FROM i.{c}" for c in columns)
    listed = ", ".join(columns)
    con.register("_incoming_diff", incoming.assign(_rn=np.arange(len(incoming))))
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _before AS SELECT t.* FROM {table} t SEMI JOIN "
                    f"(SELECT DISTINCT {', '.join(TABLE_SCOPE[table])} FROM _incoming_diff) s ON {_scope_join(table)}")
        added = con.execute(f"SELECT {listed} FROM _incoming_diff i ANTI JOIN _before b ON {on} ORDER BY i._rn").df()
        removed = con.execute(f"SELECT {listed} FROM _before b ANTI JOIN _incoming_diff i ON {on}").df()
        pairs = con.execute(
            f"SELECT {', '.join(f'b.{c} AS b_{c}' for c in columns)}, {', '.join(f'i.{c} AS i_{c}' for c in columns)} "
            f"FROM _before b JOIN _incoming_diff i ON {on} WHERE NOT ({same}) ORDER BY i._rn").df()
        con.execute("DROP TABLE _before")
    finally:
        con.unregister("_incoming_diff")

    def normalised(df: pd.DataFrame) -> pd.DataFrame:
        for c in df.columns:  # numbers as floats, as `_normalise` gives them
            if pd.api.types.is_integer_dtype(df[c]):
                df[c] = df[c].astype(float)
        return df.reset_index(drop=True)

    before = pairs[[f"b_{c}" for c in columns]].set_axis(columns, axis=1)
    after = pairs[[f"i_{c}" for c in columns]].set_axis(columns, axis=1)
    return TableDiff(table, normalised(added), normalised(before), normalised(after), normalised(removed))


def diff_table(con, table: str, incoming: pd.DataFrame) -> TableDiff:
    """Rows of `table` that writing `incoming` (over its scope) would add, change and remove."""
    columns = table_columns(con, table)
    incoming = incoming.reindex(columns=columns)
    if table in TABLE_IDENTITY and len(incoming) >= SQL_DIFF_ROWS:
        return _diff_sql(con, table, columns, incoming)
    con.register("_incoming", incoming)
    try:
        before = _current_rows(con, table, "_incoming")
    finally:
        con.unregister("_incoming")
    return _diff_frames(table, columns, before, incoming)


def _count_sql(con, table: str, incoming: pd.DataFrame) -> tuple[int, int, int]:
    """(added, changed, removed) of `_diff_sql`, counted by DuckDB without building the rows."""
    columns = table_columns(con, table)
    incoming = incoming.reindex(columns=columns)
    ident = list(TABLE_IDENTITY[table])
    on = " AND ".join(f"b.{c} IS NOT DISTINCT FROM i.{c}" for c in ident)
    same = " AND ".join(f"b.{c} IS NOT DISTINCT FROM i.{c}" for c in columns)
    con.register("_incoming_diff", incoming)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _before AS SELECT t.* FROM {table} t SEMI JOIN "
                    f"(SELECT DISTINCT {', '.join(TABLE_SCOPE[table])} FROM _incoming_diff) s ON {_scope_join(table)}")
        added, changed, removed = con.execute(
            f"SELECT (SELECT count(*) FROM _incoming_diff i ANTI JOIN _before b ON {on}), "
            f"(SELECT count(*) FROM _before b JOIN _incoming_diff i ON {on} WHERE NOT ({same})), "
            f"(SELECT count(*) FROM _before b ANTI JOIN _incoming_diff i ON {on})").fetchone()
        con.execute("DROP TABLE _before")
    finally:
        con.unregister("_incoming_diff")
    return int(added), int(changed), int(removed)


def change_counts(con, report: Report) -> dict[str, tuple[int, int, int]]:
    """(added, changed, removed) rows per table, as `preview` counts them, without building the rows of large
    tables."""
    out: dict[str, tuple[int, int, int]] = {}
    for table, df in report.tables.items():
        if table in TABLE_IDENTITY and len(df) >= SQL_DIFF_ROWS:
            out[table] = _count_sql(con, table, df)
        else:
            d = diff_table(con, table, df)
            out[table] = (len(d.added), len(d.changed_after), len(d.removed))
    return out


def preview(con, report: Report) -> dict[str, TableDiff]:
    """What importing a checked file would do to each table, without writing."""
    return {table: diff_table(con, table, df) for table, df in report.tables.items()}


def _write_table(con, import_id: int, table: str, incoming: pd.DataFrame) -> None:
    columns = table_columns(con, table)
    incoming = incoming.reindex(columns=columns)
    con.register("_incoming", incoming)
    try:
        cols = ", ".join(TABLE_SCOPE[table])
        con.execute(f"CREATE OR REPLACE TEMP TABLE _scope AS SELECT DISTINCT {cols} FROM _incoming")
        con.execute(
            f"INSERT INTO journal_{table} SELECT ?, 'avant', t.* FROM {table} t SEMI JOIN _scope s "
            f"ON {_scope_join(table)}", [import_id])
        con.execute(f"DELETE FROM {table} t USING _scope s WHERE {_scope_join(table)}")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _incoming")
        con.execute(f"INSERT INTO journal_{table} SELECT ?, 'apres', * FROM {table} t SEMI JOIN _scope s "
                    f"ON {_scope_join(table)}", [import_id])
        con.execute("DROP TABLE _scope")
    finally:
        con.unregister("_incoming")


def _refresh_facts(con, import_id: int) -> None:
    """Bring the fact tables in step with what one import (or undo) wrote: once, over every action-year that
    its journal images of actions, QPV shares and funding name."""
    parts = [f"SELECT action_id, annee FROM journal_{t} WHERE import_id = ?" for t in sorted(FACT_SOURCES)]
    con.execute("CREATE OR REPLACE TEMP TABLE _fact_scope AS " + " UNION ".join(parts), [import_id] * len(parts))
    if con.execute("SELECT count(*) FROM _fact_scope").fetchone()[0]:
        facts.refresh(con, "_fact_scope")
    con.execute("DROP TABLE _fact_scope")


def _new_import_id(con) -> int:
    return con.execute("SELECT nextval('import_id_seq')").fetchone()[0]


def _journal(con, import_id: int, user: str | None, file_name: str, digest: str | None, kind: str,
             n_rows: int, counts: tuple[int, int, int], undo_of: int | None = None) -> None:
    con.execute(
        "INSERT INTO import_journal (import_id, horodatage, utilisateur, fichier, empreinte, type_fichier, "
        "nb_lignes, nb_ajoutees, nb_modifiees, nb_supprimees, annule) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [import_id, datetime.now(), user, file_name, digest, kind, n_rows, *counts, undo_of],
    )


def default_user() -> str:
    """Who runs the import when no one is named (the system account)."""
    try:
        return getpass.getuser()
    except Exception:  # noqa: BLE001 - no account name in some containers
        return "inconnu"


def apply_report(con, report: Report, user: str | None = None) -> ImportResult:
    """Write a checked file in one transaction and journal it. Raises ImportRejected if it has errors."""
    if not report.ok or report.kind is None:
        raise ImportRejected(report)
    from cdv_core import gestion  # the only module that opens a writing transaction (it builds on this one)

    with gestion._transaction(con, None, "", role=None) as (tx, _who):
        return apply_in_transaction(tx, report, user)


def apply_in_transaction(con, report: Report, user: str | None = None) -> ImportResult:
    """Write and journal a checked file inside the caller's transaction (the caller holds WRITE_LOCK).

    Lets several files be written in one transaction (an upload of several files is all or nothing).
    """
    if not report.ok or report.kind is None:
        raise ImportRejected(report)
    main = MAIN_TABLE[report.kind.code]
    changes = change_counts(con, report)
    counts = changes[main]
    import_id = _new_import_id(con)
    if any(sum(c) for c in changes.values()):
        try:
            for table, df in report.tables.items():
                _write_table(con, import_id, table, df)
        except duckdb.Error as exc:
            # every check ran before; should the base still refuse a row, the file is rejected, never a traceback
            logging.getLogger(__name__).exception("write of %s refused by the base", report.file_name)
            report.issues.append(Issue(None, None, None, f"La base a refusé le contenu du fichier « "
                                       f"{report.file_name} » : rien n'a été écrit.", ERREUR,
                                       "Vérifiez les identifiants (doublons) et les nombres du fichier."))
            raise ImportRejected(report) from exc
        _refresh_facts(con, import_id)
    _journal(con, import_id, user or default_user(), report.file_name, report.checksum,
             report.kind.code, report.n_rows, counts)
    return ImportResult(import_id, report.kind.code, report.file_name, report.n_rows, *counts, report=report)


def import_bytes(con, data: bytes, file_name: str, kind: str | None = None, user: str | None = None,
                 pending_actions: set[tuple[str, int]] | None = None) -> ImportResult:
    """Check then write one file. Raises ImportRejected (nothing written) if any error is found."""
    report = check_file(con, data, file_name, kind, pending_actions)
    return apply_report(con, report, user)


def sort_for_import(items: list[tuple[str, bytes]]) -> list[tuple[str, bytes, str | None]]:
    """(name, data) pairs ordered so referentials come before what uses them; kind detected when possible."""
    out = []
    for name, data in items:
        kind = None
        kind_obj = detect_kind_of(data, name)
        kind = kind_obj.code if kind_obj else None
        out.append((name, data, kind))
    order = {k: i for i, k in enumerate(IMPORT_ORDER)}
    return sorted(out, key=lambda t: order.get(t[2] or "", len(order)))


# --------------------------------------------------------------------------- undo


def journal(con) -> pd.DataFrame:
    """The import journal, newest first."""
    return con.execute(
        "SELECT import_id, horodatage, utilisateur, fichier, empreinte, type_fichier, nb_lignes, nb_ajoutees, "
        "nb_modifiees, nb_supprimees, annule_par, annule FROM import_journal ORDER BY import_id DESC"
    ).df()


def _touched_tables(con, import_id: int) -> list[str]:
    return [t for t in TABLE_SCOPE
            if con.execute(f"SELECT 1 FROM journal_{t} WHERE import_id = ? LIMIT 1", [import_id]).fetchone()]


# Rows of these tables hang on rows of the key table: a later change to them blocks an undo of the key table.
DEPENDENT_TABLES: dict[str, tuple[str, ...]] = {
    "action": ("action_qpv", "financement"),
    "qpv": ("qpv_commune",),
    "engagement": ("suivi_engagement",),
}


def undo_blockers(con, import_id: int) -> list[int]:
    """Later imports, not undone, that touched rows of the same scope as `import_id` (or rows depending on them)."""
    blockers: set[int] = set()
    for table in _touched_tables(con, import_id):
        cols = TABLE_SCOPE[table]
        join = " AND ".join(f"a.{c} IS NOT DISTINCT FROM b.{c}" for c in cols)
        for other in (table, *DEPENDENT_TABLES.get(table, ())):
            rows = con.execute(
                f"SELECT DISTINCT b.import_id FROM journal_{table} a JOIN journal_{other} b ON {join} "
                "JOIN import_journal j ON j.import_id = b.import_id "
                "WHERE a.import_id = ? AND b.import_id > ? AND j.annule_par IS NULL AND j.annule IS NULL",
                [import_id, import_id]).fetchall()
            blockers |= {r[0] for r in rows}
    return sorted(blockers)


def undo_import(con, import_id: int | None = None, user: str | None = None) -> ImportResult:
    """Restore the rows an import replaced, as one journaled operation. Raises UndoRefused with the reason."""
    from cdv_core import gestion  # the only module that opens a writing transaction (it builds on this one)

    with gestion._transaction(con, None, "", role=None) as (tx, _who):
        return undo_in_transaction(tx, import_id, user)


def undo_in_transaction(con, import_id: int | None = None, user: str | None = None) -> ImportResult:
    """`undo_import` inside the caller's transaction (the caller holds WRITE_LOCK): gestion.undo uses it."""
    if import_id is None:
        row = con.execute("SELECT max(import_id) FROM import_journal WHERE annule_par IS NULL "
                          "AND annule IS NULL").fetchone()
        if row[0] is None:
            raise UndoRefused("Aucun import à annuler.")
        import_id = row[0]
    entry = con.execute("SELECT fichier, type_fichier, annule_par, annule FROM import_journal "
                        "WHERE import_id = ?", [import_id]).fetchone()
    if entry is None:
        raise UndoRefused(f"L'import n° {import_id} n'existe pas.")
    file_name, kind, undone_by, undo_of = entry
    if undone_by is not None:
        raise UndoRefused(f"L'import n° {import_id} a déjà été annulé (annulation n° {undone_by}).")
    blockers = undo_blockers(con, import_id)
    if blockers:
        names = dict(con.execute("SELECT import_id, fichier FROM import_journal WHERE import_id IN "
                                 f"({', '.join('?' for _ in blockers)})", blockers).fetchall())
        shown = ", ".join(f"n° {b} ({names.get(b)})" for b in blockers)
        raise UndoRefused(
            f"L'import n° {import_id} ne peut pas être annulé : "
            f"{'les imports' if len(blockers) > 1 else 'l’import'} {shown} "
            f"{'ont' if len(blockers) > 1 else 'a'} modifié depuis les mêmes lignes. "
            "Annulez-les d'abord, du plus récent au plus ancien.")
    new_id = _new_import_id(con)
    counts = [0, 0, 0]
    main = MAIN_TABLE.get(kind)
    for table in _touched_tables(con, import_id):
        cols = ", ".join(TABLE_SCOPE[table])
        con.execute(f"CREATE OR REPLACE TEMP TABLE _scope AS SELECT DISTINCT {cols} FROM journal_{table} "
                    "WHERE import_id = ?", [import_id])
        restore = con.execute(f"SELECT * EXCLUDE (import_id, etat) FROM journal_{table} "
                              "WHERE import_id = ? AND etat = 'avant'", [import_id]).df()
        if table == main:
            current = con.execute(f"SELECT t.* FROM {table} t SEMI JOIN _scope s "
                                  f"ON {_scope_join(table)}").df()
            d = _diff_frames(table, table_columns(con, table), current, restore)
            counts = [len(d.added), len(d.changed_after), len(d.removed)]
        con.execute(f"INSERT INTO journal_{table} SELECT ?, 'avant', t.* FROM {table} t "
                    f"SEMI JOIN _scope s ON {_scope_join(table)}", [new_id])
        con.execute(f"DELETE FROM {table} t USING _scope s WHERE {_scope_join(table)}")
        con.execute(f"INSERT INTO {table} SELECT * EXCLUDE (import_id, etat) FROM journal_{table} "
                    "WHERE import_id = ? AND etat = 'avant'", [import_id])
        con.execute(f"INSERT INTO journal_{table} SELECT ?, 'apres', t.* FROM {table} t "
                    f"SEMI JOIN _scope s ON {_scope_join(table)}", [new_id])
        con.execute("DROP TABLE _scope")
    _refresh_facts(con, new_id)
    _journal(con, new_id, user or default_user(), f"annulation de l'import n° {import_id} ({file_name})",
             None, kind, 0, (counts[0], counts[1], counts[2]), undo_of=import_id)
    con.execute("UPDATE import_journal SET annule_par = ? WHERE import_id = ?", [new_id, import_id])
    return ImportResult(new_id, kind, file_name, 0, counts[0], counts[1], counts[2])


def label(value: str | None) -> str:
    """French label of a listed value (statut, nature…), the value itself otherwise."""
    if value is None:
        return ""
    return LIBELLES.get(value, value)
