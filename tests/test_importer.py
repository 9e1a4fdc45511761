"""Importer: every accepted file variant of FORMATS.md, every rejection path, idempotence, replace semantics, undo.

Each test works on its own copy of a referential-only database (built once per session). Territory used:
the Métropole Européenne de Lille (contracts CV192 / CN05911M), not the demo territory.
"""

from __future__ import annotations

import csv
import io
import math
import shutil
from pathlib import Path

import duckdb
import pytest

from cdv_core import demo, importer, schema
from cdv_core.reading import normalize_choice

REF = Path(__file__).resolve().parents[1] / "data" / "referentiels"
PROG_HEADER = ["action_id", "annee", "intitule", "porteur", "pilier", "qpv"]
FIN_HEADER = ["action_id", "annee", "financeur", "montant_accorde"]
# Lille QPV of the 2024 geography (contract CN05911M), from data/referentiels/qpv.csv.
Q1, Q2, Q3 = "QN05971M", "QN05973M", "QN05974M"


# --------------------------------------------------------------------------- fixtures and helpers


@pytest.fixture(scope="session")
def ref_db_file(tmp_path_factory) -> Path:
    """A referential-only database, built once per session; tests copy it."""
    path = tmp_path_factory.mktemp("refdb") / "ref.duckdb"
    demo.new_database(path, demo=False)
    return path


@pytest.fixture
def con(ref_db_file, tmp_path):
    path = tmp_path / "t.duckdb"
    shutil.copyfile(ref_db_file, path)
    c = schema.connect(path)
    yield c
    c.close()


