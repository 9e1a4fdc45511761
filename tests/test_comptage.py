"""The counting rule, once: an "action financée" is granted or paid (`accordee`, `soldee`) with a granted
amount > 0; pending, refused and abandoned files are counted apart.

tests/data/statuts/ holds a small territory (Lille's QPV) with one file of each statut; the expectations below
are read from those files with pandas (not through cdv_core).
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from cdv_core import demo, gestion, importer, queries, schema
from cdv_core.filters import Filtres

ROOT = Path(__file__).resolve().parents[1]
STATUTS = ROOT / "tests" / "data" / "statuts"


def _expected() -> pd.DataFrame:
    prog = pd.read_csv(STATUTS / "programmation.csv", dtype={"action_id": str})
    fin = pd.read_csv(STATUTS / "financements.csv", dtype={"action_id": str})
    granted = fin.groupby(["action_id", "annee"])["montant_accorde"].sum().rename("accorde").reset_index()
    prog = prog.merge(granted, on=["action_id", "annee"], how="left").fillna({"accorde": 0.0})
    prog["financee"] = prog["statut"].isin(["accordee", "soldee"]) & (prog["accorde"] > 0)
    return prog


@pytest.fixture(scope="module")
def db(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("statuts") / "statuts.duckdb"
    demo.new_database(path, demo=False)
    con = schema.connect(path)
    try:
        for name in ("programmation.csv", "financements.csv"):
            report = gestion.check(con, (STATUTS / name).read_bytes(), name, None)
            assert report.ok, [i.message for i in report.issues]
            importer.apply_report(con, report, user="test")
    finally:
        con.close()
    return path


@pytest.fixture
def con(db):
    c = schema.connect(db, read_only=True)
    yield c
    c.close()


def test_only_granted_or_paid_actions_with_money_count_as_financed(con):
    exp = _expected()
    got = queries.aggregate(con, Filtres(), ["annee"], porteurs=True).set_index("annee")
    for year, grp in exp.groupby("annee"):
        assert got.loc[year, "nb_actions"] == grp["financee"].sum(), year
        assert got.loc[year, "nb_dossiers"] == len(grp), year
        assert got.loc[year, "nb_porteurs"] == grp.loc[grp["financee"], "porteur"].nunique(), year
    # 2025: the refused, pending, abandoned file and the granted one without money are not financed
    assert int(got.loc[2025, "nb_actions"]) == 2


def test_files_counted_apart_by_statut(con):
    exp = _expected()
    k = queries.kpis(con, Filtres(annees=(2025,)))
    y = exp[exp["annee"] == 2025]
    assert k["nb_actions"] == y["financee"].sum()
    assert k["nb_en_instruction"] == (y["statut"] == "deposee").sum()
    assert k["nb_refusees"] == (y["statut"] == "refusee").sum()
    assert k["nb_abandonnees"] == (y["statut"] == "abandonnee").sum()
    assert k["nb_dossiers"] == len(y)
    dep = queries.depots_en_instruction(con, Filtres())
    last = exp[exp["annee"] == exp["annee"].max()]
    assert dep["annee"] == exp["annee"].max()
    assert dep["nb"] == (last["statut"] == "deposee").sum()


def test_statut_filter_and_dimension_follow_the_rule(con):
    exp = _expected()
    by = queries.aggregate(con, Filtres(), ["statut"]).set_index("statut")
    for statut, grp in exp.groupby("statut"):
        assert by.loc[statut, "nb_actions"] == grp["financee"].sum(), statut
        assert by.loc[statut, "nb_dossiers"] == len(grp), statut


def test_cli_summary_where_statut(db):
    exp = _expected()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}

    def run(*args):
        return subprocess.run([sys.executable, "-m", "cdv_core", "summary", "--db", str(db), *args], cwd=ROOT,
                              env=env, capture_output=True, text=True, timeout=300)

    r = run("--by", "annee", "--where", "statut=deposee,refusee")
    assert r.returncode == 0, r.stderr
    sel = exp[exp["statut"].isin(["deposee", "refusee"])]
    expected = ["annee,nb_actions,montant_accorde,nb_dossiers"] + [
        f"{y},0,0.00,{n}" for y, n in sel.groupby("annee").size().items()]
    assert r.stdout.splitlines() == expected
    r = run("--by", "porteur", "--where", "statut=accordee,soldee", "--where", "annee=2025")
    assert r.returncode == 0, r.stderr
    sel = exp[exp["statut"].isin(["accordee", "soldee"]) & (exp["annee"] == 2025)]
    rows = r.stdout.splitlines()[1:]
    assert [x.split(",")[0] for x in rows] == sorted(sel["porteur"].unique())
    r = run("--by", "annee", "--where", "statut=acceptee")
    assert r.returncode == 2 and "statut inconnu" in r.stderr and "accordee" in r.stderr
