"""Engagements: statuses per year ("non renseigné"), cumulative money, trajectories, droit commun, roadmaps,
quartier series — expected values computed with pandas straight from data/demo (not through cdv_core); the
page and the two COPIL slides under AppTest."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pandas as pd
import pytest
from streamlit.testing.v1 import AppTest

from cdv_core import auth, gestion, schema, sections, slides, vues
from cdv_core import engagements as eng
from cdv_core.filters import Filtres

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
STATUTS = ("non_engage", "en_cours", "atteint", "partiellement_atteint", "abandonne")


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect(demo_db_template, read_only=True)
    yield c
    c.close()


def _eng() -> pd.DataFrame:
    return pd.read_csv(DEMO / "engagements.csv", dtype={"engagement_id": str})


def _suivi() -> pd.DataFrame:
    return pd.read_csv(DEMO / "suivi_engagements.csv", dtype={"engagement_id": str})


def _expected_status(year: int) -> pd.Series:
    """Status of every engagement of the demo in `year`; `non_renseigne` when the file has no row."""
    e, s = _eng(), _suivi()
    got = s[s["annee"] == year].set_index("engagement_id")["statut"]
    return e.set_index("engagement_id").index.to_series().map(got).fillna("non_renseigne")


@pytest.mark.parametrize("year", [2019, 2021, 2022, 2025])
def test_statuses_per_year_with_non_renseigne(con, year):
    expected = _expected_status(year)
    got = eng.statuts(con, Filtres(), year, en_vigueur=False).set_index("engagement_id")["statut"]
    assert got.sort_index().to_dict() == expected.sort_index().to_dict()
    assert set(got) <= {*STATUTS, "non_renseigne"}


def test_a_year_without_follow_up_is_non_renseigne_never_non_engage(con):
    s = _suivi()
    missing = [(e, y) for e in _eng()["engagement_id"] for y in range(2019, 2026)
               if not ((s["engagement_id"] == e) & (s["annee"] == y)).any()]
    assert missing  # the demo has gaps (PERR-09 2021-2022, PERR-13 2020-2022…)
    for e, y in missing[:6]:
        row = eng.statuts(con, Filtres(), y, en_vigueur=False).set_index("engagement_id").loc[e]
        assert row["statut"] == "non_renseigne" and row["statut_libelle"] == "Non renseigné"


def test_headline_counts_of_the_perr_in_2022(con):
    e = _eng()
    in_force = e[e["debut"].isna() | (e["debut"] <= 2022)]["engagement_id"]
    status = _expected_status(2022)[in_force]
    marche = int(status.isin(["atteint", "en_cours", "partiellement_atteint"]).sum())
    sec = sections.build(con, Filtres(), "engagements_statuts", annee=2022)
    assert sec.titre.startswith(f"En 2022, {marche} engagements sur {len(in_force)} sont atteints ou en cours ; "
                                f"{int((status == 'non_engage').sum())} n'ont pas démarré")
    assert {c.libelle: int(c.valeur) for c in sec.chiffres}["Non renseignés"] == int((status == "non_renseigne").sum())


def test_counts_per_signatory_and_filter_on_one(con):
    df = eng.statuts(con, Filtres(), 2022)
    e = _eng().set_index("engagement_id")
    caf = [i for i in df["engagement_id"] if "caf" in e.loc[i, "signataire"].split("|")]
    assert sorted(eng.statuts(con, Filtres(), 2022, "caf")["engagement_id"]) == sorted(caf)
    per = eng.signataire_statut(df).groupby("pilote")["nb"].sum()
    pilots = df["engagement_id"].map(lambda i: e.loc[i, "signataire"].split("|")[0]).value_counts()
    assert per.sort_index().to_dict() == pilots.sort_index().to_dict()


@pytest.mark.parametrize("year", [2019, 2022, 2025])
def test_cumulative_money_up_to_the_year(con, year):
    s = _suivi()
    upto = s[s["annee"] <= year].groupby("engagement_id")["montant_realise"].sum(min_count=1)
    got = eng.statuts(con, Filtres(), year, en_vigueur=False).set_index("engagement_id")["montant_realise_cumule"]
    for eid, value in got.items():
        want = upto.get(eid)
        if want is None or pd.isna(want):
            assert pd.isna(value), eid
        else:
            assert value == pytest.approx(want), eid


def test_trajectory_from_the_follow_up_values(con):
    s = _suivi()
    mine = s[s["engagement_id"] == "PERR-07"].set_index("annee")
    traj = eng.trajectoire(con, "PERR-07").set_index("annee")
    assert list(traj.index) == list(mine.index)
    assert traj["valeur"].tolist() == pytest.approx(mine["valeur"].astype(float).tolist())
    assert set(traj["origine"]) == {"suivi"}
    assert traj["statut"].tolist() == mine["statut"].tolist()


def test_trajectory_of_an_indicator_code_reads_the_indicators(con):
    ind = pd.read_csv(DEMO / "engagements_indicateurs.csv")
    e = _eng().set_index("engagement_id").loc["FDR-QN06224M-1"]
    assert e["indicateur"] == "taux_emploi" and e["qpv"] == "QN06224M"
    want = ind[(ind["territoire"] == "QN06224M") & (ind["indicateur"] == "taux_emploi")].set_index("annee")["valeur"]
    traj = eng.trajectoire(con, "FDR-QN06224M-1").set_index("annee")
    assert sorted(traj.index) == sorted(want.index)
    assert traj["valeur"].sort_index().tolist() == pytest.approx(want.sort_index().tolist())
    assert set(traj["origine"]) == {"indicateur"}
    # years of the indicator without follow-up row: "non renseigné", the value still shown
    assert traj.loc[2019, "statut"] == "non_renseigne"
    sec = sections.build(con, Filtres(), "engagement_trajectoire", engagement="FDR-QN06224M-1")
    assert sec.chart is not None and f"{want.sort_index().iloc[-1]:.1f}".replace(".", ",") in sec.titre


def test_droit_commun_committed_and_mobilised(con):
    e, s = _eng(), _suivi()
    fin = pd.read_csv(ROOT / "data" / "referentiels" / "financeurs.csv", dtype=str, keep_default_na=False)
    default = dict(zip(fin["code"], fin["nature_defaut"], strict=True))
    e["pilote"] = e["signataire"].str.split("|").str[0]
    e["nature"] = [n if isinstance(n, str) and n else default[p] for n, p in zip(e["nature"], e["pilote"],
                                                                                  strict=True)]
    dc = e[e["nature"] == "droit_commun"]
    money = dc[dc["montant_engage"].notna() | dc["engagement_id"].isin(
        s.loc[s["montant_realise"].notna(), "engagement_id"])]
    got = eng.droit_commun(con, Filtres())
    totals = got.drop_duplicates("pilote").set_index("pilote")["engage_total"]
    assert totals.sort_index().to_dict() == pytest.approx(
        money.groupby("pilote")["montant_engage"].sum().sort_index().to_dict())
    mob = s[s["engagement_id"].isin(money["engagement_id"])].merge(money[["engagement_id", "pilote"]])
    want = mob[mob["annee"] <= 2022].groupby("pilote")["montant_realise"].sum()
    cum = got[got["annee"] == 2022].set_index("pilote")["mobilise_cumule"]
    assert cum.sort_index().to_dict() == pytest.approx(want.sort_index().to_dict())
    sec = sections.build(con, Filtres(), "engagements_droit_commun", annee=2022)
    assert sec.table["Promis sur la période (€)"].sum() == pytest.approx(money["montant_engage"].sum())


def test_late_and_changed_engagements(con):
    e = _eng().set_index("engagement_id")
    st23, st22 = _expected_status(2023), _expected_status(2022)
    late = [i for i in st23.index if e.loc[i, "echeance"] < 2023 and e.loc[i, "debut"] <= 2023
            and st23[i] in ("non_engage", "en_cours", "partiellement_atteint")]
    df = eng.statuts(con, Filtres(), 2023)
    assert sorted(df[df["en_retard"]]["engagement_id"]) == sorted(late)
    changed = [i for i in st23.index if e.loc[i, "debut"] <= 2023 and st23[i] != st22[i]]
    assert sorted(eng.changements(df)["engagement_id"]) == sorted(changed)


def test_roadmap_of_a_quartier(con):
    e, s = _eng(), _suivi()
    mine = e[e["qpv"] == "QN06230M"]["engagement_id"]
    year = int(s[s["engagement_id"].isin(mine)]["annee"].max())
    sec = sections.build(con, Filtres(), "feuille_de_route", qpv="QN06230M")
    assert sec.titre.startswith(f"Feuille de route du quartier Blum - Salengro - 109 en {year} : {len(mine)} "
                                "objectifs")
    assert len(sec.table) == len(mine) and sec.params == {"qpv": "QN06230M", "annee": year}


def test_quartier_series_and_rattrapage(con):
    ind = pd.read_csv(DEMO / "engagements_indicateurs.csv", dtype={"territoire": str})
    t = ind[ind["indicateur"] == "taux_emploi"].pivot_table(index="annee", columns="territoire", values="valeur")
    gap = t["FR"] - t["QN06224M"]
    sec = sections.build(con, Filtres(), "quartier_serie", qpv="QN06224M")
    narrows = abs(gap.iloc[-1]) < abs(gap.iloc[0])
    assert ("se réduit" if narrows else "ne se réduit pas") in sec.titre and "France" in sec.titre
    assert f"{abs(gap.iloc[0]):.1f}".replace(".", ",") in sec.titre
    ratt = eng.rattrapage(eng.series_quartier(con, "QN06224M"))
    fr = ratt[(ratt["indicateur"] == "taux_emploi") & (ratt["niveau"] == "France")].iloc[0]
    assert fr["ecart_debut"] == pytest.approx(gap.iloc[0]) and fr["ecart_fin"] == pytest.approx(gap.iloc[-1])
    # an indicator with one year only: no verdict
    one = ratt[ratt["indicateur"] == "taux_pauvrete"]
    assert one.empty or one["se_reduit"].isna().all()


def test_quartier_series_draws_the_quartier_thicker_and_each_line_in_its_own_colour(con):
    """The quartier's line is the thickest: a width per line that no width of the mark overrides (a condition per
    point, beside the mark's own width, drew every line alike); no two lines share a colour."""
    sec = sections.build(con, Filtres(), "quartier_serie", qpv="QN06224M")
    spec = sec.chart
    assert "strokeWidth" not in spec["mark"]
    field = spec["encoding"]["strokeWidth"]["field"]
    rows = next(iter(spec["datasets"].values()))
    quartier = {r[field] for r in rows if r["niveau"] == "Quartier"}
    others = {r[field] for r in rows if r["niveau"] != "Quartier"}
    assert len(quartier) == 1 and min(quartier) > max(others)
    colours = spec["encoding"]["color"]["scale"]["range"]
    assert len(set(colours)) == len(colours) == len({r["territoire_nom"] for r in rows})


