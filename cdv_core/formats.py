"""The upload formats of FORMATS.md, declared once.

The importer, the templates and the column guide all read these declarations.
"""

from __future__ import annotations

from dataclasses import dataclass, field

STATUTS = ("deposee", "accordee", "refusee", "soldee", "abandonnee")
PORTEUR_TYPES = (
    "association", "commune", "epci", "ccas", "bailleur", "etablissement_public", "entreprise", "autre",
)
NATURES = ("specifique", "droit_commun")
SECTIONS = ("fonctionnement", "investissement")
CATEGORIES_FINANCEUR = ("etat", "collectivite", "organisme", "europe", "prive", "porteur")
GEOGRAPHIES = ("2015", "2024")
STATUTS_ENGAGEMENT = ("non_engage", "en_cours", "atteint", "partiellement_atteint", "abandonne")

# Labels shown to people for listed values.
LIBELLES = {
    "deposee": "Déposée", "accordee": "Accordée", "refusee": "Refusée", "soldee": "Soldée",
    "abandonnee": "Abandonnée",
    "association": "Association", "commune": "Commune", "epci": "Intercommunalité", "ccas": "CCAS",
    "bailleur": "Bailleur social", "etablissement_public": "Établissement public", "entreprise": "Entreprise",
    "autre": "Autre",
    "specifique": "Crédits spécifiques", "droit_commun": "Droit commun",
    "fonctionnement": "Fonctionnement", "investissement": "Investissement",
    "non_engage": "Non engagé", "en_cours": "En cours", "atteint": "Atteint",
    "partiellement_atteint": "Partiellement atteint", "abandonne": "Abandonné",
}


@dataclass(frozen=True)
class Column:
    """One column of an upload format."""

    name: str
    kind: str  # text, int, year, amount, number, bool, choice, siret, qpv_list, ref_pilier, ...
    required: bool = False
    help: str = ""
    example: str = ""
    aliases: tuple[str, ...] = ()
    choices: tuple[str, ...] = ()


@dataclass(frozen=True)
class FileKind:
    """One kind of upload file."""

    code: str
    libelle: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    description: str = ""
    referentiel: bool = False
    aliases: tuple[str, ...] = field(default=())

    def column(self, name: str) -> Column:
        return next(c for c in self.columns if c.name == name)

    @property
    def required(self) -> list[str]:
        return [c.name for c in self.columns if c.required]


PROGRAMMATION = FileKind(
    code="programmation",
    libelle="Programmation (une ligne par action et par année)",
    key=("action_id", "annee"),
    description="Les actions programmées : porteur, intitulé, pilier, quartiers concernés.",
    columns=(
        Column("action_id", "text", True, "Identifiant stable de l'action (ex. n° de dossier Dauphin)",
               "2022-00123", aliases=("ndossier", "numerodossier", "dossier", "idaction", "identifiant")),
        Column("annee", "year", True, "Année de programmation (2000 à 2100)", "2022", aliases=("exercice",)),
        Column("intitule", "text", True, "Intitulé de l'action", "Atelier santé ville",
               aliases=("intituleaction", "libelle", "titre")),
        Column("porteur", "text", True, "Nom de la structure porteuse", "Centre social Vachala",
               aliases=("structure", "porteurdeprojet", "raisonsociale")),
        Column("porteur_siret", "siret", False, "SIRET du porteur (14 chiffres)", "77568390300014",
               aliases=("siret",)),
        Column("porteur_type", "choice", False, "Type de porteur", "association", choices=PORTEUR_TYPES,
               aliases=("typeporteur", "typedeporteur")),
        Column("pilier", "ref_pilier", True, "Code ou libellé du pilier (ou axe) du contrat", "inclusion"),
        Column("thematique", "ref_thematique", False, "Code ou libellé de la thématique ANCT", "2.1",
               aliases=("theme", "soustheme")),
        Column("qpv", "qpv_list", True, "Codes QPV séparés par | , ou * pour tous les QPV du contrat",
               "QP062024|QP062025", aliases=("quartier", "quartiers", "codeqpv")),
        Column("contrat", "ref_contrat", False, "Code du contrat de ville (CV… ou CN…)", "CV219",
               aliases=("contratdeville", "codecontrat")),
        Column("statut", "choice", False, "Statut de l'action (accordee par défaut)", "accordee", choices=STATUTS),
        Column("cout_total", "amount", False, "Coût total de l'action, en euros", "25 000",
               aliases=("couttotal", "budget", "budgettotal")),
        Column("nouvelle", "bool", False, "Action nouvelle (oui) ou reconduite (non)", "oui",
               aliases=("nouvelleaction",)),
        Column("nb_beneficiaires", "int", False, "Nombre de bénéficiaires", "120",
               aliases=("beneficiaires", "nombrebeneficiaires")),
        Column("public_cible", "text", False, "Public visé", "Jeunes 16-25 ans", aliases=("public",)),
    ),
)

