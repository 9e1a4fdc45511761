"""Bytes of an uploaded file → a raw table of strings, plus the value parsers.

This module knows nothing about upload kinds: it turns whatever staff upload (CSV from French Excel,
UTF-8 exports, .xlsx workbooks) into a `RawTable` whose line numbers are the ones a person sees in a
spreadsheet, and it refuses, with a plain-French sentence, anything that is not a table.
It never imports streamlit.
"""

from __future__ import annotations

import csv
import datetime as _dt
import io
import math
import os
import re
import unicodedata
import warnings
import zipfile
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from typing import Any

__all__ = [
    "Budget",
    "LIMITES",
    "Limites",
    "limites_en_vigueur",
    "resume_limites",
    "RawTable",
    "UnreadableFile",
    "normalize_choice",
    "normalize_name",
    "parse_amount",
    "parse_bool",
    "parse_int",
    "parse_number",
    "limites_for",
    "read_header",
    "read_table",
]


class UnreadableFile(Exception):
    """The file cannot be read as a table. .message is a plain-French sentence for the user."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


@dataclass
class RawTable:
    """A table as written in the file: strings only, no interpretation of columns."""

    header: list[str]  # header cells as written (trailing empty columns dropped)
    header_line: int  # spreadsheet line of the header (1-based)
    rows: list[tuple[int, list[str]]]  # (spreadsheet line, stripped cells); empty lines skipped
    encoding: str | None  # 'utf-8', 'utf-8-sig', 'cp1252', 'latin-1' (last resort) or None for xlsx
    delimiter: str | None  # ';' ',' '\t' or None for xlsx
    sheet: str | None  # sheet name for xlsx, None for CSV
    other_sheets: list[str] = field(default_factory=list)  # the workbook's other sheets (not read)
    hidden_sheets: list[str] = field(default_factory=list)  # the workbook's hidden sheets (never read)
    # A CSV file's rows as wide as the header, column by column (compact Arrow strings, see `_ColumnStore`):
    # `rows` is then a view built on demand, and the importer reads these columns whole.
    store: _ColumnStore | None = None


# ---------------------------------------------------------------------------------------------------
# Limits: what any reader (CSV, xlsx, and the map readers of cdv_core.contours) accepts at most
# ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Limites:
    """The most a file may hold; a reader checks them while streaming, before anything big is allocated.

    Sized so that checking the worst file stays well under 1 Go of memory (see benchmarks/memory_reading.py):
    200 000 rows of 15 columns is about ten times the programmation of every contract of France for a year.
    """

    octets: int = 50_000_000  # size of the uploaded file
    lignes: int = 200_000  # non-empty rows of the table
    lignes_brutes: int = 300_000  # rows of the sheet, empty ones included (an xlsx may declare a million)
    colonnes: int = 200  # a filled cell beyond this column is refused (an xlsx may use up to XFD = 16 384)
    cellule: int = 32_767  # characters in one cell (Excel's own limit)
    cellules: int = 4_000_000  # non-empty cells in the whole table
    caracteres: int = 120_000_000  # characters in the whole table
    decompresse: int = 600_000_000  # uncompressed bytes of every part of an xlsx (or any zip) together
    chaines: int = 100_000_000  # uncompressed bytes of an xlsx's shared strings (held in memory)
    objets: int = 200_000  # features of a map file (Shapefile, GeoJSON)
    points: int = 20_000_000  # coordinates of a map file


LIMITES = Limites()  # the defaults; what applies is `limites_en_vigueur()` (environment variables CDV_LIMITE_…)

ENV_PREFIX = "CDV_LIMITE_"  # CDV_LIMITE_LIGNES=500000 raises the row limit; one variable per field of Limites


def limites_en_vigueur() -> Limites:
    """The limits in force: each field of `Limites` from the environment variable `CDV_LIMITE_<FIELD>` (a
    positive whole number, `_` or spaces allowed as separators) when it is set and valid, else its default.

    Read at every call, so a change of the environment applies to the next file read (no restart in tests)."""
    values = {}
    for name in Limites.__dataclass_fields__:
        raw = os.environ.get(ENV_PREFIX + name.upper(), "").strip().replace("_", "").replace(" ", "")
        if raw.isdigit() and int(raw) > 0:
            values[name] = int(raw)
    return replace(LIMITES, **values) if values else LIMITES


def resume_limites(lim: Limites | None = None) -> str:
    """The limits in force as one French sentence, for the import page."""
    lim = lim or limites_en_vigueur()
    return (f"Limites de lecture en vigueur : {_n(lim.lignes)} lignes, {_n(lim.colonnes)} colonnes, "
            f"{_n(lim.cellule)} caractères par cellule, {_n(lim.cellules)} cellules remplies et "
            f"{_mo(lim.decompresse)} décompressés au plus par fichier.")


def _n(value: int) -> str:
    """`1 000 000` with narrow no-break spaces."""
    return f"{value:,}".replace(",", "\u202f")


def _lettre(col: int) -> str:
    """Spreadsheet letters of a 1-based column number (1 → A, 16384 → XFD)."""
    out = ""
    while col > 0:
        col, rem = divmod(col - 1, 26)
        out = chr(65 + rem) + out
    return out


class Budget:
    """Counts what a reader has produced so far and raises UnreadableFile (French) past a limit.

    One Budget per file read. Readers call `colonne` for each filled cell's position before storing it,
    `ligne` for each non-empty row kept, `brute` for each row met (empty or not), and map readers `objet`
    and `points`; `octets` checks a size announced before reading (file, zip member).
    """

    def __init__(self, name: str, limites: Limites | None = None):
        self.name = name
        self.limites = limites or limites_en_vigueur()
        self.n_lignes = 0
        self.n_brutes = 0
        self.n_cellules = 0
        self.n_caracteres = 0
        self.n_objets = 0
        self.n_points = 0

    def _refus(self, what: str) -> UnreadableFile:
        return UnreadableFile(f"Le fichier « {self.name} » est trop grand pour être importé : {what}. "
                              "Découpez-le en plusieurs fichiers ou retirez ce qui dépasse.")

    def octets(self, n: int, what: str = "le fichier", limite: int | None = None) -> None:
        limite = self.limites.octets if limite is None else limite
        if n > limite:
            raise self._refus(f"{what} fait {_mo(n, above=limite)}, la limite est de {_mo(limite)}")

    def brute(self, line: int) -> None:
        self.n_brutes += 1
        if self.n_brutes > self.limites.lignes_brutes or line > self.limites.lignes_brutes:
            raise self._refus(f"la feuille compte plus de {_n(self.limites.lignes_brutes)} lignes")

    def colonne(self, line: int, col: int) -> None:
        if col > self.limites.colonnes:
            raise self._refus(
                f"la ligne {line} a une cellule remplie en colonne {_lettre(col)} (colonne n° {col}), "
                f"au-delà de la colonne {_lettre(self.limites.colonnes)} (n° {self.limites.colonnes}), "
                "la dernière lue")

    def ligne(self, line: int, cells: list[str]) -> None:
        self.n_lignes += 1
        if self.n_lignes > self.limites.lignes:
            raise self._refus(f"il compte plus de {_n(self.limites.lignes)} lignes")
        if len(cells) > self.limites.colonnes:
            last = max(i for i, c in enumerate(cells) if c) + 1
            self.colonne(line, last)
        for idx, cell in enumerate(cells):
            if len(cell) > self.limites.cellule:
                raise self._refus(
                    f"la cellule de la ligne {line}, colonne {_lettre(idx + 1)}, compte {_n(len(cell))} caractères "
                    f"(limite : {_n(self.limites.cellule)})")
            if cell:
                self.n_cellules += 1
                self.n_caracteres += len(cell)
        if self.n_cellules > self.limites.cellules:
            raise self._refus(f"il compte plus de {_n(self.limites.cellules)} cellules remplies")
        if self.n_caracteres > self.limites.caracteres:
            raise self._refus(
                f"ses cellules comptent plus de {_n(self.limites.caracteres)} caractères")

    def objet(self, n: int = 1) -> None:
        self.n_objets += n
        if self.n_objets > self.limites.objets:
            raise self._refus(f"il compte plus de {_n(self.limites.objets)} formes")

    def points(self, n: int) -> None:
        self.n_points += n
        if self.n_points > self.limites.points:
            raise self._refus(f"ses formes comptent plus de {_n(self.limites.points)} points")


# ---------------------------------------------------------------------------------------------------
# Normalisation keys
# ---------------------------------------------------------------------------------------------------

# Ligatures are not decomposed by NFKD, and people do type "œ" in headers and labels.
_LIGATURES = str.maketrans({"œ": "oe", "æ": "ae", "ß": "ss"})
# "º" (ordinal indicator) is what Word/Excel autocorrect often puts in "Nº"; NFKD would turn it into "o".
_NAME_DROP = re.compile(r"[\s_\-°º'’‘`.–—]+")
_CHOICE_SEP = re.compile(r"[\s\-'’‘`_–—]+")


def _fold(s: str) -> str:
    """Return `s` lower-cased with accents and ligatures removed."""
    s = s.lower().translate(_LIGATURES)
    s = s.replace("º", "°")  # keep the ordinal sign from decomposing into a letter
    decomposed = unicodedata.normalize("NFKD", s)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def normalize_name(s: str) -> str:
    """Return the header matching key: lower, no accents, no spaces/_/-/°/'/. ("N° dossier" -> "ndossier")."""
    return _NAME_DROP.sub("", _fold(s or ""))


