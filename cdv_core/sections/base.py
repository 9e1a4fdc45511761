"""The section model: every block of a page, slide or export is a `Section`, built once in `cdv_core`.

A `Section` is plain, picklable data (a French headline, key figures, a Vega-Lite spec as a dict, a table,
its source and notes), built by a registered function of (connection, filters, params). The Streamlit pages
draw it (`ui.show`), the presentation shows it as a slide, the dossier prints it (PDF, PPTX) and the Excel
export gathers its table: a rule or a sentence is written once, in the builder. The app caches a built
section on (filters, params, data version), so an unchanged section costs a dictionary lookup.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import duckdb
import pandas as pd

from cdv_core import charts, fmt, queries, tables
from cdv_core.filters import Filtres
from cdv_core.runner import query

SPLIT_NOTE = ("Montants par quartier : une action menée dans plusieurs quartiers (ou sur tout le contrat) est "
              "répartie à parts égales entre eux, si bien que la somme des quartiers égale le total.")
FUNDING_SOURCES = ("programmation", "financements")
KIND_LABELS = {"programmation": "programmation", "financements": "financements", "indicateurs": "indicateurs",
               "enquete": "enquêtes", "enquete_diffusion": "diffusion des enquêtes",
               "engagements": "engagements", "suivi_engagements": "suivi des engagements"}
NO_ACTION = "Aucune action ne correspond aux filtres choisis."

# How a table column is shown (page, PDF, Excel): a column not listed is guessed from its name.
FORMATS = ("euros", "euros2", "pourcent", "nombre", "decimal", "texte", "annee",
           # the pages' finer formats: 12,3 € ; 12 % ; +12,5 % ; +1,5 (points) ; a wide text column
           "euros1", "pourcent0", "evolution_pct", "ecart", "texte_large")
# (a value starting with "%" is a printf format of its own, e.g. "%.1f %" for an indicator in %)


@dataclass
class Chiffre:
    """A key figure: its label, its value already formatted in French, an optional help and delta."""

    libelle: str
    valeur: str
    aide: str | None = None
    delta: str | None = None


@dataclass
class Section:
    """What one section says: a headline that states the finding, key figures, a chart, its table, its source."""

    type: str
    titre: str
    chiffres: list[Any] = field(default_factory=list)  # Chiffre ((label, value) pairs are turned into Chiffre)
    chart: dict | Any = None  # an Altair chart becomes a Vega-Lite spec (plain dict), drawn as is by the page, vl-convert and the PPTX
    table: pd.DataFrame | None = None
    table_nom: str = ""
    source: str = ""
    notes: list[str] = field(default_factory=list)
    vide: str | None = None  # a sentence shown instead of the chart when there is nothing to show
    params: dict = field(default_factory=dict)
    formats: dict[str, str] = field(default_factory=dict)
    intro: list[str] = field(default_factory=list)  # notes a page shows between the headline and the chart

    def __post_init__(self) -> None:
        # Builders may hand (label, value) pairs and Altair charts: kept as plain data, so a cached section
        # never rebuilds or re-validates its chart.
        self.chiffres = [c if isinstance(c, Chiffre) else Chiffre(*c) for c in self.chiffres]
        if self.chart is not None and not isinstance(self.chart, dict):
            self.chart = charts.spec(self.chart)

    @property
    def texte_alternatif(self) -> str:
        """The chart's text alternative in a slide or an export: its headline (the table is one tab away)."""
        return self.titre

    @property
    def nom_graphique(self) -> str:
        """The chart's accessible name on a page: what it shows, the same whatever the filters. The headline,
        which changes with them, is the heading just above; a name that does not change lets the browser update
        the chart's data in place at a filter change instead of drawing the chart anew."""
        kind = CATALOGUE.get(self.type)
        return f"Graphique : {kind.graphique or kind.libelle}" if kind else self.titre


def section(*args: Any, **kwargs: Any) -> Section:
    """A Section from (label, value[, help, delta]) pairs and an Altair chart: `Section.__post_init__` turns them
    into `Chiffre`s and a plain Vega-Lite dict (this untyped door keeps mypy quiet for such builders)."""
    return Section(*args, **kwargs)


