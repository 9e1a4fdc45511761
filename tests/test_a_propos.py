"""« À propos des données »: the last import of each kind of file, from the journal; the page runs."""

from __future__ import annotations

import duckdb

from cdv_core import fmt, schema, sections
from cdv_core.filters import Filtres


def test_last_import_of_each_kind(demo_db):
    raw = duckdb.connect(str(demo_db), read_only=True)
    try:
        expected = dict(raw.execute(
            "SELECT type_fichier, max(horodatage) FROM import_journal WHERE annule_par IS NULL AND annule IS NULL "
            "GROUP BY 1").fetchall())
    finally:
        raw.close()
    con = schema.connect(demo_db)
    try:
        sec = sections.build(con, Filtres(), "a_propos_imports")
    finally:
        con.close()
    assert len(sec.table) == len(expected) > 0
    for when in expected.values():
        assert fmt.date_heure_fr(when) in set(sec.table["Dernier import"])
    assert fmt.date_fr(max(expected.values())) in sec.titre
