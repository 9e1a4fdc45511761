"""Import speed and peak memory of a funding file (issue 9): prints the figures, never asserts them.

    python benchmarks/import_speed.py [--lines 100000 1440000] [--runs 3] [--keep DIR] [--profile]

For each size, in a temporary folder: a base with the referentials and as many actions as the funding file
names (written straight into the base: only the funding import is measured), and a funding file as French
Excel writes it (`;`, decimal commas, `1 234,56`-style amounts on some lines, an empty demanded amount on
others). Each run imports the file with the command line (`python -m cdv_core import --db … file.csv`, a fresh
process: the full check, the preview, the write in one transaction, the journal and the fact tables), on a
fresh copy of the base. Printed: the wall time and the CPU time of the import process (its own and DuckDB's
threads), funding lines per second of each (median of the runs; on a loaded machine the CPU figure is the one to
compare), and the peak resident memory of the import process, with the load average of the machine at the time.
Target (issue 9): ≥ 50 000 lines/s, peak ≤ 1 Go.

The peak is the child's own high-water mark (`VmHWM` of /proc/self/status, read by the child as it exits), not
`ru_maxrss`: Linux carries the parent's peak over to a forked child (`ru_maxrss` of a child started from this
process, which has just built a 1.44 M-line file, reads ≈ 1.4 Go whatever the import does).
"""

from __future__ import annotations

import argparse
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

FINANCEURS = ["etat_bop147", "epci", "commune", "region", "departement", "caf", "ars", "bailleurs", "europe",
              "etat_dc", "france_travail", "prive", "porteur"]
YEAR = 2024


