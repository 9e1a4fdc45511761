#!/usr/bin/env python3
"""Build the DEMONSTRATION territory (CA de Lens-Liévin, EPCI 246200364) as upload-format CSV files
(docs: shared FORMATS.md) under data/demo/.

The programmation, the amounts, the porteurs other than the adultes-relais / FONJEP employers, the QPV
indicators and the survey answers are INVENTED, shaped on the figures of the territory's 2022 evaluation
report (totals 2016/2019/2022, health actions 2015/2022, AMI cohésion sociale, Cités éducatives, Région
investment, survey response counts and percentages). Real data used: the adultes-relais / FONJEP posts of
the two CALL contracts (ANCT), commune populations and Filosofi 2021 median incomes, the QPV lists.

Standard library only, deterministic (fixed seed). Usage:
    python tools/make_demo.py [--src ../shared/data/reference] [--out data/demo]
"""
from __future__ import annotations

import argparse
import csv
import random
from collections import defaultdict
from pathlib import Path

import make_demo_engagements  # noqa: E402 - a sibling script (tools/ is on sys.path when run)

# Nearest sub-theme of the 2020-2023 nomenclature for each current code (same table as
# cdv_core.nomenclatures.CURRENT_TO_FORMER; repeated so this script needs the standard library only).
CURRENT_TO_FORMER = {
    "1.1": "1.1", "1.2": "1.1", "1.3": "1.1", "1.4": "1.1",
    "2.1": "1.2", "2.2": "1.3", "2.3": "1.5", "2.4": "1.6",
    "3.1": "3.1", "3.2": "3.2", "3.3": "1.5", "3.4": "3.1",
    "4.1": "1.5a", "4.2": "1.4", "4.3": "1.5b", "4.4": "1.5b",
    "5.1": "2.1", "5.2": "2.1", "5.3": "2.2", "5.4": "2.2", "5.5": "2.2",
    "6.1": "1.5", "6.2": "1.5", "6.3": "4.1", "6.4": "4.2",
}

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SRC = ROOT.parent / "shared" / "data" / "reference"
SEED = 62_2022
EPCI = "246200364"
CV15, CV24 = "CV219", "CN06202I"
YEARS = list(range(2015, 2027))

# Total of all funding lines (montant_accorde, every funder) per year. 2016, 2019, 2022 from the report.
TARGET_TOTAL = {2015: 3_760_000, 2016: 3_900_000, 2017: 4_060_000, 2018: 4_270_000, 2019: 4_586_000,
                2020: 4_930_000, 2021: 5_320_000, 2022: 5_760_000, 2023: 5_840_000, 2024: 5_690_000,
                2025: 5_610_000}
# Health actions (thématique 2.1): count and total per year; 2015 and 2022 from the report.
HEALTH_N = {2015: 3, 2016: 5, 2017: 7, 2018: 9, 2019: 12, 2020: 15, 2021: 18, 2022: 22, 2023: 23, 2024: 24,
            2025: 25, 2026: 25}
HEALTH_EUR = {2015: 12_337, 2016: 24_500, 2017: 41_800, 2018: 63_900, 2019: 92_400, 2020: 121_700,
              2021: 158_300, 2022: 207_654, 2023: 214_900, 2024: 221_300, 2025: 226_800}
N_ACTIONS = {2015: 158, 2016: 166, 2017: 171, 2018: 178, 2019: 186, 2020: 192, 2021: 201, 2022: 212, 2023: 216,
             2024: 198, 2025: 204, 2026: 196}  # regular actions (posts, AMI, Cités éducatives come on top)
AMI_EUR = 150_000
REGION_INVEST_EUR = 247_000

