"""Shared pytest fixtures for the whole test suite."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
if str(REPO_ROOT) not in sys.path:
    sys.path.insert(0, str(REPO_ROOT))


@pytest.fixture
def tmp_db(tmp_path: Path) -> Path:
    """Path to a fresh, not yet existing ``*.duckdb`` file in the test's tmp dir."""
    return tmp_path / "cdv_test.duckdb"
