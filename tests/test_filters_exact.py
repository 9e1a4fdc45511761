"""`cdv_core.filters` on a tiny hand-written table (no demo database): fast enough for a mutation run.

Every filter's SQL conditions are run by DuckDB on `ROWS` below and the ids it keeps are compared with the
rule written out in plain Python (`_keep`), field by field; the `Sql` helper and `Filtres` methods are checked
on literal expectations.
"""

from __future__ import annotations

from dataclasses import fields

import duckdb
import pytest

from cdv_core.filters import Filtres, Sql, action_conditions, financement_conditions, qpv_conditions

COLUMNS = ("id", "annee", "contrat", "pilier", "thematique", "statut", "porteur_type", "code_qpv", "financeur",
           "nature", "dispositif")
ROWS = [
    (1, 2022, "CV1", "cohesion", "2.1", "accordee", "association", "QP1", "caf", "droit_commun", None),
    (2, 2022, "CV1", "emploi", "2", "soldee", "commune", "QP2", "etat", "specifique", "Adultes-relais"),
    (3, 2023, "CV2", "cadre", "1.3", "deposee", "association", "QP3", "caf", "specifique", "Cités éducatives"),
    (4, 2023, "CV2", "cohesion", "21", "refusee", "bailleur", "QP4", "region", "droit_commun", None),
    (5, 2024, "CN1", "emploi", "1", "accordee", "epci", "QP2", "etat", "specifique", "Adultes-relais"),
    (6, 2024, "CN1", "cadre", "12.1", "soldee", "commune", "QP1", "region", "droit_commun", "Cités éducatives"),
    (7, 2021, "CV1", "emploi", None, "accordee", None, "QP5", "caf", "specifique", None),
]
# QP1 in commune 001, QP2 in 001 and 002, QP3 in 003, QP4 and QP5 in none listed here.
QPV_COMMUNE = [("QP1", "001"), ("QP2", "001"), ("QP2", "002"), ("QP3", "003")]


@pytest.fixture(scope="module")
def con():
    c = duckdb.connect(":memory:")
    c.execute("CREATE TABLE t (id INTEGER, annee INTEGER, contrat VARCHAR, pilier VARCHAR, thematique VARCHAR, "
              "statut VARCHAR, porteur_type VARCHAR, code_qpv VARCHAR, financeur VARCHAR, nature VARCHAR, "
              "dispositif VARCHAR)")
    c.executemany(f"INSERT INTO t VALUES ({', '.join('?' for _ in COLUMNS)})", ROWS)
    c.execute("CREATE TABLE qpv_commune (code_qpv VARCHAR, code_insee VARCHAR)")
    c.executemany("INSERT INTO qpv_commune VALUES (?, ?)", QPV_COMMUNE)
    yield c
    c.close()


def _keep(row: dict, f: Filtres) -> bool:
    """The filters' meaning, written out independently of the SQL."""
    def among(value, chosen):
        return not chosen or value in chosen

    theme = row["thematique"].split(".")[0] if row["thematique"] else None
    quartiers_des_communes = {q for q, c in QPV_COMMUNE if c in f.communes}
    return (among(row["annee"], f.annees) and (not f.contrat or row["contrat"] == f.contrat)
            and among(row["pilier"], f.piliers)
            and (not f.thematiques or row["thematique"] in f.thematiques or theme in f.thematiques)
            and among(row["statut"], f.statut) and among(row["porteur_type"], f.porteur_type)
            and among(row["code_qpv"], f.qpv) and (not f.communes or row["code_qpv"] in quartiers_des_communes)
            and among(row["financeur"], f.financeurs) and among(row["nature"], f.nature)
            and among(row["dispositif"], f.dispositifs))


def _expected(f: Filtres) -> list[int]:
    return sorted(r[0] for r in ROWS if _keep(dict(zip(COLUMNS, r)), f))


def _selected(con, f: Filtres, alias: str = "x") -> list[int]:
    sql = Sql()
    action_conditions(f, sql, alias)
    qpv_conditions(f, sql, alias)
    financement_conditions(f, sql, alias)
    return sorted(r[0] for r in con.execute(f"SELECT id FROM t {alias} {sql.where()}", sql.params).fetchall())


FILTERS = [
    Filtres(),
    Filtres(annees=(2022,)),
    Filtres(annees=(2022, 2024)),
    Filtres(contrat="CV2"),
    Filtres(piliers=("emploi", "cadre")),
    Filtres(thematiques=("2",)),          # the theme "2" and its sub-themes, not "21"
    Filtres(thematiques=("1",)),          # "1", "1.3", not "12.1" nor the "1" after the dot of "2.1"
    Filtres(thematiques=("2.1",)),
    Filtres(thematiques=("12", "1.3")),
    Filtres(statut=("accordee", "soldee")),
    Filtres(porteur_type=("commune",)),
    Filtres(porteur_type=("association", "epci")),
    Filtres(qpv=("QP1",)),
    Filtres(qpv=("QP2", "QP5")),
    Filtres(communes=("002",)),
    Filtres(communes=("001", "003")),
    Filtres(communes=("001",), qpv=("QP2", "QP4")),
    Filtres(financeurs=("caf", "region")),
    Filtres(nature=("specifique",)),
    Filtres(dispositifs=("Adultes-relais",)),
    Filtres(dispositifs=("Adultes-relais", "Cités éducatives")),
    Filtres(annees=(2023, 2024), contrat="CN1", piliers=("cadre",), statut=("soldee",), financeurs=("region",),
            nature=("droit_commun",), dispositifs=("Cités éducatives",), porteur_type=("commune",),
            thematiques=("12",), qpv=("QP1",), communes=("001",)),
]


