"""End-to-end harness: a real ``streamlit run`` driven by Playwright in Debian's chromium.

Fixtures
--------
``streamlit_factory`` (session)
    ``start(script="app.py", *, db_path=None, env=None, timeout=60.0) -> StreamlitServer``.
    Starts ``python -m streamlit run <script>`` from the repo root on a free loopback port, with
    ``CDV_DB`` pointing to a fresh file in a tmp dir (or ``db_path``), waits for ``/_stcore/health``
    to answer ``ok``. Every server started is stopped at the end of the session.
``streamlit_server`` (session)
    Base URL (``"http://127.0.0.1:<port>"``) of ``app.py`` on a fresh demo database.
``streamlit_app`` (session)
    The ``StreamlitServer`` behind ``streamlit_server`` (``.url``, ``.db_path``, ``.log_path``, ``.log_tail()``).
``browser`` (session)
    Playwright ``Browser`` (Debian ``/usr/bin/chromium``, headless).
``page`` (function)
    New ``Page`` at 1920x1080, ``locale="fr-FR"``; its context is closed after the test.

Helper
------
``wait_for_app(page, timeout=120_000)``: block until the script run asked for last has finished (read from
Streamlit's websocket messages, see ``RunTracker``; no race with a slow server).
``goto_app(page, url, timeout=120_000)``: ``page.goto(url)`` then ``wait_for_app``.
``app_exceptions(page) -> list[str]``: exception boxes, app.py's French error banner and "page not found"
messages shown by the app (expect ``[]``).
Import them with ``from tests.e2e.conftest import app_exceptions, goto_app, wait_for_app``.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = os.environ.get("CDV_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VIEWPORT = {"width": 1920, "height": 1080}

# Every server started in this session, so a failing test can show their logs.
_SERVERS: list[StreamlitServer] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class StreamlitServer:
    script: Path
    port: int
    db_path: Path
    log_path: Path
    process: subprocess.Popen = field(repr=False)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def log_tail(self, lines: int = 60) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return "<no log>"
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.process.poll() is not None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
        except ProcessLookupError:
            return
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait(timeout=10)


def _health_ok(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/_stcore/health", timeout=2) as resp:
            return resp.status == 200 and resp.read().decode().strip() == "ok"
    except (urllib.error.URLError, OSError):
        return False


def start_streamlit(
    script: str | os.PathLike = "app.py",
    *,
    workdir: Path,
    db_path: str | os.PathLike | None = None,
    env: dict[str, str] | None = None,
    timeout: float = 60.0,
) -> StreamlitServer:
    """Start ``streamlit run script`` (relative paths are from the repo root) and wait until healthy."""
    script_path = Path(script)
    if not script_path.is_absolute():
        script_path = REPO_ROOT / script_path
    if not script_path.exists():
        pytest.fail(f"Streamlit script not found: {script_path}")
    workdir.mkdir(parents=True, exist_ok=True)
    port = free_port()
    db = Path(db_path) if db_path is not None else workdir / f"cdv_{port}.duckdb"
    log_path = workdir / f"streamlit_{port}.log"

    full_env = dict(os.environ)
    full_env.update(
        {
            "CDV_DB": str(db),
            "PYTHONUNBUFFERED": "1",
            "STREAMLIT_BROWSER_GATHER_USAGE_STATS": "false",
            "STREAMLIT_SERVER_HEADLESS": "true",
        }
    )
    full_env.update(env or {})
    cmd = [
        sys.executable, "-m", "streamlit", "run", str(script_path),
        "--server.headless", "true",
        "--server.address", "127.0.0.1",
        "--server.port", str(port),
        "--server.fileWatcherType", "none",
        "--browser.gatherUsageStats", "false",
    ]  # fmt: skip
    log = open(log_path, "wb")
    process = subprocess.Popen(
        cmd,
        cwd=REPO_ROOT,
        env=full_env,
        stdin=subprocess.DEVNULL,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    log.close()
    server = StreamlitServer(script_path, port, db, log_path, process)
    _SERVERS.append(server)

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            pytest.fail(
                f"streamlit exited with code {process.returncode} before becoming healthy.\n"
                f"--- {log_path} (tail) ---\n{server.log_tail()}"
            )
        if _health_ok(server.url):
            return server
        time.sleep(0.25)
    server.stop()
    pytest.fail(
        f"streamlit not healthy after {timeout:.0f}s on {server.url}.\n"
        f"--- {log_path} (tail) ---\n{server.log_tail()}"
    )


APP_SCRIPTS = ("app.py", "serveur.py")


@pytest.fixture(scope="session")
def streamlit_factory(tmp_path_factory: pytest.TempPathFactory,
                      demo_db_template: Path) -> Iterator[Callable[..., StreamlitServer]]:
    started: list[StreamlitServer] = []

    def start(
        script: str | os.PathLike = "app.py",
        *,
        db_path: str | os.PathLike | None = None,
        env: dict[str, str] | None = None,
        timeout: float = 60.0,
        fresh_db: bool = False,
    ) -> StreamlitServer:
        """The app's servers get a copy of the session's demo base (built once, as `scripts/run.sh` builds it
        before serving) unless `fresh_db`: then the app builds it at its first request."""
        workdir = tmp_path_factory.mktemp("streamlit")
        if db_path is None and not fresh_db and str(script) in APP_SCRIPTS:
            db_path = workdir / "demo.duckdb"
            shutil.copy(demo_db_template, db_path)
        server = start_streamlit(script, workdir=workdir, db_path=db_path, env=env, timeout=timeout)
        started.append(server)
        return server

    yield start
    for server in started:
        server.stop()


@pytest.fixture(scope="session")
def streamlit_app(streamlit_factory: Callable[..., StreamlitServer]) -> StreamlitServer:
    """The app as `scripts/run.sh` serves it (``serveur.py``: app.py plus its session route) on a copy of the
    demo database; generous start-up time."""
    return streamlit_factory("serveur.py", timeout=90.0)


@pytest.fixture(scope="session")
def streamlit_server(streamlit_app: StreamlitServer) -> str:
    """Base URL of the running ``app.py``."""
    return streamlit_app.url


@pytest.fixture(scope="session")
def browser() -> Iterator:
    from playwright.sync_api import sync_playwright

    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} missing: apt-get install -y chromium (bash scripts/test.sh does it)")
    # Keep Chromium's profile/crash dirs out of $HOME on CI.
    os.environ.setdefault("XDG_CONFIG_HOME", tempfile.mkdtemp(prefix="cdv-chromium-cfg-"))
    os.environ.setdefault("XDG_CACHE_HOME", tempfile.mkdtemp(prefix="cdv-chromium-cache-"))
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def page(browser) -> Iterator:
    context = browser.new_context(viewport=VIEWPORT, locale="fr-FR", timezone_id="Europe/Paris")
    # Generous: on a loaded CI machine the browser may take long to draw what the server already sent.
    context.set_default_timeout(120_000)
    pg = context.new_page()
    track_runs(pg)
    try:
        yield pg
    finally:
        context.close()


class RunTracker:
    """Script runs of one page, read from Streamlit's websocket (its protobuf messages), in order.

    The browser asks for a run (`rerun_script`, sent), the server starts it (`new_session`) and ends it
    (`script_finished`). The app is idle when a run started after the last request and that run finished
    (not cut short for another run). No guessing from the DOM, so no race under load.
    """

    def __init__(self) -> None:
        self.seq = 0
        self.requested = -1
        self.started = -1
        self.finished = -1
        self.runs = 0
        self.page_not_found: list[str] = []

    def _next(self) -> int:
        self.seq += 1
        return self.seq

    def sent(self, payload) -> None:
        from streamlit.proto.BackMsg_pb2 import BackMsg

        if isinstance(payload, (bytes, bytearray)):
            try:
                msg = BackMsg.FromString(bytes(payload))
            except Exception:  # noqa: BLE001 - not a BackMsg
                return
            if msg.WhichOneof("type") == "rerun_script":
                self.requested = self._next()

    def received(self, payload) -> None:
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        if not isinstance(payload, (bytes, bytearray)):
            return
        try:
            msg = ForwardMsg.FromString(bytes(payload))
        except Exception:  # noqa: BLE001 - not a ForwardMsg
            return
        kind = msg.WhichOneof("type")
        if kind == "new_session":
            self.started = self._next()
        elif kind == "script_finished" and msg.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
            self.finished = self._next()
            self.runs += 1
        elif kind == "page_not_found":
            self.page_not_found.append(msg.page_not_found.page_name or "?")

    def idle(self) -> bool:
        return self.started > self.requested and self.finished > self.started


def track_runs(page) -> RunTracker:
    """Follow the script runs of `page` (call before its first navigation; `page` fixture and goto_app do)."""
    tracker = getattr(page, "_cdv_runs", None)
    if tracker is None:
        tracker = RunTracker()
        page._cdv_runs = tracker

        def on_socket(ws) -> None:
            if "/_stcore/stream" in ws.url:
                ws.on("framesent", tracker.sent)
                ws.on("framereceived", tracker.received)

        page.on("websocket", on_socket)
    return tracker


_APP_IDLE_JS = """
() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app) return false;
  const conn = app.getAttribute('data-test-connection-state');
  if (conn !== null && conn !== 'CONNECTED') return false;
  const state = app.getAttribute('data-test-script-state');
  if (state !== null && state !== 'notRunning' && state !== 'compilationError') return false;
  if (document.querySelector('[data-testid="stStatusWidgetRunningIcon"]')) return false;
  const status = document.querySelector('[data-testid="stStatusWidget"]');
  if (status && /running|en cours/i.test(status.innerText || '')) return false;
  // A Markdown block with HTML (the demo banner, the filters line) shows a skeleton until the browser has fetched
  // the code that draws it: the run has finished but the page is not complete yet.
  if (document.querySelector('[data-testid="stSkeleton"]')) return false;
  return true;
}
"""


def wait_for_app(page, timeout: float = 120_000, settle_ms: int = 250) -> None:
    """Wait (bounded, ms) until the script run asked for last has finished and the page shows it.

    With a tracked page (the `page` fixture, or `goto_app`), waits for Streamlit's own "script finished"
    message of a run started after the last request the browser sent; otherwise falls back on the DOM.
    ``settle_ms`` lets a rerun triggered by a just-made interaction be sent first. Raises Playwright's
    ``TimeoutError`` (or AssertionError for a tracked page) past ``timeout``.
    """
    if settle_ms:
        page.wait_for_timeout(settle_ms)
    tracker = getattr(page, "_cdv_runs", None)
    deadline = time.monotonic() + timeout / 1000
    if tracker is not None:
        while not tracker.idle():
            if time.monotonic() > deadline:
                raise AssertionError(f"the app's script run did not finish within {timeout / 1000:.0f} s "
                                     f"(requested={tracker.requested}, started={tracker.started}, "
                                     f"finished={tracker.finished})")
            page.wait_for_timeout(50)
    page.wait_for_selector('[data-testid="stApp"]', state="attached", timeout=timeout)
    page.wait_for_function(_APP_IDLE_JS, timeout=max(15_000, (deadline - time.monotonic()) * 1000), polling=100)


def goto_app(page, url: str, timeout: float = 120_000) -> None:
    """Open ``url`` and wait for the first script run to finish."""
    track_runs(page)
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    wait_for_app(page, timeout=timeout)


ERROR_BANNER = "Une erreur inattendue"  # app.py's French banner for an exception raised by a page


def app_exceptions(page) -> list[str]:
    """Errors the app shows: Streamlit's exception boxes, app.py's French error banner, "page not found".

    Expect ``[]``. app.py turns any exception of a page into a French banner (no traceback for people), so
    looking for Streamlit's exception box alone would never fail.
    """
    found = [el.inner_text() for el in page.locator('[data-testid="stException"]').all()]
    found += [el.inner_text() for el in page.locator('[data-testid="stAlert"]').filter(has_text=ERROR_BANNER).all()]
    tracker = getattr(page, "_cdv_runs", None)
    if tracker is not None:
        found += [f"page introuvable : {name}" for name in tracker.page_not_found]
    return found


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    report = outcome.get_result()
    if report.failed and _SERVERS:
        for server in _SERVERS:
            report.sections.append(
                (f"streamlit {server.script.name} :{server.port} log tail", server.log_tail())
            )
