#!/usr/bin/env python3
"""Build the shipped referentials (data/referentiels/*.csv) and contours (data/geo/*.geojson)
from the public reference files of ../shared/data/reference (see data/SOURCES.md).

Standard library only; deterministic. Usage:

    python tools/make_referentiels.py [--src ../shared/data/reference] [--out data]

Outputs are committed: the app never needs ../shared at run time.
"""
from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import unicodedata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT.parent / "shared" / "data" / "reference"

CALL_EPCI = "246200364"
CALL_CV_2015 = "CV219"
CALL_CV_2024 = "CN06202I"
# pop_qpv of the two CALL contracts (contrats_de_ville_*.csv): the illustrative QPV populations sum to these.
CALL_POP_2015 = 53545
CALL_POP_2024 = 105617

PILIERS = [
    ("cohesion_sociale", "Cohésion sociale", "2015-2023"),
    ("cadre_vie", "Cadre de vie et renouvellement urbain", "2015-2023"),
    ("developpement_eco", "Développement économique et emploi", "2015-2023"),
    ("inclusion", "Inclusion sociale et cohésion sociale", "2015-2023"),
    ("habitat", "Habitat, cadre de vie, environnement", "2015-2023"),
    ("attractivite", "Attractivité des quartiers prioritaires", "2015-2023"),
    ("egalite_chances", "Égalité des chances (transversal)", "2015-2023"),
    ("emploi", "Emploi", "2024-2030"),
    ("transitions", "Transitions", "2024-2030"),
    ("emancipation", "Émancipation", "2024-2030"),
    ("securite", "Sécurité", "2024-2030"),
]

FINANCEURS = [
    ("etat_bop147", "État – crédits politique de la ville (BOP 147)", "etat", "specifique"),
    ("etat_dc", "État – droit commun", "etat", "droit_commun"),
    ("epci", "Intercommunalité (EPCI)", "collectivite", "specifique"),
    ("commune", "Communes", "collectivite", "specifique"),
    ("region", "Région", "collectivite", "droit_commun"),
    ("departement", "Département", "collectivite", "droit_commun"),
    ("caf", "CAF", "organisme", "droit_commun"),
    ("ars", "ARS", "etat", "droit_commun"),
    ("bailleurs", "Bailleurs sociaux (abattement TFPB)", "organisme", "specifique"),
    ("europe", "Europe (FSE, FEDER)", "europe", "droit_commun"),
    ("france_travail", "France Travail", "etat", "droit_commun"),
    ("prive", "Fondations et entreprises", "prive", "droit_commun"),
    ("porteur", "Autofinancement du porteur", "porteur", "droit_commun"),
]


def norm(s: str) -> str:
    """Lower case, no accents, ligatures expanded, every non-alphanumeric char -> space."""
    s = s.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
    s = unicodedata.normalize("NFKD", s)
    s = "".join(c for c in s if not unicodedata.combining(c)).lower()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", s).split())


