"""Backup and restore: consistent copies, the app's in-process backup, the CLI refusing a locked file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import duckdb
import pytest

from cdv_core import auth, backup, gestion, schema
from tests.conftest import REPO_ROOT

MARIE = auth.User("marie", "Marie", frozenset({auth.GESTIONNAIRE}), "local")
FIN = b"action_id;annee;financeur;montant_accorde\nCALL-2022-0410;2022;caf;3000\n"


def contents(path) -> dict[str, tuple]:
    """Row count and an order-independent checksum of every table of the database at `path`."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        tables = [r[0] for r in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' ORDER BY 1").fetchall()]
        return {t: con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x").fetchone() for t in tables}
    finally:
        con.close()


def cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "cdv_core", *args], capture_output=True, text=True, cwd=REPO_ROOT,
                          timeout=300, env=env)


def test_cli_backup_then_restore_round_trip(demo_db, tmp_path):
    original = contents(demo_db)
    out = cli("backup", "--db", str(demo_db), "--to", str(tmp_path / "sauvegardes"))
    assert out.returncode == 0, out.stderr
    saved = list((tmp_path / "sauvegardes").glob("cdv_*.duckdb"))
    assert len(saved) == 1 and str(saved[0]) in out.stdout
    assert contents(saved[0]) == original

    # change the base, then restore the backup
    con = schema.connect(demo_db)
    gestion.commit_import(con, [gestion.Upload("f.csv", FIN)], MARIE)
    con.close()
    changed = contents(demo_db)
    assert changed != original
    out = cli("restore", "--db", str(demo_db), str(saved[0]))
    assert out.returncode == 0, out.stderr
    restored = contents(demo_db)
    # every table is back as saved; `meta` also gained the restore token (see test_restore.py)
    skip = ("meta", "journal_acces")  # the restore token, and who restored what
    assert {t: v for t, v in restored.items() if t not in skip} == {t: v for t, v in original.items() if t not in skip}
    assert restored["meta"][0] == original["meta"][0] + 1
    assert restored["journal_acces"][0] == 1
    kept = list(tmp_path.glob("demo.avant-restauration-*.duckdb"))
    assert len(kept) == 1 and contents(kept[0]) == changed  # the replaced base is kept, not lost
    # the restored base still takes imports (its journal numbering carries on)
    con = schema.connect(demo_db)
    try:
        result = gestion.commit_import(con, [gestion.Upload("f.csv", FIN)], MARIE)[0]
        assert result.import_id > max(r[0] for r in con.execute(
            "SELECT import_id FROM import_journal WHERE import_id < ?", [result.import_id]).fetchall())
    finally:
        con.close()


def test_cli_refuses_a_database_the_app_is_writing(demo_db, tmp_path):
    """While the app holds the base for a write, the CLI waits, then refuses in French and writes nothing."""
    earlier = backup.backup_file(demo_db, tmp_path / "anciennes")
    holder = schema.connect(demo_db)  # this process plays the app in the middle of a write
    env = {**os.environ, "CDV_LOCK_WAIT": "1"}
    try:
        out = cli("backup", "--db", str(demo_db), "--to", str(tmp_path / "b"), env=env)
        assert out.returncode == 1
        assert "en cours d'écriture" in out.stderr and "relancez la commande" in out.stderr
        assert "Traceback" not in out.stderr
        assert not (tmp_path / "b").exists() or not list((tmp_path / "b").glob("*.duckdb"))
        out = cli("restore", "--db", str(demo_db), str(earlier), env=env)
        # replacing the file under a running app is refused: the person is told to stop it first
        assert out.returncode == 1 and "Arrêtez l'application" in out.stderr and "Traceback" not in out.stderr
    finally:
        holder.close()


