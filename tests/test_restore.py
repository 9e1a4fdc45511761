"""Issue 15: backups that restore. A restore checks the file whole, of this product and of a known schema
version before touching the live base, refuses anything else (the live base unchanged, a French message), works
over a damaged or missing live base, and changes the data version the app's caches are keyed on."""

from __future__ import annotations

import json
import os
import shutil

import duckdb
import pytest

from cdv_core import backup, schema
from tests.test_backup import cli, contents


@pytest.fixture
def saved(demo_db, tmp_path):
    """A backup of the demo base (with its sidecar)."""
    return backup.backup_file(demo_db, tmp_path / "sauvegardes")


def _data(path) -> dict:
    """Every table's contents but `meta` (which a restore stamps with its token) and `journal_acces` (where the
    command line notes who restored what)."""
    return {t: v for t, v in contents(path).items() if t not in ("meta", "journal_acces")}


def refused(backup_path, db_path, *words: str) -> None:
    """The CLI refuses the restore with a French message containing `words`, and the live base is unchanged."""
    before = contents(db_path) if db_path.exists() else None
    out = cli("restore", "--db", str(db_path), str(backup_path))
    assert out.returncode == 1, out.stdout
    assert "Traceback" not in out.stderr
    for word in words:
        assert word in out.stderr, out.stderr
    assert "Rien n'a été modifié" in out.stderr
    if before is not None:
        assert contents(db_path) == before
    else:
        assert not db_path.exists()
    assert not list(db_path.parent.glob("*.restauration*"))


def test_backup_carries_its_schema_version_and_checksum(saved):
    info = json.loads(backup.sidecar(saved).read_text(encoding="utf-8"))
    assert info["schema_version"] == schema.SCHEMA_VERSION
    import hashlib
    assert info["sha256"] == hashlib.sha256(saved.read_bytes()).hexdigest()
    con = duckdb.connect(str(saved), read_only=True)
    try:
        assert con.execute("SELECT valeur FROM meta WHERE cle = 'schema_version'").fetchone()[0] == "1"
    finally:
        con.close()


def test_restore_refuses_a_truncated_backup(saved, demo_db, tmp_path):
    data = saved.read_bytes()
    cut = tmp_path / "coupee.duckdb"
    cut.write_bytes(data[: len(data) // 2])  # the copy to a USB stick stopped halfway; no sidecar
    refused(cut, demo_db, "tronqué ou abîmé")
    # with its sidecar, the checksum says it first
    shutil.copyfile(backup.sidecar(saved), backup.sidecar(cut))
    refused(cut, demo_db, "empreinte (SHA-256) ne correspond pas")


def test_restore_refuses_a_backup_altered_after_it_was_made(saved, demo_db):
    with open(saved, "r+b") as fh:
        fh.seek(os.path.getsize(saved) // 2)
        fh.write(b"\x00\xff" * 8)
    refused(saved, demo_db, "empreinte (SHA-256) ne correspond pas")


def test_restore_refuses_a_foreign_duckdb_file(demo_db, tmp_path):
    foreign = tmp_path / "autre_produit.duckdb"
    con = duckdb.connect(str(foreign))
    con.execute("CREATE TABLE clients (id INTEGER, nom VARCHAR)")
    con.execute("INSERT INTO clients VALUES (1, 'Dupont')")
    con.close()
    refused(foreign, demo_db, "il y manque les tables", "import_journal")


def test_restore_refuses_a_base_of_this_product_missing_a_column(saved, demo_db, tmp_path):
    other = tmp_path / "modifiee.duckdb"
    shutil.copyfile(saved, other)
    con = duckdb.connect(str(other))
    con.execute("ALTER TABLE action DROP COLUMN cout_total")
    con.close()
    refused(other, demo_db, "la table action n'a pas les colonnes cout_total")


def test_restore_refuses_random_bytes(demo_db, tmp_path):
    junk = tmp_path / "hasard.duckdb"
    junk.write_bytes(os.urandom(300_000))
    refused(junk, demo_db, "ce n'est pas une base de données DuckDB")


def test_restore_refuses_a_newer_schema_version(saved, demo_db, tmp_path):
    newer = tmp_path / "future.duckdb"
    shutil.copyfile(saved, newer)
    con = duckdb.connect(str(newer))
    con.execute("UPDATE meta SET valeur = ? WHERE cle = 'schema_version'", [str(schema.SCHEMA_VERSION + 1)])
    con.close()
    refused(newer, demo_db, "version plus récente")


def test_restore_migrates_a_base_without_schema_version(saved, demo_db, tmp_path):
    old = tmp_path / "ancienne.duckdb"
    shutil.copyfile(saved, old)
    con = duckdb.connect(str(old))
    con.execute("DROP TABLE meta")  # bases made before the version was noted
    con.execute("DROP TABLE seance")  # and before the meeting sequences existed
    con.close()
    expected = {t: v for t, v in _data(saved).items() if t != "seance"}
    out = cli("restore", "--db", str(demo_db), str(old))
    assert out.returncode == 0, out.stderr
    restored = _data(demo_db)
    assert restored.pop("seance")[0] == 0  # added, empty
    assert restored == expected
    con = duckdb.connect(str(demo_db), read_only=True)
    try:
        assert con.execute("SELECT valeur FROM meta WHERE cle = 'schema_version'").fetchone()[0] == "1"
    finally:
        con.close()


def test_restore_over_a_corrupt_live_base(saved, demo_db):
    expected = _data(saved)
    with open(demo_db, "r+b") as fh:
        fh.seek(4096)
        fh.write(os.urandom(200_000))
    with pytest.raises(duckdb.Error):
        duckdb.connect(str(demo_db)).close()
    damaged = demo_db.read_bytes()
    out = cli("restore", "--db", str(demo_db), str(saved))
    assert out.returncode == 0, out.stderr
    assert "restaurée" in out.stdout
    assert _data(demo_db) == expected
    kept = list(demo_db.parent.glob("demo.avant-restauration-*.duckdb"))
    assert len(kept) == 1 and kept[0].read_bytes() == damaged  # the damaged base is kept aside, as it was


def test_restore_over_a_missing_live_base(saved, tmp_path):
    target = tmp_path / "nouvelle" / "cdv.duckdb"
    assert backup.restore(saved, target) is None
    assert _data(target) == _data(saved)


def test_restore_changes_the_data_version_even_with_the_same_journal(saved, demo_db):
    con = duckdb.connect(str(demo_db), read_only=True)
    before = schema.data_version(con)
    con.close()
    backup.restore(saved, demo_db)  # the backup of this very base: same journal, same last import number
    con = duckdb.connect(str(demo_db), read_only=True)
    after = schema.data_version(con)
    con.close()
    assert after[0] == before[0] and after != before
    backup.restore(saved, demo_db)
    con = duckdb.connect(str(demo_db), read_only=True)
    again = schema.data_version(con)
    con.close()
    assert again != after