def read_csv(path: Path) -> list[dict]:
    with open(path, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(path: Path, header: list[str], rows: list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow([r.get(h, "") for h in header] if isinstance(r, dict) else r)


class CommuneMatcher:
    """Greedy longest match of known commune names (per department) in a space-separated name list."""

    def __init__(self, communes: list[dict]):
        self.by_dep: dict[str, dict[tuple, str]] = {}
        self.maxlen: dict[str, int] = {}
        for c in communes:
            key = tuple(norm(c["nom"]).split())
            d = self.by_dep.setdefault(c["dep"], {})
            d.setdefault(key, c["code_insee"])  # homonyms within a department: first one kept
            self.maxlen[c["dep"]] = max(self.maxlen.get(c["dep"], 0), len(key))

    def match(self, dep: str, text: str) -> list[str]:
        names = self.by_dep.get(dep, {})
        # "Lyon7e arrondissement" -> "lyon 7e arrondissement"
        toks = re.sub(r"([a-z])([0-9])", r"\1 \2", norm(text)).split()
        out: list[str] = []
        i = 0
        while i < len(toks):
            for n in range(min(self.maxlen.get(dep, 0), len(toks) - i), 0, -1):
                code = names.get(tuple(toks[i:i + n]))
                if code:
                    if code not in out:
                        out.append(code)
                    i += n
                    break
            else:
                i += 1  # unknown word (e.g. "16e arrondissement", a commune merged since 2015)
        return out

    def match_renamed(self, dep: str, text: str) -> list[str]:
        """Fallback for a name not in COG 2026 (commune renamed or merged since 2015): the only commune of the
        department whose name contains the longest possible leading part of the given name as whole words
        (Herblay -> Herblay-sur-Seine, Evry -> Évry-Courcouronnes, Pierre-Bénite -> Oullins-Pierre-Bénite,
        Cherbourg-Octeville -> Cherbourg-en-Cotentin)."""
        toks = norm(text).split()
        names = self.by_dep.get(dep, {})
        for k in range(len(toks), 0, -1):
            sub = toks[:k]
            if len(sub) == 1 and len(sub[0]) < 4:
                break
            hits = {code for key, code in names.items()
                    if any(list(key[j:j + k]) == sub for j in range(len(key) - k + 1))}
            if len(hits) == 1:
                return [hits.pop()]
            if hits:
                break
        return []


def illustrative_populations(codes_weights: list[tuple[str, float]], total: int,
                             lo: int = 1000, hi: int = 9000) -> dict[str, int]:
    """Split `total` over the QPV proportionally to weights, each within [lo, hi], summing exactly."""
    wsum = sum(w for _, w in codes_weights)
    pops = {c: min(hi, max(lo, int(round(total * w / wsum / 5.0)) * 5)) for c, w in codes_weights}
    diff = total - sum(pops.values())
    order = sorted(pops, key=lambda c: -pops[c])
    k = 0
    while diff != 0:  # spread the rounding remainder, unit by unit, over the biggest QPV
        c = order[k % len(order)]
        step = 1 if diff > 0 else -1
        if lo <= pops[c] + step <= hi:
            pops[c] += step
            diff -= step
        k += 1
    return pops


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=ROOT / "data")
    a = ap.parse_args()
    src, out = a.src, a.out
    ref = out / "referentiels"

    communes = read_csv(src / "communes_cog2026.csv")
    commune_epci = {c["code_insee"]: c["epci_siren"] for c in communes}
    epcis = read_csv(src / "epci_2026.csv")
    cv15 = read_csv(src / "contrats_de_ville_2015_2023.csv")
    cv24 = read_csv(src / "contrats_de_ville_2024.csv")
    q24 = read_csv(src / "qpv2024_national.csv")
    q15 = read_csv(src / "qpv2015_metropole.csv")
    call = read_csv(src / "call_qpv_2024_2015.csv")

    # --- communes, epci, contrats, piliers, financeurs, thematiques
    write_csv(ref / "communes.csv", ["code_insee", "nom", "dep", "epci_siren", "population"], communes)
    write_csv(ref / "epci.csv", ["epci_siren", "nom", "type", "population"],
              [{"epci_siren": e["epci_siren"], "nom": e["nom"], "type": e["type"],
                "population": e["population_municipale"]} for e in epcis])
    # One row per contract code. The sources repeat some codes: CV043 is listed once per department (13, 84)
    # with its population split -> distinct populations summed; CN98701M twice with the same population;
    # ~50 overseas contracts kept their CV code in the 2024 file -> the 2015-2023 row is kept (generation from
    # the code's prefix, CV = 2015-2023, CN = 2024-2030).
    by_code: dict[str, dict] = {}
    pops: dict[str, set] = {}
    for rows, fname in ((cv15, "2015"), (cv24, "2024")):
        for r in rows:
            code = r["code_cv"]
            if code in by_code and by_code[code]["_file"] != fname:
                continue
            if code not in by_code:
                by_code[code] = {"code_contrat": code, "libelle": r["lib_cv"], "epci_siren": r["epci_siren"],
                                 "generation": "2024-2030" if code.startswith("CN") else "2015-2023", "_file": fname}
            pops.setdefault(code, set()).add(int(r["pop_qpv"]) if r["pop_qpv"] else 0)
    contrats = []
    for code, c in by_code.items():
        c["pop_qpv"] = sum(pops[code])
        contrats.append(c)
    write_csv(ref / "contrats.csv", ["code_contrat", "libelle", "epci_siren", "generation", "pop_qpv"], contrats)
    write_csv(ref / "piliers.csv", ["code", "libelle", "generation"], PILIERS)
    write_csv(ref / "financeurs.csv", ["code", "libelle", "categorie", "nature_defaut"], FINANCEURS)
    shutil.copyfile(src / "thematiques_subventions_politique_ville.csv", ref / "thematiques.csv")

    # contract lookup: the source's `epci_siren` (codgeo) is an EPCI SIREN, or a commune code for communal contracts
    def lookup(rows):
        d: dict[str, str] = {}
        for r in rows:
            d.setdefault(r["epci_siren"], r["code_cv"])
        return d

    cv15_by_geo, cv24_by_geo = lookup(cv15), lookup(cv24)
    # Many 2015 contracts name an EPCI that has since merged (2017 reform): its SIREN is not a 2026 EPCI.
    # Fallback: the commune names found in the contract's label ("01 - CA de Bourg-en-Bresse") give the 2026
    # EPCI(s) now holding them; used only for EPCIs with no contract of their own in the source.
    matcher = CommuneMatcher(communes)
    epci_set = {e["epci_siren"] for e in epcis}
    cv15_fallback: dict[str, str] = {}
    cv15_by_label_commune: dict[str, str] = {}
    for r in cv15:
        if r["epci_siren"] in epci_set or r["epci_siren"] in commune_epci:
            continue
        label = r["lib_cv"].split(" - ", 1)[-1]
        for c in matcher.match(r["insee_dep"], label):
            cv15_by_label_commune.setdefault(c, r["code_cv"])
            e = commune_epci.get(c, "")
            if e and e not in cv15_by_geo:
                cv15_fallback.setdefault(e, r["code_cv"])

    def find_contract(by_geo, communes_insee, epci_list):
        for e in epci_list:  # EPCI first (the brief: contract of the QPV's EPCI)...
            if e in by_geo:
                return by_geo[e]
        for c in communes_insee:  # ...then communal contracts (codgeo = commune code)
            if c in by_geo:
                return by_geo[c]
        return ""

    # --- CALL QPV (both geographies) and their illustrative populations
    call24 = [r["code_qpv_2024"] for r in call]
    call15_communes = {r["code_qp_2015_meme_numero"]: r["communes_insee_2015"] for r in call}
    big = {"62498", "62510"}  # Lens, Liévin: larger cités

    def weight(communes_insee: str, code: str) -> float:
        cs = [c for c in communes_insee.split("|") if c]
        w = 1.0 + 0.35 * (len(cs) - 1) + (0.5 if big & set(cs) else 0.0)
        w *= 0.85 + 0.3 * ((int(code[-3:-1] if code.startswith("QN") else code[-3:]) * 37) % 11) / 10.0
        return w

    pop24 = illustrative_populations([(r["code_qpv_2024"], weight(r["communes_insee_2024"], r["code_qpv_2024"]))
                                      for r in call], CALL_POP_2024)
    pop15 = illustrative_populations([(r["code_qp_2015_meme_numero"],
                                       weight(r["communes_insee_2015"], r["code_qp_2015_meme_numero"]))
                                      for r in call], CALL_POP_2015)

    # --- QPV 2024
    qpv_rows = []
    stats = {"2024_sans_contrat": 0, "2015_sans_commune": 0, "2015_renomme": 0, "2015_sans_contrat": 0}
    for q in q24:
        cs = [c for c in q["communes_insee"].split("|") if c]
        contrat = find_contract(cv24_by_geo, cs, [e for e in q["epci_siren"].split("|") if e])
        if q["code_qpv"] in call24:
            contrat = CALL_CV_2024
        stats["2024_sans_contrat"] += not contrat
        qpv_rows.append({"code_qpv": q["code_qpv"], "nom_qpv": q["nom_qpv"], "communes_insee": q["communes_insee"],
                         "geographie": "2024", "population": pop24.get(q["code_qpv"], ""), "contrat": contrat})

    # --- QPV 2015 (commune names -> INSEE codes, COG 2026)
    for q in q15:
        code = q["code_qp"]
        if code in call15_communes:
            cs = call15_communes[code].split("|")
        else:
            cs = matcher.match(q["dep"], q["communes_noms_brut"])
            if not cs:
                cs = matcher.match_renamed(q["dep"], q["communes_noms_brut"])
                stats["2015_renomme"] += bool(cs)
        stats["2015_sans_commune"] += not cs
        epci_list = []
        for c in cs:
            e = commune_epci.get(c, "")
            if e and e not in epci_list:
                epci_list.append(e)
        contrat = (find_contract(cv15_by_geo, cs, epci_list[:1]) or find_contract(cv15_by_geo, cs, epci_list)
                   or find_contract(cv15_by_label_commune, [], cs) or find_contract(cv15_fallback, [], epci_list))
        if code in call15_communes:
            contrat = CALL_CV_2015
        stats["2015_sans_contrat"] += not contrat
        qpv_rows.append({"code_qpv": code, "nom_qpv": q["nom_qp"], "communes_insee": "|".join(cs),
                         "geographie": "2015", "population": pop15.get(code, ""), "contrat": contrat})

    write_csv(ref / "qpv.csv", ["code_qpv", "nom_qpv", "communes_insee", "geographie", "population", "contrat"],
              qpv_rows)

    # --- contours
    geo = out / "geo"
    geo.mkdir(parents=True, exist_ok=True)
    # The QPV 2024 contours of all France (and the communes hosting one) are built by tools/make_geo.py.
    g = json.loads((src / "communes_call.geojson").read_text(encoding="utf-8"))
    for f in g["features"]:
        p = f["properties"]
        p["code_insee"] = str(p.get("code_insee") or p.get("code")).zfill(5)
    (geo / "communes_call.geojson").write_text(json.dumps(g, ensure_ascii=False, separators=(",", ":")),
                                              encoding="utf-8")

    n24 = sum(r["geographie"] == "2024" for r in qpv_rows)
    print(f"qpv.csv: {n24} QPV 2024 + {len(qpv_rows) - n24} QPV 2015; {stats}")
    print(f"CALL pop 2015 = {sum(pop15.values())}, 2024 = {sum(pop24.values())}")
    print(f"contrats.csv: {len(contrats)}; communes.csv: {len(communes)}; epci.csv: {len(epcis)}")


if __name__ == "__main__":
    main()
