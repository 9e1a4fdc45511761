"""Every section of the demo, built once: its table comes out as the slower, obvious code would make it. The French
texts written once per table (`ui.show.french`) are those pandas' Styler gives cell by cell. (Its chart is the one
Altair would write: tests/test_vl.py.)"""

from __future__ import annotations

import pandas as pd
import pytest

from cdv_core import schema, sections
from cdv_core.filters import Filtres


@pytest.fixture(scope="module")
def built(demo_db_template):
    """The sections of the demo."""
    con = schema.connect_read(demo_db_template)
    try:
        return [sections.build(con, Filtres(annees=(2022, 2023)), name) for name in sections.CATALOGUE]
    finally:
        con.close()


def _reference_texts(df: pd.DataFrame, formats: dict[str, str]) -> pd.DataFrame:
    """What pandas' own Styler displays when each numeric cell is formatted by `tables.cell` (the former way, every
    cell formatted by pandas at each drawing), read back through Streamlit's marshalling."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    from streamlit.elements.lib.pandas_styler_utils import marshall_styler
    from streamlit.proto.Dataframe_pb2 import Dataframe

    from cdv_core import tables

    data = df.reset_index(drop=True)
    styler = data.style
    first = data.columns[0]
    labels = data[first].astype(str)
    for col in data.columns:
        if not pd.api.types.is_numeric_dtype(data[col]) or pd.api.types.is_bool_dtype(data[col]):
            continue
        kind = tables.kind(str(col), formats)
        euro_rows = labels.str.contains("€")
        if kind == "nombre" and col != first and euro_rows.any():
            for rows, lab in ((euro_rows, "€"), (~euro_rows, "")):
                if rows.any():
                    styler = styler.format(lambda v, k=kind, la=lab: tables.cell(v, k, la),
                                           subset=pd.IndexSlice[data.index[rows], [col]])
        else:
            styler = styler.format(lambda v, k=kind: tables.cell(v, k), subset=[col])
    proto = Dataframe()
    marshall_styler(proto.arrow_data, styler, "ref")
    return convert_arrow_bytes_to_pandas_df(proto.arrow_data.styler.display_values)


def test_every_section_table_shows_what_pandas_styler_would(built):
    """The French texts are written once per table (ui.show.french); drawn, they are exactly those pandas' Styler
    gives cell by cell, for every table of every section of the demo, and come back from the same Styler object
    when the same table is drawn again."""
    from streamlit.dataframe_util import convert_arrow_bytes_to_pandas_df
    from streamlit.elements.lib.pandas_styler_utils import marshall_styler
    from streamlit.proto.Dataframe_pb2 import Dataframe

    from ui import show

    checked = 0
    for sec in built:
        df = sec.table
        if df is None or df.empty or sec.vide:
            continue
        styler = show.french(df, sec.formats)
        if styler is df:
            continue
        assert show.french(df, sec.formats) is styler  # made once per table
        proto = Dataframe()
        marshall_styler(proto.arrow_data, styler, "x")
        shown = convert_arrow_bytes_to_pandas_df(proto.arrow_data.styler.display_values)
        pd.testing.assert_frame_equal(shown, _reference_texts(df, sec.formats), obj=sec.type)
        checked += 1
    assert checked > 20
