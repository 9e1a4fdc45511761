"""Page tables show their numbers in French (`1 234 567 €`, `87,70 €`, `12,5 %`) and keep them as numbers, so that
sorting a column by amount sorts by amount. Read through AppTest: the display text Streamlit sends to the browser
(the Styler's display values, which the grid draws) and the cells' values; expectations from data/demo with pandas.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from tests import demo_expect

ROOT = Path(__file__).resolve().parents[1]
NBSP = "\u00a0"


def _fr(value: float, decimals: int) -> str:
    """French digits written here independently of cdv_core.fmt: no-break space for thousands, comma for decimals."""
    text = f"{value:,.{decimals}f}"
    return text.replace(",", "\x00").replace(".", ",").replace("\x00", NBSP)


def _table(at, key: str) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(values, display texts) of the st.dataframe whose key is `key`."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df

    for df in at.dataframe:
        if df.proto.id.endswith(key):
            shown = convert_arrow_bytes_to_pandas_df(df.proto.arrow_data.styler.display_values)
            return df.value, shown
    raise AssertionError(f"no table {key}: {[d.proto.id for d in at.dataframe]}")


@pytest.fixture(scope="module")
def frames():
    fr = demo_expect.frames()
    return fr


def test_quartiers_ranking_table_is_in_french_and_sortable(demo_app_env, frames):
    from streamlit.testing.v1 import AppTest

    years = [2024, 2025]
    fin = frames["fin"][frames["fin"]["annee"].isin(years)]
    merged = fin.merge(frames["split"], on=["action_id", "annee"])
    amounts = (merged["montant_accorde"] * merged["part"]).groupby(merged["code_qpv"]).sum()
    pop = frames["qpv"].set_index("code_qpv")["population"].pipe(pd.to_numeric, errors="coerce")
    per_hab = (amounts / pop.reindex(amounts.index)).dropna()
    per_hab = per_hab[per_hab.index.str.startswith("QN")]

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=90)
    at.query_params["annees"] = "2024-2025"
    at.run()
    at.switch_page("pages/quartiers.py")
    at.run()
    assert not at.exception
    # The table is drawn once its tab is chosen: nothing hidden is sent when the page opens.
    assert not any(d.proto.id.endswith("df_qp_rank") for d in at.dataframe)
    at.session_state["tabs_qp_rank"] = ":material/table: Tableau"
    at.run()
    assert not at.exception
    values, shown = _table(at, "df_qp_rank")
    assert list(shown.columns) == list(values.columns)
    # the cells keep numbers (the grid sorts them as numbers), the text drawn is French
    assert pd.api.types.is_numeric_dtype(values["Montant accordé"])
    assert pd.api.types.is_numeric_dtype(values["€ par habitant"])
    checked = 0
    for i, code in enumerate(values["Code"]):
        if code not in per_hab.index:
            continue
        assert shown.loc[i, "Montant accordé"] == _fr(amounts[code], 0) + NBSP + "€"
        assert shown.loc[i, "€ par habitant"] == _fr(per_hab[code], 2) + NBSP + "€"  # 87,70 €, never 87,7 €
        assert shown.loc[i, "Population"] == _fr(pop[code], 0)
        checked += 1
    assert checked == len(per_hab) > 3
    assert all("." not in str(t) for t in shown["€ par habitant"])


@pytest.mark.parametrize(("value", "kind", "text"), [
    (87.7, "euros2", "87,70 €"), (87.7, "euros1", "87,70 €"), (1234567.4, "euros", "1 234 567 €"),
    (12.5, "pourcent", "12,5 %"), (12.4, "pourcent0", "12 %"), (47.0, "evolution_pct", "+47,0 %"),
    (-3.25, "evolution_pct", "−3,2 %"), (1.5, "ecart", "+1,5"), (-1.5, "ecart", "−1,5"),
    (12.34, "%.1f %", "12,3 %"), (1234.5, "%.1f", "1 234,5"), (1234, "nombre", "1 234"),
])
def test_every_column_kind_is_written_in_french(value, kind, text):
    from cdv_core import tables

    assert tables.cell(value, kind).replace(NBSP, " ") == text

