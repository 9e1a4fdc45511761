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


TEST_ACCOUNTS = {"marie": ("Marie Dupont", "gestionnaire"), "test": ("Test", "gestionnaire"),
                 "paul": ("Paul", "lecteur"), "luc": ("Luc", "lecteur")}
TEST_PASSWORD = "mot-de-passe-de-test"  # 20 characters; hashed with few iterations to keep tests fast


def write_secrets(path: Path, accounts: dict[str, tuple[str, str]] | None = None) -> Path:
    """A secrets.toml declaring `accounts` (login -> (name, role)), all with TEST_PASSWORD."""
    from cdv_core import auth

    accounts = TEST_ACCOUNTS if accounts is None else accounts
    digest = auth.hash_password(TEST_PASSWORD, iterations=1000)
    path.write_text("".join(f'[cdv.comptes.{login}]\nnom = "{name}"\nrole = "{role}"\nmot_de_passe = "{digest}"\n\n'
                            for login, (name, role) in accounts.items()), encoding="utf-8")
    return path


@pytest.fixture(scope="session")
def _test_secrets(tmp_path_factory) -> Path:
    return write_secrets(tmp_path_factory.mktemp("secrets") / "secrets.toml")


@pytest.fixture(autouse=True)
def _access_config(request, _test_secrets, monkeypatch):
    """Core and AppTest tests run with TEST_ACCOUNTS declared (the core re-reads the access configuration at
    every write); a test may point CDV_SECRETS elsewhere. End-to-end servers keep their own environment."""
    if "e2e" not in Path(str(request.node.fspath)).parts:
        monkeypatch.setenv("CDV_SECRETS", str(_test_secrets))


@pytest.hookimpl(tryfirst=True)
def pytest_xdist_make_scheduler(config, log):
    """`scripts/test.sh` runs pytest on two processes (pytest-xdist): every end-to-end test goes to one of them,
    in file order, sharing one browser and one app server, while the unit tests are shared out one by one.
    (xdist's own `--dist loadgroup` did not group marked tests with this pytest.)"""
    from xdist.scheduler import LoadScopeScheduling

    class EndToEndTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return "e2e" if nodeid.startswith("tests/e2e/") else nodeid

    return EndToEndTogether(config, log)
