"""Sections of the Financeurs page: each funder's contribution, growth, natures and sections, requested vs
granted, effet levier, co-financing and the funder × pillar matrix."""

from __future__ import annotations

import pandas as pd

from cdv_core import charts, fmt, queries, tables
from cdv_core import queries_financeurs as qf
from cdv_core.filters import Filtres
from cdv_core.sections.base import (
    FUNDING_SOURCES,
    SPLIT_NOTE,
    Chiffre,
    Section,
    annee_reference,
    choix_reference,
    empty,
    pivot_by_year,
    query,
    register,
    source,
)

# Beyond this many bars a chart is no longer readable on a screen: charts show the first ones, tables all.
MAX_BARS = 25
NO_FUNDING = ("Aucun financement ne correspond aux filtres choisis. Élargissez la sélection ou réinitialisez "
              "les filtres.")
MODES = ("montants", "parts")
LEVIER_NOTE = ("Effet levier : euros apportés par tous les autres financeurs (collectivités, CAF, droit commun de "
               "l'État, porteurs…) pour 1 € de crédits de l'ANCT. Il tient compte de tous les financeurs, "
               "quels que soient les filtres « Financeurs » et « Nature ».")
LEVIER_COLUMNS = {"montant_total": "Total", "montant_bop147": "ANCT (BOP 147)",
                  "montant_autres": "Autres financeurs", "levier": "€ des autres pour 1 € ANCT"}
LEVIER_FORMATS = {"Total": "euros", "ANCT (BOP 147)": "euros", "Autres financeurs": "euros",
                  "€ des autres pour 1 € ANCT": "euros2"}
LEVIER_TITLE = "€ des autres pour 1 € ANCT"


def _years(contrib: pd.DataFrame) -> list[int]:
    return sorted(int(y) for y in contrib["annee"].unique())


def _contrib(con, f: Filtres) -> pd.DataFrame:
    return query(con, qf.contributions, f)


def calendrier(con, f: Filtres) -> tuple[list[int], int | None]:
    """The years with funding for the filters and the year shown by default (none when nothing is funded). Every
    section of the page asks it: in the app, computed once per filters (`query`)."""
    contrib = _contrib(con, f)
    if contrib.empty or contrib["montant_accorde"].sum() == 0:
        return [], None
    years = _years(contrib)
    default = query(con, queries.annee_decidee, f)
    return years, (default if default in years else years[-1])


