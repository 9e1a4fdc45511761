"""The equal split of an action's amounts among its QPV (and of a QPV's among its communes), on a tiny base built in
memory by the real importer (no demo database): fast enough for a mutation run.

Expected figures are recomputed with pandas straight from the CSV texts below (`_expected_*`), and a few are
worked out by hand in the comments: A1 (1 200 € granted) names 3 QPV → 400 € each; A3 (« * » of contract CN1,
whose QPV are QN1, QN2, QN3) → 600 / 3 = 200 € each; A4 names QN1 twice → 1/2 each; QN2 lies in communes 001
and 002 → half of its amount in each.
"""

from __future__ import annotations

import io
import math

import duckdb
import pandas as pd
import pytest

from cdv_core import facts, importer, queries, schema
from cdv_core.filters import Filtres

QPV = {"QN1": ["001"], "QN2": ["001", "002"], "QN3": ["002"]}
CONTRAT_QPV = {"CN1": ["QN1", "QN2", "QN3"]}

PROG = """action_id,annee,intitule,porteur,porteur_type,pilier,thematique,qpv,contrat,statut,nouvelle
A1,2024,Un,P1,association,inclusion,1.2,QN1|QN2|QN3,,accordee,oui
A2,2024,Deux,P2,commune,cadre,2.1,QN2,,accordee,non
A3,2024,Trois,P1,association,inclusion,2,*,CN1,soldee,
A4,2024,Quatre,P3,epci,cadre,1.2,QN1|qn1| QN2 ,,deposee,oui
A5,2025,Cinq,P2,commune,inclusion,,QN3,,accordee,
A6,2025,Six,P3,epci,inclusion,2.1,QN1|QN3,,refusee,
A7,2024,Sept,P4,association,cadre,2.1,QN3,,accordee,
"""
FIN = """action_id,annee,financeur,montant_accorde,montant_demande,nature,dispositif,section
A1,2024,caf,900,1200,droit_commun,,fonctionnement
A1,2024,etat,300,300,specifique,Adultes-relais,fonctionnement
A2,2024,etat,500,,specifique,,investissement
A3,2024,caf,600,,droit_commun,,fonctionnement
A4,2024,etat,0,800,specifique,,fonctionnement
A6,2025,caf,0,400,droit_commun,,fonctionnement
A7,2024,etat,700,700,specifique,Cités éducatives,fonctionnement
"""
# Hand check of the per-QPV granted amounts: QN1 = 400 + 200 = 600; QN2 = 400 + 500 + 200 = 1 100;
# QN3 = 400 + 200 + 700 = 1 300; total 3 000. Communes: 001 = 600 + 550 = 1 150, 002 = 550 + 1 300 = 1 850.
HAND_QPV = {"QN1": 600.0, "QN2": 1100.0, "QN3": 1300.0}
HAND_COMMUNE = {"001": 1150.0, "002": 1850.0}


def _new_base() -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(":memory:")
    schema.create_schema(con)
    con.execute("INSERT INTO contrat VALUES ('CN1', 'Contrat un', NULL, '2024-2030', NULL)")
    for code, communes in QPV.items():
        con.execute("INSERT INTO qpv VALUES (?, ?, ?, '2024', 1000, 'CN1')", [code, f"Quartier {code}",
                                                                             "|".join(communes)])
        con.executemany("INSERT INTO qpv_commune VALUES (?, ?)", [(code, c) for c in communes])
    con.execute("INSERT INTO pilier VALUES ('inclusion', 'Inclusion', '2024-2030'), ('cadre', 'Cadre', '2024-2030')")
    con.execute("INSERT INTO thematique VALUES ('1.2', 'Santé', '1', 'Un'), ('2.1', 'Emploi', '2', 'Deux'), "
                "('2', 'Thème deux', '2', 'Deux')")
    con.execute("INSERT INTO financeur VALUES ('caf', 'CAF', NULL, 'droit_commun'), "
                "('etat', 'État', NULL, 'specifique')")
    return con


def _import(con, prog: str = PROG, fin: str = FIN) -> None:
    importer.import_bytes(con, prog.encode("utf-8"), "programmation.csv")
    importer.import_bytes(con, fin.encode("utf-8"), "financements.csv")


@pytest.fixture(scope="module")
def con():
    c = _new_base()
    _import(c)
    yield c
    c.close()


