"""Quartiers page: queries against pandas recomputations from data/demo, and the page through AppTest."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
import pytest

from cdv_core import fmt, schema
from cdv_core import queries_quartiers as qq
from cdv_core.filters import Filtres
from tests import demo_expect

DATA = Path(__file__).resolve().parents[1] / "data"


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


@pytest.fixture(scope="module")
def demo_frames() -> dict[str, pd.DataFrame]:
    """Programmation, financements and the equal QPV split, recomputed from the demo CSV files."""
    frames = demo_expect.frames()
    frames["ind"] = pd.read_csv(DATA / "demo" / "indicateurs.csv", dtype={"territoire": str})
    return frames


def amounts_per_qpv(frames, years) -> pd.Series:
    fin = frames["fin"][frames["fin"]["annee"].isin(years)]
    merged = fin.merge(frames["split"], on=["action_id", "annee"])
    return (merged["montant_accorde"] * merged["part"]).groupby(merged["code_qpv"]).sum()


def test_amount_per_qpv_2022_matches_pandas(con, demo_frames):
    expected = amounts_per_qpv(demo_frames, [2022])
    got = qq.mesures_qpv(con, Filtres(annees=(2022,)), "2015").set_index("code_qpv")
    assert set(got.index) == set(expected.index)
    assert all(code.startswith("QP") for code in got.index)  # 2022 = geography 2015 only
    for code, value in expected.items():
        assert math.isclose(got.loc[code, "montant_accorde"], value, rel_tol=1e-9), code
    pop = demo_frames["qpv"].set_index("code_qpv")["population"].pipe(pd.to_numeric, errors="coerce")
    code = expected.idxmax()
    assert math.isclose(got.loc[code, "montant_par_habitant"], expected[code] / pop[code], rel_tol=1e-9)


def test_star_actions_are_spread_over_the_contract(con, demo_frames):
    prog = demo_frames["prog"]
    star = prog[(prog["qpv"] == "*") & (prog["annee"] == 2025)]
    assert not star.empty
    n_qpv = (demo_frames["qpv"]["contrat"] == "CN06202I").sum()
    fin = demo_frames["fin"]
    action = star["action_id"].iloc[0]
    total = fin[(fin["action_id"] == action) & (fin["annee"] == 2025)]["montant_accorde"].sum()
    acts = qq.actions_qpv(con, Filtres(annees=(2025,)), "QN06224M").set_index("action_id")
    assert action in acts.index
    assert acts.loc[action, "nb_qpv"] == n_qpv
    assert math.isclose(acts.loc[action, "montant_total"], total)
    assert math.isclose(acts.loc[action, "montant_qpv"], total / n_qpv)


def test_geographies_are_never_mixed(con):
    both = Filtres(annees=(2022, 2023, 2024, 2025))
    geos = qq.geographies(con, both).set_index("geographie")
    assert list(geos.index) == ["2015", "2024"]
    assert (geos.loc["2015", "annee_max"], geos.loc["2024", "annee_min"]) == (2023, 2024)
    assert qq.annees_geographie(con, both, "2024") == (2024, 2025)
    m24 = qq.mesures_qpv(con, both, "2024")
    assert all(code.startswith("QN") for code in m24["code_qpv"])
    alone = qq.mesures_qpv(con, Filtres(annees=(2024, 2025)), "2024").set_index("code_qpv")
    assert m24.set_index("code_qpv")["montant_accorde"].to_dict() == alone["montant_accorde"].to_dict()


def test_qpv_actions_and_funding_add_up(con, demo_frames):
    code, years = "QN06224M", [2024, 2025]
    expected = amounts_per_qpv(demo_frames, years)[code]
    f = Filtres(annees=tuple(years))
    assert math.isclose(qq.actions_qpv(con, f, code)["montant_qpv"].sum(), expected, rel_tol=1e-9)
    for par in ("financeur", "pilier"):
        assert math.isclose(qq.financements_qpv(con, f, code, par)["montant_accorde"].sum(), expected, rel_tol=1e-9)
    by_year = qq.financements_qpv(con, f, code, "financeur").groupby("annee")["montant_accorde"].sum()
    assert math.isclose(by_year[2025], amounts_per_qpv(demo_frames, [2025])[code], rel_tol=1e-9)


def test_indicator_latest_value_up_to_selected_year(con, demo_frames):
    ind = demo_frames["ind"]
    rows = ind[(ind["indicateur"] == "taux_pauvrete") & ind["territoire"].str.startswith("QN")]
    latest = rows.sort_values("annee").groupby("territoire").last()
    got = qq.mesures_qpv(con, Filtres(annees=(2025,)), "2024", "taux_pauvrete").set_index("code_qpv")
    for code, r in latest.iterrows():
        assert got.loc[code, "indicateur_valeur"] == pytest.approx(r["valeur"])
        assert got.loc[code, "indicateur_annee"] == r["annee"]
    # Before the first figure there is no value, rather than a later one.
    first = int(ind[ind["territoire"].str.startswith("QP")]["annee"].min())
    early = qq.mesures_qpv(con, Filtres(annees=(first - 1,)), "2015", "taux_pauvrete")
    assert early["indicateur_valeur"].isna().all()


def test_fiche_and_indicator_comparison(con, demo_frames):
    ident = qq.fiche(con, "QN06224M")
    assert ident["nom_qpv"] == "Cité 12-14" and ident["geographie"] == "2024" and ident["contrat"] == "CN06202I"
    assert {c for c, _ in ident["communes"]} == {"62498", "62528"}
    assert [s for s, _ in ident["epci"]] == ["246200364"]
    assert qq.fiche(con, "QX000") is None
    long = qq.comparaison_indicateurs(con, "QN06224M", 2025)
    pauv = long[long["indicateur"] == "taux_pauvrete"].set_index("territoire")["valeur"]
    ind = demo_frames["ind"]
    ref = ind[ind["indicateur"] == "taux_pauvrete"].sort_values("annee").groupby("territoire")["valeur"].last()
    for territoire in ("QN06224M", "62498", "62528", "246200364", "FR"):
        assert pauv[territoire] == pytest.approx(ref[territoire])
    table = qq.tableau_indicateurs(long)
    row = table[table["Indicateur"] == "Taux de pauvreté (seuil 60 %)"].iloc[0]
    assert row["Cité 12-14 (quartier)"] == fmt.pourcent(ref["QN06224M"])
    assert row["France"] == fmt.pourcent(ref["FR"])


def test_filters_restrict_the_universe(con):
    f = Filtres(annees=(2025,), communes=("62498",))
    codes = set(qq.mesures_qpv(con, f, "2024")["code_qpv"])
    lens = {c for c in ("QN06224M", "QN06225M", "QN06226M", "QN06227M", "QN06229M")}
    assert codes == lens


# --- The page --------------------------------------------------------------------------------------------------

def _page(demo_app_env, **params):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(DATA.parent / "app.py"), default_timeout=60)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    at.switch_page("pages/quartiers.py")
    at.run()
    return at


def test_page_shows_the_linked_fiche_with_its_amount(demo_app_env, demo_frames):
    code = "QP062024"
    expected = amounts_per_qpv(demo_frames, [2022])[code]
    at = _page(demo_app_env, annees="2022-2022", qpv_fiche=code)
    assert not at.exception
    headers = [h.value for h in at.header]
    assert any("Cité 12-14" in h and code in h for h in headers), headers
    montants = [m.value for m in at.metric if m.label.startswith("Montant accordé")]
    assert montants == [fmt.euros(expected)]
    assert at.selectbox(key="qp_fiche").value == code
    assert code in at.query_params["qpv_fiche"]  # the fiche is in the URL, so a link reopens it
    # no 2015 contour is shipped: the map shows the communes and names the quartiers without a contour
    assert any("n'a de contour" in i.value and code in i.value for i in at.info)


def test_page_title_names_the_top_qpv_per_inhabitant(demo_app_env, demo_frames):
    years = [2024, 2025]
    amounts = amounts_per_qpv(demo_frames, years)
    pop = demo_frames["qpv"].set_index("code_qpv")["population"].pipe(pd.to_numeric, errors="coerce")
    per_hab = (amounts / pop.reindex(amounts.index)).dropna()
    per_hab = per_hab[per_hab.index.str.startswith("QN")]
    top = per_hab.idxmax()
    name = demo_frames["qpv"].set_index("code_qpv").loc[top, "nom_qpv"]
    at = _page(demo_app_env, annees="2024-2025")
    assert not at.exception
    # the title shown keeps the colon with its word (no-break space before it)
    assert at.title[0].value == f"De 2024 à 2025, {name} reçoit le plus par habitant\u00a0: {fmt.euros(per_hab[top])}"


def test_page_asks_for_a_geography_when_years_span_both(demo_app_env):
    at = _page(demo_app_env, annees="2022-2025")
    assert not at.exception
    assert any("Géographie 2024" in m.value for m in at.markdown)  # default: geography of the latest year
    assert at.selectbox(key="qp_fiche").value.startswith("QN")
    assert any("deux géographies" in m.value for m in at.markdown)
