"""Financeurs: queries against pandas on data/demo, chart builders, the page under AppTest."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cdv_core import charts, fmt, schema
from cdv_core import queries_financeurs as qf
from cdv_core.filters import Filtres
from tests import demo_expect
from tests.chart_spec import axis_order
from tests.chart_spec import encoding as enc

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "data"


@pytest.fixture(scope="module")
def demo() -> dict:
    """data/demo read with pandas, defaults of FORMATS.md applied (statut, nature, section), equal QPV split."""
    frames = demo_expect.frames()
    prog, fin = frames["prog"], frames["fin"]
    ref = pd.read_csv(DATA / "referentiels" / "financeurs.csv", dtype=str, keep_default_na=False)
    lines = fin.merge(prog[["action_id", "annee", "pilier", "statut"]], on=["action_id", "annee"])
    return {"prog": prog, "fin": fin, "split": frames["split"], "lines": lines,
            "financeur_libelle": dict(zip(ref["code"], ref["libelle"]))}


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


def close(a, b) -> bool:
    return math.isclose(float(a), float(b), rel_tol=1e-9, abs_tol=1e-6)


def norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def levier(df: pd.DataFrame, amount: str = "montant_accorde") -> float:
    total = df[amount].sum()
    bop = df.loc[df["financeur"] == "etat_bop147", amount].sum()
    return (total - bop) / bop


# --------------------------------------------------------------------------- queries


def test_effet_levier_2022(con, demo):
    fin = demo["fin"]
    expected = levier(fin[fin["annee"] == 2022])
    got = qf.effet_levier(con, Filtres(), "annee").set_index("annee")
    assert close(got.loc[2022, "levier"], expected)
    assert close(qf.levier_global(con, Filtres(annees=(2022,)))["levier"], expected)
    # Funder and nature filters do not change the levier (it compares every funder with the BOP 147).
    assert close(qf.levier_global(con, Filtres(annees=(2022,), financeurs=("caf",), nature=("droit_commun",)))
                 ["levier"], expected)
    for year in got.index:
        assert close(got.loc[year, "levier"], levier(fin[fin["annee"] == year])), year


def test_effet_levier_per_pillar_and_per_qpv(con, demo):
    lines = demo["lines"][demo["lines"]["annee"] == 2022]
    per_pillar = qf.effet_levier(con, Filtres(annees=(2022,)), "pilier").set_index("pilier")
    for p, grp in lines.groupby("pilier"):
        assert close(per_pillar.loc[p, "levier"], levier(grp)), p
    shares = lines.merge(demo["split"], on=["action_id", "annee"])
    shares["m"] = shares["montant_accorde"] * shares["part"]
    per_qpv = qf.effet_levier(con, Filtres(annees=(2022,)), "qpv").set_index("qpv")
    assert set(per_qpv.index) == set(shares["code_qpv"])
    for code, grp in shares.groupby("code_qpv"):
        assert close(per_qpv.loc[code, "levier"], levier(grp, "m")), code
    # Equal split: the QPV amounts add up to the year's total.
    assert close(per_qpv["montant_total"].sum(), lines["montant_accorde"].sum())


def test_funder_growth_2016_to_2022(con, demo):
    fin = demo["fin"]
    a = fin[fin["annee"] == 2016].groupby("financeur")["montant_accorde"].sum()
    b = fin[fin["annee"] == 2022].groupby("financeur")["montant_accorde"].sum()
    growth = b.sub(a, fill_value=0).sort_values(ascending=False)
    got = qf.croissance(con, Filtres(), 2016, 2022).set_index("financeur")
    for code, g in growth.items():
        assert close(got.loc[code, "evolution"], g), code
        if a.get(code, 0) > 0:
            assert close(got.loc[code, "evolution_pct"], 100 * g / a[code]), code
    top = qf.plus_forte_croissance(con, Filtres(), 2016, 2022)
    assert top["financeur"] == growth.index[0]
    assert close(top["evolution"], growth.iloc[0])
    assert close(top["total_evolution_pct"], 100 * (b.sum() - a.sum()) / a.sum())


def test_contributions_natures_sections(con, demo):
    fin = demo["fin"][demo["fin"]["annee"] == 2022]
    total = fin["montant_accorde"].sum()
    got = qf.contributions(con, Filtres(annees=(2022,))).set_index("financeur")
    for code, v in fin.groupby("financeur")["montant_accorde"].sum().items():
        assert close(got.loc[code, "montant_accorde"], v) and close(got.loc[code, "part"], 100 * v / total), code
    nat = qf.par_nature(con, Filtres(annees=(2022,))).set_index("nature")
    for n, v in fin.groupby("nature")["montant_accorde"].sum().items():
        assert close(nat.loc[n, "montant_accorde"], v) and close(nat.loc[n, "part"], 100 * v / total), n
    sec = qf.par_section(con, Filtres(annees=(2022,))).set_index("section")
    for s, v in fin.groupby("section")["montant_accorde"].sum().items():
        assert close(sec.loc[s, "montant_accorde"], v), s
    assert set(sec["section_libelle"]) <= {"Fonctionnement", "Investissement"}


def test_requested_vs_granted_where_known(con, demo):
    fin = demo["fin"]
    known = fin[fin["montant_demande"] != ""].assign(dem=lambda d: d["montant_demande"].astype(float))
    got = qf.demande_accorde(con, Filtres()).set_index("financeur")
    for code, grp in known.groupby("financeur"):
        assert close(got.loc[code, "montant_demande"], grp["dem"].sum()), code
        assert close(got.loc[code, "montant_accorde"], grp["montant_accorde"].sum()), code
        assert got.loc[code, "nb_lignes_connues"] == len(grp), code
        assert got.loc[code, "nb_lignes"] == (fin["financeur"] == code).sum(), code
    taux = qf.taux_accord(con, Filtres())
    assert close(taux["taux"], 100 * known["montant_accorde"].sum() / known["dem"].sum())


def test_cofinancing_counts(con, demo):
    prog, fin = demo["prog"], demo["fin"]
    f22 = fin[(fin["annee"] == 2022) & (fin["montant_accorde"] > 0)]
    n_funders = f22.groupby("action_id")["financeur"].nunique()
    # financed actions only (statut accordee or soldee, granted amount > 0): each has at least one funder
    financees = demo_expect.financees()
    actions = financees[financees["annee"] == 2022]["action_id"]
    assert len(actions) < (prog["annee"] == 2022).sum()
    per_action = actions.map(n_funders).fillna(0).astype(int)
    assert per_action.min() >= 1
    expected = per_action.value_counts().sort_index()
    dist = qf.distribution_nb_financeurs(con, Filtres(annees=(2022,))).set_index("nb_financeurs")["nb_actions"]
    assert dist.to_dict() == expected.to_dict()
    res = qf.resume_cofinancement(con, Filtres(annees=(2022,)))
    assert res["nb_multi"] == int((per_action >= 2).sum()) and res["nb_actions"] == len(actions)
    per_funder = qf.actions_par_financeur(con, Filtres(annees=(2022,))).set_index("financeur")
    for code, n in f22.groupby("financeur")["action_id"].nunique().items():
        assert per_funder.loc[code, "nb_actions"] == n, code
        multi = f22[f22["financeur"] == code]["action_id"].map(n_funders).gt(1).sum()
        assert per_funder.loc[code, "nb_cofinancees"] == multi, code
    # With a funder filter: that funder's actions, all their funders counted.
    caf = set(f22.loc[f22["financeur"] == "caf", "action_id"])
    dist_caf = qf.distribution_nb_financeurs(con, Filtres(annees=(2022,), financeurs=("caf",)))
    assert dist_caf["nb_actions"].sum() == len(caf)
    assert close((dist_caf["nb_financeurs"] * dist_caf["nb_actions"]).sum(), n_funders[list(caf)].sum())


def test_cofinancing_with_a_nature_filter(con, demo):
    """A nature filter keeps the funders' lines of that nature; all funders of those actions still count."""
    fin = demo["fin"]
    f22 = fin[(fin["annee"] == 2022) & (fin["montant_accorde"] > 0)]
    n_funders = f22.groupby("action_id")["financeur"].nunique()
    spec = f22[f22["nature"] == "specifique"]
    got = qf.actions_par_financeur(con, Filtres(annees=(2022,), nature=("specifique",))).set_index("financeur")
    assert set(got.index) == set(spec["financeur"])
    for code, ids in spec.groupby("financeur")["action_id"]:
        assert got.loc[code, "nb_actions"] == ids.nunique(), code
        assert got.loc[code, "nb_cofinancees"] == int(n_funders[ids.unique()].gt(1).sum()), code
    dist = qf.distribution_nb_financeurs(con, Filtres(annees=(2022,), nature=("specifique",)))
    assert dist["nb_actions"].sum() == spec["action_id"].nunique()