# --- expectations with pandas, from the CSV texts ------------------------------------------------------------

def _expected_splits(prog: str = PROG) -> pd.DataFrame:
    a = pd.read_csv(io.StringIO(prog), dtype=str, keep_default_na=False)
    rows = []
    for _, r in a.iterrows():
        if r["qpv"] == "*":
            codes = CONTRAT_QPV[r["contrat"]]
        else:
            codes = list(dict.fromkeys(c.strip().upper() for c in r["qpv"].split("|") if c.strip()))
        rows += [(r["action_id"], int(r["annee"]), c, 1 / len(codes)) for c in codes]
    return pd.DataFrame(rows, columns=["action_id", "annee", "code_qpv", "part"])


def _expected_fait(prog: str = PROG, fin: str = FIN) -> pd.DataFrame:
    a = pd.read_csv(io.StringIO(prog), dtype={"action_id": str, "thematique": str, "qpv": str})
    f = pd.read_csv(io.StringIO(fin), dtype={"action_id": str})
    return a.merge(f, on=["action_id", "annee"], how="left")


def _expected_fait_qpv(prog: str = PROG, fin: str = FIN) -> pd.DataFrame:
    x = _expected_fait(prog, fin).merge(_expected_splits(prog), on=["action_id", "annee"])
    x["montant_accorde"] = x["montant_accorde"] * x["part"]
    x["montant_demande"] = x["montant_demande"] * x["part"]
    return x


def _financee(df: pd.DataFrame) -> pd.Series:
    return df["statut"].isin(["accordee", "soldee"]) & (df["montant_accorde"].fillna(0) > 0)


def _expected_by(df: pd.DataFrame, key: str) -> dict:
    out = {}
    for k, part in df.groupby(key):
        keys = part["action_id"] + "-" + part["annee"].astype(str)
        out[k] = (float(part["montant_accorde"].sum()), float(part["montant_demande"].sum()),
                  int(keys[_financee(part)].nunique()), int(keys.nunique()))
    return out


def _got_by(df: pd.DataFrame, key: str) -> dict:
    return {k: (float(m), float(d), int(n), int(nd)) for k, m, d, n, nd in zip(
        df[key], df["montant_accorde"], df["montant_demande"], df["nb_actions"], df["nb_dossiers"])}


def _same(got: dict, expected: dict) -> None:
    assert set(got) == set(expected)
    for k, e in expected.items():
        g = got[k]
        assert len(g) == len(e)
        for a, b in zip(g, e):
            assert math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9), (k, got[k], e)


def _communes() -> pd.DataFrame:
    rows = [(q, c, 1 / len(cs)) for q, cs in QPV.items() for c in cs]
    return pd.DataFrame(rows, columns=["code_qpv", "code_insee", "cpart"])


# --- the split stored at import ---------------------------------------------------------------------------

def test_each_qpv_of_an_action_gets_an_equal_share(con):
    got = con.execute("SELECT action_id, annee, code_qpv, part FROM action_qpv ORDER BY 1, 3").fetchall()
    expected = _expected_splits().sort_values(["action_id", "code_qpv"])
    assert [(a, y, q) for a, y, q, _ in got] == list(zip(expected["action_id"], expected["annee"],
                                                         expected["code_qpv"]))
    for (*_, part), e in zip(got, expected["part"]):
        assert math.isclose(part, e)
    # By hand: A4 names QN1 twice and QN2 once → two halves; A3 (« * ») → thirds; shares of an action sum to 1.
    parts = {(a, q): p for a, _, q, p in got}
    assert parts[("A4", "QN1")] == parts[("A4", "QN2")] == 0.5
    assert math.isclose(parts[("A3", "QN2")], 1 / 3) and parts[("A2", "QN2")] == 1.0
    for total in con.execute("SELECT sum(part) FROM action_qpv GROUP BY action_id, annee").fetchall():
        assert math.isclose(total[0], 1.0)
    # The action keeps its QPV as split: upper case, trimmed, each once (« * » stays « * »).
    assert dict(con.execute("SELECT action_id, qpv FROM action").fetchall()) == {
        "A1": "QN1|QN2|QN3", "A2": "QN2", "A3": "*", "A4": "QN1|QN2", "A5": "QN3", "A6": "QN1|QN3", "A7": "QN3"}


