"""Command line: `python -m cdv_core import|check|summary|engagements|undo|demo|journal|survey|backup|restore|
hash-password ...`.

Exit codes: 0 done, 1 a file was rejected (or an undo refused), 2 usage error.
"""

from __future__ import annotations

import argparse
import csv
import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pandas as pd

from cdv_core import auth, demo, errors, exports, fmt, gestion, importer, queries, schema
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres
from cdv_core.formats import KINDS, STATUTS


def _n(count: int, word: str, plural: str | None = None) -> str:
    """`1 ligne`, `0 erreur`, `200000 lignes`: a count in the terminal (digits only, to be found by grep) and its
    word in agreement (singular below 2)."""
    return f"{count} {fmt.accord(count, word, plural)}"


def _read_files(parser: argparse.ArgumentParser, files: list[str]) -> list[tuple[str, bytes]]:
    out = []
    for name in files:
        path = Path(name)
        if not path.is_file():
            parser.error(f"fichier introuvable : {name}")
        out.append((name, path.read_bytes()))
    return out


class _NeutralCsv:
    """CSV on standard output whose text cells cannot run as spreadsheet formulas (see exports.neutralise)."""

    def __init__(self):
        self._writer = csv.writer(sys.stdout, lineterminator="\n")

    def writerow(self, row) -> None:
        self._writer.writerow([exports.neutralise(v) for v in row])


def _csv_out() -> _NeutralCsv:
    return _NeutralCsv()


def _existing_db(parser: argparse.ArgumentParser, db: str) -> str:
    """`db` if the database file exists; a usage error otherwise (never create an empty base by mistake)."""
    if not Path(db).is_file():
        parser.error(f"base introuvable : {db} (créez-la avec « python -m cdv_core init --db {db} »)")
    return db


CLI_MAX_BYTES = 1 << 40  # files of any size: the importer reads them by columns (reading.limites_for)


def _print_report(report: importer.Report) -> None:
    for issue in report.issues:
        prefix = "" if issue.severity == importer.ERREUR else "avertissement : "
        print(issue.format(report.file_name).replace(": ", ": " + prefix, 1) if prefix
              else issue.format(report.file_name), file=sys.stderr)


def _ordered(files, forced_kind):
    if forced_kind:
        return [(n, d, forced_kind) for n, d in files]
    return importer.sort_for_import(files)


def _with_dispositif(cmd):
    """Run `cmd` with the posts files read as `--dispositif` says (adultes-relais or fonjep), if given."""
    def run(args, parser) -> int:
        from cdv_core import public_files

        with public_files.dispositifs_choisis({"*": getattr(args, "dispositif", None)}):
            return cmd(args, parser)
    run.__doc__ = cmd.__doc__
    return run


# DuckDB's working memory in an import from the command line: beyond it, DuckDB writes to disk what it holds
# (the rows of the transaction, the joins of the fact tables), so that a file of any size imports in bounded
# memory (issue 9: ≤ 1 Go for 1.44 M funding lines). Without it DuckDB may take up to 80 % of the machine.
CLI_IMPORT_DUCKDB_MEMORY = "400MB"


class _ImportBase(gestion.FileBase):
    """The base file of an import from the command line, DuckDB held to CLI_IMPORT_DUCKDB_MEMORY."""

    @contextmanager
    def writing(self) -> Iterator[duckdb.DuckDBPyConnection]:
        with super().writing() as con:
            con.execute(f"SET memory_limit = '{CLI_IMPORT_DUCKDB_MEMORY}'")
            yield con