def test_cofinancing_with_a_dispositif_filter(con, demo):
    """A dispositif filter keeps the funders' lines of that dispositif; all funders of those actions still count."""
    fin = demo["fin"]
    f22 = fin[(fin["annee"] == 2022) & (fin["montant_accorde"] > 0)]
    n_funders = f22.groupby("action_id")["financeur"].nunique()
    kept = f22[f22["dispositif"] == "Contrat de ville"]
    assert 0 < len(kept) < len(f22)
    got = qf.actions_par_financeur(con, Filtres(annees=(2022,), dispositifs=("Contrat de ville",)))
    got = got.set_index("financeur")
    assert set(got.index) == set(kept["financeur"])
    for code, ids in kept.groupby("financeur")["action_id"]:
        assert got.loc[code, "nb_actions"] == ids.nunique(), code
        assert got.loc[code, "nb_cofinancees"] == int(n_funders[ids.unique()].gt(1).sum()), code


def test_funder_by_pillar_matrix(con, demo):
    lines = demo["lines"][demo["lines"]["annee"] == 2022]
    got = qf.matrice_pilier(con, Filtres(annees=(2022,))).set_index(["financeur", "pilier"])
    expected = lines.groupby(["financeur", "pilier"])["montant_accorde"].sum()
    per_funder = lines.groupby("financeur")["montant_accorde"].sum()
    assert set(got.index) == set(expected.index)
    for (fcode, p), v in expected.items():
        assert close(got.loc[(fcode, p), "montant_accorde"], v)
        if per_funder[fcode] > 0:
            assert close(got.loc[(fcode, p), "part_financeur"], 100 * v / per_funder[fcode])


