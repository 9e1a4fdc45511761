"""Vue d'ensemble: the headline figures of the programmation for a COPIL."""

from __future__ import annotations

import streamlit as st

from cdv_core import charts, fmt, maps, queries
from cdv_core.filters import Filtres
from ui import filters, layout, require_app
from ui.data import q

require_app()


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    by_year = q(queries.aggregate, f, ("annee",))
    if by_year.empty or by_year["nb_actions"].sum() == 0:
        st.title("Vue d'ensemble")
        layout.filters_line(filters.summary(f))
        layout.empty("Aucune action ne correspond aux filtres choisis. Élargissez la sélection ou "
                     "réinitialisez les filtres.")
        return
    years = [int(y) for y in by_year["annee"]]
    default = q(queries.annee_decidee, f) or years[-1]
    default = default if default in years else years[-1]

    head, c1, c2 = st.columns([4, 1, 1], vertical_alignment="bottom")
    annee = c1.selectbox("Année affichée", years, index=years.index(default), key="ve_annee")
    ref_choices = [y for y in years if y != annee] or years
    ref_default = 2016 if 2016 in ref_choices else ref_choices[0]
    annee_ref = c2.selectbox("Comparer à", ref_choices, index=ref_choices.index(ref_default), key="ve_ref")

    k = q(queries.kpis, f.with_(annees=(annee,)))
    evo = q(queries.evolution, f, annee, annee_ref)
    pct = evo["evolution_pct"]
    if pct is None:
        titre = f"En {annee}, {fmt.euros(k['montant_accorde'])} accordés à {fmt.nombre(k['nb_actions'])} actions"
    else:
        sens = "augmenté" if pct >= 0 else "baissé"
        titre = (f"Les financements ont {sens} de {fmt.pourcent(abs(pct), 0)} entre {annee_ref} et {annee}"
                 f" : {fmt.euros(k['montant_accorde'])} accordés en {annee}")
    head.title(titre)
    layout.filters_line(filters.summary(f))

    m = st.columns(5)
    m[0].metric(f"Montant accordé {annee}", fmt.euros(k["montant_accorde"]),
                delta=None if pct is None else f"{fmt.pourcent(pct, 1, signe=True)} par rapport à {annee_ref}"
                .replace("−", "-"),
                help="Somme des montants accordés par tous les financeurs aux actions retenues par les filtres.")
    m[1].metric("Actions financées", fmt.nombre(k["nb_actions"]), help=queries.REGLE_ACTIONS)
    m[2].metric("Porteurs de projet", fmt.nombre(k["nb_porteurs"]))
    m[3].metric("Quartiers concernés", fmt.nombre(k["nb_qpv"]))
    m[4].metric("Crédits spécifiques", fmt.pourcent(k["part_specifique"]),
                help=f"Crédits de la politique de la ville : {fmt.euros(k['montant_specifique'])} ; "
                     f"droit commun : {fmt.euros(k['montant_droit_commun'])}.")
    apart = queries.phrase_hors_financement(k, annee, q(queries.depots_en_instruction, f))
    if apart:
        layout.note(apart)

    st.divider()
    financeurs(f, years, by_year)
    st.divider()
    left, right = st.columns(2, gap="large")
    with left:
        piliers(f, annee)
    with right:
        per_qpv = carte(f, annee)
    if per_qpv is not None:
        tableau_qpv(per_qpv, annee)


def financeurs(f: Filtres, years: list[int], by_year) -> None:
    fin = q(queries.par_annee_financeur, f)
    first, last = years[0], years[-1]
    tot_first = float(by_year.loc[by_year["annee"] == first, "montant_accorde"].sum())
    tot_last = float(by_year.loc[by_year["annee"] == last, "montant_accorde"].sum())
    st.subheader(f"Financements par année et par financeur, de {first} à {last}")
    if tot_first and first != last:
        layout.note(f"{fmt.euros(tot_first)} en {first}, {fmt.euros(tot_last)} en {last}.")
    fin = fin.assign(financeur_libelle=fin["financeur_libelle"].fillna(fin["financeur"]))
    chart = charts.stacked_by_year(fin, "financeur_libelle", "Financeur")
    table = (fin.pivot_table(index="financeur_libelle", columns="annee", values="montant_accorde",
                             aggfunc="sum", fill_value=0).reset_index()
             .rename(columns={"financeur_libelle": "Financeur"}))
    table.columns = [str(c) for c in table.columns]
    layout.chart_and_table(chart, table, "Financements par année et financeur", "ve_fin",
                           {str(y): layout.euro_column(str(y)) for y in years})