def test_slides_are_registered_for_the_copil():
    types = slides.CATALOGUE
    assert types["engagements_statuts"].libelle == "Où en sont les engagements ?"
    assert types["feuille_de_route"].libelle == "Feuille de route du quartier X"


def test_excel_export_and_dossier_carry_the_engagement_slides(con):
    import io
    import json

    from cdv_core import dossier

    specs = json.dumps([{"type": "engagements_statuts", "annee": 2022},
                        {"type": "feuille_de_route", "qpv": "QN06224M"}])
    import openpyxl

    book = openpyxl.load_workbook(io.BytesIO(dossier.xlsx_for(con, specs, "")))
    assert book.sheetnames == ["1 Engagements 2022", "2 Feuille de route Cité 12-14"]
    ws = book["1 Engagements 2022"]  # heading lines (finding, filters, source), then the table, header frozen
    first_data = int(ws.freeze_panes[1:])
    assert ws.max_row - first_data + 1 == len(_eng().query("debut <= 2022"))
    pdf = dossier.pdf_for(con, "COPIL", "2026-12-12", specs, "")
    assert pdf.startswith(b"%PDF")


# --------------------------------------------------------------------------- AppTest


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)


def _n(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_page_opens_on_the_year_and_signatory_of_the_url(demo_app_env):
    at = _app()
    at.run()
    at.query_params["annee"] = "2022"
    at.query_params["signataire"] = "caf"
    at.switch_page("pages/engagements.py")
    at.run()
    assert not at.exception, at.exception
    assert not [e for e in at.error if "inattendue" in e.value]
    e = _eng()
    caf = e[e["signataire"].str.split("|").map(lambda s: "caf" in s)]
    caf = caf[caf["debut"] <= 2022]
    assert _n(at.title[0].value).startswith("En 2022, ") and f"sur {len(caf)}" in at.title[0].value
    assert "Signataire : CAF" in _n(" ".join(m.value for m in at.markdown))
    assert at.selectbox(key="eng_signataire").value == "caf"
    assert at.selectbox(key="eng_annee").value == 2022
    at.selectbox(key="eng_annee").set_value(2025).run()
    assert at.query_params["annee"] == ["2025"] or at.query_params["annee"] == "2025"


def test_presentation_shows_both_engagement_slides(demo_app_env):
    c = schema.connect(demo_app_env)
    editor = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")
    gestion.save_seance(c, vues.Seance("COPIL engagements", dt.date(2026, 12, 12),
                                       [{"type": "engagements_statuts", "annee": 2022},
                                        {"type": "feuille_de_route", "annee": 2025, "qpv": "QN06224M"}]), editor)
    c.close()
    at = _app()
    at.run()
    at.query_params["seance"] = "copil-engagements"
    at.query_params["slide"] = "1"
    at.switch_page("pages/presentation.py")
    at.run()
    assert not at.exception, at.exception
    text = _n(" ".join(m.value for m in at.markdown))
    assert "En 2022, " in text and "sont atteints ou en cours" in text
    at.button(key="pres_next").click().run()
    text = _n(" ".join(m.value for m in at.markdown))
    assert "Feuille de route du quartier Cité 12-14" in text


def test_a_quartier_filter_keeps_its_roadmap_and_its_contract_wide_engagements(con):
    e = _eng()
    qpv = pd.read_csv(ROOT / "data" / "referentiels" / "qpv.csv", dtype=str, keep_default_na=False)
    contrat = dict(zip(qpv["code_qpv"], qpv["contrat"], strict=True))
    for code in ("QN06224M", "QP062024"):
        want = e[e["qpv"].str.split("|").map(lambda codes, c=code: c in codes)
                 | ((e["qpv"] == "*") & (e["contrat"] == contrat[code]))]["engagement_id"]
        got = eng.statuts(con, Filtres(qpv=(code,)), 2025)["engagement_id"]
        assert sorted(got) == sorted(want) and len(got)