def dump(c: duckdb.DuckDBPyConnection, data_only: bool = False) -> dict[str, list[tuple]]:
    """Every row of every table, sorted (data_only: without the import journal and its mirrors)."""
    tables = [r[0] for r in c.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1").fetchall()]
    if data_only:
        tables = [t for t in tables if t != "import_journal" and not t.startswith("journal_")]
    # The fact tables' `cle` is a fresh surrogate number at each refresh: compare what it numbers, not the number.
    cols = {t: "* EXCLUDE (cle)" if t in ("fait", "fait_qpv") else "*" for t in tables}
    return {t: sorted(c.execute(f"SELECT {cols[t]} FROM {t}").fetchall(), key=repr) for t in tables}


def sheet(rows: list[list], sep: str = ";", encoding: str = "utf-8", bom: bool = False) -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return (b"\xef\xbb\xbf" if bom else b"") + buf.getvalue().encode(encoding)


def ref_rows(name: str) -> list[dict]:
    with open(REF / name, encoding="utf-8", newline="") as fh:
        return list(csv.DictReader(fh))


def rejected(c, data: bytes, name: str, kind: str | None = None) -> importer.Report:
    """Import `data`, expect a rejection, check nothing changed; return the report."""
    before = dump(c)
    with pytest.raises(importer.ImportRejected) as exc:
        importer.import_bytes(c, data, name, kind)
    assert dump(c) == before, "a rejected file changed the database"
    report = exc.value.report
    assert report.errors
    return report


def actions(c) -> dict[tuple[str, int], dict]:
    cur = c.execute("SELECT * FROM action")
    names = [d[0] for d in cur.description]
    return {(r["action_id"], r["annee"]): r for r in (dict(zip(names, row)) for row in cur.fetchall())}


def splits(c) -> dict[tuple[str, int], dict[str, float]]:
    out: dict = {}
    for aid, an, q, part in c.execute("SELECT action_id, annee, code_qpv, part FROM action_qpv").fetchall():
        out.setdefault((aid, an), {})[q] = part
    return out


def funding(c) -> dict[tuple, float]:
    return {(a, y, f): m for a, y, f, m in c.execute(
        "SELECT action_id, annee, financeur, montant_accorde FROM financement").fetchall()}


def base_prog(c, ids=("L1", "L2", "L3"), year=2024) -> importer.ImportResult:
    rows = [PROG_HEADER] + [[i, year, f"Action {i}", "Centre social Fives", "emploi", Q1] for i in ids]
    return importer.import_bytes(c, sheet(rows), "prog.csv")


# --------------------------------------------------------------------------- accepted variants


def test_cp1252_semicolon_decimal_comma_euro_nbsp(con):
    nb = "\u00a0"
    prog = sheet([
        ["N° dossier", "Année", "Intitulé", "Porteur", "Pilier", "Thématique", "QPV", "Coût total", "Public cible"],
        ["LIL-001", "2024", "Accès aux droits – Fives", "Association Léo Lagrange", "emploi", "2.1", Q1,
         f"25{nb}000,50{nb}€", "Élèves de 3ᵉ".replace("ᵉ", "e")],
    ], sep=";", encoding="cp1252")
    assert "é".encode("cp1252") in prog and b"\xa0" in prog and b"\x80" in prog  # really cp1252, nbsp and €
    res = importer.import_bytes(con, prog, "prog.csv")
    assert (res.added, res.changed, res.removed) == (1, 0, 0)
    fin = sheet([
        ["N° dossier", "Année", "Financeur", "Montant accordé", "Montant demandé"],
        ["LIL-001", "2024", "etat_bop147", f"12{nb}337,50{nb}€", f"15{nb}000{nb}€"],
        ["LIL-001", "2024", "caf", "12.337,25", "12337,25"],
    ], sep=";", encoding="cp1252")
    importer.import_bytes(con, fin, "fin.csv")
    a = actions(con)[("LIL-001", 2024)]
    assert a["intitule"] == "Accès aux droits – Fives"
    assert a["porteur"] == "Association Léo Lagrange"
    assert a["cout_total"] == 25000.5
    assert a["statut"] == "accordee"  # default
    assert a["contrat"] == "CN05911M"  # taken from the QPV referential
    m = {f: (acc, dem) for f, acc, dem in con.execute(
        "SELECT financeur, montant_accorde, montant_demande FROM financement").fetchall()}
    assert m == {"etat_bop147": (12337.5, 15000.0), "caf": (12337.25, 12337.25)}


def test_utf8_bom_comma_delimiter_narrow_nbsp(con):
    nnb = "\u202f"
    prog = sheet([PROG_HEADER + ["cout_total"],
                  ["LIL-002", 2024, "Café des parents", "Maison de quartier Wazemmes", "emploi", Q2,
                   f"1{nnb}234{nnb}567,5"]], sep=",", bom=True)
    assert prog.startswith(b"\xef\xbb\xbf")
    importer.import_bytes(con, prog, "prog.csv")
    a = actions(con)[("LIL-002", 2024)]
    assert a["intitule"] == "Café des parents"
    assert a["cout_total"] == 1234567.5
    fin = sheet([FIN_HEADER, ["LIL-002", 2024, "region", f"2{nnb}500,00 €"]], sep="\t", bom=True)
    importer.import_bytes(con, fin, "fin.txt")
    assert funding(con) == {("LIL-002", 2024, "region"): 2500.0}


def test_xlsx_workbook(con):
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.title = "Feuil1"
    ws.append(PROG_HEADER + ["nouvelle", "nb_beneficiaires", "public_cible"])
    ws.append(["LIL-010", 2024, "Chantier éducatif", "Régie de quartier", "emploi", Q1, True, 40, "Jeunes"])
    # last cell left empty: an .xlsx row stops at its last filled cell
    ws.append(["LIL-011", 2024, "Jardin partagé", "Régie de quartier", "emploi", f"{Q1}|{Q2}", "non", 12.0])
    buf = io.BytesIO()
    wb.save(buf)
    res = importer.import_bytes(con, buf.getvalue(), "programmation.xlsx")
    assert res.added == 2
    a = actions(con)
    assert a[("LIL-010", 2024)]["nouvelle"] is True
    assert a[("LIL-011", 2024)]["nouvelle"] is False
    assert a[("LIL-010", 2024)]["nb_beneficiaires"] == 40
    assert a[("LIL-011", 2024)]["nb_beneficiaires"] == 12
    assert a[("LIL-011", 2024)]["public_cible"] is None
    assert splits(con)[("LIL-011", 2024)] == {Q1: 0.5, Q2: 0.5}


def test_xlsx_sheet_named_after_kind(con):
    openpyxl = pytest.importorskip("openpyxl")
    base_prog(con, ids=("L1",))
    wb = openpyxl.Workbook()
    wb.active.title = "Notes"
    wb.active.append(["ceci n'est pas le tableau"])
    ws = wb.create_sheet("Financements")
    ws.append(FIN_HEADER)
    ws.append(["L1", 2024, "caf", 1500.5])
    buf = io.BytesIO()
    wb.save(buf)
    importer.import_bytes(con, buf.getvalue(), "export.xlsx", kind="financements")
    assert funding(con) == {("L1", 2024, "caf"): 1500.5}


def test_header_variants(con):
    header = ["  N° Dossier ", "ANNÉE", "intitulé", "Porteur-", "PORTEUR_SIRET", "Type de porteur", "Pilier",
              "Code QPV", "statut", "Coût_Total", "Nouvelle action"]
    rows = [header, ["LIL-020", "2024", "Médiation sociale", "Ville de Roubaix", "217 805 128 00014", "Commune",
                     "emploi", "QN05969M", "Soldée", "10 000", "Oui"]]
    kind = importer.detect_kind(header)
    assert kind is not None and kind.code == "programmation"
    importer.import_bytes(con, sheet(rows), "prog.csv")
    a = actions(con)[("LIL-020", 2024)]
    assert a["porteur_siret"] == "21780512800014"
    assert a["porteur_type"] == "commune"
    assert a["statut"] == "soldee"
    assert a["cout_total"] == 10000
    assert a["nouvelle"] is True


def test_labels_instead_of_codes(con):
    piliers = {r["code"]: r["libelle"] for r in ref_rows("piliers.csv")}
    financeurs = {r["code"]: r["libelle"] for r in ref_rows("financeurs.csv")}
    them = {r["sous_theme_code"]: r["sous_theme_libelle"] for r in ref_rows("thematiques.csv")}
    # labels written the way people type them: other case, accents dropped or kept
    prog = sheet([PROG_HEADER + ["thematique", "statut"],
                  ["L1", 2024, "Action", "Porteur", piliers["emancipation"].upper(), Q1, them["2.1"], "Accordée"],
                  ["L2", 2024, "Action", "Porteur", piliers["securite"].lower(), Q1, "2.2", "ABANDONNEE"]])
    importer.import_bytes(con, prog, "prog.csv")
    a = actions(con)
    assert (a[("L1", 2024)]["pilier"], a[("L1", 2024)]["thematique"], a[("L1", 2024)]["statut"]) == \
        ("emancipation", "2.1", "accordee")
    assert (a[("L2", 2024)]["pilier"], a[("L2", 2024)]["statut"]) == ("securite", "abandonnee")
    fin = sheet([FIN_HEADER + ["nature", "section"],
                 ["L1", 2024, financeurs["etat_dc"], "100", "Droit commun", "Investissement"],
                 ["L1", 2024, financeurs["epci"].upper(), "200", "", ""],
                 ["L1", 2024, financeurs["caf"], "300", "Spécifique", "fonctionnement"]])
    importer.import_bytes(con, fin, "fin.csv")
    got = {f: (n, s) for f, n, s in con.execute("SELECT financeur, nature, section FROM financement").fetchall()}
    nature_defaut = {r["code"]: r["nature_defaut"] for r in ref_rows("financeurs.csv")}
    assert got == {"etat_dc": ("droit_commun", "investissement"),
                   "epci": (nature_defaut["epci"], "fonctionnement"),
                   "caf": ("specifique", "fonctionnement")}
    assert normalize_choice(financeurs["epci"]) != "epci"  # the label really is not the code


BOOLS = [("oui", True), ("non", False), ("o", True), ("n", False), ("Vrai", True), ("FAUX", False), ("1", True),
         ("0", False), ("true", True), ("false", False), ("x", True), ("X", True), ("", None)]


def test_booleans(con):
    rows = [PROG_HEADER + ["nouvelle"]]
    rows += [[f"B{i}", 2024, "Action", "Porteur", "emploi", Q1, text] for i, (text, _) in enumerate(BOOLS)]
    importer.import_bytes(con, sheet(rows), "prog.csv")
    a = actions(con)
    for i, (text, expected) in enumerate(BOOLS):
        got = a[(f"B{i}", 2024)]["nouvelle"]
        assert got is expected, text


def test_star_with_contrat(con):
    lille_2024 = sorted(r["code_qpv"] for r in ref_rows("qpv.csv") if r["contrat"] == "CN05911M")
    lille_2015 = sorted(r["code_qpv"] for r in ref_rows("qpv.csv") if r["contrat"] == "CV192")
    assert len(lille_2024) > 3 and len(lille_2015) > 3
    prog = sheet([PROG_HEADER + ["contrat"],
                  ["S24", 2024, "Coordination", "MEL", "emploi", "*", "CN05911M"],
                  ["S22", 2022, "Coordination", "MEL", "cohesion_sociale", "*", "cv192"]])
    importer.import_bytes(con, prog, "prog.csv")
    s = splits(con)
    assert sorted(s[("S24", 2024)]) == lille_2024
    assert sorted(s[("S22", 2022)]) == lille_2015
    for key in s:
        assert math.isclose(sum(s[key].values()), 1.0)
        assert len(set(s[key].values())) == 1  # equal shares
    assert actions(con)[("S22", 2022)]["contrat"] == "CV192"


def test_several_qpv_split(con):
    prog = sheet([PROG_HEADER, ["M1", 2024, "Action", "Porteur", "emploi", f"{Q1}|{Q2} | {Q3.lower()}"],
                  ["M2", 2024, "Action", "Porteur", "emploi", f"{Q1}|{Q2}"]])
    importer.import_bytes(con, prog, "prog.csv")
    s = splits(con)
    assert set(s[("M1", 2024)]) == {Q1, Q2, Q3}
    assert set(s[("M2", 2024)]) == {Q1, Q2}
    for key in s:
        assert math.isclose(sum(s[key].values()), 1.0)
        assert all(math.isclose(p, 1 / len(s[key])) for p in s[key].values())


# --------------------------------------------------------------------------- rejections


def _one(report: importer.Report) -> importer.Issue:
    assert len(report.errors) == 1, report.errors
    return report.errors[0]


def test_reject_missing_required_column(con):
    data = sheet([["action_id", "annee", "intitule", "porteur", "qpv", "cout_total"],
                  ["L1", 2024, "Action", "Porteur", Q1, "10"]])
    issue = _one(rejected(con, data, "prog.csv", "programmation"))
    assert (issue.line, issue.column) == (1, "pilier")
    assert "Colonne obligatoire" in issue.message and "pilier" in issue.message


def test_reject_bad_number(con):
    data = sheet([PROG_HEADER + ["cout_total"], ["L1", 2024, "Action", "Porteur", "emploi", Q1, "1 000"],
                  ["L2", 2024, "Action", "Porteur", "emploi", Q1, "mille euros"]])
    issue = _one(rejected(con, data, "prog.csv"))
    assert (issue.line, issue.column, issue.value) == (3, "cout_total", "mille euros")
    assert "« mille euros »" in issue.message and "montant" in issue.message


def test_reject_negative_amount(con):
    base_prog(con)
    data = sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L2", 2024, "caf", "-1 500,00"]])
    issue = _one(rejected(con, data, "fin.csv"))
    assert (issue.line, issue.column, issue.value) == (3, "montant_accorde", "-1 500,00")
    assert "négatif" in issue.message


@pytest.mark.parametrize("column,value,fragment", [
    ("qpv", "QN99999Z", "QPV"),
    ("pilier", "Pilier imaginaire", "Pilier"),
])
def test_reject_unknown_referential_in_programmation(con, column, value, fragment):
    row = {"action_id": "L1", "annee": 2024, "intitule": "Action", "porteur": "Porteur", "pilier": "emploi",
           "qpv": Q1}
    row[column] = value
    data = sheet([PROG_HEADER, ["L0", 2024, "Action", "Porteur", "emploi", Q1], [row[c] for c in PROG_HEADER]])
    issue = _one(rejected(con, data, "prog.csv"))
    assert (issue.line, issue.column, issue.value) == (3, column, value)
    assert f"« {value} »" in issue.message and fragment in issue.message and "inconnu" in issue.message


def test_reject_unknown_financeur(con):
    base_prog(con)
    data = sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L1", 2024, "Mécène inconnu", "100"]])
    issue = _one(rejected(con, data, "fin.csv"))
    assert (issue.line, issue.column, issue.value) == (3, "financeur", "Mécène inconnu")
    assert "Financeur « Mécène inconnu » inconnu" in issue.message


def test_reject_duplicate_key(con):
    data = sheet([PROG_HEADER, ["L1", 2024, "Action", "Porteur", "emploi", Q1],
                  ["L2", 2024, "Action", "Porteur", "emploi", Q1],
                  ["L1", "2024", "Autre intitulé", "Porteur", "emploi", Q2]])
    issue = _one(rejected(con, data, "prog.csv"))
    assert (issue.line, issue.column, issue.value) == (4, "action_id", "L1")
    assert "Doublon" in issue.message and "ligne 2" in issue.message


def test_reject_duplicate_funding_line(con):
    base_prog(con)
    data = sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L1", 2024, "CAF", "200"]])
    issue = _one(rejected(con, data, "fin.csv"))
    assert issue.line == 3 and "Doublon" in issue.message


def test_reject_wrong_siret_length(con):
    data = sheet([PROG_HEADER + ["porteur_siret"], ["L1", 2024, "Action", "Porteur", "emploi", Q1, "123 456 789"]])
    issue = _one(rejected(con, data, "prog.csv"))
    assert (issue.line, issue.column, issue.value) == (2, "porteur_siret", "123 456 789")
    assert "14 chiffres" in issue.message and "9" in issue.message


def test_siret_checksum_is_only_a_warning(con):
    data = sheet([PROG_HEADER + ["porteur_siret"], ["L1", 2024, "Action", "Porteur", "emploi", Q1, "12345678901234"]])
    res = importer.import_bytes(con, data, "prog.csv")
    assert res.added == 1
    assert [(w.line, w.column) for w in res.report.warnings] == [(2, "porteur_siret")]


@pytest.mark.parametrize("data", [b"", b"\r\n\r\n;;;\r\n"], ids=["zero-bytes", "blank-lines"])
def test_reject_empty_file(con, data):
    issue = _one(rejected(con, data, "vide.csv", "programmation"))
    assert "vide" in issue.message


def test_reject_header_only(con):
    issue = _one(rejected(con, sheet([PROG_HEADER]), "prog.csv"))
    assert "aucune ligne" in issue.message


def test_reject_png_named_csv(con):
    png = (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00\x1f\x15\xc4"
           b"\x89\x00\x00\x00\rIDATx\xdac\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N\x00\x00\x00\x00IEND\xaeB`\x82")
    for kind in (None, "programmation"):
        issue = _one(rejected(con, png, "programmation.csv", kind))
        assert "programmation.csv" in issue.message and "image" in issue.message


def test_reject_truncated_last_line(con):
    full = sheet([PROG_HEADER + ["public_cible"], ["L1", 2024, "Action", "Porteur", "emploi", Q1, "Jeunes"],
                  ["L2", 2024, "Action", "Porteur", "emploi", Q1, "Jeunes"]])
    cut = full[: full.rindex(b";emploi;")]  # the download stopped in the middle of the last row
    issue = _one(rejected(con, cut, "prog.csv"))
    assert issue.line == 3
    assert "tronqué" in issue.message or "incomplète" in issue.message


def test_reject_funding_of_unknown_action(con):
    base_prog(con)
    data = sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L1", 2023, "caf", "100"], ["ZZ-9", 2024, "caf", "1"]])
    report = rejected(con, data, "fin.csv")
    got = [(i.line, i.column, i.value) for i in report.errors]
    assert got == [(3, "action_id", "L1"), (4, "action_id", "ZZ-9")]
    assert all("n'existe pas" in i.message for i in report.errors)


def test_reject_star_without_contrat(con):
    data = sheet([PROG_HEADER, ["L1", 2024, "Action", "Porteur", "emploi", "*"]])
    issue = _one(rejected(con, data, "prog.csv"))
    assert (issue.line, issue.column) == (2, "contrat")


def test_reject_reports_every_error_with_spreadsheet_lines(con):
    rows = [PROG_HEADER + ["cout_total"],
            ["E1", 2024, "Action", "Porteur", "emploi", Q1, "abc"],  # line 2: bad amount
            ["E2", 2024, "Action", "Porteur", "emploi", Q1, "100"],  # line 3: fine
            [],  # line 4: empty, ignored but counted
            ["E3", 2024, "Action", "Porteur", "inconnu", Q1, "100"],  # line 5: unknown pilier
            ["E4", 1850, "", "Porteur", "emploi", "QN00000X", "100"],  # line 6: bad year, empty title, bad QPV
            ]
    report = rejected(con, sheet(rows), "prog.csv")
    got = [(i.line, i.column) for i in report.errors]  # in file order
    assert got == [(2, "cout_total"), (5, "pilier"), (6, "annee"), (6, "intitule"), (6, "qpv")]
    frame = report.issues_frame()
    assert list(frame.columns[:4]) == ["Ligne", "Colonne", "Valeur", "Problème"]
    assert all(i.format("prog.csv").startswith(f"prog.csv:{i.line}:{i.column}: ") for i in report.errors)


# --------------------------------------------------------------------------- idempotence, replace semantics


def test_same_file_twice_changes_nothing(con):
    prog = sheet([PROG_HEADER + ["cout_total", "nouvelle"],
                  ["I1", 2024, "Action", "Porteur", "emploi", f"{Q1}|{Q2}|{Q3}", "1 000,10", "oui"],
                  ["I2", 2022, "Action", "Porteur", "cohesion_sociale", "QP059066", "", ""]])
    fin = sheet([FIN_HEADER + ["dispositif"], ["I1", 2024, "caf", "100,5", "Cités éducatives"],
                 ["I1", 2024, "region", "3", ""], ["I2", 2022, "commune", "7", ""]])
    for data, name in ((prog, "prog.csv"), (fin, "fin.csv")):
        first = importer.import_bytes(con, data, name)
        assert first.added > 0
        state = dump(con, data_only=True)
        again = importer.import_bytes(con, data, name)
        assert (again.added, again.changed, again.removed) == (0, 0, 0)
        assert dump(con, data_only=True) == state
        # the second import is journaled but touched no row
        assert con.execute("SELECT count(*) FROM import_journal WHERE import_id = ?", [again.import_id]).fetchone()[0]
        for table in importer.TABLE_SCOPE:
            n = con.execute(f"SELECT count(*) FROM journal_{table} WHERE import_id = ?", [again.import_id]).fetchone()
            assert n[0] == 0, table


def test_financements_replace_drops_missing_funder(con):
    base_prog(con)
    fin = sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L1", 2024, "region", "200"],
                 ["L1", 2024, "commune", "300"], ["L2", 2024, "caf", "50"]])
    importer.import_bytes(con, fin, "fin1.csv")
    res = importer.import_bytes(con, sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L1", 2024, "region", "250"]]),
                                "fin2.csv")
    assert (res.added, res.changed, res.removed) == (0, 1, 1)
    assert funding(con) == {("L1", 2024, "caf"): 100.0, ("L1", 2024, "region"): 250.0, ("L2", 2024, "caf"): 50.0}


