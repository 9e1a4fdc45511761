"""COPIL slides: a slide is a section of the section model (`cdv_core.sections`) drawn full screen.

The presentation page shows a `Section` full width; the dossier de séance (cdv_core.dossier) prints the same
`Section` in a PDF; the Excel export gathers their tables. A séance stores slides as `{"type": ..., params}`;
every section registered with `slide=True` is a slide type.
"""

from __future__ import annotations

import duckdb

from cdv_core import queries, sections
from cdv_core.filters import Filtres  # noqa: F401  (re-exported: slides.Filtres)
from cdv_core.sections import (  # noqa: F401  (re-exported for the pages, the dossier and the tests)
    FUNDING_SOURCES,
    NO_ACTION,
    SPLIT_NOTE,
    Section,
    SectionType,
    annees_disponibles,
    build,
    source,
)
from cdv_core.sections.vue_ensemble import qpv_map_chart  # noqa: F401

Slide = Section
SlideType = SectionType
CATALOGUE: dict[str, SectionType] = sections.slide_types()
DEFAULT_SEQUENCE = ("chiffres_cles", "evolution", "financeurs", "piliers", "quartiers")

# The active filters in one French sentence, as the pages print them under their title.
resume_filtres = queries.resume_filtres


def annee_par_defaut(con: duckdb.DuckDBPyConnection, f: Filtres) -> int | None:
    """Last year whose actions are mostly decided (as the dashboard's pages choose it)."""
    return sections.annee_par_defaut(con, f)


def libelle(spec: dict) -> str:
    """How a slide of a séance is named in the list ("Répartition par pilier (2022)")."""
    kind = CATALOGUE.get(spec.get("type", ""))
    text = kind.libelle if kind else str(spec.get("type"))
    extra = [str(spec[p]) for p in ("qpv", "enquete", "annee") if spec.get(p)]
    return text + (f" ({', '.join(extra)})" if extra else "")


def spec_args(spec: dict) -> tuple[str, dict]:
    """(type, params) of a séance's slide spec, params hashable (for a cached call)."""
    return spec.get("type", ""), {k: v for k, v in spec.items() if k not in ("type", "filtres")}


def filtres_of(spec: dict, f: Filtres, annees: list[int]) -> Filtres:
    """The filters of one slide: its own (`"filtres": "<query string>"`, chosen when preparing the séance),
    else the séance's."""
    from cdv_core import vues

    own = spec.get("filtres")
    return vues.filtres_from_query(own, annees) if isinstance(own, str) and own else f
