"""Backup and restore of the DuckDB database file.

A backup is a consistent copy of the whole database (data, referentials, import journal): every write
goes through `importer.WRITE_LOCK`, so while it is held the file and its write-ahead log do not change and
can be copied together (after a CHECKPOINT the log is empty; when a reader prevents the checkpoint, the log
is copied too and replayed into the copy).

DuckDB lets one process only open a file for writing. While the app runs it holds the file, so the
command line cannot open it: `backup_file` then raises DatabaseLocked (stop the app, or use the
« Sauvegarder » button of the app, which calls `backup_connection` inside the app's process).
A restore replaces the file: it is only possible with the app stopped.

Every backup carries its schema version (table `meta` of the base) and a sidecar `<backup>.json` holding its
SHA-256 checksum, size, schema version and journal length. `restore` first checks, on a private copy, that the
file is whole (checksum when the sidecar is there, every row of every table read back), that it is a base of
this product (its tables and columns) and of a known schema version (an older one is migrated); it refuses
anything else before touching the live base, and it works over a damaged or missing live base. The restored base
gets a new restore token (`meta`), part of `schema.data_version`, so the app never shows results cached for the
base it replaced.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import uuid
from datetime import datetime
from pathlib import Path

import duckdb

from cdv_core import importer, schema

# A DuckDB database file has this magic number at byte 8.
DUCKDB_MAGIC = b"DUCK"
# The tables (and their columns) any base of this product has had since schema version 1: what makes a file
# "a base of this product" rather than another DuckDB file.
CORE_TABLES = ("import_journal", *schema.JOURNALED_TABLES)

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
    """DuckDB's "Could not set lock on file …: Conflicting lock is held" (not "block", which a damaged file says)."""
    text = str(exc).lower()
    return "set lock" in text or "conflicting lock" in text


def backup_name(now: datetime | None = None) -> str:
    """`cdv_AAAAMMJJ-HHMMSS.duckdb`: sorts by date, never overwrites an earlier backup in the same second."""
    return f"cdv_{(now or datetime.now()):%Y%m%d-%H%M%S}.duckdb"


def _free_name(directory: Path) -> Path:
    stem = backup_name().removesuffix(".duckdb")
    dest, n = directory / f"{stem}.duckdb", 2
    while dest.exists():
        dest, n = directory / f"{stem}_{n}.duckdb", n + 1
    return dest


def sidecar(path: Path) -> Path:
    """The file beside a backup holding its checksum and schema version (`cdv_….duckdb.json`)."""
    return Path(str(path) + ".json")


def file_checksum(path: Path) -> str:
    """SHA-256 of a file, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _expected_columns() -> dict[str, list[str]]:
    """Every table of the current schema and its columns, from an empty base built in memory."""
    con = duckdb.connect(":memory:")
    try:
        schema.create_schema(con)
        tables = [r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()]
        return {t: schema.table_columns(con, t) for t in tables}
    finally:
        con.close()


def _not_a_backup(path: Path, why: str) -> BackupError:
    return BackupError(f"Le fichier {path} n'est pas une sauvegarde utilisable du tableau de bord : {why}. "
                       "Rien n'a été modifié ; choisissez une autre sauvegarde.")


def _schema_version(con) -> int:
    try:
        row = con.execute("SELECT valeur FROM meta WHERE cle = ?", [schema.META_SCHEMA_VERSION]).fetchone()
    except duckdb.CatalogException:
        return 0
    try:
        return int(row[0]) if row else 0
    except (TypeError, ValueError):
        return -1


def verify_database(con, path: Path) -> int:
    """Check that `con` is a whole base of this product; the number of journal entries. BackupError otherwise.

    Reads back every row of every table (a truncated or damaged file fails here), checks the product's tables
    and columns and the schema version (newer than this program's, or unreadable: refused).
    """
    tables = {r[0] for r in con.execute("SELECT table_name FROM duckdb_tables() WHERE NOT temporary").fetchall()}
    missing = [t for t in CORE_TABLES if t not in tables]
    if missing:
        raise _not_a_backup(path, f"il y manque les tables {', '.join(missing[:6])}"
                            + (" …" if len(missing) > 6 else ""))
    expected = _expected_columns()
    for table in CORE_TABLES:
        lacking = [c for c in expected[table] if c not in schema.table_columns(con, table)]
        if lacking:
            raise _not_a_backup(path, f"la table {table} n'a pas les colonnes {', '.join(lacking)}")
    version = _schema_version(con)
    if version < 0 or version > schema.SCHEMA_VERSION:
        raise _not_a_backup(path, f"elle vient d'une version plus récente ou inconnue de l'application (schéma "
                            f"{version}, cette version lit jusqu'au schéma {schema.SCHEMA_VERSION})")
    for table in sorted(tables):
        con.execute(f'SELECT count(*), sum(hash(t)) FROM "{table}" t').fetchone()
    return int(con.execute("SELECT count(*) FROM import_journal").fetchone()[0])


def _looks_like_duckdb(path: Path) -> bool:
    with open(path, "rb") as fh:
        head = fh.read(12)
    return len(head) == 12 and head[8:12] == DUCKDB_MAGIC


def check_backup(path: Path) -> int:
    """Number of journal entries of the backup at `path`; BackupError if it is not a whole base of this product.

    Checks the sidecar's checksum when there is one, then opens the file read-only and reads it all back.
    """
    path = Path(path)
    if not path.is_file():
        raise BackupError(f"Sauvegarde introuvable : {path}.")
    side = sidecar(path)
    if side.is_file():
        try:
            info = json.loads(side.read_text(encoding="utf-8"))
            wanted = str(info["sha256"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise _not_a_backup(path, f"sa fiche {side.name} est illisible") from exc
        if file_checksum(path) != wanted:
            raise _not_a_backup(path, "son empreinte (SHA-256) ne correspond pas à celle notée à la sauvegarde : "
                                "le fichier est incomplet ou abîmé")
    if not _looks_like_duckdb(path):
        raise _not_a_backup(path, "ce n'est pas une base de données DuckDB")
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise _not_a_backup(path, "la base ne s'ouvre pas (fichier tronqué ou abîmé)") from exc
    try:
        return verify_database(con, path)
    except duckdb.Error as exc:
        raise _not_a_backup(path, "une partie de la base ne se relit pas (fichier tronqué ou abîmé)") from exc
    finally:
        con.close()


def write_sidecar(path: Path, journal_entries: int) -> Path:
    """Write `<backup>.json`: checksum, size, schema version, journal entries, date."""
    con = duckdb.connect(str(path), read_only=True)
    try:
        version = _schema_version(con)
    finally:
        con.close()
    side = sidecar(path)
    info = {"produit": "tableau de bord des contrats de ville", "schema_version": version,
            "sha256": file_checksum(path), "octets": path.stat().st_size, "nb_imports": journal_entries,
            "cree_le": datetime.now().isoformat(timespec="seconds")}
    tmp = side.with_name(side.name + ".partiel")
    tmp.write_text(json.dumps(info, ensure_ascii=False, indent=1), encoding="utf-8")
    os.replace(tmp, side)
    return side


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
    write_sidecar(dest, expected)
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


def _prepare(backup_path: Path, tmp: Path) -> None:
    """Copy the backup to `tmp`, migrate it to the current schema, check it whole, give it a new restore token.

    Raises BackupError (and removes `tmp`) when the copy is not a whole base of this product.
    """
    shutil.copyfile(backup_path, tmp)
    try:
        try:
            con = duckdb.connect(str(tmp))
        except duckdb.Error as exc:
            raise _not_a_backup(backup_path, "la base ne s'ouvre pas (fichier tronqué ou abîmé)") from exc
        try:
            verify_database(con, backup_path)
            # an older base (schema version 0: no version noted) gets the tables added since, and its version
            schema.create_schema(con)
            con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (cle) DO UPDATE SET valeur = excluded.valeur",
                        [schema.META_SCHEMA_VERSION, str(schema.SCHEMA_VERSION)])
            token = f"{datetime.now():%Y%m%d-%H%M%S}-{uuid.uuid4().hex[:12]}"
            con.execute("INSERT INTO meta VALUES (?, ?) ON CONFLICT (cle) DO UPDATE SET valeur = excluded.valeur",
                        [schema.META_RESTAURATION, token])
            con.execute("CHECKPOINT")
        except duckdb.Error as exc:
            raise _not_a_backup(backup_path, "une partie de la base ne se relit pas (fichier tronqué ou "
                                "abîmé)") from exc
        finally:
            con.close()
    except BaseException:
        tmp.unlink(missing_ok=True)
        Path(str(tmp) + ".wal").unlink(missing_ok=True)
        raise


def restore(backup_path: str | Path, db_path: str | Path) -> Path | None:
    """Replace the database `db_path` by the backup `backup_path` (the app must be stopped).

    The backup is checked whole, of this product and of a known schema version (an older one is migrated) on a
    private copy before the live base is touched; anything else raises BackupError and changes nothing. The
    replaced database, even damaged, is first kept beside it as `<nom>.avant-restauration-<date>.duckdb`,
    whose path is returned (None when there was no database). Raises DatabaseLocked while the app runs.
    """
    backup_path, db_path = Path(backup_path), Path(db_path)
    check_backup(backup_path)
    if db_path.exists():
        try:
            # opening for writing proves no one else has it, and folds its write-ahead log into the file
            duckdb.connect(str(db_path)).close()
        except duckdb.Error as exc:
            if _is_lock_error(exc):
                raise DatabaseLocked(LOCKED_MESSAGE.format(path=db_path).split(" Arrêtez")[0]
                                     + " Arrêtez l'application avant de restaurer une sauvegarde.") from exc
            # a damaged database is exactly what one restores over; it is kept aside below
    db_path.parent.mkdir(parents=True, exist_ok=True)
    tmp = db_path.with_name(db_path.name + ".restauration")
    _prepare(backup_path, tmp)
    kept = None
    if db_path.exists():
        kept = db_path.with_name(f"{db_path.stem}.avant-restauration-{datetime.now():%Y%m%d-%H%M%S}.duckdb")
        n = 2
        while kept.exists():
            kept = kept.with_name(f"{db_path.stem}.avant-restauration-{datetime.now():%Y%m%d-%H%M%S}_{n}.duckdb")
            n += 1
        shutil.copyfile(db_path, kept)
    wal = Path(str(db_path) + ".wal")
    if wal.exists():  # a log left by the old file would be replayed onto the restored one
        shutil.copyfile(wal, Path(str(kept) + ".wal") if kept else Path(str(wal) + ".ancien"))
        wal.unlink()
    os.replace(tmp, db_path)
    return kept