CLIC_PILIER = "clic_pilier"


def piliers(f: Filtres, annee: int) -> None:
    pil = q(queries.par_pilier, f.with_(annees=(annee,)))
    pil = pil[pil["montant_accorde"] > 0]
    if pil.empty:
        st.subheader(f"Répartition par pilier en {annee}")
        layout.empty(f"Aucun financement accordé en {annee} pour ces filtres.")
    else:
        pil = pil.assign(pilier_libelle=pil["pilier_libelle"].fillna(pil["pilier"]))
        top = pil.iloc[0]
        st.subheader(f"En {annee}, « {layout.texte(top['pilier_libelle'])} » reçoit {fmt.pourcent(top['part'], 0)} "
                     "des financements")
        chart = charts.horizontal_bars(pil, "pilier_libelle", "montant_accorde", selection=CLIC_PILIER)
        table = pil[["pilier_libelle", "montant_accorde", "part", "nb_actions"]].rename(columns={
            "pilier_libelle": "Pilier", "montant_accorde": "Montant accordé", "part": "Part (%)",
            "nb_actions": "Actions"})
        codes = dict(zip(pil["pilier_libelle"], pil["pilier"], strict=True))
        layout.chart_and_table(chart, table, f"Financements par pilier {annee}", "ve_pil", {
            "Montant accordé": layout.euro_column("Montant accordé"),
            "Part (%)": st.column_config.NumberColumn("Part (%)", format="%.1f %%")},
            on_select=lambda: filters.narrow_from_chart("chart_ve_pil", CLIC_PILIER, "pilier_libelle", codes,
                                                        "piliers"))
        layout.note("Cliquez sur un pilier pour filtrer tout le tableau de bord sur ce pilier.")


def carte(f: Filtres, annee: int):
    """The map of the quartiers; returns the per-QPV table it drew (None when there is nothing)."""
    per_qpv = q(queries.par_qpv, f.with_(annees=(annee,)))
    per_qpv = per_qpv[per_qpv["montant_accorde"] > 0]
    if per_qpv.empty:
        st.subheader(f"Financements par quartier en {annee}")
        layout.empty("Aucun quartier ne reçoit de financement pour ces filtres.")
        return None
    top = per_qpv.iloc[0]
    st.subheader(f"En {annee}, le quartier {layout.texte(top['nom_qpv'])} reçoit le plus : {fmt.euros(top['montant_accorde'])}")
    contours = q(queries.qpv_contours)
    communes = q(queries.commune_contours)
    built = maps.qpv_map(contours, per_qpv, "montant_accorde", f"Montant accordé {annee}", fmt.euros,
                         communes=communes)
    without = per_qpv[~per_qpv["code_qpv"].isin(contours["code_qpv"])]
    if built is None:
        layout.empty("Aucun contour n'est disponible pour ces quartiers : la carte ne peut pas être "
                     "dessinée (voir le tableau).")
    else:
        deck, legend = built
        st.pydeck_chart(deck, width="stretch", height=560)
        st.markdown(maps.legend_html(legend), unsafe_allow_html=True)
    if not without.empty:
        layout.note(f"Sans contour sur la carte ({len(without)}) : "
                    + ", ".join(f"{n} ({c})" for n, c in zip(without["nom_qpv"], without["code_qpv"],
                                                              strict=True)) + ".")
    layout.note(layout.SPLIT_NOTE)
    return per_qpv


def tableau_qpv(per_qpv, annee: int) -> None:
    st.subheader(f"Tous les quartiers en {annee}")
    table = per_qpv[["nom_qpv", "code_qpv", "montant_accorde", "nb_actions", "population",
                     "montant_par_habitant"]].rename(columns={
        "nom_qpv": "Quartier", "code_qpv": "Code", "montant_accorde": "Montant accordé",
        "nb_actions": "Actions", "population": "Population", "montant_par_habitant": "€ par habitant"})
    layout.table(table, f"Financements par quartier {annee}", "ve_qpv", {
        "Montant accordé": layout.euro_column("Montant accordé"),
        "€ par habitant": st.column_config.NumberColumn("€ par habitant", format="%.1f €"),
        "Population": st.column_config.NumberColumn("Population", format="localized"),
    }, height=560)


main()