def normalize_choice(s: str) -> str:
    """Return the listed-value matching key: lower, no accents, runs of spaces/-/'/_ -> "_", no edge "_"."""
    return _CHOICE_SEP.sub("_", _fold((s or "").strip())).strip("_")


# ---------------------------------------------------------------------------------------------------
# Value parsers
# ---------------------------------------------------------------------------------------------------

# Normal, no-break, narrow no-break, thin and figure spaces: all used as French thousands separators.
_SP = " \u00a0\u202f\u2009\u2007"
_SP_CLASS = "[" + _SP + "]"
_NUMBER_FORMS = [
    # plain: 12337.5 / 12337,5 / ,5 / 1,5E+03 (a single ',' or '.' is always the decimal mark)
    re.compile(r"(?P<int>\d*)(?:[.,](?P<dec>\d+))?(?:[eE](?P<exp>[+-]?\d{1,3}))?", re.ASCII),
    # space-grouped: 12 337,50 / 1 234 567 / 12 337.5
    re.compile(r"(?P<int>\d{1,3}(?:" + _SP_CLASS + r"\d{3})+)(?:[.,](?P<dec>\d+))?", re.ASCII),
    # dot-grouped then comma decimal: 12.337,50 / 1.234.567 (two groups at least without a decimal)
    re.compile(r"(?P<int>\d{1,3}(?:\.\d{3})+),(?P<dec>\d+)", re.ASCII),
    re.compile(r"(?P<int>\d{1,3}(?:\.\d{3}){2,})", re.ASCII),
    # comma-grouped then dot decimal (English): 1,234.5 / 1,234,567 (two groups at least without a decimal)
    re.compile(r"(?P<int>\d{1,3}(?:,\d{3})+)\.(?P<dec>\d+)", re.ASCII),
    re.compile(r"(?P<int>\d{1,3}(?:,\d{3}){2,})", re.ASCII),
]


