"""Sections that read only some of the filters (`register(..., filtres=...)`): the fields they leave out change
nothing in what they show, so the app builds and caches them once for every value of those fields (a funder
chosen does not rebuild a quartier's roadmap). Real demo DuckDB file; each builder is called with the whole
filters and compared with the section built as the app builds it."""

from __future__ import annotations

import dataclasses

import duckdb
import pandas as pd
import pytest

from cdv_core import schema, sections
from cdv_core.filters import Filtres
from cdv_core.sections import CATALOGUE, SectionType

DECLARED = sorted(name for name, kind in CATALOGUE.items() if kind.filtres is not None)


def _values(con) -> dict[str, tuple]:
    """One value of every filter field, read from the demo database itself: each one narrows what is shown."""
    one = lambda sql: con.execute(sql).fetchone()[0]  # noqa: E731
    # A quartier with a roadmap that is not the first one in name order (a section that falls back on the first
    # one would otherwise show the same quartier with and without the filter).
    roadmap = con.execute("""
        SELECT DISTINCT q.code_qpv, q.nom_qpv FROM engagement e, unnest(string_split(e.qpv, '|')) AS u(code)
        JOIN qpv q ON q.code_qpv = u.code WHERE e.qpv <> '*' ORDER BY q.nom_qpv DESC""").fetchall()
    qpv = roadmap[0][0]
    return {
        "annees": (one("SELECT max(annee) FROM action"),),
        "contrat": one("SELECT min(contrat) FROM action"),
        "communes": (one(f"SELECT min(code_insee) FROM qpv_commune WHERE code_qpv = '{qpv}'"),),
        "qpv": (qpv,),
        "piliers": (one("SELECT min(pilier) FROM engagement WHERE pilier IS NOT NULL"),),
        "thematiques": (one("SELECT min(thematique) FROM action"),),
        "financeurs": (one("SELECT min(financeur) FROM financement"),),
        "nature": ("specifique",),
        "statut": (one("SELECT min(statut) FROM action"),),
        "porteur_type": (one("SELECT min(porteur_type) FROM action"),),
        "dispositifs": (one("SELECT min(dispositif) FROM financement WHERE dispositif IS NOT NULL"),),
    }


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect_read(str(demo_db_template))
    yield c
    c.close()


def _same(a: sections.Section, b: sections.Section, what: str) -> None:
    for fl in dataclasses.fields(sections.Section):
        x, y = getattr(a, fl.name), getattr(b, fl.name)
        if isinstance(x, pd.DataFrame) or isinstance(y, pd.DataFrame):
            assert isinstance(x, pd.DataFrame) and isinstance(y, pd.DataFrame), (what, fl.name)
            pd.testing.assert_frame_equal(x, y, obj=f"{what}: {fl.name}")
        else:
            assert x == y, (what, fl.name)


def _params(con, kind: SectionType, values: dict[str, tuple]) -> list[dict]:
    """The section with its default params, and with the quartier chosen when it takes one."""
    out: list[dict] = [{}]
    if "qpv" in kind.params:
        out.append({"qpv": values["qpv"][0]})
    return out


def test_some_sections_declare_the_filters_they_read():
    # The quartier's roadmap and indicators, the engagements and the surveys: what this file checks.
    assert {"feuille_de_route", "quartier_serie", "quartier_rattrapage", "engagements_statuts",
            "enquetes_question"} <= set(DECLARED)
    with pytest.raises(ValueError, match="unknown filter fields"):
        sections.register("x_test", "x", filtres=("financeur",))


@pytest.mark.parametrize("name", DECLARED)
def test_filters_a_section_leaves_out_change_nothing(con, name):
    kind = CATALOGUE[name]
    values = _values(con)
    left_out = [fl.name for fl in dataclasses.fields(Filtres) if fl.name not in kind.filtres]
    everything = Filtres(**values)
    cases = [Filtres(**{field: values[field]}) for field in left_out]
    cases += [everything, Filtres(**{k: v for k, v in values.items() if k in left_out})]
    for params in _params(con, kind, values):
        for f in cases:
            narrowed = sections.filtres_utiles(name, f)
            assert all(not getattr(narrowed, field) for field in left_out)
            whole = kind.builder(con, f, **params)  # the builder given every filter
            _same(sections.build(con, f, name, **params), whole, f"{name} {params} {f}")


def test_a_section_that_reads_a_filter_sees_it(con):
    """The roadmap reads the quartier filter when no quartier is chosen: kept, it shows that quartier."""
    values = _values(con)
    f = Filtres(qpv=values["qpv"], financeurs=values["financeurs"])
    narrowed = sections.filtres_utiles("feuille_de_route", f)
    assert narrowed == Filtres(qpv=values["qpv"])
    sec = sections.build(con, f, "feuille_de_route")
    assert sec.params["qpv"] == values["qpv"][0]
    assert sections.build(con, Filtres(), "feuille_de_route").params["qpv"] != values["qpv"][0]
    # A section that declares nothing gets the filters as they are.
    assert sections.filtres_utiles("ve_entete", f) is f


def test_values_read_from_the_demo_narrow_something(con):
    """Each value really selects part of the demo (an always-true filter would prove nothing)."""
    values = _values(con)
    n = con.execute("SELECT count(*) FROM action").fetchone()[0]
    for field, sql in (("thematiques", "thematique"), ("statut", "statut"), ("porteur_type", "porteur_type")):
        k = con.execute(f"SELECT count(*) FROM action WHERE {sql} = ?", [values[field][0]]).fetchone()[0]
        assert 0 < k < n, field
    nf = con.execute("SELECT count(*) FROM financement").fetchone()[0]
    for field, sql in (("financeurs", "financeur"), ("dispositifs", "dispositif"), ("nature", "nature")):
        k = con.execute(f"SELECT count(*) FROM financement WHERE {sql} = ?", [values[field][0]]).fetchone()[0]
        assert 0 < k < nf, field
    ne = con.execute("SELECT count(*) FROM engagement").fetchone()[0]
    k = con.execute("SELECT count(*) FROM engagement WHERE pilier = ?", [values["piliers"][0]]).fetchone()[0]
    assert 0 < k < ne
    assert isinstance(con, duckdb.DuckDBPyConnection)