FINANCEMENTS = FileKind(
    code="financements",
    libelle="Financements (une ligne par action, année et financeur)",
    key=("action_id", "annee", "financeur", "dispositif", "section", "nature"),
    description="Les montants accordés par chaque financeur. Un fichier remplace tous les financements "
    "des actions-années qu'il contient.",
    columns=(
        Column("action_id", "text", True, "Identifiant de l'action (comme dans la programmation)", "2022-00123",
               aliases=("ndossier", "numerodossier", "dossier", "idaction", "identifiant")),
        Column("annee", "year", True, "Année de programmation", "2022", aliases=("exercice",)),
        Column("financeur", "ref_financeur", True, "Code ou libellé du financeur", "etat_bop147"),
        Column("montant_accorde", "amount", True, "Montant accordé, en euros", "12 500",
               aliases=("montant", "accorde", "montantattribue", "subvention")),
        Column("montant_demande", "amount", False, "Montant demandé, en euros", "15 000",
               aliases=("demande",)),
        Column("nature", "choice", False, "specifique (politique de la ville) ou droit_commun ; "
               "par défaut celle du financeur", "specifique", choices=NATURES),
        Column("dispositif", "text", False, "Dispositif (Contrat de ville, Cités éducatives, Adultes-relais…)",
               "Contrat de ville"),
        Column("section", "choice", False, "fonctionnement (par défaut) ou investissement", "fonctionnement",
               choices=SECTIONS),
    ),
)

INDICATEURS = FileKind(
    code="indicateurs",
    libelle="Indicateurs territoriaux",
    key=("territoire", "indicateur", "annee"),
    description="Chiffres par QPV, commune, EPCI, département ou France.",
    columns=(
        Column("territoire", "territoire", True, "Code QPV, code INSEE de commune, SIREN d'EPCI, "
               "code de département ou FR", "QN06224M", aliases=("codeterritoire", "codegeo")),
        Column("indicateur", "code", True, "Code de l'indicateur", "taux_pauvrete"),
        Column("annee", "year", True, "Année du chiffre", "2021"),
        Column("valeur", "number", True, "Valeur", "42,5"),
        Column("unite", "text", False, "Unité (%, €, hab…)", "%"),
        Column("source", "text", False, "Source", "INSEE Filosofi 2021"),
        Column("libelle", "text", False, "Libellé de l'indicateur (obligatoire la première fois)",
               "Taux de pauvreté"),
    ),
)

ENQUETE = FileKind(
    code="enquete",
    libelle="Enquête (une ligne par réponse)",
    key=("enquete", "repondant", "question", "item"),
    description="Réponses à une enquête d'évaluation. Un fichier remplace toutes les réponses "
    "déjà enregistrées sous le même code d'enquête.",
    columns=(
        Column("enquete", "code", True, "Code de l'enquête", "EVAL2022-COMMUNES"),
        Column("annee", "year", True, "Année de l'enquête", "2022"),
        Column("repondant", "text", True, "Identifiant anonyme du répondant", "C01"),
        Column("type_repondant", "code", True, "commune, association, conseil_citoyen, partenaire, habitant…",
               "commune"),
        Column("question", "code", True, "Code de la question", "cooperation"),
        Column("libelle_question", "text", True, "Texte de la question", "Degré de coopération avec…"),
        Column("item", "text", False, "Ligne d'une question en grille (ex. le partenaire)", "CAF"),
        Column("reponse", "text", True, "Réponse : un choix, un nombre ou du texte libre", "Connexion"),
    ),
)

