"""The cube of sums (`queries.sommes`): inside the app, `aggregate(..., actions=False)` on the year, funder, pilier,
nature and section reads a cached cube instead of scanning the fact table; its answer must be DuckDB's own
aggregate (same columns, types, rows and order; amounts equal to the cent), for every dimension set and filter.
Real DuckDB file (the demo database plus lines without funding and a QPV filter)."""

from __future__ import annotations

import itertools

import pandas as pd
import pytest

from cdv_core import queries, runner, schema
from cdv_core.filters import Filtres


class _Cache:
    """A query runner as the app installs one: each (function, arguments) computed once."""

    def __init__(self, con) -> None:
        self.con = con
        self.calls: dict[tuple, int] = {}
        self.results: dict[tuple, object] = {}

    def __call__(self, fn, *args, **kwargs):
        key = (fn.__name__, args, tuple(sorted(kwargs.items())))
        self.calls[key] = self.calls.get(key, 0) + 1
        if key not in self.results:
            self.results[key] = fn(self.con, *args, **kwargs)
        return self.results[key]


@pytest.fixture(scope="module")
def con(demo_db_template):
    c = schema.connect_read(demo_db_template)
    yield c
    c.close()


def _filter_sets(con) -> list[Filtres]:
    years = [r[0] for r in con.execute("SELECT DISTINCT annee FROM fait ORDER BY 1").fetchall()]
    funders = [r[0] for r in con.execute("SELECT DISTINCT financeur FROM fait WHERE financeur IS NOT NULL "
                                         "ORDER BY 1").fetchall()]
    piliers = [r[0] for r in con.execute("SELECT DISTINCT pilier FROM fait ORDER BY 1").fetchall()]
    qpv = con.execute("SELECT code_qpv FROM fait_qpv GROUP BY 1 ORDER BY count(*) DESC LIMIT 2").fetchall()
    contrat = con.execute("SELECT contrat FROM fait GROUP BY 1 ORDER BY count(*) DESC LIMIT 1").fetchone()[0]
    return [
        Filtres(),
        Filtres(annees=tuple(years[-3:])),
        Filtres(annees=(years[0],), financeurs=tuple(funders[:2])),
        Filtres(piliers=(piliers[0],), nature=("specifique",)),
        Filtres(nature=("droit_commun",), financeurs=(funders[-1],), annees=tuple(years[:4])),
        Filtres(qpv=tuple(r[0] for r in qpv), annees=tuple(years[-2:])),  # per-QPV shares
        Filtres(contrat=contrat, statut=("accordee",), piliers=tuple(piliers[:2])),
        Filtres(annees=(1900,)),  # nothing
    ]


DIM_SETS = [()] + [list(c) for n in (1, 2, 3) for c in itertools.combinations(queries.CUBE_DIMENSIONS, n)]


def _same(direct: pd.DataFrame, cube: pd.DataFrame) -> None:
    assert list(cube.columns) == list(direct.columns)
    assert list(cube.dtypes.astype(str)) == list(direct.dtypes.astype(str))
    assert len(cube) == len(direct)
    for col in direct.columns:
        a, b = direct[col], cube[col]
        if col in ("montant_accorde", "montant_demande"):
            assert a.isna().tolist() == b.isna().tolist(), col
            assert [round(x, 2) for x in a.dropna()] == [round(x, 2) for x in b.dropna()], col
        else:
            assert a.tolist() == b.tolist() or a.equals(b), col


def test_cube_gives_duckdb_aggregate_for_every_dimension_set_and_filter(con):
    cache = _Cache(con)
    checked = 0
    for f in _filter_sets(con):
        for dims in DIM_SETS:
            direct = queries.aggregate(con, f, dims, actions=False)  # no cache installed: DuckDB's own sums
            token = runner.use_query_runner(cache)
            try:
                from_cube = queries.aggregate(con, f, dims, actions=False)
            finally:
                runner.reset_query_runner(token)
            _same(direct, from_cube)
            checked += 1
    assert checked == 8 * len(DIM_SETS)
    # the cube was computed once per filter set outside its own filters (years, piliers, funders, nature) and
    # read for every dimension set: the 8 filter sets need 3 cubes (no filter but those four; the quartiers; the
    # contract and statut)
    assert all(name == "sommes" for name, _args, _kw in cache.results)
    assert len(cache.results) == 3


def test_lines_without_funding_count_without_funder_dimensions(demo_db):
    """An action without any funding line is in the year's lines but never a funder of its own."""
    con = schema.connect(demo_db)
    year = con.execute("SELECT max(annee) FROM action").fetchone()[0]
    row = con.execute("SELECT * FROM action WHERE annee = ? LIMIT 1", [year]).df().iloc[0].to_dict()
    row.update(action_id="SANS-FINANCEMENT-1", intitule="Action sans financement")
    cols = ", ".join(row)
    con.execute(f"INSERT INTO action ({cols}) VALUES ({', '.join('?' for _ in row)})", list(row.values()))
    from cdv_core import facts

    facts.rebuild(con)
    assert con.execute("SELECT count(*) FROM fait WHERE action_id = 'SANS-FINANCEMENT-1' AND financeur IS NULL"
                       ).fetchone()[0] == 1
    cache = _Cache(con)
    for dims in (["annee"], ["annee", "financeur"], [], ["nature"]):
        direct = queries.aggregate(con, Filtres(annees=(year,)), dims, actions=False)
        token = runner.use_query_runner(cache)
        try:
            _same(direct, queries.aggregate(con, Filtres(annees=(year,)), dims, actions=False))
        finally:
            runner.reset_query_runner(token)
    con.close()


def test_counts_and_qpv_dimensions_never_read_the_cube(con):
    cache = _Cache(con)
    token = runner.use_query_runner(cache)
    try:
        queries.aggregate(con, Filtres(), ["annee"])  # counts actions: DuckDB
        queries.aggregate(con, Filtres(), ["qpv"], actions=False)  # per QPV: DuckDB
        queries.aggregate(con, Filtres(), ["thematique"], actions=False)  # not a cube dimension
        queries.aggregate(con, Filtres(), ["financeur"], actions=False, extra_where={"financeur": ("caf",)})
    finally:
        runner.reset_query_runner(token)
    assert cache.calls == {}