def _number_text(s: str) -> str:
    """Return `s` rewritten as a plain Python decimal literal ("-12337.50"), or raise ValueError."""
    original = s
    t = (s or "").strip().strip(_SP)
    sign = ""
    if t[:1] in ("-", "+", "\u2212"):  # U+2212 is the typographic minus French typesetting uses
        sign = "" if t[0] == "+" else "-"
        t = t[1:].strip(_SP)
    if t.endswith(("€", "%")):
        t = t[:-1].strip(_SP)
    elif t.startswith("€"):
        t = t[1:].strip(_SP)
    for form in _NUMBER_FORMS:
        m = form.fullmatch(t)
        if m is None:
            continue
        whole = re.sub(r"[^0-9]", "", m.group("int"))
        dec = m.groupdict().get("dec") or ""
        if not whole and not dec:
            break  # nothing but a separator or an exponent
        exp = m.groupdict().get("exp")
        text = sign + (whole or "0") + ("." + dec if dec else "") + ("e" + exp if exp else "")
        return text
    raise ValueError(f"« {original} » n'est pas un nombre.")


def parse_number(s: str) -> float:
    """Return the number written in `s` as a float; raise ValueError (French message) if it is not one.

    Accepts "12337.5", "12 337,50", "12 337,50 €", "12.337,50", "1,234.5", "-3", "+3", "12,5 %", "1,5E+03",
    with normal, no-break (U+00A0) or narrow no-break (U+202F) spaces between groups of three digits.
    A single ',' or '.' is the decimal mark ("1,234" = 1.234, "12.337" = 12.337); '.' groups followed by
    ',' (or ',' groups followed by '.') are thousands. "%" is dropped, the value is not divided by 100.
    """
    value = float(_number_text(s))
    if not math.isfinite(value):
        raise ValueError(f"« {s} » n'est pas un nombre.")
    return value + 0.0  # -0 becomes 0


