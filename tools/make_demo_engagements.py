#!/usr/bin/env python3
"""Build the demonstration ENGAGEMENTS of the CA de Lens-Liévin (FORMATS.md §6-7) under data/demo/.

Real: the wording of the 14 engagements of the CALL's protocole d'engagements renforcés et réciproques (PERR,
2019-2022), taken from the contract's 2022 evaluation report (shared seeds, "Ce PERR s'appuie sur 14
engagements"), and the QPV of the Quartiers 2030 contract. ILLUSTRATIVE (invented, plausible): the signatory of
each engagement, its indicator, initial and target values, the amounts committed, the yearly follow-up
2019-2025, the roadmaps of three quartiers and the employment-rate series of `engagements_indicateurs.csv`.

Standard library only, deterministic (no randomness). Usage:
    python tools/make_demo_engagements.py [--out data/demo]
"""
from __future__ import annotations

import argparse
import csv
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_SUIVI = "Illustratif (démonstration)"
YEARS = list(range(2019, 2026))

# Statuses per year 2019..2025; None = no follow-up row that year ("non renseigné").
NE, EC, AT, PA, AB = "non_engage", "en_cours", "atteint", "partiellement_atteint", "abandonne"

# (id, intitulé as written in the PERR, signataire(s), pilier, indicateur, unité, initiale, cible,
#  montant engagé, statuses 2019..2025, € mobilisés per year 2019..2025 or None)
PERR = [
    ("PERR-01", "Réaffirmer le rôle de chef de file de l'Agglomération et favoriser la mise en réseau des acteurs",
     "epci", "", "Directions de la CALL associées aux groupes thématiques", "nb", 2, 8, None,
     [EC, EC, EC, AT, AT, AT, AT], None),
    ("PERR-02", "Accompagner le CR2C et créer des espaces de participation citoyenne",
     "epci|etat_bop147", "inclusion", "Conseils citoyens actifs", "nb", 6, 19, None,
     [NE, EC, EC, EC, PA, PA, EC], None),
    ("PERR-03", "Renforcer les démarches d'« aller vers » pour une action davantage de proximité",
     "caf|epci", "inclusion", "Permanences de proximité tenues dans les QPV", "nb", 10, 30, 360_000,
     [EC, EC, EC, AT, AT, AT, AT], [60_000, 85_000, 95_000, 110_000, 105_000, 100_000, 98_000]),
    ("PERR-04", "Mettre en place une Commission intercommunale d'évaluation",
     "epci", "", "Réunions annuelles de la commission d'évaluation", "nb", 0, 2, None,
     [NE, NE, EC, AT, AT, None, None], None),
    ("PERR-05", "Développer la Gestion Urbaine et Sociale de Proximité (GUSP) en utilisant le levier de "
     "l'abattement de TFPB", "bailleurs|epci", "habitat", "Conventions d'abattement TFPB dotées d'un plan d'actions",
     "nb", 3, 10, 1_200_000, [EC, EC, PA, PA, EC, EC, EC],
     [240_000, 260_000, 280_000, 270_000, 250_000, 240_000, 235_000]),
    ("PERR-06", "Donner une impulsion nouvelle à la politique de peuplement de la CALL pour plus de mixité sociale "
     "dans les QPV", "epci|bailleurs", "habitat",
     "Part des attributions hors QPV aux ménages du premier quartile", "%", 13, 25, None,
     [NE, NE, NE, NE, EC, EC, EC], None),
    ("PERR-07", "Faire bénéficier aux habitants des QPV des dispositifs déployés par la CALL dans le domaine de "
     "l'emploi", "epci|france_travail", "attractivite", "Habitants des QPV accompagnés vers l'emploi", "nb",
     120, 400, 450_000, [EC, EC, EC, EC, AT, AT, AT],
     [80_000, 95_000, 120_000, 130_000, 125_000, 120_000, 118_000]),
    ("PERR-08", "Faire de la mobilité une priorité pour lutter contre le repli sur soi des habitants en QPV",
     "region|epci", "attractivite", "Habitants des QPV accompagnés par la plateforme mobilité", "nb", 150, 600,
     600_000, [NE, EC, EC, EC, EC, PA, AT], [0, 90_000, 140_000, 150_000, 120_000, 110_000, 105_000]),
    ("PERR-09", "Mettre en place un dispositif d'insertion innovant dans le cadre de l'ERBM, profitant "
     "prioritairement aux habitants des QPV", "departement|epci", "attractivite",
     "Habitants des QPV en parcours d'insertion ERBM", "nb", 0, 120, 800_000, [EC, EC, None, None, EC, EC, EC],
     [150_000, 170_000, None, None, 140_000, 130_000, 120_000]),
    ("PERR-10", "Faire du numérique un vecteur d'inclusion sociale en accompagnant les habitants des QPV dans les "
     "nouveaux usages", "caf|epci", "inclusion", "Habitants accompagnés aux usages numériques", "nb", 200, 1500,
     500_000, [NE, EC, EC, AT, AT, AT, AT], [0, 110_000, 140_000, 150_000, 140_000, 135_000, 130_000]),
    ("PERR-11", "Mettre en place une cellule de veille éducative à l'échelle de la CALL pour coordonner les "
     "actions menées dans le champ éducatif sur le territoire", "epci|etat_dc", "egalite_chances",
     "Communes couvertes par la cellule de veille éducative", "nb", 0, 36, None,
     [NE, NE, NE, NE, NE, AB, AB], None),
    ("PERR-12", "Améliorer l'état de santé des habitants en QPV par la mise en œuvre opérationnelle de l'Atelier "
     "Santé Ville (ASV) en cohérence avec le Contrat Local de Santé (CLS)", "ars|epci", "inclusion",
     "Actions de l'Atelier santé ville dans les QPV", "nb", 12, 25, 240_000, [EC, EC, EC, EC, AT, AT, AT],
     [45_000, 55_000, 60_000, 65_000, 62_000, 60_000, 60_000]),
    ("PERR-13", "Décliner la stratégie intercommunale de sécurité et de prévention de la délinquance en "
     "redynamisant le CISPD (Conseil Intercommunal de Sécurité et de Prévention de la Délinquance)",
     "etat_dc|epci", "habitat", "Réunions plénières et groupes de travail du CISPD", "nb", 1, 6, None,
     [EC, None, None, None, EC, EC, EC], None),
    ("PERR-14", "Faire de la culture un levier de développement social", "epci|region|departement", "inclusion",
     "Habitants des QPV participant à un projet culturel", "nb", 800, 2000, None,
     [EC, EC, AB, AB, AB, AB, AB], None),
]

