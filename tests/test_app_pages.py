"""Every page runs under AppTest without exception; the overview shows figures computed from the data."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from cdv_core import auth, fmt
from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted(p.relative_to(ROOT).as_posix() for p in (ROOT / "pages").glob("*.py"))


def _norm(text: str) -> str:
    return text.replace("\u00a0", " ").replace("\u202f", " ")


def _app() -> AppTest:
    return AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_runs_without_exception(page, demo_app_env, tmp_path, monkeypatch):
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('[cdv.comptes.test]\nnom = "Test"\nrole = "gestionnaire"\n'
                       f'mot_de_passe = "{auth.hash_password("x" * 12, iterations=1000)}"\n', encoding="utf-8")
    monkeypatch.setenv("CDV_SECRETS", str(secrets))
    at = _app()
    # A gestionnaire sees every page (the role checks themselves are tested in test_auth/test_import_page).
    at.session_state["cdv_user"] = auth.User("test", "Test", frozenset({auth.GESTIONNAIRE}), "local")
    at.run()
    assert not at.exception, at.exception
    at.switch_page(page)
    at.run()
    assert not at.exception, f"{page}: {at.exception}"
    assert not [e for e in at.error if "inattendue" in e.value], f"{page}: {[e.value for e in at.error]}"


def test_overview_headline_matches_the_demo_files(demo_app_env):
    at = _app()
    at.run()
    assert not at.exception
    year = demo_expect.decided_year()
    expected = fmt.euros(demo_expect.total(year))
    metric = at.metric[0]
    assert _norm(metric.label) == f"Montant accordé {year}"
    assert _norm(metric.value) == _norm(expected)
    assert _norm(expected) in _norm(at.title[0].value)
    assert _norm(at.metric[1].value) == str(demo_expect.n_actions(year))


def test_a_key_figure_with_its_change_gets_more_room(demo_app_env):
    """The overview's amount carries its change (« +43,8 % par rapport à 2016 »): its column is wider than the
    others', which are equal (at 1366 px the change wrapped on three lines among five equal columns), and the
    year stays with « à ». Financeurs' short change (« +80,0 % ») keeps equal columns."""
    at = _app()
    at.run()
    assert not at.exception
    cards = [(c.weight, c.get("metric")[0]) for c in at.columns if len(c.get("metric")) == 1]
    with_delta = [w for w, m in cards if m.proto.delta]
    without = {round(w, 6) for w, m in cards if not m.proto.delta}
    assert len(with_delta) == 1 and len(without) == 1
    assert with_delta[0] > 1.5 * next(iter(without))
    delta = next(m.proto.delta for _, m in cards if m.proto.delta)
    assert delta.endswith(f"par rapport à\u00a0{at.selectbox(key='ve_ref').value}")
    at.switch_page("pages/financeurs.py")
    at.run()
    cards = [(c.weight, c.get("metric")[0]) for c in at.columns if len(c.get("metric")) == 1]
    first = next(i for i, (_, m) in enumerate(cards) if m.proto.delta)  # the amount, then the other key figures
    assert cards[first][0] == pytest.approx(cards[first + 1][0])


def test_overview_reads_filters_from_the_url(demo_app_env):
    at = _app()
    at.query_params["annees"] = "2016-2022"
    at.query_params["financeurs"] = "caf"
    at.run()
    assert not at.exception
    expected = fmt.euros(demo_expect.total(2022, "caf"))
    assert _norm(at.metric[0].label) == "Montant accordé 2022"
    assert _norm(at.metric[0].value) == _norm(expected)
    summary = " ".join(_norm(m.value) for m in at.markdown)
    assert "Années 2016 à 2022" in summary and "Financeurs : CAF" in summary


def test_unknown_url_values_are_ignored_not_errors(demo_app_env):
    at = _app()
    at.query_params["annees"] = "abc"
    at.query_params["financeurs"] = "n_existe_pas"
    at.query_params["qpv"] = "QP000000"
    at.run()
    assert not at.exception
    year = demo_expect.decided_year()
    assert _norm(at.metric[0].value) == _norm(fmt.euros(demo_expect.total(year)))


def test_empty_selection_says_so(demo_app_env):
    at = _app()
    # An existing 2015 pillar with 2024+ years selects nothing.
    at.query_params["annees"] = "2025-2026"
    at.query_params["piliers"] = "inclusion"
    at.run()
    assert not at.exception
    assert any("Aucune action ne correspond" in i.value for i in at.info)
