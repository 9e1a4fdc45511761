"""Command line (`python -m cdv_core ...`) run as a subprocess, on a territory other than the demo one.

tests/data/lille/ holds a small file set of the Métropole Européenne de Lille (QPV of Lille, Roubaix,
Villeneuve-d'Ascq; programmation in Windows-1252, amounts with French separators and €).
Totals expected below are computed by hand from those files.
"""

from __future__ import annotations

import csv
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from cdv_core import demo

ROOT = Path(__file__).resolve().parents[1]
LILLE = ROOT / "tests" / "data" / "lille"


@pytest.fixture(scope="session")
def ref_db_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("refdb_cli") / "ref.duckdb"
    demo.new_database(path, demo=False)
    return path


@pytest.fixture
def work(ref_db_file, tmp_path) -> Path:
    """A working directory holding db.duckdb (referentials only) and copies of the Lille files."""
    shutil.copyfile(ref_db_file, tmp_path / "db.duckdb")
    for p in LILLE.iterdir():
        shutil.copyfile(p, tmp_path / p.name)
    return tmp_path


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def dump(path: Path) -> dict[str, list[tuple]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' ORDER BY 1").fetchall()]
        dumped = {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}
        # contents only: an empty table that a newer schema adds on connection is not a change of the data
        return {t: rows for t, rows in dumped.items() if rows}
    finally:
        con.close()


def import_lille(work: Path) -> None:
    r = cli(work, "import", "--db", "db.duckdb", "financements.csv", "programmation.csv")  # order is sorted out
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("importé") == 2


# --------------------------------------------------------------------------- import


def test_import_ok_and_summary(work):
    import_lille(work)
    r = cli(work, "summary", "--db", "db.duckdb", "--by", "annee,financeur", "--where", "annee=2024")
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == [
        "annee,financeur,nb_actions,montant_accorde,nb_dossiers",
        "2024,caf,1,3500.50,1",
        "2024,commune,1,2000.00,1",
        "2024,epci,1,20000.00,1",
        "2024,etat_bop147,3,25000.00,3",
        "2024,region,1,1250.25,1",
    ]


def test_summary_other_dimensions(work):
    import_lille(work)
    r = cli(work, "summary", "--db", "db.duckdb", "--by", "annee")
    assert r.stdout.splitlines() == ["annee,nb_actions,montant_accorde,nb_dossiers", "2023,1,8500.00,1", "2024,3,51750.75,3"]
    r = cli(work, "summary", "--db", "db.duckdb", "--by", "pilier", "--where", "annee=2024")
    assert r.stdout.splitlines() == ["pilier,nb_actions,montant_accorde,nb_dossiers", "emancipation,1,25000.00,1",
                                     "emploi,1,17500.50,1", "securite,1,9250.25,1"]
    # MEL-23-001 is split in two QPV: 8 500 / 2 each
    r = cli(work, "summary", "--db", "db.duckdb", "--by", "qpv", "--where", "annee=2023")
    assert r.stdout.splitlines() == ["qpv,nb_actions,montant_accorde,nb_dossiers", "QP059066,1,4250.00,1",
                                     "QP059067,1,4250.00,1"]
    r = cli(work, "summary", "--db", "db.duckdb", "--by", "financeur", "--where", "annee=2023,2024",
            "--where", "financeur=caf")
    assert r.stdout.splitlines() == ["financeur,nb_actions,montant_accorde,nb_dossiers", "caf,2,5000.50,2"]


def test_import_rejected_exit_1(work):
    import_lille(work)
    before = dump(work / "db.duckdb")
    r = cli(work, "import", "--db", "db.duckdb", "financements_erreurs.csv")
    assert r.returncode == 1
    errors = [line for line in r.stderr.splitlines() if re.match(r"^financements_erreurs\.csv:\d+:", line)]
    assert errors[0].startswith("financements_erreurs.csv:3:montant_accorde: ")
    assert "négatif" in errors[0]
    assert errors[1].startswith("financements_erreurs.csv:4:action_id: ") and "MEL-24-009" in errors[1]
    assert errors[2].startswith("financements_erreurs.csv:5:financeur: ") and "mécène" in errors[2]
    assert len(errors) == 3
    assert "rien n'a été écrit" in r.stderr
    assert dump(work / "db.duckdb") == before


def test_import_type_forced(work):
    r = cli(work, "import", "--db", "db.duckdb", "--type", "programmation", "programmation.csv")
    assert r.returncode == 0, r.stderr
    r = cli(work, "import", "--db", "db.duckdb", "--type", "programmation", "financements.csv")
    assert r.returncode == 1
    assert "financements.csv:1:" in r.stderr


@pytest.mark.parametrize("args", [
    ["import", "--db", "db.duckdb", "--type", "budget", "programmation.csv"],
    ["import", "--db", "db.duckdb", "absent.csv"],
    ["import", "programmation.csv"],
    ["check", "absent.csv"],
    ["summary", "--db", "db.duckdb", "--by", "couleur"],
    ["summary", "--db", "db.duckdb", "--by", "annee", "--where", "annee=deux-mille"],
    ["summary", "--db", "absente.duckdb", "--by", "annee"],
    ["import", "--db", "absente.duckdb", "programmation.csv"],
    ["check", "--db", "absente.duckdb", "programmation.csv"],
    ["undo", "--db", "absente.duckdb"],
    ["journal", "--db", "absente.duckdb"],
    ["frobnicate"],
    [],
], ids=lambda a: " ".join(a) or "no-args")
def test_usage_errors_exit_2(work, args):
    before = dump(work / "db.duckdb")
    r = cli(work, *args)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.strip() and "Traceback" not in r.stderr
    assert dump(work / "db.duckdb") == before
    assert not (work / "absente.duckdb").exists()


# --------------------------------------------------------------------------- check


def test_check_writes_nothing(work):
    db = work / "db.duckdb"
    before_bytes = db.read_bytes()
    before = dump(db)
    r = cli(work, "check", "--db", "db.duckdb", "programmation.csv", "financements.csv")
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("valide") == 2  # financements refer to actions of the programmation checked with them
    assert dump(db) == before
    assert db.read_bytes() == before_bytes
    r = cli(work, "check", "--db", "db.duckdb", "financements_erreurs.csv")
    assert r.returncode == 1
    assert "financements_erreurs.csv:3:montant_accorde: " in r.stderr
    assert dump(db) == before


def test_check_without_db(work):
    r = cli(work, "check", "programmation.csv")
    assert r.returncode == 0, r.stderr
    assert "valide (programmation, 4 lignes" in r.stdout
    assert sorted(p.name for p in work.iterdir() if p.suffix in (".duckdb", ".wal")) == ["db.duckdb"]


# --------------------------------------------------------------------------- undo, journal, demo, init


def test_undo(work):
    db = work / "db.duckdb"
    initial = {t: rows for t, rows in dump(db).items() if not t.startswith(("journal_", "import_journal"))}
    import_lille(work)
    r = cli(work, "undo", "--db", "db.duckdb", "1")  # programmation: financements depend on it
    assert r.returncode == 1
    assert "ne peut pas être annulé" in r.stderr
    r = cli(work, "undo", "--db", "db.duckdb")
    assert r.returncode == 0, r.stderr
    assert "annulé" in r.stdout
    r = cli(work, "summary", "--db", "db.duckdb", "--by", "annee")
    assert r.stdout.splitlines() == ["annee,nb_actions,montant_accorde,nb_dossiers", "2023,0,0.00,1", "2024,0,0.00,3"]
    assert cli(work, "undo", "--db", "db.duckdb").returncode == 0
    after = {t: rows for t, rows in dump(db).items() if not t.startswith(("journal_", "import_journal"))}
    assert after == initial
    r = cli(work, "undo", "--db", "db.duckdb")
    assert r.returncode == 1 and "Aucun import" in r.stderr
    r = cli(work, "journal", "--db", "db.duckdb")
    assert r.returncode == 0
    assert len(r.stdout.strip().splitlines()) == 1 + 4  # header + 2 imports + 2 undos


def test_demo_and_init(tmp_path):
    r = cli(tmp_path, "demo", "--db", "d.duckdb")
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "summary", "--db", "d.duckdb", "--by", "annee", "--where", "annee=2022")
    assert r.returncode == 0
    with open(ROOT / "data" / "demo" / "financements.csv", encoding="utf-8", newline="") as fh:
        expected = sum(float(row["montant_accorde"]) for row in csv.DictReader(fh) if row["annee"] == "2022")
    line = r.stdout.splitlines()[1].split(",")  # annee,nb_actions,montant_accorde
    assert line[0] == "2022" and abs(float(line[2]) - expected) < 0.005
    assert cli(tmp_path, "demo", "--db", "d.duckdb").returncode == 2  # exists, no --force
    assert cli(tmp_path, "demo", "--db", "d.duckdb", "--force").returncode == 0
    r = cli(tmp_path, "init", "--db", "e.duckdb")
    assert r.returncode == 0, r.stderr
    con = duckdb.connect(str(tmp_path / "e.duckdb"), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM action").fetchone()[0] == 0
        assert con.execute("SELECT count(*) FROM qpv").fetchone()[0] > 1000
    finally:
        con.close()
    assert cli(tmp_path, "init", "--db", "e.duckdb").returncode == 2


def test_output_cut_short_by_the_reader_is_not_a_traceback(demo_db):
    """`summary ... | head -1`: the reader closes the pipe early; the command stops quietly."""
    proc = subprocess.Popen([sys.executable, "-m", "cdv_core", "summary", "--db", str(demo_db),
                             "--by", "annee,financeur,qpv"], cwd=ROOT, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, env={**os.environ, "PYTHONPATH": str(ROOT)})
    first = proc.stdout.readline()
    proc.stdout.close()  # like `head -1` exiting
    err = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert first.startswith(b"annee,financeur,qpv,nb_actions,montant_accorde,nb_dossiers")
    assert "Traceback" not in err and proc.returncode == 0