def _french(amounts: np.ndarray, rng: np.random.Generator) -> np.ndarray:
    """Amounts as French Excel writes them: `12337,5`, and a third with grouped thousands `12 337,50`."""
    plain = np.char.replace(np.round(amounts, 2).astype(str), ".", ",")
    out = plain.astype(object)
    pick = rng.choice(len(amounts), len(amounts) // 3, replace=False)
    out[pick] = [f"{a:,.2f}".replace(",", "\u202f").replace(".", ",") for a in amounts[pick]]
    return out


def make_files(folder: Path, n_lines: int, seed: int = 7) -> tuple[Path, Path]:
    """A base holding the actions, and the funding file (about 3 lines per action): (base, file)."""
    from cdv_core import demo, schema

    rng = np.random.default_rng(seed)
    n_actions = max(1, n_lines // 3)
    db = folder / f"base_{n_lines}.duckdb"
    demo.new_database(db, demo=False)
    con = schema.connect(db)
    try:
        qpv = con.execute("SELECT code_qpv, contrat FROM qpv WHERE geographie = '2024' AND contrat IS NOT NULL "
                          "ORDER BY code_qpv").df()
        piliers = [r[0] for r in con.execute("SELECT code FROM pilier WHERE generation = '2024-2030' OR "
                                             "generation IS NULL ORDER BY code").fetchall()]
        idx = rng.integers(0, len(qpv), n_actions)
        ids = np.char.add("A", np.arange(n_actions).astype(str))
        actions = pd.DataFrame({
            "action_id": ids, "annee": YEAR, "intitule": np.char.add("Action ", np.arange(n_actions).astype(str)),
            "porteur": np.char.add("Association ", rng.integers(0, n_actions // 3 + 1, n_actions).astype(str)),
            "pilier": rng.choice(piliers, n_actions), "qpv": qpv["code_qpv"].to_numpy()[idx],
            "contrat": qpv["contrat"].to_numpy()[idx], "statut": "accordee"})
        con.register("_actions", actions)
        con.execute("INSERT INTO action BY NAME SELECT * FROM _actions")
        con.execute("INSERT INTO action_qpv SELECT action_id, annee, qpv, 1.0 FROM _actions")
        con.unregister("_actions")
        con.execute("CHECKPOINT")
    finally:
        con.close()
    per_action = rng.integers(1, 6, n_actions)
    per_action = np.minimum(per_action, len(FINANCEURS))
    scale = n_lines / per_action.sum()
    per_action = np.maximum(1, np.round(per_action * scale).astype(int))
    rows = np.repeat(np.arange(n_actions), per_action)[:n_lines]
    if len(rows) < n_lines:  # top up with extra funders on the first actions
        rows = np.concatenate([rows, np.arange(n_lines - len(rows)) % n_actions])
    rows.sort()
    # a distinct funder per line of the same action: its rank within the action
    starts = np.r_[0, np.flatnonzero(np.diff(rows)) + 1]
    rank = np.arange(len(rows)) - np.repeat(starts, np.diff(np.r_[starts, len(rows)]))
    offset = rng.integers(0, len(FINANCEURS), n_actions)[rows]
    fin = np.array(FINANCEURS)[(rank + offset) % len(FINANCEURS)]
    dispositif = np.where(rank >= len(FINANCEURS), "Contrat de ville " + pd.Series(rank // len(FINANCEURS)).astype(str),
                          "Contrat de ville")
    accorde = rng.gamma(2.0, 4000.0, len(rows))
    demande = accorde * rng.uniform(1.0, 1.3, len(rows))
    demande_text = _french(demande, rng)
    demande_text[rng.random(len(rows)) < 0.3] = ""
    frame = pd.DataFrame({
        "action_id": np.char.add("A", rows.astype(str)), "annee": YEAR, "financeur": fin,
        "montant_accorde": _french(accorde, rng), "montant_demande": demande_text,
        "nature": np.where(rng.random(len(rows)) < 0.5, "specifique", ""), "dispositif": dispositif,
        "section": np.where(rng.random(len(rows)) < 0.05, "investissement", "fonctionnement"),
    })
    path = folder / f"financements_{n_lines}.csv"
    frame.to_csv(path, sep=";", index=False, encoding="utf-8")
    return db, path


# `python -m cdv_core ARGS` that writes its own peak resident memory (kB, VmHWM) to the file named first.
_PEAK_WRAPPER = """
import atexit, runpy, sys
out = sys.argv.pop(1)
def _peak():
    with open("/proc/self/status") as f:
        kb = next(line.split()[1] for line in f if line.startswith("VmHWM:"))
    with open(out, "w") as f:
        f.write(kb)
atexit.register(_peak)
sys.argv[0] = "cdv_core"
runpy.run_module("cdv_core", run_name="__main__", alter_sys=True)
"""


def run_import(db: Path, path: Path, profile: bool = False) -> tuple[float, float, float, str]:
    """Import `path` into a copy of `db` with the command line: (wall seconds, CPU seconds of the child, peak MB
    of the child, its last line)."""
    work = db.with_name("run_" + db.name)
    shutil.copyfile(db, work)
    peak_file = work.with_suffix(".peak")
    cmd = [sys.executable, "-c", _PEAK_WRAPPER, str(peak_file), "import", "--db", str(work), str(path)]
    if profile:
        cmd = [sys.executable, "-m", "cProfile", "-o", str(path.with_suffix(".prof")), "-m", "cdv_core", "import",
               "--db", str(work), str(path)]
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    elapsed = time.perf_counter() - t0
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime + after.ru_stime) - (usage.ru_utime + usage.ru_stime)
    peak = after.ru_maxrss  # polluted by this process's own peak (see the docstring): only without the wrapper
    if peak_file.exists():
        peak = int(peak_file.read_text())
        peak_file.unlink()
    work.unlink(missing_ok=True)
    Path(str(work) + ".wal").unlink(missing_ok=True)
    last = (done.stdout.strip().splitlines() or done.stderr.strip().splitlines() or [""])[-1]
    if done.returncode != 0:
        print(done.stderr[-3000:], file=sys.stderr)
        raise SystemExit(f"import failed ({done.returncode})")
    # ru_maxrss of the children is the largest child so far: meaningful when each size grows
    return elapsed, cpu, peak / 1024, last


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lines", type=int, nargs="+", default=[100_000, 1_440_000])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--keep", help="folder to keep the files in")
    parser.add_argument("--profile", action="store_true", help="one run under cProfile (file.prof next to it)")
    args = parser.parse_args()
    folder = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="cdv_import_speed_"))
    folder.mkdir(parents=True, exist_ok=True)
    print(f"machine: {os.cpu_count()} cœurs, charge moyenne (1, 5, 15 min) au départ : "
          f"{', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    try:
        for n in sorted(args.lines):
            t0 = time.perf_counter()
            db, path = make_files(folder, n)
            print(f"\n{n:>9} lignes de financement ({path.stat().st_size / 1e6:.1f} Mo), fichiers préparés en "
                  f"{time.perf_counter() - t0:.1f} s")
            times, cpus, peaks = [], [], []
            for run in range(1 if args.profile else args.runs):
                load = os.getloadavg()[0]
                elapsed, cpu, peak, last = run_import(db, path, profile=args.profile)
                times.append(elapsed)
                cpus.append(cpu)
                peaks.append(peak)
                print(f"  essai {run + 1} : {elapsed:6.1f} s ({n / elapsed:>9,.0f} lignes/s), CPU {cpu:6.1f} s "
                      f"({n / cpu:>9,.0f} lignes par seconde de CPU), pic mémoire {peak:,.0f} Mo (charge {load:.2f})")
            print(f"    {last[:150]}")
            med, med_cpu = statistics.median(times), statistics.median(cpus)
            print(f"  médiane : {med:.1f} s, {n / med:,.0f} lignes/s ; CPU {med_cpu:.1f} s, {n / med_cpu:,.0f} lignes "
                  f"par seconde de CPU ; pic mémoire {max(peaks):,.0f} Mo (objectif : ≥ 50 000 lignes/s, ≤ 1 000 Mo)")
    finally:
        if not args.keep:
            shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    main()