def cmd_import(args, parser) -> int:
    """All the files of one command in one transaction: every file is written, or none (like the upload page)."""
    files = _read_files(parser, args.files)
    base = _ImportBase(_existing_db(parser, args.db))
    actor = auth.cli_user(args.user)
    uploads = [gestion.Upload(name, data, args.type) for name, data in files]
    del files
    plan = gestion.plan_import(base, uploads, max_bytes=CLI_MAX_BYTES, lean=True)
    del uploads
    for checked in plan.files:
        checked.upload.data = b""  # checked: the reports hold what is written, the files' bytes can go
    for checked in plan.files:
        _print_report(checked.report)
        if not checked.ok:
            print(f"{checked.upload.name} : rejeté, {_n(len(checked.report.errors), 'erreur')}, rien n'a été écrit.",
                  file=sys.stderr)
    if not plan.ok:
        none = ("Le fichier n'a pas été écrit" if len(plan.files) == 1
                else f"Aucun des {len(plan.files)} fichiers n'a été écrit")
        print(f"{none} : un import est tout ou rien ; corrigez les erreurs puis relancez la commande avec tous les "
              "fichiers.", file=sys.stderr)
        return 1
    results = gestion.commit_plan(base, plan, actor)
    for result in results:
        print(f"{result.file_name} : importé ({result.kind}, import n° {result.import_id}) — "
              f"{_n(result.n_rows, 'ligne')}, {_n(result.added, 'ajoutée')}, {_n(result.changed, 'modifiée')}, "
              f"{_n(result.removed, 'supprimée')}.")
    return 0


def cmd_check(args, parser) -> int:
    files = _read_files(parser, args.files)
    if args.db:
        con = schema.connect_read(_existing_db(parser, args.db))
    else:
        con = schema.connect(":memory:")
        demo.load_referentiels(con)
    status = 0
    pending: set[tuple[str, int]] = set()
    try:
        for name, data, kind in _ordered(files, args.type):
            report = gestion.check(con, data, name, kind, pending_actions=pending, max_bytes=CLI_MAX_BYTES)
            _print_report(report)
            if report.ok:
                pending |= importer.pending_keys(report)
                print(f"{name} : valide ({report.kind.code if report.kind else '?'}, {_n(report.n_rows, 'ligne')}, "
                      f"{_n(len(report.warnings), 'avertissement')}).")
            else:
                print(f"{name} : {_n(len(report.errors), 'erreur')}.", file=sys.stderr)
                status = 1
    finally:
        con.close()
    return status


def _parse_where(parser, items: list[str]) -> dict[str, tuple]:
    where: dict[str, list] = {}
    for item in items:
        dim, sep, value = item.partition("=")
        dim = dim.strip()
        if not sep or dim not in queries.DIMENSIONS:
            parser.error(f"--where attend DIM=VALEUR avec DIM parmi {', '.join(queries.DIMENSIONS)} : {item}")
        values: list[str | int] = [v.strip() for v in value.split(",") if v.strip()]
        if dim == "annee":
            try:
                values = [int(v) for v in values]
            except ValueError:
                parser.error(f"année invalide dans --where : {item}")
        if dim == "statut":
            unknown = [str(v) for v in values if v not in STATUTS]
            if unknown:
                parser.error(f"statut inconnu dans --where : {', '.join(unknown)} (possibles : {', '.join(STATUTS)})")
        where.setdefault(dim, []).extend(values)
    return {k: tuple(v) for k, v in where.items()}


def _with_labels(con, df, dims: list[str]):
    """`df` with each dimension's codes replaced by their labels (the code itself when it has none)."""
    from cdv_core.formats import LIBELLES

    names: dict[str, dict] = {}
    for dim in dims:
        if dim in ("pilier", "thematique", "qpv", "contrat", "commune", "financeur"):
            ref = queries.libelles(con, dim)
            names[dim] = dict(zip(ref[dim], ref[f"{dim}_libelle"], strict=True))
        elif dim == "theme":
            names[dim] = dict(con.execute("SELECT DISTINCT theme_code, theme_libelle FROM thematique "
                                          "WHERE theme_code IS NOT NULL").fetchall())
        elif dim in ("statut", "nature", "section", "porteur_type"):
            names[dim] = LIBELLES
        elif dim == "nouvelle":
            names[dim] = {True: "oui", False: "non"}
    df = df.copy()
    for dim, mapping in names.items():
        df[dim] = [None if v is None or v is pd.NA or (isinstance(v, float) and v != v) else mapping.get(v, v)
                   for v in df[dim]]
    return df


