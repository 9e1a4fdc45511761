"""Backup and restore of the DuckDB database file.

A backup is a consistent copy of the whole database (data, referentials, import journal): every write
goes through `importer.WRITE_LOCK`, so while it is held the file and its write-ahead log do not change and
can be copied together (after a CHECKPOINT the log is empty; when a reader prevents the checkpoint, the log
is copied too and replayed into the copy).

DuckDB lets one process only open a file for writing. While the app runs it holds the file, so the
command line cannot open it: `backup_file` then raises DatabaseLocked (stop the app, or use the
« Sauvegarder » button of the app, which calls `backup_connection` inside the app's process).
A restore replaces the file: it is only possible with the app stopped.
"""

from __future__ import annotations

import os
import shutil
from datetime import datetime
from pathlib import Path

import duckdb

from cdv_core import importer

LOCKED_MESSAGE = ("La base {path} est ouverte par un autre programme (sans doute l'application en cours "
                  "d'exécution) : DuckDB n'autorise qu'un programme à la fois. Arrêtez l'application puis "
                  "recommencez, ou utilisez le bouton « Sauvegarder » de la page « Journal des imports ».")


class BackupError(Exception):
    """A backup or restore that cannot be done; `.message` says why in French."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


class DatabaseLocked(BackupError):
    """Another process (the running app) holds the database file."""


def _is_lock_error(exc: Exception) -> bool:
    return "lock" in str(exc).lower()


def backup_name(now: datetime | None = None) -> str:
    """`cdv_AAAAMMJJ-HHMMSS.duckdb`: sorts by date, never overwrites an earlier backup in the same second."""
    return f"cdv_{(now or datetime.now()):%Y%m%d-%H%M%S}.duckdb"


def _free_name(directory: Path) -> Path:
    stem = backup_name().removesuffix(".duckdb")
    dest, n = directory / f"{stem}.duckdb", 2
    while dest.exists():
        dest, n = directory / f"{stem}_{n}.duckdb", n + 1
    return dest


def check_backup(path: Path) -> int:
    """Number of journal entries of the database at `path`; BackupError if it is not a usable database."""
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise BackupError(f"Le fichier {path} n'est pas une base de données lisible ({exc}).") from exc
    try:
        return int(con.execute("SELECT count(*) FROM import_journal").fetchall()[0][0])
    except duckdb.Error as exc:
        raise BackupError(f"Le fichier {path} n'est pas une sauvegarde du tableau de bord "
                          "(pas de journal des imports).") from exc
    finally:
        con.close()


def backup_connection(con: duckdb.DuckDBPyConnection, db_path: str | Path, to_dir: str | Path) -> Path:
    """Copy the database that `con` has open (file `db_path`) into `to_dir`; the path of the copy.

    Used by the app (its own connection) and by `backup_file`. Imports wait while the copy is made.
    """
    db_path, to_dir = Path(db_path), Path(to_dir)
    to_dir.mkdir(parents=True, exist_ok=True)
    wal = Path(str(db_path) + ".wal")
    with importer.WRITE_LOCK:
        try:
            con.execute("CHECKPOINT")
        except duckdb.TransactionException:
            pass  # a reader still sees an older state: the log is copied with the file instead
        expected = int(con.execute("SELECT count(*) FROM import_journal").fetchall()[0][0])
        dest = _free_name(to_dir)
        tmp = dest.with_name(dest.name + ".partiel")
        tmp_wal = Path(str(tmp) + ".wal")
        # no write can commit while the lock is held, so the file and its log are copied in one state
        shutil.copyfile(db_path, tmp)
        if wal.exists():
            shutil.copyfile(wal, tmp_wal)
    if tmp_wal.exists():
        copy = duckdb.connect(str(tmp))  # replays the copied log into the copy, which becomes one file
        try:
            copy.execute("CHECKPOINT")
        finally:
            copy.close()
        tmp_wal.unlink(missing_ok=True)
    os.replace(tmp, dest)
    if check_backup(dest) != expected:
        raise BackupError(f"La copie {dest} ne correspond pas à la base : sauvegarde à refaire.")
    return dest


def backup_file(db_path: str | Path, to_dir: str | Path) -> Path:
    """Back up a database file no other process has open (command line); the path of the copy."""
    db_path = Path(db_path)
    if not db_path.is_file():
        raise BackupError(f"Base introuvable : {db_path}.")
    try:
        con = duckdb.connect(str(db_path))
    except duckdb.IOException as exc:
        if _is_lock_error(exc):
            raise DatabaseLocked(LOCKED_MESSAGE.format(path=db_path)) from exc
        raise BackupError(f"La base {db_path} ne peut pas être ouverte ({exc}).") from exc
    try:
        return backup_connection(con, db_path, to_dir)
    finally:
        con.close()


def restore(backup_path: str | Path, db_path: str | Path) -> Path | None:
    """Replace the database `db_path` by the backup `backup_path` (the app must be stopped).

    The replaced database is first kept beside it as `<nom>.avant-restauration-<date>.duckdb`, whose path
    is returned (None when there was no database). Raises DatabaseLocked while the app runs.
    """
    backup_path, db_path = Path(backup_path), Path(db_path)
    if not backup_path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {backup_path}.")
    check_backup(backup_path)
    kept = None
    if db_path.exists():
        try:
            # opening for writing proves no one else has it, and folds its write-ahead log into the file
            duckdb.connect(str(db_path)).close()
        except duckdb.IOException as exc:
            if _is_lock_error(exc):
                raise DatabaseLocked(LOCKED_MESSAGE.format(path=db_path).split(" Arrêtez")[0]
                                     + " Arrêtez l'application avant de restaurer une sauvegarde.") from exc
            raise BackupError(f"La base {db_path} ne peut pas être ouverte ({exc}).") from exc
        except duckdb.Error:
            pass  # a damaged database is exactly what one restores over; it is kept aside below
        kept = db_path.with_name(f"{db_path.stem}.avant-restauration-{datetime.now():%Y%m%d-%H%M%S}.duckdb")
        shutil.copyfile(db_path, kept)
    tmp = db_path.with_name(db_path.name + ".restauration")
    shutil.copyfile(backup_path, tmp)
    wal = Path(str(db_path) + ".wal")
    if wal.exists():  # a log left by the old file would be replayed onto the restored one
        shutil.copyfile(wal, Path(str(kept) + ".wal") if kept else Path(str(wal) + ".ancien"))
        wal.unlink()
    os.replace(tmp, db_path)
    return kept