def test_programmation_reimport_replaces_qpv_split(con):
    importer.import_bytes(con, sheet([PROG_HEADER, ["R1", 2024, "A", "P", "emploi", f"{Q1}|{Q2}"]]), "a.csv")
    importer.import_bytes(con, sheet([PROG_HEADER, ["R1", 2024, "A", "P", "emploi", Q3]]), "b.csv")
    assert splits(con) == {("R1", 2024): {Q3: 1.0}}


# --------------------------------------------------------------------------- undo


def test_undo_restores_exact_states(con):
    initial = dump(con, data_only=True)
    a = importer.import_bytes(con, sheet([PROG_HEADER, ["U1", 2024, "Un", "P", "emploi", Q1],
                                          ["U2", 2024, "Deux", "P", "emploi", f"{Q1}|{Q2}"],
                                          ["U3", 2024, "Trois", "P", "emploi", Q3]]), "a.csv")
    after_a = dump(con, data_only=True)
    b = importer.import_bytes(con, sheet([PROG_HEADER, ["U2", 2024, "Deux bis", "P", "transitions", Q3],
                                          ["U4", 2024, "Quatre", "P", "emploi", Q2]]), "b.csv")
    assert (b.added, b.changed, b.removed) == (1, 1, 0)
    assert dump(con, data_only=True) != after_a

    with pytest.raises(importer.UndoRefused) as exc:
        importer.undo_import(con, a.import_id)
    assert f"n° {b.import_id} (b.csv)" in exc.value.message and "ne peut pas être annulé" in exc.value.message
    assert dump(con, data_only=True) != after_a  # the refusal changed nothing

    ub = importer.undo_import(con, b.import_id, user="testeur")
    assert dump(con, data_only=True) == after_a
    ua = importer.undo_import(con)  # the latest live import, i.e. A
    assert dump(con, data_only=True) == initial

    j = {r["import_id"]: r for r in importer.journal(con).to_dict("records")}
    assert j[ub.import_id]["annule"] == b.import_id and j[b.import_id]["annule_par"] == ub.import_id
    assert j[ua.import_id]["annule"] == a.import_id and j[a.import_id]["annule_par"] == ua.import_id
    assert j[ub.import_id]["utilisateur"] == "testeur"
    assert "b.csv" in j[ub.import_id]["fichier"]
    assert (j[ub.import_id]["nb_ajoutees"], j[ub.import_id]["nb_modifiees"], j[ub.import_id]["nb_supprimees"]) == \
        (0, 1, 1)
    with pytest.raises(importer.UndoRefused, match="déjà été annulé"):
        importer.undo_import(con, a.import_id)
    with pytest.raises(importer.UndoRefused, match="Aucun import"):
        importer.undo_import(con)
    with pytest.raises(importer.UndoRefused, match="n'existe pas"):
        importer.undo_import(con, 999)