ENQUETE_DIFFUSION = FileKind(
    code="enquete_diffusion",
    libelle="Diffusion d'une enquête (nombre de personnes sollicitées)",
    key=("enquete", "type_repondant"),
    columns=(
        Column("enquete", "code", True, "Code de l'enquête", "EVAL2022-COMMUNES"),
        Column("type_repondant", "code", True, "Type de répondant", "commune"),
        Column("nb_sollicites", "int", True, "Nombre de répondants sollicités", "19",
               aliases=("sollicites", "nbsollicites", "nombresollicites")),
    ),
)

QPV = FileKind(
    code="qpv",
    libelle="Référentiel des quartiers prioritaires (QPV)",
    key=("code_qpv",),
    referentiel=True,
    columns=(
        Column("code_qpv", "qpv_code", True, "Code QPV (QPdddnnn pour 2015, QNdddnnX pour 2024)", "QN06224M",
               aliases=("codeqp", "code")),
        Column("nom_qpv", "text", True, "Nom du quartier", "Cité 12-14", aliases=("nomqp", "nom")),
        Column("communes_insee", "commune_list", True, "Codes INSEE des communes, séparés par |", "62498"),
        Column("geographie", "choice", True, "2015 ou 2024", "2024", choices=GEOGRAPHIES),
        Column("population", "int", False, "Population du quartier", "3500"),
        Column("contrat", "ref_contrat", False, "Code du contrat de ville", "CN06202I"),
    ),
)

PILIERS = FileKind(
    code="piliers",
    libelle="Référentiel des piliers (ou axes)",
    key=("code",),
    referentiel=True,
    columns=(
        Column("code", "code", True, "Code du pilier", "emploi"),
        Column("libelle", "text", True, "Libellé", "Emploi"),
        Column("generation", "text", False, "Génération de contrats (2015-2023, 2024-2030)", "2024-2030"),
    ),
)

FINANCEURS = FileKind(
    code="financeurs",
    libelle="Référentiel des financeurs",
    key=("code",),
    referentiel=True,
    columns=(
        Column("code", "code", True, "Code du financeur", "caf"),
        Column("libelle", "text", True, "Libellé", "CAF"),
        Column("categorie", "choice", False, "etat, collectivite, organisme, europe, prive, porteur",
               "organisme", choices=CATEGORIES_FINANCEUR),
        Column("nature_defaut", "choice", False, "Nature par défaut : specifique ou droit_commun",
               "droit_commun", choices=NATURES),
    ),
)

THEMATIQUES = FileKind(
    code="thematiques",
    libelle="Référentiel des thématiques (nomenclature ANCT)",
    key=("sous_theme_code",),
    referentiel=True,
    columns=(
        Column("theme_code", "code", True, "Code du thème", "2"),
        Column("theme_libelle", "text", True, "Libellé du thème", "Santé"),
        Column("sous_theme_code", "code", True, "Code du sous-thème", "2.1"),
        Column("sous_theme_libelle", "text", True, "Libellé du sous-thème", "Accès aux soins"),
    ),
)

GENERATIONS = ("2015-2023", "2024-2030")

