"""The fact tables kept in step by imports and undos equal a rebuild from scratch."""

from __future__ import annotations

from pathlib import Path

from cdv_core import facts, importer, schema

LILLE = Path(__file__).resolve().parent / "data" / "lille"


def _facts(con) -> dict[str, list[tuple]]:
    # `cle` is a fresh surrogate number at each refresh: compare what it numbers.
    return {t: sorted(con.execute(f"SELECT * EXCLUDE (cle) FROM {t}").fetchall(), key=repr)
            for t in ("fait", "fait_qpv")}


def test_incremental_refresh_equals_a_rebuild_after_imports_and_undo(demo_db):
    con = schema.connect(demo_db)
    try:
        before = _facts(con)
        for name in ("programmation.csv", "financements.csv"):
            importer.import_bytes(con, (LILLE / name).read_bytes(), name, user="test")
        after_imports = _facts(con)
        assert after_imports != before
        facts.rebuild(con)
        assert _facts(con) == after_imports
        importer.undo_import(con, user="test")  # the funding
        importer.undo_import(con, user="test")  # then the actions
        assert _facts(con) == before
        facts.rebuild(con)
        assert _facts(con) == before
    finally:
        con.close()
