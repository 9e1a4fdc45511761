"""Cached sections (ui.data.section): rebuilt when the data change (import, undo), reused otherwise; a rerun of a
page with nothing changed builds no section and no chart. Real DuckDB file, real importer, real AppTest."""

from __future__ import annotations

import dataclasses
import tomllib
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from cdv_core import charts, fmt, gestion, importer
from cdv_core.filters import Filtres
from cdv_core.sections import CATALOGUE
from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


@pytest.fixture
def app_data(demo_app_env):
    """ui.data on a private copy of the demo database, caches empty before and after."""
    from ui import data

    st.cache_data.clear()
    data._connection.clear()
    yield data
    st.cache_data.clear()
    data._connection.clear()


@pytest.fixture
def counted(monkeypatch):
    """Count the calls of a section's builder (the registry is looked up at each build)."""
    calls: dict[str, int] = {}

    def count(name: str) -> None:
        kind = CATALOGUE[name]

        def builder(con, f, **params):
            calls[name] = calls.get(name, 0) + 1
            return kind.builder(con, f, **params)

        monkeypatch.setitem(CATALOGUE, name, dataclasses.replace(kind, builder=builder))

    return calls, count


def _amount(sec) -> str:
    return next(c.valeur for c in sec.chiffres if c.libelle.startswith("Montant accordé"))


def test_section_rebuilt_after_an_import_and_an_undo_only(app_data, counted):
    calls, count = counted
    count("ve_entete")
    f = Filtres()
    app_data.begin_run()
    first = app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["ve_entete"] == 1
    assert _norm(_amount(first)) == _norm(fmt.euros(demo_expect.total(2022)))
    # Same filters, params and data: served from the cache, across script runs.
    for _ in range(3):
        app_data.begin_run()
        again = app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["ve_entete"] == 1
    assert again.titre == first.titre and again.chiffres == first.chiffres
    assert again is first  # shared as it is: no copy made at each rerun
    # Other params: another build.
    app_data.section("ve_entete", f, annee=2021, annee_ref=2016)
    assert calls["ve_entete"] == 2

    # An import through the real importer: the next run rebuilds.
    # FORMATS.md: a financements file replaces every funding line of the action-years it names.
    fin = demo_expect.financements()
    lines = fin[fin["annee"] == 2022]
    action = lines["action_id"].iloc[0]
    replaced = float(lines.loc[lines["action_id"] == action, "montant_accorde"].sum())
    extra = 12_345.0
    csv = f"action_id;annee;financeur;montant_accorde\n{action};2022;prive;{extra:.2f}\n".encode()
    with app_data.base().writing() as con:  # the app's own write path
        result = importer.import_bytes(con, csv, "financements_ajout.csv", user="test")
    app_data.begin_run()
    after = app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["ve_entete"] == 3
    assert _norm(_amount(after)) == _norm(fmt.euros(demo_expect.total(2022) - replaced + extra))
    app_data.begin_run()
    app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["ve_entete"] == 3

    # Undone: rebuilt again, with the figures of the files.
    with app_data.base().writing() as con:
        importer.undo_import(con, result.import_id, user="test")
    app_data.begin_run()
    undone = app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["ve_entete"] == 4
    assert _norm(_amount(undone)) == _norm(fmt.euros(demo_expect.total(2022)))


def test_clearing_streamlits_cache_forgets_the_shared_sections(app_data, counted):
    calls, count = counted
    count("ve_entete")
    f = Filtres()
    first = app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert app_data.section("ve_entete", f, annee=2022, annee_ref=2016) is first
    st.cache_data.clear()
    again = app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["ve_entete"] == 2 and again is not first and again.chiffres == first.chiffres


def test_in_a_script_run_clearing_streamlits_cache_forgets_the_shared_sections(app_data, counted):
    """Inside the app's script runs (where begin_run keeps the cache token for the run): a rerun serves the page's
    sections from the cache, a rerun after `st.cache_data.clear()` (Streamlit's "Clear caches") builds them again,
    with the same figures; and so does an import written between two runs."""
    calls, count = counted
    count("ve_entete")
    at = _page("pages/vue_ensemble.py", annees="2016-2022")
    built = calls["ve_entete"]
    assert built >= 1
    amount = at.metric[0].value
    at.run()
    assert calls["ve_entete"] == built
    st.cache_data.clear()
    at.run()
    assert not at.exception, at.exception
    assert calls["ve_entete"] == 2 * built
    assert at.metric[0].value == amount
    fin = demo_expect.financements()
    year = int(at.metric[0].label.split()[-1])  # the year the headline figure is of
    action = fin.loc[fin["annee"] == year, "action_id"].iloc[0]
    csv = f"action_id;annee;financeur;montant_accorde\n{action};{year};prive;1.00\n".encode()
    with app_data.base().writing() as con:
        importer.import_bytes(con, csv, "financements_ajout.csv", user="test")
    at.run()
    assert calls["ve_entete"] == 3 * built
    assert at.metric[0].value != amount


