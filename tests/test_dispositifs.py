"""Dispositifs: the shared filter (SQL and URL round trip), amounts/actions/quartiers per dispositif, posts and
the abattement TFPB, checked against pandas straight from data/demo/*.csv."""

from __future__ import annotations

import math

import pytest

from cdv_core import queries, schema, sections, vues
from cdv_core import queries_dispositifs as qd
from cdv_core.filters import Filtres
from tests import demo_expect


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def demo():
    f = demo_expect.frames()
    lines = f["fin"].merge(f["prog"][["action_id", "annee", "statut", "porteur"]], on=["action_id", "annee"])
    return {**f, "lines": lines}


def close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def test_filter_url_round_trip_and_sql(con, demo):
    f = vues.filtres_from_query("annees=2022-2022&dispositifs=PRE,FONJEP", list(range(2015, 2027)))
    assert f.dispositifs == ("PRE", "FONJEP") and f.annees == (2022,)
    fin = demo["fin"]
    expected = fin[(fin["annee"] == 2022) & fin["dispositif"].isin(["PRE", "FONJEP"])]["montant_accorde"].sum()
    assert close(queries.total(con, f), expected)
    assert "Dispositifs : PRE, FONJEP" in queries.resume_filtres(con, f)
    assert "PRE" in set(queries.options(con)["dispositifs"]["dispositif"])


def test_amount_actions_quartiers_per_dispositif(con, demo):
    lines = demo["lines"][demo["lines"]["annee"] == 2022]
    got = qd.par_annee(con, Filtres(annees=(2022,))).set_index("dispositif")
    named = lines[lines["dispositif"] != ""]
    for d, grp in named.groupby("dispositif"):
        assert close(got.loc[d, "montant_accorde"], grp["montant_accorde"].sum()), d
        ok = grp[grp["statut"].isin(["accordee", "soldee"]) & (grp["montant_accorde"] > 0)]
        assert got.loc[d, "nb_actions"] == ok["action_id"].nunique(), d
        split = demo["split"]
        qpv = split.merge(ok[["action_id", "annee"]].drop_duplicates(), on=["action_id", "annee"])
        assert got.loc[d, "nb_qpv"] == qpv["code_qpv"].nunique(), d
    sans = lines[lines["dispositif"] == ""]["montant_accorde"].sum()
    assert close(got.loc[qd.SANS_DISPOSITIF, "montant_accorde"], sans)


def test_posts_and_tfpb(con, demo):
    lines = demo["lines"]
    got = qd.postes(con, Filtres()).set_index(["annee", "dispositif"])
    for (y, d), grp in lines[lines["dispositif"].isin(["Adultes-relais", "FONJEP"])].groupby(["annee", "dispositif"]):
        ok = grp[grp["statut"].isin(["accordee", "soldee"]) & (grp["montant_accorde"] > 0)]
        assert got.loc[(y, d), "nb_postes"] == ok["action_id"].nunique(), (y, d)
        assert got.loc[(y, d), "nb_porteurs"] == ok["porteur"].nunique(), (y, d)
        assert close(got.loc[(y, d), "montant_accorde"], grp["montant_accorde"].sum()), (y, d)
    tfpb = qd.tfpb(con, Filtres(annees=(2022,)))
    expected = lines[(lines["annee"] == 2022) & (lines["dispositif"] == "Abattement TFPB")]
    assert close(tfpb["montant_accorde"].sum(), expected["montant_accorde"].sum())
    assert set(tfpb["porteur"]) == set(expected["porteur"])


def test_sections_and_slide(con):
    assert "dispositifs" in sections.slide_types()
    for t in ("dispositifs", "dispositifs_postes", "dispositifs_tfpb"):
        s = sections.build(con, Filtres(), t)
        assert s.titre and not s.vide and s.table is not None, t
    s = sections.build(con, Filtres(dispositifs=("PRE",)), "dispositifs_postes")
    assert s.vide  # no post in the PRE dispositif
