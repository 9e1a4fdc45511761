"""The command line reads the base while `streamlit run` holds it, and refuses a write with a French message."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys

import pytest

from tests import demo_expect
from tests.e2e.conftest import REPO_ROOT, app_exceptions, goto_app


def cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CDV_LOCK_WAIT": "2"}
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=timeout)


@pytest.fixture(scope="module")
def running(streamlit_factory, browser):
    server = streamlit_factory("app.py", timeout=120)
    context = browser.new_context(viewport={"width": 1366, "height": 768}, locale="fr-FR")
    page = context.new_page()
    goto_app(page, server.url, timeout=180_000)  # the app has opened the base (read-only between writes)
    assert app_exceptions(page) == []
    yield server, page
    context.close()


def test_summary_journal_check_and_backup_run_while_the_app_holds_the_base(running, tmp_path):
    server, page = running
    r = cli("summary", "--db", str(server.db_path), "--by", "annee")
    assert r.returncode == 0, r.stderr
    got = {int(row["annee"]): float(row["montant_accorde"]) for row in csv.DictReader(io.StringIO(r.stdout))}
    fin = demo_expect.financements()
    expected = fin.groupby("annee")["montant_accorde"].sum()
    assert set(got) == {int(y) for y in expected.index}
    assert all(abs(got[int(y)] - float(v)) < 0.01 for y, v in expected.items())

    r = cli("journal", "--db", str(server.db_path))
    assert r.returncode == 0, r.stderr
    assert r.stdout.startswith("import_id,")

    r = cli("backup", "--db", str(server.db_path), "--to", str(tmp_path / "sauvegardes"))
    assert r.returncode == 0, r.stderr
    assert list((tmp_path / "sauvegardes").glob("cdv_*.duckdb"))

    # the app still works after the command line read its base
    page.reload()
    goto_app(page, server.url)
    assert app_exceptions(page) == []


def test_a_write_from_the_command_line_is_refused_in_french_while_the_app_runs(running, tmp_path):
    server, _ = running
    f = tmp_path / "qpv.csv"
    f.write_text("code_qpv;nom_qpv;communes_insee;geographie;population;contrat\n"
                 "QN99999Z;Quartier d'essai;06088;2024;1500;\n", encoding="utf-8")
    r = cli("import", "--db", str(server.db_path), str(f))
    assert r.returncode == 1
    assert "Traceback" not in r.stderr
    assert "application" in r.stderr and "arrêtez l'application" in r.stderr
    r = cli("summary", "--db", str(server.db_path), "--by", "annee", "--where", "annee=2022")
    assert r.returncode == 0, r.stderr
