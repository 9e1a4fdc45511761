"""Independent expectations computed with pandas straight from the demo CSV files (not through cdv_core)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

DEMO = Path(__file__).resolve().parents[1] / "data" / "demo"


def programmation() -> pd.DataFrame:
    return pd.read_csv(DEMO / "programmation.csv", dtype={"action_id": str})


def financements() -> pd.DataFrame:
    return pd.read_csv(DEMO / "financements.csv", dtype={"action_id": str})


def total(year: int, financeur: str | None = None) -> float:
    """Total granted in `year` (optionally for one funder code)."""
    fin = financements()
    fin = fin[fin["annee"] == year]
    if financeur:
        fin = fin[fin["financeur"] == financeur]
    return float(fin["montant_accorde"].sum())


def decided_year(years: range | list[int] | None = None) -> int:
    """Last year whose actions are mostly not `deposee` (statut empty = accordee)."""
    prog = programmation()
    prog["statut"] = prog["statut"].fillna("accordee")
    share = (prog["statut"] != "deposee").groupby(prog["annee"]).mean()
    ok = [int(y) for y, s in share.items() if s >= 0.5 and (years is None or y in years)]
    return max(ok)


def n_actions(year: int) -> int:
    prog = programmation()
    return int((prog["annee"] == year).sum())
