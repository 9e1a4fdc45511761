"""Independent expectations computed with pandas straight from the demo CSV files (not through cdv_core)."""

from __future__ import annotations

import functools
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
    """Financed actions of `year` (statut accordee or soldee, granted amount > 0: README's counting rule)."""
    prog = financees()
    return int((prog["annee"] == year).sum())


def financees() -> pd.DataFrame:
    """The programmation rows that count as "actions financées": statut accordee or soldee (empty = accordee)
    and a granted amount > 0 over the action-year's funding lines."""
    f = frames()
    prog, fin = f["prog"], f["fin"]
    granted = fin.groupby(["action_id", "annee"])["montant_accorde"].sum()
    keys = list(zip(prog["action_id"], prog["annee"], strict=True))
    amount = pd.Series([granted.get(k, 0.0) for k in keys], index=prog.index)
    return prog[prog["statut"].isin(["accordee", "soldee"]) & (amount > 0)].reset_index(drop=True)


def _as_text(name: str, folder: Path = DEMO) -> pd.DataFrame:
    return pd.read_csv(folder / name, dtype=str, keep_default_na=False)


@functools.cache
def _frames() -> dict[str, pd.DataFrame]:
    referentiels = DEMO.parent / "referentiels"
    prog = _as_text("programmation.csv")
    prog["annee"] = prog["annee"].astype(int)
    prog["statut"] = prog["statut"].replace("", "accordee")
    fin = _as_text("financements.csv")
    fin["annee"] = fin["annee"].astype(int)
    fin["montant_accorde"] = fin["montant_accorde"].astype(float)
    fin["section"] = fin["section"].replace("", "fonctionnement")
    financeurs = _as_text("financeurs.csv", referentiels)
    default = dict(zip(financeurs["code"], financeurs["nature_defaut"], strict=True))
    fin["nature"] = [n or default[f] for n, f in zip(fin["nature"], fin["financeur"], strict=True)]
    qpv = _as_text("qpv.csv", referentiels)
    by_contrat = qpv[qpv["contrat"] != ""].groupby("contrat")["code_qpv"].apply(sorted).to_dict()
    rows = []
    for r in prog.itertuples(index=False):
        codes = by_contrat[r.contrat] if r.qpv == "*" else [c.strip() for c in r.qpv.split("|") if c.strip()]
        rows += [(r.action_id, r.annee, c, 1 / len(codes)) for c in codes]
    split = pd.DataFrame(rows, columns=["action_id", "annee", "code_qpv", "part"])
    return {"prog": prog, "fin": fin, "split": split, "qpv": qpv}


def frames() -> dict[str, pd.DataFrame]:
    """The demo upload files read as text, FORMATS.md defaults applied (statut, nature, section), and the equal
    QPV split (`*` = every QPV of the contract in data/referentiels/qpv.csv). Fresh copies: free to modify."""
    return {name: df.copy() for name, df in _frames().items()}