@dataclass(frozen=True)
class SectionType:
    libelle: str
    builder: Callable[..., Section]
    params: tuple[str, ...] = ()  # what the staff may choose per slide: "annee", "annee_ref", "qpv", …
    slide: bool = False  # offered as a slide of the COPIL presentation and of the dossier
    # The fields of Filtres the section reads (None: all of them). The others are reset before it is built and
    # cached, so that a change of funder does not rebuild a quartier's roadmap; tests/test_section_filtres.py
    # checks on every registered section that the fields left out change nothing.
    filtres: tuple[str, ...] | None = None
    graphique: str | None = None  # what its chart shows, for its accessible name, when not its libellé


CATALOGUE: dict[str, SectionType] = {}
INT_PARAMS = ("annee", "annee_ref")


def register(name: str, libelle: str, params: tuple[str, ...] = (), slide: bool = False,
             filtres: tuple[str, ...] | None = None, graphique: str | None = None):
    """Decorator: make a builder `fn(con, f, **params) -> Section` known under `name`; `filtres`: the fields of
    Filtres it reads, when not all of them; `graphique`: what its chart shows, when its libellé does not say it
    to a visitor (`Section.nom_graphique`)."""
    known = {fl.name for fl in fields(Filtres)}
    if filtres is not None and not set(filtres) <= known:
        raise ValueError(f"section {name!r}: unknown filter fields {sorted(set(filtres) - known)}")

    def deco(fn: Callable[..., Section]) -> Callable[..., Section]:
        if name in CATALOGUE and CATALOGUE[name].builder is not fn:
            raise ValueError(f"section {name!r} registered twice")
        CATALOGUE[name] = SectionType(libelle, fn, tuple(params), slide,
                                      None if filtres is None else tuple(filtres), graphique)
        return fn

    return deco


def filtres_utiles(type_: str, f: Filtres) -> Filtres:
    """The filters as the section `type_` reads them: the fields it does not read reset to "all" (the same
    section, built and cached once, for every value of those fields)."""
    kind = CATALOGUE.get(type_)
    if kind is None or kind.filtres is None:
        return f
    return Filtres(**{name: getattr(f, name) for name in kind.filtres})


def empty(type_: str, titre: str, message: str, params: dict | None = None) -> Section:
    return Section(type=type_, titre=titre, vide=message, params=dict(params or {}))


def build(con: duckdb.DuckDBPyConnection, f: Filtres, type_: str, **params) -> Section:
    """The section `type_` for the filters; an unknown type gives a section that says so (a séance may be older)."""
    kind = CATALOGUE.get(type_)
    if kind is None:
        return empty(type_, "Diapositive indisponible",
                     f"Cette diapositive (« {type_} ») n'existe plus dans cette version du tableau de bord.")
    clean = {k: v for k, v in params.items() if k in kind.params and v not in (None, "")}
    for key in INT_PARAMS:
        if key in clean:
            try:
                clean[key] = int(clean[key])
            except (TypeError, ValueError):
                clean.pop(key)
    return kind.builder(con, filtres_utiles(type_, f), **clean)


def slide_types() -> dict[str, SectionType]:
    """The sections offered as slides, in registration order."""
    return {k: v for k, v in CATALOGUE.items() if v.slide}


# Builders run their queries with `query(con, fn, ...)` (cdv_core.runner): directly, or through the app's cache,
# so that the sections of one page asking for the same figures run each query once.


# --- rules shared by the builders (written once) ----------------------------------------------------------


def annees_disponibles(con: duckdb.DuckDBPyConnection, f: Filtres) -> list[int]:
    """Years with at least one action for the filters."""
    return list(query(con, queries.annees_avec_actions, f))


def annee_par_defaut(con: duckdb.DuckDBPyConnection, f: Filtres) -> int | None:
    """Last year whose actions are mostly decided (the rule every page and slide follows)."""
    return query(con, queries.annee_decidee, f)


def annee_affichee(con: duckdb.DuckDBPyConnection, f: Filtres, choisie: int | None) -> int | None:
    """The year a section shows: the one chosen if it has actions, else the default year, else the last one."""
    years = annees_disponibles(con, f)
    if choisie in years:
        return choisie
    default = annee_par_defaut(con, f)
    return default if default in years else (years[-1] if years else None)


def annee_reference(years: list[int], annee_: int, choisie: int | None = None) -> int:
    """The reference year of a comparison: the one chosen, else 2016 (first full year of the 2015 contracts)
    when there is one, else the first year."""
    if choisie in years and choisie != annee_:
        return int(choisie)
    return 2016 if 2016 in years and annee_ != 2016 else years[0]


