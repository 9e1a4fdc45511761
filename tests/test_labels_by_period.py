"""Issue 11: a thématique of the former nomenclature is named with its period wherever the two may meet — the
filter summary (under every title, on slides, in the PDF and PPTX) and the pillars' thématique chart — never by
its stored code (`2020-1.2`). Expected labels come from the nomenclatures as published: the 2020-2023 one as
FORMATS §8 lists it (1.2 = Santé), the current one from data/referentiels/thematiques.csv."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from cdv_core import queries, schema
from cdv_core import queries_piliers as qp
from cdv_core.filters import Filtres
from cdv_core.sections import build
from tests.conftest import REPO_ROOT

STORED_FORMER = re.compile(r"2020-\d")  # a stored former code ("2020-1.2", "2020-1"); "2020-2023" is a period


def current_label(code: str) -> str:
    ref = pd.read_csv(REPO_ROOT / "data" / "referentiels" / "thematiques.csv", dtype=str)
    return ref.loc[ref["sous_theme_code"] == code, "sous_theme_libelle"].item()


def former_label(code: str) -> str:
    """The label of a former code as FORMATS §8 lists it ("… 1.2 Santé, 1.3 …")."""
    text = " ".join((REPO_ROOT / "docs" / "FORMATS.md").read_text(encoding="utf-8").split())
    m = re.search(rf"former nomenclature \(.*?[ :,]{re.escape(code)} ([^,;:)]+)", text)
    assert m, f"{code} not found in FORMATS §8"
    return m.group(1).strip()


@pytest.fixture
def con(demo_db):
    c = schema.connect(demo_db, read_only=True)
    yield c
    c.close()


def test_summary_names_both_nomenclatures_by_period(con):
    text = queries.resume_filtres(con, Filtres(thematiques=("2020-1.2", "1.2")))
    assert "Santé" == former_label("1.2")
    assert f"1.2 {former_label('1.2')} (2020-2023)" in text, text
    assert f"1.2 {current_label('1.2')} (depuis 2024)" in text, text
    assert not STORED_FORMER.search(text.replace("(2020-2023)", "")), text


def test_pillar_thematique_chart_names_by_period(con):
    prog = pd.read_csv(REPO_ROOT / "data" / "demo" / "programmation.csv", dtype=str)
    row = prog[(prog["annee"] == "2021") & (prog["thematique"] == "2020-1.2")].iloc[0]
    pilier = row["pilier"]
    got = qp.par_thematique(con, Filtres(annees=(2021,), piliers=(pilier,))).set_index("thematique")
    assert got.loc["2020-1.2", "thematique_libelle"] == f"1.2 {former_label('1.2')} (2020-2023)"
    sec = build(con, Filtres(), "piliers_thematiques", annee=2021, pilier=pilier)
    # what the chart writes on its axis and in its tooltips: the values of its encoded text fields
    fields = {e["field"] for layer in sec.chart["layer"] for ch, e in layer.get("encoding", {}).items()
              if isinstance(e, dict) and e.get("type") == "nominal" and "field" in e}
    fields |= {t["field"] for layer in sec.chart["layer"] for t in layer.get("encoding", {}).get("tooltip", [])
               if t.get("type") == "nominal"}
    shown = [str(r[f]) for rows in sec.chart["datasets"].values() for r in rows for f in fields if f in r]
    assert f"1.2 {former_label('1.2')} (2020-2023)" in shown, shown
    assert not [v for v in shown if STORED_FORMER.search(v.replace("2020-2023", ""))], shown
    assert not STORED_FORMER.search(" ".join(sec.table["Thématique"]).replace("2020-2023", ""))
