"""Saved views (a page + its shared filters) and saved COPIL meeting sequences (séances).

Both are settings written by staff, not data: they live in plain tables (`vue_enregistree`, `seance`), survive an
import or an undo, and are only written by `cdv_core.gestion` (gestionnaires only, journaled in `journal_acces`).
This module reads them and checks what is to be saved; it never writes.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import unicodedata
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

import duckdb
import pandas as pd

from cdv_core.errors import CdvError
from cdv_core.filters import Filtres

# Shared filters as they appear in a URL (same names as the filter bar's URL parameters).
MULTI = ("communes", "qpv", "piliers", "thematiques", "financeurs", "nature", "statut", "porteur_type",
         "dispositifs")
URL_KEYS = ("annees", "contrat", *MULTI)
MAX_NOM = 120


class VueInvalide(CdvError, ValueError):
    """A name or a sequence that cannot be saved; the message is a French sentence for the person."""


def slugify(text: str) -> str:
    """`COPIL du 12 décembre 2026` → `copil-du-12-decembre-2026` (what goes in a URL)."""
    ascii_ = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_.lower()).strip("-")[:80]


# --- shared filters <-> query string ---------------------------------------------------------------------


def filters_query_string(params: dict[str, str]) -> str:
    """Only the shared-filter parameters of a URL's query parameters, in a stable order."""
    return urlencode([(k, params[k]) for k in URL_KEYS if params.get(k)])


def filtres_from_query(query_string: str, annees: list[int] | tuple[int, ...]) -> Filtres:
    """The `Filtres` a query string selects (`annees=2016-2022&financeurs=caf,region`).

    `annees` are the years present in the data: a range is expanded to them; a malformed value is ignored.
    """
    params = dict(parse_qsl(query_string.lstrip("?"), keep_blank_values=False))
    years = sorted(int(y) for y in annees)
    chosen: tuple[int, ...] = ()
    raw = params.get("annees", "")
    if raw and years:
        parts = raw.replace("..", "-").split("-")
        try:
            a, b = int(parts[0]), int(parts[-1])
            lo, hi = min(a, b), max(a, b)
            chosen = tuple(y for y in years if lo <= y <= hi)
        except ValueError:
            chosen = ()
        if chosen == tuple(years):
            chosen = ()  # the whole period is "no filter", as in the filter bar
    values = {name: tuple(v for v in params.get(name, "").split(",") if v) for name in MULTI}
    return Filtres(annees=chosen, contrat=params.get("contrat") or None, **values)


# --- saved views -----------------------------------------------------------------------------------------


def _clean_name(nom: str) -> str:
    nom = " ".join((nom or "").split())
    if not nom:
        raise VueInvalide("Donnez un nom (par exemple « Financements CAF 2022 »).")
    if len(nom) > MAX_NOM:
        raise VueInvalide(f"Le nom est trop long ({len(nom)} caractères, {MAX_NOM} au plus).")
    return nom


def view_row(nom: str, page: str, query_string: str) -> tuple[str, str, str]:
    """The checked (nom, page, query string) of a view to save; VueInvalide with a French message otherwise.

    Writing is done by `gestion.save_view` (gestionnaires only).
    """
    nom = _clean_name(nom)
    page = page.strip("/")
    if not re.fullmatch(r"[a-z0-9-]*", page):
        raise VueInvalide(f"Page inconnue : « {page} ».")
    return nom, page, query_string.lstrip("?")


def list_views(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved views, most recent first: nom, page, query_string, cree_le, url."""
    df = con.execute("SELECT nom, page, query_string, cree_le FROM vue_enregistree "
                     "ORDER BY cree_le DESC, nom").df()
    df["url"] = [view_url(p, qs) for p, qs in zip(df["page"], df["query_string"].fillna(""), strict=True)]
    return df


def view_url(page: str, query_string: str) -> str:
    """Relative link that reopens a view: `/<page>?<query>`."""
    return f"/{page.strip('/')}" + (f"?{query_string}" if query_string else "")


# --- séances ---------------------------------------------------------------------------------------------


@dataclass
class Seance:
    """A meeting: its title, date, ordered slides (`{"type": ..., params}`) and shared filters."""

    titre: str
    date: dt.date | None = None
    slides: list[dict] = field(default_factory=list)
    filtres_query_string: str = ""
    nom: str = ""

    def __post_init__(self) -> None:
        if not self.nom:
            self.nom = slugify(self.titre)


def seance_row(seance: Seance, known_types: set[str] | None = None) -> tuple[str, str, str]:
    """The checked (nom, titre, slides as JSON) of a séance to save; VueInvalide with a French message otherwise.

    Writing is done by `gestion.save_seance` (gestionnaires only).
    """
    titre = _clean_name(seance.titre)
    nom = slugify(titre)
    if not nom:
        raise VueInvalide("Le titre doit contenir au moins une lettre ou un chiffre.")
    if not seance.slides:
        raise VueInvalide("Choisissez au moins une diapositive.")
    unknown = [s.get("type") for s in seance.slides if known_types is not None and s.get("type") not in known_types]
    if unknown:
        raise VueInvalide(f"Diapositive inconnue : {', '.join(map(str, unknown))}.")
    return nom, titre, json.dumps(seance.slides, ensure_ascii=False)


def load_seance(con: duckdb.DuckDBPyConnection, nom: str) -> Seance | None:
    """The séance saved under `nom` (its slug), or None."""
    row = con.execute("SELECT nom, titre, date, slides_json, filtres_query_string FROM seance WHERE nom = ?",
                      [slugify(nom) or nom]).fetchone()
    if row is None:
        return None
    try:
        slides = [s for s in json.loads(row[3]) if isinstance(s, dict) and s.get("type")]
    except (TypeError, ValueError):
        slides = []
    return Seance(titre=row[1], date=row[2], slides=slides, filtres_query_string=row[4] or "", nom=row[0])


def list_seances(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Saved séances, next meetings first: nom, titre, date, nb_slides, cree_le."""
    return con.execute(
        "SELECT nom, titre, date, json_array_length(slides_json) AS nb_slides, cree_le FROM seance "
        "ORDER BY date DESC NULLS LAST, cree_le DESC").df()
