"""Tests of cdv_core.reading: bytes → RawTable, and the value parsers."""

from __future__ import annotations

import datetime as dt
import io
import zipfile

import pytest

from cdv_core.reading import (
    RawTable,
    UnreadableFile,
    normalize_choice,
    normalize_name,
    parse_bool,
    parse_int,
    parse_number,
    read_table,
)

# ------------------------------------------------------------------------------------------------
# CSV
# ------------------------------------------------------------------------------------------------


def test_cp1252_semicolon_decimal_comma_euro():
    text = "action_id;Année;Intitulé;montant_accordé\r\nA1;2023;Accès aux droits;12 337,50 €\r\nA2;2024;Été;3,5\r\n"
    t = read_table(text.encode("cp1252"), "prog.csv")
    assert t.encoding == "cp1252"
    assert t.delimiter == ";"
    assert t.sheet is None
    assert t.header == ["action_id", "Année", "Intitulé", "montant_accordé"]
    assert t.header_line == 1
    assert t.rows == [(2, ["A1", "2023", "Accès aux droits", "12 337,50 €"]), (3, ["A2", "2024", "Été", "3,5"])]
    assert parse_number(t.rows[0][1][3]) == 12337.5


def test_utf8_bom_comma():
    text = "code,libelle\ncohesion_sociale,Cohésion sociale\nemploi,\"Emploi; insertion\"\n"
    t = read_table(b"\xef\xbb\xbf" + text.encode("utf-8"), "piliers.csv")
    assert t.encoding == "utf-8-sig"
    assert t.delimiter == ","
    assert t.header == ["code", "libelle"]  # no BOM glued to the first header cell
    assert t.rows == [(2, ["cohesion_sociale", "Cohésion sociale"]), (3, ["emploi", "Emploi; insertion"])]


def test_plain_utf8():
    t = read_table("a;b\nÉté;œuvre\n".encode(), "x.csv")
    assert t.encoding == "utf-8"
    assert t.rows == [(2, ["Été", "œuvre"])]


def test_tab_delimited():
    t = read_table(b"a\tb\tc\n1\t2,5\t3\n", "x.txt")
    assert t.delimiter == "\t"
    assert t.header == ["a", "b", "c"]
    assert t.rows == [(2, ["1", "2,5", "3"])]


def test_semicolon_wins_over_decimal_commas_in_data():
    t = read_table(b"a;b\n1,5;2,5\n3,5;4,5\n", "x.csv")
    assert t.delimiter == ";"
    assert t.rows[0] == (2, ["1,5", "2,5"])


def test_semicolon_when_header_has_commas_too():
    t = read_table("Nom, prénom;Montant\nDupont, Jean;12,5\nMartin, Léa;3\n".encode(), "x.csv")
    assert t.delimiter == ";"
    assert t.header == ["Nom, prénom", "Montant"]


def test_single_column_defaults_to_semicolon():
    t = read_table(b"code\nA\nB\n", "x.csv")
    assert t.delimiter == ";"
    assert t.rows == [(2, ["A"]), (3, ["B"])]


def test_quoted_cells_with_delimiter_newline_and_quotes():
    text = (
        'action_id;intitule;public_cible\r\n'
        'A1;"Ateliers; sport";"jeunes\r\n16-25 ans"\r\n'
        'A2;"Dire ""bonjour""";adultes\r\n'
        'A3;simple;"sur\ntrois\nlignes"\r\n'
        'A4;fin;x\r\n'
    )
    t = read_table(text.encode(), "x.csv")
    assert t.delimiter == ";"
    assert [line for line, _ in t.rows] == [2, 3, 4, 5]
    assert t.rows[0][1] == ["A1", "Ateliers; sport", "jeunes\r\n16-25 ans"]
    assert t.rows[1][1] == ["A2", 'Dire "bonjour"', "adultes"]
    assert t.rows[2][1][2] == "sur\ntrois\nlignes"
    assert t.rows[3] == (5, ["A4", "fin", "x"])


