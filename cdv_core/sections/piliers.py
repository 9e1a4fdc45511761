"""Sections of the Piliers page: amounts and actions per pillar and thématique over the years, new actions,
pillar targets, and the drill-down from a pillar to its thématiques and actions."""

from __future__ import annotations

import pandas as pd

from cdv_core import charts, fmt, queries
from cdv_core import queries_piliers as qp
from cdv_core.filters import Filtres
from cdv_core.formats import LIBELLES
from cdv_core.sections.base import (
    FUNDING_SOURCES,
    SPLIT_NOTE,
    Chiffre,
    Section,
    annee_affichee,
    empty,
    pivot_by_year,
    query,
    register,
    source,
)

NO_ACTION_PAGE = ("Aucune action ne correspond aux filtres choisis. Élargissez la sélection ou réinitialisez les "
                  "filtres.")
MESURES = {"montant_accorde": "Montants", "nb_actions": "Nombre d'actions", "part": "Parts (%)"}
YEAR_FORMATS = {"montant_accorde": "euros", "part": "pourcent", "nb_actions": "nombre"}
TOUTES = "__toutes__"


def _by_year(con, f: Filtres) -> pd.DataFrame:
    return query(con, qp.par_annee_pilier, f)


@register("piliers_annees", "Années des piliers", ("annee",))
def annees(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """The years with actions and the year shown (chosen, else the default rule)."""
    by_year = _by_year(con, f)
    if by_year.empty or by_year["nb_actions"].sum() == 0:
        return empty("piliers_annees", "Piliers", NO_ACTION_PAGE)
    years = sorted(int(y) for y in by_year["annee"].unique())
    default = annee_affichee(con, f, None)
    default = default if default in years else years[-1]
    return Section("piliers_annees", "Piliers",
                   params={"annees": years, "defaut": default, "annee": annee if annee in years else default})


def _pil(con, f: Filtres, annee: int) -> pd.DataFrame:
    pil = query(con, qp.par_pilier, f.with_(annees=(annee,)))
    return pil[pil["nb_actions"] > 0]


@register("piliers_entete", "Piliers : chiffres clés", ("annee",))
def entete(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """The two pillars that receive the most in the title; amount, actions, share of new actions, pillars."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    pil = _pil(con, f, annee)
    funded = pil[pil["montant_accorde"] > 0]
    if funded.empty:
        titre = f"En {annee}, aucun financement accordé pour ces filtres"
    else:
        top = funded.iloc[0]
        titre = f"En {annee}, « {top['pilier_libelle']} » reçoit {fmt.pourcent(top['part'], 0)} des financements"
        if len(funded) > 1:
            second = funded.iloc[1]
            titre += f", devant « {second['pilier_libelle']} » ({fmt.pourcent(second['part'], 0)})"
    nouv = query(con, qp.nouvelles_par_annee, f)
    new_year = nouv[(nouv["annee"] == annee) & (nouv["type"] == "Nouvelle")]
    n_new = int(new_year["nb_actions"].sum())
    n_all = int(nouv.loc[nouv["annee"] == annee, "nb_actions"].sum())
    chiffres = [
        Chiffre(f"Montant accordé {annee}", fmt.euros(pil["montant_accorde"].sum())),
        Chiffre(f"Actions {annee}", fmt.nombre(n_all)),
        Chiffre("Actions nouvelles", fmt.pourcent(new_year["part_actions"].sum() if n_all else None, 0),
                aide=f"{fmt.compte(n_new, 'action nouvelle', 'actions nouvelles')} sur {fmt.nombre(n_all)} en "
                     f"{annee} ; les autres sont reconduites d'une année sur l'autre."),
        Chiffre("Piliers financés", fmt.nombre(len(funded))),
    ]
    return Section("piliers_entete", titre, chiffres, source=source(con, FUNDING_SOURCES, (annee,)),
                   params={"annee": annee})


@register("piliers_evolution", "Financements par pilier au fil des années", ("annee", "mesure"), slide=True)
def evolution(con, f: Filtres, annee: int | None = None, mesure: str = "montant_accorde", **_) -> Section:
    """Amounts, actions or shares per pillar and year; the change since the first year in the title."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee, years = ctx.params["annee"], ctx.params["annees"]
    mesure = mesure if mesure in MESURES else "montant_accorde"
    by_year = _by_year(con, f)
    first, last = years[0], years[-1]
    # Compared with the year shown (a year still being instructed is not a fair end point).
    evo = query(con, queries.evolution, f, annee, first)
    pct = evo["evolution_pct"]
    if first != annee and pct is not None:
        sens = "augmenté" if pct >= 0 else "baissé"
        titre = f"Financements par pilier : ils ont {sens} de {fmt.pourcent(abs(pct), 0)} entre {first} et {annee}"
    else:
        titre = f"Financements par pilier, {fmt.periode(first, last)}"
    order = (by_year.groupby("pilier_libelle")["montant_accorde"].sum().sort_values(ascending=False)
             .index.tolist())
    intro = []
    if mesure == "part":
        chart = charts.stacked_columns(by_year, "pilier_libelle", "Pilier", "montant_accorde", "Montant accordé",
                                       normalize=True, order=order)
        intro.append("Part de chaque pilier dans les financements accordés de l'année.")
    elif mesure == "nb_actions":
        chart = charts.stacked_columns(by_year, "pilier_libelle", "Pilier", "nb_actions", "Actions",
                                       kind="nombre", order=order)
    else:
        chart = charts.stacked_columns(by_year, "pilier_libelle", "Pilier", order=order)
    if by_year["pilier"].nunique() > 4 and by_year["annee"].nunique() > 1:
        intro.append("Les piliers changent avec la génération des contrats (2015-2023, puis Quartiers 2030 à "
                     "partir de 2024).")
    return Section("piliers_evolution", titre, chart=chart, table=pivot_by_year(by_year, "pilier_libelle", "Pilier",
                                                                                 mesure),
                   table_nom=f"Piliers par année ({MESURES[mesure].lower()})",
                   source=source(con, FUNDING_SOURCES, tuple(years)), intro=intro,
                   formats={str(y): YEAR_FORMATS[mesure] for y in years}, params={"annee": annee, "mesure": mesure})


@register("piliers_nouvelles", "Actions nouvelles et reconduites", ("annee",), slide=True)
def nouvelles(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """New and renewed actions per year; the year's share of new actions in the title."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee, years = ctx.params["annee"], ctx.params["annees"]
    nouv = query(con, qp.nouvelles_par_annee, f)
    year = nouv[nouv["annee"] == annee]
    new = year[year["type"] == "Nouvelle"]
    n_new, n_all = int(new["nb_actions"].sum()), int(year["nb_actions"].sum())
    if n_all and (year["type"] != "Non renseigné").any():
        titre = (f"En {annee}, {fmt.pourcent(new['part_actions'].sum(), 0)} des actions sont nouvelles "
                 f"({fmt.nombre(n_new)} sur {fmt.nombre(n_all)}), les autres sont reconduites")
    else:
        titre = f"Actions nouvelles et reconduites, {fmt.periode(years[0], years[-1])}"
    if nouv.empty:
        return empty("piliers_nouvelles", titre, "Aucune action pour ces filtres.", {"annee": annee})
    order = [t for t in ("Nouvelle", "Reconduite", "Non renseigné") if t in set(nouv["type"])]
    chart = charts.stacked_columns(nouv.rename(columns={"part_actions": "part"}), "type", "Action",
                                   "nb_actions", "Actions", kind="nombre", order=order, height=380)
    return Section("piliers_nouvelles", titre, chart=chart, table=pivot_by_year(nouv, "type", "Action", "nb_actions"),
                   table_nom="Actions nouvelles et reconduites", source=source(con, FUNDING_SOURCES, tuple(years)),
                   formats={str(y): "nombre" for y in years}, params={"annee": annee})


@register("piliers_cibles", "Cibles par pilier", ("annee",))
def cibles(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Whether targets are set and measurable; the targets' keys (`pilier|nature`) for `piliers_cible`."""
    annee = annee_affichee(con, f, annee)
    targets = query(con, qp.cibles)
    keys = [f"{t.pilier}|{t.nature}" for t in targets.itertuples(index=False)]
    if targets.empty:
        return Section("piliers_cibles", "Cibles par pilier", notes=[
            "Aucune cible n'est fixée. Une cible indique la part des crédits qu'un pilier devrait recevoir, par "
            "exemple « 20 % des crédits spécifiques pour l'emploi »."], params={"annee": annee, "cibles": []})
    if query(con, qp.suivi_cibles, f).empty:
        return empty("piliers_cibles", "Cibles par pilier",
                     "Aucun financement de la génération de ces piliers dans la sélection : les cibles ne peuvent "
                     "pas être comparées.", {"annee": annee, "cibles": []})
    return Section("piliers_cibles", "Où en est la programmation par rapport aux cibles ?",
                   params={"annee": annee, "cibles": keys})


@register("piliers_cible", "Cible d'un pilier", ("annee", "cible"))
def cible(con, f: Filtres, annee: int | None = None, cible: str | None = None, **_) -> Section:
    """One target (`pilier|nature`, else the first one) against the programmation, year by year."""
    annee = annee_affichee(con, f, annee)
    targets = query(con, qp.cibles)
    keys = [f"{t.pilier}|{t.nature}" for t in targets.itertuples(index=False)]
    if not keys:
        return empty("piliers_cible", "Cibles par pilier", "Aucune cible n'est fixée.", {"annee": annee})
    t = next(targets.itertuples(index=False)) if cible not in keys else list(targets.itertuples(index=False))[
        keys.index(cible)]
    params = {"annee": annee, "cible": f"{t.pilier}|{t.nature}"}
    suivi = query(con, qp.suivi_cibles, f)
    rows = suivi[(suivi["pilier"] == t.pilier) & (suivi["nature"] == t.nature)]
    nature = qp.NATURES_CIBLE.get(t.nature, t.nature)
    if rows.empty:
        return empty("piliers_cible", f"« {t.pilier_libelle} » : cible de {fmt.pourcent(t.part_cible, 0)} des {nature}",
                     "aucune année de la sélection ne concerne ce pilier.", params)
    shown = rows[rows["annee"] == annee]
    row = (shown if not shown.empty else rows.sort_values("annee")).iloc[-1]
    if row["part"] is None or row["montant_total"] == 0:
        titre = (f"En {row['annee']}, aucun de ces crédits n'est accordé : la cible de « {t.pilier_libelle} » "
                 "ne peut pas être mesurée")
    else:
        ecart = row["ecart"]
        where = "atteinte" if ecart >= 0 else f"{fmt.compte(abs(ecart), 'point', decimales=1)} en dessous"
        titre = (f"En {row['annee']}, « {t.pilier_libelle} » reçoit {fmt.pourcent(row['part'])} des {nature}, "
                 f"pour une cible de {fmt.pourcent(t.part_cible, 0)} ({where})")
    intro = [t.libelle] if isinstance(t.libelle, str) and t.libelle.strip() else []
    chart = charts.share_vs_target(rows, float(t.part_cible), value_title=f"Part des {nature}")
    table = rows[["annee", "montant_pilier", "montant_total", "part", "part_cible", "ecart"]].rename(columns={
        "annee": "Année", "montant_pilier": "Montant du pilier", "montant_total": f"Total des {nature}",
        "part": "Part (%)", "part_cible": "Cible (%)", "ecart": "Écart (points)"})
    return Section("piliers_cible", titre, chart=chart, table=table,
                   table_nom=f"Cible {t.pilier_libelle} {t.nature}",
                   source=source(con, FUNDING_SOURCES, tuple(int(y) for y in rows["annee"])), intro=intro,
                   formats={"Montant du pilier": "euros", f"Total des {nature}": "euros", "Part (%)": "pourcent",
                            "Cible (%)": "pourcent", "Écart (points)": "ecart", "Année": "texte"},
                   params=params)


@register("piliers_annee", "Financements par pilier dans l'année", ("annee",))
def piliers_annee(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """The year's pillars (bars to click for the drill-down) and the list of pillars with actions."""
    annee = annee_affichee(con, f, annee)
    pil = _pil(con, f, annee) if annee else pd.DataFrame()
    if pil.empty:
        return empty("piliers_annee", f"Détail d'un pilier en {annee} : thématiques et actions",
                     f"Aucune action en {annee} pour ces filtres.", {"annee": annee, "piliers": []})
    params = {"annee": annee, "piliers": list(zip(pil["pilier"], pil["pilier_libelle"], strict=True))}
    funded = pil[pil["montant_accorde"] > 0]
    titre = f"Financements par pilier en {annee}"
    if funded.empty:
        return empty("piliers_annee", titre, f"Aucun financement accordé en {annee} pour ces filtres.", params)
    chart = charts.horizontal_bars(funded, "pilier_libelle", "montant_accorde", selection="pil_sel")
    table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions", "part_nouvelles"]].rename(
        columns={"pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
                 "nb_actions": "Actions", "part_nouvelles": "Actions nouvelles (%)"})
    return Section("piliers_annee", titre, chart=chart, table=table, table_nom=f"Piliers {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)),
                   formats={"Montant accordé": "euros", "Part (%)": "pourcent", "Actions nouvelles (%)": "pourcent0",
                            "Actions": "texte"}, params=params)


@register("piliers_thematiques", "Thématiques d'un pilier", ("annee", "pilier"), slide=True)
def thematiques(con, f: Filtres, annee: int | None = None, pilier: str | None = None, **_) -> Section:
    """One pillar's amount and actions, and its thématiques (the first one in the title)."""
    annee = annee_affichee(con, f, annee)
    pil = _pil(con, f, annee) if annee else pd.DataFrame()
    if pil.empty:
        return empty("piliers_thematiques", "Thématiques", f"Aucune action en {annee} pour ces filtres.",
                     {"annee": annee, "themes": []})
    codes = pil["pilier"].tolist()
    pilier = pilier if pilier in codes else codes[0]
    row = pil[pil["pilier"] == pilier].iloc[0]
    label = row["pilier_libelle"]
    params = {"annee": annee, "pilier": pilier, "libelle": label, "themes": []}
    them = query(con, qp.par_thematique, f.with_(annees=(annee,), piliers=(pilier,)))
    them = them[them["nb_actions"] > 0]
    if them.empty:
        return empty("piliers_thematiques", f"Thématiques de « {label} » en {annee}",
                     "Aucune action dans ce pilier pour ces filtres.", params)
    top = them.iloc[0]
    titre = (f"« {label} » : {fmt.euros(row['montant_accorde'])} pour {fmt.compte(row['nb_actions'], 'action')} ; "
             f"première thématique : {top['thematique_libelle']} ({fmt.pourcent(top['part'], 0)})")
    chart = charts.horizontal_bars(them, "thematique_libelle", "montant_accorde")
    table = them[["thematique_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
        "thematique_libelle": "Thématique", "montant_accorde": "Montant accordé", "part": "Part (%)",
        "nb_actions": "Actions"})
    params["themes"] = [(c, lib) for c, lib in zip(them["thematique"], them["thematique_libelle"], strict=True)
                        if c is not None]
    return Section("piliers_thematiques", titre, chart=chart, table=table, table_nom=f"Thématiques {label} {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)),
                   formats={"Montant accordé": "euros", "Part (%)": "pourcent", "Actions": "texte"}, params=params)


@register("piliers_actions", "Actions d'un pilier", ("annee", "pilier", "thematique"))
def actions(con, f: Filtres, annee: int | None = None, pilier: str | None = None, thematique: str | None = None,
            **_) -> Section:
    """The actions of a pillar (and thématique), largest amount first."""
    annee = annee_affichee(con, f, annee)
    fa = f.with_(annees=(annee,), piliers=(pilier,))
    if thematique and thematique != TOUTES:
        fa = fa.with_(thematiques=(thematique,))
    acts = query(con, qp.actions, fa)
    params = {"annee": annee, "pilier": pilier, "thematique": thematique}
    if acts.empty:
        return empty("piliers_actions", f"Actions en {annee}", "Aucune action pour cette thématique.", params)
    table = acts.assign(
        nouvelle=acts["nouvelle"].map({True: "Nouvelle", False: "Reconduite"}).fillna("—"),
        statut=acts["statut"].map(lambda s: LIBELLES.get(s, s)),
    )[["action_id", "intitule", "porteur", "thematique_libelle", "statut", "nouvelle", "montant_accorde",
       "nb_financeurs", "public_cible", "nb_beneficiaires"]].rename(columns={
        "action_id": "N° dossier", "intitule": "Action", "porteur": "Porteur", "thematique_libelle": "Thématique",
        "statut": "Statut", "nouvelle": "Nouvelle ?", "montant_accorde": "Montant accordé",
        "nb_financeurs": "Financeurs", "public_cible": "Public visé",
        "nb_beneficiaires": "Bénéficiaires (déclarés)"})
    label = query(con, queries.libelles, "pilier").set_index("pilier")["pilier_libelle"].get(pilier, pilier)
    n_fin = int(queries.est_financee(acts).sum())  # the counting rule; other files are listed, not counted
    autres = (f" et {fmt.compte(len(acts) - n_fin, 'dossier non financé', 'dossiers non financés')}"
              if len(acts) > n_fin else "")
    financees = fmt.compte(n_fin, "action financée", "actions financées")
    return Section("piliers_actions", f"{financees} en {annee}{autres}", table=table,
                   table_nom=f"Actions {label} {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)), notes=([SPLIT_NOTE] if f.split_qpv else [])
                   + ["Public visé et bénéficiaires : déclarés par les porteurs dans leurs dossiers, non vérifiés."],
                   formats={"Montant accordé": "euros", "Action": "texte_large", "Financeurs": "texte",
                            "Bénéficiaires (déclarés)": "nombre"},
                   params=params)