# --------------------------------------------------------------------------- chart builders


def test_heatmap_spec():
    df = pd.DataFrame({"financeur_libelle": ["CAF", "CAF", "Région"], "pilier_libelle": ["A", "B", "A"],
                       "montant_accorde": [10.0, 20.0, 5.0], "part_financeur": [33.3, 66.7, 100.0]})
    spec = charts.heatmap(df, "pilier_libelle", "financeur_libelle", "montant_accorde", "Pilier", "Financeur").to_dict()
    rect, text = spec["layer"]
    assert rect["mark"]["type"] == "rect" and text["mark"]["type"] == "text"
    cells = enc(spec, 0)
    assert cells["x"]["field"] == "pilier_libelle" and cells["y"]["field"] == "financeur_libelle"
    assert axis_order(spec) == ["CAF", "Région"]  # largest funder first
    assert cells["color"]["field"] == "montant_accorde"
    assert enc(spec, 1)["text"]["format"] == "$,.0f"
    pct = charts.heatmap(df, "pilier_libelle", "financeur_libelle", "part_financeur", "Pilier", "Financeur",
                         kind="part").to_dict()
    assert enc(pct, 0)["color"]["field"] == "part_financeur_ratio"
    assert enc(pct, 1)["text"]["format"] == ".1%"