def test_empty_lines_keep_spreadsheet_line_numbers():
    text = "\n;;\n  \nannee;valeur\n2023;1\n\n;\n2024;2\n\n"
    t = read_table(text.encode(), "x.csv")
    assert t.header_line == 4
    assert t.header == ["annee", "valeur"]
    assert t.rows == [(5, ["2023", "1"]), (8, ["2024", "2"])]


def test_trailing_empty_columns_dropped_and_short_long_rows_kept():
    text = "a;b;;;\n1;2;;;\n3;;;;\n4;5;6;;\n \u00a0x\u00a0 ; y \n"
    t = read_table(text.encode(), "x.csv")
    assert t.header == ["a", "b"]
    assert t.rows == [(2, ["1", "2"]), (3, ["3", ""]), (4, ["4", "5", "6"]), (5, ["x", "y"])]


def test_row_with_fewer_cells_is_kept_short():
    t = read_table(b"a;b;c\n1;2\n", "x.csv")
    assert t.rows == [(2, ["1", "2"])]


def test_excel_sep_directive_line_is_not_a_row():
    t = read_table(b"sep=,\na,b\n1;2,3\n", "x.csv")
    assert t.delimiter == ","
    assert t.header_line == 1
    assert t.rows == [(2, ["1;2", "3"])]


def test_truncated_file_does_not_crash():
    t = read_table(b'a;b;c\n1;2;3\n4;"cinq\n', "x.csv")
    assert t.rows[0] == (2, ["1", "2", "3"])
    assert t.rows[1][0] == 3
    assert len(t.rows[1][1]) < 3  # the validator flags it by its cell count


def test_utf8_cut_in_the_middle_of_a_character_stays_utf8():
    data = "a;b\n1;Été".encode()[:-1]
    t = read_table(data, "x.csv")
    assert t.encoding == "utf-8"
    assert t.rows[0][1][1].startswith("Ét")


def test_invalid_cp1252_bytes_fall_back_to_latin1():
    t = read_table(b"a;b\n1;\x81x\n", "x.csv")
    assert t.encoding == "latin-1"
    assert t.rows == [(2, ["1", "\x81x"])]


# ------------------------------------------------------------------------------------------------
# xlsx
# ------------------------------------------------------------------------------------------------


def _xlsx(sheets: dict[str, list[list[object]]]) -> bytes:
    openpyxl = pytest.importorskip("openpyxl")
    wb = openpyxl.Workbook()
    wb.remove(wb.active)
    for title, rows in sheets.items():
        ws = wb.create_sheet(title)
        for r, row in enumerate(rows, start=1):
            for c, value in enumerate(row, start=1):
                if value is not None:
                    ws.cell(row=r, column=c, value=value)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def test_xlsx_values_and_line_numbers():
    data = _xlsx({
        "Feuil1": [
            [None],
            ["action_id", "Année", "montant", "nouvelle", "date", None, None],
            ["A1", 2023, 12337.5, True, dt.datetime(2023, 3, 1), None],
            [None, None],
            ["A2", 2024.0, 0.1, False, dt.date(2024, 12, 31)],
            ["A3", 7, 1e-05, None, dt.datetime(2024, 1, 2, 14, 30)],
            ["A4", 10**15 + 1, 123456789.123, None, None, None, "extra"],
        ]
    })
    t = read_table(data, "programmation.csv")  # content decides, not the extension
    assert t.encoding is None and t.delimiter is None
    assert t.sheet == "Feuil1"
    assert t.header_line == 2
    assert t.header == ["action_id", "Année", "montant", "nouvelle", "date"]
    assert t.rows[0] == (3, ["A1", "2023", "12337.5", "vrai", "2023-03-01"])
    assert t.rows[1] == (5, ["A2", "2024", "0.1", "faux", "2024-12-31"])
    assert t.rows[2] == (6, ["A3", "7", "0.00001", "", "2024-01-02 14:30:00"])
    assert t.rows[3] == (7, ["A4", str(10**15 + 1), "123456789.123", "", "", "", "extra"])
    for _, cells in t.rows:
        assert parse_int(cells[1]) in (2023, 2024, 7, 10**15 + 1)
    assert parse_number(t.rows[2][1][2]) == 1e-05
    assert parse_number(t.rows[3][1][2]) == 123456789.123
    assert parse_bool(t.rows[0][1][3]) is True and parse_bool(t.rows[1][1][3]) is False