# Progress towards the target implied by a status (share of the way from the initial to the target value).
PROGRESS = {NE: 0.0, EC: 0.45, PA: 0.7, AT: 1.0, AB: 0.2}

COMMENTS = {
    ("PERR-01", 2022): "Les huit directions concernées participent aux groupes thématiques.",
    ("PERR-04", 2022): "Première commission réunie en juin, deuxième en novembre.",
    ("PERR-06", 2023): "Convention intercommunale d'attribution signée ; premiers effets attendus en 2024.",
    ("PERR-09", 2021): "Bilan annuel non transmis.",
    ("PERR-11", 2024): "Abandonné : remplacé par la Cité éducative.",
    ("PERR-14", 2021): "Abandonné faute de porteur après la crise sanitaire.",
}

# Roadmaps (feuilles de route) of three quartiers of the Quartiers 2030 contract, 2024-2030.
# (qpv, objective, signataire, axe, indicateur, unité, initiale, cible, échéance, statuses 2024, 2025, values)
ROADMAPS = [
    ("QN06224M", [
        ("Porter le taux d'emploi des 15-64 ans du quartier à 50 %", "france_travail|epci", "emploi",
         "taux_emploi", "%", None, 50, 2030, [EC, EC], None),
        ("Ouvrir une permanence France Services au cœur de la cité", "commune|etat_dc", "emancipation",
         "Permanence ouverte (1 = oui)", "nb", 0, 1, 2025, [EC, AT], [0, 1]),
        ("Rénover 300 logements miniers avec les bailleurs", "bailleurs", "transitions",
         "Logements rénovés", "nb", 0, 300, 2028, [EC, EC], [40, 95]),
        ("Créer un conseil citoyen du quartier", "commune", "emancipation", "Conseil citoyen installé (1 = oui)",
         "nb", 0, 1, 2024, [NE, EC], [0, 0]),
    ]),
    ("QN06230M", [
        ("Porter le taux d'emploi des 15-64 ans du quartier à 48 %", "france_travail|epci", "emploi",
         "taux_emploi", "%", None, 48, 2030, [EC, EC], None),
        ("Déployer une équipe de médiation de nuit", "commune|etat_dc", "securite",
         "Soirées de médiation par an", "nb", 0, 150, 2026, [EC, EC], [40, 90]),
        ("Végétaliser les cœurs d'îlots", "bailleurs|commune", "transitions", "Surface désimperméabilisée",
         "m²", 0, 5000, 2027, [NE, EC], [0, 1200]),
    ]),
    ("QN06216M", [
        ("Porter le taux d'emploi des 15-64 ans du quartier à 52 %", "france_travail|epci", "emploi",
         "taux_emploi", "%", None, 52, 2030, [EC, EC], None),
        ("Accompagner 100 jeunes par an vers la formation", "region|france_travail", "emploi",
         "Jeunes accompagnés dans l'année", "nb", 30, 100, 2027, [EC, PA], [55, 80]),
        ("Installer une maison de santé pluriprofessionnelle", "ars|commune", "emancipation",
         "Maison de santé ouverte (1 = oui)", "nb", 0, 1, 2027, [NE, NE], [0, 0]),
        ("Créer un accueil de loisirs le mercredi", "caf|commune", "emancipation", "Places d'accueil le mercredi",
         "nb", 0, 60, 2026, [EC, AT], [24, 60]),
        ("Aménager une liaison douce vers la gare", "region|epci", "transitions", "Liaison réalisée (%)", "%", 0,
         100, 2029, [NE, EC], [0, 15]),
    ]),
]

