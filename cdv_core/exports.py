"""Table exports that open cleanly in French Excel: CSV (`;`, UTF-8 with BOM) and `.xlsx`."""

from __future__ import annotations

import io
import re

import pandas as pd

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


_PLAIN_NUMBER = re.compile(r"[+-]?\d+(?:[.,]\d+)?")


def neutralise(value: object) -> object:
    """A text cell that a spreadsheet would run as a formula (starting with =, +, -, @, tab or CR) gets a leading
    apostrophe; numbers, and text that is just a signed number ("-12.5"), stay as they are."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(value):
        return "'" + value
    return value


def neutralise_frame(df: pd.DataFrame) -> pd.DataFrame:
    """A copy of `df` whose text cells and column names are neutralised (for any CSV or Excel output)."""
    return _safe(df)


def _safe(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(neutralise)
    out.columns = [str(neutralise(str(c))) for c in out.columns]
    return out


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV for French Excel: `;` separator, decimal comma, UTF-8 with BOM, formulas neutralised."""
    return _safe(df).to_csv(sep=";", decimal=",", index=False).encode("utf-8-sig")


# Excel number formats of the column kinds of cdv_core.tables (French Excel shows `1 234 €`, `12,5 %`).
XLSX_FORMATS = {"euros": '#,##0 "€"', "euros2": '#,##0.00 "€"', "pourcent": '0.0 "%"', "nombre": "#,##0",
                "decimal": "#,##0.0", "annee": "0"}


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame], entetes: dict[str, list[str]] | None = None,
                  formats: dict[str, dict[str, str]] | None = None) -> bytes:
    """A workbook with one sheet per table: the sheet's heading lines first (title, filters, source: `entetes`
    by sheet name), then the table with a frozen header, column widths and French number formats (from the
    column kinds, `formats` by sheet name, else guessed from the column names)."""
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    from cdv_core import tables

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        used: set[str] = set()
        for name, df in sheets.items():
            sheet = _sheet_name(name, used)
            lines = [str(neutralise(str(line))) for line in (entetes or {}).get(name, []) if line]
            start = len(lines) + 1 if lines else 0
            _safe(df).to_excel(writer, sheet_name=sheet, index=False, startrow=start)
            ws = writer.sheets[sheet]
            for i, line in enumerate(lines, start=1):
                ws.cell(row=i, column=1, value=line).font = Font(bold=i == 1, size=13 if i == 1 else 10)
            first_data = start + 2
            ws.freeze_panes = f"A{first_data}"
            kinds = (formats or {}).get(name, {})
            for idx, col in enumerate(df.columns, start=1):
                values = [str(col)] + [str(v) for v in df[col].head(200).tolist()]
                ws.column_dimensions[get_column_letter(idx)].width = min(60, max(10, max(map(len, values)) + 2))
                if not pd.api.types.is_numeric_dtype(df[col]) or pd.api.types.is_bool_dtype(df[col]):
                    continue
                kind = tables.kind(str(col), kinds)
                if kind is None:
                    kind = "decimal" if pd.api.types.is_float_dtype(df[col]) else "nombre"
                for cell in ws.iter_rows(min_row=first_data, min_col=idx, max_col=idx):
                    cell[0].number_format = XLSX_FORMATS.get(kind, "#,##0")
    return buffer.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join(ch for ch in name if ch not in "[]:*?/\\")
    if len(clean) > 31:  # Excel's limit: cut between words, marked with an ellipsis
        cut = clean[:30].rsplit(" ", 1)[0] if " " in clean[:30] else clean[:30]
        clean = cut.rstrip(" ,;-–") + "…"
    clean = clean or "Tableau"
    candidate, n = clean, 2
    while candidate in used:
        suffix = f" ({n})"
        candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate
