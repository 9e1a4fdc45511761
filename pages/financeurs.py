"""Financeurs: each funder's contribution, natures and sections, requested vs granted, effet levier,
co-financing and the funder × pillar matrix."""

from __future__ import annotations

import streamlit as st

from cdv_core import charts, fmt, queries
from cdv_core import queries_financeurs as qf
from cdv_core.filters import Filtres
from ui import filters, layout, require_app, show
from ui.data import q, section

require_app()

PCT = "%.1f %%"


def pct_column(title: str):
    return st.column_config.NumberColumn(title, format=PCT)


def pivot_by_year(df, index: str, index_title: str, value: str = "montant_accorde"):
    """Table: one row per `index`, one column per year (trivial reshaping for display)."""
    table = (df.pivot_table(index=index, columns="annee", values=value, aggfunc="sum", fill_value=0)
             .reset_index().rename(columns={index: index_title}))
    table.columns = [str(c) for c in table.columns]
    return table


def year_columns(years, value: str = "montant_accorde") -> dict:
    if value == "part":
        return {str(y): pct_column(str(y)) for y in years}
    return {str(y): layout.euro_column(str(y)) for y in years}


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


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    contrib = q(qf.contributions, f)
    if contrib.empty or contrib["montant_accorde"].sum() == 0:
        st.title("Financeurs")
        layout.filters_line(filters.summary(f))
        layout.empty("Aucun financement ne correspond aux filtres choisis. Élargissez la sélection ou "
                     "réinitialisez les filtres.")
        return
    years = sorted(int(y) for y in contrib["annee"].unique())
    default = q(queries.annee_decidee, f)
    default = default if default in years else years[-1]

    head, c1, c2 = st.columns([4, 1, 1], vertical_alignment="bottom")
    annee = c1.selectbox("Année affichée", years, index=years.index(default), key="fin_annee")
    ref_choices = [y for y in years if y < annee] or [y for y in years if y != annee] or years
    ref_default = 2016 if 2016 in ref_choices else ref_choices[0]
    annee_ref = c2.selectbox("Comparer à", ref_choices, index=ref_choices.index(ref_default), key="fin_ref")
    top = q(qf.plus_forte_croissance, f, annee_ref, annee) if annee_ref != annee else None
    head.title(layout.texte(growth_title(top)) if top else f"Financeurs en {annee}")
    layout.filters_line(filters.summary(f))

    year = contrib[contrib["annee"] == annee]
    total = float(year["montant_accorde"].sum())
    levier = q(qf.levier_global, f.with_(annees=(annee,)))
    nature = q(qf.par_nature, f)
    spec = nature[(nature["annee"] == annee) & (nature["nature"] == "specifique")]
    m = st.columns(4)
    delta = None
    if top and top["total_evolution_pct"] is not None:
        # Kept short: a longer delta is cut on 1366 px screens; the reference year is in the help and the title.
        delta = fmt.pourcent(top["total_evolution_pct"], 1, signe=True).replace("−", "-")
    m[0].metric(f"Montant accordé {annee}", fmt.euros(total), delta=delta,
                help=None if delta is None else f"Évolution depuis {annee_ref} : {fmt.euros(top['total_ref'])} "
                                                f"accordés en {annee_ref}.")
    m[1].metric("Financeurs", fmt.nombre(int((year["montant_accorde"] > 0).sum())))
    m[2].metric("Effet levier", "—" if levier["levier"] is None else fmt.euros(levier["levier"], 2),
                help="Euros apportés par les autres financeurs pour 1 € de crédits de l'ANCT (BOP 147) : "
                     f"{fmt.euros(levier['montant_autres'])} pour {fmt.euros(levier['montant_bop147'])} en {annee}.")
    m[3].metric("Crédits spécifiques", fmt.pourcent(float(spec["part"].sum()) if total else None),
                help="Part des crédits de la politique de la ville dans les financements de l'année ; le reste "
                     "relève du droit commun.")

    st.divider()
    contributions(contrib, annee, years)
    st.divider()
    croissance(f, annee_ref, annee)
    st.divider()
    natures(f, nature, annee, years)
    st.divider()
    demandes(f, years)
    st.divider()
    effet_levier(f, annee)
    st.divider()
    cofinancement(f, annee)
    st.divider()
    matrice(f, annee)
    # Dispositifs (sections of cdv_core.sections.dispositifs)
    for type_ in ("dispositifs", "dispositifs_postes", "dispositifs_tfpb"):
        st.divider()
        show.section(section(type_, f, annee=annee), f"fin_{type_}")


