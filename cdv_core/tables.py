"""A section's table written in French (`87,70 €`, `12,5 %`, `1 234`): one rule for the slides, the PPTX and
the PDF; the page tables and the Excel sheets use the same column kinds for their number formats."""

from __future__ import annotations

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
    if isinstance(value, float) and not float(value).is_integer():
        return fmt.nombre(value, 1)
    return fmt.nombre(value)


def formatted(df: pd.DataFrame, formats: dict[str, str] | None = None) -> pd.DataFrame:
    """The table with every cell as French text."""
    kinds = {c: kind(c, formats) for c in df.columns}
    first = df.columns[0] if len(df.columns) else None
    rows = []
    for _, r in df.iterrows():
        label = str(r[first]) if first is not None else ""
        rows.append([cell(r[c], kinds[c], label) for c in df.columns])
    return pd.DataFrame(rows, columns=[str(c) for c in df.columns])
