"""Sections of the "Porteurs" page: who carries the actions, who is new, renewal, concentration, dependence on
crédits spécifiques, one porteur's fiche, and the beneficiaries declared by porteurs.

The rules (porteur identity, first year, renewal, concentration, dependence) are those of
`cdv_core.queries_porteurs`, whose docstring states them; the notes below repeat them for the reader.
"""

from __future__ import annotations

import pandas as pd

from cdv_core import charts, fmt, queries
from cdv_core import queries_porteurs as qp
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES
from cdv_core.sections.base import (
    FUNDING_SOURCES,
    NO_ACTION,
    SPLIT_NOTE,
    Section,
    annee_affichee,
    bars_height,
    empty,
    register,
    section,
    source,
)

NOTE_IDENTITE = ("Un porteur est identifié par son SIRET : les différentes graphies d'un même SIRET sont "
                 "regroupées sous la plus récente.")
NOTE_RECONDUCTION = (
    "Action reconduite : une action financée l'année précédente porte le même numéro, ou, quand les numéros "
    "changent chaque année, le même porteur a financé l'année précédente une action d'intitulé proche "
    f"(intitulés sans accents ni ponctuation, similarité de Levenshtein d'au moins {fmt.pourcent(100 * qp.SIMILARITE_MIN, 0)}). "
    "« Déclarée » : la colonne « nouvelle » de la programmation, quand elle est renseignée.")
NOTE_HHI = ("Indice de Herfindahl-Hirschman : somme des carrés des parts (en %) des porteurs, de 0 à 10 000 ; "
            "au-dessus de 2 500 les financements sont très concentrés, en dessous de 1 500 peu concentrés.")
NOTE_DEPENDANCE = ("Dépendance : part des financements d'un porteur qui relève des crédits spécifiques de la "
                   "politique de la ville, sur les seuls financements de la programmation (pas le budget "
                   "complet de la structure). Le filtre « nature des crédits » ne s'applique pas ici.")
NOTE_DECLARE = ("Publics et nombres de bénéficiaires sont déclarés par les porteurs dans leurs dossiers : "
                "ils ne sont ni vérifiés ni dédoublonnés (une même personne peut être comptée par plusieurs "
                "actions).")


def _years(df: pd.DataFrame) -> tuple[int, ...]:
    return tuple(int(y) for y in df["annee"]) if "annee" in df else ()


@register("porteurs_liste", "Porteurs de projet", ())
def porteurs_liste(con, f: Filtres, **_) -> Section:
    """The porteurs of the selection: total, financed actions, funders, first year, dependence."""
    df = qp.liste(con, f)
    df = df[(df["montant_accorde"] > 0) | (df["nb_dossiers"] > 0)] if not df.empty else df
    if df.empty:
        return empty("porteurs_liste", "Porteurs de projet", NO_ACTION)
    funded = df[df["nb_actions"] > 0]
    tot = float(df["montant_accorde"].sum())
    top = funded.head(qp.TOP)
    part_top = 100 * float(top["montant_accorde"].sum()) / tot if tot else None
    titre = f"{fmt.compte(len(funded), 'porteur a', 'porteurs ont')} reçu {fmt.euros(tot)}"
    if len(funded) > 1:
        titre += f" ; les {min(qp.TOP, len(funded))} premiers en reçoivent {fmt.pourcent(part_top, 0)}"
    table = pd.DataFrame({
        "Porteur": df["porteur"], "SIRET": df["siret"].fillna("—"),
        "Type": df["porteur_type"].map(lambda t: LIBELLES.get(t, t) if isinstance(t, str) else "—"),
        "Montant accordé": df["montant_accorde"], "Actions financées": df["nb_actions"].astype(int),
        "Dossiers": df["nb_dossiers"].astype(int), "Financeurs": df["financeurs"],
        "Première année financée": df["premiere_annee"].astype("Int64"),
        "Crédits spécifiques (%)": df["part_specifique"],
        "Graphies regroupées": [g if n > 1 else "" for g, n in zip(df["graphies"], df["nb_graphies"], strict=True)],
    })
    shown = funded.head(25).assign(porteur=lambda d: d["porteur"].str.slice(0, 60))
    chart = charts.horizontal_bars(shown, "porteur", "montant_accorde", height=max(320, 30 * len(shown)))
    notes = [NOTE_IDENTITE, queries.REGLE_ACTIONS]
    if len(funded) > 25:
        notes.insert(0, f"Le graphique montre les 25 premiers porteurs ; tous ({fmt.nombre(len(df))}, dont ceux "
                        "qui n'ont que des dossiers non financés) sont dans l'onglet Tableau.")
    if f.split_qpv:
        notes.append(SPLIT_NOTE)
    return section("porteurs_liste", titre,
                   [("Porteurs financés", fmt.nombre(len(funded))),
                    ("Actions financées", fmt.nombre(int(funded["nb_actions"].sum()))),
                    ("Montant accordé", fmt.euros(tot)),
                    (f"Part des {min(qp.TOP, len(funded))} premiers", fmt.pourcent(part_top, 0))],
                   chart, table, "Porteurs", source(con, FUNDING_SOURCES, tuple(f.annees)), notes,
                   formats={"Montant accordé": "euros", "Actions financées": "nombre", "Dossiers": "nombre",
                            "Première année financée": "annee", "Crédits spécifiques (%)": "pourcent",
                            "SIRET": "texte"})