@pytest.mark.parametrize("f", FILTERS, ids=[str(i) for i in range(len(FILTERS))])
def test_conditions_keep_exactly_the_rows_the_filters_mean(con, f):
    assert _selected(con, f) == _expected(f)


def test_the_filters_above_are_not_trivial():
    # Each filter but "all" keeps something and leaves something out (else it would check nothing).
    for f in FILTERS[1:]:
        assert 0 < len(_expected(f)) < len(ROWS), f


def test_default_aliases(con):
    f = Filtres(annees=(2022, 2023), contrat="CV1", piliers=("emploi", "cohesion"), thematiques=("2",),
                statut=("accordee", "soldee"), porteur_type=("commune", "association"))
    sql = Sql()
    action_conditions(f, sql)
    assert sorted(r[0] for r in con.execute(f"SELECT id FROM t a {sql.where()}", sql.params).fetchall()) \
        == _expected(f) == [1, 2]
    assert all(c.startswith(("a.", "(a.")) for c in sql.conditions)

    f = Filtres(qpv=("QP1", "QP2"), communes=("002",))
    sql = Sql()
    qpv_conditions(f, sql)
    assert sorted(r[0] for r in con.execute(f"SELECT id FROM t q {sql.where()}", sql.params).fetchall()) \
        == _expected(f) == [2, 5]
    assert all(c.startswith("q.") for c in sql.conditions)

    f = Filtres(financeurs=("etat", "caf"), nature=("specifique",), dispositifs=("Adultes-relais",))
    sql = Sql()
    financement_conditions(f, sql)
    assert sorted(r[0] for r in con.execute(f"SELECT id FROM t f {sql.where()}", sql.params).fetchall()) \
        == _expected(f) == [2, 5]
    assert all(c.startswith("f.") for c in sql.conditions)


def test_exact_sql_and_parameters_in_order():
    f = Filtres(annees=(2022, 2023), contrat="CV1", piliers=("emploi",), thematiques=("2", "3.1"),
                statut=("accordee",), porteur_type=("commune",), qpv=("QP1",), communes=("001", "002"),
                financeurs=("caf",), nature=("specifique", "droit_commun"), dispositifs=("Adultes-relais",))
    sql = Sql()
    action_conditions(f, sql, "a")
    qpv_conditions(f, sql, "q")
    financement_conditions(f, sql, "f")
    assert sql.conditions == [
        "a.annee IN (?, ?)",
        "a.contrat = ?",
        "a.pilier IN (?)",
        "(a.thematique IN (?, ?) OR split_part(a.thematique, '.', 1) IN (?, ?))",
        "a.statut IN (?)",
        "a.porteur_type IN (?)",
        "q.code_qpv IN (?)",
        "q.code_qpv IN (SELECT code_qpv FROM qpv_commune WHERE code_insee IN (?, ?))",
        "f.financeur IN (?)",
        "f.nature IN (?, ?)",
        "f.dispositif IN (?)",
    ]
    assert sql.params == [2022, 2023, "CV1", "emploi", "2", "3.1", "2", "3.1", "accordee", "commune", "QP1",
                          "001", "002", "caf", "specifique", "droit_commun", "Adultes-relais"]
    assert sql.where() == "WHERE " + " AND ".join(sql.conditions)


def test_sql_helper():
    sql = Sql()
    assert sql.where() == "" and sql.conditions == [] and sql.params == []
    sql.add_in("x.a", ())
    assert sql.where() == "" and sql.params == []
    sql.add("x.b = ?", 3)
    assert sql.where() == "WHERE x.b = ?" and sql.params == [3]
    sql.add("x.c BETWEEN ? AND ?", 1, 2)
    sql.add_in("x.d", ("u",))
    assert sql.where() == "WHERE x.b = ? AND x.c BETWEEN ? AND ? AND x.d IN (?)"
    assert sql.params == [3, 1, 2, "u"]
    # Two helpers never share their lists.
    assert Sql().conditions == [] and Sql().params == []


def test_no_condition_for_empty_filters():
    sql = Sql()
    action_conditions(Filtres(), sql)
    qpv_conditions(Filtres(), sql)
    financement_conditions(Filtres(), sql)
    assert sql.conditions == [] and sql.params == [] and sql.where() == ""


def test_with_turns_lists_and_sets_into_tuples_and_keeps_the_rest():
    f = Filtres(annees=(2020,), contrat="CV1")
    g = f.with_(annees=[2022, 2023], piliers={"emploi"}, contrat="CV2", qpv=("QP1",))
    assert g == Filtres(annees=(2022, 2023), piliers=("emploi",), contrat="CV2", qpv=("QP1",))
    assert isinstance(g.annees, tuple) and isinstance(g.piliers, tuple)
    assert g.contrat == "CV2"  # a string stays a string, not a tuple of letters
    assert f == Filtres(annees=(2020,), contrat="CV1")  # the original is unchanged
    assert f.with_() == f
    assert f.with_(contrat=None) == Filtres(annees=(2020,))
    hash(g)  # still hashable (keys a cache)


def test_is_empty_looks_at_every_field():
    assert Filtres().is_empty()
    for fd in fields(Filtres):
        value = "CV1" if fd.name == "contrat" else ("x",)
        assert not Filtres().with_(**{fd.name: value}).is_empty(), fd.name


@pytest.mark.parametrize(("f", "split"), [
    (Filtres(), False),
    (Filtres(qpv=("QP1",)), True),
    (Filtres(communes=("001",)), True),
    (Filtres(qpv=("QP1",), communes=("001",)), True),
    (Filtres(annees=(2022,), contrat="CV1", piliers=("emploi",), financeurs=("caf",)), False),
])
def test_split_qpv_when_quartiers_or_communes_are_chosen(f, split):
    assert f.split_qpv is split