# (intitulé, thématique, pilier 2015-2023, axe 2024-2030, porteur types)
TEMPLATES = [
    ("Atelier santé ville : prévention et promotion de la santé", "2.1", "inclusion", "emancipation", "asso"),
    ("Parcours santé des jeunes", "2.1", "inclusion", "emancipation", "asso"),
    ("Ateliers nutrition et activité physique", "2.1", "inclusion", "emancipation", "asso"),
    ("Accès aux soins et aux droits santé", "2.1", "inclusion", "emancipation", "ccas"),
    ("Soutien psychologique de proximité", "2.1", "inclusion", "emancipation", "asso"),
    ("Lieu d'accueil enfants-parents", "2.2", "inclusion", "emancipation", "cs"),
    ("Café des parents", "2.2", "inclusion", "emancipation", "cs"),
    ("Accompagnement à la scolarité", "1.2", "egalite_chances", "emancipation", "cs"),
    ("Coup de pouce lecture-écriture", "1.2", "egalite_chances", "emancipation", "asso"),
    ("Lutte contre le décrochage scolaire", "1.4", "egalite_chances", "emancipation", "asso"),
    ("Programme de réussite éducative", "1.1", "egalite_chances", "emancipation", "ccas"),
    ("Ateliers citoyenneté et mémoire du bassin minier", "2.3", "inclusion", "emancipation", "asso"),
    ("Permanences d'accès aux droits", "2.3", "inclusion", "emancipation", "asso"),
    ("Prévention des discriminations à l'embauche", "2.4", "egalite_chances", "emploi", "asso"),
    ("Égalité filles-garçons par le sport", "2.4", "egalite_chances", "emancipation", "asso"),
    ("Jardins partagés en cité minière", "3.1", "habitat", "transitions", "asso"),
    ("Gestion urbaine de proximité", "3.1", "habitat", "transitions", "com"),
    ("Chantiers éducatifs d'embellissement", "3.1", "habitat", "transitions", "asso"),
    ("Prévention de la délinquance et tranquillité", "3.2", "habitat", "securite", "com"),
    ("Médiation sociale de proximité", "3.3", "inclusion", "securite", "asso"),
    ("Rénovation énergétique : ateliers éco-gestes", "3.4", "habitat", "transitions", "asso"),
    ("Accueil et animation jeunesse", "4.1", "inclusion", "emancipation", "cs"),
    ("Fabrique culturelle de quartier", "4.2", "inclusion", "emancipation", "asso"),
    ("Éducation artistique autour du Louvre-Lens", "4.2", "egalite_chances", "emancipation", "asso"),
    ("Sport pour tous au pied des terrils", "4.3", "inclusion", "emancipation", "asso"),
    ("Séjours et sorties familles", "4.4", "inclusion", "emancipation", "cs"),
    ("Accompagnement vers l'emploi des jeunes", "5.1", "attractivite", "emploi", "asso"),
    ("Chantier d'insertion", "5.1", "attractivite", "emploi", "asso"),
    ("Mobilité vers l'emploi : permis et auto-école sociale", "5.1", "attractivite", "emploi", "asso"),
    ("Parrainage vers l'emploi", "5.3", "attractivite", "emploi", "asso"),
    ("Boutique de gestion : création d'activité", "5.4", "attractivite", "emploi", "asso"),
    ("Soutien aux commerces de proximité", "5.4", "attractivite", "emploi", "com"),
    ("Inclusion numérique et accès aux démarches", "6.1", "inclusion", "emancipation", "asso"),
    ("Fonds de participation des habitants", "6.2", "inclusion", "emancipation", "cs"),
    ("Animation du conseil citoyen", "6.2", "inclusion", "emancipation", "asso"),
    ("Apprentissage du français (ateliers sociolinguistiques)", "2.3", "inclusion", "emancipation", "asso"),
    ("Abattement TFPB : sur-entretien et animation des résidences", "3.1", "habitat", "transitions", "bail"),
    ("Abattement TFPB : tranquillité résidentielle", "3.2", "habitat", "securite", "bail"),
]
TEMPLATES_2021 = [("Cité de l'emploi : parcours renforcés", "5.2", "attractivite", "emploi", "asso")]
TEMPLATES_2024 = [("Entrepreneuriat Quartiers 2030 : accompagnement des créateurs", "5.5", "attractivite", "emploi",
                   "asso"),
                  ("Quartiers résilients : îlots de fraîcheur", "3.4", "habitat", "transitions", "com")]

ASSOS = [
    ("ACSBM", "43281109900014"), ("APSA", "32668563300074"), ("ASSOC GEORGES CARPENTIER", "41955877000014"),
    ("CULTURELLE ET SOCIALE JULES GRARE", "45051242100014"), ("ASSOCIATION POUR LE DROIT AU TRAVAIL", "35381758800034"),
    ("INITIATIVE SOLIDAIRE", "82513639300022"), ("RELAIS TRAVAIL", "38014345300039"),
    ("ASSOCIATION ACTION EDUCATIVE", "31186655200020"),
]
ASSOS_INVENTED = [
    "Les Ateliers de la Gohelle", "Terrils en Fête", "Solidarité Bassin Minier", "Femmes Relais de l'Artois",
    "Mission Santé Gohelle", "Sport Cités Lens-Liévin", "Les Petits Débrouillards Artois", "Compagnie du Carreau",
    "Espace Jeunes Liévinois", "Mobilité Solidaire Artois", "Jardins des Corons", "Parents Ensemble 62",
    "Lire et Écrire en Gohelle", "Boutique de Gestion Artois", "Numérique Pour Tous Lens", "Prévention Santé Artois",
    "Théâtre des Cités", "Médiation Bassin Minier", "Entreprendre Quartiers Artois", "Vélo Cités Gohelle",
    "Musique en Corons", "Club Foot Quartiers Lens", "Handball Cités Avion", "Maison de l'Emploi Lens-Liévin",
    "Régie de Quartier Liévin", "Épicerie Solidaire Sallaumines", "Addictions Prévention Artois",
    "Écoute Jeunes Gohelle", "Maison des Femmes de l'Artois", "Radio Cités 62",
]
BAILLEURS = ["Maisons & Cités", "SIA Habitat", "Pas-de-Calais Habitat"]  # SIRET invented (checksum-valid)
# the 19 CALL communes hosting a QPV (INSEE code -> name) are read from call_qpv_2024_2015.csv


