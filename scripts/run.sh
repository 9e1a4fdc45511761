#!/usr/bin/env bash
# Install the app's requirements and run it on the bundled demo data.
#   bash scripts/run.sh                      # http://localhost:8501
#   CDV_DB=/path/to/base.duckdb bash scripts/run.sh
# Extra arguments go to `streamlit run` (e.g. --server.port 8080).
set -euo pipefail
cd "$(dirname "$0")/.."
export PIP_BREAK_SYSTEM_PACKAGES=1 PIP_DISABLE_PIP_VERSION_CHECK=1 PIP_NO_INPUT=1 PIP_ROOT_USER_ACTION=ignore
if command -v python >/dev/null 2>&1; then PY=python; else PY=python3; fi
"$PY" -m pip install -q -r requirements.txt
exec "$PY" -m streamlit run serveur.py --server.headless true --browser.gatherUsageStats false "$@"
