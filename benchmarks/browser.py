"""Browser benchmark: a real `streamlit run` on the demo database, driven by Playwright in Debian's chromium.

    python benchmarks/browser.py [--runs 5] [--port 8765]
    python benchmarks/browser.py --memoire benchmarks/out/national.duckdb   # 3 sessions at national scale
    python benchmarks/browser.py --phases [--runs 5]   # where a deep link's time goes

Prints, as figures to read (never assertions):
- the first page after the server starts (database already built), from the request to the complete render;
- for each page, the median complete-render time of a deep link opened in a fresh browser context (a link
  pasted in a browser that has never seen the site: empty cache): the script finished, every visible chart drawn;
  and the same in a new tab of a browser that has visited the site once (Streamlit's scripts in its cache);
- the median time from an action to the complete render for a filter change (a funder chosen in the sidebar's
  list, from the choice), a fiche opened (Quartiers) and a slide changed (presentation mode);
- with `--memoire DB`: the server's memory with three sessions open on that database (overview, Financeurs,
  Quartiers), each page completely rendered;
- with `--phases`: where the time of a deep link goes (page HTML and Streamlit's scripts loaded, the script run
  on the server, the drawing in the browser), for each page and for a minimal Streamlit page
  (`benchmarks/minimal_app.py`) measured in the same run: the floor any Streamlit page has on this machine.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

CHROMIUM = os.environ.get("CDV_CHROMIUM", "/usr/bin/chromium")
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--no-first-run"]
PAGES = {
    "Vue d'ensemble": "/vue-ensemble",
    "Quartiers": "/quartiers",
    "Piliers": "/piliers",
    "Financeurs": "/financeurs",
    "Enquêtes": "/enquetes",
    "Présentation": "/presentation?slide=2",
}

# Complete: connected, the script finished, a title drawn, every visible chart drawn (canvas or svg), no skeleton.
COMPLETE_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const conn = app.getAttribute('data-test-connection-state');
  if (conn !== null && conn !== 'CONNECTED') return false;
  const state = app.getAttribute('data-test-script-state');
  if (state !== null && state !== 'notRunning') return false;
  if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  if (!document.querySelector('h1, .cdv-pres-title')) return false;
  for (const c of document.querySelectorAll('[data-testid="stVegaLiteChart"]')) {
    if (c.offsetParent === null) continue;
    if (!c.querySelector('canvas, svg')) return false;
  }
  return true;
}
"""


def _text(page, selector: str) -> str:
    loc = page.locator(selector)
    return loc.first.inner_text() if loc.count() else ""


def wait_complete(page, timeout_ms: int = 600_000) -> None:
    page.wait_for_function(COMPLETE_JS, timeout=timeout_ms, polling=50)


def wait_changed(page, selector: str, before: str, timeout_ms: int = 600_000) -> None:
    """Until the text of `selector` differs from `before`, then until the render is complete."""
    page.wait_for_function(
        "([sel, before]) => { const e = document.querySelector(sel); return e && e.innerText !== before; }",
        arg=[selector, before], timeout=timeout_ms, polling=50)
    wait_complete(page, timeout_ms)


