"""Préparer une séance du COPIL: choose and order the slides, save under a name, present, export PDF / Excel.

Also the saved views: a page with its shared filters, saved under a name and reopened from a list.
"""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from cdv_core import dossier, fmt, gestion, queries, slides, vues
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres
from ui import access, data, filters, layout, require_app
from ui.data import q

require_app()

FILTERED_PAGES = {"vue-ensemble": "Vue d'ensemble", "quartiers": "Quartiers", "piliers": "Piliers",
                  "financeurs": "Financeurs"}
ORDERABLE = [t for t in slides.CATALOGUE if t != "fiche_qpv"]


def _storage(fn, *args):
    """Run a vues function on a fresh cursor (settings are read and written directly, never cached)."""
    con = data.cursor()
    try:
        return fn(con, *args)
    finally:
        con.close()


def _load_into_form(nom: str) -> None:
    """Button callback: fill the form with a saved séance."""
    seance = _storage(vues.load_seance, nom)
    if seance is None:
        return
    st.session_state["se_titre"] = seance.titre
    st.session_state["se_date"] = seance.date or dt.date.today()
    st.session_state["se_types"] = [s["type"] for s in seance.slides if s["type"] in ORDERABLE]
    st.session_state["se_fiches"] = [s["qpv"] for s in seance.slides if s["type"] == "fiche_qpv" and s.get("qpv")]
    years = [s.get("annee") for s in seance.slides if s.get("annee")]
    if years:
        st.session_state["se_annee"] = years[0]
    refs = [s.get("annee_ref") for s in seance.slides if s.get("annee_ref")]
    if refs:
        st.session_state["se_ref"] = refs[0]


def _write(fn, *args, **kwargs):
    """Run a gestion write as the signed-in person; a refusal becomes a French message (None returned)."""
    try:
        return fn(data.base(), *args, actor=access.current_user(), **kwargs)
    except CdvError as exc:
        st.session_state["se_refus"] = exc.message
        return None


def _delete(nom: str) -> None:
    _write(gestion.delete_seance, nom)


def _delete_view(nom: str) -> None:
    _write(gestion.delete_view, nom)


def seances_list(manage: bool) -> None:
    saved = _storage(vues.list_seances)
    st.subheader("Séances enregistrées")
    if saved.empty:
        layout.note("Aucune séance enregistrée pour l'instant : composez-en une ci-dessous.")
        return
    for row in saved.itertuples(index=False):
        c1, c2, c3, c4 = st.columns([4, 2, 2, 2], vertical_alignment="center")
        quand = fmt.date_fr(row.date) if row.date is not None and str(row.date) != "NaT" else "sans date"
        c1.markdown(f"**{row.titre}** — {quand}, {int(row.nb_slides)} diapositive(s)")
        c2.page_link("pages/presentation.py", label="Présenter", icon=":material/slideshow:",
                     query_params={"seance": row.nom, "slide": "1"})
        c3.button("Modifier" if manage else "Reprendre", key=f"se_edit_{row.nom}",
                  icon=":material/edit:" if manage else ":material/content_copy:", on_click=_load_into_form,
                  args=(row.nom,))
        if manage:
            c4.button("Supprimer", key=f"se_del_{row.nom}", icon=":material/delete:", on_click=_delete,
                      args=(row.nom,), type="tertiary")