def cmd_summary(args, parser) -> int:
    dims = [d.strip() for d in args.by.split(",") if d.strip()]
    bad = [d for d in dims if d not in queries.DIMENSIONS]
    if bad:
        parser.error(f"dimension inconnue : {', '.join(bad)} (possibles : {', '.join(queries.DIMENSIONS)})")
    where = _parse_where(parser, args.where or [])
    if not Path(args.db).exists():
        parser.error(f"base introuvable : {args.db}")
    con = schema.connect_read(args.db)
    try:
        df = queries.aggregate(con, Filtres(), dims, extra_where=where)
        if args.labels:
            df = _with_labels(con, df, dims)
    finally:
        con.close()
    writer = _csv_out()
    # nb_actions: financed actions (granted or paid, granted amount > 0); nb_dossiers: every file, any statut.
    writer.writerow([*dims, "nb_actions", "montant_accorde", "nb_dossiers"])
    for row in df.itertuples(index=False):
        values = [getattr(row, d) for d in dims]
        writer.writerow([*("" if v is None else v for v in values), int(row.nb_actions),
                         f"{float(row.montant_accorde):.2f}", int(row.nb_dossiers)])
    return 0


def cmd_engagements(args, parser) -> int:
    from cdv_core import engagements

    con = schema.connect_read(_existing_db(parser, args.db))  # works while the app runs
    try:
        rows = engagements.lignes_cli(con, args.annee)
    finally:
        con.close()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow(["engagement_id", "signataire", "statut", "valeur", "valeur_cible", "montant_engage",
                     "montant_realise_cumule"])
    writer.writerows(rows)
    return 0


def cmd_undo(args, parser) -> int:
    base = gestion.FileBase(_existing_db(parser, args.db))
    try:
        result = gestion.undo(base, args.import_id, auth.cli_user(args.user))
    except importer.UndoRefused as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"Import annulé (annulation n° {result.import_id}) : "
          f"{_n(result.added, 'ligne rétablie', 'lignes rétablies')}, {_n(result.changed, 'modifiée')}, "
          f"{_n(result.removed, 'retirée')}.")
    return 0


def cmd_demo(args, parser) -> int:
    path = Path(args.db)
    if path.exists() and not args.force:
        parser.error(f"{path} existe déjà (ajoutez --force pour le remplacer)")
    demo.new_database(path, demo=True)
    print(f"Base de démonstration créée : {path}")
    return 0


def cmd_ensure(args, parser) -> int:
    """The app's database ready before the server starts: built from the demo if missing, else checked."""
    import time

    path = Path(args.db) if args.db else demo.database_path()
    if not path.exists():
        print(f"Construction de la base de démonstration ({path})…", flush=True)
        t0 = time.perf_counter()
        demo.new_database(path, demo=True)
        print(f"Base de démonstration prête en {time.perf_counter() - t0:.0f} s : {path}", flush=True)
        return 0
    try:
        con = schema.connect(path, read_only=True)
    except duckdb.Error:
        print(f"La base {path} ne peut pas être ouverte : ce n'est pas une base DuckDB valide, ou un autre "
              "programme l'utilise (l'application est-elle déjà lancée ?).", file=sys.stderr)
        return 1
    try:
        n_imports = con.execute("SELECT count(*) FROM import_journal").fetchall()[0][0]
        n_actions = con.execute("SELECT count(*) FROM action").fetchall()[0][0]
    except duckdb.Error:
        print(f"{path} n'est pas une base du tableau de bord (tables absentes).", file=sys.stderr)
        return 1
    finally:
        con.close()
    print(f"Base prête : {path} ({n_actions} actions-années, {n_imports} imports au journal)", flush=True)
    return 0


def cmd_init(args, parser) -> int:
    path = Path(args.db)
    if path.exists():
        parser.error(f"{path} existe déjà")
    demo.new_database(path, demo=False)
    print(f"Base vide créée avec les référentiels : {path}")
    return 0


def cmd_journal(args, parser) -> int:
    con = schema.connect_read(_existing_db(parser, args.db))
    try:
        df = importer.journal(con)
    finally:
        con.close()
    exports.neutralise_frame(df).to_csv(sys.stdout, index=False)
    return 0


