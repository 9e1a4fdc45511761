"""cdv_core is the domain layer: it must never import streamlit (the CLI and the tests run without it)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORE = ROOT / "cdv_core"


def core_modules() -> list[str]:
    return sorted("cdv_core" if p.name == "__init__.py" else f"cdv_core.{p.stem}" for p in CORE.glob("*.py"))


def test_modules_found():
    mods = core_modules()
    for expected in ("cdv_core.importer", "cdv_core.queries", "cdv_core.reading", "cdv_core.__main__"):
        assert expected in mods


def test_importing_every_module_does_not_load_streamlit():
    code = (
        "import importlib, sys\n"
        f"mods = {core_modules()!r}\n"
        "for m in mods:\n"
        "    importlib.import_module(m)\n"
        "    assert 'streamlit' not in sys.modules, m\n"
        "print('ok', len(mods))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT) + os.pathsep + os.environ.get("PYTHONPATH", "")}
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True,
                       timeout=300)
    assert r.returncode == 0, r.stderr
    assert r.stdout.strip() == f"ok {len(core_modules())}"


def test_sources_never_mention_streamlit_imports():
    pattern = re.compile(r"^\s*(import\s+streamlit|from\s+streamlit\b)|__import__\(\s*['\"]streamlit|"
                         r"import_module\(\s*['\"]streamlit", re.MULTILINE)
    offenders = [p.name for p in CORE.rglob("*.py") if pattern.search(p.read_text(encoding="utf-8"))]
    assert offenders == []
