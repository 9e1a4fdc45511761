"""National-scale benchmark: build a large database through the importer, then time each page.

    python benchmarks/national.py [--actions 500000] [--years 10] [--db benchmarks/out/national.duckdb]
                                  [--reuse] [--no-pandas] [--rounds 1]

Prints the time to build, then for each page (app.py and the page under AppTest, five filter changes made in the
sidebar, each new to the caches; the page scripts compiled once, as a server does): the time its queries take, the
server-side rerun (wall clock) and the server CPU it costs (process CPU time: the script thread and DuckDB's
threads, less the test harness's own polling thread), the rerun with nothing changed, the cost of Streamlit's full
garbage collection after a run (`runner.postScriptGC`); and, side by side, the CPU time the same figures take with
pandas on DataFrames already in memory (the fact tables loaded once), with the ratio
pandas / app. Timings are figures to read, never assertions.
"""

from __future__ import annotations

import argparse
import gc
import io
import os
import resource
import statistics
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from cdv_core import demo, importer, nomenclatures, schema  # noqa: E402

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
    # Each quartier with a contract of its own generation (2015 quartiers, 2015-2023 contracts; 2024, 2024-2030).
    qpv = con.execute("SELECT q.code_qpv, q.geographie, q.contrat FROM qpv q JOIN contrat c "
                      "ON c.code_contrat = q.contrat AND left(c.generation, 4) = q.geographie").df()
    # Each year's thématique codes come from its own nomenclature (the former codes are stored prefixed).
    stored_codes = [r[0] for r in con.execute("SELECT code FROM thematique").fetchall()]
    them_former = [c[len(nomenclatures.FORMER_PREFIX):] for c in stored_codes
                   if c.startswith(nomenclatures.FORMER_PREFIX)]
    them_current = [c for c in stored_codes if not c.startswith(nomenclatures.FORMER_PREFIX)]
    years = list(range(2024 - n_years // 2, 2024 - n_years // 2 + n_years))
    per_year = n_actions // n_years
    timings = {}
    for year in years:
        geo = "2024" if year >= 2024 else "2015"
        pool = qpv[qpv["geographie"] == geo]
        codes = pool["code_qpv"].to_numpy()
        contrats = pool["contrat"].to_numpy()
        piliers = PILIERS_2024 if year >= 2024 else PILIERS_2015
        them = them_current if nomenclatures.nomenclature_of(year) == nomenclatures.CURRENT else them_former
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


PAGES = {
    "Vue d'ensemble": "pages/vue_ensemble.py",
    "Quartiers": "pages/quartiers.py",
    "Piliers": "pages/piliers.py",
    "Financeurs": "pages/financeurs.py",
}


def filter_changes(years: list[int], fins: list[str], piliers: list[str]) -> list[dict]:
    """Five filter changes a person would click through in the sidebar, from the page as it opens (every year, no
    other filter), each one new to the caches. (Before 2 December 2026, evening, the first one was the opening
    state itself: a rerun with nothing new, which lowered the medians.)"""
    return [
        {"annees": (years[1], years[-1]), "financeurs": [], "piliers": [], "nature": []},
        {"annees": (years[-3], years[-1]), "financeurs": [], "piliers": [], "nature": []},
        {"annees": (years[0], years[-1]), "financeurs": [fins[0]], "piliers": [], "nature": []},
        {"annees": (years[0], years[4]), "financeurs": [], "piliers": [piliers[0]], "nature": []},
        {"annees": (years[-1], years[-1]), "financeurs": [], "piliers": [], "nature": ["specifique"]},
    ]


def OPENING(years: list[int]) -> dict:  # noqa: N802 (a constant of the years)
    """The sidebar as the page opens: every year, no other filter."""
    return {"annees": (years[0], years[-1]), "financeurs": [], "piliers": [], "nature": []}


def _apply(at, change: dict) -> None:
    """Set the sidebar widgets as a person would."""
    at.sidebar.select_slider(key=next(w.key for w in at.sidebar.select_slider)).set_range(*change["annees"])
    labels = {"financeurs": "Financeurs", "piliers": "Piliers", "nature": "Nature des crédits"}
    for name, label in labels.items():
        widget = next(w for w in at.sidebar.multiselect if w.label == label)
        widget.set_value(change[name])


def _server_cpu(c0: float, h0: float) -> float:
    """CPU ms of the process since `c0`, less the test harness's own thread since `h0`: AppTest's main thread
    polls the script thread while it runs (a real server's event loop does not), the script thread and DuckDB's
    threads are the server's work."""
    return ((time.process_time() - c0) - (time.thread_time() - h0)) * 1000


def time_pages(db: Path, rounds: int = 1) -> tuple[dict[str, list[float]], ...]:
    """Server-side rerun of each page after a filter change (AppTest, in this process), and the time of each
    query function it called (cache misses only)."""
    import streamlit as st
    from streamlit.runtime.pages_manager import PagesManager
    from streamlit.testing.v1 import AppTest

    import ui.data as data

    # AppTest re-enters Streamlit's legacy `pages/` mode at every run (a real server does so only for its very
    # first request): keep it in st.navigation mode so that every rerun goes through app.py, as in the browser.
    original_init = PagesManager.__init__

    def init(self, *args, **kwargs):
        original_init(self, *args, **kwargs)
        PagesManager.uses_pages_directory = False

    PagesManager.__init__ = init

    # AppTest gives each run a new ScriptCache, so every rerun compiled the page scripts again (Streamlit's magic
    # pass over their syntax tree, 4 to 10 ms a run); a server keeps one ScriptCache for all its sessions and
    # compiles each script once. One cache for all the runs here, as on a server.
    from streamlit.runtime.scriptrunner import script_cache

    compiled: dict[str, object] = {}
    original_get = script_cache.ScriptCache.get_bytecode

    def get_bytecode(self, path):
        if path not in compiled:
            compiled[path] = original_get(self, path)
        return compiled[path]

    script_cache.ScriptCache.get_bytecode = get_bytecode

    os.environ["CDV_DB"] = str(db)
    con = schema.connect(db, read_only=True)
    years = [r[0] for r in con.execute("SELECT DISTINCT annee FROM action ORDER BY 1").fetchall()]
    fins = [r[0] for r in con.execute("SELECT DISTINCT financeur FROM financement ORDER BY 1").fetchall()]
    piliers = [r[0] for r in con.execute("SELECT DISTINCT pilier FROM action ORDER BY 1").fetchall()]
    con.close()
    query_times: dict[str, list[float]] = {}
    page_query_ms: dict[str, list[float]] = {}  # per page: total query time of each filter change
    current: list[str | None] = [None]
    original = data._compute

    def timed(module, name, version, args, kwargs):
        t0 = time.perf_counter()
        try:
            return original(module, name, version, args, kwargs)
        finally:
            ms = (time.perf_counter() - t0) * 1000
            # a section's build counts its own queries again (each is timed apart, once, through the cache)
            label = f"section {args[1]}" if name == "build" else f"{module.rsplit('.', 1)[-1]}.{name}"
            query_times.setdefault(label, []).append(ms)
            if current[0] and name != "build":
                page_query_ms[current[0]][-1] += ms

    data._compute = timed
    reruns: dict[str, list[float]] = {}
    cpu: dict[str, list[float]] = {}
    gc_ms: dict[str, list[float]] = {}

    def _change(at, change: dict, title: str) -> None:
        """One filter change, timed: the rerun's wall clock, its server CPU, its queries."""
        _apply(at, change)
        current[0] = title
        page_query_ms.setdefault(title, []).append(0.0)
        t0, c0, h0 = time.perf_counter(), time.process_time(), time.thread_time()
        at.run()
        current[0] = None
        reruns.setdefault(title, []).append((time.perf_counter() - t0) * 1000)
        cpu.setdefault(title, []).append(_server_cpu(c0, h0))
        if at.exception:
            print(f"  ! {title} : {at.exception[0].message}")

    try:
        for title, page in PAGES.items():
            if not (ROOT / page).exists():
                continue
            # One session per page, opened once (not timed: it loads the app, as a person's first visit does),
            # then each filter change is a rerun of the page with new widget values.
            at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=600)
            at.run()
            if page != PAGES["Vue d'ensemble"]:
                at.switch_page(page)
                at.run()
            for rnd in range(rounds):
                if rnd:  # caches emptied: each change below is new again
                    data.clear_caches()
                    st.cache_data.clear()
                # Untimed, the page as it opens (every year, no other filter), which none of the changes is.
                _apply(at, OPENING(years))
                at.run()
                gc.collect()  # the garbage of the emptied caches and of the opening collected now
                for change in filter_changes(years, fins, piliers):
                    _change(at, change, title)
            # The same page again with nothing changed: what drawing it costs once every query is cached.
            for _ in range(3):
                t0, c0, h0 = time.perf_counter(), time.process_time(), time.thread_time()
                at.run()
                reruns.setdefault(f"{title} (sans changement)", []).append((time.perf_counter() - t0) * 1000)
                cpu.setdefault(f"{title} (sans changement)", []).append(_server_cpu(c0, h0))
            t0 = time.perf_counter()
            gc.collect(2)
            gc_ms.setdefault(title, []).append((time.perf_counter() - t0) * 1000)
    finally:
        data._compute = original
    return reruns, query_times, page_query_ms, cpu, gc_ms


# --------------------------------------------------------------------------- the pandas baseline

CATEGORIES = ("pilier", "thematique", "theme", "statut", "porteur_type", "contrat", "financeur", "nature",
              "dispositif", "section", "code_qpv")


def _load_frames(db: Path) -> dict[str, pd.DataFrame]:
    """The fact tables as pandas DataFrames (codes as categories, as a careful pandas user would load them; other
    text as pandas 3 holds it by default, Arrow strings, although cdv_core switches the process to Python objects,
    which suit the app's small tables: the baseline stays pandas as it ships)."""
    con = schema.connect(db, read_only=True)
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            with pd.option_context("future.infer_string", True):
                frames = {name: con.execute(f"SELECT * FROM {name}").df() for name in ("fait", "fait_qpv")}
                qpv = con.execute("SELECT code_qpv, nom_qpv, geographie, population FROM qpv").df()
    finally:
        con.close()
    for df in frames.values():
        for col in CATEGORIES:
            if col in df:
                df[col] = df[col].astype("category")
    frames["qpv"] = qpv
    return frames


def _pick(df: pd.DataFrame, change: dict, funding: bool = True) -> pd.DataFrame:
    lo, hi = change["annees"]
    mask = df["annee"].between(lo, hi)
    if change["piliers"]:
        mask &= df["pilier"].isin(change["piliers"])
    if funding and change["financeurs"]:
        mask &= df["financeur"].isin(change["financeurs"])
    if funding and change["nature"]:
        mask &= df["nature"].isin(change["nature"])
    return df[mask]


def _decided_year(x: pd.DataFrame) -> int:
    per = x.drop_duplicates("cle")
    share = (per["statut"] != "deposee").groupby(per["annee"]).mean()
    ok = share[share >= 0.5]
    return int(ok.index.max() if not ok.empty else share.index.max())


def _levier(x: pd.DataFrame, by: str) -> pd.DataFrame:
    total = x.groupby(by, observed=True)["montant_accorde"].sum()
    bop = x[x["financeur"] == "etat_bop147"].groupby(by, observed=True)["montant_accorde"].sum()
    return pd.DataFrame({"total": total, "bop": bop}).assign(levier=lambda d: (d["total"] - d["bop"]) / d["bop"])


def pandas_page(frames: dict[str, pd.DataFrame], page: str, change: dict) -> None:
    """The figures `page` shows for `change`, computed with pandas (same rules: equal split, decided year)."""
    fait, fq = frames["fait"], frames["fait_qpv"]
    x = _pick(fait, change)
    year = _decided_year(x)
    first = int(x["annee"].min())
    xy = x[x["annee"] == year]
    if page == "Vue d'ensemble":
        x.groupby("annee")["montant_accorde"].sum()
        x.groupby("annee")["cle"].nunique()
        (xy["montant_accorde"].sum(), xy["cle"].nunique(), xy["porteur"].nunique())
        xy.groupby("nature", observed=True)["montant_accorde"].sum()
        qy = _pick(fq, change)
        qy = qy[qy["annee"] == year]
        qy["code_qpv"].nunique()
        x[x["annee"] == first]["montant_accorde"].sum()
        x.groupby(["annee", "financeur"], observed=True)["montant_accorde"].sum().unstack(fill_value=0)
        pil = xy.groupby("pilier", observed=True).agg(m=("montant_accorde", "sum"), n=("cle", "nunique"))
        pil.assign(part=100 * pil["m"] / pil["m"].sum()).sort_values("m")
        per = qy.groupby("code_qpv", observed=True).agg(m=("montant_accorde", "sum"), n=("cle", "nunique"))
        per.join(frames["qpv"].set_index("code_qpv")).assign(ph=lambda d: d["m"] / d["population"]).sort_values("m")
    elif page == "Financeurs":
        contrib = x.groupby(["annee", "financeur"], observed=True).agg(m=("montant_accorde", "sum"),
                                                                       n=("cle", "nunique"))
        contrib["part"] = 100 * contrib["m"] / contrib.groupby(level=0)["m"].transform("sum")
        for dim in ("nature", "section"):
            d = x.groupby(["annee", dim], observed=True)["montant_accorde"].sum()
            (100 * d / d.groupby(level=0).transform("sum"))
        a = x[x["annee"] == first].groupby("financeur", observed=True)["montant_accorde"].sum()
        b = xy.groupby("financeur", observed=True)["montant_accorde"].sum()
        b.sub(a, fill_value=0).sort_values()
        known = x.dropna(subset=["montant_demande"])
        known.groupby("financeur", observed=True)[["montant_demande", "montant_accorde"]].sum()
        everyone = _pick(fait, change, funding=False)  # the levier counts every funder
        _levier(everyone, "annee")
        _levier(everyone[everyone["annee"] == year], "pilier")
        fqe = _pick(fq, change, funding=False)
        _levier(fqe[fqe["annee"] == year], "code_qpv")
        funded = xy[xy["montant_accorde"] > 0]
        nb = funded.groupby("cle")["financeur"].nunique()
        nb.value_counts()
        funded.groupby("financeur", observed=True)["cle"].nunique()
        xy.groupby(["financeur", "pilier"], observed=True)["montant_accorde"].sum().unstack(fill_value=0)
    elif page == "Piliers":
        by = x.groupby(["annee", "pilier"], observed=True).agg(m=("montant_accorde", "sum"), n=("cle", "nunique"))
        by["part"] = 100 * by["m"] / by.groupby(level=0)["m"].transform("sum")
        pil = xy.groupby("pilier", observed=True).agg(m=("montant_accorde", "sum"), n=("cle", "nunique"))
        x.drop_duplicates("cle").groupby(["annee", "nouvelle"])["cle"].count()
        top = pil["m"].idxmax()
        xt = xy[xy["pilier"] == top]
        xt.groupby("thematique", observed=True).agg(m=("montant_accorde", "sum"), n=("cle", "nunique"))
        xt.groupby("cle").agg(m=("montant_accorde", "sum"), f=("financeur", "nunique")).nlargest(2000, "m")
    elif page == "Quartiers":
        q = _pick(fq, change)
        last = int(q["annee"].max())
        geo = frames["qpv"].set_index("code_qpv")["geographie"]
        q = q[q["code_qpv"].map(geo).astype(str) == ("2024" if last >= 2024 else "2015")]
        per = q.groupby("code_qpv", observed=True).agg(m=("montant_accorde", "sum"), n=("cle", "nunique"))
        per = per.join(frames["qpv"].set_index("code_qpv")).assign(ph=lambda d: d["m"] / d["population"])
        top = per["ph"].idxmax()
        one = q[q["code_qpv"] == top]
        one.groupby(["annee", "financeur"], observed=True)["montant_accorde"].sum()
        one.groupby(["annee", "pilier"], observed=True)["montant_accorde"].sum()
        one.groupby("cle").agg(m=("montant_accorde", "sum"))


def pandas_baseline(db: Path, rounds: int = 1) -> dict[str, list[float]]:
    """CPU milliseconds of each filter change per page, pandas on frames already in memory."""
    t0 = time.perf_counter()
    frames = _load_frames(db)
    print(f"  (tables de faits chargées dans pandas en {time.perf_counter() - t0:.0f} s : "
          f"{len(frames['fait']):,} et {len(frames['fait_qpv']):,} lignes)", flush=True)
    years = sorted(int(y) for y in frames["fait"]["annee"].unique())
    fins = sorted(frames["fait"]["financeur"].dropna().unique())
    piliers = sorted(frames["fait"]["pilier"].dropna().unique())
    out: dict[str, list[float]] = {}
    for page in PAGES:
        for change in filter_changes(years, fins, piliers) * rounds:
            c0 = time.process_time()
            pandas_page(frames, page, change)
            out.setdefault(page, []).append((time.process_time() - c0) * 1000)
    del frames
    gc.collect()
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--actions", type=int, default=500_000)
    parser.add_argument("--years", type=int, default=10)
    parser.add_argument("--db", default=str(ROOT / "benchmarks" / "out" / "national.duckdb"))
    parser.add_argument("--reuse", action="store_true", help="reuse an existing database")
    parser.add_argument("--no-pandas", action="store_true", help="skip the pandas baseline")
    parser.add_argument("--rounds", type=int, default=1,
                        help="the five filter changes made this many times per page, caches emptied in between "
                             "(more changes, steadier medians on a noisy machine)")
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
    reruns, query_times, page_query_ms, cpu, gc_ms = time_pages(db, args.rounds)
    print("\nRequêtes de chaque page pour un changement de filtre (somme des requêtes non servies par le cache) :")
    for page, times in page_query_ms.items():
        print(f"  {page:<16} médiane {statistics.median(times):7.0f} ms   max {max(times):7.0f} ms")
    print(f"\nRéexécution côté serveur de chaque page après un changement de filtre (AppTest, 5 filtres × "
          f"{args.rounds}) :")
    for page, times in reruns.items():
        print(f"  {page:<16} médiane {statistics.median(times):7.0f} ms   max {max(times):7.0f} ms")
    print("\nCPU du serveur par changement de filtre (médiane / max) et, à côté, pandas sur des DataFrames déjà en "
          "mémoire calculant les mêmes chiffres (rapport pandas / application : plus il est grand, mieux c'est) :")
    baseline = {} if args.no_pandas else pandas_baseline(db, args.rounds)
    for page in PAGES:
        if page not in cpu:
            continue
        app_ms = statistics.median(cpu[page])
        line = f"  {page:<16} application {app_ms:6.0f} / {max(cpu[page]):6.0f} ms"
        if page in baseline:
            pd_ms = statistics.median(baseline[page])
            line += f"   pandas {pd_ms:6.0f} ms   rapport pandas/application {pd_ms / app_ms:5.2f}"
        print(line)
        same = cpu.get(f"{page} (sans changement)")
        if same:
            print(f"  {'':<16} sans changement : {statistics.median(same):6.0f} ms de CPU")
    print("\nRamasse-miettes complet (gc.collect(2), ce que `runner.postScriptGC` fait après chaque exécution) :")
    for page, times in gc_ms.items():
        print(f"  après {page:<16} {statistics.median(times):6.0f} ms")
    print("\nRequêtes (fonctions de cdv_core, hors cache), les plus lentes d'abord :")
    rows = sorted(query_times.items(), key=lambda kv: -statistics.median(kv[1]))
    for name, times in rows:
        print(f"  {name:<45} médiane {statistics.median(times):7.1f} ms   max {max(times):7.1f} ms"
              f"   ({len(times)} appels)")
    print(f"\nMémoire du processus (pic) : {rss_mb():.0f} Mo")


if __name__ == "__main__":
    main()
