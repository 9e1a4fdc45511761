"""Quartiers page in a real browser: a link to a fiche opens it with the right amount."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from cdv_core import fmt
from tests.e2e.conftest import app_exceptions, goto_app

DATA = Path(__file__).resolve().parents[2] / "data"


def amount_2022(code: str) -> float:
    """The QPV's equal share of 2022 granted amounts, recomputed from the demo CSV files."""
    prog = pd.read_csv(DATA / "demo" / "programmation.csv", dtype=str, keep_default_na=False)
    fin = pd.read_csv(DATA / "demo" / "financements.csv", dtype=str, keep_default_na=False)
    qpv = pd.read_csv(DATA / "referentiels" / "qpv.csv", dtype=str, keep_default_na=False)
    by_contrat = qpv[qpv["contrat"] != ""].groupby("contrat")["code_qpv"].apply(list).to_dict()
    share: dict[str, float] = {}
    for r in prog[prog["annee"] == "2022"].itertuples(index=False):
        codes = by_contrat[r.contrat] if r.qpv == "*" else r.qpv.split("|")
        if code in codes:
            share[r.action_id] = 1 / len(codes)
    fin = fin[(fin["annee"] == "2022") & fin["action_id"].isin(share)]
    return float(sum(float(m) * share[a] for a, m in zip(fin["action_id"], fin["montant_accorde"], strict=True)))


@pytest.mark.e2e
def test_link_opens_the_fiche(streamlit_server, page):
    code = "QP062024"
    # Open the app root first: a server whose very first request is a deep link runs pages/ as a
    # Streamlit v1 multipage app (no st.navigation yet); see the report on this page's work.
    goto_app(page, streamlit_server)
    goto_app(page, f"{streamlit_server}/quartiers?annees=2022-2022&qpv_fiche={code}")
    page.get_by_role("heading", name=f"Fiche du quartier Cité 12-14 ({code})").wait_for(timeout=120_000)
    expected = fmt.euros(amount_2022(code))
    metric = page.locator('[data-testid="stMetric"]', has_text="Montant accordé")
    assert expected in metric.inner_text()
    assert f"qpv_fiche={code}" in page.url
    assert app_exceptions(page) == []
