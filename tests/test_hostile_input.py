"""Issue 15: files that are well-formed but wrong, or built to hurt. One test per case of the adversarial review.

Each test imports through the real importer into a real DuckDB file, checks the French message (line, column,
value) and that the base is unchanged afterwards (every table compared row by row). Territory: the Métropole
Européenne de Lille (CV192 for 2015-2023, CN05911M from 2024), as in test_importer.py.
"""

from __future__ import annotations

import csv
import io
import shutil
import tracemalloc
import zipfile
from pathlib import Path

import duckdb
import openpyxl
import pytest

from cdv_core import demo, exports, gestion, importer, reading, schema

PROG_HEADER = ["action_id", "annee", "intitule", "porteur", "pilier", "qpv"]
FIN_HEADER = ["action_id", "annee", "financeur", "montant_accorde"]
Q24 = "QN05971M"  # Lille, geography 2024, contract CN05911M
Q15 = "QP059066"  # Lille (Villeneuve-d'Ascq), geography 2015, contract CV192
Q15_AIN = "QP001001"  # Bourg-en-Bresse (Ain), geography 2015, contract CV004


@pytest.fixture(scope="session")
def ref_db_file(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("refdb15") / "ref.duckdb"
    demo.new_database(path, demo=False)
    return path


@pytest.fixture
def con(ref_db_file, tmp_path):
    path = tmp_path / "t.duckdb"
    shutil.copyfile(ref_db_file, path)
    c = schema.connect(path)
    yield c
    c.close()


def dump(c: duckdb.DuckDBPyConnection) -> dict[str, list[tuple]]:
    """Every row of every table, sorted."""
    tables = [r[0] for r in c.execute(
        "SELECT table_name FROM duckdb_tables() WHERE schema_name = 'main' AND NOT temporary ORDER BY 1").fetchall()]
    cols = {t: "* EXCLUDE (cle)" if t in ("fait", "fait_qpv") else "*" for t in tables}
    return {t: sorted(c.execute(f"SELECT {cols[t]} FROM {t}").fetchall(), key=repr) for t in tables}


def sheet(rows: list[list], sep: str = ";", encoding: str = "utf-8") -> bytes:
    buf = io.StringIO()
    csv.writer(buf, delimiter=sep, lineterminator="\r\n").writerows(rows)
    return buf.getvalue().encode(encoding)


def rejected(c, data: bytes, name: str, kind: str | None = None) -> importer.Report:
    """`check` says not valid, the import is refused, and the base is unchanged."""
    before = dump(c)
    report = importer.check_file(c, data, name, kind)
    assert not report.ok, "check said « valide »"
    with pytest.raises(importer.ImportRejected) as exc:
        importer.import_bytes(c, data, name, kind)
    assert dump(c) == before, "a rejected file changed the database"
    return exc.value.report


def error_on(report: importer.Report, line: int | None, column: str | None) -> importer.Issue:
    found = [i for i in report.errors if i.line == line and i.column == column]
    assert found, f"no error on line {line}, column {column}: {[(i.line, i.column, i.message) for i in report.issues]}"
    return found[0]


def import_prog(c, rows: list[list], header=PROG_HEADER) -> importer.ImportResult:
    return importer.import_bytes(c, sheet([header, *rows]), "prog.csv")


def xlsx(sheets: dict[str, list[list]], hidden: tuple[str, ...] = ()) -> bytes:
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for row in rows:
            ws.append(row)
        if title in hidden:
            ws.sheet_state = "hidden"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def xfd_workbook(n_rows: int, far_cell: str) -> bytes:
    """A programmation workbook whose every row also has a cell in XFD (column 16 384), written by hand
    (openpyxl keeps cells in memory and would itself allocate the whole width)."""
    def inline(ref, text):
        return f'<c r="{ref}" t="inlineStr"><is><t>{text}</t></is></c>'
    rows = []
    for n in range(1, n_rows + 1):
        values = PROG_HEADER if n == 1 else [f"X{n}", "2024", "Action", "Porteur", "emploi", Q24]
        cells = "".join(inline(f"{chr(65 + i)}{n}", v) for i, v in enumerate(values))
        rows.append(f'<row r="{n}">{cells}{far_cell.format(n=n)}</row>')
    main = "http://schemas.openxmlformats.org/spreadsheetml/2006/main"
    rel = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
    pkg = "http://schemas.openxmlformats.org/package/2006"
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("[Content_Types].xml", f'<Types xmlns="{pkg}/content-types">'
                    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
                    '<Default Extension="xml" ContentType="application/xml"/>'
                    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument'
                    '.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType='
                    '"application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>')
        zf.writestr("_rels/.rels", f'<Relationships xmlns="{pkg}/relationships"><Relationship Id="rId1" '
                    f'Type="{rel}/officeDocument" Target="xl/workbook.xml"/></Relationships>')
        zf.writestr("xl/workbook.xml", f'<workbook xmlns="{main}" xmlns:r="{rel}"><sheets><sheet '
                    'name="programmation" sheetId="1" r:id="rId1"/></sheets></workbook>')
        zf.writestr("xl/_rels/workbook.xml.rels", f'<Relationships xmlns="{pkg}/relationships"><Relationship '
                    f'Id="rId1" Type="{rel}/worksheet" Target="worksheets/sheet1.xml"/></Relationships>')
        zf.writestr("xl/worksheets/sheet1.xml", f'<worksheet xmlns="{main}"><dimension ref="A1:XFD{n_rows}"/>'
                    f'<sheetData>{"".join(rows)}</sheetData></worksheet>')
    return buf.getvalue()


# --------------------------------------------------------------------------- bounded reading


def test_xlsx_with_a_cell_in_xfd_on_every_row_is_refused_without_allocating_the_width(con):
    data = xfd_workbook(2000, '<c r="XFD{n}" t="inlineStr"><is><t>x</t></is></c>')
    tracemalloc.start()
    try:
        report = rejected(con, data, "xfd.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    message = report.errors[0].message
    assert "xfd.xlsx" in message and "colonne XFD" in message and "trop grand" in message
    # before bounded reading each row was widened to 16 384 cells: 2 000 rows = 250 Mo of pointers
    assert peak < 60_000_000, f"peak {peak / 1e6:.0f} Mo"


def test_xlsx_with_empty_far_cells_is_read_at_its_real_width(con):
    """The far cell is declared but empty: the rows are read (not refused) and never widened to XFD."""
    data = xfd_workbook(2000, '<c r="XFD{n}"/>')
    tracemalloc.start()
    try:
        raw = reading.read_table(data, "xfd_vide.xlsx")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert raw.header == PROG_HEADER and len(raw.rows) == 1999
    assert max(len(cells) for _, cells in raw.rows) == len(PROG_HEADER)
    assert peak < 60_000_000, f"peak {peak / 1e6:.0f} Mo"


def test_row_and_cell_limits_are_french_errors(con):
    small = reading.Limites(lignes=5, cellule=50)
    rows = [PROG_HEADER] + [[f"R{i}", 2024, "A", "P", "emploi", Q24] for i in range(6)]
    with pytest.raises(reading.UnreadableFile) as exc:
        reading.read_table(sheet(rows), "long.csv", limites=small)
    assert "plus de 5 lignes" in exc.value.message
    with pytest.raises(reading.UnreadableFile) as exc:
        reading.read_table(sheet([PROG_HEADER, ["R", 2024, "x" * 51, "P", "emploi", Q24]]), "c.csv", limites=small)
    assert "ligne 2, colonne C" in exc.value.message and "51 caractères" in exc.value.message
    # the default limit on one cell is Excel's: 32 767 characters
    report = rejected(con, sheet([PROG_HEADER, ["R", 2024, "x" * 40_000, "P", "emploi", Q24]]), "c.csv")
    assert "40\u202f000 caractères" in report.errors[0].message


def test_a_line_of_millions_of_separators_is_refused_before_parsing(con):
    report = rejected(con, sheet([PROG_HEADER]) + b";" * 3_000_000 + b"\r\n", "sep.csv")
    assert "ligne 2" in report.errors[0].message and "séparateurs" in report.errors[0].message


def test_zip_bomb_shared_strings_refused_before_opening(con):
    data = xfd_workbook(3, "")
    buf = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as dst:
        for info in src.infolist():
            dst.writestr(info, src.read(info))
        with dst.open("xl/sharedStrings.xml", "w", force_zip64=True) as out:
            for _ in range(12):
                out.write(b"a" * 10_000_000)
    report = rejected(con, buf.getvalue(), "bombe.xlsx")
    assert "texte de ses cellules fait 120 Mo" in report.errors[0].message


# --------------------------------------------------------------------------- geographies and contracts


def test_2022_action_naming_a_2024_qpv_is_an_error(con):
    report = rejected(con, sheet([PROG_HEADER, ["A1", 2022, "Action", "Porteur", "cohesion_sociale", Q24]]), "p.csv")
    issue = error_on(report, 2, "qpv")
    assert issue.value == Q24 and "géographie prioritaire 2024" in issue.message and "2022" in issue.message


def test_2025_action_naming_a_2015_qpv_is_an_error(con):
    report = rejected(con, sheet([PROG_HEADER, ["A1", 2025, "Action", "Porteur", "emploi", Q15]]), "p.csv")
    issue = error_on(report, 2, "qpv")
    assert issue.value == Q15 and "géographie prioritaire 2015" in issue.message and "2025" in issue.message


def test_action_of_a_contract_naming_a_quartier_of_another_contract(con):
    header = PROG_HEADER + ["contrat"]
    report = rejected(con, sheet([header, ["A1", 2022, "Action", "Porteur", "cohesion_sociale", Q15_AIN, "CV192"]]),
                      "p.csv")
    issue = error_on(report, 2, "qpv")
    assert issue.value == Q15_AIN and "contrat CV004" in issue.message and "CV192" in issue.message
    # without a contract column, quartiers of two contracts in one action are refused the same way
    report = rejected(con, sheet([PROG_HEADER, ["A1", 2022, "Action", "Porteur", "cohesion_sociale",
                                                f"{Q15}|{Q15_AIN}"]]), "p.csv")
    assert "relève du contrat CV004" in error_on(report, 2, "qpv").message


def test_action_year_and_contract_generation_must_agree(con):
    header = PROG_HEADER + ["contrat"]
    report = rejected(con, sheet([header, ["A1", 2025, "Action", "Porteur", "emploi", "*", "CV192"]]), "p.csv")
    issue = error_on(report, 2, "contrat")
    assert "CV192 est un contrat 2015-2023" in issue.message and "2025" in issue.message


def test_referential_cannot_attach_a_2024_qpv_to_a_2015_contract(con):
    rows = [["code_qpv", "nom_qpv", "communes_insee", "geographie", "contrat"],
            ["QN05999Z", "Quartier test", "59350", "2024", "CV192"]]
    report = rejected(con, sheet(rows), "qpv.csv", "qpv")
    issue = error_on(report, 2, "contrat")
    assert "QN05999Z" in issue.message and "CV192" in issue.message and "2015-2023" in issue.message


def test_matching_geography_and_contract_still_import(con):
    header = PROG_HEADER + ["contrat"]
    res = importer.import_bytes(con, sheet([header, ["A1", 2022, "Action", "Porteur", "cohesion_sociale", Q15,
                                                     "CV192"], ["A2", 2024, "Action", "Porteur", "emploi", Q24, ""]]),
                                "p.csv")
    assert res.added == 2
    assert dict(con.execute("SELECT action_id, contrat FROM action").fetchall()) == {"A1": "CV192", "A2": "CN05911M"}


# --------------------------------------------------------------------------- "valide" means it imports


def test_indicator_territories_differing_by_case_are_duplicates(con):
    rows = [["territoire", "indicateur", "annee", "valeur", "libelle"],
            ["FR", "taux_test", 2021, "14,5", "Taux test"], ["fr", "taux_test", 2021, "14,6", ""]]
    report = rejected(con, sheet(rows), "ind.csv")
    issue = error_on(report, 3, "territoire")
    assert "Doublon" in issue.message and "ligne 2" in issue.message


def test_diffusion_types_differing_by_case_are_duplicates(con):
    rows = [["enquete", "type_repondant", "nb_sollicites"], ["EVAL-T", "commune", 19], ["EVAL-T", "Commune", 20]]
    report = rejected(con, sheet(rows), "diff.csv")
    issue = error_on(report, 3, "enquete")
    assert "Doublon" in issue.message and "ligne 2" in issue.message


def test_referential_code_differing_from_the_base_only_by_case(con):
    before = con.execute("SELECT code FROM pilier WHERE code = 'emploi'").fetchall()
    assert before  # the shipped referential has it
    report = rejected(con, sheet([["code", "libelle"], ["Emploi", "Emploi bis"]]), "piliers.csv", "piliers")
    issue = error_on(report, 2, "code")
    assert "« Emploi » ne diffère de « emploi »" in issue.message


def test_action_id_differing_from_the_base_only_by_case(con):
    import_prog(con, [["A-1", 2024, "Action", "Porteur", "emploi", Q24]])
    report = rejected(con, sheet([PROG_HEADER, ["a-1", 2024, "Action", "Porteur", "emploi", Q24]]), "p.csv")
    assert "« a-1 » ne diffère de « A-1 »" in error_on(report, 2, "action_id").message


@pytest.mark.parametrize("value", ["9223372036854775808", "99999999999999999999999", "1e100"])
def test_integers_beyond_bigint_are_errors(con, value):
    header = PROG_HEADER + ["nb_beneficiaires"]
    report = rejected(con, sheet([header, ["A1", 2024, "Action", "Porteur", "emploi", Q24, value]]), "p.csv")
    issue = error_on(report, 2, "nb_beneficiaires")
    assert issue.value == value and "trop grand" in issue.message


def test_nb_beneficiaires_1e100_in_a_workbook_is_an_error(con):
    header = PROG_HEADER + ["nb_beneficiaires"]
    data = xlsx({"programmation": [header, ["A1", 2024, "Action", "Porteur", "emploi", Q24, 1e100]]})
    report = rejected(con, data, "p.xlsx")
    assert "trop grand" in error_on(report, 2, "nb_beneficiaires").message


def test_one_bad_file_does_not_stop_the_batch(con):
    """The upload page checks every file of a batch (gestion.plan_import): the bad one gets its errors, the
    others are still checked and previewed, and no exception escapes."""
    good = sheet([PROG_HEADER, ["A1", 2024, "Action", "Porteur", "emploi", Q24]])
    bad = sheet([PROG_HEADER + ["nb_beneficiaires"], ["A2", 2024, "Action", "Porteur", "emploi", Q24, "1e100"]])
    weird = b"\x00\x01" * 100
    before = dump(con)
    plan = gestion.plan_import(con, [gestion.Upload("bon.csv", good, None), gestion.Upload("mauvais.csv", bad, None),
                                     gestion.Upload("bizarre.csv", weird, None)])
    assert dump(con) == before
    by_name = {f.upload.name: f.report for f in plan.files}
    assert by_name["bon.csv"].ok
    assert "trop grand" in by_name["mauvais.csv"].errors[0].message
    assert "binaire" in by_name["bizarre.csv"].errors[0].message


def test_a_write_refused_by_the_base_is_a_rejection_not_a_traceback(con):
    """Safety net: should a row pass every check and the base still refuse it, the import is rejected."""
    report = importer.check_file(con, sheet([PROG_HEADER, ["A1", 2024, "Action", "Porteur", "emploi", Q24]]), "p.csv")
    assert report.ok
    report.tables["action"].loc[0, "intitule"] = None  # NOT NULL in the base
    before = dump(con)
    with pytest.raises(importer.ImportRejected) as exc:
        importer.apply_report(con, report)
    assert dump(con) == before
    assert "La base a refusé le contenu du fichier « p.csv »" in exc.value.report.errors[-1].message


# --------------------------------------------------------------------------- control and invisible characters


def test_vertical_tab_in_a_qpv_name_is_removed_with_a_warning(con):
    rows = [["code_qpv", "nom_qpv", "communes_insee", "geographie", "contrat"],
            [Q24, "Faubourg\x0bde Béthune", "59350", "2024", "CN05911M"]]
    report = importer.check_file(con, sheet(rows), "qpv.csv", "qpv")
    assert report.ok
    warning = next(i for i in report.warnings if i.column == "nom_qpv")
    assert warning.line == 2 and "U+000B" in warning.message and "retiré" in warning.message
    importer.apply_report(con, report)
    name = con.execute("SELECT nom_qpv FROM qpv WHERE code_qpv = ?", [Q24]).fetchone()[0]
    assert name == "Faubourgde Béthune"
    # and a table showing that name downloads as a workbook holding it
    table = con.execute("SELECT code_qpv, nom_qpv FROM qpv WHERE code_qpv = ?", [Q24]).df()
    wb = openpyxl.load_workbook(io.BytesIO(exports.to_xlsx_bytes({"QPV": table})))
    assert wb.active["B2"].value == "Faubourgde Béthune"


def test_zero_width_space_inside_an_action_id_is_refused(con):
    import_prog(con, [["2024-001", 2024, "Action", "Porteur", "emploi", Q24]])
    report = rejected(con, sheet([PROG_HEADER, ["2024\u200b-001", 2024, "Action", "Porteur", "emploi", Q24]]), "p.csv")
    issue = error_on(report, 2, "action_id")
    assert "U+200B" in issue.message and "caractère invisible" in issue.message


def test_file_mixing_utf8_and_cp1252_lines_is_refused_with_the_lines(con):
    data = (sheet([PROG_HEADER, ["A1", 2024, "Éducation", "Porteur", "emploi", Q24]], encoding="utf-8")
            + sheet([["A2", 2024, "Santé", "Porteur", "emploi", Q24], ["A3", 2024, "Plain", "P", "emploi", Q24],
                     ["A4", 2024, "Sécurité", "P", "emploi", Q24]], encoding="cp1252"))
    report = rejected(con, data, "mixte.csv")
    message = report.errors[0].message
    assert "mélange deux encodages" in message
    assert "les lignes 2 sont en UTF-8, les lignes 3, 5 en Windows-1252" in message


# --------------------------------------------------------------------------- workbooks


def test_hidden_sheet_named_after_the_kind_is_never_read(con):
    visible = [PROG_HEADER, ["VIS", 2024, "Visible", "Porteur", "emploi", Q24]]
    hidden = [PROG_HEADER, ["CACHE", 2024, "Cachée", "Porteur", "emploi", Q24]]
    data = xlsx({"Feuil1": visible, "programmation": hidden}, hidden=("programmation",))
    for kind in (None, "programmation"):  # page without kind, page with kind, CLI (which passes the kind)
        report = importer.check_file(con, data, "p.xlsx", kind)
        assert report.ok and report.sheet == "Feuil1"
        assert list(report.tables["action"]["action_id"]) == ["VIS"]
        note = next(i for i in report.warnings if i.value == "Feuil1")
        assert "seule la feuille « Feuil1 » a été lue" in note.message and "« programmation » (masquée)" in note.message


def test_visible_sheet_named_after_the_kind_wins_over_the_first(con):
    first = [["notes"], ["rien"]]
    named = [PROG_HEADER, ["NOM", 2024, "Action", "Porteur", "emploi", Q24]]
    data = xlsx({"Lisez-moi": first, "Programmation": named})
    assert importer.check_file(con, data, "p.xlsx", "programmation").sheet == "Programmation"


# --------------------------------------------------------------------------- amounts


@pytest.mark.parametrize(("value", "words"), [
    ("12,5%", "pourcentage"), ("12,5 %", "pourcentage"), ("1e9", "notation scientifique"),
    ("1,5E+03", "notation scientifique"), ("9e307", "notation scientifique"), ("inf", "pas un montant"),
    ("NaN", "pas un montant"),
])
def test_amounts_in_percent_scientific_or_non_finite_are_refused(con, value, words):
    import_prog(con, [["A1", 2024, "Action", "Porteur", "emploi", Q24]])
    report = rejected(con, sheet([FIN_HEADER, ["A1", 2024, "caf", value]]), "f.csv")
    issue = error_on(report, 2, "montant_accorde")
    assert issue.value == value and words in issue.message


def test_huge_amounts_from_a_workbook_are_refused(con):
    import_prog(con, [["A1", 2024, "Action", "Porteur", "emploi", Q24]])
    data = xlsx({"financements": [FIN_HEADER, ["A1", 2024, "caf", 9e307], ["A1", 2024, "etat_bop147", 9e307]]})
    report = rejected(con, data, "f.xlsx")
    assert "hors de portée" in error_on(report, 2, "montant_accorde").message
    assert "hors de portée" in error_on(report, 3, "montant_accorde").message


def test_minus_zero_is_stored_as_zero(con):
    import_prog(con, [["A1", 2024, "Action", "Porteur", "emploi", Q24]])
    importer.import_bytes(con, sheet([FIN_HEADER, ["A1", 2024, "caf", "-0"]]), "f.csv")
    value = con.execute("SELECT montant_accorde FROM financement").fetchone()[0]
    assert value == 0 and str(value) == "0.0"


def test_implausible_amount_is_a_warning_with_a_configurable_ceiling(con, monkeypatch):
    import_prog(con, [["A1", 2024, "Action", "Porteur", "emploi", Q24]])
    data = sheet([FIN_HEADER, ["A1", 2024, "caf", "25 000 000"]])
    report = importer.check_file(con, data, "f.csv")
    assert report.ok
    warning = next(i for i in report.warnings if i.column == "montant_accorde")
    assert warning.line == 2 and "Montant inhabituel" in warning.message and "10\u202f000\u202f000 €" in warning.message
    monkeypatch.setenv("CDV_PLAFOND_MONTANT", "30000000")
    assert not [i for i in importer.check_file(con, data, "f.csv").warnings if i.column == "montant_accorde"]
