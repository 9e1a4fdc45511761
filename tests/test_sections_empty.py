"""A contrat de ville that has imported nothing yet (or only part of its files) gets French sentences, never an
error: every section of the catalogue builds on a base holding only the national referentials, for the whole
base and for one of its quartiers."""

from __future__ import annotations

import pytest

from cdv_core import demo, schema, sections
from cdv_core.filters import Filtres
from cdv_core.sections import CATALOGUE, Section


@pytest.fixture(scope="module")
def empty_con(tmp_path_factory):
    path = tmp_path_factory.mktemp("vide") / "vide.duckdb"
    demo.new_database(path, demo=False)
    con = schema.connect(path, read_only=True)
    yield con
    con.close()


@pytest.fixture(scope="module")
def a_quartier(empty_con) -> str:
    return empty_con.execute("SELECT min(code_qpv) FROM qpv WHERE geographie = '2024'").fetchone()[0]


@pytest.mark.parametrize("type_", sorted(CATALOGUE))
def test_every_section_builds_on_a_base_without_data(empty_con, a_quartier, type_):
    assert empty_con.execute("SELECT count(*) FROM action").fetchone()[0] == 0
    for params in ({}, {"qpv": a_quartier, "geographie": "2024"}):
        sec = sections.build(empty_con, Filtres(), type_, **params)
        assert isinstance(sec, Section) and sec.titre, (type_, params)
        # Nothing to show is said in a sentence, not drawn as an empty chart.
        if sec.chart is not None:
            assert sec.table is not None and not sec.table.empty, (type_, params)