def test_change_bars_spec_orders_by_change_and_colours_by_sign():
    df = pd.DataFrame({"financeur_libelle": ["A", "B", "C"], "evolution": [-5.0, 30.0, 10.0]})
    spec = charts.change_bars(df, "financeur_libelle").to_dict()
    bars = enc(spec, 0)
    assert axis_order(spec) == ["B", "C", "A"] and bars["x"]["field"] == "evolution"
    assert bars["color"]["field"] == "sens"
    data = next(iter(spec["datasets"].values()))
    assert {r["financeur_libelle"]: r["sens"] for r in data} == {"A": "Baisse", "B": "Hausse", "C": "Hausse"}


def test_value_columns_and_paired_bars_specs():
    df = pd.DataFrame({"annee": [2021, 2022], "levier": [1.1, 1.03]})
    spec = charts.value_columns(df, "annee", "levier", "€ pour 1 €", kind="euros_ratio").to_dict()
    assert enc(spec)["y"]["field"] == "levier" and enc(spec)["y"]["axis"]["format"] == "$,.2f"
    assert enc(spec, 1)["text"]["format"] == "$,.2f"
    pairs = pd.DataFrame({"financeur_libelle": ["CAF", "Région"], "montant_demande": [10.0, 20.0],
                          "montant_accorde": [8.0, 15.0]})
    spec = charts.paired_bars(pairs, "financeur_libelle", {"montant_demande": "Demandé",
                                                          "montant_accorde": "Accordé"}).to_dict()
    assert spec["encoding"]["yOffset"]["field"] == "mesure"
    assert axis_order(spec) == ["Région", "CAF"]
    assert spec["encoding"]["color"]["scale"]["domain"] == ["Demandé", "Accordé"]


# --------------------------------------------------------------------------- the page


def _page(**params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/financeurs.py")
    at.run()
    assert not at.exception, at.exception
    return at


def test_page_growth_title_and_levier_2016_2022(demo_app_env, demo):
    at = _page(annees="2016-2022")
    fin = demo["fin"]
    a = fin[fin["annee"] == 2016].groupby("financeur")["montant_accorde"].sum()
    b = fin[fin["annee"] == 2022].groupby("financeur")["montant_accorde"].sum()
    growth = b.sub(a, fill_value=0).sort_values(ascending=False)
    code = growth.index[0]
    title = norm(at.title[0].value)
    assert title == norm(f"De 2016 à 2022, {demo['financeur_libelle'][code]} a le plus augmenté sa contribution : "
                         f"+{fmt.euros(growth.iloc[0])} ({fmt.pourcent(100 * growth.iloc[0] / a[code], 0, signe=True)})")
    metrics = {norm(m.label): norm(m.value) for m in at.metric}
    assert metrics["Montant accordé 2022"] == norm(fmt.euros(b.sum()))
    assert metrics["Effet levier"] == norm(fmt.euros(levier(fin[fin["annee"] == 2022]), 2))
    subheaders = [norm(s.value) for s in at.subheader]
    assert any(s.startswith("En 2022, chaque euro de l'ANCT (BOP 147) s'accompagne de "
                            f"{norm(fmt.euros(levier(fin[fin['annee'] == 2022]), 2))}") for s in subheaders)


def test_page_with_one_funder_from_the_url(demo_app_env, demo):
    at = _page(annees="2016-2022", financeurs="caf")
    fin = demo["fin"][demo["fin"]["financeur"] == "caf"]
    a = fin.loc[fin["annee"] == 2016, "montant_accorde"].sum()
    b = fin.loc[fin["annee"] == 2022, "montant_accorde"].sum()
    assert norm(at.title[0].value) == norm(f"De 2016 à 2022, CAF a le plus augmenté sa contribution : "
                                           f"+{fmt.euros(b - a)} ({fmt.pourcent(100 * (b - a) / a, 0, signe=True)})")
    metrics = {norm(m.label): norm(m.value) for m in at.metric}
    assert metrics["Montant accordé 2022"] == norm(fmt.euros(b))
    assert metrics["Financeurs"] == "1"
    assert any("Financeurs : CAF" in m.value for m in at.markdown)


def test_page_empty_selection_says_so(demo_app_env):
    at = _page(annees="2025-2026", piliers="inclusion")
    assert any("Aucun financement ne correspond" in i.value for i in at.info)
