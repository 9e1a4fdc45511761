"""DuckDB schema of the dashboard: referentials, facts and the import journal."""

from __future__ import annotations

import os
import time
from pathlib import Path

import duckdb

from cdv_core import errors, facts

SCHEMA_VERSION = 1
# Keys of the `meta` table: the schema version of the base, and a token changed by every restore (so that what
# the app caches for the replaced base is never shown for the restored one, see `data_version`).
META_SCHEMA_VERSION = "schema_version"
META_RESTAURATION = "restauration"

# Tables whose rows an import may touch; each has a mirror `journal_<table>` holding before/after images.
JOURNALED_TABLES: dict[str, str] = {
    "contrat": """
        code_contrat VARCHAR PRIMARY KEY, libelle VARCHAR, epci_siren VARCHAR, generation VARCHAR,
        pop_qpv BIGINT""",
    "qpv": """
        code_qpv VARCHAR PRIMARY KEY, nom_qpv VARCHAR NOT NULL, communes_insee VARCHAR,
        geographie VARCHAR NOT NULL, population BIGINT, contrat VARCHAR""",
    "qpv_commune": """
        code_qpv VARCHAR NOT NULL, code_insee VARCHAR NOT NULL""",
    "pilier": """
        code VARCHAR PRIMARY KEY, libelle VARCHAR NOT NULL, generation VARCHAR""",
    "thematique": """
        code VARCHAR PRIMARY KEY, libelle VARCHAR NOT NULL, theme_code VARCHAR, theme_libelle VARCHAR""",
    "financeur": """
        code VARCHAR PRIMARY KEY, libelle VARCHAR NOT NULL, categorie VARCHAR, nature_defaut VARCHAR""",
    "action": """
        action_id VARCHAR NOT NULL, annee INTEGER NOT NULL, intitule VARCHAR NOT NULL, porteur VARCHAR NOT NULL,
        porteur_siret VARCHAR, porteur_type VARCHAR, pilier VARCHAR NOT NULL, thematique VARCHAR,
        qpv VARCHAR NOT NULL, contrat VARCHAR, statut VARCHAR NOT NULL, cout_total DOUBLE, nouvelle BOOLEAN,
        nb_beneficiaires BIGINT, public_cible VARCHAR, PRIMARY KEY (action_id, annee)""",
    "action_qpv": """
        action_id VARCHAR NOT NULL, annee INTEGER NOT NULL, code_qpv VARCHAR NOT NULL, part DOUBLE NOT NULL""",
    "financement": """
        action_id VARCHAR NOT NULL, annee INTEGER NOT NULL, financeur VARCHAR NOT NULL,
        montant_accorde DOUBLE NOT NULL, montant_demande DOUBLE, nature VARCHAR NOT NULL, dispositif VARCHAR,
        section VARCHAR NOT NULL""",
    "indicateur_def": """
        code VARCHAR PRIMARY KEY, libelle VARCHAR NOT NULL, unite VARCHAR""",
    "indicateur": """
        territoire VARCHAR NOT NULL, indicateur VARCHAR NOT NULL, annee INTEGER NOT NULL, valeur DOUBLE NOT NULL,
        unite VARCHAR, source VARCHAR, PRIMARY KEY (territoire, indicateur, annee)""",
    "enquete_reponse": """
        enquete VARCHAR NOT NULL, annee INTEGER NOT NULL, repondant VARCHAR NOT NULL,
        type_repondant VARCHAR NOT NULL, question VARCHAR NOT NULL, libelle_question VARCHAR NOT NULL,
        item VARCHAR, reponse VARCHAR NOT NULL""",
    "enquete_diffusion": """
        enquete VARCHAR NOT NULL, type_repondant VARCHAR NOT NULL, nb_sollicites BIGINT NOT NULL,
        PRIMARY KEY (enquete, type_repondant)""",
    # Contours (GeoJSON text, WGS84) of QPV (`niveau` 'qpv'), communes ('commune') and départements
    # ('departement'), with their bounding box; shipped ones loaded at init, others uploaded (FORMATS §8).
    "contour": """
        niveau VARCHAR NOT NULL, code VARCHAR NOT NULL, nom VARCHAR, geojson VARCHAR NOT NULL,
        xmin DOUBLE NOT NULL, ymin DOUBLE NOT NULL, xmax DOUBLE NOT NULL, ymax DOUBLE NOT NULL, source VARCHAR,
        PRIMARY KEY (niveau, code)""",
    # Thématique -> pilier correspondence per contract generation ('' = every contract of the generation).
    "thematique_pilier": """
        generation VARCHAR NOT NULL, contrat VARCHAR NOT NULL, thematique VARCHAR NOT NULL,
        pilier VARCHAR NOT NULL, PRIMARY KEY (generation, contrat, thematique)""",
    # Pillar targets set by staff: share (%) of the credits of `nature` (or 'tous') that should go to `pilier`.
    "cible_pilier": """
        pilier VARCHAR NOT NULL, nature VARCHAR NOT NULL, part_cible DOUBLE NOT NULL, libelle VARCHAR,
        PRIMARY KEY (pilier, nature)""",
    # Commitments of the signatories and quartier roadmaps (FORMATS.md §6); `signataire` holds the funder codes
    # `|`-separated, the first one pilots; `qpv` is `*` (whole contract) or QPV codes `|`-separated.
    "engagement": """
        engagement_id VARCHAR PRIMARY KEY, intitule VARCHAR NOT NULL, signataire VARCHAR NOT NULL,
        contrat VARCHAR, pilier VARCHAR, qpv VARCHAR NOT NULL, debut INTEGER, echeance INTEGER, indicateur VARCHAR,
        valeur_initiale DOUBLE, valeur_cible DOUBLE, unite VARCHAR, montant_engage DOUBLE, nature VARCHAR""",
    # Yearly follow-up of each engagement (FORMATS.md §7).
    "suivi_engagement": """
        engagement_id VARCHAR NOT NULL, annee INTEGER NOT NULL, statut VARCHAR NOT NULL, valeur DOUBLE,
        montant_realise DOUBLE, commentaire VARCHAR, source VARCHAR, PRIMARY KEY (engagement_id, annee)""",
}

