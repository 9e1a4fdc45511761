"""Slides, saved séances and saved views against the demo database; expectations from the demo CSV files."""

from __future__ import annotations

import datetime as dt

import pytest

from cdv_core import auth, fmt, gestion, schema, slides, vues
from cdv_core.filters import Filtres
from tests import demo_expect

EDITOR = auth.User("marie", "Marie Dupont", frozenset({auth.GESTIONNAIRE}), "local")  # declared in tests/conftest.py


@pytest.fixture
def con(demo_db):
    c = schema.connect(demo_db)
    yield c
    c.close()


def _n(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def test_every_slide_builds_with_a_title_and_a_source(con):
    for type_ in slides.CATALOGUE:
        s = slides.build(con, Filtres(), type_)
        assert s.vide is None, type_
        assert s.titre and "Source : " in s.source and "import du" in s.source, type_
        assert s.table is not None and not s.table.empty, type_


def test_headline_figures_match_the_demo_files(con):
    year = demo_expect.decided_year()
    s = slides.build(con, Filtres(), "chiffres_cles")
    assert s.params["annee"] == year
    assert fmt.euros(demo_expect.total(year)) in s.titre
    assert f"{demo_expect.n_actions(year)} actions" in s.titre
    values = dict(zip(s.table["Indicateur"], s.table["Valeur"], strict=True))
    assert values[f"Montant accordé {year} (€)"] == pytest.approx(demo_expect.total(year))


def test_funders_slide_adds_up_per_funder(con):
    fin = demo_expect.financements()
    s = slides.build(con, Filtres(), "financeurs", annee=2022)
    expected = fin[fin["annee"] == 2022].groupby("financeur")["montant_accorde"].sum()
    assert s.table["Montant accordé"].sum() == pytest.approx(expected.sum())
    assert sorted(s.table["Montant accordé"].round(2)) == sorted(expected.round(2))
    assert s.table["Part (%)"].sum() == pytest.approx(100)
    assert "2022" in s.titre


def test_evolution_slide_compares_the_chosen_years(con):
    s = slides.build(con, Filtres(), "evolution", annee=2022, annee_ref=2016)
    now, ref = demo_expect.total(2022), demo_expect.total(2016)
    pct = 100 * (now - ref) / ref
    assert fmt.pourcent(abs(pct), 0) in s.titre and "2016" in s.titre and "2022" in s.titre
    assert s.table["2022"].sum() == pytest.approx(now)


def test_quartiers_slide_shares_add_up_to_the_total(con):
    s = slides.build(con, Filtres(), "quartiers", annee=2025)
    assert s.table["Montant accordé"].sum() == pytest.approx(demo_expect.total(2025))
    assert s.chart is not None and slides.SPLIT_NOTE in s.notes
    # The 2015 quartiers have no contour in the demo: the map shows their communes, the slide names them.
    old = slides.build(con, Filtres(), "quartiers", annee=2022)
    assert old.chart is not None and "Aucun des" in old.notes[0] and "QP062024" in old.notes[0]
    assert old.table["Montant accordé"].sum() == pytest.approx(demo_expect.total(2022))


def test_the_map_of_one_quartier_is_drawn(con):
    """One quartier, one colour class: the map is drawn with the quartier in it (Vega drew nothing, or failed,
    on a colour scale of one colour)."""
    from cdv_core import dossier

    every = slides.build(con, Filtres(), "quartiers", annee=2025).chart["layer"][-1]["data"]["values"]
    code = min(f["properties"]["code"] for f in every)  # a quartier with a contour
    s = slides.build(con, Filtres(qpv=(code,)), "quartiers", annee=2025)
    layer = s.chart["layer"][-1]
    assert [f["properties"]["code"] for f in layer["data"]["values"]] == [code]
    # one swatch in the legend, named by the quartier's amount
    assert layer["encoding"]["color"]["scale"]["domain"] == [fmt.euros(s.table["Montant accordé"].iloc[0])]
    assert dossier.chart_png(s.chart, ppi=36)[:4] == b"\x89PNG"


def test_empty_selection_gives_a_sentence_not_a_chart(con):
    s = slides.build(con, Filtres(financeurs=("inexistant",)), "piliers")
    assert s.vide and s.chart is None


def test_unknown_slide_type_is_explained(con):
    s = slides.build(con, Filtres(), "disparue")
    assert s.vide and "n'existe plus" in s.vide


def test_source_line_uses_the_import_journal(con):
    when = con.execute("SELECT max(horodatage) FROM import_journal WHERE type_fichier IN "
                       "('programmation', 'financements')").fetchone()[0]
    text = slides.source(con, ("programmation", "financements"), (2022,))
    assert text == f"Source : programmation et financements 2022, import du {fmt.date_fr(when)}"


def test_filters_summary_names_the_funder(con):
    assert _n(slides.resume_filtres(con, Filtres(annees=(2020, 2021), financeurs=("caf",)))) == \
        "Années 2020 à 2021 · Financeurs : CAF"


def test_seance_round_trip_and_slug(con):
    s = vues.Seance("COPIL du 12 décembre 2026", dt.date(2026, 12, 12),
                    [{"type": "piliers", "annee": 2022}, {"type": "fiche_qpv", "qpv": "QN06229M"}],
                    "annees=2016-2022&financeurs=caf")
    nom = gestion.save_seance(con, s, EDITOR, set(slides.CATALOGUE))
    assert nom == "copil-du-12-decembre-2026"
    back = vues.load_seance(con, nom)
    assert back.titre == "COPIL du 12 décembre 2026" and back.date == dt.date(2026, 12, 12)
    assert back.slides == s.slides and back.filtres_query_string == "annees=2016-2022&financeurs=caf"
    assert list(vues.list_seances(con)["nom"]) == [nom]
    gestion.delete_seance(con, nom, EDITOR)
    assert vues.load_seance(con, nom) is None


@pytest.mark.parametrize("titre, slides_, message", [
    ("   ", [{"type": "piliers"}], "nom"),
    ("COPIL", [], "au moins une"),
    ("COPIL", [{"type": "nimporte"}], "inconnue"),
])
def test_bad_seance_is_refused_in_french(con, titre, slides_, message):
    with pytest.raises(vues.VueInvalide, match=message):
        gestion.save_seance(con, vues.Seance(titre, None, slides_), EDITOR, set(slides.CATALOGUE))


def test_filters_from_query_string():
    years = list(range(2015, 2027))
    f = vues.filtres_from_query("annees=2016-2022&financeurs=caf,region&contrat=CV219", years)
    assert f.annees == tuple(range(2016, 2023)) and f.financeurs == ("caf", "region") and f.contrat == "CV219"
    assert vues.filtres_from_query("annees=abc", years) == Filtres()
    assert vues.filtres_from_query("annees=2015-2026", years) == Filtres()
    assert vues.filters_query_string({"financeurs": "caf", "slide": "3", "annees": "2016-2022"}) == \
        "annees=2016-2022&financeurs=caf"


def test_saved_view_reopens_by_url(con):
    gestion.save_view(con, "Financements CAF", "vue-ensemble", "annees=2016-2022&financeurs=caf", EDITOR)
    views = vues.list_views(con)
    assert list(views["url"]) == ["/vue-ensemble?annees=2016-2022&financeurs=caf"]
    with pytest.raises(vues.VueInvalide):
        gestion.save_view(con, "x", "../etc", "", EDITOR)


# --- the pages under AppTest -----------------------------------------------------------------------------


def _app():
    from pathlib import Path

    from streamlit.testing.v1 import AppTest

    return AppTest.from_file(str(Path(__file__).resolve().parents[1] / "app.py"), default_timeout=120)


def _markdown(at) -> str:
    return _n(" ".join(m.value for m in at.markdown))


def test_presentation_opens_a_saved_seance_on_the_slide_of_the_url(demo_app_env):
    c = schema.connect(demo_app_env)
    gestion.save_seance(c, vues.Seance("COPIL du 12 décembre 2026", dt.date(2026, 12, 12),
                                       [{"type": "chiffres_cles", "annee": 2022}, {"type": "piliers", "annee": 2022},
                                        {"type": "financeurs", "annee": 2022}]), EDITOR)
    c.close()
    at = _app()
    at.run()
    at.query_params["seance"] = "copil-du-12-decembre-2026"
    at.query_params["slide"] = "2"
    at.switch_page("pages/presentation.py")
    at.run()
    assert not at.exception, at.exception
    text = _markdown(at)
    assert "2 / 3" in text
    assert "En 2022, « " in text and "reçoit" in text  # the pillars slide
    at.button(key="pres_next").click().run()
    text = _markdown(at)
    assert "3 / 3" in text and "apporte" in text
    assert at.button(key="pres_next").disabled


def test_presentation_of_an_unknown_seance_says_so(demo_app_env):
    at = _app()
    at.run()
    at.query_params["seance"] = "n-existe-pas"
    at.switch_page("pages/presentation.py")
    at.run()
    assert not at.exception
    assert at.title[0].value == "Séance introuvable"


def test_seance_page_saves_a_seance(demo_app_env):
    from ui import data

    at = _app()
    at.session_state["cdv_user"] = EDITOR  # signed in (tests/conftest.py declares the account)
    at.run()
    at.switch_page("pages/seance.py")
    at.run()
    assert not at.exception, at.exception
    at.text_input(key="se_titre").input("COPIL du 12 décembre 2026").run()
    at.button(key="se_save").click().run()
    assert not at.exception, at.exception
    assert any("enregistrée" in s.value for s in at.success)
    c = data._connection(str(demo_app_env)).cursor()  # the app (same process) holds the base read-only
    saved = vues.load_seance(c, "copil-du-12-decembre-2026")
    c.close()
    assert [s["type"] for s in saved.slides] == list(slides.DEFAULT_SEQUENCE)


def test_cooperation_slide_matches_the_survey_file(con):
    import pandas as pd

    s = slides.build(con, Filtres(), "cooperation", enquete="EVAL2022-ASSOCIATIONS")
    raw = pd.read_csv(demo_expect.DEMO / "enquete_associations.csv")
    grid = raw[raw["question"] == "cooperation"]
    base = grid.groupby("item")["repondant"].nunique()
    dyn = grid[grid["reponse"].isin(["Connexion dynamique", "Cohésion dynamique"])].groupby("item")["repondant"] \
        .nunique().reindex(base.index, fill_value=0)
    share = (100 * dyn / base).sort_values(ascending=False)
    top = share.index[0]
    assert f"« {top} »" in s.titre and fmt.pourcent(share.iloc[0], 0) in s.titre
    row = s.table[s.table["Partenaire"] == top].iloc[0]
    assert row["Réponses"] == base[top]
    assert row["Cohésion dynamique (%)"] + row["Connexion dynamique (%)"] == pytest.approx(share.iloc[0], abs=0.11)
    assert "Source : enquêtes 2022, import du" in s.source