THEMATIQUES_PILIERS = FileKind(
    code="thematiques_piliers",
    libelle="Correspondance thématique → pilier (par génération de contrats)",
    key=("generation", "contrat", "thematique"),
    referentiel=True,
    description="Le pilier (ou l'axe) de chaque thématique, pour les fichiers qui n'en ont pas (subventions "
    "ANCT). Une ligne sans contrat vaut pour tous les contrats de la génération ; une thématique sans "
    "correspondance va au pilier « Non ventilé ».",
    columns=(
        Column("generation", "text", True, "Génération de contrats : 2015-2023 (nomenclature 2020-2023) ou "
               "2024-2030 (nomenclature 2024)", "2024-2030"),
        Column("thematique", "ref_thematique", True, "Code ou libellé de la thématique, dans la nomenclature de "
               "la génération", "2.1", aliases=("soustheme", "theme")),
        Column("pilier", "ref_pilier", True, "Code ou libellé du pilier (ou axe)", "emancipation"),
        Column("contrat", "ref_contrat", False, "Code du contrat, si la correspondance lui est propre",
               "CN06202I"),
    ),
)

# FORMATS §8: the files the State publishes, imported as they come (cdv_core/public_files.py).
SUBVENTIONS_ANCT = FileKind(
    code="subventions_anct",
    libelle="Subventions politique de la ville (open data ANCT)",
    key=("annee", "code_tiers", "lib_action", "code_cv"),
    description="Le fichier publié par l'ANCT (Dauphin), tel quel : une subvention du BOP 147 par ligne. "
    "Seules les lignes d'échelle « cdv » sont importées.",
    columns=(
        Column("annee", "year", True, "Année de la subvention", "2024"),
        Column("code_tiers", "text", False, "SIRET du bénéficiaire", "39013274400025"),
        Column("raison_sociale", "text", True, "Bénéficiaire", "Maison de l'Emploi Lens-Liévin"),
        Column("lib_action", "text", True, "Intitulé de l'action", "Parcours santé des jeunes"),
        Column("objectif", "text", False, "Objectif de l'action", "Prévention santé des 16-25 ans"),
        Column("montant", "amount", True, "Montant accordé (BOP 147), en euros", "12500"),
        Column("theme", "text", False, "Thème (nomenclature de l'année)", "2"),
        Column("sous_theme", "text", False, "Sous-thème (nomenclature de l'année)", "2.1"),
        Column("echelle", "text", True, "nat, reg, dep ou cdv (seules les lignes cdv sont importées)", "cdv"),
        Column("code_cv", "text", True, "Code du contrat de ville", "CN06202I"),
        Column("insee_dep", "text", False, "Département", "62"),
        Column("insee_reg", "text", False, "Région", "32"),
    ),
)

POSTES_ANCT = FileKind(
    code="postes_anct",
    libelle="Postes adultes-relais et FONJEP (open data ANCT)",
    key=("id_poste", "annee"),
    description="Les postes financés par le BOP 147, tels que publiés : une action par poste et par année.",
    columns=(
        Column("id_poste", "text", True, "Identifiant du poste", "06213R001102"),
        Column("code_tiers", "text", False, "SIRET de l'employeur", "43281109900014"),
        Column("raison_sociale", "text", True, "Employeur", "ACSBM"),
        Column("annee", "year", True, "Année", "2024"),
        Column("montant", "amount", True, "Montant (coût théorique du poste), en euros", "21 426"),
        Column("code_cv", "text", True, "Code du contrat de ville", "CN06202I"),
        Column("insee_dep", "text", False, "Département", "62"),
        Column("insee_reg", "text", False, "Région", "32"),
        Column("dispositif", "text", False, "adulte-relais ou fonjep (sinon reconnu d'après l'identifiant ou le "
               "nom du fichier)", "adulte-relais"),
    ),
)

INSEE_STATS = FileKind(
    code="insee_stats",
    libelle="Statistiques INSEE par territoire (fichier large, ex. Filosofi QPV)",
    key=("codgeo",),
    description="Une colonne CODGEO puis une colonne par indicateur et année (DISP_MED_A21…). Les marques de "
    "secret (s, nd, ns, nc, so) et les cellules vides sont des valeurs manquantes, comptées.",
    columns=(
        Column("codgeo", "text", True, "Code du territoire (QPV, commune, EPCI, département ou FR)", "QN06224M"),
        Column("libgeo", "text", False, "Nom du territoire", "Cité 12-14"),
        Column("DISP_MED_A21", "number", False, "Revenu disponible médian par UC en 2021 (€)", "14520"),
        Column("DISP_TP60_A21", "number", False, "Taux de pauvreté au seuil de 60 % en 2021 (%)", "41,2"),
    ),
)

