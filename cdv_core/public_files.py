"""Public files imported as they are published (FORMATS §8): each layout is converted into the product's own
rows, which then go through the importer's usual checks (`importer._validate_rows` and the table builders),
so every guarantee (whole-file check, all or nothing, journal, undo, idempotence) holds.

- ANCT "subventions politique de la ville": one BOP 147 grant per row, an action of its contract (`qpv` = `*`)
  with one funding line; only the rows of échelle `cdv` are imported, the others are counted.
- ANCT adultes-relais / FONJEP posts: one action per post and year.
- INSEE wide statistics (Filosofi QPV…): one value per territory, column and year; secrecy markers counted.
- INSEE `meta_*` files: the labels of the columns of a statistics file.
- The official QPV list (`listeqp2024-cog2024.csv`): one row per QPV and commune.
- Contours (GeoJSON / zipped Shapefile): read by `cdv_core.contours`.
"""

from __future__ import annotations

import contextlib
import contextvars
import hashlib
import re
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pandas as pd

from cdv_core import contours, fmt, importer, nomenclatures, reading
from cdv_core.formats import FINANCEMENTS, PROGRAMMATION, FileKind
from cdv_core.importer import AVERTISSEMENT, ERREUR, Issue, Report
from cdv_core.reading import RawTable, normalize_name

CONVERTED = ("subventions_anct", "postes_anct", "insee_stats", "insee_meta", "liste_qpv")

SECRET_MARKERS = ("s", "nd", "ns", "nc", "so")
ECHELLES = {"nat": ("nationale", "nationales"), "reg": ("régionale", "régionales"),
            "dep": ("départementale", "départementales")}

PROG_COLUMNS = ["action_id", "annee", "intitule", "porteur", "porteur_siret", "porteur_type", "pilier",
                "thematique", "qpv", "contrat", "statut", "public_cible"]
FIN_COLUMNS = ["action_id", "annee", "financeur", "montant_accorde", "nature", "dispositif", "section"]


# --------------------------------------------------------------------------- shared helpers


def _raw(source: RawTable, header: list[str], rows: list[tuple[int, list[str]]]) -> RawTable:
    return RawTable(header=header, header_line=source.header_line, rows=rows, encoding=source.encoding,
                    delimiter=";", sheet=None)


def _rename_issues(issues: list[Issue], start: int, names: dict[str, str]) -> None:
    """Issues found on the converted rows name the columns of the file as published."""
    for issue in issues[start:]:
        if issue.column in names:
            issue.column = names[issue.column]


def _dedupe(issues: list[Issue], start: int) -> None:
    seen = set()
    kept = issues[:start]
    for i in issues[start:]:
        key = (i.line, i.column, i.message, i.severity)
        if key not in seen:
            seen.add(key)
            kept.append(i)
    issues[:] = kept


def _n(n: int, singular: str, plural: str) -> str:
    """"1 subvention importée", "412 subventions importées"."""
    return f"{fmt.nombre(n)} {singular if n <= 1 else plural}"


def _generation(annee: int) -> str:
    return "2015-2023" if annee <= 2023 else "2024-2030"


def _siret(raw: str | None) -> str:
    digits = re.sub(r"\s", "", raw or "")
    return digits if digits.isdigit() and len(digits) == 14 else ""


def _porteur_type(nom: str) -> str:
    up = nom.upper()
    if up.startswith(("COM ", "COMMUNE ", "VILLE ", "MAIRIE ")):
        return "commune"
    if up.startswith(("COMMUNAUTE", "CA ", "CC ", "CU ", "METROPOLE", "MÉTROPOLE")):
        return "epci"
    if up.startswith(("CCAS", "CIAS")):
        return "ccas"
    if up.startswith(("SIVOM", "SIVU", "SYNDICAT")):
        return "etablissement_public"
    return "association"


def _valid_rows(con, raw: RawTable, kind: FileKind, issues: list[Issue]) -> list[dict]:
    return importer._validate_rows(con, raw, kind, issues)