def test_xlsx_sheet_hint_picks_named_sheet():
    data = _xlsx({
        "Notice": [["Lisez-moi"]],
        "Financements": [["action_id", "financeur"], ["A1", "caf"]],
    })
    assert read_table(data, "f.xlsx").sheet == "Notice"
    t = read_table(data, "f.xlsx", sheet_hint="financements")
    assert t.sheet == "Financements"
    assert t.rows == [(2, ["A1", "caf"])]
    assert read_table(data, "f.xlsx", sheet_hint="absente").sheet == "Notice"


def test_xlsx_empty_sheet_is_empty():
    with pytest.raises(UnreadableFile) as err:
        read_table(_xlsx({"Feuil1": [[None]]}), "vide.xlsx")
    assert err.value.message == "Le fichier « vide.xlsx » est vide."


def test_broken_xlsx_is_unreadable():
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "<Types/>")
        zf.writestr("xl/workbook.xml", "pas du xml")
    with pytest.raises(UnreadableFile) as err:
        read_table(buf.getvalue(), "x.xlsx")
    assert "classeur Excel" in err.value.message


# ------------------------------------------------------------------------------------------------
# Not a table
# ------------------------------------------------------------------------------------------------


def _zip(name: str) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr(name, "contenu")
    return buf.getvalue()


@pytest.mark.parametrize(
    ("data", "looks_like"),
    [
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n1 0 obj\n", "un PDF"),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR", "une image"),
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", "une image"),
        (b"GIF89a\x01\x00", "une image"),
        (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 100, "un ancien classeur Excel (.xls)"),
        (_zip("notes.txt"), "une archive ZIP"),
        (_zip("word/document.xml"), "un document Word"),
        (b"a;b\n\x00\x01\x02\x03binaire", "un fichier binaire"),
        (bytes(range(1, 9)) * 50, "un fichier binaire"),
        (b"<html><body><table><tr><td>a</td></tr></table>", "une page web (HTML)"),
    ],
)
def test_not_a_table(data, looks_like):
    with pytest.raises(UnreadableFile) as err:
        read_table(data, "C:\\Users\\moi\\x.csv")
    assert err.value.message.startswith(
        f"Le fichier « x.csv » n'est pas un tableau CSV ou Excel : il ressemble à {looks_like}"
    )
    assert str(err.value) == err.value.message


def test_pdf_message_exact():
    with pytest.raises(UnreadableFile) as err:
        read_table(b"%PDF-1.4 ...", "x.csv")
    assert err.value.message == "Le fichier « x.csv » n'est pas un tableau CSV ou Excel : il ressemble à un PDF."


@pytest.mark.parametrize("data", [b"", b"\xef\xbb\xbf", b"\r\n\r\n  \n", b";;;\n;\n"])
def test_empty_file(data):
    with pytest.raises(UnreadableFile) as err:
        read_table(data, "x.csv")
    assert err.value.message == "Le fichier « x.csv » est vide."


def test_too_big():
    with pytest.raises(UnreadableFile) as err:
        read_table(b"a;b\n" + b"1;2\n" * 75_000, "gros.csv", max_bytes=200_000)
    assert err.value.message == "Le fichier « gros.csv » est trop volumineux (0,3 Mo) : la limite est de 0,2 Mo."
    with pytest.raises(UnreadableFile) as err:
        read_table(b"x" * 50_000_001, "gros.csv")
    assert "(50,1 Mo)" in err.value.message and "50 Mo." in err.value.message


def test_returns_raw_table():
    assert isinstance(read_table(b"a\n1\n", "x.csv"), RawTable)


