"""Building a database: the shipped referentials, then the demo territory through the importer."""

from __future__ import annotations

import os
from pathlib import Path

import duckdb
import pandas as pd

from cdv_core import contours, importer, nomenclatures, schema

ROOT = Path(__file__).resolve().parent.parent
DATA_DIR = ROOT / "data"
REFERENTIELS_DIR = DATA_DIR / "referentiels"
GEO_DIR = DATA_DIR / "geo"
DEMO_DIR = DATA_DIR / "demo"
DEFAULT_DB = DATA_DIR / "cdv.duckdb"
DEMO_USER = "démonstration"


def _csv(name: str) -> pd.DataFrame:
    return pd.read_csv(REFERENTIELS_DIR / name, dtype=str, keep_default_na=False)


def _insert(con: duckdb.DuckDBPyConnection, table: str, df: pd.DataFrame) -> None:
    df = df.replace({"": None})
    con.register("_ref", df)
    try:
        con.execute(f"INSERT OR REPLACE INTO {table} BY NAME SELECT * FROM _ref")
    finally:
        con.unregister("_ref")


def load_referentiels(con: duckdb.DuckDBPyConnection) -> None:
    """Load the shipped referentials and contours (France-wide), replacing rows with the same code."""
    con.execute("BEGIN TRANSACTION")
    try:
        _insert(con, "commune", _csv("communes.csv").astype({"population": "Int64"}, errors="ignore"))
        _insert(con, "epci", _csv("epci.csv"))
        _insert(con, "contrat", _csv("contrats.csv"))
        _insert(con, "pilier", _csv("piliers.csv"))
        _insert(con, "financeur", _csv("financeurs.csv"))
        them = _csv("thematiques.csv").rename(columns={"sous_theme_code": "code", "sous_theme_libelle": "libelle"})
        _insert(con, "thematique", them)
        qpv = _csv("qpv.csv")
        _insert(con, "qpv", qpv)
        links = qpv[["code_qpv", "communes_insee"]].assign(
            code_insee=qpv["communes_insee"].str.split("|")).explode("code_insee")
        links = links[links["code_insee"].fillna("") != ""][["code_qpv", "code_insee"]]
        con.execute("DELETE FROM qpv_commune")
        _insert_plain(con, "qpv_commune", links)
        _insert(con, "indicateur_def", pd.DataFrame([
            ("population", "Population", "hab"),
            ("taux_pauvrete", "Taux de pauvreté", "%"),
            ("revenu_median_uc", "Revenu disponible médian par unité de consommation", "€"),
            ("taux_chomage", "Taux de chômage", "%"),
            ("part_moins_25", "Part des moins de 25 ans", "%"),
        ], columns=["code", "libelle", "unite"]))
        load_contours(con)
        load_nomenclatures(con)
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


# Shipped contours (data/geo, see data/SOURCES.md): file, level, code property, name property.
SHIPPED_CONTOURS = (
    ("departements_france.geojson", "departement", "code", "nom"),
    ("communes_call.geojson", "commune", "code_insee", "nom"),
    ("communes_qpv2024_france.geojson", "commune", "code_insee", "nom"),
    ("qpv2024_france.geojson", "qpv", "code_qpv", "nom_qpv"),
)


def load_contours(con: duckdb.DuckDBPyConnection) -> None:
    """The shipped contours (QPV 2024 of all France, communes hosting one, départements) into `contour`."""
    for name, niveau, key, name_key in SHIPPED_CONTOURS:
        path = GEO_DIR / name
        if path.exists():
            _insert(con, "contour", contours.shipped_frame(path, niveau, key, name_key, f"data/geo/{name}"))


def load_nomenclatures(con: duckdb.DuckDBPyConnection) -> None:
    """The 2020-2023 thématique nomenclature (beside the current one), the default thématique -> pilier
    correspondence (the "Non ventilé" pillar is in piliers.csv)."""
    _insert(con, "thematique", nomenclatures.former_frame())
    corr = _csv(nomenclatures.CORRESPONDANCE_FILE)  # contrat '' = every contract of the generation
    con.register("_ref", corr)
    try:
        con.execute("INSERT OR REPLACE INTO thematique_pilier BY NAME SELECT * FROM _ref")
    finally:
        con.unregister("_ref")


def _insert_plain(con, table: str, df: pd.DataFrame) -> None:
    con.register("_ref", df)
    try:
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM _ref")
    finally:
        con.unregister("_ref")


def demo_files() -> list[Path]:
    """The demo territory's upload files, in the order they import."""
    return sorted(DEMO_DIR.glob("*.csv"))


def load_demo(con: duckdb.DuckDBPyConnection) -> list[importer.ImportResult]:
    """Import the demo files through the importer and mark the database as demonstration data."""
    items = [(p.name, p.read_bytes()) for p in demo_files()]
    results = []
    for name, data, kind in importer.sort_for_import(items):
        results.append(importer.import_bytes(con, data, name, kind, user=DEMO_USER))
    con.execute("INSERT OR REPLACE INTO meta VALUES ('demo', 'oui')")
    return results


BLOCK_SIZE = 16_384  # bytes; DuckDB's smallest block size (its default is 262 144)


def new_database(path: str | Path, demo: bool = True) -> None:
    """Create a database file at `path` with the referentials (and the demo); written aside, then renamed."""
    path = Path(path)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    for leftover in (tmp, Path(str(tmp) + ".wal")):
        leftover.unlink(missing_ok=True)
    # Small blocks for the demo: DuckDB gives every table (and each of its journal tables) at least one block, so
    # with its default 256 kio blocks the ~45 mostly small tables of the demo weighed 12 Mo of near-empty blocks
    # (the demo base: 25,5 Mio, of which the contours 8 Mio); 16 kio blocks halve the file (measured: 13,2 Mo).
    # A base made for real data (`init`, national benchmark) keeps DuckDB's default, measured at national scale.
    if demo:
        duckdb.connect(str(tmp), config={"default_block_size": str(BLOCK_SIZE)}).close()
    con = schema.connect(tmp)
    try:
        load_referentiels(con)
        if demo:
            load_demo(con)
        con.execute("CHECKPOINT")
    finally:
        con.close()
    # Rename only a finished file, so an interrupted build never leaves a half-built database behind.
    os.replace(tmp, path)


def ensure_database(path: str | Path) -> Path:
    """The database at `path`, built from the demo first if it does not exist."""
    path = Path(path)
    if not path.exists():
        new_database(path, demo=True)
    else:
        con = schema.connect(path)
        try:
            upgrade(con)
        finally:
            con.close()
    return path


def upgrade(con: duckdb.DuckDBPyConnection) -> None:
    """A database built before the national contours and the 2020-2023 nomenclature gets them, once.

    Its existing rows are left as they are (a thématique already stored is never re-read)."""
    missing_geo = not con.execute("SELECT count(*) FROM contour WHERE source LIKE 'data/geo/%'").fetchall()[0][0]
    missing_nom = not con.execute("SELECT count(*) FROM thematique_pilier").fetchall()[0][0]
    if not (missing_geo or missing_nom):
        return
    con.execute("BEGIN TRANSACTION")
    try:
        if missing_geo:
            load_contours(con)
        if missing_nom:
            load_nomenclatures(con)
            _insert(con, "pilier", _csv("piliers.csv").query("code == 'non_ventile'"))
        con.execute("COMMIT")
    except BaseException:
        con.execute("ROLLBACK")
        raise


def database_path() -> Path:
    """Where the app's database is: `CDV_DB`, else data/cdv.duckdb."""
    return Path(os.environ.get("CDV_DB") or DEFAULT_DB)