def contributions(contrib, annee: int, years) -> None:
    year = contrib[(contrib["annee"] == annee) & (contrib["montant_accorde"] > 0)]
    if year.empty:
        st.subheader(f"Contributions des financeurs, de {years[0]} à {years[-1]}")
    else:
        top = year.iloc[0]
        st.subheader(f"En {annee}, {layout.texte(top['financeur_libelle'])} apporte {fmt.pourcent(top['part'], 0)} des "
                     "financements")
    order = (contrib.groupby("financeur_libelle")["montant_accorde"].sum().sort_values(ascending=False)
             .index.tolist())
    mode = st.segmented_control("Afficher", ["Montants", "Parts de l'année (%)"], default="Montants",
                                key="fin_contrib_mode") or "Montants"
    if mode == "Montants":
        chart = charts.stacked_columns(contrib, "financeur_libelle", "Financeur", order=order, height=460)
        layout.chart_and_table(chart, pivot_by_year(contrib, "financeur_libelle", "Financeur"),
                               "Contributions des financeurs", "fin_contrib", year_columns(years))
    else:
        chart = charts.stacked_columns(contrib, "financeur_libelle", "Financeur", normalize=True, order=order,
                                       height=460)
        layout.chart_and_table(chart, pivot_by_year(contrib, "financeur_libelle", "Financeur", "part"),
                               "Parts des financeurs", "fin_parts", year_columns(years, "part"))


def croissance(f: Filtres, annee_ref: int, annee: int) -> None:
    if annee_ref == annee:
        return
    df = q(qf.croissance, f, annee_ref, annee)
    df = df[(df["montant"] > 0) | (df["montant_ref"] > 0)]
    if df.empty:
        st.subheader(f"Évolution par financeur entre {annee_ref} et {annee}")
        layout.empty(f"Aucun financement en {annee_ref} ni en {annee} pour ces filtres.")
        return
    up = df[df["evolution"] > 0]
    down = df[df["evolution"] < 0]
    text = f"Entre {annee_ref} et {annee}, {fmt.nombre(len(up))} financeur(s) en hausse, {fmt.nombre(len(down))} en baisse"
    if not down.empty:
        low = down.iloc[-1]
        text += f" ; la plus forte baisse : {layout.texte(low['financeur_libelle'])} (−{fmt.euros(abs(low['evolution']))})"
    st.subheader(text)
    chart = charts.change_bars(df, "financeur_libelle", "evolution", f"Évolution {annee_ref}-{annee}")
    table = df[["financeur_libelle", "montant_ref", "montant", "evolution", "evolution_pct"]].rename(columns={
        "financeur_libelle": "Financeur", "montant_ref": str(annee_ref), "montant": str(annee),
        "evolution": "Évolution (€)", "evolution_pct": "Évolution (%)"})
    table["Évolution (%)"] = table["Évolution (%)"].astype(float)
    layout.chart_and_table(chart, table, f"Evolution des financeurs {annee_ref}-{annee}", "fin_growth", {
        str(annee_ref): layout.euro_column(str(annee_ref)), str(annee): layout.euro_column(str(annee)),
        "Évolution (€)": layout.euro_column("Évolution (€)"),
        "Évolution (%)": st.column_config.NumberColumn("Évolution (%)", format="%+.1f %%")})


def natures(f: Filtres, nature, annee: int, years) -> None:
    section = q(qf.par_section, f)
    left, right = st.columns(2, gap="large")
    with left:
        spec = nature[(nature["annee"] == annee) & (nature["nature"] == "specifique")]
        if nature.empty:
            st.subheader("Crédits spécifiques et droit commun")
            layout.empty("Aucun financement pour ces filtres.")
        else:
            st.subheader(f"En {annee}, {fmt.pourcent(float(spec['part'].sum()), 0)} des financements sont des "
                         "crédits spécifiques")
            chart = charts.stacked_columns(nature, "nature_libelle", "Nature des crédits", height=380,
                                           order=[n for n in ("Crédits spécifiques", "Droit commun",
                                                              "Non renseigné") if n in set(nature["nature_libelle"])])
            layout.chart_and_table(chart, pivot_by_year(nature, "nature_libelle", "Nature"), "Nature des crédits",
                                   "fin_nature", year_columns(years))
            layout.note("Crédits spécifiques : crédits de la politique de la ville (BOP 147, intercommunalité, "
                        "communes, abattement TFPB…) ; droit commun : politiques ordinaires mobilisées dans les "
                        "quartiers.")
    with right:
        inv = section[(section["annee"] == annee) & (section["section"] == "investissement")]
        if section.empty:
            st.subheader("Fonctionnement et investissement")
            layout.empty("Aucun financement pour ces filtres.")
        else:
            st.subheader(f"En {annee}, l'investissement représente {fmt.pourcent(float(inv['part'].sum()), 0)} "
                         "des financements")
            chart = charts.stacked_columns(section, "section_libelle", "Section", height=380,
                                           order=[s for s in ("Fonctionnement", "Investissement", "Non renseigné")
                                                  if s in set(section["section_libelle"])])
            layout.chart_and_table(chart, pivot_by_year(section, "section_libelle", "Section"),
                                   "Fonctionnement et investissement", "fin_section", year_columns(years))