def _write_actions(con, ctx, source: RawTable, prog: list[tuple[int, list[str]]], fin: list[tuple[int, list[str]]],
                   issues: list[Issue], names: dict[str, str]) -> dict[str, pd.DataFrame]:
    """Programmation and financements rows (as strings, with the file's line numbers) checked and built by the
    importer, as one file: the actions, their QPV shares and their funding lines."""
    start = len(issues)
    prows = importer._validate_rows(con, _raw(source, PROG_COLUMNS, prog), PROGRAMMATION, issues)
    tables = importer._tables_programmation(con, ctx, PROGRAMMATION, prows, issues, set()) if prows else {}
    keys = {(r["action_id"], r["annee"]) for r in prows}
    frows = importer._validate_rows(con, _raw(source, FIN_COLUMNS, fin), FINANCEMENTS, issues)
    frows = [r for r in frows if (r["action_id"], r["annee"]) in keys]
    if frows:
        tables.update(importer._tables_financements(con, ctx, FINANCEMENTS, frows, issues, keys))
    _rename_issues(issues, start, names)
    _dedupe(issues, start)
    return tables


def _thematique(ctx, raw: str, annee: int) -> str:
    """The stored code of a thématique when it reads in its year's nomenclature, else the cell as written
    (the importer's check then names the year and the nomenclature)."""
    if not raw:
        return ""
    m = re.match(r"^\s*(\d+(?:\.\d+[a-z]?)?)\b", raw, re.IGNORECASE)
    text = m.group(1) if m else raw
    code, _ = ctx.nomenclature.resolve(text, nomenclatures.nomenclature_of(annee), annee)
    return code or raw


# --------------------------------------------------------------------------- ANCT grants


def action_id_subvention(annee: int, code_tiers: str, lib_action: str, code_cv: str) -> str:
    """Stable identifier of an ANCT grant (the file has none): derived from year, SIRET, title and contract."""
    key = "|".join([str(annee), re.sub(r"\s", "", code_tiers or ""), " ".join((lib_action or "").split()).lower(),
                    (code_cv or "").strip().upper()])
    return "ANCT-" + hashlib.sha1(key.encode("utf-8")).hexdigest()[:12]