@register("financeurs_annees", "Années des financements", ("annee", "annee_ref"))
def annees(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """The years with funding, the year shown and the reference year (chosen if possible, else the rules')."""
    years, default = query(con, calendrier, f)
    if default is None:
        return empty("financeurs_annees", "Financeurs", NO_FUNDING)
    annee = annee if annee is not None and annee in years else int(default)
    refs = choix_reference(years, annee, anterieures=True)
    ref = annee_reference(refs, annee, annee_ref)
    return Section("financeurs_annees", f"Financeurs en {annee}",
                   params={"annees": years, "annee": annee, "defaut": default, "references": refs,
                           "annee_ref": ref})


def growth_title(top: dict | None) -> str:
    if top is None:
        return "Financeurs"
    ref, year = top["annee_ref"], top["annee"]
    if top["evolution"] <= 0:
        return f"Aucun financeur n'a augmenté sa contribution entre {ref} et {year}"
    pct = top["evolution_pct"]
    detail = f"+{fmt.euros(top['evolution'])}" + (f" ({fmt.pourcent(pct, 0, signe=True)})" if pct is not None
                                                   else f" (absent en {ref})")
    return f"De {ref} à {year}, {top['financeur_libelle']} a le plus augmenté sa contribution : {detail}"


@register("financeurs_entete", "Financeurs : chiffres clés", ("annee", "annee_ref"))
def entete(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """The funder that grew most, the year's amount, funders, effet levier and share of crédits spécifiques."""
    ctx = annees(con, f, annee, annee_ref)
    if ctx.vide:
        return ctx
    annee, annee_ref = ctx.params["annee"], ctx.params["annee_ref"]
    contrib = _contrib(con, f)
    top = (qf.plus_forte_de(query(con, qf.croissance, f, annee_ref, annee), annee_ref, annee)
           if annee_ref != annee else None)
    titre = growth_title(top) if top else f"Financeurs en {annee}"
    year = contrib[contrib["annee"] == annee]
    total = float(year["montant_accorde"].sum())
    levier = query(con, qf.levier_global, f.with_(annees=(annee,)))
    nature = query(con, qf.par_nature, f)
    spec = nature[(nature["annee"] == annee) & (nature["nature"] == "specifique")]
    delta = None
    if top and top["total_evolution_pct"] is not None:
        # Kept short: a longer delta is cut on 1366 px screens; the reference year is in the help and the title.
        delta = fmt.pourcent(top["total_evolution_pct"], 1, signe=True).replace("−", "-")
    chiffres = [
        Chiffre(f"Montant accordé {annee}", fmt.euros(total), delta=delta,
                aide=None if delta is None or not top else f"Évolution depuis {annee_ref} : {fmt.euros(top['total_ref'])} "
                                                f"accordés en {annee_ref}."),
        Chiffre("Financeurs", fmt.nombre(int((year["montant_accorde"] > 0).sum()))),
        Chiffre("Effet levier", "—" if levier["levier"] is None else fmt.euros(levier["levier"], 2),
                aide="Euros apportés par les autres financeurs pour 1 € de crédits de l'ANCT (BOP 147) : "
                     f"{fmt.euros(levier['montant_autres'])} pour {fmt.euros(levier['montant_bop147'])} en "
                     f"{annee}."),
        Chiffre("Crédits spécifiques", fmt.pourcent(float(spec["part"].sum()) if total else None),
                aide="Part des crédits de la politique de la ville dans les financements de l'année ; le reste "
                     "relève du droit commun."),
    ]
    return Section("financeurs_entete", titre, chiffres, source=source(con, FUNDING_SOURCES, (annee,)),
                   params={**ctx.params})


@register("financeurs_contributions", "Contributions des financeurs par année", ("annee", "mode"), slide=True)
def contributions(con, f: Filtres, annee: int | None = None, mode: str = "montants", **_) -> Section:
    """Each funder's contribution per year (amounts, or shares of the year), the year's largest in the title."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee, years = ctx.params["annee"], ctx.params["annees"]
    contrib = _contrib(con, f)
    year = contrib[(contrib["annee"] == annee) & (contrib["montant_accorde"] > 0)]
    if year.empty:
        titre = f"Contributions des financeurs, {fmt.periode(years[0], years[-1])}"
    else:
        top = year.iloc[0]
        titre = f"En {annee}, {top['financeur_libelle']} apporte {fmt.pourcent(top['part'], 0)} des financements"
    order = (contrib.groupby("financeur_libelle")["montant_accorde"].sum().sort_values(ascending=False)
             .index.tolist())
    parts = mode == "parts"
    chart = charts.stacked_columns(contrib, "financeur_libelle", "Financeur", normalize=parts, order=order,
                                   height=460)
    table = pivot_by_year(contrib, "financeur_libelle", "Financeur", "part" if parts else "montant_accorde")
    return Section("financeurs_contributions", titre, chart=chart, table=table,
                   table_nom="Parts des financeurs" if parts else "Contributions des financeurs",
                   source=source(con, FUNDING_SOURCES, tuple(years)),
                   formats={str(y): "pourcent" if parts else "euros" for y in years},
                   params={"annee": annee, "mode": "parts" if parts else "montants"})


@register("financeurs_croissance", "Évolution de chaque financeur", ("annee", "annee_ref"), slide=True)
def croissance(con, f: Filtres, annee: int | None = None, annee_ref: int | None = None, **_) -> Section:
    """Change of each funder's contribution between the reference year and the year shown."""
    ctx = annees(con, f, annee, annee_ref)
    if ctx.vide:
        return ctx
    annee, annee_ref = ctx.params["annee"], ctx.params["annee_ref"]
    params = {"annee": annee, "annee_ref": annee_ref}
    if annee_ref == annee:
        return empty("financeurs_croissance", f"Financeurs en {annee}",
                     "Une seule année : pas d'évolution à comparer.", params)
    df = query(con, qf.croissance, f, annee_ref, annee)
    df = df[(df["montant"] > 0) | (df["montant_ref"] > 0)]
    if df.empty:
        return empty("financeurs_croissance", f"Évolution par financeur entre {annee_ref} et {annee}",
                     f"Aucun financement en {annee_ref} ni en {annee} pour ces filtres.", params)
    up, down = df[df["evolution"] > 0], df[df["evolution"] < 0]
    titre = (f"Entre {annee_ref} et {annee}, {fmt.compte(len(up), 'financeur')} en hausse, "
             f"{fmt.nombre(len(down))} en baisse")
    if not down.empty:
        low = down.iloc[-1]
        titre += f" ; la plus forte baisse : {low['financeur_libelle']} (−{fmt.euros(abs(low['evolution']))})"
    chart = charts.change_bars(df, "financeur_libelle", "evolution", f"Évolution {annee_ref}-{annee}")
    table = df[["financeur_libelle", "montant_ref", "montant", "evolution", "evolution_pct"]].rename(columns={
        "financeur_libelle": "Financeur", "montant_ref": str(annee_ref), "montant": str(annee),
        "evolution": "Évolution (€)", "evolution_pct": "Évolution (%)"})
    table["Évolution (%)"] = table["Évolution (%)"].astype(float)
    return Section("financeurs_croissance", titre, chart=chart, table=table,
                   table_nom=f"Evolution des financeurs {annee_ref}-{annee}",
                   source=source(con, FUNDING_SOURCES, (annee_ref, annee)),
                   formats={str(annee_ref): "euros", str(annee): "euros", "Évolution (€)": "euros",
                            "Évolution (%)": "evolution_pct"}, params=params)


NATURE_NOTE = ("Crédits spécifiques : crédits de la politique de la ville (BOP 147, intercommunalité, communes, "
               "abattement TFPB…) ; droit commun : politiques ordinaires mobilisées dans les quartiers.")


def _split_per_year(con, f: Filtres, annee: int | None, type_: str, libelle: str, fn, dim: str, titre_dim: str,
                    colonne: str, ordre: tuple[str, ...], titre, table_nom: str,
                    notes: list[str] | None = None) -> Section:
    """A funding split per year into a few kinds (`dim`: nature, section) as stacked columns; the title states the
    share of one kind in the year shown (`titre(annee, table)`)."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee, years = ctx.params["annee"], ctx.params["annees"]
    df = query(con, fn, f)
    if df.empty:
        return empty(type_, libelle, "Aucun financement pour ces filtres.", {"annee": annee})
    label = f"{dim}_libelle"
    chart = charts.stacked_columns(df, label, titre_dim, height=380,
                                   order=[n for n in ordre if n in set(df[label])])
    return Section(type_, titre(annee, df), chart=chart, table=pivot_by_year(df, label, colonne),
                   table_nom=table_nom, source=source(con, FUNDING_SOURCES, tuple(years)), notes=list(notes or []),
                   formats={str(y): "euros" for y in years}, params={"annee": annee})


def _share(df: pd.DataFrame, annee: int, dim: str, code: str) -> str:
    return fmt.pourcent(float(df.loc[(df["annee"] == annee) & (df[dim] == code), "part"].sum()), 0)


@register("financeurs_natures", "Crédits spécifiques et droit commun", ("annee",), slide=True)
def natures(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Crédits spécifiques vs droit commun per year, the year's share of crédits spécifiques in the title."""
    return _split_per_year(
        con, f, annee, "financeurs_natures", "Crédits spécifiques et droit commun", qf.par_nature, "nature",
        "Nature des crédits", "Nature", ("Crédits spécifiques", "Droit commun", "Non renseigné"),
        lambda a, df: f"En {a}, {_share(df, a, 'nature', 'specifique')} des financements sont des crédits "
                      "spécifiques", "Nature des crédits", notes=[NATURE_NOTE])


@register("financeurs_sections", "Fonctionnement et investissement", ("annee",))
def sections_budgetaires(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Fonctionnement vs investissement per year, the year's share of investissement in the title."""
    return _split_per_year(
        con, f, annee, "financeurs_sections", "Fonctionnement et investissement", qf.par_section, "section",
        "Section", "Section", ("Fonctionnement", "Investissement", "Non renseigné"),
        lambda a, df: f"En {a}, l'investissement représente {_share(df, a, 'section', 'investissement')} des "
                      "financements", "Fonctionnement et investissement")


@register("financeurs_demandes", "Montants demandés et accordés", (), slide=True)
def demandes(con, f: Filtres, **_) -> Section:
    """Requested vs granted per funder, where the requested amount is known."""
    contrib = _contrib(con, f)
    years = _years(contrib) if not contrib.empty else []
    df = query(con, qf.demande_accorde, f)
    if df.empty or not years:
        return empty("financeurs_demandes", "Montants demandés et accordés",
                     "Le montant demandé n'est renseigné pour aucune ligne de financement de la sélection.")
    period = fmt.periode(years[0], years[-1])
    taux = qf.taux_de(df)
    titre = (f"Quand la demande est connue, {fmt.pourcent(taux['taux'], 0)} du montant demandé a été accordé "
             f"({period})")
    intro = [f"Montant demandé renseigné pour {fmt.compte(taux['nb_lignes_connues'], 'ligne')} de financement sur "
             f"{fmt.nombre(taux['nb_lignes'])} ; les autres lignes ne sont pas comptées ici."]
    chart = charts.paired_bars(df, "financeur_libelle", {"montant_demande": "Demandé", "montant_accorde": "Accordé"})
    table = df[["financeur_libelle", "montant_demande", "montant_accorde", "taux", "nb_lignes_connues",
                "nb_lignes"]].rename(columns={
        "financeur_libelle": "Financeur", "montant_demande": "Montant demandé", "montant_accorde": "Montant accordé",
        "taux": "Accordé / demandé (%)", "nb_lignes_connues": "Lignes avec demande", "nb_lignes": "Lignes"})
    return Section("financeurs_demandes", titre, chart=chart, table=table,
                   table_nom="Demandé et accordé par financeur", source=source(con, FUNDING_SOURCES, tuple(years)),
                   intro=intro, formats={"Montant demandé": "euros", "Montant accordé": "euros",
                                         "Accordé / demandé (%)": "pourcent", "Lignes avec demande": "texte",
                                         "Lignes": "texte"})


@register("financeurs_levier", "Effet levier des crédits de l'ANCT", ("annee",), slide=True)
def levier(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """The year's effet levier in the title; the chart and table per year."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    per_year = query(con, qf.effet_levier, f, "annee")
    row = per_year[per_year["annee"] == annee]
    vide = None
    if row.empty or row["levier"].isna().all():
        titre = f"Effet levier des crédits de l'ANCT en {annee}"
        vide = (f"Aucun crédit de l'ANCT (BOP 147) en {annee} pour ces filtres : l'effet levier ne peut pas être "
                "calculé.")
    else:
        titre = (f"En {annee}, chaque euro de l'ANCT (BOP 147) s'accompagne de "
                 f"{fmt.euros(float(row['levier'].iloc[0]), 2)} des autres financeurs")
    shown = per_year.dropna(subset=["levier"])
    chart = table = None
    if not shown.empty:
        chart = charts.value_columns(shown, "annee", "levier", LEVIER_TITLE, kind="euros_ratio", height=320)
        table = shown[["annee", *LEVIER_COLUMNS]].rename(columns={"annee": "Année", **LEVIER_COLUMNS})
    return Section("financeurs_levier", titre, chart=chart, table=table, table_nom="Effet levier par année",
                   source=source(con, FUNDING_SOURCES), notes=[LEVIER_NOTE], vide=vide,
                   formats={**LEVIER_FORMATS, "Année": "texte"}, params={"annee": annee})


@register("financeurs_levier_pilier", "Effet levier par pilier", ("annee",))
def levier_pilier(con, f: Filtres, annee: int | None = None, **_) -> Section:
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    pil = query(con, qf.effet_levier, f.with_(annees=(annee,)), "pilier").dropna(subset=["levier"])
    if pil.empty:
        return empty("financeurs_levier_pilier", f"Effet levier par pilier en {annee}",
                     f"Aucun pilier ne reçoit de crédits de l'ANCT en {annee}.", {"annee": annee})
    top = pil.sort_values("levier", ascending=False).iloc[0]
    titre = (f"En {annee}, l'effet levier le plus fort : « {top['pilier_libelle']} » "
             f"({fmt.euros(float(top['levier']), 2)} pour 1 €)")
    chart = charts.measure_bars(pil, "pilier_libelle", "levier", LEVIER_TITLE, kind="euros_ratio")
    table = pil[["pilier_libelle", *LEVIER_COLUMNS]].rename(columns={"pilier_libelle": "Pilier", **LEVIER_COLUMNS})
    return Section("financeurs_levier_pilier", titre, chart=chart, table=table,
                   table_nom=f"Effet levier par pilier {annee}", source=source(con, FUNDING_SOURCES, (annee,)),
                   formats=LEVIER_FORMATS, params={"annee": annee})


@register("financeurs_levier_qpv", "Effet levier par quartier", ("annee",))
def levier_qpv(con, f: Filtres, annee: int | None = None, **_) -> Section:
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    qpv = query(con, qf.effet_levier, f.with_(annees=(annee,)), "qpv").dropna(subset=["levier"])
    if qpv.empty:
        return empty("financeurs_levier_qpv", f"Effet levier par quartier en {annee}",
                     f"Aucun quartier ne reçoit de crédits de l'ANCT en {annee}.", {"annee": annee})
    shown = qpv.head(MAX_BARS)  # the table keeps every quartier
    top = qpv.sort_values("levier", ascending=False).iloc[0]
    titre = (f"En {annee}, l'effet levier le plus fort : {top['qpv_libelle']} "
             f"({fmt.euros(float(top['levier']), 2)} pour 1 €)")
    chart = charts.measure_bars(shown, "qpv_libelle", "levier", LEVIER_TITLE, kind="euros_ratio",
                                height=max(200, 30 * len(shown)))
    intro = ([f"Graphique : les {len(shown)} quartiers au plus fort effet levier sur {len(qpv)} ; tous sont dans "
              "l'onglet Tableau."] if len(qpv) > len(shown) else [])
    table = qpv[["qpv_libelle", *LEVIER_COLUMNS]].rename(columns={"qpv_libelle": "Quartier", **LEVIER_COLUMNS})
    return Section("financeurs_levier_qpv", titre, chart=chart, table=table,
                   table_nom=f"Effet levier par quartier {annee}", source=source(con, FUNDING_SOURCES, (annee,)),
                   notes=[SPLIT_NOTE], intro=intro, formats=LEVIER_FORMATS, params={"annee": annee})


@register("financeurs_cofinancement", "Cofinancement des actions", ("annee",), slide=True)
def cofinancement(con, f: Filtres, annee: int | None = None, **_) -> Section:
    """Share of the year's actions with at least two funders; chart of how many funders each action has."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    fy = f.with_(annees=(annee,))
    dist = query(con, qf.distribution_nb_financeurs, fy)
    res = qf.resume_de(dist)
    if res["nb_actions"] == 0:
        return empty("financeurs_cofinancement", f"Cofinancement des actions en {annee}",
                     f"Aucune action en {annee} pour ces filtres.", {"annee": annee})
    titre = (f"En {annee}, {fmt.pourcent(res['part_multi'], 0)} des actions ont au moins deux financeurs "
             f"({fmt.nombre(res['nb_multi'])} sur {fmt.nombre(res['nb_actions'])})")
    chart = charts.value_columns(dist, "nb_financeurs", "nb_actions", "Actions", kind="nombre",
                                 x_title="Nombre de financeurs de l'action", color=charts.PALETTE[2])
    table = dist.rename(columns={"nb_financeurs": "Nombre de financeurs", "nb_actions": "Actions",
                                 "part": "Part des actions (%)"})
    notes = ["0 financeur : actions déposées ou refusées, sans montant accordé."] if res["nb_sans"] else []
    return Section("financeurs_cofinancement", titre, chart=chart, table=table,
                   table_nom=f"Financeurs par action {annee}", source=source(con, FUNDING_SOURCES, (annee,)),
                   notes=notes, formats={"Part des actions (%)": "pourcent", "Nombre de financeurs": "texte",
                                         "Actions": "texte"},
                   params={"annee": annee})


@register("financeurs_actions", "Actions cofinancées par chaque financeur", ("annee",))
def actions_par_financeur(con, f: Filtres, annee: int | None = None, **_) -> Section:
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    per = query(con, qf.actions_par_financeur, f.with_(annees=(annee,)))
    if per.empty:
        return empty("financeurs_actions", f"Actions cofinancées par financeur en {annee}",
                     "Aucun financeur n'accorde de montant pour ces filtres.", {"annee": annee})
    top = per.sort_values("nb_actions", ascending=False).iloc[0]
    titre = f"En {annee}, {top['financeur_libelle']} finance le plus d'actions : {fmt.nombre(top['nb_actions'])}"
    chart = charts.measure_bars(per, "financeur_libelle", "nb_actions", "Actions financées")
    table = per[["financeur_libelle", "nb_actions", "nb_cofinancees"]].rename(columns={
        "financeur_libelle": "Financeur", "nb_actions": "Actions financées",
        "nb_cofinancees": "dont avec d'autres financeurs"})
    return Section("financeurs_actions", titre, chart=chart, table=table, table_nom=f"Actions par financeur {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)),
                   formats={"Actions financées": "texte", "dont avec d'autres financeurs": "texte"},
                   params={"annee": annee})


@register("financeurs_matrice", "Qui finance quel pilier ?", ("annee", "mode"), slide=True)
def matrice(con, f: Filtres, annee: int | None = None, mode: str = "montants", **_) -> Section:
    """Funder × pillar heat map (amounts, or shares of each funder's budget), the largest cell in the title."""
    ctx = annees(con, f, annee)
    if ctx.vide:
        return ctx
    annee = ctx.params["annee"]
    df = query(con, qf.matrice_pilier, f.with_(annees=(annee,)))
    df = df[df["montant_accorde"] > 0]
    if df.empty:
        return empty("financeurs_matrice", f"Qui finance quel pilier en {annee} ?",
                     f"Aucun financement en {annee} pour ces filtres.", {"annee": annee})
    top = df.sort_values("montant_accorde", ascending=False).iloc[0]
    titre = (f"En {annee}, la plus grosse contribution : {top['financeur_libelle']} pour « {top['pilier_libelle']} » "
             f"({fmt.euros(top['montant_accorde'])})")
    parts = mode == "parts"
    value = "part_financeur" if parts else "montant_accorde"
    chart = charts.heatmap(df, "pilier_libelle", "financeur_libelle", value, "Pilier", "Financeur",
                           kind="part" if parts else "euros")
    table = (tables.pivot_sum(df, "financeur_libelle", "pilier_libelle", value).reset_index()
             .rename(columns={"financeur_libelle": "Financeur"}))
    table.columns = [str(c) for c in table.columns]
    return Section("financeurs_matrice", titre, chart=chart, table=table, table_nom=f"Financeurs par pilier {annee}",
                   source=source(con, FUNDING_SOURCES, (annee,)),
                   formats={c: "pourcent" if parts else "euros" for c in df["pilier_libelle"].unique()},
                   params={"annee": annee, "mode": "parts" if parts else "montants", "valeur": value})