def test_restore_refuses_a_file_that_is_not_a_backup(demo_db, tmp_path):
    bogus = tmp_path / "pas_une_base.duckdb"
    bogus.write_bytes(b"bonjour")
    before = contents(demo_db)
    out = cli("restore", "--db", str(demo_db), str(bogus))
    assert out.returncode == 1 and "n'est pas" in out.stderr
    assert contents(demo_db) == before
    empty = tmp_path / "vide.duckdb"
    duckdb.connect(str(empty)).close()
    with pytest.raises(backup.BackupError, match="pas une sauvegarde"):
        backup.restore(empty, demo_db)


def test_in_app_backup_is_consistent_while_readers_and_writers_run(demo_db, tmp_path):
    """The app's button: same process, shared connection, imports waiting on the write lock."""
    con = schema.connect(demo_db)
    reader = con.cursor()
    reader.execute("BEGIN TRANSACTION")
    reader.execute("SELECT count(*) FROM financement").fetchone()  # an open read transaction
    done = {}

    def import_meanwhile():
        cur = con.cursor()
        try:
            done["result"] = gestion.commit_import(cur, [gestion.Upload("f.csv", FIN)], MARIE)[0]
        finally:
            cur.close()

    try:
        con.execute("INSERT INTO meta VALUES ('marqueur', 'avant sauvegarde')")  # in the write-ahead log only
        thread = threading.Thread(target=import_meanwhile)
        thread.start()
        saved = gestion.backup_now(con, demo_db, tmp_path / "sauvegardes", MARIE)
        thread.join()
        reader.execute("COMMIT")
        journal_in_backup = contents(saved)["import_journal"][0]
        journal_now = con.execute("SELECT count(*) FROM import_journal").fetchone()[0]
        # the copy holds either all of the concurrent import or none of it, never a part
        assert journal_in_backup in (journal_now - 1, journal_now)
        copy = duckdb.connect(str(saved), read_only=True)
        try:
            assert copy.execute("SELECT valeur FROM meta WHERE cle = 'marqueur'").fetchone() == ("avant sauvegarde",)
            n_fin = copy.execute("SELECT count(*) FROM financement WHERE action_id = 'CALL-2022-0410' "
                                 "AND annee = 2022").fetchone()[0]
        finally:
            copy.close()
        assert n_fin == (1 if journal_in_backup == journal_now else 4)
    finally:
        reader.close()
        con.close()


def test_two_backups_in_the_same_second_do_not_overwrite(demo_db, tmp_path):
    first = backup.backup_file(demo_db, tmp_path)
    second = backup.backup_file(demo_db, tmp_path)
    assert first != second and first.exists() and second.exists()


def test_backup_while_a_reader_blocks_the_checkpoint(demo_db, tmp_path):
    """A page still reading an older state prevents CHECKPOINT: the log is copied and replayed instead."""
    con = schema.connect(demo_db)
    reader = con.cursor()
    try:
        reader.execute("BEGIN TRANSACTION")
        reader.execute("SELECT count(*) FROM financement").fetchone()
        writer = con.cursor()
        gestion.commit_import(writer, [gestion.Upload("f.csv", FIN)], MARIE)
        writer.close()
        with pytest.raises(duckdb.TransactionException):
            con.execute("CHECKPOINT")  # the situation this test is about
        saved = gestion.backup_now(con, demo_db, tmp_path / "sauvegardes", MARIE)
        reader.execute("COMMIT")
        assert not (tmp_path / "sauvegardes" / (saved.name + ".wal")).exists()
        con.execute("CHECKPOINT")
        live = contents_of(con)
        assert live.pop("journal_acces")[0] == 1  # the backup is journaled in the live base, after the copy
        assert contents(saved) == live
    finally:
        reader.close()
        con.close()


def contents_of(con) -> dict[str, tuple]:
    tables = [r[0] for r in con.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_type = 'BASE TABLE' "
        "AND table_catalog = current_database() ORDER BY 1").fetchall()]
    return {t: con.execute(f"SELECT count(*), coalesce(sum(hash(x)), 0) FROM {t} x").fetchone() for t in tables}