def _subventions(con, raw: RawTable, kind: FileKind, report: Report) -> dict[str, pd.DataFrame]:
    issues = report.issues
    found = importer._header_map(kind, raw.header)
    if "echelle" not in found:
        importer._validate_rows(con, raw, kind, issues)  # names the missing columns
        return {}
    skipped: Counter = Counter()
    cdv_rows = []
    for line, cells in raw.rows:
        idx = found["echelle"]
        ech = cells[idx].strip().lower() if idx < len(cells) else ""
        if ech == "cdv":
            cdv_rows.append((line, cells))
        else:
            skipped[ech or "vide"] += 1
    rows = _valid_rows(con, _raw(raw, raw.header, cdv_rows), kind, issues) if cdv_rows else []
    report.n_rows = len(raw.rows)
    ctx = importer._context(con)
    prog: list[tuple[int, list[str]]] = []
    fin: list[tuple[int, list[str]]] = []
    first: dict[tuple[str, int], int] = {}
    non_ventile = 0
    for r in rows:
        annee, code_cv = r["annee"], (r["code_cv"] or "").strip().upper()
        aid = action_id_subvention(annee, r.get("code_tiers") or "", r["lib_action"], code_cv)
        if (aid, annee) in first:
            j = first[(aid, annee)]
            issues.append(Issue(r["_line"], "lib_action", r["lib_action"], f"Même subvention que la ligne "
                                f"{fin[j][0]} (même année, bénéficiaire, action et contrat) : les montants sont "
                                "additionnés.", AVERTISSEMENT, "Rien à faire si ce sont deux versements."))
            fin[j][1][3] = repr(float(fin[j][1][3]) + float(r["montant"]))
            continue
        first[(aid, annee)] = len(fin)
        them = _thematique(ctx, r.get("sous_theme") or r.get("theme") or "", annee)
        pilier = nomenclatures.pilier_for(ctx.correspondance, _generation(annee), code_cv, them)
        non_ventile += pilier == nomenclatures.NON_VENTILE
        siret = _siret(r.get("code_tiers"))
        if r.get("code_tiers") and not siret:
            issues.append(Issue(r["_line"], "code_tiers", r["code_tiers"], "Ce code tiers n'est pas un SIRET "
                                "(14 chiffres) : le porteur est importé sans SIRET.", AVERTISSEMENT))
        prog.append((r["_line"], [aid, str(annee), r["lib_action"], " ".join(r["raison_sociale"].split()), siret,
                                  _porteur_type(r["raison_sociale"]), pilier, them, "*", code_cv, "accordee", ""]))
        fin.append((r["_line"], [aid, str(annee), "etat_bop147", repr(float(r["montant"])), "specifique",
                                 "Contrat de ville", "fonctionnement"]))
    names = {"intitule": "lib_action", "porteur": "raison_sociale", "porteur_siret": "code_tiers",
             "thematique": "sous_theme", "contrat": "code_cv", "qpv": "code_cv", "montant_accorde": "montant"}
    tables = _write_actions(con, ctx, raw, prog, fin, issues, names) if prog else {}
    n_ignored = sum(skipped.values())
    if not cdv_rows:
        issues.append(Issue(raw.header_line, "echelle", None, "Aucune subvention de contrat de ville (échelle "
                            "« cdv ») dans ce fichier : rien à importer.", ERREUR,
                            "Vérifiez que c'est bien le fichier des subventions de votre contrat."))
    parts = [_n(len(prog), "subvention de contrat de ville importée", "subventions de contrats de ville importées")]
    if n_ignored:
        detail = ", ".join(_n(n, *ECHELLES.get(e, (f"d’échelle « {e} »",) * 2)) for e, n in sorted(skipped.items()))
        parts.append(_n(n_ignored, "subvention nationale, régionale ou départementale ignorée",
                        "subventions nationales, régionales ou départementales ignorées") + f" ({detail})")
    report.resume.append(", ".join(parts) + ".")
    if non_ventile:
        report.resume.append(_n(non_ventile, "subvention sans pilier correspondant à sa thématique : rangée",
                                "subventions sans pilier correspondant à leur thématique : rangées")
                             + " dans le pilier « Non ventilé » (correspondance thématique → pilier modifiable "
                             "dans les référentiels).")
    years = sorted({r["annee"] for r in rows})
    if years:
        noms = sorted({nomenclatures.LABELS[nomenclatures.nomenclature_of(y)] for y in years})
        report.resume.append("Thématiques lues dans la " + " et la ".join(noms)
                             + (", selon leur année." if len(noms) > 1 else ", celle de leur année."))
    return tables


# --------------------------------------------------------------------------- adultes-relais / FONJEP posts

AR_ID = re.compile(r"^\d{3,5}R\d{5,7}$", re.IGNORECASE)
FONJEP_ID = re.compile(r"^[A-Z]{1,2}\d{4,6}$", re.IGNORECASE)
POSTES = {
    "adultes_relais": ("AR-", "Poste d'adulte-relais : médiation sociale", "Adultes-relais",
                       {nomenclatures.FORMER: "1.5", nomenclatures.CURRENT: "3.3"}),
    "fonjep": ("FONJEP-", "Poste FONJEP : animation associative", "FONJEP",
               {nomenclatures.FORMER: "1.5", nomenclatures.CURRENT: "6.1"}),
}