@register("porteurs_nouveaux", "Nouveaux porteurs", ("annee",), slide=True)
def porteurs_nouveaux(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """New porteurs per year (first financed year in the database) and their share of the money."""
    df = qp.nouveaux(con, f)
    df = df[df["nb_porteurs"] > 0]
    if df.empty:
        return empty("porteurs_nouveaux", "Nouveaux porteurs", NO_ACTION)
    annee = annee_affichee(con, f, annee)
    row = df[df["annee"] == annee]
    shown = df[~df["premiere_annee_donnees"]]
    if row.empty or bool(row["premiere_annee_donnees"].iloc[0]):
        titre = "Nouveaux porteurs par année"
        chiffres = []
    else:
        r = row.iloc[0]
        if r["nb_nouveaux"] == 0:
            titre = (f"En {annee}, aucun nouveau porteur parmi les {fmt.nombre(r['nb_porteurs'])} porteurs financés"
                     if r["nb_porteurs"] > 1 else f"En {annee}, aucun nouveau porteur")
        else:
            titre = (f"En {annee}, {fmt.compte(r['nb_nouveaux'], 'nouveau porteur', 'nouveaux porteurs')} sur "
                     f"{fmt.nombre(r['nb_porteurs'])}, {fmt.accord(r['nb_nouveaux'], 'qui reçoit', 'qui reçoivent')} "
                     f"{fmt.pourcent(r['part_montant_nouveaux'], 1)} "
                     "des financements")
        chiffres = [(f"Nouveaux porteurs {annee}", fmt.nombre(r["nb_nouveaux"])),
                    ("Part des porteurs", fmt.pourcent(r["part_nouveaux"], 1)),
                    ("Montant des nouveaux", fmt.euros(r["montant_nouveaux"])),
                    ("Part des financements", fmt.pourcent(r["part_montant_nouveaux"], 1))]
    chart = (charts.value_columns(shown, "annee", "nb_nouveaux", "Nouveaux porteurs", kind="nombre")
             if not shown.empty else None)
    table = pd.DataFrame({
        "Année": df["annee"], "Porteurs financés": df["nb_porteurs"], "Nouveaux porteurs": df["nb_nouveaux"],
        "Part des porteurs (%)": df["part_nouveaux"], "Montant des nouveaux": df["montant_nouveaux"],
        "Part des financements (%)": df["part_montant_nouveaux"]})
    notes = ["Nouveau porteur : financé pour la première fois cette année-là dans la base (tous filtres "
             "confondus). " + NOTE_IDENTITE]
    first = df.loc[df["premiere_annee_donnees"], "annee"]
    if not first.empty:
        notes.append(f"{int(first.iloc[0])}, première année des données, n'a pas d'« avant » : elle n'est pas "
                     "dans le graphique.")
    return section("porteurs_nouveaux", titre, chiffres, chart, table, "Nouveaux porteurs",
                   source(con, FUNDING_SOURCES, _years(df)), notes, params={"annee": annee},
                   formats={"Année": "annee", "Porteurs financés": "nombre", "Nouveaux porteurs": "nombre",
                            "Montant des nouveaux": "euros"})


@register("porteurs_renouvellement", "Actions reconduites d'une année sur l'autre", ("annee",), slide=True)
def porteurs_renouvellement(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Share of financed actions continued from the year before: derived from the data, and as declared."""
    df = qp.renouvellement(con, f)
    df = df[df["part_reconduites"].notna()] if not df.empty else df
    if df.empty:
        return empty("porteurs_renouvellement", "Actions reconduites",
                     "Il faut au moins deux années consécutives d'actions financées pour mesurer la reconduction.")
    annee = annee_affichee(con, f, annee)
    row = df[df["annee"] == annee]
    r = (row if not row.empty else df.tail(1)).iloc[0]
    titre = (f"En {int(r['annee'])}, {fmt.pourcent(r['part_reconduites'], 0)} des actions financées prolongent "
             "une action de l'année précédente")
    if pd.notna(r["part_declarees_reconduites"]):
        titre += f" (déclarées reconduites : {fmt.pourcent(r['part_declarees_reconduites'], 0)})"
    long = pd.concat([
        df[["annee"]].assign(mesure="D'après les données", part=df["part_reconduites"]),
        df[["annee"]].assign(mesure="Déclarées", part=df["part_declarees_reconduites"]),
    ]).dropna(subset=["part"])
    chart = charts.line_by_year(long, "part", "Part des actions (%)", category="mesure", category_title="Reconduites",
                                euros=False)
    table = pd.DataFrame({
        "Année": df["annee"], "Actions financées": df["nb_actions"], "Reconduites": df["nb_reconduites"],
        "dont même numéro": df["nb_par_id"], "dont intitulé proche": df["nb_par_intitule"],
        "Reconduites (%)": df["part_reconduites"], "Déclarées reconduites": df["nb_declarees_reconduites"],
        "Déclarées reconduites (%)": df["part_declarees_reconduites"],
        "Déclaration conforme": df["nb_accord"]})
    chiffres = [(f"Reconduites {int(r['annee'])}", fmt.pourcent(r["part_reconduites"], 0)),
                ("Déclarées reconduites", fmt.pourcent(r["part_declarees_reconduites"], 0)),
                ("Par intitulé proche", fmt.nombre(r["nb_par_intitule"]))]
    return section("porteurs_renouvellement", titre, chiffres, chart, table, "Actions reconduites",
                   source(con, FUNDING_SOURCES, _years(df)), [NOTE_RECONDUCTION, queries.REGLE_ACTIONS],
                   params={"annee": int(r["annee"])},
                   formats={"Année": "annee", "Actions financées": "nombre", "Reconduites": "nombre",
                            "dont même numéro": "nombre", "dont intitulé proche": "nombre",
                            "Déclarées reconduites": "nombre", "Déclaration conforme": "nombre"})


@register("porteurs_concentration", "Concentration des financements sur les porteurs", ("annee",), slide=True)
def porteurs_concentration(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Share of the 10 largest porteurs and the Herfindahl index, per year."""
    df = qp.concentration(con, f)
    if df.empty:
        return empty("porteurs_concentration", "Concentration des financements", NO_ACTION)
    annee = annee_affichee(con, f, annee)
    row = df[df["annee"] == annee]
    r = (row if not row.empty else df.tail(1)).iloc[0]
    first = df.iloc[0]
    titre = (f"En {int(r['annee'])}, les {qp.TOP} premiers porteurs reçoivent {fmt.pourcent(r['part_top'], 0)} "
             f"des financements (indice de Herfindahl : {fmt.nombre(round(r['hhi']))})")
    chart = charts.line_by_year(df, "part_top", f"Part des {qp.TOP} premiers porteurs (%)", euros=False)
    table = pd.DataFrame({
        "Année": df["annee"], "Montant accordé": df["montant_accorde"], "Porteurs financés": df["nb_porteurs"],
        f"Montant des {qp.TOP} premiers": df["montant_top"], f"Part des {qp.TOP} premiers (%)": df["part_top"],
        "Indice de Herfindahl": df["hhi"].round(0)})
    delta = float(r["part_top"] - first["part_top"])
    ecart = fmt.pourcent(delta, 1, signe=True).replace("−", "-").replace("%", "pt")
    chiffres = [(f"Part des {qp.TOP} premiers {int(r['annee'])}", fmt.pourcent(r["part_top"], 0),
                 "Écart en points de pourcentage avec la première année affichée.",
                 f"{ecart} depuis {int(first['annee'])}"),
                ("Indice de Herfindahl", fmt.nombre(round(r["hhi"]))),
                ("Porteurs financés", fmt.nombre(r["nb_porteurs"]))]
    notes = [NOTE_HHI, NOTE_IDENTITE]
    depots = queries.depots_en_instruction(con, f)
    if depots["nb"] and depots["annee"] in set(df["annee"]):
        notes.append(f"{depots['annee']} est en cours d'instruction ({fmt.compte(depots['nb'], 'dépôt')}) : "
                     "ses chiffres ne se comparent pas encore aux années closes.")
    if f.split_qpv:
        notes.append(SPLIT_NOTE)
    return section("porteurs_concentration", titre, chiffres, chart, table, "Concentration",
                   source(con, FUNDING_SOURCES, _years(df)), notes, params={"annee": int(r["annee"])},
                   formats={"Année": "annee", "Porteurs financés": "nombre", "Indice de Herfindahl": "nombre"})


@register("porteurs_dependance", "Dépendance des porteurs aux crédits spécifiques", ())
def porteurs_dependance(con, f: Filtres, **_) -> Section:
    """Porteurs by share of their funding that is politique de la ville money."""
    df = qp.dependance(con, f)
    n = int(df["nb_porteurs"].sum()) if not df.empty else 0
    if n == 0:
        return empty("porteurs_dependance", "Dépendance aux crédits spécifiques", NO_ACTION)
    plus_moitie = int(df.loc[df["classe"].isin([c[2] for c in qp.CLASSES_DEPENDANCE[2:]]), "nb_porteurs"].sum())
    titre = (f"{fmt.pourcent(100 * plus_moitie / n, 0)} des porteurs tirent au moins la moitié de leurs "
             "financements des crédits spécifiques de la politique de la ville")
    chart = charts.spec(charts.value_columns(df, "classe", "nb_porteurs", "Porteurs", kind="nombre",
                                             x_title="Part des crédits spécifiques"))
    for layer in chart.get("layer", []):  # classes in their natural order, not alphabetical
        if "x" in layer.get("encoding", {}):
            layer["encoding"]["x"]["sort"] = [c[2] for c in qp.CLASSES_DEPENDANCE]
    table = df.rename(columns={"classe": "Part des crédits spécifiques", "nb_porteurs": "Porteurs",
                               "part": "Part des porteurs (%)", "montant_accorde": "Montant accordé"})
    return section("porteurs_dependance", titre,
                   [("Porteurs à 50 % ou plus", fmt.nombre(plus_moitie)), ("Porteurs financés", fmt.nombre(n))],
                   chart, table, "Dépendance aux crédits spécifiques",
                   source(con, FUNDING_SOURCES, tuple(f.annees)), [NOTE_DEPENDANCE],
                   formats={"Porteurs": "nombre"})


# --- one porteur's fiche ----------------------------------------------------------------------------------


def _nom(con, porteur: str | None) -> tuple[str, dict | None]:
    pid = qp.resoudre(con, porteur)
    return (pid or ""), (qp.identite(con, pid) if pid else None)


INCONNU = "Ce porteur n'est pas dans les données (lien ancien ou nom mal orthographié)."


@register("fiche_porteur", "Fiche d'un porteur", ("porteur",))
def fiche_porteur(con, f: Filtres, porteur: str | None = None, **_) -> Section:
    """One porteur: identity and its funding per year and funder."""
    pid, ident = _nom(con, porteur)
    if ident is None:
        return empty("fiche_porteur", "Fiche porteur", INCONNU, {"porteur": porteur})
    by = qp.fiche_par(con, f, pid, "financeur")
    years = qp.fiche_par(con, f, pid, "annee")
    per_year_funder = _par_annee_financeur(con, f, pid)
    tot = float(years["montant_accorde"].sum()) if not years.empty else 0.0
    nb = int(years["nb_actions"].sum()) if not years.empty else 0
    titre = (f"{ident['porteur']} : {fmt.euros(tot)} accordés pour "
             f"{fmt.compte(nb, 'action financée', 'actions financées')}")
    if not years.empty:
        lo, hi = int(years["annee"].min()), int(years["annee"].max())
        titre += f" ({lo})" if lo == hi else f" de {lo} à {hi}"
    chiffres = [("Montant accordé", fmt.euros(tot)), ("Actions financées", fmt.nombre(nb)),
                ("Première année financée", str(int(ident["premiere_annee"])) if pd.notna(ident["premiere_annee"])
                 else "—"),
                ("SIRET", ident["siret"] or "non renseigné")]
    chart = (charts.stacked_by_year(per_year_funder, "financeur_libelle", "Financeur", height=380)
             if not per_year_funder.empty else None)
    table = (by[["financeur_libelle", "montant_accorde", "nb_actions"]].rename(columns={
        "financeur_libelle": "Financeur", "montant_accorde": "Montant accordé", "nb_actions": "Actions financées"})
        .sort_values("Montant accordé", ascending=False, ignore_index=True))
    notes = []
    if ident["nb_graphies"] > 1:
        notes.append(f"Graphies regroupées sous ce SIRET : {ident['graphies']}.")
    if f.split_qpv:
        notes.append(SPLIT_NOTE)
    return section("fiche_porteur", titre, chiffres, chart, table, f"Financeurs {ident['porteur']}"[:80],
                   source(con, FUNDING_SOURCES, _years(years)), notes,
                   vide=None if chart is not None else "Aucun financement accordé pour ces filtres.",
                   params={"porteur": porteur}, formats={"Actions financées": "nombre"})


def _par_annee_financeur(con, f: Filtres, pid: str) -> pd.DataFrame:
    df = qp.fiche_par_dims(con, f, pid, ("annee", "financeur"))
    return df[df["montant_accorde"] > 0]


@register("porteur_piliers", "Un porteur : financements par pilier", ("porteur",))
def porteur_piliers(con, f: Filtres, porteur: str | None = None, **_) -> Section:
    pid, ident = _nom(con, porteur)
    if ident is None:
        return empty("porteur_piliers", "Par pilier", INCONNU, {"porteur": porteur})
    df = qp.fiche_par(con, f, pid, "pilier")
    df = df[df["montant_accorde"] > 0]
    if df.empty:
        return empty("porteur_piliers", "Par pilier", "Aucun financement accordé pour ces filtres.")
    top = df.sort_values("montant_accorde", ascending=False).iloc[0]
    tot = df["montant_accorde"].sum()
    titre = f"« {top['pilier_libelle']} » : {fmt.pourcent(100 * top['montant_accorde'] / tot, 0)} de ses financements"
    chart = charts.horizontal_bars(df, "pilier_libelle", "montant_accorde", height=bars_height(len(df)) // 2 + 60)
    table = df[["pilier_libelle", "montant_accorde", "nb_actions"]].rename(columns={
        "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "nb_actions": "Actions financées"})
    return section("porteur_piliers", titre, [], chart, table, "Par pilier", params={"porteur": porteur},
                   formats={"Actions financées": "nombre"})


@register("porteur_quartiers", "Un porteur : financements par quartier", ("porteur",))
def porteur_quartiers(con, f: Filtres, porteur: str | None = None, **_) -> Section:
    pid, ident = _nom(con, porteur)
    if ident is None:
        return empty("porteur_quartiers", "Par quartier", INCONNU, {"porteur": porteur})
    df = qp.fiche_par(con, f, pid, "qpv")
    df = df[df["montant_accorde"] > 0].sort_values("montant_accorde", ascending=False, ignore_index=True)
    if df.empty:
        return empty("porteur_quartiers", "Par quartier", "Aucun financement accordé pour ces filtres.")
    titre = (f"{fmt.compte(len(df), 'quartier')} ; le premier, {df.iloc[0]['qpv_libelle']}, reçoit "
             f"{fmt.euros(df.iloc[0]['montant_accorde'])}")
    shown = df.head(15).assign(libelle=lambda d: d["qpv_libelle"] + " (" + d["qpv"] + ")")
    chart = charts.horizontal_bars(shown, "libelle", "montant_accorde", height=max(160, 34 * len(shown)))
    table = df[["qpv_libelle", "qpv", "montant_accorde", "nb_actions"]].rename(columns={
        "qpv_libelle": "Quartier", "qpv": "Code", "montant_accorde": "Montant accordé",
        "nb_actions": "Actions financées"})
    notes = [SPLIT_NOTE] + (["Le graphique montre les 15 premiers quartiers ; tous sont dans l'onglet Tableau."]
                            if len(df) > 15 else [])
    return section("porteur_quartiers", titre, [], chart, table, "Par quartier", notes=notes,
                   params={"porteur": porteur}, formats={"Actions financées": "nombre", "Code": "texte"})


@register("porteur_actions", "Un porteur : ses actions", ("porteur",))
def porteur_actions(con, f: Filtres, porteur: str | None = None, **_) -> Section:
    pid, ident = _nom(con, porteur)
    if ident is None:
        return empty("porteur_actions", "Ses actions", INCONNU, {"porteur": porteur})
    df = qp.fiche_actions(con, f, pid)
    if df.empty:
        return empty("porteur_actions", "Ses actions", NO_ACTION)
    n_fin = int(df["financee"].sum())
    titre = f"{fmt.compte(n_fin, 'action financée', 'actions financées')}" + (
        f" et {fmt.compte(len(df) - n_fin, 'dossier non financé', 'dossiers non financés')}" if len(df) > n_fin else "")
    table = pd.DataFrame({
        "Année": df["annee"], "N° dossier": df["action_id"], "Action": df["intitule"],
        "Montant accordé": df["montant_accorde"], "Statut": df["statut"].map(lambda s: LIBELLES.get(s, s)),
        "Pilier": df["pilier_libelle"].fillna(df["pilier"]),
        "Nouvelle ?": df["nouvelle"].map({True: "Nouvelle", False: "Reconduite"}).fillna("—"),
        "Public visé": df["public_cible"].fillna("—"),
        "Bénéficiaires déclarés": [fmt.nombre(v) if pd.notna(v) else "—" for v in df["nb_beneficiaires"]],
        "Dispositifs": df["dispositifs"].fillna("")})
    return section("porteur_actions", titre, [], None, table, "Actions", notes=[NOTE_DECLARE, queries.REGLE_ACTIONS],
                   params={"porteur": porteur},
                   formats={"Année": "annee", "Bénéficiaires déclarés": "texte", "N° dossier": "texte"})


# --- publics and beneficiaries ----------------------------------------------------------------------------


@register("beneficiaires", "Bénéficiaires déclarés par pilier", ("annee",))
def beneficiaires(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Beneficiaries declared by porteurs, per pillar and year, over financed actions."""
    df = qp.beneficiaires(con, f)
    if df.empty or df["nb_beneficiaires"].sum() == 0:
        return empty("beneficiaires", "Bénéficiaires déclarés",
                     "Aucun nombre de bénéficiaires n'est renseigné pour ces actions.")
    annee = annee_affichee(con, f, annee)
    year = df[df["annee"] == annee]
    n, renseignees, actions = (int(year["nb_beneficiaires"].sum()), int(year["nb_actions_renseignees"].sum()),
                               int(year["nb_actions"].sum()))
    titre = (f"En {annee}, les porteurs déclarent {fmt.compte(n, 'bénéficiaire')} pour "
             f"{fmt.compte(renseignees, 'action financée', 'actions financées')} sur {fmt.nombre(actions)}")
    chart = charts.stacked_columns(df, "pilier_libelle", "Pilier", "nb_beneficiaires", "Bénéficiaires déclarés",
                                   kind="nombre")
    table = df[["annee", "pilier_libelle", "nb_beneficiaires", "nb_actions_renseignees", "nb_actions"]].rename(
        columns={"annee": "Année", "pilier_libelle": "Pilier", "nb_beneficiaires": "Bénéficiaires déclarés",
                 "nb_actions_renseignees": "Actions qui les déclarent", "nb_actions": "Actions financées"})
    pub = qp.publics(con, f.with_(annees=(annee,)))
    notes = [NOTE_DECLARE]
    if not pub.empty:
        notes.append(f"Publics visés les plus fréquents en {annee} : "
                     + ", ".join(f"{p} ({fmt.compte(k, 'action')})" for p, k in
                                 zip(pub["public_cible"].head(4), pub["nb_actions"].head(4), strict=True)) + ".")
    return section("beneficiaires", titre, [(f"Bénéficiaires déclarés {annee}", fmt.nombre(n)),
                                            ("Actions qui les déclarent", f"{fmt.nombre(renseignees)} / {fmt.nombre(actions)}")],
                   chart, table, "Bénéficiaires déclarés", source(con, ("programmation",), _years(df)), notes,
                   params={"annee": annee},
                   formats={"Année": "annee", "Bénéficiaires déclarés": "nombre",
                            "Actions qui les déclarent": "nombre", "Actions financées": "nombre"})

