"""`streamlit run serveur.py` (the app, app.py) with the app's modules imported first, so that the first visitor does not wait for them.

    python scripts/serve.py [streamlit run options]      (scripts/run.sh uses it)
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


def main() -> None:
    t0 = time.perf_counter()
    # Pandas, DuckDB, Altair, pydeck and every section builder: seconds of imports a first page would pay.
    from streamlit.web import cli

    import cdv_core.dossier  # noqa: F401
    import cdv_core.maps  # noqa: F401
    import cdv_core.sections  # noqa: F401
    import ui.filters  # noqa: F401
    import ui.show  # noqa: F401

    print(f"Modules de l'application chargés en {time.perf_counter() - t0:.1f} s ; démarrage du serveur…", flush=True)
    sys.argv = ["streamlit", "run", str(ROOT / "serveur.py"), *sys.argv[1:]]
    sys.exit(cli.main())


if __name__ == "__main__":
    main()