# What a person says a posts file is, when its ids and name cannot tell: file name -> "adultes_relais" | "fonjep"
# ("*": every posts file, as the CLI's --dispositif). Set around a check and its commit by the upload page and
# the CLI (`dispositifs_choisis`); read by `_postes` only.
_CHOIX: contextvars.ContextVar[dict[str, str] | None] = contextvars.ContextVar("cdv_postes_dispositif", default=None)
DISPOSITIFS_POSTES = {"adultes_relais": "Adultes-relais", "fonjep": "FONJEP"}


def dispositif_of(value: str | None) -> str | None:
    """"adultes_relais" or "fonjep" from what a person or a column writes (adulte-relais, Adultes-relais, FONJEP…)."""
    key = normalize_name(value or "")
    if key.startswith("adulte"):
        return "adultes_relais"
    if key.startswith("fonjep"):
        return "fonjep"
    return None


@contextlib.contextmanager
def dispositifs_choisis(choix: dict[str, str | None]) -> Iterator[None]:
    """Within the block, a posts file named as a key of `choix` (or any, with the key "*") is read as the chosen
    dispositif ("adultes_relais" or "fonjep", or how a person writes them) whatever its ids or name say."""
    clean = {name: d for name, v in choix.items() if (d := dispositif_of(v))}
    token = _CHOIX.set(clean)
    try:
        yield
    finally:
        _CHOIX.reset(token)


def dispositif_choisi(file_name: str) -> str | None:
    choix = _CHOIX.get() or {}
    return choix.get(file_name) or choix.get("*")


def _dispositif(value: str | None, id_poste: str, file_name: str) -> str | None:
    from_column = dispositif_of(value)
    if from_column:
        return from_column
    if AR_ID.match(id_poste):
        return "adultes_relais"
    if FONJEP_ID.match(id_poste):
        return "fonjep"
    name = normalize_name(Path(file_name).name)
    if "adulte" in name and "fonjep" not in name:
        return "adultes_relais"
    if "fonjep" in name and "adulte" not in name:
        return "fonjep"
    return None


def _postes(con, raw: RawTable, kind: FileKind, report: Report) -> dict[str, pd.DataFrame]:
    issues = report.issues
    rows = _valid_rows(con, raw, kind, issues)
    report.n_rows = len(raw.rows)
    ctx = importer._context(con)
    prog, fin = [], []
    seen: dict[tuple[str, int], int] = {}
    counts: Counter = Counter()
    chosen = dispositif_choisi(report.file_name)
    for r in rows:
        annee, id_poste = r["annee"], r["id_poste"].strip()
        written = dispositif_of(r.get("dispositif"))
        if chosen and written and written != chosen:
            issues.append(Issue(r["_line"], "dispositif", r.get("dispositif"), "Ce poste est déclaré "
                                f"« {DISPOSITIFS_POSTES[written]} » dans la colonne dispositif, mais le fichier a "
                                f"été déposé comme un fichier de postes « {DISPOSITIFS_POSTES[chosen]} ».", ERREUR,
                                "Corrigez la colonne dispositif, ou choisissez l'autre dispositif au dépôt."))
            continue
        disp = chosen or _dispositif(r.get("dispositif"), id_poste, report.file_name)
        if disp is None:
            issues.append(Issue(r["_line"], "id_poste", id_poste, "Impossible de savoir si ce poste est un "
                                "poste d'adulte-relais ou un poste FONJEP.", ERREUR,
                                "Choisissez le dispositif du fichier au dépôt (page d'import, ou option "
                                "--dispositif de la ligne de commande), ajoutez une colonne « dispositif » "
                                "(adulte-relais ou fonjep), ou mettez « adultes-relais » ou « fonjep » dans le "
                                "nom du fichier."))
            continue
        prefix, intitule, dispositif, them_codes = POSTES[disp]
        aid = prefix + id_poste
        if (aid, annee) in seen:
            issues.append(Issue(r["_line"], "id_poste", id_poste, f"Le poste {id_poste} figure déjà ligne "
                                f"{seen[(aid, annee)]} pour {annee} : compté une fois.", AVERTISSEMENT))
            continue
        seen[(aid, annee)] = r["_line"]
        counts[disp] += 1
        code_cv = (r["code_cv"] or "").strip().upper()
        nom = nomenclatures.nomenclature_of(annee)
        them = nomenclatures.stored(them_codes[nom], nom)
        pilier = nomenclatures.pilier_for(ctx.correspondance, _generation(annee), code_cv, them)
        porteur = " ".join(r["raison_sociale"].split())
        prog.append((r["_line"], [aid, str(annee), intitule, porteur, _siret(r.get("code_tiers")),
                                  _porteur_type(porteur), pilier, them, "*", code_cv, "accordee",
                                  "Habitants des QPV"]))
        fin.append((r["_line"], [aid, str(annee), "etat_bop147", repr(float(r["montant"])), "specifique",
                                 dispositif, "fonctionnement"]))
    names = {"porteur": "raison_sociale", "porteur_siret": "code_tiers", "contrat": "code_cv", "qpv": "code_cv",
             "montant_accorde": "montant", "action_id": "id_poste"}
    tables = _write_actions(con, ctx, raw, prog, fin, issues, names) if prog else {}
    if not prog:  # nothing would be imported: the errors say why
        return tables
    report.resume.append(_n(counts["adultes_relais"], "poste d'adulte-relais", "postes d'adultes-relais") + " et "
                         + _n(counts["fonjep"], "poste FONJEP", "postes FONJEP")
                         + " importés (une action par poste et par année, financée par le BOP 147)"
                         + (f" ; dispositif choisi au dépôt : {DISPOSITIFS_POSTES[chosen]}." if chosen else "."))
    return tables


