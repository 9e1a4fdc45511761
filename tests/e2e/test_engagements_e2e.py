"""Engagements page in a real browser: a bookmarked URL filtered on one signatory reopens that view."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests.e2e.conftest import app_exceptions, goto_app

DEMO = Path(__file__).resolve().parents[2] / "data" / "demo"


def caf_2022() -> tuple[int, int]:
    """(engagements the CAF signed that are in force in 2022, those atteints or en cours), from the demo CSV."""
    eng = pd.read_csv(DEMO / "engagements.csv", dtype={"engagement_id": str})
    suivi = pd.read_csv(DEMO / "suivi_engagements.csv", dtype={"engagement_id": str})
    mine = eng[eng["signataire"].str.split("|").map(lambda s: "caf" in s) & (eng["debut"] <= 2022)]
    status = suivi[suivi["annee"] == 2022].set_index("engagement_id")["statut"]
    got = mine["engagement_id"].map(status)
    return len(mine), int(got.isin(["atteint", "en_cours", "partiellement_atteint"]).sum())


@pytest.mark.e2e
def test_bookmarked_url_filtered_on_one_signatory(streamlit_server, page):
    n, marche = caf_2022()
    # The server's first run builds the demo database: on a loaded machine it takes minutes, not seconds.
    goto_app(page, streamlit_server, timeout=480_000)  # see test_quartiers_e2e: the root first, then the link
    goto_app(page, f"{streamlit_server}/engagements?annee=2022&signataire=caf", timeout=300_000)
    title = page.get_by_role("heading", level=1).first
    title.wait_for(timeout=60_000)
    text = title.inner_text().replace("\u00a0", " ")
    assert text.startswith(f"En 2022, {marche} engagement") and f"sur {n}" in text and "CAF" in text
    assert "Signataire : CAF" in page.locator(".cdv-filters").first.inner_text()
    assert "signataire=caf" in page.url and "annee=2022" in page.url
    assert app_exceptions(page) == []
