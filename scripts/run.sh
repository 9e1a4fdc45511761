#!/usr/bin/env bash
# Install the app's requirements, build (or check) the database, and run the app on it.
#   bash scripts/run.sh                      # http://localhost:8501
#   CDV_DB=/path/to/base.duckdb bash scripts/run.sh
# Extra arguments go to `streamlit run` (e.g. --server.port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
if command -v python >/dev/null 2>&1; then PY=python; else PY=python3; fi
"$PY" -m pip install -q -r requirements.txt
# The database is ready before the server accepts its first visitor (built from the demo the first time).
"$PY" -m cdv_core ensure
# The app's modules are imported before the first visitor arrives (scripts/serve.py runs `streamlit run serveur.py`).
exec "$PY" scripts/serve.py --server.headless true --browser.gatherUsageStats false "$@"
