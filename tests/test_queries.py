"""Query layer on the demo database, checked against independent pandas computations on data/demo."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from cdv_core import queries, schema
from cdv_core.filters import Filtres
from tests import demo_expect

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="session")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="session")
def frames() -> dict[str, pd.DataFrame]:
    """The demo upload files read with pandas, defaults applied as FORMATS.md says, QPV split computed."""
    out = demo_expect.frames()
    qpv = out.pop("qpv")
    communes = qpv[["code_qpv", "communes_insee"]].assign(code_insee=qpv["communes_insee"].str.split("|"))
    communes = communes.explode("code_insee")
    communes = communes[communes["code_insee"] != ""]
    communes["cpart"] = 1 / communes.groupby("code_qpv")["code_insee"].transform("count")
    return {**out, "communes": communes[["code_qpv", "code_insee", "cpart"]]}


def close(a: float, b: float) -> bool:
    return math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-6)


def series(df: pd.DataFrame, key, value: str = "montant_accorde") -> dict:
    return {k: float(v) for k, v in df.groupby(key)[value].sum().items()}


def assert_same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for k in expected:
        assert close(got[k], expected[k]), (k, got[k], expected[k])


FILTERS = [
    Filtres(),
    Filtres(annees=(2022, 2023)),
    Filtres(piliers=("inclusion", "emancipation")),
    Filtres(financeurs=("etat_bop147", "caf")),
    Filtres(thematiques=("2",), statut=("accordee",)),
    Filtres(contrat="CN06202I", nature=("specifique",)),
]


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: repr(f)[8:60])
@pytest.mark.parametrize("dim", ["annee", "financeur"])
def test_qpv_split_sums_to_total(con, f, dim):
    whole = series(queries.aggregate(con, f, [dim]), dim)
    per_qpv = series(queries.aggregate(con, f, [dim, "qpv"]), dim)
    assert whole and sum(whole.values()) > 0
    assert_same(per_qpv, whole)


@pytest.mark.parametrize("f", FILTERS[:4], ids=lambda f: repr(f)[8:60])
def test_commune_split_sums_to_total(con, f):
    per_commune = queries.aggregate(con, f, ["annee", "commune"])
    assert_same(series(per_commune, "annee"), series(queries.aggregate(con, f, ["annee"]), "annee"))
    assert close(float(per_commune["montant_accorde"].sum()), queries.total(con, f))


def test_par_qpv_and_par_pilier_add_up(con):
    f = Filtres(annees=(2024,))
    tot = queries.total(con, f)
    assert close(float(queries.par_qpv(con, f)["montant_accorde"].sum()), tot)
    pil = queries.par_pilier(con, f)
    assert close(float(pil["montant_accorde"].sum()), tot)
    assert close(float(pil["part"].sum()), 100.0)


def _filtered(frames, f: Filtres) -> pd.DataFrame:
    """Funding lines joined to their action, filtered like Filtres (pandas, independent of the SQL)."""
    prog, fin = frames["prog"], frames["fin"]
    a = prog
    if f.annees:
        a = a[a["annee"].isin(f.annees)]
    if f.piliers:
        a = a[a["pilier"].isin(f.piliers)]
    if f.statut:
        a = a[a["statut"].isin(f.statut)]
    if f.contrat:
        a = a[a["contrat"] == f.contrat]
    if f.thematiques:
        a = a[a["thematique"].isin(f.thematiques) | a["thematique"].str.split(".").str[0].isin(f.thematiques)]
    lines = fin.merge(a[["action_id", "annee", "pilier"]], on=["action_id", "annee"])
    if f.financeurs:
        lines = lines[lines["financeur"].isin(f.financeurs)]
    if f.nature:
        lines = lines[lines["nature"].isin(f.nature)]
    return lines


@pytest.mark.parametrize("f", FILTERS, ids=lambda f: repr(f)[8:60])
def test_aggregate_matches_pandas(con, frames, f):
    lines = _filtered(frames, f)
    assert_same(series(queries.aggregate(con, f, ["annee"]), "annee"), series(lines, "annee"))
    got = series(queries.aggregate(con, f, ["annee", "financeur"]), ["annee", "financeur"])
    assert_same(got, series(lines, ["annee", "financeur"]))
    assert close(queries.total(con, f), float(lines["montant_accorde"].sum()))


def test_total_per_year_and_funder_from_csv(con, frames):
    fin = frames["fin"]
    got = queries.par_annee_financeur(con, Filtres())
    assert_same(series(got, ["annee", "financeur"]), series(fin, ["annee", "financeur"]))
    assert got["financeur_libelle"].notna().all()


def _financed(prog: pd.DataFrame, lines: pd.DataFrame) -> pd.DataFrame:
    """Funding lines of financed actions: statut accordee or soldee, granted amount > 0 (the counting rule)."""
    ok = prog.loc[prog["statut"].isin(["accordee", "soldee"]), ["action_id", "annee"]]
    return lines[lines["montant_accorde"] > 0].merge(ok, on=["action_id", "annee"])


def test_nb_actions_matches_pandas(con, frames):
    prog = frames["prog"]
    agg = queries.aggregate(con, Filtres(), ["annee"]).set_index("annee")
    financed = _financed(prog, frames["fin"]).groupby("annee")["action_id"].nunique().to_dict()
    assert agg["nb_actions"].to_dict() == financed
    assert agg["nb_dossiers"].to_dict() == prog.groupby("annee").size().to_dict()
    # the demo's refused and pending files are not financed actions
    assert all(financed[y] < n for y, n in prog.groupby("annee").size().items() if y in (2025, 2026))
    f = Filtres(financeurs=("caf",))
    lines = _financed(prog, _filtered(frames, f))
    got = queries.aggregate(con, f, ["annee"]).set_index("annee")["nb_actions"].to_dict()
    assert got == lines.groupby("annee")["action_id"].nunique().to_dict()


@pytest.mark.parametrize("qpv", [("QN06216M",), ("QP062024", "QP062025")])
def test_qpv_filter_matches_pandas(con, frames, qpv):
    f = Filtres(qpv=qpv)
    split = frames["split"][frames["split"]["code_qpv"].isin(qpv)]
    lines = frames["fin"].merge(split, on=["action_id", "annee"])
    lines["montant_accorde"] = lines["montant_accorde"] * lines["part"]
    expected = series(lines, "annee")
    assert expected, "the chosen QPV has no funding in the demo"
    assert_same(series(queries.aggregate(con, f, ["annee"]), "annee"), expected)
    assert_same(series(queries.aggregate(con, Filtres(), ["annee", "qpv"], extra_where={"qpv": qpv}), "annee"),
                expected)


def test_commune_filter_selects_quartiers_of_the_commune(con, frames):
    commune = "62276"  # one of the communes of the multi-commune QPV QN06216M
    codes = set(frames["communes"].loc[frames["communes"]["code_insee"] == commune, "code_qpv"])
    split = frames["split"][frames["split"]["code_qpv"].isin(codes)]
    lines = frames["fin"].merge(split, on=["action_id", "annee"])
    lines["montant_accorde"] = lines["montant_accorde"] * lines["part"]
    expected = series(lines, "annee")
    assert expected
    assert_same(series(queries.aggregate(con, Filtres(communes=(commune,)), ["annee"]), "annee"), expected)


def test_commune_dimension_matches_pandas(con, frames):
    lines = frames["fin"].merge(frames["split"], on=["action_id", "annee"]).merge(frames["communes"], on="code_qpv")
    lines["montant_accorde"] = lines["montant_accorde"] * lines["part"] * lines["cpart"]
    got = series(queries.aggregate(con, Filtres(annees=(2022,)), ["commune"]), "commune")
    assert_same(got, series(lines[lines["annee"] == 2022], "code_insee"))


@pytest.mark.parametrize("f", [Filtres(), Filtres(annees=(2024,)), Filtres(piliers=("habitat",)),
                               Filtres(financeurs=("caf", "commune"))], ids=lambda f: repr(f)[8:60])
def test_kpis_consistent(con, frames, f):
    k = queries.kpis(con, f)
    lines = _filtered(frames, f)
    total = float(lines["montant_accorde"].sum())
    spec = float(lines.loc[lines["nature"] == "specifique", "montant_accorde"].sum())
    assert close(k["montant_accorde"], total)
    assert close(k["montant_specifique"], spec)
    assert close(k["montant_specifique"] + k["montant_droit_commun"], k["montant_accorde"])
    assert close(k["part_specifique"], 100 * spec / total)
    assert close(k["part_specifique"] + k["part_droit_commun"], 100.0)
    assert 0 < k["nb_qpv"] and 0 < k["nb_porteurs"] <= k["nb_actions"] * 1


def test_kpis_empty_selection(con):
    k = queries.kpis(con, Filtres(annees=(1999,)))
    assert k["montant_accorde"] == 0 and k["nb_actions"] == 0 and k["part_specifique"] is None


def test_evolution(con, frames):
    fin = frames["fin"]
    e = queries.evolution(con, Filtres(), 2023, 2022)
    y23 = float(fin.loc[fin["annee"] == 2023, "montant_accorde"].sum())
    y22 = float(fin.loc[fin["annee"] == 2022, "montant_accorde"].sum())
    assert close(e["montant"], y23) and close(e["montant_ref"], y22)
    assert close(e["evolution_pct"], 100 * (y23 - y22) / y22)


def test_unknown_dimension_refused(con):
    with pytest.raises(ValueError):
        queries.aggregate(con, Filtres(), ["montant; DROP TABLE action"])


@pytest.mark.parametrize("filtres", [Filtres(), Filtres(piliers=("inclusion",)), Filtres(financeurs=("caf",)),
                                     Filtres(annees=(2018, 2019, 2022)), Filtres(statut=("soldee",)),
                                     Filtres(statut=("refusee",))])
def test_years_with_financed_actions(demo_db_template, filtres):
    """The years a page offers: those with at least one financed action (statut accordée or soldée, a funding line
    above 0 of the funders chosen), read from the demo files with pandas."""
    prog = demo_expect.frames()["prog"]
    fin = demo_expect.frames()["fin"]
    fin = fin[fin["montant_accorde"] > 0]
    if filtres.financeurs:
        fin = fin[fin["financeur"].isin(filtres.financeurs)]
    prog = prog[prog["statut"].isin(filtres.statut or ("accordee", "soldee"))
                & prog["statut"].isin(("accordee", "soldee"))]
    if filtres.piliers:
        prog = prog[prog["pilier"].isin(filtres.piliers)]
    if filtres.annees:
        prog = prog[prog["annee"].isin(filtres.annees)]
    funded = prog.merge(fin[["action_id", "annee"]].drop_duplicates(), on=["action_id", "annee"])
    expected = sorted(int(y) for y in funded["annee"].unique())
    con = schema.connect_read(demo_db_template)
    try:
        got = queries.annees_avec_actions(con, filtres)
        by_aggregate = queries.aggregate(con, filtres, ["annee"])
    finally:
        con.close()
    assert got == expected
    assert expected or filtres.statut == ("refusee",)  # refused files: actions, but none financed
    assert got == [int(y) for y, n in zip(by_aggregate["annee"], by_aggregate["nb_actions"], strict=True) if n]


@pytest.mark.parametrize("dims", [[], ["annee"], ["pilier"], ["annee", "financeur"], ["qpv"]])
def test_aggregate_without_the_count_of_files_gives_the_same_other_figures(demo_db_template, dims):
    con = schema.connect_read(demo_db_template)
    try:
        full = queries.aggregate(con, Filtres(annees=(2022, 2023)), dims, porteurs=True)
        lean = queries.aggregate(con, Filtres(annees=(2022, 2023)), dims, porteurs=True, dossiers=False)
    finally:
        con.close()
    assert "nb_dossiers" in full.columns and "nb_dossiers" not in lean.columns
    pd.testing.assert_frame_equal(lean, full.drop(columns="nb_dossiers"), check_exact=False, rtol=1e-12)