def demandes(f: Filtres, years) -> None:
    df = q(qf.demande_accorde, f)
    period = f"de {years[0]} à {years[-1]}" if years[0] != years[-1] else f"en {years[0]}"
    if df.empty:
        st.subheader("Montants demandés et accordés")
        layout.empty("Le montant demandé n'est renseigné pour aucune ligne de financement de la sélection.")
        return
    taux = q(qf.taux_accord, f)
    st.subheader(f"Quand la demande est connue, {fmt.pourcent(taux['taux'], 0)} du montant demandé a été "
                 f"accordé ({period})")
    layout.note(f"Montant demandé renseigné pour {fmt.nombre(taux['nb_lignes_connues'])} lignes de financement "
                f"sur {fmt.nombre(taux['nb_lignes'])} ; les autres lignes ne sont pas comptées ici.")
    chart = charts.paired_bars(df, "financeur_libelle", {"montant_demande": "Demandé", "montant_accorde": "Accordé"})
    table = df[["financeur_libelle", "montant_demande", "montant_accorde", "taux", "nb_lignes_connues",
                "nb_lignes"]].rename(columns={
        "financeur_libelle": "Financeur", "montant_demande": "Montant demandé", "montant_accorde": "Montant accordé",
        "taux": "Accordé / demandé (%)", "nb_lignes_connues": "Lignes avec demande", "nb_lignes": "Lignes"})
    layout.chart_and_table(chart, table, "Demandé et accordé par financeur", "fin_demande", {
        "Montant demandé": layout.euro_column("Montant demandé"),
        "Montant accordé": layout.euro_column("Montant accordé"),
        "Accordé / demandé (%)": pct_column("Accordé / demandé (%)")})


def effet_levier(f: Filtres, annee: int) -> None:
    per_year = q(qf.effet_levier, f, "annee")
    row = per_year[per_year["annee"] == annee]
    if row.empty or row["levier"].isna().all():
        st.subheader(f"Effet levier des crédits de l'ANCT en {annee}")
        layout.empty(f"Aucun crédit de l'ANCT (BOP 147) en {annee} pour ces filtres : l'effet levier ne peut pas "
                     "être calculé.")
    else:
        lev = float(row["levier"].iloc[0])
        st.subheader(f"En {annee}, chaque euro de l'ANCT (BOP 147) s'accompagne de {fmt.euros(lev, 2)} "
                     "des autres financeurs")
    layout.note("Effet levier : euros apportés par tous les autres financeurs (collectivités, CAF, droit commun de "
                "l'État, porteurs…) pour 1 € de crédits de l'ANCT. Il tient compte de tous les financeurs, "
                "quels que soient les filtres « Financeurs » et « Nature ».")
    shown = per_year.dropna(subset=["levier"])
    if shown.empty:
        return
    table_cols = {"montant_total": "Total", "montant_bop147": "ANCT (BOP 147)", "montant_autres": "Autres financeurs",
                  "levier": "€ des autres pour 1 € ANCT"}
    config = {v: layout.euro_column(v) for v in list(table_cols.values())[:3]}
    config["€ des autres pour 1 € ANCT"] = st.column_config.NumberColumn("€ des autres pour 1 € ANCT",
                                                                        format="%.2f €")
    st.markdown("**Par année**")
    chart = charts.value_columns(shown, "annee", "levier", "€ des autres pour 1 € ANCT", kind="euros_ratio",
                                 height=320)
    layout.chart_and_table(chart, shown[["annee", *table_cols]].rename(columns={"annee": "Année", **table_cols}),
                           "Effet levier par année", "fin_levier_annee", config)
    left, right = st.container(), st.container()
    with left:
        st.markdown(f"**Par pilier, en {annee}**")
        pil = q(qf.effet_levier, f.with_(annees=(annee,)), "pilier").dropna(subset=["levier"])
        if pil.empty:
            layout.empty(f"Aucun pilier ne reçoit de crédits de l'ANCT en {annee}.")
        else:
            chart = charts.measure_bars(pil, "pilier_libelle", "levier", "€ des autres pour 1 € ANCT",
                                        kind="euros_ratio")
            layout.chart_and_table(chart, pil[["pilier_libelle", *table_cols]].rename(
                columns={"pilier_libelle": "Pilier", **table_cols}), f"Effet levier par pilier {annee}",
                "fin_levier_pilier", config)
    with right:
        st.markdown(f"**Par quartier, en {annee}**")
        qpv = q(qf.effet_levier, f.with_(annees=(annee,)), "qpv").dropna(subset=["levier"])
        if qpv.empty:
            layout.empty(f"Aucun quartier ne reçoit de crédits de l'ANCT en {annee}.")
        else:
            shown = qpv.head(layout.MAX_BARS)  # the table keeps every quartier
            chart = charts.measure_bars(shown, "qpv_libelle", "levier", "€ des autres pour 1 € ANCT",
                                        kind="euros_ratio", height=max(200, 30 * len(shown)))
            if len(qpv) > len(shown):
                layout.note(f"Graphique : les {len(shown)} quartiers au plus fort effet levier sur {len(qpv)} ; "
                            "tous sont dans l'onglet Tableau.")
            layout.chart_and_table(chart, qpv[["qpv_libelle", *table_cols]].rename(
                columns={"qpv_libelle": "Quartier", **table_cols}), f"Effet levier par quartier {annee}",
                "fin_levier_qpv", config)
            layout.note(layout.SPLIT_NOTE)