def choix_reference(years: list[int], annee_: int, anterieures: bool = False) -> list[int]:
    """The years a comparison may start from: the others (only the earlier ones when `anterieures` and there
    are some), else the year itself."""
    earlier = [y for y in years if y < annee_] if anterieures else []
    return earlier or [y for y in years if y != annee_] or list(years)


def annee_en_cours() -> int:
    """The calendar year in progress (its figures are partial); `CDV_ANNEE_EN_COURS` sets it (tests, demos)."""
    try:
        return int(os.environ.get("CDV_ANNEE_EN_COURS") or dt.date.today().year)
    except ValueError:
        return dt.date.today().year


def libelle_annee(annee: int) -> str:
    """`2026 (en cours)` for the year in progress, else `2025`."""
    return f"{annee} (en cours)" if annee == annee_en_cours() else str(annee)


def annee_de_croissance(years: list[int], annee: int, choisie: int | None) -> int:
    """The year a growth headline compares: the year in progress (partial) only when chosen."""
    if choisie is None and annee == annee_en_cours():
        earlier = [y for y in years if y < annee]
        if earlier:
            return earlier[-1]
    return annee


def note_annee(choisie: int | None, annee: int | None) -> list[str]:
    """A note when the year chosen has no data and another one is shown, or when the year shown is partial."""
    notes = []
    if choisie is not None and annee is not None and int(choisie) != annee:
        notes.append(f"Aucune action en {choisie} pour ces filtres : l'année {annee} est présentée.")
    if annee is not None and annee == annee_en_cours():
        notes.append(f"{annee} est en cours : ses montants sont partiels.")
    return notes


def titre_evolution(montant: float, montant_ref: float, annee: int, annee_ref: int,
                    sujet: str = "Les financements") -> str:
    """The headline of a change between two years, right in every edge case: one year only (or the reference
    equal to the year shown), a reference year without money, a partial year in progress."""
    en_cours = " (année en cours, montants partiels)" if annee == annee_en_cours() else ""
    if annee == annee_ref or not montant_ref:
        quand = f"en {annee}" if annee == annee_ref else f"en {annee}, aucun en {annee_ref}"
        return f"{fmt.euros(montant)} accordés {quand}{en_cours}"
    pct = 100 * (montant - montant_ref) / montant_ref
    if round(abs(pct)) == 0:
        return f"{sujet} sont stables entre {annee_ref} et {annee} ({fmt.euros(montant)}){en_cours}"
    sens = "augmenté" if pct > 0 else "baissé"
    return f"{sujet} ont {sens} de {fmt.pourcent(abs(pct), 0)} entre {annee_ref} et {annee}{en_cours}"


def derniers_imports(con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...]) -> list[tuple]:
    """(kind, time of its latest import still in force) for each of `kinds` imported at least once."""
    return con.execute(
        "SELECT type_fichier, max(horodatage) FROM import_journal WHERE annule_par IS NULL AND annule IS NULL "
        f"AND type_fichier IN ({', '.join('?' for _ in kinds)}) GROUP BY type_fichier", list(kinds)).fetchall()


def source(con: duckdb.DuckDBPyConnection, kinds: tuple[str, ...], annees: tuple[int | None, ...] = ()) -> str:
    """`Source : programmation et financements 2022, import du 3 mars 2026` (latest import of those kinds).

    The journal is read through the app's cache (it changes only with an import or an undo, which renew the
    data version): every section states its source, and one query per section was a tenth of a page's work."""
    rows = query(con, derniers_imports, tuple(kinds))
    labels = [KIND_LABELS.get(k, k) for k in kinds]
    what = " et ".join([", ".join(labels[:-1]), labels[-1]]) if len(labels) > 1 else labels[0]
    years = [a for a in annees if a is not None]
    if years:
        lo, hi = min(years), max(years)
        what += f" {lo}" if lo == hi else f" {lo} à {hi}"
    if not rows:
        return f"Source : {what}"
    latest = max(r[1] for r in rows)
    return f"Source : {what}, import du {fmt.date_fr(latest)}"


def pivot_by_year(df: pd.DataFrame, index: str, index_title: str, value: str = "montant_accorde") -> pd.DataFrame:
    """Table: one row per `index` (named `index_title`), one column per year (`annee`), sums, 0 where nothing."""
    table = tables.pivot_sum(df, index, "annee", value).reset_index().rename(columns={index: index_title})
    table.columns = [str(c) for c in table.columns]
    return table


def bars_height(n: int) -> int:
    """Bars thick enough to read on a projector, whatever their number."""
    return max(320, min(600, 56 * n))
