#!/usr/bin/env bash
# Install everything the tests need, then lint and test.
#   bash scripts/test.sh            # full run (what CI runs through .ci/run)
#   bash scripts/test.sh -k smoke   # extra arguments go to pytest
# Needs root (or sudo) only the first time, to apt-get install Debian's chromium.
set -euo pipefail
cd "$(dirname "$0")/.."

export DEBIAN_FRONTEND=noninteractive
# Debian's system Python is "externally managed" (PEP 668); we install into it on purpose.
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore

if command -v python >/dev/null 2>&1; then PY=python; else PY=python3; fi

# 1. Debian's chromium (e2e tests launch /usr/bin/chromium; we never run `playwright install`).
if [ ! -x /usr/bin/chromium ]; then
    SUDO=""
    if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
    echo "== apt-get install chromium"
    $SUDO apt-get update -qq
    $SUDO apt-get install -y -qq chromium >/dev/null
fi

# 2. Python packages (fast no-op when already satisfied).
echo "== pip install -r requirements-dev.txt"
"$PY" -m pip install -q -r requirements-dev.txt

# 3. Lint.
echo "== ruff check ."
"$PY" -m ruff check .

# 4. Types (cdv_core, zero errors) and import contracts (cdv_core never imports streamlit/ui; reading modules
#    never import the writing ones). Configuration in pyproject.toml.
echo "== mypy"
"$PY" -m mypy
echo "== lint-imports"
"$(dirname "$("$PY" -c "import sys; print(sys.executable)")")/lint-imports"

# 5. Tests (exit code 5 = no tests collected is a failure, as pytest reports it), on two processes: the
#    end-to-end tests all on one (one browser, one shared app server), the unit tests shared by both
#    (the scheduler is in tests/conftest.py).
echo "== pytest"
exec "$PY" -m pytest -n 2 "$@"