# --------------------------------------------------------------------------- INSEE statistics

# Common Filosofi columns (without their year suffix): product indicator code, label, unit.
FILOSOFI = {
    "DISP_MED": ("revenu_median_uc", "Revenu disponible médian par unité de consommation", "€"),
    "DISP_TP60": ("taux_pauvrete", "Taux de pauvreté", "%"),
    "DISP_Q1": ("disp_q1", "Revenu disponible par UC : 1er quartile", "€"),
    "DISP_Q3": ("disp_q3", "Revenu disponible par UC : 3e quartile", "€"),
    "DISP_D1": ("disp_d1", "Revenu disponible par UC : 1er décile", "€"),
    "DISP_D9": ("disp_d9", "Revenu disponible par UC : 9e décile", "€"),
    "DISP_RD": ("disp_rd", "Rapport interdécile du revenu disponible (D9/D1)", ""),
    "DISP_GI": ("disp_gi", "Indice de Gini du revenu disponible", ""),
    "DISP_PACT": ("disp_pact", "Part des revenus d'activité dans le revenu disponible", "%"),
    "DISP_PTSA": ("disp_ptsa", "Part des salaires et traitements dans le revenu disponible", "%"),
    "DISP_PCHO": ("disp_pcho", "Part des indemnités de chômage dans le revenu disponible", "%"),
    "DISP_PPEN": ("disp_ppen", "Part des pensions et retraites dans le revenu disponible", "%"),
    "DISP_PPAT": ("disp_ppat", "Part des revenus du patrimoine dans le revenu disponible", "%"),
    "DISP_PPSOC": ("disp_ppsoc", "Part des prestations sociales dans le revenu disponible", "%"),
    "DISP_PPFAM": ("disp_ppfam", "Part des prestations familiales dans le revenu disponible", "%"),
    "DISP_PPMINI": ("disp_ppmini", "Part des minima sociaux dans le revenu disponible", "%"),
    "DISP_PPLOGT": ("disp_pplogt", "Part des prestations logement dans le revenu disponible", "%"),
    "DISP_PIMPOT": ("disp_pimpot", "Part des impôts dans le revenu disponible", "%"),
    "DEC_MED": ("dec_med", "Revenu déclaré médian par unité de consommation", "€"),
    "DEC_TP60": ("dec_tp60", "Taux de bas revenus déclarés au seuil de 60 %", "%"),
    "NBPERSMENFISC": ("nb_personnes_menages_fiscaux", "Nombre de personnes des ménages fiscaux", "hab"),
    "NBMENFISC": ("nb_menages_fiscaux", "Nombre de ménages fiscaux", "nb"),
}
YEAR_SUFFIX = re.compile(r"^(?P<base>.+?)_?A(?P<yy>\d{2})$", re.IGNORECASE)
YEAR_PLAIN = re.compile(r"^(?P<base>.+?)_?(?P<yy>\d{2})$")
LABEL_COLUMNS = ("libgeo", "libelle", "nom", "libqp", "libcom")


