"""Upload kinds `engagements` and `suivi_engagements` (FORMATS.md §6-7): variants, every rejection with the
database unchanged, idempotence, undo, and the CLI on a hand-written file set of another territory.

tests/data/caen/ was written by hand against FORMATS.md §6-7 for the CU Caen la Mer (Quartiers 2030 contract
CN01403M); the figures expected from the CLI below were computed by hand from those three files.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from cdv_core import demo, importer, schema, templates

ROOT = Path(__file__).resolve().parents[1]
DEMO = ROOT / "data" / "demo"
CAEN = ROOT / "tests" / "data" / "caen"
TABLES = ("engagement", "suivi_engagement", "import_journal")


def dump(con, tables=TABLES) -> dict[str, list[tuple]]:
    return {t: sorted(con.execute(f"SELECT * FROM {t}").fetchall(), key=repr) for t in tables}


@pytest.fixture
def con(demo_db):
    c = schema.connect(demo_db)
    yield c
    c.close()


@pytest.fixture(scope="session")
def ref_db_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("refdb_eng") / "ref.duckdb"
    demo.new_database(path, demo=False)
    return path


@pytest.fixture
def ref_con(ref_db_file, tmp_path):
    path = tmp_path / "ref.duckdb"
    shutil.copyfile(ref_db_file, path)
    c = schema.connect(path)
    yield c
    c.close()


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


ENG_HEADER = ("engagement_id,intitule,signataire,contrat,pilier,qpv,debut,echeance,indicateur,valeur_initiale,"
              "valeur_cible,unite,montant_engage,nature\n")


# --------------------------------------------------------------------------- detection, templates


def test_kinds_are_detected_and_have_templates():
    eng = importer.detect_kind(ENG_HEADER.strip().split(","))
    suivi = importer.detect_kind(["Engagement_id", "Année", "Statut", "valeur", "montant_realise"])
    assert eng.code == "engagements" and suivi.code == "suivi_engagements"
    guide = templates.column_guide("suivi_engagements").set_index("Colonne")
    assert "Non engagé" in guide.loc["statut", "Valeurs acceptées"]
    assert "financeurs" in templates.column_guide("engagements").set_index("Colonne").loc["signataire",
                                                                                          "Valeurs acceptées"]
    assert templates.xlsx_bytes("engagements", True)[:2] == b"PK"


# --------------------------------------------------------------------------- variants


def _french_excel(path: Path) -> bytes:
    """The demo file as French Excel writes it: Windows-1252, `;`, decimal comma."""
    df = pd.read_csv(path, dtype=str, keep_default_na=False)
    for col in ("valeur_initiale", "valeur_cible", "valeur", "montant_engage", "montant_realise"):
        if col in df:
            df[col] = df[col].str.replace(".", ",", regex=False)
    if "statut" in df:
        df["statut"] = df["statut"].map({"non_engage": "Non engagé", "en_cours": "En cours", "atteint": "Atteint",
                                         "partiellement_atteint": "Partiellement atteint",
                                         "abandonne": "Abandonné"})
    buf = io.StringIO()
    df.to_csv(buf, sep=";", index=False)
    return buf.getvalue().encode("cp1252")


def test_cp1252_semicolon_decimal_comma_imports_like_the_utf8_file(ref_con, tmp_path):
    importer.import_bytes(ref_con, _french_excel(DEMO / "engagements.csv"), "engagements.csv")
    importer.import_bytes(ref_con, _french_excel(DEMO / "suivi_engagements.csv"), "suivi.csv")
    got = dump(ref_con, ("engagement", "suivi_engagement"))
    other = schema.connect(tmp_path / "utf8.duckdb")
    demo.load_referentiels(other)
    importer.import_bytes(other, (DEMO / "engagements.csv").read_bytes(), "engagements.csv")
    importer.import_bytes(other, (DEMO / "suivi_engagements.csv").read_bytes(), "suivi_engagements.csv")
    assert got == dump(other, ("engagement", "suivi_engagement"))
    assert len(got["suivi_engagement"]) == len(pd.read_csv(DEMO / "suivi_engagements.csv"))
    # a decimal comma was read as a decimal: the demo has non-integer values
    assert any(v is not None and v != int(v) for v in (r[3] for r in got["suivi_engagement"]))
    other.close()


def test_xlsx_imports(ref_con):
    for name in ("engagements", "suivi_engagements"):
        df = pd.read_csv(DEMO / f"{name}.csv", dtype=str, keep_default_na=False)
        buf = io.BytesIO()
        with pd.ExcelWriter(buf, engine="openpyxl") as xw:
            df.to_excel(xw, sheet_name=name, index=False)
        result = importer.import_bytes(ref_con, buf.getvalue(), f"{name}.xlsx")
        assert result.kind == name and result.added == len(df)
    eng = pd.read_csv(DEMO / "engagements.csv")
    row = ref_con.execute("SELECT montant_engage, valeur_cible FROM engagement WHERE engagement_id = 'PERR-05'"
                          ).fetchone()
    ref = eng.set_index("engagement_id").loc["PERR-05"]
    assert row == (float(ref["montant_engage"]), float(ref["valeur_cible"]))


# --------------------------------------------------------------------------- rejections, base unchanged

BAD = {
    "signataire inconnu": ("engagements", ENG_HEADER + "X-1,Test,Fondation Inconnue,CV219,inclusion,*,2019,2022,,,,,,\n",
                           2, "signataire", "Fondation Inconnue"),
    "pilier inconnu": ("engagements", ENG_HEADER + "X-1,Test,caf,CV219,pilier_fantome,*,2019,2022,,,,,,\n",
                       2, "pilier", "pilier_fantome"),
    "QPV inconnu": ("engagements", ENG_HEADER + "X-1,Test,caf,CV219,inclusion,QP062999,2019,2022,,,,,,\n",
                    2, "qpv", "QP062999"),
    "contrat inconnu": ("engagements", ENG_HEADER + "X-1,Test,caf,CV999,inclusion,*,2019,2022,,,,,,\n",
                        2, "contrat", "CV999"),
    "échéance avant le début": ("engagements", ENG_HEADER + "X-1,Test,caf,CV219,inclusion,*,2022,2019,,,,,,\n",
                                2, "echeance", "2019"),
    "QPV de l'autre géographie": ("engagements",
                                  ENG_HEADER + "X-1,Test,caf,CV219,inclusion,QN06224M,2019,2022,,,,,,\n",
                                  2, "qpv", "QN06224M"),
    "suivi d'un engagement inconnu": ("suivi_engagements",
                                      "engagement_id,annee,statut\nPERR-01,2023,atteint\nPERR-99,2023,en_cours\n",
                                      3, "engagement_id", "PERR-99"),
    "statut hors liste": ("suivi_engagements", "engagement_id,annee,statut\nPERR-01,2023,fini\n",
                          2, "statut", "fini"),
}


# What the French message says, per case.
MESSAGES = {"signataire inconnu": "inconnu du référentiel des financeurs", "pilier inconnu": "inconnu du référentiel",
            "QPV inconnu": "inconnu", "contrat inconnu": "inconnu", "échéance avant le début": "précède le début",
            "QPV de l'autre géographie": "géographie prioritaire 2024",
            "suivi d'un engagement inconnu": "n'existe pas", "statut hors liste": "n'est pas une valeur possible"}


@pytest.mark.parametrize("case", list(BAD))
def test_rejection_names_line_column_value_and_changes_nothing(con, case):
    kind, text, line, column, value = BAD[case]
    before = dump(con)
    report = importer.check_file(con, _csv(text), f"{kind}.csv")
    assert report.kind.code == kind
    errors = [(i.line, i.column, i.value) for i in report.errors]
    assert (line, column, value) in errors, report.issues_frame().to_string()
    message = next(i.message for i in report.errors if (i.line, i.column, i.value) == (line, column, value))
    assert MESSAGES[case] in message
    assert all(i.message and i.fix for i in report.errors)  # a French sentence and how to fix it
    with pytest.raises(importer.ImportRejected):
        importer.import_bytes(con, _csv(text), f"{kind}.csv")
    assert dump(con) == before


def test_every_error_of_a_file_is_reported_at_once(con):
    text = (ENG_HEADER + "X-1,Test,inconnu,CV219,inclusion,*,2019,2022,,,,,,\n"
            "X-2,Test,caf,CV219,inclusion,QN06224M,2019,2022,,,,,,\n"
            "X-3,Test,caf,CV219,inclusion,*,2022,2020,,,,,,\n")
    report = importer.check_file(con, _csv(text), "engagements.csv")
    assert {(i.line, i.column) for i in report.errors} == {(2, "signataire"), (3, "qpv"), (4, "echeance")}


def test_qpv_of_another_contract_is_refused(con):
    text = ENG_HEADER + "X-1,Test,caf,CN06202I,emploi,QN01401M,2024,2026,,,,,,\n"
    report = importer.check_file(con, _csv(text), "engagements.csv")
    assert (2, "qpv", "QN01401M") in [(i.line, i.column, i.value) for i in report.errors]


def test_contract_required_when_ambiguous(con):
    text = ENG_HEADER + "X-1,Test,caf,,inclusion,*,2019,2022,,,,,,\n"
    report = importer.check_file(con, _csv(text), "engagements.csv")
    assert [(i.line, i.column) for i in report.errors] == [(2, "contrat")]


# --------------------------------------------------------------------------- idempotence, undo


def test_second_import_changes_nothing(con):
    before = dump(con, ("engagement", "suivi_engagement"))
    for name in ("engagements.csv", "suivi_engagements.csv"):
        result = importer.import_bytes(con, (DEMO / name).read_bytes(), name)
        assert (result.added, result.changed, result.removed) == (0, 0, 0)
    assert dump(con, ("engagement", "suivi_engagement")) == before


def test_undo_restores_the_previous_rows(con):
    before = dump(con, ("engagement", "suivi_engagement"))
    changed = (DEMO / "engagements.csv").read_text(encoding="utf-8").splitlines()
    assert changed[1].startswith("PERR-01,") and ",2,8,nb," in changed[1]
    changed[1] = changed[1].replace(",2,8,nb,", ",2,10,nb,")  # PERR-01 target 8 -> 10
    result = importer.import_bytes(con, _csv("\n".join(changed) + "\n"), "engagements_v2.csv")
    assert result.changed == 1
    assert con.execute("SELECT valeur_cible FROM engagement WHERE engagement_id = 'PERR-01'").fetchone()[0] == 10
    suivi = importer.import_bytes(con, _csv("engagement_id,annee,statut\nPERR-02,2026,en_cours\n"),
                                  "suivi_2026.csv")
    assert suivi.added == 1
    importer.undo_import(con, suivi.import_id)
    importer.undo_import(con, result.import_id)
    assert dump(con, ("engagement", "suivi_engagement")) == before


def test_undo_of_engagements_blocked_by_a_later_follow_up(con):
    text = ENG_HEADER + "X-1,Nouvel engagement,caf,CV219,inclusion,*,2019,2022,,,,,,\n"
    first = importer.import_bytes(con, _csv(text), "eng.csv")
    importer.import_bytes(con, _csv("engagement_id,annee,statut\nX-1,2020,en_cours\n"), "suivi.csv")
    with pytest.raises(importer.UndoRefused):
        importer.undo_import(con, first.import_id)


def test_follow_up_may_name_an_engagement_of_the_same_upload(ref_con):
    """`check` of both files at once (nothing written yet): the follow-up sees the engagements file."""
    pending: set = set()
    for name in ("engagements.csv", "suivi_engagements.csv"):
        report = importer.check_file(ref_con, (DEMO / name).read_bytes(), name, pending_actions=pending)
        assert report.ok, report.issues_frame().to_string()
        pending |= importer.pending_keys(report)
    assert ref_con.execute("SELECT count(*) FROM engagement").fetchone()[0] == 0


# --------------------------------------------------------------------------- CLI on a hand-written file set


def cli(cwd: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


def test_cli_check_import_and_engagements_on_caen(ref_db_file, tmp_path):
    shutil.copyfile(ref_db_file, tmp_path / "db.duckdb")
    files = [str(CAEN / n) for n in ("suivi_engagements.csv", "engagements.csv", "indicateurs.csv")]
    r = cli(tmp_path, "check", "--db", "db.duckdb", *files)
    assert r.returncode == 0, r.stderr
    r = cli(tmp_path, "import", "--db", "db.duckdb", *files)
    assert r.returncode == 0, r.stderr
    assert r.stdout.count("importé") == 3

    def rows(year: int) -> dict[str, dict]:
        r = cli(tmp_path, "engagements", "--db", "db.duckdb", "--annee", str(year))
        assert r.returncode == 0, r.stderr
        return {row["engagement_id"]: row for row in csv.DictReader(io.StringIO(r.stdout))}

    # By hand from tests/data/caen (the Caen QPV have no population: the indicator mean is unweighted).
    header = "engagement_id,signataire,statut,valeur,valeur_cible,montant_engage,montant_realise_cumule"
    assert cli(tmp_path, "engagements", "--db", "db.duckdb", "--annee", "2025").stdout.splitlines()[0] == header
    y2025 = rows(2025)
    assert list(y2025) == ["CAEN-01", "CAEN-02", "CAEN-03", "CAEN-04"]
    expected_2025 = {
        "CAEN-01": ("caf", "atteint", 1, 1, 90000, 30000 + 45000),
        "CAEN-02": ("region", "partiellement_atteint", 110, 160, 240000, 50000 + 65000.50),
        "CAEN-03": ("france_travail", "non_renseigne", (29 + 26) / 2, 24, None, None),
        "CAEN-04": ("commune", "non_engage", 0, 12, 60000, None),
    }
    expected_2024 = {
        "CAEN-01": ("caf", "en_cours", 0, 1, 90000, 30000),
        "CAEN-02": ("region", "en_cours", 70, 160, 240000, 50000),
        "CAEN-03": ("france_travail", "en_cours", (31 + 27) / 2, 24, None, None),
        "CAEN-04": ("commune", "non_renseigne", None, 12, 60000, None),
    }
    for got, expected in ((y2025, expected_2025), (rows(2024), expected_2024)):
        for eid, (sign, statut, valeur, cible, engage, cumul) in expected.items():
            row = got[eid]
            assert (row["signataire"], row["statut"]) == (sign, statut), eid
            for col, want in (("valeur", valeur), ("valeur_cible", cible), ("montant_engage", engage),
                              ("montant_realise_cumule", cumul)):
                assert (row[col] == "") if want is None else (float(row[col]) == pytest.approx(want)), (eid, col)
                assert "," not in row[col]
    assert y2025["CAEN-02"]["montant_realise_cumule"] == "115000.5"


def test_cli_engagements_without_database_is_a_usage_error(tmp_path):
    r = cli(tmp_path, "engagements", "--db", "absente.duckdb", "--annee", "2022")
    assert r.returncode == 2 and "base introuvable" in r.stderr


def test_cli_check_reports_a_bad_follow_up(ref_db_file, tmp_path):
    shutil.copyfile(ref_db_file, tmp_path / "db.duckdb")
    (tmp_path / "suivi.csv").write_text("engagement_id,annee,statut\nCAEN-01,2025,terminé\n", encoding="utf-8")
    r = cli(tmp_path, "check", "--db", "db.duckdb", str(CAEN / "engagements.csv"), "suivi.csv")
    assert r.returncode == 1
    assert "suivi.csv:2:statut:" in r.stderr
    con = duckdb.connect(str(tmp_path / "db.duckdb"), read_only=True)
    assert con.execute("SELECT count(*) FROM engagement").fetchone()[0] == 0
    con.close()