def start_server(db: Path, port: int, preload: bool = False, app: str = "serveur.py") -> subprocess.Popen:
    """`streamlit run serveur.py` (the app as scripts/run.sh serves it: app.py, its first HTML page and its session
    route), or scripts/serve.py, which imports the app's modules first, as scripts/run.sh does."""
    env = dict(os.environ, CDV_DB=str(db), PYTHONUNBUFFERED="1")
    log = open(Path(tempfile.gettempdir()) / f"cdv_bench_{port}.log", "wb")
    command = ["scripts/serve.py"] if preload else ["-m", "streamlit", "run", app]
    proc = subprocess.Popen(
        [sys.executable, *command, "--server.port", str(port), "--server.address",
         "127.0.0.1", "--server.headless", "true", "--server.fileWatcherType", "none",
         "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    url = f"http://127.0.0.1:{port}/_stcore/health"
    for _ in range(600):
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.read().decode().strip() == "ok":
                    return proc
        except OSError:
            time.sleep(0.2)
    raise RuntimeError("le serveur ne répond pas")


def stop_server(proc: subprocess.Popen) -> None:
    try:
        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(timeout=20)
    except (ProcessLookupError, subprocess.TimeoutExpired):
        os.killpg(proc.pid, signal.SIGKILL)


def fresh(browser, base: str, path: str, size=(1920, 1080)) -> tuple[float, object, object]:
    """A link opened in a fresh context: seconds to the complete render, the context and the page."""
    ctx = browser.new_context(viewport={"width": size[0], "height": size[1]}, locale="fr-FR")
    page = ctx.new_page()
    t0 = time.perf_counter()
    page.goto(base + path, wait_until="commit")
    wait_complete(page)
    return time.perf_counter() - t0, ctx, page


# Marks taken in the page itself (milliseconds since the navigation started): the script's first run seen
# starting, and the last time it was seen finishing.
MARKS_JS = """
window.__cdvMarks = {};
new MutationObserver(() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return;
  const state = app.getAttribute('data-test-script-state');
  const m = window.__cdvMarks;
  if (state === 'running' && m.script_start === undefined) m.script_start = performance.now();
  if (state === 'notRunning' && m.script_start !== undefined) m.script_end = performance.now();
}).observe(document, {attributes: true, subtree: true, childList: true});
"""
# Mark -> column heading of the printed table.
PHASES = [
    ("html", "HTML"),
    ("scripts", "scripts"),
    ("script_start", "script lancé"),
    ("script_end", "script fini"),
    ("complete", "rendu complet"),
]


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far, in seconds (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def phases(browser, url: str, server_pid: int) -> dict[str, float]:
    """Seconds from the navigation start to each phase of a deep link opened in a fresh context, and the
    server's CPU seconds during the visit."""
    cpu0 = cpu_seconds(server_pid)
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="fr-FR")
    page = ctx.new_page()
    page.add_init_script(MARKS_JS)
    page.goto(url, wait_until="commit")
    wait_complete(page)
    marks = page.evaluate("""() => {
      const nav = performance.getEntriesByType('navigation')[0];
      const js = performance.getEntriesByType('resource').filter(e => e.name.endsWith('.js'));
      return {...window.__cdvMarks, html: nav.responseEnd, scripts: nav.loadEventEnd, complete: performance.now(),
              js_ko: js.reduce((s, e) => s + (e.encodedBodySize || 0), 0) / 1024, js_n: js.length};
    }""")
    ctx.close()
    marks["serveur"] = (cpu_seconds(server_pid) - cpu0) * 1000
    return {k: (v / 1000 if k not in ("js_ko", "js_n") else v) for k, v in marks.items()}


def phases_run(port: int, db: Path, runs: int) -> None:
    """Deep links decomposed: a minimal Streamlit page, then each dashboard page, on the same browser."""
    from playwright.sync_api import sync_playwright

    results: dict[str, list[dict[str, float]]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        for app, paths in (("benchmarks/minimal_app.py", {"Page minimale": "/"}), ("serveur.py", PAGES)):
            proc = start_server(db, port, app=app)
            try:
                for label, path in paths.items():
                    phases(browser, f"http://127.0.0.1:{port}{path}", proc.pid)  # one visit first: modules imported
                    for _ in range(runs):
                        results.setdefault(label, []).append(phases(browser, f"http://127.0.0.1:{port}{path}",
                                                                    proc.pid))
                    print(f"  {label} : {statistics.median(r['complete'] for r in results[label]):.2f} s", flush=True)
            finally:
                stop_server(proc)
        browser.close()
    print("\nLien direct ouvert dans un onglet neuf : secondes depuis le début de la navigation (médianes), "
          "puis la durée de chaque étape :")
    head = "".join(f"{label:>14}" for _mark, label in PHASES)
    print(f"  {'page':<16}{head}   scripts JS (Ko)")
    for label, rows in results.items():
        meds = {k: statistics.median(r.get(k, float("nan")) for r in rows) for k, _ in PHASES}
        ko = statistics.median(r["js_ko"] for r in rows)
        print(f"  {label:<16}" + "".join(f"{meds[k]:14.2f}" for k, _ in PHASES) + f"   {ko:8.0f}")
    print("\n  Étapes (médianes, en secondes) : interface = jusqu'au lancement du script (HTML, scripts de Streamlit, "
          "connexion) ; script = lancé → fini (le serveur exécute la page, le navigateur dessine au fur et à mesure "
          "ce qu'il reçoit) ; dessin = fini → rendu complet")
    for label, rows in results.items():
        load = statistics.median(r.get("script_start", float("nan")) for r in rows)
        script = statistics.median(r.get("script_end", float("nan")) - r.get("script_start", float("nan"))
                                   for r in rows)
        draw = statistics.median(r["complete"] - r.get("script_end", float("nan")) for r in rows)
        server = statistics.median(r["serveur"] for r in rows)
        print(f"  {label:<16} interface {load:5.2f}   script {script:5.2f}   dessin {draw:5.2f}   "
              f"(CPU du serveur pendant la visite : {server:4.2f} s)")


def med(values: list[float]) -> str:
    return f"{statistics.median(values):5.2f} s (min {min(values):.2f}, max {max(values):.2f}, n={len(values)})"


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of a process and its children, in MB (Linux /proc)."""
    now = peak = 0.0
    pids = [pid] + [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    for p in pids:
        for line in Path(f"/proc/{p}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                now += int(line.split()[1]) / 1024
            elif line.startswith("VmHWM:"):
                peak += int(line.split()[1]) / 1024
    return now, peak


def memory(db: Path, port: int) -> None:
    from playwright.sync_api import sync_playwright

    proc = start_server(db, port)
    base = f"http://127.0.0.1:{port}"
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
            contexts = []
            for path in ("/vue-ensemble", "/financeurs", "/quartiers"):
                took, ctx, _page = fresh(browser, base, path)
                contexts.append(ctx)
                now, peak = rss_mb(proc.pid)
                print(f"  session {len(contexts)} ({path}, rendue en {took:.1f} s) : serveur {now:.0f} Mo "
                      f"(pic {peak:.0f} Mo)", flush=True)
            now, peak = rss_mb(proc.pid)
            print(f"Mémoire du serveur avec 3 sessions ouvertes : {now:.0f} Mo (pic {peak:.0f} Mo)")
            for ctx in contexts:
                ctx.close()
            browser.close()
    finally:
        stop_server(proc)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--port", type=int, default=8765)
    parser.add_argument("--db", help="demo database to copy (built with `python -m cdv_core ensure` if absent)")
    parser.add_argument("--memoire", help="database (national scale) for the memory measure with 3 sessions")
    parser.add_argument("--phases", action="store_true", help="where a deep link's time goes, page by page")
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    if args.memoire:
        print(f"Machine : {os.cpu_count()} cœurs ; base {args.memoire}", flush=True)
        memory(Path(args.memoire), args.port)
        return

    work = Path(tempfile.mkdtemp(prefix="cdv_bench_"))
    db = work / "demo.duckdb"
    if args.db:
        shutil.copy(args.db, db)
    else:
        subprocess.run([sys.executable, "-m", "cdv_core", "ensure", "--db", str(db)], cwd=ROOT, check=True)
    print(f"Machine : {os.cpu_count()} cœurs ; chromium {CHROMIUM} ; base de démonstration {db} ; "
          f"charge {os.getloadavg()[0]:.1f}", flush=True)
    if args.phases:
        phases_run(args.port, db, args.runs)
        print(f"Charge à la fin : {os.getloadavg()[0]:.1f}")
        shutil.rmtree(work, ignore_errors=True)
        return
    base = f"http://127.0.0.1:{args.port}"
    results: dict[str, list[float]] = {}
    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
        # First page after the server starts (the base already built), as a person's first visit.
        firsts, firsts_preload = [], []
        for attempt in range(max(1, args.runs // 2)):
            proc = start_server(db, args.port, preload=True)  # as scripts/run.sh starts it
            try:
                took, ctx, _page = fresh(browser, base, "/")
                firsts_preload.append(took)
                print(f"  première page (scripts/serve.py) : {took:.2f} s", flush=True)
                ctx.close()
            finally:
                stop_server(proc)
            proc = start_server(db, args.port)
            try:
                took, ctx, _page = fresh(browser, base, "/")
                firsts.append(took)
                print(f"  première page (streamlit run) : {took:.2f} s", flush=True)
                ctx.close()
                if attempt == 0:
                    # Deep links, each in a fresh context (the server warm, as for the next visitors).
                    for name, path in PAGES.items():
                        fresh(browser, base, path)[1].close()  # one visit first: Python modules imported
                        for _run in range(args.runs):
                            took, ctx, _page = fresh(browser, base, path)
                            results.setdefault(f"Lien direct — {name}", []).append(took)
                            print(f"  lien direct {name} : {took:.2f} s", flush=True)
                            ctx.close()
                    known_site(browser, base, args.runs, results)
                    interactions(browser, base, args.runs, results)
            finally:
                stop_server(proc)
        browser.close()
    print(f"\nPremière page après le démarrage du serveur (scripts/run.sh) : {med(firsts_preload)}")
    print(f"Première page après `streamlit run serveur.py` seul (modules non importés d'avance) : {med(firsts)}")
    print("\nTemps jusqu'au rendu complet (médiane) :")
    for name, values in results.items():
        print(f"  {name:<45} {med(values)}")
    shutil.rmtree(work, ignore_errors=True)


def known_site(browser, base: str, runs: int, results: dict[str, list[float]]) -> None:
    """Deep links opened in a new tab of a browser that has already visited the dashboard (an elected official's
    bookmark): a new page and a new Streamlit session, but Streamlit's scripts come from the browser's cache (they
    are served as `immutable`), as in any browser that has seen the site once."""
    ctx = browser.new_context(viewport={"width": 1920, "height": 1080}, locale="fr-FR")
    for path in PAGES.values():  # the site visited once
        page = ctx.new_page()
        page.goto(base + path, wait_until="commit")
        wait_complete(page)
        page.close()
    for name, path in PAGES.items():
        for _run in range(runs):
            page = ctx.new_page()
            t0 = time.perf_counter()
            page.goto(base + path, wait_until="commit")
            wait_complete(page)
            took = time.perf_counter() - t0
            page.close()
            results.setdefault(f"Onglet neuf (site déjà visité) — {name}", []).append(took)
            print(f"  onglet neuf, site déjà visité, {name} : {took:.2f} s", flush=True)
    ctx.close()


def interactions(browser, base: str, runs: int, results: dict[str, list[float]]) -> None:
    """A filter change, a fiche opened, a slide changed: from the action to the complete render."""
    # Filter change: funders chosen one after the other in the sidebar, on each dashboard page.
    for name, path in (("Vue d'ensemble", "/vue-ensemble"), ("Financeurs", "/financeurs"),
                       ("Piliers", "/piliers"), ("Quartiers", "/quartiers")):
        _, ctx, page = fresh(browser, base, path)
        funders = ["CAF", "Région", "Département", "Europe (FSE, FEDER)", "ARS", "Communes", "Intercommunalité (EPCI)"]
        for i in range(runs):
            before = _text(page, ".cdv-filters")
            box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]', has_text="Financeurs")
            box.locator("input").click()
            # The person types the funder's name, sees it in the list and chooses it: the time is counted from
            # the choice (the Enter key), as for a click on the option; the typing is the person's own time.
            # (Enter takes the list's first line: when the text matches several funders, Streamlit 1.67 puts
            # "Sélectionner les N résultats" first, so some changes choose two funders at once; a filter change
            # all the same, kept so that the figures compare with the earlier ones.)
            funder = funders[i % len(funders)]
            page.keyboard.type(funder)
            page.locator('[role="option"]', has_text=funder).first.wait_for()
            t0 = time.perf_counter()
            page.keyboard.press("Enter")
            wait_changed(page, ".cdv-filters", before)
            results.setdefault(f"Changement de filtre — {name}", []).append(time.perf_counter() - t0)
            print(f"  changement de filtre {name} : {results[f'Changement de filtre — {name}'][-1]:.2f} s", flush=True)
            page.keyboard.press("Escape")
        ctx.close()
    # A fiche opened: another quartier chosen in the selectbox of the fiche.
    try:
        fiches(browser, base, runs, results)
    except Exception as exc:  # a measure that cannot be taken is said, the others go on
        print(f"  ouverture d'une fiche : mesure impossible ({type(exc).__name__})", flush=True)
    # A slide changed in presentation mode (next slide button).
    _, ctx, page = fresh(browser, base, "/presentation?slide=1")
    for _ in range(min(runs, 4)):
        before = _text(page, ".cdv-slide-number")
        t0 = time.perf_counter()
        page.locator('[data-testid="stButton"]', has_text="Suivante").first.click()
        wait_changed(page, ".cdv-slide-number", before)
        results.setdefault("Diapositive suivante", []).append(time.perf_counter() - t0)
        print(f"  diapositive suivante : {results['Diapositive suivante'][-1]:.2f} s", flush=True)
    ctx.close()


def fiches(browser, base: str, runs: int, results: dict[str, list[float]]) -> None:
    _, ctx, page = fresh(browser, base, "/quartiers")
    for i in range(runs):
        before = _text(page, "h2")
        select = page.locator('[data-testid="stSelectbox"]', has_text="Quartier affiché dans la fiche")
        select.click()
        options = page.locator('[role="option"]')
        try:
            options.first.wait_for(timeout=3000)
        except Exception:  # the list kept the focus of the previous choice: the first click closed it
            select.click()
            options.first.wait_for()
        t0 = time.perf_counter()
        options.nth((i * 3 + 1) % max(1, options.count())).click()
        wait_changed(page, "h2", before)
        results.setdefault("Ouverture d'une fiche quartier", []).append(time.perf_counter() - t0)
        print(f"  ouverture d'une fiche : {time.perf_counter() - t0:.2f} s", flush=True)
    ctx.close()


if __name__ == "__main__":
    main()