EPCI = "246200364"
# Illustrative employment rate of the 15-64 year-olds (%), 2019-2025: quartier, communes, EPCI, France.
TAUX_EMPLOI = {
    # quartier: (2019 value, yearly gain): the quartiers catch up at different paces
    "QN06224M": (38.0, 1.4), "QN06230M": (36.5, 0.6), "QN06216M": (41.0, 1.0),
}
TAUX_EMPLOI_COMMUNES = {"62498": (55.0, 0.5), "62528": (58.0, 0.4), "62510": (54.0, 0.5),
                        "62276": (60.0, 0.3), "62401": (61.0, 0.3), "62464": (59.0, 0.3)}
TAUX_EMPLOI_EPCI = (57.5, 0.4)
TAUX_EMPLOI_FR = (65.5, 0.3)


def _value(initiale: float, cible: float, unite: str, status: str | None, year_index: int) -> float | None:
    if status is None:
        return None
    share = PROGRESS[status] * min(1.0, 0.55 + 0.15 * year_index)
    value = initiale + (cible - initiale) * share
    return round(value) if unite == "nb" else round(value, 1)


def _num(v) -> str:
    if v is None:
        return ""
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v)


def build() -> tuple[list[dict], list[dict], list[dict]]:
    """(engagements, follow-up rows, indicator rows) of the demonstration."""
    eng, suivi = [], []
    for (eid, intitule, sign, pilier, ind, unite, ini, cible, montant, statuses, money) in PERR:
        eng.append(dict(engagement_id=eid, intitule=intitule, signataire=sign, contrat="CV219", pilier=pilier,
                        qpv="*", debut=2019, echeance=2022, indicateur=ind, valeur_initiale=ini,
                        valeur_cible=cible, unite=unite, montant_engage=montant, nature=""))
        for i, (year, status) in enumerate(zip(YEARS, statuses, strict=True)):
            if status is None:
                continue
            suivi.append(dict(engagement_id=eid, annee=year, statut=status,
                              valeur=_value(ini, cible, unite, status, i),
                              montant_realise=money[i] if money else None,
                              commentaire=COMMENTS.get((eid, year), ""), source=SOURCE_SUIVI))
    for qpv, objectives in ROADMAPS:
        for n, (intitule, sign, axe, ind, unite, ini, cible, echeance, statuses, values) in enumerate(objectives, 1):
            eid = f"FDR-{qpv}-{n}"
            if ind == "taux_emploi":
                ini = TAUX_EMPLOI[qpv][0] + 5 * TAUX_EMPLOI[qpv][1]  # the 2024 value
            eng.append(dict(engagement_id=eid, intitule=intitule, signataire=sign, contrat="CN06202I", pilier=axe,
                            qpv=qpv, debut=2024, echeance=echeance, indicateur=ind,
                            valeur_initiale=round(ini, 1) if isinstance(ini, float) else ini, valeur_cible=cible,
                            unite=unite, montant_engage=None, nature=""))
            for i, status in enumerate(statuses):
                suivi.append(dict(engagement_id=eid, annee=2024 + i, statut=status,
                                  valeur=values[i] if values else None, montant_realise=None,
                                  commentaire="", source=SOURCE_SUIVI))
    ind_rows = []
    series = {**TAUX_EMPLOI, **TAUX_EMPLOI_COMMUNES, EPCI: TAUX_EMPLOI_EPCI, "FR": TAUX_EMPLOI_FR}
    for terr, (start, gain) in series.items():
        for i, year in enumerate(YEARS):
            ind_rows.append(dict(territoire=terr, indicateur="taux_emploi", annee=year,
                                 valeur=round(start + gain * i, 1), unite="%", source=SOURCE_SUIVI,
                                 libelle="Taux d'emploi des 15-64 ans"))
    return eng, suivi, ind_rows


def write(out: Path) -> None:
    eng, suivi, ind = build()
    files = {
        "engagements.csv": (["engagement_id", "intitule", "signataire", "contrat", "pilier", "qpv", "debut",
                             "echeance", "indicateur", "valeur_initiale", "valeur_cible", "unite", "montant_engage",
                             "nature"], eng),
        "suivi_engagements.csv": (["engagement_id", "annee", "statut", "valeur", "montant_realise", "commentaire",
                                   "source"], suivi),
        "engagements_indicateurs.csv": (["territoire", "indicateur", "annee", "valeur", "unite", "source",
                                         "libelle"], ind),
    }
    out.mkdir(parents=True, exist_ok=True)
    for name, (header, rows) in files.items():
        with open(out / name, "w", encoding="utf-8", newline="") as f:
            w = csv.writer(f, lineterminator="\n")
            w.writerow(header)
            for r in rows:
                w.writerow([_num(r.get(h)) for h in header])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--out", type=Path, default=ROOT / "data" / "demo")
    write(ap.parse_args().out)


if __name__ == "__main__":
    main()
