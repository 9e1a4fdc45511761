"""Préparer une séance du COPIL: choose and order the slides, save under a name, present, export PDF / Excel.

Also the saved views: a page with its shared filters, saved under a name and reopened from a list.
"""

from __future__ import annotations

import datetime as dt
import json

import streamlit as st

from cdv_core import dossier, fmt, gestion, pptx_export, queries, slides, surveys, vues
from cdv_core.errors import CdvError
from cdv_core.filters import Filtres
from ui import access, data, filters, layout, require_app
from ui.data import q

require_app()

FILTERED_PAGES = {"vue-ensemble": "Vue d'ensemble", "quartiers": "Quartiers", "piliers": "Piliers",
                  "financeurs": "Financeurs"}
_NO_PARAMS = slides.SectionType("", lambda *a, **k: None)


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
    st.session_state["se_slides"] = [dict(s) for s in seance.slides]
    years = [s.get("annee") for s in seance.slides if s.get("annee")]
    if years:
        st.session_state["se_annee"] = years[0]
    refs = [s.get("annee_ref") for s in seance.slides if s.get("annee_ref")]
    if refs:
        st.session_state["se_ref"] = refs[0]


def _move(i: int, step: int) -> None:
    """Button callback: move slide `i` up (-1) or down (+1) in the séance."""
    lst = st.session_state["se_slides"]
    j = i + step
    if 0 <= i < len(lst) and 0 <= j < len(lst):
        lst[i], lst[j] = lst[j], lst[i]


def _remove(i: int) -> None:
    lst = st.session_state["se_slides"]
    if 0 <= i < len(lst):
        lst.pop(i)


def _add(spec: dict) -> None:
    st.session_state["se_slides"].append(dict(spec))


def _slide_label(spec: dict, qpv_names: dict) -> str:
    text = slides.libelle({k: v for k, v in spec.items() if k != "qpv"})
    if spec.get("qpv"):
        text += f" — {qpv_names.get(spec['qpv'], spec['qpv'])}"
    if spec.get("filtres"):
        text += " — filtres propres : " + spec["filtres"].replace("&", ", ").replace("=", " = ")
    return text