INSEE_META = FileKind(
    code="insee_meta",
    libelle="Métadonnées INSEE (fichier meta_… des colonnes d'un fichier de statistiques)",
    key=("cod_var",),
    description="Le libellé de chaque colonne d'un fichier de statistiques INSEE ; à déposer avec lui.",
    columns=(
        Column("cod_var", "text", True, "Code de la colonne", "TX_EMPL_A21"),
        Column("lib_var", "text", True, "Libellé", "Taux d'emploi des 15-64 ans (%)"),
        Column("lib_var_long", "text", False, "Libellé long", "Taux d'emploi des personnes de 15 à 64 ans"),
        Column("cod_mod", "text", False, "Code de modalité", ""),
        Column("lib_mod", "text", False, "Libellé de modalité", ""),
        Column("type_var", "text", False, "Type", "NUM"),
        Column("long_var", "text", False, "Longueur", "10"),
    ),
)

LISTE_QPV = FileKind(
    code="liste_qpv",
    libelle="Liste officielle des QPV (listeqp2024-cog2024.csv)",
    key=("code_qp", "insee_com"),
    referentiel=True,
    description="Une ligne par quartier et par commune, telle que publiée.",
    columns=(
        Column("code_qp", "qpv_code", True, "Code du quartier", "QN06224M"),
        Column("lib_qp", "text", True, "Nom du quartier", "Cité 12-14"),
        Column("insee_reg", "text", False, "Région", "32"),
        Column("lib_reg", "text", False, "Nom de la région", "Hauts-de-France"),
        Column("insee_dep", "text", False, "Département", "62"),
        Column("lib_dep", "text", False, "Nom du département", "Pas-de-Calais"),
        Column("insee_com", "text", True, "Code INSEE de la commune", "62498"),
        Column("lib_com", "text", False, "Nom de la commune", "Lens"),
        Column("siren_epci", "text", False, "SIREN de l'EPCI", "246200364"),
        Column("lib_epci", "text", False, "Nom de l'EPCI", "CA de Lens - Liévin"),
    ),
)

# Not a table: a GeoJSON or zipped Shapefile, recognised from its content (cdv_core/contours.py).
CONTOURS = FileKind(
    code="contours",
    libelle="Contours (GeoJSON ou Shapefile zippé)",
    key=("code_qpv",),
    description="Contours des quartiers (code_qpv, CODE_QP ou code_quartier) ou des communes (code_insee), en "
    "WGS84 ou en Lambert-93.",
    columns=(
        Column("code_qpv", "qpv_code", True, "Code du quartier (propriété de chaque entité)", "QP062024",
               aliases=("CODE_QP", "code_quartier")),
    ),
)