class AmountError(ValueError):
    """An amount written in a way an amount is never written (%, exponent); `.message` says so in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


def parse_amount(s: str) -> float:
    """Return the amount in euros written in `s`, like parse_number but stricter.

    Refused (AmountError, a ValueError): a percentage ("12,5 %" is not 12,50 €), scientific notation ("1e9",
    "1,5E+03"), anything non-finite; other unreadable text raises ValueError like parse_number. "-0" is 0.
    """
    t = (s or "").strip().strip(_SP)
    if "%" in t:
        raise AmountError(f"« {s} » est un pourcentage, pas un montant en euros.")
    if re.search(r"\d[eE][+-]?\d", t):
        raise AmountError(f"« {s} » est écrit en notation scientifique : écrivez le montant en chiffres.")
    return parse_number(t)


def parse_int(s: str) -> int:
    """Return the integer written in `s` ("1 234", "2023", "12,0"); raise ValueError if not integral."""
    text = _number_text(s)
    try:
        value = Decimal(text)  # exact, so 14-digit SIRET-like numbers or huge counts keep every digit
    except InvalidOperation as exc:  # pragma: no cover - _number_text only returns valid literals
        raise ValueError(f"« {s} » n'est pas un nombre.") from exc
    if not value.is_finite() or value != value.to_integral_value():
        raise ValueError(f"« {s} » n'est pas un nombre entier.")
    return int(value)


_TRUE = {"oui", "o", "vrai", "1", "true", "x"}
_FALSE = {"non", "n", "faux", "0", "false"}


def parse_bool(s: str) -> bool | None:
    """Return True/False for oui/non, o/n, vrai/faux, 1/0, true/false, x; None for an empty cell.

    Case and accents are ignored; anything else raises ValueError (French message).
    """
    key = _fold((s or "").strip().strip(_SP))
    if key == "":
        return None
    if key in _TRUE:
        return True
    if key in _FALSE:
        return False
    raise ValueError(f"« {s} » n'est pas une valeur oui/non (attendu : oui, non, vrai, faux, 1, 0 ou x).")


# ---------------------------------------------------------------------------------------------------
# Reading a file
# ---------------------------------------------------------------------------------------------------

_DELIMITERS = (";", ",", "\t")  # order = tie-break: French Excel writes ';'
_SNIFF_RECORDS = 50
_CONTROL_BYTES = frozenset(range(0x00, 0x20)) - {0x09, 0x0A, 0x0C, 0x0D} | {0x7F}


def _display_name(filename: str) -> str:
    """Return the last path component of `filename` (the CLI passes paths, people know file names)."""
    name = (filename or "").replace("\\", "/").rsplit("/", 1)[-1]
    return name or (filename or "sans nom")


def _not_a_table(name: str, looks_like: str) -> UnreadableFile:
    """Return the error for a file whose content is something else than a table."""
    return UnreadableFile(f"Le fichier « {name} » n'est pas un tableau CSV ou Excel : il ressemble à {looks_like}.")


def _mo(n: int, above: int | None = None) -> str:
    """Return a byte count in Mo (10^6) with a French decimal comma; shown above `above` bytes if given."""
    tenths = round(n / 100_000)
    if above is not None and tenths * 100_000 <= above:
        tenths = above // 100_000 + 1  # never print "50 Mo is over the 50 Mo limit"
    text = f"{tenths // 10}" if tenths % 10 == 0 else f"{tenths // 10},{tenths % 10}"
    return f"{text} Mo"


def _zip_kind(data: bytes) -> str:
    """Return 'xlsx', or a French description of what this zip archive is."""
    try:
        with zipfile.ZipFile(io.BytesIO(data)) as zf:
            names = set(zf.namelist())
            mimetype = b""
            if "mimetype" in names:
                mimetype = zf.read("mimetype")[:200]
    except (zipfile.BadZipFile, OSError, ValueError, KeyError, RuntimeError, NotImplementedError):
        return "une archive ZIP abîmée ou incomplète"
    if b"opendocument.spreadsheet" in mimetype:
        return "un classeur LibreOffice (.ods) ; enregistrez-le au format .xlsx ou CSV"
    if b"opendocument" in mimetype:
        return "un document LibreOffice"
    has_xl = any(n.startswith("xl/") for n in names)
    if "[Content_Types].xml" in names and has_xl:
        if "xl/workbook.bin" in names:
            return "un classeur Excel binaire (.xlsb) ; enregistrez-le au format .xlsx ou CSV"
        return "xlsx"
    if any(n.startswith("word/") for n in names):
        return "un document Word"
    if any(n.startswith("ppt/") for n in names):
        return "une présentation PowerPoint"
    return "une archive ZIP"


def _sniff_binary(data: bytes) -> str | None:
    """Return a French description of what `data` looks like if it is not text, else None."""
    head = data[:16]
    if head.startswith(b"PK\x03\x04") or head.startswith(b"PK\x05\x06"):
        return _zip_kind(data)
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # OLE2 container: legacy .xls/.doc, and also any password-protected .xlsx
        return ("un ancien classeur Excel (.xls) ou un classeur protégé par mot de passe ; "
                "enregistrez-le au format .xlsx ou CSV, sans mot de passe")
    if head.startswith(b"%PDF"):
        return "un PDF"
    if head.startswith(b"\x89PNG") or head.startswith(b"\xff\xd8\xff") or head.startswith(b"GIF8"):
        return "une image"
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        # Excel's "Texte Unicode" export: UTF-16 is not among the accepted encodings of FORMATS.md
        return "un texte Unicode (UTF-16) ; enregistrez-le au format « CSV UTF-8 » ou .xlsx"
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf", b"Rar!")):
        return "une archive compressée"
    if head.startswith(b"{\\rtf"):
        return "un document RTF"
    sample = data[:65536]
    if b"\x00" in sample:
        return "un fichier binaire"
    controls = sum(1 for b in sample if b in _CONTROL_BYTES)
    if controls >= 4 and controls > 0.02 * len(sample):
        return "un fichier binaire"
    start = sample.lstrip(b"\xef\xbb\xbf \t\r\n")[:400].lower()
    if start.startswith((b"<!doctype html", b"<html", b"<table")):
        # some web tools export an HTML table under a .xls name
        return "une page web (HTML) ; ouvrez-le dans Excel puis enregistrez-le au format .xlsx ou CSV"
    if start.startswith(b"<?xml"):
        if b"urn:schemas-microsoft-com:office:spreadsheet" in sample:
            return "un classeur « XML 2003 » ; enregistrez-le au format .xlsx ou CSV"
        return "un document XML"
    return None


def _lines_list(numbers: list[int], limit: int = 8) -> str:
    shown = ", ".join(str(n) for n in numbers[:limit])
    return shown + (" …" if len(numbers) > limit else "")


def _mixed_encodings(body: bytes, name: str) -> None:
    """Raise UnreadableFile naming the lines when some lines are UTF-8 and others are not (cp1252, latin-1).

    Such a file (two exports pasted together) would otherwise import with garbled accents on one kind of line.
    """
    utf8, other = [], []
    for n, line in enumerate(body.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
        except UnicodeDecodeError:
            other.append(n)
        else:
            utf8.append(n)
    if utf8 and other:
        raise UnreadableFile(
            f"Le fichier « {name} » mélange deux encodages de caractères : les lignes {_lines_list(utf8)} sont en "
            f"UTF-8, les lignes {_lines_list(other)} en Windows-1252 (ANSI) ; les accents seraient abîmés. "
            "Ouvrez-le dans un tableur, corrigez les accents puis enregistrez-le au format « CSV UTF-8 ».")


def _decode(data: bytes, name: str = "") -> tuple[str, str]:
    """Return (text, encoding) trying UTF-8 with BOM, UTF-8, cp1252, then latin-1.

    A file whose lines mix UTF-8 and another encoding is refused (UnreadableFile naming the lines).
    """
    if data.startswith(b"\xef\xbb\xbf"):
        body, encoding = data[3:], "utf-8-sig"
    else:
        body, encoding = data, "utf-8"
    try:
        return body.decode("utf-8"), encoding
    except UnicodeDecodeError as exc:
        # a file cut in the middle of a multi-byte character is still UTF-8: keep all but the broken tail
        if exc.start >= len(body) - 3 and exc.reason == "unexpected end of data":
            return body[: exc.start].decode("utf-8", errors="replace"), encoding
        _mixed_encodings(body, name)
        if encoding == "utf-8-sig":
            return body.decode("utf-8", errors="replace"), encoding
    try:
        return data.decode("cp1252"), "cp1252"
    except UnicodeDecodeError:
        return data.decode("latin-1"), "latin-1"


def _clean(cell: object) -> str:
    """Return a CSV cell stripped of surrounding spaces, no-break spaces, BOMs and zero-width spaces."""
    return str(cell).strip().strip("\ufeff\u200b").strip()


def _trim(cells: list[str], width: int) -> list[str]:
    """Return `cells` without trailing empty cells beyond `width` (width 0 = drop every trailing empty)."""
    end = len(cells)
    while end > width and cells[end - 1] == "":
        end -= 1
    return cells[:end]


# Universal line ends, as io.StringIO(newline="") splits them (\r\n, \r or \n, kept at the end of the line).
_LINE = re.compile(r"[^\r\n]*(?:\r\n|\r|\n)|[^\r\n]+\Z")


def _lines(text: str):
    """Yield the lines of `text` with their line ends, one at a time (never a copy of the whole text)."""
    return (m.group() for m in _LINE.finditer(text))


def _records(text: str, delimiter: str):
    """Yield the CSV records of `text` (lists of raw cells; [] for an empty line)."""
    return csv.reader(_lines(text), delimiter=delimiter, quotechar='"', doublequote=True, strict=False)


def _delimiter_score(text: str, delimiter: str) -> tuple[int, int, int]:
    """Return (header has >1 column, data rows as wide as the header, header width) over the first lines."""
    header: list[str] | None = None
    consistent = 0
    try:
        for n, rec in enumerate(_records(text, delimiter)):
            if n >= _SNIFF_RECORDS:
                break
            # a line of bare delimiters (";;;") is empty whichever delimiter is being tried
            if not _clean("".join(rec)).strip(";,\t \u00a0"):
                continue
            if header is None:
                header = rec
                continue
            consistent += len(rec) == len(header)  # Excel writes every row with the same number of delimiters
    except csv.Error:
        pass
    if header is None:
        return (0, 0, 0)
    width = len(_trim([_clean(c) for c in header], 0))
    return (int(width > 1), consistent, width)


def _longest_line_bytes(data: bytes, block: int = 1 << 24) -> int:
    """The length in bytes of the longest run without a line end (\\n or \\r) in `data`, block by block."""
    import numpy as np

    longest, run = 0, 0
    for start in range(0, len(data), block):
        arr = np.frombuffer(data, dtype=np.uint8, count=min(block, len(data) - start), offset=start)
        ends = np.flatnonzero((arr == 10) | (arr == 13))
        if len(ends) == 0:
            run += len(arr)
            continue
        longest = max(longest, run + int(ends[0]), int(np.diff(ends).max(initial=0)))
        run = len(arr) - int(ends[-1]) - 1
    return max(longest, run)


def _prescan(text: str, budget: Budget, data: bytes | None = None) -> None:
    """Refuse, before the CSV parser builds a record, a line holding far more cells than the column limit.

    The parser allocates a whole record at once: one line of 10 million ";" would be a list of 10 million cells.
    """
    most = budget.limites.colonnes * 50 + 1000  # generous: a quoted cell may hold delimiters of its own
    if len(text) <= most or (data is not None and _longest_line_bytes(data) <= most):
        return  # no line is long enough (a character is at least one byte): nothing to look at line by line
    for n, line in enumerate(io.StringIO(text, newline=""), start=1):
        if len(line) > most and max(line.count(d) for d in _DELIMITERS) > most:
            raise budget._refus(f"la ligne {n} compte plus de {_n(most)} séparateurs")


def _count_row(budget: Budget, line: int, cells: list[str]) -> None:
    """`budget.ligne(line, cells)`, in one pass over the lengths when no limit is reached (the usual case);
    past a limit, `Budget.ligne` itself raises, with its message."""
    lim = budget.limites
    lens = list(map(len, cells))
    filled = len(lens) - lens.count(0)
    chars = sum(lens)
    if (budget.n_lignes >= lim.lignes or len(cells) > lim.colonnes or (lens and max(lens) > lim.cellule)
            or budget.n_cellules + filled > lim.cellules or budget.n_caracteres + chars > lim.caracteres):
        budget.ligne(line, cells)
        return
    budget.n_lignes += 1
    budget.n_cellules += filled
    budget.n_caracteres += chars


_CHUNK_ROWS = 65_536


class _ColumnStore:
    """The rows of a table as wide as its header, stored column by column as Arrow strings, with their lines.

    A Python list of lists holds about 60 bytes per cell; an Arrow string column holds the characters and an
    offset. Rows arrive one by one and are packed every `_CHUNK_ROWS` rows.
    """

    def __init__(self, width: int):
        self.width = width
        self._chunks: list[list] = [[] for _ in range(width)]
        self._line_chunks: list = []
        self._buf: list[list[str]] = []
        self._buf_lines: list[int] = []
        self.columns: list = []  # pyarrow ChunkedArray (large_string) per position, once closed
        self.lines: Any = None  # numpy int64 array of spreadsheet lines, once closed
        self.others: list[tuple[int, list[str]]] = []  # rows narrower or wider than the header, as lists

    def add(self, line: int, cells: list[str]) -> None:
        self._buf.append(cells)
        self._buf_lines.append(line)
        if len(self._buf) >= _CHUNK_ROWS:
            self._flush()

    def _flush(self) -> None:
        import numpy as np
        import pyarrow as pa

        if not self._buf:
            return
        for j, col in enumerate(zip(*self._buf, strict=True)):
            self._chunks[j].append(pa.array(list(col), type=pa.large_string()))  # a list: 15× faster than a tuple
        self._line_chunks.append(np.array(self._buf_lines, dtype=np.int64))
        self._buf, self._buf_lines = [], []

    def close(self) -> _ColumnStore:
        import numpy as np
        import pyarrow as pa

        self._flush()
        self.columns = [pa.chunked_array(chunks, type=pa.large_string()) for chunks in self._chunks]
        self.lines = np.concatenate(self._line_chunks) if self._line_chunks else np.zeros(0, dtype=np.int64)
        self._chunks, self._line_chunks = [], []
        return self

    def __len__(self) -> int:
        return 0 if self.lines is None else len(self.lines)


class _Rows(list):
    """`RawTable.rows` of a CSV read into a `_ColumnStore`: (line, cells) built on first use, in line order.

    A list (so `==`, `len`, indexing and iteration behave as before), filled the first time it is looked at.
    """

    def __init__(self, store: _ColumnStore, others: list[tuple[int, list[str]]]):
        super().__init__()
        self._store: _ColumnStore | None = store
        self._others = others

    def _fill(self) -> None:
        if self._store is None:
            return
        store, self._store = self._store, None
        columns = [c.to_pylist() for c in store.columns]
        regular = [(int(line), list(cells)) for line, cells in zip(store.lines.tolist(), zip(*columns, strict=True),
                                                                     strict=True)] if columns else \
            [(int(line), []) for line in store.lines.tolist()]
        merged = sorted(regular + self._others, key=lambda r: r[0]) if self._others else regular
        super().extend(merged)

    def __len__(self) -> int:
        if self._store is not None:
            return len(self._store) + len(self._others)
        return super().__len__()

    def __iter__(self):
        self._fill()
        return super().__iter__()

    def __getitem__(self, item):
        self._fill()
        return super().__getitem__(item)

    def __eq__(self, other) -> bool:
        self._fill()
        return list.__eq__(self, other)

    def __ne__(self, other) -> bool:
        return not self.__eq__(other)

    def __repr__(self) -> str:
        self._fill()
        return super().__repr__()

    __hash__ = None


# What str.strip() strips (every character whose str.isspace() is true), for Arrow's utf8_trim.
_PY_WHITESPACE = ("\t\n\x0b\x0c\r\x1c\x1d\x1e\x1f \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                  "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000")


def _read_plain_csv(text: str, delimiter: str, budget: Budget) -> tuple[list[str], int, _ColumnStore] | None:
    """(header, header line, store) of a CSV text read whole columns at a time, or None to read it record by
    record (`_read_csv`'s loop) because the text holds quotes, NULs, lone carriage returns, BOMs or zero-width
    spaces, or because a limit would be reached (the loop then says which, where).

    Without quotes a record is a line and its cells are the pieces between delimiters, so this gives exactly
    what the csv module and the loop give: same cells (stripped), same line numbers, same rows set aside.
    """
    import pyarrow as pa

    if any(ch in text for ch in ('"', "\x00", "\ufeff", "\u200b")) or text.count("\r") != text.count("\r\n"):
        return None
    return _read_plain_lines(pa.array([text], type=pa.large_string()), delimiter, budget)


def _read_plain_lines(whole, delimiter: str, budget: Budget) -> tuple[list[str], int, _ColumnStore] | None:
    """`_read_plain_csv` of a text already checked as plain, given as a one-element Arrow string array."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    lines = pc.split_pattern(whole, "\n").flatten()
    del whole
    blank = np.asarray(pc.equal(pc.utf8_trim(lines, characters=_PY_WHITESPACE + delimiter), "")
                       .to_numpy(zero_copy_only=False), dtype=bool)
    filled = np.flatnonzero(~blank)
    if len(filled) == 0:
        return None
    first = int(filled[0])
    header = _trim([c.strip() for c in lines[first].as_py().split(delimiter)], 0)
    budget.ligne(first + 1, header)
    width = len(header)
    rest = filled[1:]
    lim = budget.limites
    if len(rest) + budget.n_lignes > lim.lignes:
        return None
    store = _ColumnStore(width)
    chunks: list[list] = [[] for _ in range(width)]
    line_chunks = []
    irregular: list[tuple[int, str]] = []
    n_cells = n_chars = longest = 0
    for start in range(0, len(rest), _CHUNK_ROWS * 4):  # a block at a time: its copies stay small
        block = rest[start:start + _CHUNK_ROWS * 4]
        contiguous = block[-1] - block[0] + 1 == len(block)
        data_lines = lines.slice(int(block[0]), len(block)) if contiguous else lines.take(pa.array(block))
        counts = pc.add(pc.count_substring(data_lines, delimiter), 1).to_numpy(zero_copy_only=False)
        regular = counts == width
        line_chunks.append((block[regular] + 1).astype(np.int64))
        chosen = data_lines if regular.all() else data_lines.filter(pa.array(regular))
        parts = pc.split_pattern(chosen, delimiter)
        for j in range(width):
            col = pc.utf8_trim(pc.list_element(parts, j), characters=_PY_WHITESPACE).cast(pa.large_string())
            lengths = pc.utf8_length(col)
            n_cells += len(col) - int(pc.sum(pc.equal(lengths, 0)).as_py() or 0)
            n_chars += int(pc.sum(lengths).as_py() or 0)
            longest = max(longest, int(pc.max(lengths).as_py() or 0))
            chunks[j].append(col)
        irregular.extend((int(block[k]) + 1, data_lines[k].as_py()) for k in np.flatnonzero(~regular).tolist())
        del data_lines, parts, chosen
    store.columns = [pa.chunked_array(c, type=pa.large_string()) for c in chunks]
    store.lines = np.concatenate(line_chunks) if line_chunks else np.zeros(0, dtype=np.int64)
    del lines
    others: list[tuple[int, list[str]]] = []
    for number, text_line in irregular:
        cells = [c.strip() for c in text_line.split(delimiter)]
        others.append((number, cells if len(cells) == width else _trim(cells, width)))
    for _, row in others:
        lens = [len(c) for c in row]
        if len(row) > lim.colonnes or (lens and max(lens) > lim.cellule):
            return None
        n_cells += len(lens) - lens.count(0)
        n_chars += sum(lens)
    if (longest > lim.cellule or budget.n_cellules + n_cells > lim.cellules
            or budget.n_caracteres + n_chars > lim.caracteres):
        return None
    budget.n_lignes += len(rest)
    budget.n_cellules += n_cells
    budget.n_caracteres += n_chars
    store.others = others
    pa.default_memory_pool().release_unused()  # the copies made on the way go back to the system
    return header, first + 1, store


_PLAIN_BYTES_MIN = 1 << 20  # below, decoding the text into Python is cheap: the usual path reads it


def _utf8_plain_table(data: bytes, name: str, limites: Limites | None) -> RawTable | None:
    """The RawTable `_read_csv` gives for a large plain UTF-8 file (see `_read_plain_csv`), read straight from
    its bytes: no Python copy of the text (which, with one accented letter or no-break space, takes two or four
    bytes per character). None whenever the usual path must decide (another encoding, quotes, NULs, BOMs inside,
    zero-width spaces, lone carriage returns, a "sep=" line, a line long enough for `_prescan`, a limit reached):
    it then reads the file as before, with the same results and messages."""
    import pyarrow as pa

    if len(data) < _PLAIN_BYTES_MIN:
        return None
    bom = data.startswith(b"\xef\xbb\xbf")
    body = memoryview(data)[3:] if bom else memoryview(data)
    if (any(b in data for b in (b'"', b"\x00", b"\xe2\x80\x8b")) or data.find(b"\xef\xbb\xbf", 1) >= 0
            or data.count(b"\r") != data.count(b"\r\n") or bytes(body[:4]).lower() == b"sep="):
        return None
    budget = Budget(name, limites)
    if _longest_line_bytes(data) > budget.limites.colonnes * 50 + 1000:
        return None
    offsets = pa.py_buffer((0).to_bytes(8, "little") + len(body).to_bytes(8, "little"))
    whole = pa.Array.from_buffers(pa.large_string(), 1, [None, offsets, pa.py_buffer(body)])
    try:
        whole.validate(full=True)  # valid UTF-8 (what `_decode` tries first), without decoding into Python
    except pa.ArrowInvalid:
        return None
    # the delimiter, as `_read_csv` chooses it, from the first records (no quotes: a record is a line)
    end = -1
    for _ in range(_SNIFF_RECORDS + 1):
        end = data.find(b"\n", end + 1)
        if end < 0:
            break
    head = bytes(body[: end + 1 - (3 if bom else 0)]) if end >= 0 else bytes(body)
    text = head.decode("utf-8")
    delimiter = max(_DELIMITERS, key=lambda d: (_delimiter_score(text, d), -_DELIMITERS.index(d)))
    table = _read_plain_lines(whole, delimiter, Budget(name, budget.limites))
    if table is None:
        return None
    header, line, store = table
    return RawTable(header=header, header_line=line, rows=_Rows(store, store.others),
                    encoding="utf-8-sig" if bom else "utf-8", delimiter=delimiter, sheet=None, store=store)


def _read_csv(data: bytes, name: str, limites: Limites | None = None) -> RawTable:
    """Return the RawTable of a delimited text file.

    The text is parsed once, record by record; rows as wide as the header go to a `_ColumnStore` (compact
    columns), the others (too short, too long) stay as lists for the importer to name them.
    """
    fast = _utf8_plain_table(data, name, limites)
    if fast is not None:
        return fast
    budget = Budget(name, limites)
    text, encoding = _decode(data, name)
    if text.startswith("\ufeff"):
        text = text[1:]  # BOM written twice, or a UTF-8 BOM in a cp1252-looking file
    _prescan(text, budget, data)
    # Excel honours a first line "sep=;" and does not show it: follow it and do not count it as a row
    sep = re.match(r"sep=([;,\t|])[ \t]*(\r\n|\r|\n|$)", text[:16])
    if sep:
        delimiter = sep.group(1)
        text = text[sep.end():]
    else:
        delimiter = max(_DELIMITERS, key=lambda d: (_delimiter_score(text, d), -_DELIMITERS.index(d)))
    # a truncated quote swallows the rest of the file into one cell: let it through, the cell count flags it
    if csv.field_size_limit() < len(text) + 1:
        csv.field_size_limit(len(text) + 1)
    plain_table = _read_plain_csv(text, delimiter, Budget(name, budget.limites))
    if plain_table is not None:
        plain_header, plain_line, plain_store = plain_table
        return RawTable(header=plain_header, header_line=plain_line, rows=_Rows(plain_store, plain_store.others),
                        encoding=encoding, delimiter=delimiter, sheet=None, store=plain_store)
    # cells are stripped of spaces, and of BOMs and zero-width spaces only when the text holds any
    plain = "\ufeff" not in text and "\u200b" not in text
    header: list[str] | None = None
    header_line = 0
    store: _ColumnStore | None = None
    others: list[tuple[int, list[str]]] = []
    width = 0
    line = 0
    try:
        for line, rec in enumerate(_records(text, delimiter), start=1):
            cells = [c.strip() for c in rec] if plain else [_clean(c) for c in rec]
            if not any(cells):
                continue
            if header is None:
                header, header_line = _trim(cells, 0), line
                budget.ligne(line, header)
                width = len(header)
                store = _ColumnStore(width)
            elif store is not None:
                row = cells if len(cells) == width else _trim(cells, width)
                if len(row) > width and len(row) > budget.limites.colonnes:
                    budget.colonne(line, len(row))
                _count_row(budget, line, row)
                if len(row) == width:
                    store.add(line, row)
                else:
                    others.append((line, row))
    except csv.Error as exc:
        raise UnreadableFile(
            f"Le fichier « {name} » ne peut pas être lu comme un tableau CSV (vers la ligne {line + 1})."
        ) from exc
    if header is None or store is None:
        raise UnreadableFile(f"Le fichier « {name} » est vide.")
    store.close()
    store.others = others
    return RawTable(header=header, header_line=header_line, rows=_Rows(store, others), encoding=encoding,
                    delimiter=delimiter, sheet=None, store=store)


def _xlsx_cell(value: object) -> str:
    """Return an Excel value as text that parse_number/parse_bool read back exactly; dates as ISO."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "vrai" if value else "faux"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            return str(value)
        if value.is_integer():
            return str(int(value))
        # repr is the shortest exact round-trip; 'f' removes the exponent repr uses for tiny/huge values
        return format(Decimal(repr(value)), "f")
    if isinstance(value, _dt.datetime):
        if value.time() == _dt.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, (_dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return str(value)
    return _clean(value)


def _check_zip_sizes(data: bytes, budget: Budget) -> None:
    """Refuse a workbook whose parts would unpack to more than the limits (a "zip bomb"), before opening it."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        infos = zf.infolist()
    total = sum(max(i.file_size, 0) for i in infos)
    budget.octets(total, "une fois décompressé, le classeur", budget.limites.decompresse)
    for i in infos:
        if i.filename.lower().endswith("sharedstrings.xml"):
            budget.octets(i.file_size, "le texte de ses cellules", budget.limites.chaines)


def _sheet_rows(wb, ws, budget: Budget):
    """Yield (line, cells) of a read-only sheet, streaming its XML; cells are text as `_xlsx_cell` writes it.

    The sheet's declared <dimension> is not used, and a row is never widened to its last declared cell: only
    filled cells are kept, and a filled cell beyond the column limit stops the reading (UnreadableFile).
    """
    from openpyxl.worksheet._reader import WorkSheetParser

    with ws._get_source() as src:
        parser = WorkSheetParser(src, ws._shared_strings, data_only=True, epoch=wb.epoch,
                                 date_formats=wb._date_formats, timedelta_formats=wb._timedelta_formats)
        for line, cells in parser.parse():
            budget.brute(line)
            filled: dict[int, str] = {}
            for cell in cells:
                text = _xlsx_cell(cell.get("value"))
                if text:
                    col = int(cell["column"])
                    budget.colonne(line, col)
                    filled[col] = text
            if filled:
                row = [""] * max(filled)
                for col, text in filled.items():
                    row[col - 1] = text
                yield line, row


def _visible(ws) -> bool:
    return getattr(ws, "sheet_state", "visible") in (None, "visible")


def _read_xlsx(data: bytes, name: str, sheet_hint: str | None, limites: Limites | None = None) -> RawTable:
    """Return the RawTable of the chosen sheet of an .xlsx workbook.

    The visible sheet named after `sheet_hint` (the file kind), else the first visible sheet; hidden sheets are
    never read.
    """
    try:
        import openpyxl  # imported here so that CSV-only use does not need it loaded
    except ImportError as exc:  # pragma: no cover - openpyxl is a declared dependency
        raise UnreadableFile(f"Le fichier « {name} » est un classeur Excel, mais la lecture des classeurs "
                             "n'est pas installée : enregistrez-le au format CSV.") from exc
    budget = Budget(name, limites)
    wb = None
    try:
        _check_zip_sizes(data, budget)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # openpyxl warns about unsupported extensions/styles: irrelevant here
            wb = openpyxl.load_workbook(io.BytesIO(data), read_only=True, data_only=True)
            sheets = wb.worksheets
            if not sheets:
                raise UnreadableFile(f"Le fichier « {name} » est vide.")
            visible = [s for s in sheets if _visible(s)]
            if not visible:
                raise UnreadableFile(f"Le fichier « {name} » n'a aucune feuille visible : affichez la feuille à "
                                     "importer (clic droit sur l'onglet, « Afficher »).")
            ws = None
            if sheet_hint:
                wanted = normalize_name(sheet_hint)
                ws = next((s for s in visible if normalize_name(s.title) == wanted), None)
            if ws is None:
                ws = visible[0]
            header: list[str] | None = None
            header_line = 0
            rows: list[tuple[int, list[str]]] = []
            for line, cells in _sheet_rows(wb, ws, budget):
                if header is None:
                    header, header_line = _trim(cells, 0), line
                    budget.ligne(line, header)
                else:
                    row = _trim(cells, len(header))
                    budget.ligne(line, row)
                    rows.append((line, row))
            title = ws.title
            others = [s.title for s in sheets if s is not ws]
            hidden = [s.title for s in sheets if not _visible(s)]
    except UnreadableFile:
        raise
    except Exception as exc:
        raise UnreadableFile(f"Le fichier « {name} » ressemble à un classeur Excel mais ne peut pas être ouvert "
                             "(fichier abîmé ou incomplet ?).") from exc
    finally:
        if wb is not None:
            try:
                wb.close()
            except Exception:  # closing a half-read workbook must not hide the real outcome
                pass
    if header is None:
        raise UnreadableFile(f"Le fichier « {name} » est vide.")
    return RawTable(header=header, header_line=header_line, rows=rows, encoding=None, delimiter=None,
                    sheet=title, other_sheets=others, hidden_sheets=hidden)


def limites_for(max_bytes: int | None, limites: Limites | None = None) -> Limites:
    """The limits for a file of at most `max_bytes` (the command line takes files of any size): above the
    default size, the counts of rows, cells and characters grow in the same proportion; the limits of one
    row or cell, and of a workbook's unpacked parts, stay."""
    base = limites or limites_en_vigueur()
    if max_bytes is None or max_bytes <= base.octets:
        return base
    ratio = max_bytes / base.octets
    return replace(base, octets=max_bytes, lignes=int(base.lignes * ratio),
                   lignes_brutes=int(base.lignes_brutes * ratio), cellules=int(base.cellules * ratio),
                   caracteres=int(base.caracteres * ratio))


def read_header(data: bytes, filename: str, sheet_hint: str | None = None) -> list[str]:
    """The header of the table in `data`, reading only the first 256 ko of a large CSV file (to recognise a
    file's kind without parsing it twice); raise UnreadableFile like read_table."""
    head = data
    if len(data) > 262_144 and _sniff_binary(data[:65536]) is None:
        cut = data.rfind(b"\n", 0, 262_144)
        if cut > 0:
            head = data[: cut + 1]
    return read_table(head, filename, sheet_hint).header


def read_table(data: bytes, filename: str, sheet_hint: str | None = None, max_bytes: int | None = None,
               limites: Limites | None = None) -> RawTable:
    """Return the table in `data` (CSV or .xlsx, decided by content); raise UnreadableFile otherwise.

    `filename` is only used in messages. For a workbook, the visible sheet whose normalized name equals
    normalize_name(sheet_hint) is read, else the first visible sheet (hidden sheets never). Line numbers are
    spreadsheet rows. Beyond `limites` (size, rows, columns, cells; LIMITES by default) the file is refused
    while it is read, before its rows are all in memory. Never raises anything but UnreadableFile.
    """
    name = _display_name(filename)
    limites = limites or limites_en_vigueur()
    if max_bytes is not None:
        limites = replace(limites, octets=max_bytes)
    try:
        if data is None or len(data) == 0:
            raise UnreadableFile(f"Le fichier « {name} » est vide.")
        if len(data) > limites.octets:
            raise UnreadableFile(f"Le fichier « {name} » est trop volumineux ({_mo(len(data), above=limites.octets)}) : "
                                 f"la limite est de {_mo(limites.octets)}.")
        data = bytes(data)
        kind = _sniff_binary(data)
        if kind == "xlsx":
            return _read_xlsx(data, name, sheet_hint, limites)
        if kind is not None:
            raise _not_a_table(name, kind)
        return _read_csv(data, name, limites)
    except UnreadableFile:
        raise
    except MemoryError as exc:
        raise UnreadableFile(f"Le fichier « {name} » est trop grand pour être lu.") from exc
    except Exception as exc:  # the contract is "only UnreadableFile": anything unforeseen becomes one
        raise UnreadableFile(f"Le fichier « {name} » ne peut pas être lu comme un tableau CSV ou Excel.") from exc