def cmd_survey(args, parser) -> int:
    from cdv_core import surveys

    if not args.list and not args.question:
        parser.error("indiquez --question CODE (ou --list pour la liste des questions)")
    types = tuple(t.strip() for t in (args.type_repondant or "").split(",") if t.strip())
    seuil = surveys.seuil_anonymat()
    con = schema.connect_read(_existing_db(parser, args.db))
    try:
        if args.list:
            qs = surveys.questions(con, args.enquete)
            writer = _csv_out()
            writer.writerow(["question", "libelle_question", "forme", "echelle", "items", "nb_repondants"])
            for r in qs.itertuples(index=False):
                echelle = r.echelle if isinstance(r.echelle, str) else ""
                writer.writerow([r.question, r.libelle_question, r.forme, echelle, "|".join(r.items),
                                 int(r.nb_repondants)])
            return 0
        res = surveys.resultats(con, args.enquete, args.question, types, seuil)
    except surveys.EnqueteErreur as exc:
        print(exc.message, file=sys.stderr)
        return 1
    finally:
        con.close()
    writer = _csv_out()
    writer.writerow(["item", "reponse", "n", "pct"])
    for r in res.itertuples(index=False):
        if r.masque:
            print(f"{r.item or 'ensemble'} : {surveys.message_anonymat(seuil, r.motif)}, résultat masqué (anonymat).",
                  file=sys.stderr)
            continue
        writer.writerow([r.item, r.reponse, int(r.n), f"{float(r.pct):.1f}"])
    return 0


def cmd_backup(args, parser) -> int:
    """Works while the app runs: the base is opened read-only (the copy is consistent, no one can write)."""
    from cdv_core import backup

    try:
        dest = gestion.backup_read_only(_existing_db(parser, args.db), args.to, auth.cli_user())
    except backup.BackupError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"Sauvegarde écrite : {dest}")
    return 0


def cmd_restore(args, parser) -> int:
    from cdv_core import backup

    try:
        kept = gestion.restore(args.backup, args.db, auth.cli_user())
    except backup.BackupError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    print(f"Base {args.db} restaurée depuis {args.backup}."
          + (f" L'ancienne base est conservée dans {kept}." if kept else ""))
    return 0


def cmd_hash_password(args, parser) -> int:
    import getpass

    from cdv_core import auth

    if sys.stdin.isatty():
        password = getpass.getpass("Mot de passe : ")
        if getpass.getpass("Le même, pour vérifier : ") != password:
            print("Les deux saisies diffèrent.", file=sys.stderr)
            return 1
    else:
        password = sys.stdin.readline().rstrip("\r\n")
    if len(password) < auth.MIN_PASSWORD:
        print(f"Mot de passe trop court ({len(password)} caractères) : {auth.MIN_PASSWORD} caractères au moins.",
              file=sys.stderr)
        return 1
    print(auth.hash_password(password))
    return 0


# argparse's own words (usage line, section titles, -h, error messages) in French: its texts go through the
# module's gettext functions, which the command line replaces while it builds and reads its arguments.
ARGPARSE_FR = {
    "usage: ": "usage : ",
    "positional arguments": "arguments",
    "options": "options",
    "show this help message and exit": "afficher cette aide et quitter",
    "%(prog)s: error: %(message)s\n": "%(prog)s : erreur : %(message)s\n",
    "the following arguments are required: %s": "arguments obligatoires manquants : %s",
    "unrecognized arguments: %s": "arguments non reconnus : %s",
    "invalid choice: %(value)r (choose from %(choices)s)": "choix invalide : %(value)r (possibles : %(choices)s)",
    "invalid %(type)s value: %(value)r": "valeur invalide : %(value)r",
    "argument %(argument_name)s: %(message)s": "argument %(argument_name)s : %(message)s",
    "expected one argument": "une valeur attendue",
    "expected at most one argument": "une valeur au plus attendue",
    "expected at least one argument": "une valeur au moins attendue",
    "ambiguous option: %(option)s could match %(matches)s": "option ambiguë : %(option)s peut désigner %(matches)s",
    "not allowed with argument %s": "incompatible avec l'argument %s",
    "one of the arguments %s is required": "l'un des arguments %s est obligatoire",
    "ignored explicit argument %r": "valeur ignorée : %r",
    "unknown parser %(parser_name)r (choices: %(choices)s)":
        "commande inconnue : %(parser_name)r (possibles : %(choices)s)",
    "can't open '%(filename)s': %(error)s": "impossible d'ouvrir « %(filename)s » : %(error)s",
    "unexpected option string: %s": "option inattendue : %s",
}


def _gettext_fr(message: str) -> str:
    return ARGPARSE_FR.get(message, message)