# Base geography, loaded once from the shipped files, never uploaded.
STATIC_TABLES: dict[str, str] = {
    "commune": "code_insee VARCHAR PRIMARY KEY, nom VARCHAR NOT NULL, dep VARCHAR, epci_siren VARCHAR, population BIGINT",
    "epci": "epci_siren VARCHAR PRIMARY KEY, nom VARCHAR NOT NULL, type VARCHAR, population BIGINT",
    "qpv_contour": "code_qpv VARCHAR PRIMARY KEY, geojson VARCHAR NOT NULL",
    "commune_contour": "code_insee VARCHAR PRIMARY KEY, geojson VARCHAR NOT NULL",
    "meta": "cle VARCHAR PRIMARY KEY, valeur VARCHAR",
    # Staff's saved views and COPIL meeting sequences (settings, not data: never journaled nor undone).
    "vue_enregistree": "nom VARCHAR PRIMARY KEY, page VARCHAR NOT NULL, query_string VARCHAR, cree_le TIMESTAMP",
    "seance": "nom VARCHAR PRIMARY KEY, titre VARCHAR NOT NULL, date DATE, slides_json VARCHAR NOT NULL, "
              "filtres_query_string VARCHAR, cree_le TIMESTAMP",
}

JOURNAL_DDL = """
CREATE TABLE IF NOT EXISTS import_journal (
    import_id INTEGER PRIMARY KEY,
    horodatage TIMESTAMP NOT NULL,
    utilisateur VARCHAR,
    fichier VARCHAR,
    empreinte VARCHAR,
    type_fichier VARCHAR NOT NULL,
    nb_lignes INTEGER,
    nb_ajoutees INTEGER,
    nb_modifiees INTEGER,
    nb_supprimees INTEGER,
    annule_par INTEGER,
    annule INTEGER
);
CREATE SEQUENCE IF NOT EXISTS import_id_seq START 1;
"""

INDEXES = [
    "CREATE INDEX IF NOT EXISTS idx_financement_action ON financement(action_id, annee)",
    "CREATE INDEX IF NOT EXISTS idx_action_qpv_action ON action_qpv(action_id, annee)",
    "CREATE INDEX IF NOT EXISTS idx_enquete ON enquete_reponse(enquete)",
]