ENGAGEMENTS = FileKind(
    code="engagements",
    libelle="Engagements des signataires et feuilles de route des quartiers",
    key=("engagement_id",),
    description="Ce que chaque signataire s'est engagé à faire (protocole d'engagements, droit commun promis) "
    "et les objectifs de la feuille de route de chaque quartier (un engagement limité à un QPV).",
    columns=(
        Column("engagement_id", "text", True, "Identifiant stable de l'engagement", "PERR-07",
               aliases=("idengagement", "codeengagement", "numeroengagement", "engagement")),
        Column("intitule", "text", True, "L'engagement tel qu'il est écrit",
               "Faire bénéficier les habitants des QPV des dispositifs emploi de l'agglomération",
               aliases=("libelle", "intituleengagement")),
        Column("signataire", "ref_financeur_list", True, "Qui s'est engagé : code ou libellé du référentiel des "
               "financeurs ; plusieurs co-pilotes séparés par |, le premier pilote", "epci|france_travail",
               aliases=("signataires", "pilote", "partenaire")),
        Column("contrat", "ref_contrat", False, "Code du contrat de ville (nécessaire si la base en compte "
               "plusieurs)", "CV219", aliases=("contratdeville", "codecontrat")),
        Column("pilier", "ref_pilier", False, "Code ou libellé du pilier (ou axe) du contrat", "attractivite",
               aliases=("axe",)),
        Column("qpv", "qpv_list", False, "Codes QPV séparés par |, ou * (par défaut) pour tout le contrat",
               "*", aliases=("quartier", "quartiers", "codeqpv")),
        Column("debut", "year", False, "Année de début", "2019", aliases=("anneedebut",)),
        Column("echeance", "year", False, "Année d'échéance", "2022", aliases=("anneeecheance", "fin")),
        Column("indicateur", "text", False, "Code d'indicateur (ses valeurs sont lues dans les indicateurs) "
               "ou description libre", "Habitants des QPV accompagnés vers l'emploi"),
        Column("valeur_initiale", "number", False, "Valeur de départ de l'indicateur", "120",
               aliases=("valeurdepart",)),
        Column("valeur_cible", "number", False, "Valeur visée à l'échéance", "400", aliases=("cible",)),
        Column("unite", "text", False, "Unité (%, €, nb…)", "nb"),
        Column("montant_engage", "amount", False, "Euros promis sur la période, droit commun compris", "150 000",
               aliases=("montantengage",)),
        Column("nature", "choice", False, "specifique ou droit_commun ; par défaut celle du signataire",
               "droit_commun", choices=NATURES),
    ),
)

SUIVI_ENGAGEMENTS = FileKind(
    code="suivi_engagements",
    libelle="Suivi des engagements (une ligne par engagement et par année)",
    key=("engagement_id", "annee"),
    description="Où en est chaque engagement chaque année : statut, valeur mesurée, euros mobilisés. Une année "
    "sans ligne est « non renseignée », jamais « non engagée ».",
    columns=(
        Column("engagement_id", "text", True, "Identifiant de l'engagement (même fichier d'engagements ou déjà "
               "importé)", "PERR-07", aliases=("idengagement", "codeengagement", "numeroengagement", "engagement")),
        Column("annee", "year", True, "Année du suivi", "2022", aliases=("exercice",)),
        Column("statut", "choice", True, "Où en est l'engagement cette année-là", "en_cours",
               choices=STATUTS_ENGAGEMENT, aliases=("etat", "avancement")),
        Column("valeur", "number", False, "Valeur mesurée de l'indicateur cette année-là", "310",
               aliases=("valeurmesuree",)),
        Column("montant_realise", "amount", False, "Euros effectivement mobilisés cette année-là", "48 000",
               aliases=("montantmobilise", "mobilise")),
        Column("commentaire", "text", False, "Commentaire libre", "Deux forums emploi dans les QPV",
               aliases=("commentaires", "observation")),
        Column("source", "text", False, "D'où vient le chiffre", "Bilan annuel de la Maison de l'emploi"),
    ),
)

KINDS: dict[str, FileKind] = {
    k.code: k
    for k in (PROGRAMMATION, FINANCEMENTS, INDICATEURS, ENQUETE, ENQUETE_DIFFUSION, QPV, PILIERS, FINANCEURS,
              THEMATIQUES, ENGAGEMENTS, SUIVI_ENGAGEMENTS, THEMATIQUES_PILIERS, SUBVENTIONS_ANCT, POSTES_ANCT,
              INSEE_STATS, INSEE_META, LISTE_QPV)
}

# Import order when several files come together: referentials first, then what depends on them.
IMPORT_ORDER = ("thematiques", "piliers", "financeurs", "thematiques_piliers", "qpv", "liste_qpv",
                "programmation", "subventions_anct", "postes_anct", "financements", "insee_meta", "indicateurs",
                "insee_stats", "enquete_diffusion", "enquete", "engagements", "suivi_engagements")