def _ngettext_fr(singular: str, plural: str, n: int) -> str:
    if singular == "expected %s argument":
        return "%s valeur attendue" if n == 1 else "%s valeurs attendues"
    return singular if n == 1 else plural


def _french_argparse() -> None:
    argparse._ = _gettext_fr  # type: ignore[attr-defined]
    argparse.ngettext = _ngettext_fr  # type: ignore[attr-defined]


class _Parser(argparse.ArgumentParser):
    """An argument parser whose texts are French: `-h, --help` described in French, sections titled in French."""

    def __init__(self, *args, **kwargs):
        _french_argparse()
        kwargs.setdefault("add_help", False)
        super().__init__(*args, **kwargs)
        # argparse writes a section's title then ":" — French puts a space before it
        self._positionals.title = "arguments "
        self._optionals.title = "options "
        self.add_argument("-h", "--help", action="help", default=argparse.SUPPRESS,
                          help="afficher cette aide et quitter")


DB_HELP = "chemin de la base DuckDB (fichier .duckdb), ex. data/cdv.duckdb"
DISPOSITIFS = ("adultes-relais", "fonjep")
DISPOSITIF_HELP = ("dispositif d'un fichier de postes (open data ANCT) quand ni ses identifiants ni son nom ne le "
                   "disent")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="python -m cdv_core",
                     description="Tableau de bord des contrats de ville : imports, contrôles, totaux et sauvegardes "
                                 "en ligne de commande.",
                     epilog="Aide d'une commande : python -m cdv_core COMMANDE --help. Codes de sortie : 0 fait, "
                            "1 fichier refusé (ou annulation refusée), 2 erreur d'utilisation.")
    sub = parser.add_subparsers(dest="command", required=True, title="commandes ", metavar="COMMANDE",
                                parser_class=_Parser)
    kinds = sorted(KINDS)
    dims = ", ".join(queries.DIMENSIONS)
    type_help = f"type des fichiers, s'il n'est pas reconnu d'après leurs colonnes ({', '.join(kinds)})"

    p = sub.add_parser("import", help="importer des fichiers (CSV ou XLSX)",
                       description="Importer des fichiers (CSV ou XLSX) : tout ou rien, journalisé, annulable.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--type", choices=kinds, metavar="TYPE", help=type_help)
    p.add_argument("--user", default=None, metavar="NOM", help="nom inscrit au journal")
    p.add_argument("--dispositif", choices=DISPOSITIFS, metavar="DISPOSITIF",
                   help=DISPOSITIF_HELP + f" ({', '.join(DISPOSITIFS)})")
    p.add_argument("files", nargs="+", metavar="FICHIER", help="fichier(s) à importer (.csv ou .xlsx)")
    p.set_defaults(func=_with_dispositif(cmd_import))

    p = sub.add_parser("check", help="vérifier des fichiers sans rien écrire",
                       description="Vérifier des fichiers sans rien écrire : les erreurs et avertissements qu'un "
                                   "import signalerait.")
    p.add_argument("--db", default=None, metavar="BASE",
                   help=DB_HELP + " ; facultatif : sans base, les codes ne sont pas comparés aux référentiels")
    p.add_argument("--type", choices=kinds, metavar="TYPE", help=type_help)
    p.add_argument("--dispositif", choices=DISPOSITIFS, metavar="DISPOSITIF",
                   help=DISPOSITIF_HELP + f" ({', '.join(DISPOSITIFS)})")
    p.add_argument("files", nargs="+", metavar="FICHIER", help="fichier(s) à vérifier (.csv ou .xlsx)")
    p.set_defaults(func=_with_dispositif(cmd_check))

    p = sub.add_parser("summary", help="totaux en CSV",
                       description="Totaux (montants et actions financées) en CSV sur la sortie standard.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--by", required=True, metavar="DIMENSIONS",
                   help=f"dimensions des totaux, séparées par des virgules, ex. --by annee,pilier (parmi : {dims})")
    p.add_argument("--where", action="append", metavar="DIM=VALEUR[,VALEUR…]",
                   help="ne garder que ces valeurs d'une dimension, ex. --where contrat=CN06202I ; "
                        "répétable (une option par dimension)")
    p.add_argument("--labels", action="store_true",
                   help="libellés au lieu des codes pour chaque dimension (ex. Santé pour la thématique)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("engagements", help="où en est chaque engagement une année donnée, en CSV",
                       description="Où en est chaque engagement une année donnée, en CSV sur la sortie standard.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--annee", required=True, type=int, metavar="ANNEE", help="année du suivi, ex. 2022")
    p.set_defaults(func=cmd_engagements)

    p = sub.add_parser("undo", help="annuler un import (le dernier par défaut)",
                       description="Annuler un import (le dernier par défaut) ; l'annulation est journalisée.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--user", default=None, metavar="NOM", help="nom inscrit au journal")
    p.add_argument("import_id", nargs="?", type=int, metavar="NUMERO",
                   help="numéro de l'import à annuler (voir la commande journal) ; par défaut le dernier")
    p.set_defaults(func=cmd_undo)

    p = sub.add_parser("demo", help="créer la base de démonstration",
                       description="Créer la base de démonstration (territoire de la CA de Lens-Liévin).")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--force", action="store_true", help="remplacer la base si elle existe déjà")
    p.set_defaults(func=cmd_demo)

    p = sub.add_parser("ensure", help="préparer la base de l'application (démonstration si elle n'existe pas)",
                       description="Préparer la base de l'application : la créer avec la démonstration si elle "
                                   "n'existe pas, la mettre à jour sinon.")
    p.add_argument("--db", metavar="BASE", help="chemin de la base (par défaut CDV_DB, sinon data/cdv.duckdb)")
    p.set_defaults(func=cmd_ensure)

    p = sub.add_parser("init", help="créer une base vide (référentiels seulement)",
                       description="Créer une base vide : référentiels (communes, quartiers, financeurs…) seulement.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.set_defaults(func=cmd_init)

    p = sub.add_parser("journal", help="afficher le journal des imports",
                       description="Afficher le journal des imports (numéro, date, auteur, fichiers, lignes).")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.set_defaults(func=cmd_journal)

    p = sub.add_parser("survey", help="résultats d'une question d'enquête en CSV (item,reponse,n,pct)",
                       description="Résultats d'une question d'enquête en CSV (item,reponse,n,pct) ; les réponses "
                                   "trop peu nombreuses pour rester anonymes sont regroupées.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--enquete", required=True, metavar="CODE", help="code de l'enquête, ex. EVAL2022-COMMUNES")
    p.add_argument("--question", metavar="CODE", help="code de la question")
    p.add_argument("--list", action="store_true", help="lister les questions de l'enquête")
    p.add_argument("--type-repondant", metavar="TYPES", help="types de répondant, séparés par des virgules")
    p.set_defaults(func=cmd_survey)

    p = sub.add_parser("backup", help="sauvegarder la base (copie cohérente) dans un dossier",
                       description="Sauvegarder la base (copie cohérente, même application ouverte) dans un dossier.")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("--to", required=True, metavar="DOSSIER", help="dossier des sauvegardes")
    p.set_defaults(func=cmd_backup)

    p = sub.add_parser("restore", help="remplacer la base par une sauvegarde (application arrêtée)",
                       description="Remplacer la base par une sauvegarde (application arrêtée).")
    p.add_argument("--db", required=True, metavar="BASE", help=DB_HELP)
    p.add_argument("backup", metavar="SAUVEGARDE", help="fichier de sauvegarde (cdv_AAAAMMJJ-HHMMSS.duckdb)")
    p.set_defaults(func=cmd_restore)

    p = sub.add_parser("hash-password", help="empreinte d'un mot de passe pour .streamlit/secrets.toml",
                       description="Empreinte d'un mot de passe pour .streamlit/secrets.toml (saisi deux fois au "
                                   "clavier, ou lu sur l'entrée standard).")
    p.set_defaults(func=cmd_hash_password)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args, parser)
    except CdvError as exc:
        print(exc.message, file=sys.stderr)
        return 1
    except duckdb.Error as exc:
        print(errors.from_duckdb(exc, getattr(args, "db", None)).message, file=sys.stderr)
        return 1
    except BrokenPipeError:
        # The reader went away (`... | head`): stop quietly, without a traceback.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0


if __name__ == "__main__":
    sys.exit(main())
