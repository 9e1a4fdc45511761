"""Porteurs page in a real browser: a bookmarked `?porteur=` link opens that porteur's fiche."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdv_core import fmt
from tests.e2e.conftest import app_exceptions, goto_app

DATA = Path(__file__).resolve().parents[2] / "data"
SIRET = "21620065900011"  # Commune de Avion, also spelled "COM AVION" in the programmation


def amount(year: int) -> float:
    """Granted to every spelling of the SIRET in `year`, recomputed from the demo CSV files."""
    prog = pd.read_csv(DATA / "demo" / "programmation.csv", dtype=str, keep_default_na=False)
    fin = pd.read_csv(DATA / "demo" / "financements.csv", dtype=str, keep_default_na=False)
    ids = set(prog.loc[(prog["porteur_siret"] == SIRET) & (prog["annee"] == str(year)), "action_id"])
    sel = fin[(fin["annee"] == str(year)) & fin["action_id"].isin(ids)]
    return float(sel["montant_accorde"].astype(float).sum())


@pytest.mark.e2e
def test_bookmarked_link_opens_the_fiche_porteur(streamlit_server, page):
    # A server's very first request should not be a deep link (see test_quartiers_e2e): open the root first.
    # Generous bounds: a fresh server builds its demo database first, on a loaded 2-core machine.
    goto_app(page, streamlit_server, timeout=180_000)
    # The bookmark names the porteur by an old spelling; the fiche groups it with its SIRET.
    goto_app(page, f"{streamlit_server}/porteurs?annees=2022-2022&porteur=COM%20AVION", timeout=180_000)
    expected = fmt.euros(amount(2022))
    # One wait on the finished heading (name and amount): a rerun may redraw it, never a half state.
    page.get_by_role("heading", name=f"Commune de Avion : {expected} accordés").wait_for(timeout=120_000)
    page.locator('[data-testid="stMetric"]', has_text=SIRET).wait_for(timeout=60_000)
    page.wait_for_function(f"() => window.location.search.includes('porteur={SIRET}')", timeout=60_000)
    assert "annees=2022-2022" in page.url
    assert app_exceptions(page) == []
