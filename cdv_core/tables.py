"""A section's table written in French (`87,70 €`, `12,5 %`, `1 234`): one rule for the slides, the PPTX and
the PDF; the page tables and the Excel sheets use the same column kinds for their number formats."""

from __future__ import annotations

import re

import pandas as pd

from cdv_core import fmt


def guess(name: str) -> str | None:
    """The kind of a column from its name when the section did not say (`Montant accordé` → euros)."""
    lower = name.lower()
    if "par habitant" in lower:
        return "euros2"
    if "montant" in lower or name.isdigit() or "(€)" in name or lower.startswith("€"):
        return "euros"
    if "part" in lower or "(%)" in lower or lower.startswith("taux"):
        return "pourcent"
    if lower in ("population", "actions", "valeur", "nombre", "répondants", "réponses") or lower.startswith("nb"):
        return "nombre"
    if lower in ("année", "annee"):
        return "annee"
    return None


def kind(name: str, formats: dict[str, str] | None = None) -> str | None:
    return (formats or {}).get(str(name)) or guess(str(name))


def cell(value, kind_: str | None, label: str = "") -> str:
    """One value in French; `label` is the row's first cell (a `Valeur` column in euros says so there)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return "—"
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "oui" if value else "non"
    if kind_ == "nombre" and "€" in label:
        kind_ = "euros"
    if kind_ == "euros":
        return fmt.euros(value)
    if kind_ == "euros2":
        return fmt.euros(value, 2)
    if kind_ == "pourcent":
        return fmt.pourcent(value)
    if kind_ == "annee":
        return str(int(value))
    if kind_ == "decimal":
        return fmt.nombre(value, 1)
    if kind_ == "euros1":  # an amount with cents is written with both digits: 87,70 €, never 87,7 €
        return fmt.euros(value, 2)
    if kind_ == "pourcent0":
        return fmt.pourcent(value, 0)
    if kind_ == "evolution_pct":
        return fmt.pourcent(value, 1, signe=True)
    if kind_ == "ecart":
        return ("+" if value >= 0 else "−") + fmt.nombre(abs(value), 1)
    if kind_ and kind_.startswith("%"):  # a printf format of its own: "%.1f %" for an indicator in %
        return _printf(value, kind_)
    if isinstance(value, float) and not float(value).is_integer():
        return fmt.nombre(value, 1)
    return fmt.nombre(value)


_PRINTF = re.compile(r"^%[+,]*(?:\.(\d+))?[fd]")


def _printf(value, spec: str) -> str:
    """`%.1f %` (printf, as the sections write an indicator's format) in French: `12,5 %`."""
    m = _PRINTF.match(spec)
    if not m:
        return fmt.nombre(value, 1)
    decimales = int(m.group(1) or 0) if spec[m.end() - 1] == "f" else 0
    suffix = spec[m.end():].replace("%%", "%").strip()
    text = fmt.nombre(value, decimales)
    if "+" in spec[:m.end()] and value >= 0:
        text = "+" + text
    return f"{text}{fmt.NBSP}{suffix}" if suffix else text


def formatted(df: pd.DataFrame, formats: dict[str, str] | None = None) -> pd.DataFrame:
    """The table with every cell as French text."""
    kinds = {c: kind(c, formats) for c in df.columns}
    first = df.columns[0] if len(df.columns) else None
    rows = []
    for _, r in df.iterrows():
        label = str(r[first]) if first is not None else ""
        rows.append([cell(r[c], kinds[c], label) for c in df.columns])
    return pd.DataFrame(rows, columns=[str(c) for c in df.columns])


def pivot_sum(df: pd.DataFrame, index: str | list[str], columns: str, values: str) -> pd.DataFrame:
    """`df.pivot_table(index=index, columns=columns, values=values, aggfunc="sum", fill_value=0)`, the same table
    (rows and columns sorted, missing cells 0) for a tenth of its cost: pandas' pivot_table took 10 ms for a table
    of a few funders and years, five times per Financeurs filter change (tests/test_pivot_sum.py compares)."""
    keys = [index] if isinstance(index, str) else list(index)
    out = df.groupby([*keys, columns], sort=True, observed=True)[values].sum().unstack(columns, fill_value=0)
    return out