def _write(fn, *args, **kwargs):
    """Run a gestion write as the signed-in person; a refusal becomes a French message (None returned)."""
    try:
        return fn(data.base(), *args, actor=access.current_user(), **kwargs)
    except CdvError as exc:
        st.session_state["se_refus"] = layout.texte(exc.message)
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
        c1.markdown(f"**{layout.texte(row.titre)}** — {quand}, {fmt.compte(int(row.nb_slides), 'diapositive')}")
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
    per_qpv = q(queries.par_qpv, f)
    qpv_names = dict(zip(per_qpv["code_qpv"], per_qpv["nom_qpv"].fillna(per_qpv["code_qpv"]), strict=True))
    c1, c2, _ = st.columns([1, 1, 2])
    if st.session_state.get("se_annee") not in years:
        st.session_state["se_annee"] = default_year if default_year in years else years[-1]
    annee = c1.selectbox("Année présentée", years, key="se_annee")
    refs = [y for y in years if y != annee] or years
    if st.session_state.get("se_ref") not in refs:
        st.session_state["se_ref"] = 2016 if 2016 in refs else refs[0]
    annee_ref = c2.selectbox("Comparée à", refs, key="se_ref")
    qs = vues.filters_query_string(st.query_params.to_dict())

    st.session_state.setdefault("se_slides", [{"type": t} for t in slides.DEFAULT_SEQUENCE])
    lst = st.session_state["se_slides"]
    st.markdown("**Diapositives, dans l'ordre de la séance**")
    if not lst:
        layout.note("Aucune diapositive : ajoutez-en ci-dessous.")
    for i, spec in enumerate(lst):
        a, b, c, d = st.columns([5, 1.6, 1.8, 1.6], vertical_alignment="center")
        a.markdown(f"{i + 1}\\. {layout.texte(_slide_label(spec, qpv_names))}")
        b.button("Monter", key=f"se_up_{i}", icon=":material/arrow_upward:", on_click=_move, args=(i, -1),
                 disabled=i == 0, width="stretch", help="Monter cette diapositive d'un rang")
        c.button("Descendre", key=f"se_down_{i}", icon=":material/arrow_downward:", on_click=_move,
                 args=(i, 1), disabled=i == len(lst) - 1, width="stretch",
                 help="Descendre cette diapositive d'un rang")
        d.button("Retirer", key=f"se_rm_{i}", icon=":material/close:", on_click=_remove, args=(i,),
                 type="tertiary", width="stretch", help="Retirer cette diapositive de la séance")

    with st.expander("Ajouter une diapositive", icon=":material/add:", expanded=not lst):
        kinds = list(slides.CATALOGUE)
        kind = st.selectbox("Diapositive", kinds, key="se_new_type",
                            format_func=lambda t: slides.CATALOGUE[t].libelle)
        params = slides.CATALOGUE[kind].params
        spec: dict = {"type": kind}
        cols = st.columns(3)
        if "annee" in params:
            y = cols[0].selectbox("Année", [None, *years], key="se_new_annee",
                                  format_func=lambda v: "Année de la séance" if v is None else str(v))
            if y is not None:
                spec["annee"] = y
        if "annee_ref" in params:
            r = cols[1].selectbox("Comparée à", [None, *years], key="se_new_ref",
                                  format_func=lambda v: "Année de la séance" if v is None else str(v))
            if r is not None:
                spec["annee_ref"] = r
        if "qpv" in params:
            spec["qpv"] = cols[2].selectbox("Quartier", list(qpv_names), key="se_new_qpv",
                                            format_func=lambda c: f"{qpv_names.get(c, c)} ({c})")
        if "enquete" in params:
            liste = q(surveys.enquetes)
            if not liste.empty:
                spec["enquete"] = cols[2].selectbox(
                    "Enquête", list(liste["enquete"]), key="se_new_enquete",
                    format_func=dict(zip(liste["enquete"], liste["libelle"], strict=True)).get)
        own = st.checkbox("Filtres propres à cette diapositive : ceux de la barre latérale maintenant ("
                          + filters.summary(f) + ")", key="se_new_own", disabled=not qs,
                          help="Sinon, la diapositive suit les filtres de la séance.")
        if own and qs:
            spec["filtres"] = qs
        st.button("Ajouter à la fin", key="se_add", icon=":material/add:", on_click=_add, args=(spec,))

    specs = [{**s_, **({"annee": annee} if "annee" in slides.CATALOGUE.get(s_["type"], _NO_PARAMS).params
                       and not s_.get("annee") else {}),
              **({"annee_ref": annee_ref} if "annee_ref" in slides.CATALOGUE.get(s_["type"], _NO_PARAMS).params
                 and not s_.get("annee_ref") else {})} for s_ in lst]
    layout.note("Les filtres de la barre latérale sont enregistrés avec la séance : "
                + filters.summary(f) + ".")

    b1, b2, b4, b3 = st.columns(4)
    if manage and b1.button("Enregistrer la séance", icon=":material/save:", type="primary", width="stretch",
                            key="se_save"):
        try:
            nom = gestion.save_seance(data.base(), vues.Seance(titre, date, specs, qs), access.current_user(),
                                      set(slides.CATALOGUE))
        except CdvError as exc:
            st.error(layout.texte(exc.message), icon=":material/error:")
        else:
            st.success(f"Séance « {layout.texte(titre.strip())} » enregistrée.", icon=":material/check_circle:")
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
    if b4.button("Préparer le diaporama PowerPoint", icon=":material/co_present:", width="stretch", key="se_pptx"):
        with st.spinner("Préparation du diaporama (graphiques et tableaux)…"):
            st.session_state["se_pptx_bytes"] = (slides_json, qs, titre, q(
                pptx_export.pptx_for, titre or "Séance du COPIL", date.isoformat() if date else None, slides_json,
                qs))
    ready = st.session_state.get("se_pptx_bytes")
    if ready and ready[:3] == (slides_json, qs, titre):
        b4.download_button("Télécharger le diaporama PowerPoint", ready[3], file_name=f"diaporama_{name}.pptx",
                           mime="application/vnd.openxmlformats-officedocument.presentationml.presentation",
                           icon=":material/download:", width="stretch", key="se_pptx_dl")
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
                st.error(layout.texte(exc.message), icon=":material/error:")
            else:
                st.success(f"Vue « {layout.texte(nom.strip())} » enregistrée avec les filtres actuels.",
                           icon=":material/check_circle:")
    saved = _storage(vues.list_views)
    if saved.empty and not manage:
        layout.note("Aucune vue enregistrée. Enregistrer une vue est réservé aux gestionnaires des données.")
    for row in saved.itertuples(index=False):
        a, b, c = st.columns([4, 2, 2], vertical_alignment="center")
        a.markdown(f"[{layout.texte(row.nom)}]({row.url}) — {FILTERED_PAGES.get(row.page, row.page)}")
        b.caption(layout.texte(row.query_string) if row.query_string else "sans filtre")
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