def form(f: Filtres, manage: bool) -> None:
    st.subheader("Composer une séance")
    years = [int(y) for y in q(queries.aggregate, f, ("annee",))["annee"]]
    if not years:
        layout.empty("Aucune action ne correspond aux filtres choisis : élargissez la sélection pour préparer "
                     "une séance.")
        return
    default_year = q(slides.annee_par_defaut, f) or years[-1]
    c1, c2 = st.columns([3, 1])
    titre = c1.text_input("Nom de la séance", key="se_titre", placeholder="COPIL du 12 décembre 2026",
                          max_chars=vues.MAX_NOM)
    st.session_state.setdefault("se_date", dt.date.today())
    date = c2.date_input("Date de la séance", key="se_date", format="DD/MM/YYYY")
    st.session_state.setdefault("se_types", list(slides.DEFAULT_SEQUENCE))
    types = st.multiselect("Diapositives, dans l'ordre de la séance (l'ordre est celui du choix : retirez puis "
                           "rajoutez une diapositive pour la déplacer)", ORDERABLE, key="se_types",
                           format_func=lambda t: slides.CATALOGUE[t].libelle, placeholder="Choisissez…")
    per_qpv = q(queries.par_qpv, f)
    qpv_names = dict(zip(per_qpv["code_qpv"], per_qpv["nom_qpv"].fillna(per_qpv["code_qpv"]), strict=True))
    fiches = st.multiselect("Fiches quartier (ajoutées à la fin)", list(qpv_names), key="se_fiches",
                            format_func=lambda c: f"{qpv_names.get(c, c)} ({c})", placeholder="Aucune")
    c1, c2, _ = st.columns([1, 1, 2])
    if st.session_state.get("se_annee") not in years:
        st.session_state["se_annee"] = default_year if default_year in years else years[-1]
    annee = c1.selectbox("Année présentée", years, key="se_annee")
    refs = [y for y in years if y != annee] or years
    if st.session_state.get("se_ref") not in refs:
        st.session_state["se_ref"] = 2016 if 2016 in refs else refs[0]
    annee_ref = c2.selectbox("Comparée à", refs, key="se_ref")

    specs = [{"type": t, "annee": annee, **({"annee_ref": annee_ref} if t == "evolution" else {})} for t in types]
    specs += [{"type": "fiche_qpv", "annee": annee, "qpv": c} for c in fiches]
    qs = vues.filters_query_string(st.query_params.to_dict())
    if specs:
        st.markdown("**Déroulé :** " + " → ".join(f"{i}. {slides.libelle(s)}" for i, s in enumerate(specs, 1)))
    layout.note("Les filtres de la barre latérale sont enregistrés avec la séance : "
                + filters.summary(f) + ".")

    b1, b2, b3 = st.columns(3)
    if manage and b1.button("Enregistrer la séance", icon=":material/save:", type="primary", width="stretch",
                            key="se_save"):
        try:
            nom = gestion.save_seance(data.base(), vues.Seance(titre, date, specs, qs), access.current_user(),
                                      set(slides.CATALOGUE))
        except CdvError as exc:
            st.error(exc.message, icon=":material/error:")
        else:
            st.success(f"Séance « {titre.strip()} » enregistrée.", icon=":material/check_circle:")
            st.page_link("pages/presentation.py", label="Ouvrir en mode présentation", icon=":material/slideshow:",
                         query_params={"seance": nom, "slide": "1"})
    elif not manage:
        b1.caption("Enregistrer une séance est réservé aux gestionnaires des données (connexion dans le panneau "
                   "de gauche) ; le dossier PDF et l'export Excel restent disponibles.")
    if not specs:
        return
    slides_json = json.dumps(specs, ensure_ascii=False)
    name = vues.slugify(titre or "seance") or "seance"
    if b2.button("Préparer le dossier PDF", icon=":material/picture_as_pdf:", width="stretch", key="se_pdf"):
        with st.spinner("Préparation du dossier (graphiques et tableaux)…"):
            st.session_state["se_pdf_bytes"] = (slides_json, qs, titre, q(
                dossier.pdf_for, titre or "Séance du COPIL", date.isoformat() if date else None, slides_json, qs))
    ready = st.session_state.get("se_pdf_bytes")
    if ready and ready[:3] == (slides_json, qs, titre):
        b2.download_button("Télécharger le dossier PDF", ready[3], file_name=f"dossier_{name}.pdf",
                           mime="application/pdf", icon=":material/download:", width="stretch", key="se_pdf_dl")
    b3.download_button("Tout exporter en Excel", q(dossier.xlsx_for, slides_json, qs),
                       file_name=f"tableaux_{name}.xlsx", icon=":material/download:", width="stretch",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet", key="se_xlsx")


def views_block(manage: bool) -> None:
    st.subheader("Vues enregistrées")
    layout.note("Une vue garde une page et ses filtres : la rouvrir affiche la même sélection.")
    if manage:
        c1, c2, c3 = st.columns([3, 2, 2], vertical_alignment="bottom")
        nom = c1.text_input("Nom de la vue", key="vu_nom", placeholder="Financements CAF 2016-2022")
        page = c2.selectbox("Page", list(FILTERED_PAGES), format_func=FILTERED_PAGES.get, key="vu_page")
        if c3.button("Enregistrer la vue", key="vu_save", icon=":material/bookmark_add:", width="stretch"):
            try:
                gestion.save_view(data.base(), nom, page, vues.filters_query_string(st.query_params.to_dict()),
                                  access.current_user())
            except CdvError as exc:
                st.error(exc.message, icon=":material/error:")
            else:
                st.success(f"Vue « {nom.strip()} » enregistrée avec les filtres actuels.",
                           icon=":material/check_circle:")
    saved = _storage(vues.list_views)
    if saved.empty and not manage:
        layout.note("Aucune vue enregistrée. Enregistrer une vue est réservé aux gestionnaires des données.")
    for row in saved.itertuples(index=False):
        a, b, c = st.columns([4, 2, 2], vertical_alignment="center")
        a.markdown(f"[{row.nom}]({row.url}) — {FILTERED_PAGES.get(row.page, row.page)}")
        b.caption(row.query_string or "sans filtre")
        if manage:
            c.button("Supprimer", key=f"vu_del_{row.nom}", icon=":material/delete:", type="tertiary",
                     on_click=_delete_view, args=(row.nom,))


def main() -> None:
    f: Filtres = st.session_state.get("filtres", Filtres())
    st.title("Préparer une séance du COPIL")
    layout.filters_line(filters.summary(f))
    manage = access.can_manage(access.current_user())
    refus = st.session_state.pop("se_refus", None)
    if refus:
        st.error(refus, icon=":material/lock:")
    seances_list(manage)
    st.divider()
    form(f, manage)
    st.divider()
    views_block(manage)


main()
