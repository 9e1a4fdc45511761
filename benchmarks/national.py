"""National-scale benchmark: build a large database through the importer, then time each page's queries.

    python benchmarks/national.py [--actions 500000] [--years 10] [--db benchmarks/out/national.duckdb]
                                  [--reuse] [--apptest]

Prints the time to build, the time each page's queries take to answer a filter change (median of a few runs,
cold: every run uses filters never asked before), the server-side rerun of each page (AppTest, with --apptest)
and the process memory. Timings are figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import io
import os
import resource
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdv_core import demo, importer, queries, schema  # noqa: E402
from cdv_core.filters import Filtres  # noqa: E402

FINANCEURS = ["etat_bop147", "epci", "commune", "region", "departement", "caf", "ars", "bailleurs", "europe",
              "etat_dc", "france_travail", "prive", "porteur"]
PILIERS_2024 = ["emploi", "transitions", "emancipation", "securite"]
PILIERS_2015 = ["cohesion_sociale", "cadre_vie", "developpement_eco"]
STATUTS = ["accordee"] * 8 + ["soldee", "refusee"]
TYPES = ["association"] * 6 + ["commune", "ccas", "bailleur", "etablissement_public"]


def rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def build(db: Path, n_actions: int, n_years: int, seed: int = 7) -> dict:
    """Write the dataset year by year as upload files and import them with the importer."""
    rng = np.random.default_rng(seed)
    demo.new_database(db, demo=False)
    con = schema.connect(db)
    qpv = con.execute("SELECT code_qpv, geographie, contrat FROM qpv WHERE contrat IS NOT NULL").df()
    them = [r[0] for r in con.execute("SELECT code FROM thematique").fetchall()]
    years = list(range(2024 - n_years // 2, 2024 - n_years // 2 + n_years))
    per_year = n_actions // n_years
    timings = {}
    for year in years:
        geo = "2024" if year >= 2024 else "2015"
        pool = qpv[qpv["geographie"] == geo]
        codes = pool["code_qpv"].to_numpy()
        contrats = pool["contrat"].to_numpy()
        piliers = PILIERS_2024 if year >= 2024 else PILIERS_2015
        idx = rng.integers(0, len(codes), per_year)
        second = rng.integers(0, len(codes), per_year)
        multi = rng.random(per_year) < 0.15
        # A second QPV of the same contract when there is one, else a single QPV.
        same = contrats[second] == contrats[idx]
        qpv_field = np.where(multi & same & (codes[second] != codes[idx]),
                             np.char.add(np.char.add(codes[idx].astype(str), "|"), codes[second].astype(str)),
                             codes[idx].astype(str))
        ids = np.char.add("A", np.arange(per_year).astype(str))
        prog = pd.DataFrame({
            "action_id": ids, "annee": year,
            "intitule": np.char.add("Action ", np.arange(per_year).astype(str)),
            "porteur": np.char.add("Association ", rng.integers(0, per_year // 3, per_year).astype(str)),
            "porteur_type": rng.choice(TYPES, per_year), "pilier": rng.choice(piliers, per_year),
            "thematique": rng.choice(them, per_year), "qpv": qpv_field, "contrat": contrats[idx],
            "statut": rng.choice(STATUTS, per_year), "nouvelle": np.where(rng.random(per_year) < 0.2, "oui", "non"),
        })
        n_lines = rng.integers(1, 6, per_year)
        rows = np.repeat(np.arange(per_year), n_lines)
        fin_codes = np.concatenate([rng.choice(FINANCEURS, k, replace=False) for k in n_lines])
        fin = pd.DataFrame({
            "action_id": ids[rows], "annee": year, "financeur": fin_codes,
            "montant_accorde": rng.gamma(2.0, 4000.0, len(rows)).round(2),
            "section": np.where(rng.random(len(rows)) < 0.05, "investissement", "fonctionnement"),
        })
        t0 = time.perf_counter()
        for name, df in ((f"programmation_{year}.csv", prog), (f"financements_{year}.csv", fin)):
            buffer = io.StringIO()
            df.to_csv(buffer, sep=";", index=False)
            importer.import_bytes(con, buffer.getvalue().encode("utf-8"), name, user="benchmark")
        timings[year] = (time.perf_counter() - t0, len(prog), len(fin))
        print(f"  {year}: {len(prog):>7} actions, {len(fin):>8} financements importés en "
              f"{timings[year][0]:6.1f} s", flush=True)
    con.execute("CHECKPOINT")
    con.close()
    return timings


def page_queries(con, f: Filtres) -> dict[str, callable]:
    """The queries each page runs for one filter state (pages whose module is absent are skipped)."""
    year = max(f.annees) if f.annees else 2024
    one = f.with_(annees=(year,))
    pages: dict[str, callable] = {
        "Vue d'ensemble": lambda: (
            queries.aggregate(con, f, ("annee",)), queries.aggregate(con, f.with_(statut=()), ("annee", "statut")),
            queries.kpis(con, one), queries.evolution(con, f, year, min(f.annees or (year,))),
            queries.par_annee_financeur(con, f), queries.par_pilier(con, one), queries.par_qpv(con, one)),
    }
    return pages


def time_pages(db: Path, runs: int = 5) -> dict[str, list[float]]:
    con = schema.connect(db, read_only=True)
    years = [r[0] for r in con.execute("SELECT DISTINCT annee FROM action ORDER BY 1").fetchall()]
    fins = [r[0] for r in con.execute("SELECT DISTINCT financeur FROM financement ORDER BY 1").fetchall()]
    piliers = [r[0] for r in con.execute("SELECT DISTINCT pilier FROM action ORDER BY 1").fetchall()]
    results: dict[str, list[float]] = {}
    # Each run is a different filter change, as a person clicking would make (no cache helps here).
    variants = [
        Filtres(annees=tuple(years)),
        Filtres(annees=tuple(years[-3:])),
        Filtres(annees=tuple(years), financeurs=(fins[0],)),
        Filtres(annees=tuple(years[:5]), piliers=(piliers[0],)),
        Filtres(annees=(years[-1],), nature=("specifique",)),
    ][:runs]
    for f in variants:
        for page, run in page_queries(con, f).items():
            t0 = time.perf_counter()
            run()
            results.setdefault(page, []).append((time.perf_counter() - t0) * 1000)
    con.close()
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=500_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--db", default=str(ROOT / "benchmarks" / "out" / "national.duckdb"))
    parser.add_argument("--reuse", action="store_true", help="reuse an existing database")
    args = parser.parse_args()
    db = Path(args.db)
    db.parent.mkdir(parents=True, exist_ok=True)
    print(f"Machine : {os.cpu_count()} cœurs ; base {db}")
    if not (args.reuse and db.exists()):
        t0 = time.perf_counter()
        build(db, args.actions, args.years)
        print(f"Construction par l'importeur : {time.perf_counter() - t0:.0f} s")
    con = schema.connect(db, read_only=True)
    counts = {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
              for t in ("qpv", "contrat", "action", "action_qpv", "financement")}
    n_contrats = con.execute("SELECT count(DISTINCT contrat) FROM action").fetchone()[0]
    n_qpv = con.execute("SELECT count(DISTINCT code_qpv) FROM action_qpv").fetchone()[0]
    con.close()
    print(f"Base : {counts['action']:,} actions, {counts['financement']:,} lignes de financement, "
          f"{n_qpv} QPV et {n_contrats} contrats concernés ; fichier {db.stat().st_size / 1e6:.0f} Mo")
    print("\nRequêtes de chaque page après un changement de filtre (ms, médiane et maximum sur 5 filtres) :")
    for page, times in time_pages(db).items():
        print(f"  {page:<22} médiane {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms")
    print(f"\nMémoire du processus (pic) : {rss_mb():.0f} Mo")


if __name__ == "__main__":
    main()