def luhn_ok(num: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(num)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def complete_luhn(prefix: str) -> str:
    for d in "0123456789":
        if luhn_ok(prefix + d):
            return prefix + d
    raise AssertionError


def make_siret(rng: random.Random, first: str) -> str:
    siren = complete_luhn(first + "".join(rng.choice("0123456789") for _ in range(8 - len(first))))
    return complete_luhn(siren + "000" + rng.choice("123"))  # NIC 000x + check digit


def commune_siret(insee: str, body: str = "2162") -> str:
    siren = complete_luhn(body + insee[2:].zfill(4))
    return complete_luhn(siren + "0001")


def read_csv(p: Path) -> list[dict]:
    with open(p, encoding="utf-8", newline="") as f:
        return list(csv.DictReader(f))


def write_csv(p: Path, header: list[str], rows: list[dict]) -> None:
    p.parent.mkdir(parents=True, exist_ok=True)
    with open(p, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(header)
        for r in rows:
            w.writerow(["" if r.get(h) is None else r.get(h) for h in header])


def split_exact(total: int, weights: list[float], step: int = 1) -> list[int]:
    """Largest-remainder split of `total` in multiples of `step` (remainder below `step` on the largest part)."""
    s = sum(weights)
    exact = [total * w / s / step for w in weights]
    parts = [int(e) for e in exact]
    order = sorted(range(len(parts)), key=lambda i: -(exact[i] - parts[i]))
    for i in order[: total // step - sum(parts)]:
        parts[i] += 1
    parts = [x * step for x in parts]
    parts[max(range(len(parts)), key=lambda i: parts[i])] += total - sum(parts)
    return parts


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", type=Path, default=DEFAULT_SRC)
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "demo")
    ap.add_argument("--referentiels", type=Path, default=ROOT / "data" / "referentiels")
    a = ap.parse_args()
    rng = random.Random(SEED)

    call = read_csv(a.src / "call_qpv_2024_2015.csv")
    qn_of_qp = {r["code_qp_2015_meme_numero"]: r["code_qpv_2024"] for r in call}
    communes_call = read_csv(a.src / "communes_call.csv")
    nom_commune = {c["code_insee"]: c["nom"] for c in communes_call}
    qp_by_commune: dict[str, list[str]] = defaultdict(list)
    for r in call:
        for c in r["communes_insee_2015"].split("|"):
            if c in nom_commune:
                qp_by_commune[c].append(r["code_qp_2015_meme_numero"])
    host = sorted({c for r in call for c in r["communes_insee_2024"].split("|") if c in nom_commune})
    assert len(host) == 19, host
    for c in host:  # a few communes host a QPV 2024 only (perimeter changes): give them their 2015 neighbour's
        if not qp_by_commune[c]:
            qp_by_commune[c] = [r["code_qp_2015_meme_numero"] for r in call if c in r["communes_insee_2024"]]
    qpv_ref = {r["code_qpv"]: r for r in read_csv(a.referentiels / "qpv.csv") if r["contrat"] in (CV15, CV24)}

    # ---------------- porteurs
    porteurs = []  # dict(nom, siret, type, commune, kind)
    for nom, siret in ASSOS:
        porteurs.append(dict(nom=nom, siret=siret, type="association", commune=rng.choice(host), kind="asso"))
    for nom in ASSOS_INVENTED:
        porteurs.append(dict(nom=nom, siret=make_siret(rng, rng.choice("3478")), type="association",
                             commune=rng.choice(host), kind="asso"))
    for c in host:
        n = nom_commune[c]
        porteurs.append(dict(nom=f"Commune de {n}", siret=commune_siret(c), type="commune", commune=c, kind="com"))
        porteurs.append(dict(nom=f"CCAS de {n}", siret=commune_siret(c, "2662"), type="ccas", commune=c,
                             kind="ccas"))
        porteurs.append(dict(nom=f"Centre social de {n}", siret=make_siret(rng, "7"), type="association",
                             commune=c, kind="cs"))
    for nom in BAILLEURS:
        porteurs.append(dict(nom=nom, siret=make_siret(rng, "3"), type="bailleur", commune=rng.choice(host), kind="bail"))
    by_kind = defaultdict(list)
    for p in porteurs:
        by_kind[p["kind"]].append(p)

    def qpv_for(year: int, qps: list[str]) -> str:
        if qps == ["*"]:
            return "*"
        return "|".join(qn_of_qp[q] if year >= 2024 else q for q in qps)

    # ---------------- regular actions with renewal
    counter = [0]

    def new_action(year: int, health: bool | None) -> dict:
        pool = TEMPLATES + (TEMPLATES_2021 if year >= 2021 else []) + (TEMPLATES_2024 if year >= 2024 else [])
        if health is True:
            pool = [t for t in pool if t[1] == "2.1"]
        elif health is False:
            pool = [t for t in pool if t[1] != "2.1"]
        t = rng.choice(pool)
        p = rng.choice(by_kind[t[4]])
        counter[0] += 1
        r = rng.random()
        if p["kind"] == "bail":
            qps = sorted(rng.sample(sorted(qn_of_qp), rng.randint(2, 6)))
        elif r < 0.62:
            qps = [rng.choice(qp_by_commune[p["commune"]])]
        elif r < 0.82:
            extra = rng.choice(host)
            qps = sorted(set(qp_by_commune[p["commune"]][:2] + qp_by_commune[extra][:1]))
        else:
            qps = ["*"]
        lieu = nom_commune[p["commune"]] if qps != ["*"] or p["kind"] in ("com", "ccas", "cs") else "agglomération"
        base = rng.lognormvariate(9.7, 0.65)  # ~16 k€ median
        if p["kind"] == "bail":
            base *= 2.5
        return dict(action_id=f"CALL-{year}-{counter[0]:04d}", intitule=f"{t[0]} – {lieu}", tpl=t, porteur=p,
                    qps=qps, base=base, health=t[1] == "2.1", first=year)

    actions_by_year: dict[int, list[dict]] = {}
    prev: list[dict] = []
    for y in YEARS:
        target_h = HEALTH_N[y]
        prev_h = [x for x in prev if x["health"]]
        prev_o = [x for x in prev if not x["health"]]
        keep_h = rng.sample(prev_h, min(len(prev_h), target_h, round(len(prev_h) * 0.9 + 0.5)))
        keep_o = rng.sample(prev_o, round(len(prev_o) * rng.uniform(0.77, 0.83)))
        if y == 2024:  # new contract: a few more actions stop
            keep_o = keep_o[: int(len(keep_o) * 0.93)]
        cur = [dict(x, renewed=True) for x in keep_h + keep_o]
        cur += [dict(new_action(y, True), renewed=False) for _ in range(target_h - len(keep_h))]
        while len(cur) < N_ACTIONS[y]:
            cur.append(dict(new_action(y, False), renewed=False))
        actions_by_year[y] = cur
        prev = cur

    prog, fin = [], []

    def add_prog(y, aid, intitule, p, pilier, them, qpv, statut, nouvelle, cout, nb, public):
        prog.append(dict(action_id=aid, annee=y, intitule=intitule, porteur=p["nom"], porteur_siret=p["siret"],
                         porteur_type=p["type"], pilier=pilier, thematique=them, qpv=qpv,
                         contrat=CV24 if y >= 2024 else CV15, statut=statut, cout_total=_num(cout),
                         nouvelle="non" if not nouvelle else "oui", nb_beneficiaires=nb, public_cible=public))

    publics = ["Jeunes 16-25 ans", "Familles", "Enfants 6-11 ans", "Femmes", "Demandeurs d'emploi", "Seniors",
               "Habitants des QPV", "Collégiens", "Locataires du parc social"]
    # regular lines: (year, action, lines[list of dict]) -> amounts scaled later
    regular_lines: dict[int, list[dict]] = defaultdict(list)
    status: dict[tuple, str] = {}
    for y in YEARS:
        for x in actions_by_year[y]:
            t = x["tpl"]
            p = x["porteur"]
            if y == 2026:
                st = "deposee" if rng.random() < 0.7 else "accordee"
            elif rng.random() < 0.03 and not x["health"]:
                st = "refusee"
            elif y <= 2019 and rng.random() < 0.45:
                st = "soldee"
            else:
                st = "accordee"
            status[(x["action_id"], y)] = st
            b = x["base"] * rng.uniform(0.92, 1.1)
            # funders and shares
            shares = []
            if p["kind"] == "bail":
                shares = [("bailleurs", 0.85, "Abattement TFPB", None), ("porteur", 0.15, None, None)]
            else:
                disp = "Contrat de ville"
                if t[1] == "1.1":
                    disp = "PRE"
                elif t[1] == "4.4" and y >= 2020 and rng.random() < 0.6:
                    disp = "Quartiers d'été"
                shares.append(("etat_bop147", rng.uniform(0.3, 0.45), disp, None))
                if rng.random() < 0.6:
                    shares.append(("epci", rng.uniform(0.1, 0.2), "Contrat de ville", None))
                if p["kind"] != "com" and rng.random() < 0.55:
                    shares.append(("commune", rng.uniform(0.08, 0.18), None,
                                   rng.choice([None, None, "specifique", "droit_commun"])))
                if p["kind"] == "com":
                    shares.append(("commune", rng.uniform(0.25, 0.4), None, None))
                extra = {"2.1": ["ars", "ars", "caf", "departement"], "2.2": ["caf", "caf", "departement"],
                         "5.1": ["region", "europe", "france_travail", "departement"],
                         "5.2": ["france_travail", "region"], "5.3": ["prive", "france_travail"],
                         "5.4": ["region", "europe", "prive"], "5.5": ["region", "prive"]}.get(
                    t[1], ["caf", "region", "departement", "prive", "etat_dc"])
                for f in rng.sample(extra, min(len(extra), rng.randint(0, 2))):
                    if f not in [s[0] for s in shares]:
                        shares.append((f, rng.uniform(0.08, 0.25), None, None))
                if p["type"] == "association" and rng.random() < 0.5:
                    shares.append(("porteur", rng.uniform(0.05, 0.12), None, None))
            cout = b * rng.uniform(1.0, 1.15)
            for f, sh, disp, nat in shares:
                if nat is None and rng.random() < 0.35:
                    nat = "specifique" if f in ("etat_bop147", "epci", "bailleurs", "commune") else "droit_commun"
                regular_lines[y].append(dict(action_id=x["action_id"], annee=y, financeur=f, raw=b * sh,
                                             dispositif=disp, nature=nat, section="fonctionnement",
                                             health=x["health"], statut=st, cout=cout))
            nb = int(rng.lognormvariate(4.0, 0.8)) + 10
            add_prog(y, x["action_id"], x["intitule"], p, t[3] if y >= 2024 else t[2], t[1],
                     qpv_for(y, x["qps"]), st, not x["renewed"], None, nb, rng.choice(publics))

    # ---------------- fixed items: adultes-relais / FONJEP, AMI, Cités éducatives, Région investissement
    fixed_lines: dict[int, list[dict]] = defaultdict(list)
    posts = read_csv(a.src / "postes_adultes_relais_fonjep_62.csv")
    posts = [r for r in posts if r["code_cv"] in (CV15, CV24)]
    assert len(posts) == 102, len(posts)
    seen = set()
    n_dup = 0
    for r in posts:
        y = int(r["annee"])
        key = (r["id_poste"], y)
        if key in seen:  # the 2025 FONJEP file lists 5 posts twice, identically: one action per post and year
            n_dup += 1
            continue
        seen.add(key)
        ar = r["dispositif"] == "adulte-relais"
        aid = ("AR-" if ar else "FONJEP-") + r["id_poste"]
        siret = r["code_tiers"] if r["code_tiers"].isdigit() and len(r["code_tiers"]) == 14 else ""
        nom = " ".join(r["raison_sociale"].split())
        ptype = ("commune" if nom.startswith("COM ") else "epci" if nom.startswith("COMMUNAUTE")
                 else "etablissement_public" if nom.startswith("SIVOM") else "association")
        p = dict(nom=nom, siret=siret, type=ptype)
        prev_year = any(k == (r["id_poste"], y - 1) for k in seen)
        add_prog(y, aid, ("Poste d'adulte-relais : médiation sociale" if ar else "Poste FONJEP : animation associative"),
                 p, "securite" if (ar and y >= 2024) else ("emancipation" if y >= 2024 else "inclusion"),
                 "3.3" if ar else "6.1", "*", "accordee", not prev_year, None, None,
                 "Habitants des QPV")
        status[(aid, y)] = "accordee"
        fixed_lines[y].append(dict(action_id=aid, annee=y, financeur="etat_bop147", montant_accorde=float(r["montant"]),
                                   dispositif="Adultes-relais" if ar else "FONJEP", nature="specifique",
                                   section="fonctionnement"))

    ami_assos = rng.sample(by_kind["asso"], 14)
    ami_ids: list[tuple] = []
    for y in range(2019, 2027):
        keep = [t for t in ami_ids if rng.random() < 0.6]
        while len(keep) < rng.randint(7, 9):
            p = rng.choice(ami_assos)
            t = rng.choice([tp for tp in TEMPLATES if tp[4] == "asso" and tp[1] != "2.1"])
            counter[0] += 1
            keep.append((f"AMI-{y}-{counter[0]:04d}", p, t, y))
        ami_ids = keep
        parts = split_exact(AMI_EUR, [rng.uniform(0.6, 1.6) for _ in keep], 500)
        for (aid, p, t, y0), m in zip(keep, parts):
            add_prog(y, aid, f"AMI cohésion sociale : {t[0].lower()}", p, t[3] if y >= 2024 else t[2], t[1],
                     "*", "accordee", y0 == y, round(m * 1.25), None, rng.choice(publics))
            status[(aid, y)] = "accordee"
            fixed_lines[y].append(dict(action_id=aid, annee=y, financeur="epci", montant_accorde=m,
                                       montant_demande=m if rng.random() < 0.5 else round(m * 1.2, -2),
                                       dispositif="AMI cohésion sociale", nature="droit_commun",
                                       section="fonctionnement"))

    cites = [("62498", "QP062026|QP062027|QP062029", 310_000), ("62510", "QP062028|QP062029|QP062030", 290_000),
             ("62065", "QP062019|QP062033", 240_000)]
    for y in range(2020, 2027):
        for c, qps, base in cites:
            aid = f"CITE-EDUC-{c}"
            p = next(pp for pp in porteurs if pp["kind"] == "com" and pp["commune"] == c)
            m = round(base * (0.55 if y == 2020 else 1.0 + 0.03 * (y - 2021)), -2)
            add_prog(y, aid, f"Cité éducative de {nom_commune[c]}", p, "emancipation" if y >= 2024 else "egalite_chances",
                     "1.3", qpv_for(y, qps.split("|")), "accordee", y == 2020, round(m * 1.6, -2), None,
                     "Enfants et jeunes 0-25 ans")
            status[(aid, y)] = "accordee"
            fixed_lines[y].append(dict(action_id=aid, annee=y, financeur="etat_bop147", montant_accorde=m,
                                       dispositif="Cités éducatives", section="fonctionnement"))
            fixed_lines[y].append(dict(action_id=aid, annee=y, financeur="commune", montant_accorde=round(m * 0.25, -2),
                                       dispositif="Cités éducatives", section="fonctionnement"))

    invest = [("Aménagement d'un terrain multisport", "4.3"), ("Réhabilitation d'un centre social", "6.4"),
              ("Équipement d'un tiers-lieu numérique", "6.1"), ("Jardin partagé et espaces verts", "3.1"),
              ("Local associatif de quartier", "6.1")]
    for y in range(2015, 2026):
        k = rng.randint(2, 4)
        parts = split_exact(REGION_INVEST_EUR, [rng.uniform(0.5, 1.5) for _ in range(k)], 100)
        for m in parts:
            t = rng.choice(invest)
            c = rng.choice(host)
            p = next(pp for pp in porteurs if pp["kind"] == "com" and pp["commune"] == c)
            counter[0] += 1
            aid = f"INV-{y}-{counter[0]:04d}"
            add_prog(y, aid, f"{t[0]} – {nom_commune[c]}", p, "transitions" if y >= 2024 else "habitat", t[1],
                     qpv_for(y, [rng.choice(qp_by_commune[c])]), "soldee" if y <= 2019 else "accordee", True,
                     round(m * 2.2, -2), None, "Habitants des QPV")
            status[(aid, y)] = "accordee"
            fixed_lines[y].append(dict(action_id=aid, annee=y, financeur="region", montant_accorde=m,
                                       section="investissement", dispositif="Contrat de ville"))
            fixed_lines[y].append(dict(action_id=aid, annee=y, financeur="commune", montant_accorde=round(m * 0.6, -2),
                                       section="investissement"))

    # ---------------- scale the regular lines: health exact, total per year within a few euros
    cout_by_action: dict[tuple, float] = {}
    for y in YEARS:
        lines = regular_lines[y]
        live = [ln for ln in lines if ln["statut"] not in ("refusee", "deposee")]
        fixed = sum(ln["montant_accorde"] for ln in fixed_lines[y])
        h = [ln for ln in live if ln["health"]]
        o = [ln for ln in live if not ln["health"]]
        if y in HEALTH_EUR:
            ht = HEALTH_EUR[y]
        else:
            ht = sum(ln["raw"] for ln in h)
        if y in TARGET_TOTAL:
            ot = TARGET_TOTAL[y] - fixed - ht
        else:
            ot = sum(ln["raw"] for ln in o) * 1.0
        for grp, tot in ((h, ht), (o, ot)):
            if not grp:
                continue
            f = tot / sum(ln["raw"] for ln in grp)
            for ln in grp:
                ln["montant_accorde"] = max(100, round(ln["raw"] * f, -1))
            # exact residual on the largest line
            big = max(grp, key=lambda ln: ln["montant_accorde"])
            big["montant_accorde"] += round(tot) - sum(ln["montant_accorde"] for ln in grp)
        f_all = (ot / sum(ln["raw"] for ln in o)) if o else 1.0
        for ln in lines:
            if ln["statut"] in ("refusee", "deposee"):
                ln["montant_demande"] = round(ln["raw"] * f_all * rng.uniform(1.0, 1.2), -1)
                ln["montant_accorde"] = 0
            elif rng.random() < 0.4:
                ln["montant_demande"] = round(ln["montant_accorde"] * rng.choice([1.0, 1.0, 1.1, 1.25, 1.5]), -1)
            else:
                ln["montant_demande"] = None
            k = (ln["action_id"], y)
            cout_by_action[k] = cout_by_action.get(k, 0) + max(ln["montant_accorde"], ln["montant_demande"] or 0)
    for r in prog:
        k = (r["action_id"], r["annee"])
        if r["cout_total"] in (None, "") and k in cout_by_action:
            r["cout_total"] = int(round(cout_by_action[k] * 1.08, -1))

    for y in YEARS:
        for ln in regular_lines[y] + fixed_lines[y]:
            fin.append(dict(action_id=ln["action_id"], annee=y, financeur=ln["financeur"],
                            montant_accorde=_num(ln["montant_accorde"]), montant_demande=_num(ln.get("montant_demande")),
                            nature=ln.get("nature") or "", dispositif=ln.get("dispositif") or "",
                            section=ln.get("section") or "fonctionnement"))

    # Thématiques are written in the nomenclature of their year (FORMATS §8): up to 2023 the former one,
    # stored explicitly as `2020-<code>` (the nearest former sub-theme of the current code chosen above).
    for r in prog:
        if r["thematique"] and int(r["annee"]) <= 2023:
            r["thematique"] = "2020-" + CURRENT_TO_FORMER[r["thematique"]]

    out = a.out
    write_csv(out / "programmation.csv",
              ["action_id", "annee", "intitule", "porteur", "porteur_siret", "porteur_type", "pilier", "thematique",
               "qpv", "contrat", "statut", "cout_total", "nouvelle", "nb_beneficiaires", "public_cible"],
              sorted(prog, key=lambda r: (r["annee"], r["action_id"])))
    write_csv(out / "financements.csv",
              ["action_id", "annee", "financeur", "montant_accorde", "montant_demande", "nature", "dispositif",
               "section"], sorted(fin, key=lambda r: (r["annee"], r["action_id"], r["financeur"])))

    write_indicateurs(out, rng, communes_call, qpv_ref, a.src)
    write_enquetes(out, rng)
    print(f"programmation: {len(prog)} rows; financements: {len(fin)} rows; duplicate posts skipped: {n_dup}")


def _num(v):
    if v is None or v == "":
        return ""
    v = round(float(v), 2)
    return int(v) if v == int(v) else v


def write_indicateurs(out: Path, rng: random.Random, communes_call: list[dict], qpv_ref: dict, src: Path) -> None:
    rows = []
    first = set()
    DEFS = {"population": ("Population", "hab"), "revenu_median_uc": ("Revenu disponible médian par UC", "€"),
            "taux_pauvrete": ("Taux de pauvreté (seuil 60 %)", "%"), "taux_chomage": ("Taux de chômage (15-64 ans)", "%"),
            "part_moins_25": ("Part des moins de 25 ans", "%")}
    ILL = "Illustratif (démonstration)"

    def add(t, ind, y, v, source):
        r = dict(territoire=t, indicateur=ind, annee=y, valeur=v, source=source, unite="", libelle="")
        if ind not in first:
            first.add(ind)
            r["libelle"], r["unite"] = DEFS[ind]
        rows.append(r)

    epci = next(e for e in read_csv(src / "epci_2026.csv") if e["epci_siren"] == EPCI)
    for c in communes_call:
        add(c["code_insee"], "population", 2023, int(c["population_cog2026"]),
            "INSEE populations légales (COG 2026, @etalab/decoupage-administratif)")
    add(EPCI, "population", 2023, int(epci["population_municipale"]), "INSEE populations légales (DGCL 2026)")
    add("FR", "population", 2023, 68_000_000, "INSEE (ordre de grandeur)")
    for c in communes_call:
        add(c["code_insee"], "revenu_median_uc", 2021, int(c["filosofi2021_revenu_median_uc_eur"]),
            "INSEE Filosofi 2021")
    add(EPCI, "revenu_median_uc", 2021, 19_480, ILL)
    add("FR", "revenu_median_uc", 2021, 23_160, "INSEE Filosofi 2021")
    for c in communes_call:  # poverty rate decreasing with median income (illustrative)
        rev = int(c["filosofi2021_revenu_median_uc_eur"])
        add(c["code_insee"], "taux_pauvrete", 2021, round(max(5.0, min(38.0, 14.5 + (23_160 - rev) / 260
                                                                        + rng.uniform(-1.5, 1.5))), 1), ILL)
    add(EPCI, "taux_pauvrete", 2021, 24.6, ILL)
    add("FR", "taux_pauvrete", 2021, 14.5, ILL)
    for code in sorted(qpv_ref):
        q = qpv_ref[code]
        y = 2018 if code.startswith("QP") else 2021
        add(code, "population", y, int(q["population"]), ILL)
    for code in sorted(qpv_ref):
        y = 2018 if code.startswith("QP") else 2021
        add(code, "taux_pauvrete", y, round(rng.uniform(35, 55), 1), ILL)
        add(code, "taux_chomage", y, round(rng.uniform(20, 35), 1), ILL)
        add(code, "part_moins_25", y, round(rng.uniform(30, 45), 1), ILL)
        add(code, "revenu_median_uc", y, int(round(rng.uniform(11_000, 15_000), -1)), ILL)
    # reorder so the first row of each code carries libelle and unite
    write_csv(out / "indicateurs.csv", ["territoire", "indicateur", "annee", "valeur", "unite", "source", "libelle"],
              rows)


def write_enquetes(out: Path, rng: random.Random) -> None:
    rows = []
    COOP = ["Relation", "Connexion", "Cohésion", "Connexion dynamique", "Cohésion dynamique"]
    PARTNERS = ["État", "Région", "Département", "CAF", "EPCI"]
    # report (communes): % per partner (columns État, Région, Département, CAF, CALL), rows = COOP levels
    REPORT = {"État": [4.8, 38.1, 23.8, 14.3, 19], "Région": [52.4, 28.6, 9.5, 0, 9.5],
              "Département": [14.3, 23.8, 33.3, 4.8, 23.8], "CAF": [47.6, 14.3, 23.8, 9.5, 4.8],
              "EPCI": [19, 23.8, 28.6, 9.5, 19]}

    def deal(ids, counts_labels):
        """Assign answers to respondents: counts_labels = [(label, count)], leftover respondents skip."""
        answers = [lab for lab, n in counts_labels for _ in range(n)]
        ids = list(ids)
        rng.shuffle(ids)
        return list(zip(ids, answers))

    def q(enq, typ, ids, code, lib, counts, item=""):
        for rid, rep in deal(ids, counts):
            rows.append(dict(enquete=enq, annee=2022, repondant=rid, type_repondant=typ, question=code,
                             libelle_question=lib, item=item, reponse=rep))

    E, T = "EVAL2022-COMMUNES", "commune"
    C = [f"C{i:02d}" for i in range(1, 20)]
    q(E, T, C, "elu_delegue", "La commune a-t-elle un élu délégué à la politique de la ville ?", [("Oui", 15), ("Non", 4)])
    q(E, T, C, "moyens_humains", "Les moyens humains de la commune dédiés à la politique de la ville sont-ils suffisants ?",
      [("Suffisants", 11), ("Insuffisants", 8)])
    q(E, T, C, "etp_pv", "Nombre d'ETP consacrés à la politique de la ville dans la commune",
      [(str(v), 1) for v in [0.5, 1, 1, 0.3, 2, 1.5, 0.5, 1, 3, 0.8, 1, 0.5, 2, 1, 0.2, 1, 4, 0.5, 1]])
    for code, lib, counts in [
        ("cdv_innovation", "Le contrat de ville a-t-il contribué au développement d'actions innovantes ?",
         [("Totalement", 4), ("En partie", 8), ("Un peu", 5), ("Pas du tout", 2)]),
        ("cdv_partenariat", "Le contrat de ville a-t-il permis le partenariat entre les acteurs du territoire ?",
         [("Totalement", 6), ("En partie", 12), ("Un peu", 1)]),
        ("cdv_egalite_fh", "Le contrat de ville a-t-il permis des actions de promotion de l'égalité femmes/hommes ?",
         [("Totalement", 1), ("En partie", 6), ("Un peu", 8), ("Pas du tout", 4)]),
        ("cdv_discriminations", "Le contrat de ville a-t-il permis une approche intégrée de la lutte contre les discriminations ?",
         [("Totalement", 1), ("En partie", 5), ("Un peu", 9), ("Pas du tout", 4)]),
        ("cdv_coherence", "Le contrat de ville a-t-il permis la mise en cohérence des actions des différents acteurs ?",
         [("Totalement", 4), ("En partie", 8), ("Un peu", 5), ("Pas du tout", 2)]),
        ("cdv_droit_commun", "Le contrat de ville a-t-il permis la mobilisation du droit commun ?",
         [("Totalement", 1), ("En partie", 8), ("Un peu", 7), ("Pas du tout", 3)]),
    ]:
        q(E, T, C, code, lib, counts)
    q(E, T, C, "ingenierie_call", "L'ingénierie de la CALL (direction Cohésion sociale) est-elle suffisante ?",
      [("Oui", 12), ("Non", 6)])
    q(E, T, C, "attente_principale", "Principale attente envers la CALL",
      [("Appui en méthodologie de projet", 9), ("Animation du réseau des acteurs", 6), ("Ingénierie financière", 2),
       ("Observation et évaluation", 1)])
    q(E, T, C, "gouvernance_copil", "La gouvernance politique (comité de pilotage) convient-elle à vos attentes ?",
      [("Satisfait", 9), ("En partie", 7)])
    for partner in PARTNERS:
        n_answer = {"État": 19, "Région": 17, "Département": 18, "CAF": 18, "EPCI": 19}[partner]
        counts = split_exact(n_answer, [p + 0.01 for p in REPORT[partner]])
        q(E, T, C, "cooperation", "Degré de coopération avec chaque partenaire", list(zip(COOP, counts)), item=partner)
    for rid, txt in zip(C[:8], [
        "Renforcer l'ingénierie communale et mutualiser à l'échelle de l'agglomération.",
        "Simplifier l'appel à projets et harmoniser les calendriers des financeurs.",
        "Mieux articuler Cités éducatives, PRE et contrat de ville.",
        "Associer davantage les habitants et les conseils citoyens au suivi des actions.",
        "Rendre lisible la mobilisation du droit commun dans les quartiers.",
        "Poursuivre l'AMI cohésion sociale qui fait émerger de nouveaux porteurs.",
        "Développer les actions santé de proximité en lien avec l'Atelier santé ville.",
        "Plus d'échanges entre communes sur les bonnes pratiques.",
    ]):
        rows.append(dict(enquete=E, annee=2022, repondant=rid, type_repondant=T, question="propositions",
                         libelle_question="Vos propositions pour le futur contrat de ville", item="", reponse=txt))

    E, T = "EVAL2022-ASSOCIATIONS", "association"
    A = [f"A{i:02d}" for i in range(1, 22)]
    q(E, T, A, "domaine", "Principal domaine d'intervention de l'association",
      [("Santé", 6), ("Emploi et insertion professionnelle", 6), ("Éducation et parentalité", 3),
       ("Culture et sport", 3), ("Cadre de vie", 2), ("Accès aux droits", 1)])
    q(E, T, A, "salaries", "Nombre de salariés de l'association",
      [(str(v), 1) for v in [0, 0, 3, 4, 5, 8, 12, 15, 6, 22, 35, 48, 9, 18, 27, 60, 75, 120, 2, 11, 40]])
    q(E, T, A, "anciennete", "Ancienneté de l'association",
      [("Moins de 5 ans", 3), ("5 à 10 ans", 3), ("Plus de 10 ans", 15)])
    q(E, T, A, "part_pv_budget", "Part des financements politique de la ville dans le budget de l'association",
      [("Moins de 25 %", 16), ("25 à 50 %", 4), ("Plus de 50 %", 1)])
    for who, n_yes in (("CALL", 15), ("État", 9), ("Communes", 9)):
        q(E, T, A, "accompagnement", "Êtes-vous suffisamment accompagné, de façon adaptée, par les services de…",
          [("Oui", n_yes), ("Non", 21 - n_yes - 2)], item=who)
    for code, lib, counts in [
        ("aap_procedure", "La procédure de l'appel à projets du contrat de ville est adaptée",
         [("Tout à fait d'accord", 5), ("Plutôt d'accord", 9), ("Plutôt pas d'accord", 5), ("Pas du tout d'accord", 2)]),
        ("aap_calendrier", "Le calendrier de dépôt des projets est adapté",
         [("Tout à fait d'accord", 4), ("Plutôt d'accord", 9), ("Plutôt pas d'accord", 6), ("Pas du tout d'accord", 2)]),
        ("delai_paiement", "Le délai de paiement des subventions est satisfaisant",
         [("Tout à fait d'accord", 3), ("Plutôt d'accord", 10), ("Plutôt pas d'accord", 5), ("Pas du tout d'accord", 3)]),
        ("comite_financeurs", "Le nouveau fonctionnement du comité des financeurs (audition des porteurs) est satisfaisant",
         [("Tout à fait d'accord", 7), ("Plutôt d'accord", 8), ("Plutôt pas d'accord", 3), ("Pas du tout d'accord", 1)]),
        ("participation_habitants", "Les habitants sont associés à la conception de vos actions",
         [("Tout à fait d'accord", 4), ("Plutôt d'accord", 8), ("Plutôt pas d'accord", 6), ("Pas du tout d'accord", 3)]),
    ]:
        q(E, T, A, code, lib, counts)
    q(E, T, A, "cooperation_associations",
      "L'animation du contrat de ville vous a-t-elle permis de développer des coopérations avec d'autres associations ?",
      [("Souvent", 9), ("Rarement", 7), ("Jamais", 4)])
    q(E, T, A, "instances", "Instance de travail à laquelle vous participez le plus régulièrement",
      [("Atelier santé ville (ASV)", 9), ("Contrat local de santé (CLS)", 5), ("CISPD", 4), ("Aucune", 3)])
    assoc_report = {"État": [9.5, 38.1, 28.6, 14.3, 9.5], "Région": [47.6, 28.6, 14.3, 4.8, 4.8],
                    "Département": [23.8, 33.3, 23.8, 9.5, 9.5], "CAF": [38.1, 28.6, 19, 9.5, 4.8],
                    "EPCI": [9.5, 23.8, 28.6, 19, 19]}
    for partner in PARTNERS:
        n_answer = {"État": 20, "Région": 17, "Département": 18, "CAF": 16, "EPCI": 21}[partner]
        counts = split_exact(n_answer, [p + 0.01 for p in assoc_report[partner]])
        q(E, T, A, "cooperation", "Degré de coopération avec chaque partenaire", list(zip(COOP, counts)), item=partner)
    for rid, txt in zip(A[:9], [
        "Des conventions pluriannuelles pour sécuriser les postes.",
        "Simplifier Dauphin : la saisie est lourde pour une petite association.",
        "Verser les subventions plus tôt dans l'année.",
        "Créer des temps d'interconnaissance entre associations d'un même quartier.",
        "Mieux reconnaître le travail de prévention santé de proximité.",
        "Associer les habitants dès la conception des projets.",
        "Un interlocuteur unique pour les financeurs.",
        "Maintenir l'AMI cohésion sociale, porte d'entrée pour les nouveaux porteurs.",
        "Des bilans simplifiés et harmonisés entre financeurs.",
    ]):
        rows.append(dict(enquete=E, annee=2022, repondant=rid, type_repondant=T, question="propositions",
                         libelle_question="Vos propositions pour le futur contrat de ville", item="", reponse=txt))

    write_csv(out / "enquete_communes.csv",
              ["enquete", "annee", "repondant", "type_repondant", "question", "libelle_question", "item", "reponse"],
              [r for r in rows if r["enquete"] == "EVAL2022-COMMUNES"])
    write_csv(out / "enquete_associations.csv",
              ["enquete", "annee", "repondant", "type_repondant", "question", "libelle_question", "item", "reponse"],
              [r for r in rows if r["enquete"] == "EVAL2022-ASSOCIATIONS"])
    write_csv(out / "enquete_diffusion.csv", ["enquete", "type_repondant", "nb_sollicites"],
              [dict(enquete="EVAL2022-COMMUNES", type_repondant="commune", nb_sollicites=19),
               dict(enquete="EVAL2022-ASSOCIATIONS", type_repondant="association", nb_sollicites=70)])
    make_demo_engagements.write(out)  # engagements of the PERR and quartier roadmaps (illustrative follow-up)


if __name__ == "__main__":
    main()
