"""Section of the page "À propos des données": what each figure means, the sources and the date of the last
import of each kind of file, what is demonstration data. The sentences live here, the page only lays them out."""

from __future__ import annotations

import pandas as pd

from cdv_core import fmt
from cdv_core.filters import Filtres
from cdv_core.sections.base import KIND_LABELS, Section, register

DEFINITIONS: list[tuple[str, str]] = [
    ("Crédits spécifiques", "Les crédits propres à la politique de la ville (pour l'État, le programme BOP 147 ; "
     "pour les collectivités et les bailleurs, les moyens qu'ils réservent aux quartiers prioritaires). Chaque "
     "financement porte sa nature dans le fichier « financements » (colonne `nature`)."),
    ("Droit commun", "Les crédits ordinaires d'un financeur (éducation, emploi, santé, culture…) mobilisés pour "
     "les actions du contrat de ville."),
    ("Effet levier", "Les euros apportés par les autres financeurs pour un euro de crédits de l'État au titre de "
     "la politique de la ville (BOP 147), sur les mêmes actions."),
    ("Montant par quartier", "Une action menée dans plusieurs quartiers, ou sur tout le contrat (`*`), est "
     "répartie à parts égales entre eux : la somme des quartiers égale le total."),
    ("Les deux géographies prioritaires", "Les quartiers des contrats de ville 2015-2023 (codes `QP…`) et ceux "
     "des contrats « Quartiers 2030 » 2024-2030 (codes `QN…`) ne sont jamais mélangés : une action relève de la "
     "géographie de son contrat."),
    ("Actions financées", "Les actions dont le financement est accordé ou versé, pour un montant supérieur à "
     "zéro. Les demandes en cours d'instruction (déposées) et les refus sont comptés à part et n'entrent dans "
     "aucun montant accordé."),
    ("Année en cours", "L'année civile en cours est partielle : elle est signalée « en cours » et n'entre pas "
     "dans les phrases d'évolution, sauf si on la choisit."),
    ("Anonymat des enquêtes", "Aucun chiffre n'est affiché pour un groupe de moins de {seuil} répondants, ni "
     "aucune réponse libre ; les identifiants des répondants n'apparaissent jamais."),
]

DEMO = ("Les données de démonstration décrivent la communauté d'agglomération de Lens-Liévin : communes, "
        "quartiers prioritaires et postes adultes-relais/FONJEP sont réels ; actions, montants et enquêtes sont "
        "inventés mais vraisemblables. Un bandeau le rappelle sur chaque page tant qu'elles sont en place : il "
        "disparaît dès qu'on importe ses propres données.")

SOURCES = [
    ("Communes, EPCI, populations", "INSEE (code officiel géographique 2026), DGCL — Licence Ouverte"),
    ("Quartiers prioritaires et leurs contours", "ANCT, data.gouv.fr — décrets n° 2014-1750 et 2014-1751 pour "
     "la géographie 2015 ; géographie 2024 des contrats « Quartiers 2030 »"),
    ("Contrats de ville, postes adultes-relais et FONJEP, nomenclature thématique", "ANCT (Ci.Ville) — Licence "
     "Ouverte 2.0"),
    ("Revenu médian des communes", "INSEE Filosofi 2021 — Licence Ouverte"),
    ("Programmation, financements, indicateurs, enquêtes", "les fichiers importés par les gestionnaires du "
     "contrat (format décrit dans docs/FORMATS.md)"),
]


def derniers_imports(con) -> pd.DataFrame:
    """Per kind of file: the date of its last import still in force and the number of such imports."""
    df = con.execute(
        "SELECT type_fichier, max(horodatage) AS dernier, count(*) AS nb FROM import_journal "
        "WHERE annule_par IS NULL AND annule IS NULL GROUP BY type_fichier ORDER BY type_fichier").df()
    return pd.DataFrame({
        "Fichier": [KIND_LABELS.get(k, k).capitalize() for k in df["type_fichier"]],
        "Dernier import": [fmt.date_heure_fr(d) for d in df["dernier"]],
        "Imports en vigueur": df["nb"].astype(int),
    })


@register("a_propos_imports", "Dernier import de chaque fichier", filtres=())
def a_propos_imports(con, f: Filtres, **_) -> Section:
    """The date of the last import of each kind of file (filters do not apply)."""
    table = derniers_imports(con)
    if table.empty:
        return Section("a_propos_imports", "Aucun fichier n'a encore été importé", vide=(
            "La base ne contient que les référentiels nationaux : importez une programmation pour commencer."))
    latest = con.execute("SELECT max(horodatage) FROM import_journal WHERE annule_par IS NULL AND annule IS NULL"
                         ).fetchone()[0]
    titre = f"Dernier import le {fmt.date_fr(latest)}"
    return Section("a_propos_imports", titre, table=table, table_nom="Derniers imports",
                   source="Source : journal des imports", formats={"Imports en vigueur": "nombre"})
