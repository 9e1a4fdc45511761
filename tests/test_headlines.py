"""Headlines in the edge cases a COPIL hits: one year only, the reference equal to the year shown, a year
without data, the year in progress (partial). Built in cdv_core and shown through the app (AppTest)."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cdv_core import fmt, schema, sections
from cdv_core.filters import Filtres
from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]


def _n(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def con(demo_db, monkeypatch):
    monkeypatch.setenv("CDV_ANNEE_EN_COURS", "2099")  # no year of the demo is in progress unless a test says so
    c = schema.connect(demo_db)
    yield c
    c.close()


def test_a_single_year_is_never_compared_with_itself(con):
    sec = sections.build(con, Filtres(annees=(2022,)), "evolution")
    assert "entre 2022 et 2022" not in sec.titre and "0 %" not in sec.titre
    assert _n(sec.titre) == _n(f"{fmt.euros(demo_expect.total(2022))} accordés en 2022")
    assert [c.libelle for c in sec.chiffres if c.libelle == "Évolution"] == []


def test_a_reference_equal_to_the_year_shown_is_not_used(con):
    sec = sections.build(con, Filtres(), "evolution", annee=2022, annee_ref=2022)
    assert sec.params["annee"] == 2022 and sec.params["annee_ref"] != 2022
    assert "entre 2022 et 2022" not in sec.titre
    ref = sec.params["annee_ref"]
    now, before = demo_expect.total(2022), demo_expect.total(ref)
    pct = 100 * (now - before) / before
    assert _n(f"de {fmt.pourcent(abs(pct), 0)} entre {ref} et 2022") in _n(sec.titre)


def test_a_year_without_data_says_which_year_is_shown(con):
    sec = sections.build(con, Filtres(), "evolution", annee=2031)
    shown = sec.params["annee"]
    assert shown != 2031
    assert any("Aucune action en 2031" in n and str(shown) in n for n in sec.notes)


def test_the_year_in_progress_is_left_out_of_growth_unless_chosen(con, monkeypatch):
    default = demo_expect.decided_year()
    monkeypatch.setenv("CDV_ANNEE_EN_COURS", str(default))
    sec = sections.build(con, Filtres(), "evolution")
    assert sec.params["annee"] == default - 1  # the last complete year
    assert f"et {default - 1}" in sec.titre and "en cours" not in sec.titre
    chosen = sections.build(con, Filtres(), "evolution", annee=default)
    assert chosen.params["annee"] == default
    assert "en cours" in chosen.titre and any("partiels" in n for n in chosen.notes)
    # The chart marks it: its column is labelled "(en cours)".
    assert "(en cours)" in str(sec.chart)


def test_edge_case_headlines_in_the_app(demo_app_env, monkeypatch):
    monkeypatch.setenv("CDV_ANNEE_EN_COURS", "2099")
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.run()
    at.switch_page("pages/presentation.py")
    at.query_params["types"] = "evolution"
    at.query_params["annees"] = "2022-2022"
    at.run()
    assert not at.exception, at.exception
    text = _n(" ".join(m.value for m in at.markdown))
    assert _n(f"{fmt.euros(demo_expect.total(2022))} accordés en 2022") in text
    assert "entre 2022 et 2022" not in text


def test_the_overview_headline_of_a_single_year_states_no_change(con):
    """The overview page's own headline (not only the slide): one year selected, nothing compared."""
    sec = sections.build(con, Filtres(annees=(2022,)), "ve_entete")
    assert sec.params == {"annee": 2022, "annee_ref": 2022}
    assert _n(sec.titre) == _n(f"En 2022, {fmt.euros(demo_expect.total(2022))} accordés à "
                               f"{demo_expect.n_actions(2022)} actions")
    montant = next(c for c in sec.chiffres if c.libelle == "Montant accordé 2022")
    assert montant.delta is None
    # Two years: the change, in the words of a person.
    both = sections.build(con, Filtres(annees=(2021, 2022)), "ve_entete", annee=2022, annee_ref=2021)
    pct = 100 * (demo_expect.total(2022) - demo_expect.total(2021)) / demo_expect.total(2021)
    sens = "augmenté" if pct >= 0 else "baissé"
    assert _n(both.titre) == _n(f"Les financements ont {sens} de {fmt.pourcent(abs(pct), 0)} entre 2021 et 2022 : "
                                f"{fmt.euros(demo_expect.total(2022))} accordés en 2022")


def test_a_headline_never_starts_a_line_with_its_colon():
    """French typography in titles: the space before a colon does not break (a 1366 px title used to wrap as
    "… sa contribution" / ": +1 254 050 €"); data stays literal."""
    from ui import show

    titre = "De 2016 à 2025, l'État a le plus augmenté sa contribution : +1 254 050 € (+80 %)"
    shown = show.texte_titre(titre)
    assert "contribution\u00a0: +1" in shown and " :" not in shown
    assert shown.replace("\u00a0", " ") == titre
    assert show.texte_titre("Quartier *A* : 12") == "Quartier \\*A\\*\u00a0: 12"


def test_a_headline_keeps_guillemets_and_high_punctuation_with_their_words():
    """No line ends with « nor starts with », ; ! or ? (a 1920 px Piliers title wrapped as "devant «" /
    "Emploi » (15 %)"); the sentence is otherwise unchanged."""
    from ui import show

    titre = "En 2022, « Cohésion sociale » devant « Emploi » (15 %) ; pourquoi ? Voilà !"
    for shown in (show.texte_titre(titre), show._esc(titre)):
        for mark in ("« ", " »", " ;", " ?", " !", " :"):
            assert mark not in shown, mark
        assert shown.replace("\u00a0", " ") == titre
    assert show.texte_titre("« A »") == "«\u00a0A\u00a0»"
