"""The charts' data go into their Vega-Lite spec as Altair itself would write them (cdv_core.charts uses a
faster transformer for plain tables), and always as valid JSON."""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd
from altair.utils.data import to_values

from cdv_core import charts


def test_plain_tables_give_the_values_altair_gives():
    df = pd.DataFrame({"libelle": ["CAF", "Région", None], "montant": [1234.5, np.nan, 0.1 + 0.2],
                       "n": np.array([1, 2, 3], dtype="int64"), "oui": [True, False, True]})
    assert charts._values(df) == to_values(df)


def test_missing_text_is_null_and_the_spec_is_valid_json():
    df = pd.DataFrame({"libelle": ["a", "b"], "commentaire": [np.nan, "vu"], "v": [1.0, 2.0]})
    values = charts._values(df)["values"]
    assert values[0]["commentaire"] is None and values[1]["commentaire"] == "vu"
    spec = charts.horizontal_bars(df, "libelle", "v").to_dict(validate=False)
    json.dumps(spec, allow_nan=False)  # raises on NaN / Infinity


def test_dates_and_large_tables_go_through_altair():
    dated = pd.DataFrame({"quand": pd.to_datetime(["2024-01-02", "2024-03-04"]), "v": [1, 2]})
    assert charts._values(dated) == to_values(dated)
    big = pd.DataFrame({"v": range(6000)})
    try:
        charts._values(big)
    except Exception as exc:  # Altair's MaxRowsError, as before
        assert "5000" in str(exc)
    else:
        raise AssertionError("a table beyond Altair's row limit must be refused as Altair does")
    assert not math.isnan(charts._values(pd.DataFrame({"v": [1.5]}))["values"][0]["v"])