def _unit_of(label: str) -> str:
    low = label.lower()
    if "(€)" in low or "euros" in low or "(en €)" in low:
        return "€"
    if "(%)" in low or low.startswith(("part ", "taux ")) or "en %" in low:
        return "%"
    return ""


def _column_meaning(name: str, defs: dict[str, tuple[str, str]]) -> tuple[str, int, str, str] | str:
    """(indicator code, year, label, unit) of a wide column, or the reason it cannot be read."""
    up = name.strip().upper()
    for pattern in (YEAR_SUFFIX, YEAR_PLAIN):
        m = pattern.match(up)
        if not m:
            continue
        base, year = m.group("base").rstrip("_"), 2000 + int(m.group("yy"))
        if base in FILOSOFI:
            code, label, unit = FILOSOFI[base]
            return code, year, label, unit
        if base.lower() in defs:
            label, unit = defs[base.lower()]
            return base.lower(), year, label, unit
    if up in FILOSOFI or up.lower() in defs:
        return "sans année"
    return "inconnue"


def _insee(con, raw: RawTable, kind: FileKind, report: Report) -> dict[str, pd.DataFrame]:
    issues = report.issues
    found = importer._header_map(kind, raw.header)
    report.n_rows = len(raw.rows)
    if "codgeo" not in found:
        issues.append(Issue(raw.header_line, "CODGEO", None, "Colonne obligatoire « CODGEO » absente.", ERREUR,
                            "La première colonne d'un fichier INSEE est CODGEO (le code du territoire)."))
        return {}
    defs = {c: (lib, u or "") for c, lib, u in con.execute("SELECT code, libelle, unite FROM indicateur_def")
            .fetchall()}
    columns: dict[int, tuple[str, int, str, str]] = {}
    for idx, cell in enumerate(raw.header):
        if idx == found["codgeo"] or not cell.strip() or normalize_name(cell) in LABEL_COLUMNS:
            continue
        meaning = _column_meaning(cell, defs)
        if meaning == "sans année":
            issues.append(Issue(raw.header_line, cell, cell, f"Colonne « {cell} » : l'année n'est pas dans son nom.",
                                ERREUR, "Nommez-la avec son année, comme l'INSEE (ex. DISP_MED_A21)."))
        elif isinstance(meaning, str):
            issues.append(Issue(raw.header_line, cell, cell, f"Colonne « {cell} » : indicateur INSEE inconnu (ni "
                                "colonne Filosofi courante, ni décrit par un fichier meta_… déjà importé).", ERREUR,
                                "Déposez le fichier meta_… de l'INSEE avec ce fichier, ou retirez la colonne."))
        else:
            columns[idx] = meaning
    missing: Counter = Counter()
    out: list[dict] = []
    source = "INSEE " + Path(report.file_name).stem
    for line, cells in raw.rows:
        terr = cells[found["codgeo"]].strip() if found["codgeo"] < len(cells) else ""
        if not terr:
            issues.append(Issue(line, "CODGEO", "", "Code du territoire manquant.", ERREUR, "Remplissez CODGEO."))
            continue
        for idx, (code, year, label, unit) in columns.items():
            cell = cells[idx].strip() if idx < len(cells) else ""
            low = cell.lower()
            if low in SECRET_MARKERS or not cell:
                missing[low or "vide"] += 1
                continue
            try:
                value = reading.parse_number(cell)
            except ValueError:
                issues.append(Issue(line, raw.header[idx], cell, f"« {cell} » n'est pas un nombre ni une marque de "
                                    "secret statistique (s, nd, ns, nc, so).", ERREUR,
                                    "Laissez la cellule telle que publiée par l'INSEE."))
                continue
            out.append({"_line": line, "territoire": terr, "indicateur": code, "annee": year, "valeur": value,
                        "unite": unit or None, "source": source, "libelle": label})
    start = len(issues)
    ctx = importer._context(con)
    tables = importer._tables_indicateurs(con, ctx, None, out, issues, set()) if out else {}
    for i in issues[start:]:
        if i.column == "territoire":
            i.column = "CODGEO"
    _dedupe(issues, start)
    keys = Counter((r["territoire"], r["indicateur"], r["annee"]) for r in out)
    for key, n in keys.items():
        if n > 1:
            issues.append(Issue(None, "CODGEO", key[0], f"Le territoire {key[0]} a {n} valeurs de « {key[1]} » "
                                f"pour {key[2]}.", ERREUR, "Une ligne par territoire."))
    n_missing = sum(missing.values())
    sentence = (_n(len(out), "valeur importée", "valeurs importées") + " ("
                + _n(len({r["territoire"] for r in out}), "territoire", "territoires") + ", "
                + _n(len(columns), "colonne d'indicateur", "colonnes d'indicateurs") + ")")
    if n_missing:
        detail = ", ".join(f"« {m} » : {fmt.nombre(n)}" if m != "vide" else f"vides : {fmt.nombre(n)}"
                           for m, n in sorted(missing.items()))
        sentence += (" ; " + _n(n_missing, "cellule", "cellules") + " sans valeur (secret statistique ou non "
                     f"disponible : {detail}), non importées")
        issues.append(Issue(None, None, None, _n(n_missing, "cellule", "cellules") + f" sans valeur ({detail}) : "
                            "valeurs manquantes, non importées.", AVERTISSEMENT))
    report.resume.append(sentence + ".")
    if not out and not any(i.severity == ERREUR for i in issues):
        issues.append(Issue(raw.header_line, None, None, "Aucune valeur à importer dans ce fichier.", ERREUR,
                            "Vérifiez qu'il s'agit du bon fichier."))
    return tables


