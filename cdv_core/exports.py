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


def to_xlsx_bytes(sheets: dict[str, pd.DataFrame]) -> bytes:
    """A workbook with one sheet per table: frozen header, column widths, French number formats."""
    from openpyxl.utils import get_column_letter

    buffer = io.BytesIO()
    with pd.ExcelWriter(buffer, engine="openpyxl") as writer:
        used: set[str] = set()
        for name, df in sheets.items():
            sheet = _sheet_name(name, used)
            _safe(df).to_excel(writer, sheet_name=sheet, index=False)
            ws = writer.sheets[sheet]
            ws.freeze_panes = "A2"
            for idx, col in enumerate(df.columns, start=1):
                values = [str(col)] + [str(v) for v in df[col].head(200).tolist()]
                ws.column_dimensions[get_column_letter(idx)].width = min(60, max(10, max(map(len, values)) + 2))
                if pd.api.types.is_float_dtype(df[col]):
                    money = any(w in str(col).lower() for w in ("montant", "€", "euros"))
                    fmt = '#,##0 "€"' if money else "#,##0.0"
                    for cell in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                        cell[0].number_format = fmt
                elif pd.api.types.is_integer_dtype(df[col]):
                    for cell in ws.iter_rows(min_row=2, min_col=idx, max_col=idx):
                        cell[0].number_format = "#,##0"
    return buffer.getvalue()


def _sheet_name(name: str, used: set[str]) -> str:
    clean = "".join(ch for ch in name if ch not in "[]:*?/\\")[:31] or "Tableau"
    candidate, n = clean, 2
    while candidate in used:
        suffix = f" ({n})"
        candidate, n = clean[: 31 - len(suffix)] + suffix, n + 1
    used.add(candidate)
    return candidate
