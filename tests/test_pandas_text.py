"""Text columns as Python objects in every process that imports cdv_core (see cdv_core/__init__.py): the app,
the command line, the tests. Checked in a fresh interpreter, as the option is process-wide."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_query_results_and_new_tables_hold_text_as_python_objects():
    code = ("import cdv_core, duckdb, pandas as pd; "
            "df = duckdb.connect().execute(\"SELECT 'a' AS s, 1 AS n\").df(); "
            "print(df['s'].dtype, pd.DataFrame({'t': ['x']})['t'].dtype, df.columns.dtype)")
    out = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["object", "object", "object"], out.stdout + out.stderr
    assert "Warning" not in out.stderr, out.stderr