def _meta(con, raw: RawTable, kind: FileKind, report: Report) -> dict[str, pd.DataFrame]:
    rows = _valid_rows(con, raw, kind, report.issues)
    report.n_rows = len(raw.rows)
    defs: dict[str, dict] = {}
    for r in rows:
        up = r["cod_var"].strip().upper()
        m = YEAR_SUFFIX.match(up)
        base = (m.group("base") if m else up).rstrip("_")
        if base in FILOSOFI:
            continue  # known already, under the product's code
        label = (r.get("lib_var") or "").strip()
        defs.setdefault(base.lower(), {"code": base.lower(), "libelle": label, "unite": _unit_of(label) or None})
    report.resume.append(_n(len(defs), "définition d'indicateur INSEE lue", "définitions d'indicateurs INSEE lues")
                         + ".")
    return {"indicateur_def": pd.DataFrame(list(defs.values()), columns=["code", "libelle", "unite"])}


# --------------------------------------------------------------------------- official QPV list


def _liste_qpv(con, raw: RawTable, kind: FileKind, report: Report) -> dict[str, pd.DataFrame]:
    issues = report.issues
    rows = _valid_rows(con, raw, kind, issues)
    importer._check_duplicates(kind, rows, issues)
    report.n_rows = len(raw.rows)
    ctx = importer._context(con)
    existing = {c: (p, k) for c, p, k in con.execute("SELECT code_qpv, population, contrat FROM qpv").fetchall()}
    by_epci: dict[tuple[str, str], list[str]] = {}
    for code, epci, gen in con.execute("SELECT code_contrat, epci_siren, generation FROM contrat").fetchall():
        by_epci.setdefault((epci, gen), []).append(code)
    qpv: dict[str, dict] = {}
    links = []
    unknown_communes = 0
    for r in rows:
        code = r["code_qp"]
        geo = "2015" if code.startswith("QP") else "2024"
        item = qpv.setdefault(code, {"code_qpv": code, "nom_qpv": r["lib_qp"], "communes": [], "geographie": geo,
                                     "epci": [], "_line": r["_line"]})
        com = r["insee_com"].strip().zfill(5) if r["insee_com"].strip().isdigit() else r["insee_com"].strip()
        if com not in ctx.communes:
            unknown_communes += 1
            issues.append(Issue(r["_line"], "insee_com", com, f"Commune {com} inconnue du référentiel (fusionnée "
                                "depuis ?) : le quartier est importé sans elle.", AVERTISSEMENT))
        elif com not in item["communes"]:
            item["communes"].append(com)
            links.append({"code_qpv": code, "code_insee": com})
        if r.get("siren_epci"):
            item["epci"].append(r["siren_epci"].strip())
    out = []
    attached = 0
    for code, item in qpv.items():
        population, contrat = existing.get(code, (None, None))
        if not contrat:
            gen = "2015-2023" if item["geographie"] == "2015" else "2024-2030"
            candidates = {c for e in item["epci"] for c in by_epci.get((e, gen), [])}
            if len(candidates) == 1:
                contrat = candidates.pop()
                attached += 1
        out.append({"code_qpv": code, "nom_qpv": item["nom_qpv"], "communes_insee": "|".join(item["communes"]),
                    "geographie": item["geographie"], "population": population, "contrat": contrat})
    report.resume.append(_n(len(out), "quartier lu", "quartiers lus") + " ("
                         + _n(len(rows), "ligne quartier × commune", "lignes quartier × commune")
                         + ") ; population et contrat déjà connus conservés"
                         + (", " + _n(attached, "rattaché", "rattachés") + " au contrat de son EPCI" if attached
                            else "") + ".")
    return {"qpv": pd.DataFrame(out, columns=["code_qpv", "nom_qpv", "communes_insee", "geographie", "population",
                                              "contrat"]),
            "qpv_commune": pd.DataFrame(links, columns=["code_qpv", "code_insee"])}