def test_undo_programmation_refused_while_financements_depend(con):
    p = base_prog(con)
    f = importer.import_bytes(con, sheet([FIN_HEADER, ["L2", 2024, "caf", "10"]]), "fin.csv")
    state = dump(con)
    with pytest.raises(importer.UndoRefused) as exc:
        importer.undo_import(con, p.import_id)
    assert f"n° {f.import_id} (fin.csv)" in exc.value.message
    assert dump(con) == state
    importer.undo_import(con, f.import_id)
    importer.undo_import(con, p.import_id)
    assert con.execute("SELECT count(*) FROM action").fetchone()[0] == 0
    assert con.execute("SELECT count(*) FROM financement").fetchone()[0] == 0


def test_undo_financements_restores_dropped_funder(con):
    base_prog(con)
    importer.import_bytes(con, sheet([FIN_HEADER, ["L1", 2024, "caf", "100"], ["L1", 2024, "region", "200"]]),
                          "fin1.csv")
    before = dump(con, data_only=True)
    second = importer.import_bytes(con, sheet([FIN_HEADER, ["L1", 2024, "caf", "150"]]), "fin2.csv")
    assert funding(con) == {("L1", 2024, "caf"): 150.0}
    importer.undo_import(con, second.import_id)
    assert dump(con, data_only=True) == before


def test_undo_of_unrelated_earlier_import_allowed(con):
    a = base_prog(con, ids=("X1",))
    b = base_prog(con, ids=("X2",))
    importer.undo_import(con, a.import_id)
    assert set(actions(con)) == {("X2", 2024)}
    assert b.import_id > a.import_id
