"""`tables.pivot_sum` gives the table pandas' `pivot_table(aggfunc="sum", fill_value=0)` gives, on the kinds of tables
the sections pivot: text or several keys per row, years or texts as columns, integer or decimal values, missing
values and missing keys."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from cdv_core.tables import pivot_sum


def _frame(seed: int, n: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    df = pd.DataFrame({
        "libelle": rng.choice(["État", "Région", "CAF", "Communes", "Europe"], n),
        "famille": rng.choice(["État", "Collectivités"], n),
        "annee": rng.choice([2015, 2016, 2020, 2024, 2025], n),
        "statut": rng.choice(["atteint", "en_cours", "abandonne"], n),
        "montant": rng.random(n) * 10_000,
        "nb": rng.integers(0, 9, n),
    })
    holes = rng.random(n) < 0.1
    df.loc[holes, "montant"] = np.nan
    df.loc[rng.random(n) < 0.05, "libelle"] = None
    return df


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize(("index", "columns", "values"), [
    ("libelle", "annee", "montant"), (["libelle", "famille"], "annee", "montant"), ("libelle", "statut", "nb"),
    ("annee", "libelle", "nb"),
])
def test_same_table_as_pandas_pivot_table(seed, index, columns, values):
    df = _frame(seed, 12 + 17 * seed)
    expected = df.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0)
    pd.testing.assert_frame_equal(pivot_sum(df, index, columns, values), expected)