def test_sections_of_a_page_share_their_queries(app_data, monkeypatch):
    """Two sections asking for the same figures run the query once (through the app's cache)."""
    from cdv_core import queries_financeurs as qf

    calls = {"n": 0}
    original = qf.contributions

    def contributions(con, f):
        calls["n"] += 1
        return original(con, f)

    contributions.__module__, contributions.__name__ = original.__module__, original.__name__  # found by name
    monkeypatch.setattr(qf, "contributions", contributions)
    app_data.begin_run()
    f = Filtres(annees=tuple(range(2016, 2023)))
    app_data.section("financeurs_entete", f, annee=2022, annee_ref=2016)
    app_data.section("financeurs_contributions", f, annee=2022)
    app_data.section("financeurs_demandes", f)
    assert calls["n"] == 1


def _page(page: str, **params) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=180)
    for k, v in params.items():
        at.query_params[k] = v
    at.run()
    if page != "pages/vue_ensemble.py":
        at.switch_page(page)
        at.run()
    assert not at.exception, at.exception
    return at


@pytest.mark.parametrize("page", ["pages/vue_ensemble.py", "pages/financeurs.py", "pages/piliers.py",
                                  "pages/quartiers.py", "pages/enquetes.py"])
def test_a_rerun_with_nothing_changed_builds_no_chart_nor_map(app_data, monkeypatch, page):
    built: list[str] = []
    for name in ("stacked_by_year", "stacked_columns", "horizontal_bars", "change_bars", "heatmap",
                 "value_columns", "measure_bars", "paired_bars", "share_vs_target"):
        original = getattr(charts, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            built.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(charts, name, spy)
    from cdv_core import survey_charts

    for name in ("barres_100", "barres_choix", "histogramme", "boites"):
        original = getattr(survey_charts, name)

        def spy(*args, _name=name, _original=original, **kwargs):
            built.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(survey_charts, name, spy)
    from cdv_core import maps

    original_map = maps.carte_territoire

    def map_spy(*args, **kwargs):
        built.append("carte_territoire")
        return original_map(*args, **kwargs)

    monkeypatch.setattr(maps, "carte_territoire", map_spy)
    at = _page(page, annees="2016-2022")
    assert built, "the page draws charts built by cdv_core.charts"
    if page in ("pages/vue_ensemble.py", "pages/quartiers.py"):
        assert "carte_territoire" in built, "the page draws its map"
    before = len(built)
    titles = [t.value for t in at.title]
    at.run()
    assert not at.exception, at.exception
    assert len(built) == before, built[before:]
    assert [t.value for t in at.title] == titles


def test_the_page_choices_are_in_the_address(app_data):
    at = _page("pages/financeurs.py", annees="2016-2022")
    at.selectbox(key="fin_annee").select(2021).run()
    assert "2021" in at.query_params["annee"]
    # A link with the choices reopens the same view.
    again = _page("pages/financeurs.py", annees="2016-2022", annee="2021", reference="2018")
    assert again.selectbox(key="fin_annee").value == 2021
    assert again.selectbox(key="fin_ref").value == 2018
    assert again.metric[0].label == "Montant accordé 2021"
    fin = demo_expect.financements()
    assert _norm(again.metric[0].value) == _norm(fmt.euros(fin.loc[fin["annee"] == 2021, "montant_accorde"].sum()))
    # A value the data do not hold is ignored (the default year), never an error.
    stale = _page("pages/financeurs.py", annees="2016-2022", annee="1990")
    assert stale.selectbox(key="fin_annee").value == demo_expect.decided_year(range(2016, 2023))


def test_the_import_page_limit_is_the_server_setting():
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text(encoding="utf-8"))
    # The widget's cap (MB) is the figure the import page states and the core checks.
    assert config["server"]["maxUploadSize"] == gestion.MAX_BYTES // 1_000_000


def test_filter_summary_asks_no_query_once_the_options_are_read(app_data, monkeypatch):
    from cdv_core import queries
    from ui import filters

    app_data.begin_run()
    assert "Financeurs : CAF" in filters.summary(Filtres(financeurs=("caf",)))  # reads the options once
    monkeypatch.setattr(queries, "options", lambda con: pytest.fail("the option queries ran again"))
    assert "Financeurs : CAF, Région" in filters.summary(Filtres(financeurs=("caf", "region")))


def test_a_filter_a_section_does_not_read_does_not_rebuild_it(app_data, counted):
    """The quartier's roadmap reads only the quartier filter: choosing a funder or a year serves it from the
    cache; choosing another quartier builds it again."""
    calls, count = counted
    count("feuille_de_route")
    count("ve_entete")
    app_data.begin_run()
    first = app_data.section("feuille_de_route", Filtres())
    for f in (Filtres(financeurs=("CAF",)), Filtres(annees=(2021,), nature=("specifique",))):
        assert app_data.section("feuille_de_route", f) is first
        app_data.section("ve_entete", f, annee=2022, annee_ref=2016)
    assert calls["feuille_de_route"] == 1
    assert calls["ve_entete"] == 2  # a section that reads every filter: built for each
    other = app_data.section("feuille_de_route", Filtres(qpv=(first.params["qpv"],), financeurs=("CAF",)))
    assert calls["feuille_de_route"] == 2 and other is not first
