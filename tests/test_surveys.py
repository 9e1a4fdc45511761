"""Surveys: forms detected from the answers, percentages, anonymity, waves, re-import, CLI and the page.

tests/data/enquete/enquete_mixte.csv is a small survey written for these tests (TEST2024-MIXTE, 6 communes
C1–C6 and 3 partenaires P1–P3). Expected figures below are counted by hand from that file:

coop (grid, cooperation scale), who answered what — État / CAF / Région ('' = item skipped):
  C1 Relation / Connexion / Cohésion      C2 Connexion / Connexion / Relation   C3 Connexion / Cohésion / ''
  C4 Cohésion / Relation / ''             C5 Cohésion dynamique / '' / ''       C6 Connexion / '' / ''
  P1 Relation / Cohésion / Connexion      P2 Cohésion / Cohésion / ''           P3 Connexion dynamique / '' / ''
satisf: Tout à fait d'accord C1 C2 P1; Plutôt d'accord C3 C4 (typed « plutôt d’accord ») C5 P2;
        Pas du tout d'accord C6 P3.
elu: Non for C3 and P2, Oui for the 7 others.  etp: 1, 0,5, 2, 1, 3, 0.5, 1, 4, 2.
idees: 6 sentences (C1–C4, P1, P2), two of them mention « habitants ».
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdv_core import demo, importer, schema, survey_charts, surveys

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT / "tests" / "data" / "enquete"
DEMO = ROOT / "data" / "demo"
CODE = "TEST2024-MIXTE"
IDS = [f"C{i}" for i in range(1, 7)] + ["P1", "P2", "P3"]
LEVELS = ["Relation", "Connexion", "Cohésion", "Connexion dynamique", "Cohésion dynamique"]


def _import(con, name: str, text: str | None = None) -> None:
    data = text.encode("utf-8") if text is not None else (DATA / name).read_bytes()
    importer.import_bytes(con, data, name)


@pytest.fixture(scope="module")
def fixture_db_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("enquete") / "enquete.duckdb"
    demo.new_database(path, demo=False)
    con = schema.connect(path)
    try:
        _import(con, "enquete_mixte.csv")
        _import(con, "enquete_mixte_diffusion.csv")
    finally:
        con.close()
    return path


@pytest.fixture
def con(fixture_db_file, tmp_path):
    path = tmp_path / "e.duckdb"
    shutil.copy(fixture_db_file, path)
    c = schema.connect(path)
    yield c
    c.close()


def _row(res: pd.DataFrame, item: str) -> dict:
    part = res[res["item"] == item]
    return {r: (None if pd.isna(p) else float(p)) for r, p in zip(part["reponse"], part["pct"])}


# --- forms -----------------------------------------------------------------------------------------------

def test_forms_are_detected_from_the_answers(con):
    qs = surveys.questions(con, CODE).set_index("question")
    assert list(qs.index) == ["coop", "satisf", "elu", "etp", "idees"]  # file order
    assert qs.loc["coop", "forme"] == surveys.ECHELLE and qs.loc["coop", "echelle"] == "cooperation"
    assert qs.loc["coop", "items"] == ("État", "CAF", "Région") and qs.loc["coop", "grille"]
    assert qs.loc["satisf", "forme"] == surveys.ECHELLE and qs.loc["satisf", "echelle"] == "accord"
    assert qs.loc["elu", "forme"] == surveys.CHOIX and not qs.loc["elu", "grille"]
    assert qs.loc["etp", "forme"] == surveys.NOMBRE
    assert qs.loc["idees", "forme"] == surveys.TEXTE


@pytest.mark.parametrize("answers, expected", [
    (["1", "2,5", "1 200", "0.5"], (surveys.NOMBRE, None)),
    (["Un peu", "Totalement", "pas du tout"], (surveys.ECHELLE, "degre")),
    (["Tout à fait d’accord", "Plutôt pas d'accord"], (surveys.ECHELLE, "accord")),
    (["Satisfait", "En partie"], (surveys.ECHELLE, "satisfaction")),
    (["Oui", "Non", "Oui"], (surveys.CHOIX, None)),
    (["Moins de 5 ans", "Plus de 10 ans", "5 à 10 ans", "Plus de 10 ans"], (surveys.CHOIX, None)),
    (["Associer les habitants au suivi.", "Simplifier les dossiers de demande.",
      "Verser les subventions plus tôt."], (surveys.TEXTE, None)),
])
def test_detect_forme(answers, expected):
    forme, echelle = surveys.detect_forme(answers)
    assert (forme, echelle.code if echelle else None) == expected


def test_the_cooperation_scale_is_in_the_documented_order():
    assert list(surveys.COOPERATION.niveaux) == LEVELS


# --- percentages -----------------------------------------------------------------------------------------

def test_cooperation_grid_percentages_over_those_who_answered_each_item(con):
    res = surveys.resultats(con, CODE, "coop", seuil=5)
    assert list(dict.fromkeys(res["item"])) == ["État", "CAF", "Région"]
    etat = res[res["item"] == "État"]
    assert list(etat["reponse"]) == LEVELS  # every level, in scale order
    assert list(etat["n"]) == [2, 3, 2, 1, 1] and set(etat["base"]) == {9}
    assert _row(res, "État") == dict(zip(LEVELS, [22.2, 33.3, 22.2, 11.1, 11.1]))
    # CAF skipped by C5, C6, P3: base 6, not 9.
    caf = res[res["item"] == "CAF"]
    assert set(caf["base"]) == {6}
    assert _row(res, "CAF") == dict(zip(LEVELS, [16.7, 33.3, 50.0, 0.0, 0.0]))
    # Région answered by 3 only: masked, no level listed.
    region = res[res["item"] == "Région"]
    assert len(region) == 1 and bool(region["masque"].iloc[0])
    assert region["n"].isna().all() and region["pct"].isna().all() and region["reponse"].isna().all()


def test_rows_sum_to_100_up_to_rounding(con):
    res = surveys.resultats(con, CODE, "coop", seuil=5)
    for _item, part in res[~res["masque"]].groupby("item"):
        assert abs(float(part["pct"].sum()) - 100) <= 0.05 * len(part)
        assert int(part["n"].sum()) == int(part["base"].iloc[0])


def test_pourcentages_round_half_up():
    assert surveys.pourcentages([1, 1, 1], 3) == [33.3, 33.3, 33.3]
    assert surveys.pourcentages([1, 7], 8) == [12.5, 87.5]
    assert surveys.pourcentages([1, 15], 16) == [6.3, 93.8]  # 6.25 → 6.3, 93.75 → 93.8
    assert surveys.pourcentages([0, 0], 0) == [0.0, 0.0]


def test_scale_single_question_merges_spellings_and_lists_every_level(con):
    res = surveys.resultats(con, CODE, "satisf", seuil=5)
    assert list(res["reponse"]) == ["Tout à fait d'accord", "Plutôt d'accord", "Plutôt pas d'accord",
                                    "Pas du tout d'accord"]
    assert list(res["n"]) == [3, 4, 0, 2]
    assert list(res["pct"]) == [33.3, 44.4, 0.0, 22.2]
    assert set(res["item"]) == {""}


def test_single_choice_sorted_by_count(con):
    res = surveys.resultats(con, CODE, "elu", seuil=5)
    assert list(zip(res["reponse"], res["n"], res["pct"])) == [("Oui", 7, 77.8), ("Non", 2, 22.2)]


def test_numbers_distribution_and_statistics(con):
    res = surveys.resultats(con, CODE, "etp", seuil=5)
    assert list(zip(res["reponse"], res["n"], res["pct"])) == [
        ("0.5", 2, 22.2), ("1", 3, 33.3), ("2", 2, 22.2), ("3", 1, 11.1), ("4", 1, 11.1)]
    st = surveys.statistiques(con, CODE, "etp", seuil=5).iloc[0]
    assert int(st["n"]) == 9 and float(st["mediane"]) == 1.0 and float(st["minimum"]) == 0.5
    assert float(st["maximum"]) == 4.0 and float(st["moyenne"]) == pytest.approx(15 / 9)


def test_respondent_type_filter(con):
    # threshold 3: État has 6 communes and 3 partners, both shown apart
    res = surveys.resultats(con, CODE, "coop", ("commune",), seuil=3)
    assert _row(res, "État") == dict(zip(LEVELS, [16.7, 50.0, 16.7, 0.0, 16.7]))
    # CAF: 2 partners (< 3), so the communes are masked too, or « Tous » minus communes would give the partners
    assert res.loc[res["item"] == "CAF", "masque"].all()
    # at threshold 5 the 3 partners of État are masked, and so are the communes, for the same reason
    res = surveys.resultats(con, CODE, "coop", ("commune",), seuil=5)
    assert res.loc[res["item"] == "État", "masque"].all()


def test_tableau_partner_by_level(con):
    res = surveys.resultats(con, CODE, "coop", seuil=5)
    num = surveys.tableau(res, LEVELS, 5, "Partenaire")
    assert list(num.columns) == ["Partenaire", *LEVELS, "Réponses"]
    assert num.iloc[0].tolist() == ["État", 22.2, 33.3, 22.2, 11.1, 11.1, 9]
    assert num.iloc[2]["Réponses"] == "moins de 5 réponses" and pd.isna(num.iloc[2]["Relation"])
    txt = surveys.tableau(res, LEVELS, 5, "Partenaire", texte=True)
    assert txt.iloc[1]["Cohésion"] == "50,0\u00a0%" and txt.iloc[2]["Cohésion"] == ""


# --- anonymity ---------------------------------------------------------------------------------------------

def test_a_group_of_three_shows_no_figure_and_no_free_text(con):
    types = ("partenaire",)
    assert surveys.nb_repondants(con, CODE, types) == 3
    for question in ("coop", "satisf", "elu", "etp"):
        res = surveys.resultats(con, CODE, question, types, seuil=5)
        assert res["masque"].all() and res["n"].isna().all() and res["pct"].isna().all(), question
    assert surveys.statistiques(con, CODE, "etp", types, seuil=5)["mediane"].isna().all()
    out = surveys.textes_libres(con, CODE, "idees", types, seuil=5)
    assert out["masque"] and out["reponses"].empty


def test_free_text_listed_and_searchable_without_respondent_ids(con):
    out = surveys.textes_libres(con, CODE, "idees", seuil=5)
    assert not out["masque"] and out["nb_total"] == 6
    assert list(out["reponses"].columns) == ["reponse"]
    assert out["reponses"]["reponse"].tolist() == sorted(out["reponses"]["reponse"], key=str.lower)
    found = surveys.textes_libres(con, CODE, "idees", recherche="habitants", seuil=5)["reponses"]["reponse"]
    assert sorted(found) == ["Associer davantage les habitants aux comités de suivi.",
                             "Publier un bilan annuel lisible par les HABITANTS."]
    assert surveys.textes_libres(con, CODE, "idees", recherche="donnees", seuil=5)["reponses"].shape[0] == 1


def test_threshold_is_configurable(con, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    assert surveys.seuil_anonymat() == 5
    monkeypatch.setenv(surveys.ENV_SEUIL, "3")
    assert surveys.seuil_anonymat() == 3
    res = surveys.resultats(con, CODE, "elu", ("partenaire",))  # default threshold read from the env
    assert list(zip(res["reponse"], res["n"])) == [("Oui", 2), ("Non", 1)]
    monkeypatch.setenv(surveys.ENV_SEUIL, "zéro")
    assert surveys.seuil_anonymat() == 5


def test_no_respondent_id_in_any_result(con):
    frames = [surveys.resultats(con, CODE, q, seuil=1) for q in ("coop", "satisf", "elu", "etp", "idees")]
    frames += [surveys.textes_libres(con, CODE, "idees", seuil=1)["reponses"], surveys.questions(con, CODE),
               surveys.taux_reponse(con, CODE), surveys.enquetes(con)]
    text = " ".join(df.astype(str).to_csv() for df in frames)
    assert not [i for i in IDS if f",{i}," in text or f" {i} " in text]
    assert all("repondant" != c for df in frames for c in df.columns)


# --- response rates, waves, re-import ------------------------------------------------------------------

def test_response_rates(con):
    df = surveys.taux_reponse(con, CODE).set_index("type_repondant")
    assert df.loc["commune", ["nb_sollicites", "nb_repondants"]].tolist() == [10, 6]
    assert df.loc["commune", "taux"] == pytest.approx(60.0) and df.loc["partenaire", "taux"] == pytest.approx(60.0)
    assert df.loc["commune", "phrase"] == "10 communes sollicitées, 6 répondantes — 60\u00a0%"
    assert df.loc["partenaire", "phrase"] == "5 partenaires sollicités, 3 répondants — 60\u00a0%"


def test_demo_response_rates_and_cooperation_match_the_files(demo_db):
    answers = pd.concat([pd.read_csv(DEMO / f, dtype=str) for f in ("enquete_communes.csv",
                                                                     "enquete_associations.csv")])
    con = schema.connect(demo_db, read_only=True)
    try:
        assert surveys.taux_reponse(con, "EVAL2022-COMMUNES")["phrase"].tolist() == [
            "19 communes sollicitées, 19 répondantes — 100\u00a0%"]
        assert surveys.taux_reponse(con, "EVAL2022-ASSOCIATIONS")["phrase"].tolist() == [
            "70 associations sollicitées, 21 répondantes — 30\u00a0%"]
        for code in ("EVAL2022-COMMUNES", "EVAL2022-ASSOCIATIONS"):
            res = surveys.resultats(con, code, "cooperation", seuil=5)
            coop = answers[(answers["enquete"] == code) & (answers["question"] == "cooperation")]
            for item, part in coop.groupby("item"):
                counts = part["reponse"].value_counts()
                expected = {lvl: round(100 * counts.get(lvl, 0) / len(part) + 1e-9, 1) for lvl in LEVELS}
                assert _row(res, item) == expected, (code, item)
    finally:
        con.close()


def test_waves_of_the_same_survey_are_compared(con):
    text = (DATA / "enquete_mixte.csv").read_text(encoding="utf-8").replace("TEST2024-MIXTE;2024",
                                                                            "TEST2025-MIXTE;2025")
    text = text.replace(";elu;Élu délégué ?;;Non", ";elu;Élu délégué ?;;Oui")  # 2025: everybody says yes
    _import(con, "enquete_mixte_2025.csv", text)
    assert surveys.serie(CODE, 2024) == surveys.serie("TEST2025-MIXTE", 2025) == "TEST-MIXTE"
    assert surveys.vagues(con, CODE)["enquete"].tolist() == ["TEST2025-MIXTE"]
    both = surveys.comparer(con, (CODE, "TEST2025-MIXTE"), "elu", seuil=5)
    got = {(int(a), r): float(p) for a, r, p in zip(both["annee"], both["reponse"], both["pct"])}
    assert got == {(2024, "Oui"): 77.8, (2024, "Non"): 22.2, (2025, "Oui"): 100.0}
    chart = survey_charts.barres_100(both, ["Oui", "Non"], None, 5)
    rows = chart.to_dict()["layer"][0]["encoding"]["y"]["sort"]
    assert rows == ["2024", "2025"]
    grid = surveys.comparer(con, ("TEST2025-MIXTE", CODE), "coop", seuil=5).drop_duplicates(["item", "annee"])
    assert list(zip(grid["item"], grid["annee"])) == [("État", 2024), ("État", 2025), ("CAF", 2024),
                                                      ("CAF", 2025), ("Région", 2024), ("Région", 2025)]


def test_reimport_under_the_same_code_replaces_the_answers(con):
    before = con.execute("SELECT count(*) FROM enquete_reponse WHERE enquete = ?", [CODE]).fetchone()[0]
    assert before == 18 + 9 + 9 + 9 + 6  # coop (9 + 6 + 3 items answered), satisf, elu, etp, idees
    lines = (DATA / "enquete_mixte.csv").read_text(encoding="utf-8").splitlines()
    kept = [lines[0]] + [ln for ln in lines[1:] if ";elu;" in ln and not ln.split(";")[2].startswith("P")]
    _import(con, "enquete_mixte_v2.csv", "\n".join(kept) + "\n")
    rows = con.execute("SELECT question, count(*) FROM enquete_reponse WHERE enquete = ? GROUP BY 1",
                       [CODE]).fetchall()
    assert rows == [("elu", 6)]
    res = surveys.resultats(con, CODE, "elu", seuil=5)
    assert list(zip(res["reponse"], res["n"])) == [("Oui", 5), ("Non", 1)]
    assert surveys.nb_repondants(con, CODE) == 6


def test_unknown_survey_or_question_is_a_french_message(con):
    with pytest.raises(surveys.EnqueteErreur, match="Enquête inconnue"):
        surveys.resultats(con, "NOPE", "coop")
    with pytest.raises(surveys.EnqueteErreur, match="Question inconnue"):
        surveys.resultats(con, CODE, "nope")


# --- CLI -------------------------------------------------------------------------------------------------

def _cli(*args, env=None):
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=ROOT, capture_output=True, text=True,
                          env={**os.environ, **(env or {})}, timeout=120)


@pytest.fixture
def cli_db(fixture_db_file, tmp_path) -> Path:
    path = tmp_path / "cli.duckdb"
    shutil.copy(fixture_db_file, path)
    return path


def test_cli_survey_prints_item_reponse_n_pct(cli_db):
    out = _cli("survey", "--db", str(cli_db), "--enquete", CODE, "--question", "coop",
               env={surveys.ENV_SEUIL: "5"})
    assert out.returncode == 0, out.stderr
    rows = list(csv.reader(io.StringIO(out.stdout)))
    assert rows[0] == ["item", "reponse", "n", "pct"]
    assert rows[1:6] == [["État", lvl, n, p] for lvl, n, p in zip(
        LEVELS, ["2", "3", "2", "1", "1"], ["22.2", "33.3", "22.2", "11.1", "11.1"])]
    assert rows[6:] == [["CAF", lvl, n, p] for lvl, n, p in zip(
        LEVELS, ["1", "2", "3", "0", "0"], ["16.7", "33.3", "50.0", "0.0", "0.0"])]
    assert "Région" in out.stderr and "moins de 5 réponses" in out.stderr  # masked, never printed
    single = _cli("survey", "--db", str(cli_db), "--enquete", CODE, "--question", "elu")
    assert single.stdout.splitlines() == ["item,reponse,n,pct", ",Oui,7,77.8", ",Non,2,22.2"]


def test_cli_survey_threshold_and_type(cli_db):
    out = _cli("survey", "--db", str(cli_db), "--enquete", CODE, "--question", "elu", "--type-repondant",
               "partenaire")
    assert out.returncode == 0 and out.stdout.splitlines() == ["item,reponse,n,pct"]
    out = _cli("survey", "--db", str(cli_db), "--enquete", CODE, "--question", "elu", "--type-repondant",
               "partenaire", env={surveys.ENV_SEUIL: "3"})
    assert out.stdout.splitlines() == ["item,reponse,n,pct", ",Oui,2,66.7", ",Non,1,33.3"]


def test_cli_survey_list_and_errors(cli_db):
    out = _cli("survey", "--db", str(cli_db), "--enquete", CODE, "--list")
    assert out.returncode == 0, out.stderr
    listed = list(csv.DictReader(io.StringIO(out.stdout)))
    assert [r["question"] for r in listed] == ["coop", "satisf", "elu", "etp", "idees"]
    assert listed[0]["items"] == "État|CAF|Région" and listed[0]["echelle"] == "cooperation"
    bad = _cli("survey", "--db", str(cli_db), "--enquete", "NOPE", "--question", "coop")
    assert bad.returncode == 1 and "Enquête inconnue" in bad.stderr and "Traceback" not in bad.stderr
    bad = _cli("survey", "--db", str(cli_db), "--enquete", CODE, "--question", "nope")
    assert bad.returncode == 1 and "Question inconnue" in bad.stderr and "Traceback" not in bad.stderr


# --- page (AppTest) --------------------------------------------------------------------------------------

def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _page(env_db: Path):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/enquetes.py")
    at.run()
    assert not at.exception, at.exception
    return at


def _all_text(at) -> str:
    parts = [e.value for e in at.title] + [e.value for e in at.markdown] + [e.value for e in at.info]
    parts += [e.value for e in at.subheader] + [m.value for m in at.metric]
    parts += [t.value.to_csv() for t in at.table] + [d.value.to_csv() for d in at.dataframe]
    return _norm(" ".join(str(p) for p in parts))


def test_page_shows_the_demo_survey(demo_app_env, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    at = _page(demo_app_env)
    at.selectbox(key="enq_code").set_value("EVAL2022-COMMUNES").run()
    assert not at.exception, at.exception
    assert _norm(at.title[0].value) == "Enquête 2022 : 19 communes sur 19 ont répondu (100 %)"
    text = _all_text(at)
    assert "19 communes sollicitées, 19 répondantes — 100 %" in text
    # Expected grid computed with pandas from the demo file (not with cdv_core.surveys): per partner, the share
    # of the communes that rated it who chose each level, over those who answered that partner.
    raw = pd.read_csv(DEMO / "enquete_communes.csv")
    grid = raw[raw["question"] == "cooperation"]
    shown = at.table[0].value.reset_index()
    assert set(shown["Partenaire"]) == set(grid["item"].dropna())
    for row in shown.to_dict("records"):
        answers = grid[grid["item"] == row["Partenaire"]]
        base = answers["repondant"].nunique()
        assert str(row["Réponses"]) == str(base)
        for level in LEVELS:
            share = 100 * answers.loc[answers["reponse"] == level, "repondant"].nunique() / base
            cell = f"{share:.1f}".replace(".", ",") + "\u00a0%"
            assert row[level] == cell, (row["Partenaire"], level, row[level], cell)
    assert len(at.get("vega_lite_chart")) >= 10
    assert "Vos propositions pour le futur contrat de ville" in text


def test_page_filter_down_to_three_shows_no_figure_and_no_free_text(demo_app_env, monkeypatch):
    monkeypatch.delenv(surveys.ENV_SEUIL, raising=False)
    con = schema.connect(demo_app_env)
    try:
        _import(con, "enquete_mixte.csv")
        _import(con, "enquete_mixte_diffusion.csv")
    finally:
        con.close()
    at = _page(demo_app_env)
    at.selectbox(key="enq_code").set_value(CODE).run()
    assert not at.exception, at.exception
    text = _all_text(at)
    assert "Associer davantage les habitants" in text  # 9 respondents: free text shown
    assert "moins de 5 réponses" in text  # Région row of the cooperation grid
    assert not [i for i in IDS if f" {i} " in f" {text} "]

    at.multiselect(key=f"enq_types_{CODE}").set_value(["partenaire"]).run()
    assert not at.exception, at.exception
    text = _all_text(at)
    assert "préserver l'anonymat" in text
    assert len(at.get("vega_lite_chart")) == 0 and len(at.table) == 0 and len(at.dataframe) == 0
    assert len(at.metric) == 0 and "%" not in _norm(" ".join(m.value for m in at.markdown if "cdv-filters" not in
                                                             m.value))
    assert not any(s in text for s in ("Associer davantage", "guichet unique", "HABITANTS"))
