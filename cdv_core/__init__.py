"""Contrats de ville: the data layer (DuckDB base, importer, queries, sections, exports), without Streamlit.

Importing it sets one pandas option for the whole process: text columns are Python objects (pandas' behaviour
before 3.0), not Arrow strings. The app's tables are small (a few to a few thousand rows) and pass through many
small operations (column look-ups, merges, maps, labels); on them an Arrow string column costs a conversion at
nearly every step (pandas' own `_from_sequence`, `to_numpy`, the column index's engine). Measured with
`benchmarks/national.py`, same base, alternated runs: the server CPU of a filter change falls by 15 to 35 % on
the demo base and by about 10 % on Financeurs at national scale (README, « Chiffres »). pandas is pinned (3.1);
the option is deprecated for pandas 4, which will need this revisited.
"""

import warnings as _warnings

import pandas as _pd

with _warnings.catch_warnings():
    _warnings.simplefilter("ignore")  # pandas 3 warns that the option will go in pandas 4
    _pd.set_option("future.infer_string", False)
