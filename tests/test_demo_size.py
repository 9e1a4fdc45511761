"""Issue 15 follow-up: the demo base is not padded with near-empty blocks. DuckDB gives each table at least one
block; with its default 256 kio blocks the demo base weighed 25,5 Mio, half of it blocks of small tables (and the
journal table of each). The demo base is written with 16 kio blocks: under 16 Mo, and the contours (national, kept so
that a contract imported later finds its map) are all still there."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from cdv_core import demo

GEO = Path(__file__).resolve().parents[1] / "data" / "geo"


def test_demo_base_uses_small_blocks_and_stays_small(demo_db_template):
    con = duckdb.connect(str(demo_db_template), read_only=True)
    try:
        assert con.execute("SELECT block_size FROM pragma_database_size()").fetchone()[0] == demo.BLOCK_SIZE
        n_qpv = con.execute("SELECT count(*) FROM contour WHERE niveau = 'qpv'").fetchone()[0]
    finally:
        con.close()
    shipped = len(json.loads((GEO / "qpv2024_france.geojson").read_text(encoding="utf-8"))["features"])
    assert n_qpv == shipped  # every QPV 2024 of France keeps its contour
    size = demo_db_template.stat().st_size
    print(f"demo base: {size / 1e6:.1f} Mo")
    assert size < 16_000_000, f"{size / 1e6:.1f} Mo"