def cofinancement(f: Filtres, annee: int) -> None:
    fy = f.with_(annees=(annee,))
    dist = q(qf.distribution_nb_financeurs, fy)
    res = q(qf.resume_cofinancement, fy)
    if res["nb_actions"] == 0:
        st.subheader(f"Cofinancement des actions en {annee}")
        layout.empty(f"Aucune action en {annee} pour ces filtres.")
        return
    st.subheader(f"En {annee}, {fmt.pourcent(res['part_multi'], 0)} des actions ont au moins deux "
                 f"financeurs ({fmt.nombre(res['nb_multi'])} sur {fmt.nombre(res['nb_actions'])})")
    left, right = st.columns([3, 2], gap="large")
    with left:
        st.markdown("**Nombre d'actions cofinancées par chaque financeur**")
        per = q(qf.actions_par_financeur, fy)
        if per.empty:
            layout.empty("Aucun financeur n'accorde de montant pour ces filtres.")
        else:
            chart = charts.measure_bars(per, "financeur_libelle", "nb_actions", "Actions financées")
            table = per[["financeur_libelle", "nb_actions", "nb_cofinancees"]].rename(columns={
                "financeur_libelle": "Financeur", "nb_actions": "Actions financées",
                "nb_cofinancees": "dont avec d'autres financeurs"})
            layout.chart_and_table(chart, table, f"Actions par financeur {annee}", "fin_nb_actions")
    with right:
        st.markdown("**Combien de financeurs par action ?**")
        chart = charts.value_columns(dist, "nb_financeurs", "nb_actions", "Actions", kind="nombre",
                                     x_title="Nombre de financeurs de l'action", color=charts.PALETTE[2])
        table = dist.rename(columns={"nb_financeurs": "Nombre de financeurs", "nb_actions": "Actions",
                                     "part": "Part des actions (%)"})
        layout.chart_and_table(chart, table, f"Financeurs par action {annee}", "fin_distribution",
                               {"Part des actions (%)": pct_column("Part des actions (%)")})
        if res["nb_sans"]:
            layout.note("0 financeur : actions déposées ou refusées, sans montant accordé.")


def matrice(f: Filtres, annee: int) -> None:
    df = q(qf.matrice_pilier, f.with_(annees=(annee,)))
    df = df[df["montant_accorde"] > 0]
    if df.empty:
        st.subheader(f"Qui finance quel pilier en {annee} ?")
        layout.empty(f"Aucun financement en {annee} pour ces filtres.")
        return
    top = df.sort_values("montant_accorde", ascending=False).iloc[0]
    st.subheader(f"En {annee}, la plus grosse contribution : {layout.texte(top['financeur_libelle'])} pour "
                 f"« {layout.texte(top['pilier_libelle'])} » ({fmt.euros(top['montant_accorde'])})")
    mode = st.segmented_control("Afficher", ["Montants", "Part du budget du financeur (%)"], default="Montants",
                                key="fin_matrice_mode") or "Montants"
    if mode == "Montants":
        chart = charts.heatmap(df, "pilier_libelle", "financeur_libelle", "montant_accorde", "Pilier", "Financeur")
        value = "montant_accorde"
        config = {c: layout.euro_column(c) for c in df["pilier_libelle"].unique()}
    else:
        chart = charts.heatmap(df, "pilier_libelle", "financeur_libelle", "part_financeur", "Pilier", "Financeur",
                               kind="part")
        value = "part_financeur"
        config = {c: pct_column(c) for c in df["pilier_libelle"].unique()}
    table = (df.pivot_table(index="financeur_libelle", columns="pilier_libelle", values=value, aggfunc="sum",
                            fill_value=0).reset_index().rename(columns={"financeur_libelle": "Financeur"}))
    table.columns = [str(c) for c in table.columns]
    layout.chart_and_table(chart, table, f"Financeurs par pilier {annee}", f"fin_matrice_{value}", config)


main()