def test_an_action_with_no_qpv_code_is_refused():
    """Found by the mutation run (docs/MUTATION.md): a qpv cell holding only separators was accepted, and the
    action then had no QPV share at all."""
    con = _new_base()
    try:
        csv = "action_id,annee,intitule,porteur,pilier,qpv,statut\nZ1,2024,Z,P,inclusion,|,accordee\n"
        with pytest.raises(importer.ImportRejected) as refused:
            importer.import_bytes(con, csv.encode("utf-8"), "programmation.csv")
        (error,) = refused.value.report.errors
        assert (error.line, error.column, error.value) == (2, "qpv", "|")
        assert error.message == "« | » ne contient aucun code QPV."
    finally:
        con.close()


# --- the fact tables -------------------------------------------------------------------------------------

FAIT_COLUMNS = ["action_id", "annee", "pilier", "thematique", "statut", "porteur_type", "porteur", "financeur",
                "nature", "dispositif", "section"]


def _rows(df: pd.DataFrame, columns: list[str]) -> list[tuple]:
    def clean(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        return round(float(v), 6) if isinstance(v, float) else v
    return sorted((tuple(clean(v) for v in r) for r in df[columns].astype(object).itertuples(index=False)), key=repr)


def test_fait_has_one_row_per_funding_line_and_one_for_an_action_without_funding(con):
    got = con.execute("SELECT * FROM fait").df()
    cols = FAIT_COLUMNS + ["montant_accorde", "montant_demande"]
    assert _rows(got, cols) == _rows(_expected_fait(), cols)
    # The theme is the code before the dot; the contract is filled in by the import from the QPV.
    exp = _expected_fait()
    assert {a: (None if pd.isna(t) else t) for a, t in zip(got["action_id"], got["theme"])} == {
        a: (t.split(".")[0] if isinstance(t, str) else None) for a, t in zip(exp["action_id"], exp["thematique"])}
    assert set(got["contrat"]) == {"CN1"}
    assert {a: (None if pd.isna(v) else bool(v)) for a, v in zip(got["action_id"], got["nouvelle"])} == {
        "A1": True, "A2": False, "A3": None, "A4": True, "A5": None, "A6": None, "A7": None}
    # `cle` numbers each action-year: one number per action-year, shared by its funding lines.
    assert got.groupby(["action_id", "annee"])["cle"].nunique().eq(1).all()
    assert got["cle"].nunique() == len(got[["action_id", "annee"]].drop_duplicates()) == 7


def test_fait_qpv_holds_each_qpv_share_of_each_line(con):
    got = con.execute("SELECT * FROM fait_qpv").df()
    cols = FAIT_COLUMNS + ["code_qpv", "montant_accorde", "montant_demande"]
    assert _rows(got, cols) == _rows(_expected_fait_qpv(), cols)
    # Same `cle` as the action-year's row in `fait`.
    fait = con.execute("SELECT DISTINCT action_id, annee, cle FROM fait").fetchall()
    assert set(got[["action_id", "annee", "cle"]].itertuples(index=False, name=None)) == set(fait)


# --- aggregates ---------------------------------------------------------------------------------------------

def test_per_qpv_amounts_are_the_shares_and_add_up_to_the_total(con):
    df = queries.aggregate(con, Filtres(), ["qpv"])
    _same(_got_by(df, "qpv"), _expected_by(_expected_fait_qpv(), "code_qpv"))
    assert {k: float(v) for k, v in zip(df["qpv"], df["montant_accorde"])} == pytest.approx(HAND_QPV)
    assert math.isclose(float(df["montant_accorde"].sum()), queries.total(con, Filtres()))
    assert math.isclose(queries.total(con, Filtres()), 3000.0)
    assert list(df["qpv"]) == sorted(df["qpv"])
    assert list(df.columns) == ["qpv", "montant_accorde", "montant_demande", "nb_actions", "nb_dossiers"]
    # A QPV asked as a filter value only (`extra_where`) takes the shares too.
    one = queries.aggregate(con, Filtres(), extra_where={"qpv": ("QN2",)})
    assert math.isclose(float(one["montant_accorde"].iloc[0]), HAND_QPV["QN2"])


def test_funding_lines_are_counted_once_without_qpv(con):
    # Not split: one line per funding line (with a QPV dimension, one per line and QPV).
    df = queries.aggregate(con, Filtres(), ["financeur"], actions=False)
    f = pd.read_csv(io.StringIO(FIN))
    assert dict(zip(df["financeur"], df["nb_lignes"])) == f.groupby("financeur").size().to_dict()
    assert list(df.columns) == ["financeur", "montant_accorde", "montant_demande", "nb_lignes"]
    df = queries.aggregate(con, Filtres(), ["financeur"], extra_where={"financeur": ("caf",)}, actions=False)
    assert list(df["nb_lignes"]) == [int((f["financeur"] == "caf").sum())]


def test_per_commune_amounts_split_each_qpv_among_its_communes(con):
    x = _expected_fait_qpv().merge(_communes(), on="code_qpv")
    x["montant_accorde"] = x["montant_accorde"] * x["cpart"]
    x["montant_demande"] = x["montant_demande"] * x["cpart"]
    df = queries.aggregate(con, Filtres(), ["commune"])
    _same(_got_by(df, "commune"), _expected_by(x, "code_insee"))
    assert {k: float(v) for k, v in zip(df["commune"], df["montant_accorde"])} == pytest.approx(HAND_COMMUNE)
    # A commune asked as a filter value only (`extra_where`) splits too.
    one = queries.aggregate(con, Filtres(), extra_where={"commune": ("002",)})
    assert math.isclose(float(one["montant_accorde"].iloc[0]), HAND_COMMUNE["002"])


@pytest.mark.parametrize("f", [
    Filtres(qpv=("QN1",)),
    Filtres(qpv=("QN2", "QN3"), financeurs=("etat",)),
    Filtres(communes=("002",)),
    Filtres(communes=("001",), annees=(2024,), piliers=("inclusion",)),
])
def test_a_qpv_or_commune_filter_takes_the_shares_of_its_quartiers(con, f):
    x = _expected_fait_qpv()
    quartiers = set(f.qpv) | {q for q, cs in QPV.items() if set(cs) & set(f.communes)}
    x = x[x["code_qpv"].isin(quartiers)]
    if f.qpv and f.communes:
        x = x[x["code_qpv"].isin(f.qpv)]
    if f.financeurs:
        x = x[x["financeur"].isin(f.financeurs)]
    if f.annees:
        x = x[x["annee"].isin(f.annees)]
    if f.piliers:
        x = x[x["pilier"].isin(f.piliers)]
    got = queries.aggregate(con, f).iloc[0]
    _same({"": (float(got["montant_accorde"]), float(got["montant_demande"]), int(got["nb_actions"]),
                int(got["nb_dossiers"]))}, _expected_by(x.assign(k=""), "k"))
    assert math.isclose(queries.total(con, f), float(x["montant_accorde"].sum()))


def test_without_qpv_the_whole_amounts_are_counted_once(con):
    x = _expected_fait()
    for f, keep in [(Filtres(), x.index == x.index), (Filtres(annees=(2024,), financeurs=("caf",)),
                                                      (x["annee"] == 2024) & (x["financeur"] == "caf"))]:
        got = queries.aggregate(con, f, porteurs=True).iloc[0]
        part = x[keep]
        keys = part["action_id"] + "-" + part["annee"].astype(str)
        assert math.isclose(float(got["montant_accorde"]), float(part["montant_accorde"].sum()))
        assert math.isclose(float(got["montant_demande"]), float(part["montant_demande"].sum()))
        assert int(got["nb_actions"]) == keys[_financee(part)].nunique()
        assert int(got["nb_dossiers"]) == keys.nunique()
        assert int(got["nb_porteurs"]) == part.loc[_financee(part), "porteur"].nunique()


def test_funding_dimension_per_qpv_leaves_out_actions_without_funding(con):
    df = queries.aggregate(con, Filtres(), ["qpv", "financeur"], actions=False)
    x = _expected_fait_qpv().dropna(subset=["financeur"])
    expected = x.groupby(["code_qpv", "financeur"]).agg(m=("montant_accorde", "sum"), n=("montant_accorde", "size"))
    got = {(q, fi): (float(m), int(n)) for q, fi, m, n in zip(df["qpv"], df["financeur"], df["montant_accorde"],
                                                            df["nb_lignes"])}
    assert set(got) == set(expected.index)
    for k, (m, n) in expected.iterrows():
        assert math.isclose(got[k][0], m, abs_tol=1e-9) and got[k][1] == n
    assert list(zip(df["qpv"], df["financeur"])) == sorted(got)


def test_nb_actions_counts_financed_action_years_only(con):
    df = queries.aggregate(con, Filtres(), ["statut"])
    got = dict(zip(df["statut"], df["nb_actions"]))
    # By hand: accordee A1, A2, A7 (A5 has no funding); soldee A3; deposee A4 and refusee A6 never count.
    assert got == {"accordee": 3, "soldee": 1, "deposee": 0, "refusee": 0}
    assert dict(zip(df["statut"], df["nb_dossiers"])) == {"accordee": 4, "soldee": 1, "deposee": 1, "refusee": 1}
    assert queries.financee() == "(x.statut IN ('accordee', 'soldee') AND x.montant_accorde > 0)"
    assert queries.financee("f") == "(f.statut IN ('accordee', 'soldee') AND f.montant_accorde > 0)"


def test_fact_conditions_only_filter_qpv_when_split():
    f = Filtres(annees=(2024,), qpv=("QN1",), financeurs=("caf",))
    assert queries.fact_conditions(f, False).conditions == ["x.annee IN (?)", "x.financeur IN (?)"]
    split = queries.fact_conditions(f, True)
    assert split.conditions == ["x.annee IN (?)", "x.financeur IN (?)", "x.code_qpv IN (?)"]
    assert split.params == [2024, "caf", "QN1"]


def test_unknown_dimension_is_refused(con):
    with pytest.raises(ValueError, match=r"^unknown dimension\(s\): quartier, zone$"):
        queries.aggregate(con, Filtres(), ["quartier", "annee", "zone"])
    with pytest.raises(ValueError, match="unknown dimension"):
        queries.aggregate(con, Filtres(), extra_where={"quartier": ("QN1",)})


# --- kept in step with imports --------------------------------------------------------------------------------

PROG2 = PROG.replace("A2,2024,Deux,P2,commune,cadre,2.1,QN2,", "A2,2024,Deux,P2,commune,cadre,2.1,QN1|QN3,")
FIN2 = FIN.replace("A7,2024,etat,700,700", "A7,2024,etat,1000,700")


def test_refresh_after_an_import_and_its_undo():
    con = _new_base()
    try:
        _import(con)
        cles = con.execute("SELECT action_id, annee, cle FROM fait ORDER BY 1").fetchall()
        facts.create(con)  # tables present: left as they are (same numbers)
        assert con.execute("SELECT action_id, annee, cle FROM fait ORDER BY 1").fetchall() == cles

        _import(con, PROG2, FIN2)
        cols = FAIT_COLUMNS + ["code_qpv", "montant_accorde", "montant_demande"]
        assert _rows(con.execute("SELECT * FROM fait_qpv").df(), cols) == _rows(_expected_fait_qpv(PROG2, FIN2), cols)
        fcols = FAIT_COLUMNS + ["montant_accorde", "montant_demande"]
        assert _rows(con.execute("SELECT * FROM fait").df(), fcols) == _rows(_expected_fait(PROG2, FIN2), fcols)
        df = queries.aggregate(con, Filtres(), ["qpv"])
        _same(_got_by(df, "qpv"), _expected_by(_expected_fait_qpv(PROG2, FIN2), "code_qpv"))

        importer.undo_import(con, user="test")
        importer.undo_import(con, user="test")
        assert _rows(con.execute("SELECT * FROM fait_qpv").df(), cols) == _rows(_expected_fait_qpv(), cols)
        assert _rows(con.execute("SELECT * FROM fait").df(), fcols) == _rows(_expected_fait(), fcols)
    finally:
        con.close()


def test_create_fills_a_base_that_predates_the_fact_tables():
    con = _new_base()
    try:
        _import(con)
        con.execute("DROP TABLE fait_qpv")
        con.execute("DROP TABLE fait")
        facts.create(con)
        cols = FAIT_COLUMNS + ["code_qpv", "montant_accorde", "montant_demande"]
        assert _rows(con.execute("SELECT * FROM fait_qpv").df(), cols) == _rows(_expected_fait_qpv(), cols)
        # Sorted by year (most filters select on it).
        years = [y for (y,) in con.execute("SELECT annee FROM fait").fetchall()]
        assert years == sorted(years)
        years = [y for (y,) in con.execute("SELECT annee FROM fait_qpv").fetchall()]
        assert years == sorted(years)
    finally:
        con.close()
