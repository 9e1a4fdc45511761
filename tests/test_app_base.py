"""The app's handle on the base (ui.data.AppBase): read-only between writes, read-write only while one write
lasts, so another process (the command line) can read the base while the app holds it."""

from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading

import pytest

from cdv_core import auth, gestion, vues
from tests import demo_expect
from tests.conftest import REPO_ROOT
from ui.data import AppBase

ADMIN = auth.cli_user("test")


def cli(*args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(REPO_ROOT), "CDV_LOCK_WAIT": "1"}
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], cwd=REPO_ROOT, env=env, capture_output=True,
                          text=True, timeout=300)


def test_cursors_are_read_only_and_writes_go_through_gestion(demo_db):
    base = AppBase(str(demo_db))
    con = base.cursor()
    try:
        with pytest.raises(Exception, match="read-only"):
            con.execute("DELETE FROM seance")
        with pytest.raises(RuntimeError):  # a write while this thread still reads would wait for itself
            gestion.save_view(base, "V", "vue-ensemble", "", ADMIN)
    finally:
        con.close()
    gestion.save_view(base, "V", "vue-ensemble", "financeurs=caf", ADMIN)
    con = base.cursor()
    try:
        assert vues.list_views(con)["nom"].tolist() == ["V"]
    finally:
        con.close()


def test_a_write_waits_for_the_readers_of_other_threads(demo_db):
    base = AppBase(str(demo_db))
    reader = base.cursor()
    done = threading.Event()
    writer = threading.Thread(target=lambda: (gestion.save_view(base, "V", "vue-ensemble", "", ADMIN), done.set()))
    writer.start()
    assert not done.wait(0.5)  # still reading: the write waits
    reader.close()
    writer.join(60)
    assert done.is_set()


def test_the_command_line_reads_while_the_app_holds_the_base_and_refuses_to_write(demo_db, tmp_path):
    base = AppBase(str(demo_db))
    held = base.cursor()  # the app is drawing a page
    try:
        r = cli("summary", "--db", str(demo_db), "--by", "annee")
        assert r.returncode == 0, r.stderr
        got = {int(row["annee"]): float(row["montant_accorde"]) for row in csv.DictReader(io.StringIO(r.stdout))}
        expected = demo_expect.financements().groupby("annee")["montant_accorde"].sum()
        assert got.keys() == {int(y) for y in expected.index}
        assert all(abs(got[int(y)] - v) < 0.01 for y, v in expected.items())
        assert cli("journal", "--db", str(demo_db)).returncode == 0
        r = cli("backup", "--db", str(demo_db), "--to", str(tmp_path / "sauvegardes"))
        assert r.returncode == 0, r.stderr
        r = cli("undo", "--db", str(demo_db))
        assert r.returncode == 1 and "Traceback" not in r.stderr
        assert "arrêtez l'application" in r.stderr and "Importer des données" in r.stderr
    finally:
        held.close()
    gestion.save_view(base, "après", "vue-ensemble", "", ADMIN)  # the app still writes afterwards


def test_the_app_opens_a_base_another_program_is_reading(demo_db):
    """The app's first visitor comes while another program (the command line, a second server) holds the base
    read-only: the app reads the base (its upgrade waits for a later start) instead of failing on the lock."""
    from ui import data

    holder = subprocess.Popen(
        [sys.executable, "-c", "import duckdb, sys, time; c = duckdb.connect(sys.argv[1], read_only=True); "
                               "print('ouverte', flush=True); time.sleep(300)", str(demo_db)],
        stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "ouverte"
        data._connection.clear()
        cur = data._connection(str(demo_db)).cursor()
        try:
            total = cur.execute("SELECT sum(montant_accorde) FROM financement").fetchone()[0]
        finally:
            cur.close()
        assert abs(float(total) - demo_expect.financements()["montant_accorde"].sum()) < 0.01
    finally:
        holder.kill()
        holder.wait()
        data._connection.clear()