def create_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every table (idempotent)."""
    for name, cols in {**JOURNALED_TABLES, **STATIC_TABLES}.items():
        con.execute(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    for name in JOURNALED_TABLES:
        # Mirror without constraints: the journal keeps several images of the same key.
        con.execute(
            f"CREATE TABLE IF NOT EXISTS journal_{name} AS "
            f"SELECT CAST(NULL AS INTEGER) AS import_id, CAST(NULL AS VARCHAR) AS etat, * FROM {name} LIMIT 0"
        )
    con.execute(JOURNAL_DDL)
    for ddl in INDEXES:
        con.execute(ddl)
    con.execute(
        "INSERT INTO meta VALUES ('schema_version', ?) ON CONFLICT (cle) DO NOTHING", [str(SCHEMA_VERSION)]
    )
    facts.create(con)


def data_version(con: duckdb.DuckDBPyConnection) -> tuple[int, str]:
    """What the app's cached results are keyed on: the journal's last number (changes with every import or undo)
    and the restore token (changes with every restore, even to a base whose journal ends at the same number)."""
    last = con.execute("SELECT coalesce(max(import_id), 0) FROM import_journal").fetchall()[0][0]
    try:
        row = con.execute("SELECT valeur FROM meta WHERE cle = ?", [META_RESTAURATION]).fetchone()
    except duckdb.CatalogException:  # a read-only base of before the meta table
        row = None
    return int(last), (row[0] if row and row[0] else "")


def table_columns(con: duckdb.DuckDBPyConnection, table: str) -> list[str]:
    """Column names of a table, in order."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = ? ORDER BY ordinal_position",
        [table],
    ).fetchall()
    return [r[0] for r in rows]


# seconds a command waits for the app to finish a write before giving up (CDV_LOCK_WAIT to change it)
LOCK_WAIT = float(os.environ.get("CDV_LOCK_WAIT") or 10.0)


def _retrying(open_fn, path: Path, wait: float, sleep=time.sleep):
    """`open_fn()`, retried while another process holds a conflicting lock on the file, for `wait` seconds."""
    deadline = time.monotonic() + wait
    delay = 0.05
    while True:
        try:
            return open_fn()
        except (duckdb.IOException, duckdb.ConnectionException) as exc:
            if not errors.is_lock_error(exc) or time.monotonic() >= deadline:
                raise
        sleep(delay)
        delay = min(delay * 2, 0.5)


def connect_read(path: str | Path, wait: float = LOCK_WAIT) -> duckdb.DuckDBPyConnection:
    """Open an existing base read-only; several programs may do so at once (the app and the command line).

    While a program writes (the app during an import), waits up to `wait` seconds, then raises DatabaseBusy.
    """
    path = Path(path)
    try:
        return _retrying(lambda: connect(path, read_only=True), path, wait)
    except duckdb.Error as exc:
        if errors.is_lock_error(exc):
            raise errors.DatabaseBusy(
                f"La base {path} est en cours d'écriture par un autre programme (sans doute un import dans "
                f"l'application) depuis plus de {wait:g} secondes : relancez la commande dans un instant.") from exc
        raise errors.from_duckdb(exc, path) from exc


def connect_write(path: str | Path, wait: float = LOCK_WAIT) -> duckdb.DuckDBPyConnection:
    """Open the base for writing, waiting up to `wait` seconds for other programs to let it go.

    While the app runs it keeps the base open for reading, so a write from the command line is refused with
    DatabaseBusy, whose message says what to do.
    """
    path = Path(path)
    try:
        return _retrying(lambda: connect(path), path, wait)
    except duckdb.Error as exc:
        if errors.is_lock_error(exc):
            raise errors.DatabaseBusy(
                f"La base {path} est ouverte par un autre programme (sans doute l'application en cours "
                "d'exécution) : DuckDB n'autorise qu'un seul programme à écrire. Faites cette opération depuis "
                "l'application (pages « Importer des données » et « Journal des imports », avec un compte "
                "gestionnaire), ou arrêtez l'application puis relancez la commande.") from exc
        raise errors.from_duckdb(exc, path) from exc


def connect(path: str | Path, read_only: bool = False) -> duckdb.DuckDBPyConnection:
    """Open (and create if needed) the database file at `path`."""
    path = Path(path)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(path), read_only=read_only)
    con.execute("SET enable_progress_bar = false")
    if not read_only:
        create_schema(con)
    return con
