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


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory) -> Path:
    """A demo database built once per test session (do not write to it: copy it with `demo_db`)."""
    from cdv_core import demo

    path = tmp_path_factory.mktemp("demo") / "demo.duckdb"
    demo.new_database(path, demo=True)
    return path


@pytest.fixture
def demo_db(demo_db_template: Path, tmp_path: Path) -> Path:
    """A private copy of the demo database, free to modify."""
    import shutil

    path = tmp_path / "demo.duckdb"
    shutil.copy(demo_db_template, path)
    return path


@pytest.fixture
def demo_app_env(demo_db: Path, monkeypatch):
    """Points the app (AppTest) at a private copy of the demo database."""
    monkeypatch.setenv("CDV_DB", str(demo_db))
    return demo_db