# ------------------------------------------------------------------------------------------------
# Parsers
# ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("12337.5", 12337.5),
        ("12337,5", 12337.5),
        ("12 337,50", 12337.5),
        ("12 337,50 €", 12337.5),
        ("12\u00a0337,50\u00a0€", 12337.5),
        ("12\u202f337,50\u202f€", 12337.5),
        ("1\u202f234\u202f567", 1234567.0),
        ("12.337,50", 12337.5),
        ("1.234.567", 1234567.0),
        ("1,234.5", 1234.5),
        ("1,234,567", 1234567.0),
        ("1,234", 1.234),  # a single ',' is the decimal mark
        ("12.337", 12.337),  # a single '.' too
        ("-12 337,50 €", -12337.5),
        ("\u221212,5", -12.5),
        ("+3", 3.0),
        ("-0,5", -0.5),
        (",5", 0.5),
        ("12,5 %", 12.5),
        ("€12", 12.0),
        ("  42  ", 42.0),
        ("0", 0.0),
        ("1,5E+03", 1500.0),
        ("0.00001", 1e-05),
        ("123456789.123", 123456789.123),
    ],
)
def test_parse_number(text, expected):
    assert parse_number(text) == expected


@pytest.mark.parametrize(
    "text",
    ["", " ", "abc", "12,3,4", "1 2 3,4,5", "12 34", "1.2.3", "1,23.4", "--1", "+-1", "€", "%", "-", ",",
     "12,", "1e99999", "nan", "inf", "12 €€", "١٢", "12a", "1 234 5678", "1e400"],
)
def test_parse_number_rejects(text):
    with pytest.raises(ValueError, match="n'est pas un nombre"):
        parse_number(text)


def test_parse_int():
    assert parse_int("2023") == 2023
    assert parse_int("1 234") == 1234
    assert parse_int("12,0") == 12
    assert parse_int("-7") == -7
    assert parse_int("12345678901234567") == 12345678901234567  # exact beyond float precision
    with pytest.raises(ValueError, match="entier"):
        parse_int("12,5")
    with pytest.raises(ValueError):
        parse_int("")


@pytest.mark.parametrize(
    ("text", "expected"),
    [("oui", True), ("OUI", True), (" Oui ", True), ("o", True), ("vrai", True), ("VRAI", True), ("1", True),
     ("true", True), ("True", True), ("x", True), ("X", True),
     ("non", False), ("N", False), ("faux", False), ("0", False), ("false", False), ("FALSE", False),
     ("", None), ("  ", None), ("\u00a0", None)],
)
def test_parse_bool(text, expected):
    assert parse_bool(text) is expected


@pytest.mark.parametrize("text", ["peut-être", "2", "oui non", "yes?", "10"])
def test_parse_bool_rejects(text):
    with pytest.raises(ValueError):
        parse_bool(text)


@pytest.mark.parametrize(
    ("text", "expected"),
    [("N° dossier", "ndossier"), ("Nº dossier", "ndossier"), ("Année", "annee"), ("montant_accordé", "montantaccorde"),
     ("Montant accordé", "montantaccorde"), ("porteur-siret", "porteursiret"), ("  ANNÉE  ", "annee"),
     ("nb. bénéficiaires", "nbbeneficiaires"), ("l'intitulé", "lintitule"), ("l’intitulé", "lintitule"),
     ("Cœur", "coeur"), ("code_qpv", "codeqpv")],
)
def test_normalize_name(text, expected):
    assert normalize_name(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [("Accordée", "accordee"), ("Droit commun", "droit_commun"), ("droit_commun", "droit_commun"),
     ("Connexion dynamique", "connexion_dynamique"), ("  Cohésion  dynamique ", "cohesion_dynamique"),
     ("Établissement public", "etablissement_public"), ("Quartiers d'été", "quartiers_d_ete"),
     ("Adultes-relais", "adultes_relais"), ("_x_", "x"), ("2.1", "2.1"), ("Santé", "sante")],
)
def test_normalize_choice(text, expected):
    assert normalize_choice(text) == expected
