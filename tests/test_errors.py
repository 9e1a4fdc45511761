"""The project's DuckDB error wrapping: a lock is told apart from a corrupt file."""

from __future__ import annotations

import subprocess
import sys

import duckdb

from cdv_core import errors


def test_a_lock_is_a_lock_and_a_corrupt_block_is_not(tmp_path):
    path = tmp_path / "base.duckdb"
    holder = duckdb.connect(str(path))
    try:
        # the message another process really gets while this one holds the file
        out = subprocess.run([sys.executable, "-c", f"import duckdb; duckdb.connect({str(path)!r})"],
                             capture_output=True, text=True, timeout=120)
        lock_text = out.stderr.strip().splitlines()[-1]
    finally:
        holder.close()
    assert "lock" in lock_text.lower()
    assert errors.is_lock_error(duckdb.IOException(lock_text))
    assert not errors.is_lock_error(duckdb.IOException("Corrupt database file: block 12 has an invalid checksum"))
    assert not errors.is_lock_error(ValueError("lock"))  # only DuckDB's errors