# --------------------------------------------------------------------------- entry points


def build(con, raw: RawTable, kind: FileKind, report: Report) -> dict[str, pd.DataFrame]:
    """The product's rows of a public file, checked by the importer; issues and summary go to `report`."""
    builder = {"subventions_anct": _subventions, "postes_anct": _postes, "insee_stats": _insee,
               "insee_meta": _meta, "liste_qpv": _liste_qpv}[kind.code]
    tables = builder(con, raw, kind, report)
    if any(i.severity == ERREUR for i in report.issues):
        return {}
    return tables


def check_contours(con, data: bytes, report: Report) -> None:
    """Fill `report` for a contours file (GeoJSON or zipped Shapefile)."""
    from cdv_core.formats import CONTOURS

    report.kind = CONTOURS
    known_qpv = {r[0] for r in con.execute("SELECT code_qpv FROM qpv").fetchall()}
    known_communes = {r[0] for r in con.execute("SELECT code_insee FROM commune").fetchall()}
    res = contours.read(data, report.file_name, known_qpv, known_communes)
    report.n_rows = res.n_features
    for p in res.problems:
        report.issues.append(Issue(None, p.column, p.value, (f"{p.where} : " if p.where else "") + p.message,
                                   AVERTISSEMENT if p.warning else ERREUR, p.fix))
    if res.ok:
        report.tables = {"contour": res.rows}
        report.resume.append(res.resume)
