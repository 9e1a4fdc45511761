"""The COPIL governance question (Enquêtes) draws its bar: the chart's height is the bars' own, the legend is added
under them ("fit-x"), instead of one height shared with a long legend that squeezed the bar to nothing."""

from __future__ import annotations

import pandas as pd

from cdv_core import schema
from cdv_core.filters import Filtres
from cdv_core.sections import build
from tests.demo_expect import DEMO


def test_governance_question_keeps_its_bar_height_whatever_the_legend(demo_db_template):
    answers = pd.read_csv(DEMO / "enquete_communes.csv")
    gov = answers[answers["question"] == "gouvernance_copil"]
    assert not gov.empty
    con = schema.connect(demo_db_template, read_only=True)
    try:
        sec = build(con, Filtres(), "enquetes_question", enquete=gov["enquete"].iloc[0], question="gouvernance_copil")
    finally:
        con.close()
    spec = sec.chart
    assert spec is not None and not sec.vide
    assert spec["autosize"]["type"] == "fit-x"  # the legend does not take its room from the bars
    assert spec["height"] >= 58  # one row of bars (the whole commune survey in one line: "Ensemble")
    legend = next(layer["encoding"]["color"]["legend"] for layer in spec["layer"]
                  if "legend" in layer.get("encoding", {}).get("color", {}))
    assert legend["orient"] == "bottom" and legend["columns"] >= 1
