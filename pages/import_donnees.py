"""Importer des données: drop files, read the validation report and the preview, then write (gestionnaires)."""

from __future__ import annotations

import streamlit as st

from cdv_core import exports, fmt, gestion, importer, public_files, reading, templates
from cdv_core.errors import CdvError
from cdv_core.formats import KINDS
from ui import access, data, layout, require_app

require_app()

AUTO = "auto"
REFERENTIELS = ("qpv", "piliers", "financeurs", "thematiques", "thematiques_piliers")


def _kind_label(code: str) -> str:
    return "Reconnaître automatiquement" if code == AUTO else KINDS[code].libelle


def _uploads(files) -> list[gestion.Upload]:
    out = []
    for i, f in enumerate(files):
        choice = st.session_state.get(f"imp_kind_{i}_{f.name}", AUTO)
        out.append(gestion.Upload(f.name, f.getvalue(), None if choice == AUTO else choice))
    return out


def _disp_key(name: str) -> str:
    return f"imp_disp_{name}"


def _dispositifs(names) -> dict[str, str | None]:
    """The dispositif the person chose for each posts file (adultes-relais / FONJEP), by file name."""
    return {n: st.session_state.get(_disp_key(n)) for n in names}


DISPOSITIF_LABELS = {None: "Reconnaître d'après les identifiants ou le nom du fichier",
                     **{k: f"Postes {v}" for k, v in public_files.DISPOSITIFS_POSTES.items()}}


def _plan(uploads: list[gestion.Upload]) -> gestion.ImportPlan:
    """The check of this upload, kept in the session while neither the files, the choices nor the data change."""
    con = data.cursor()
    try:
        version = gestion.data_version(con)
    finally:
        con.close()
    choix = _dispositifs(u.name for u in uploads)
    key = (version, tuple((u.name, importer.checksum(u.data), u.kind, choix[u.name]) for u in uploads))
    cached = st.session_state.get("imp_plan")
    if cached and cached[0] == key:
        return cached[1]
    with st.spinner("Vérification des fichiers…"), public_files.dispositifs_choisis(choix):
        plan = gestion.plan_import(data.base(), uploads)
    st.session_state["imp_plan"] = (key, plan)
    return plan


def _report(checked: gestion.CheckedFile, idx: int) -> None:
    report = checked.report
    if report.kind is not None and report.kind.code == "postes_anct":  # the person may say which posts these are
        st.selectbox(f"Dispositif des postes de « {layout.texte(checked.upload.name)} »", list(DISPOSITIF_LABELS),
                     format_func=DISPOSITIF_LABELS.get, key=_disp_key(checked.upload.name),
                     help="Quand les identifiants des postes et le nom du fichier ne disent pas s'il s'agit de "
                          "postes d'adultes-relais ou de postes FONJEP.")
    errors, warnings = report.errors, report.warnings
    kind = report.kind.libelle if report.kind else "type non reconnu"
    if errors:
        st.error(f"**{layout.texte(checked.upload.name)}** ({kind}) : {fmt.compte(len(errors), 'erreur')} à corriger"
                 + (f", {fmt.compte(len(warnings), 'avertissement')}" if warnings else "")
                 + ". Ce fichier ne peut pas être importé en l'état.", icon=":material/error:")
    elif warnings:
        st.warning(f"**{layout.texte(checked.upload.name)}** ({kind}, {fmt.compte(report.n_rows, 'ligne')}) : "
                   "prêt à importer, "
                   f"{fmt.compte(len(warnings), 'avertissement')} à vérifier.", icon=":material/warning:")
    else:
        st.success(f"**{layout.texte(checked.upload.name)}** ({kind}, {fmt.compte(report.n_rows, 'ligne')}) : aucun problème.",
                   icon=":material/check_circle:")
    for sentence in report.resume:  # what the rows of a public file became (it may quote the file)
        st.markdown(layout.texte(sentence))
    if report.issues:
        issues = report.issues_frame()
        if len(issues) <= 30:  # a static table wraps long sentences; a long report stays scrollable
            st.table(layout.textes(issues.assign(Ligne=issues["Ligne"].map(
                lambda v: "" if v is None or v != v else str(int(v)))).fillna("")), hide_index=True)
        else:
            st.dataframe(issues, hide_index=True, width="stretch", key=f"imp_issues_{idx}",
                         column_config={"Ligne": st.column_config.NumberColumn("Ligne", format="%d")})
        st.download_button("Télécharger le rapport (CSV)", exports.to_csv_bytes(issues),
                           file_name=f"rapport_{layout.slug(checked.upload.name)}.csv", mime="text/csv",
                           icon=":material/download:", key=f"imp_issues_csv_{idx}")
    if checked.orphans is not None and not checked.orphans.empty:
        st.markdown("**Actions qui deviendraient orphelines**")
        st.dataframe(checked.orphans.rename(columns={
            "code_qpv": "Quartier", "contrat_avant": "Contrat actuel", "contrat_apres": "Contrat du fichier",
            "action_id": "Action", "annee": "Année", "intitule": "Intitulé"}), hide_index=True, width="stretch",
            key=f"imp_orphans_{idx}")


def _details(plan: gestion.ImportPlan) -> None:
    for i, checked in enumerate(plan.files):
        for table, diff in checked.diffs.items():
            if table not in gestion.SHOWN_TABLES:
                continue
            label = f"{layout.texte(checked.upload.name)} — {gestion.TABLE_LABELS.get(table, table)}"
            if len(diff.added):
                with st.expander(f"{label} : {fmt.compte(len(diff.added), 'ligne ajoutée', 'lignes ajoutées')}"):
                    st.dataframe(diff.added, hide_index=True, width="stretch", key=f"imp_add_{i}_{table}")
            if len(diff.changed_after):
                with st.expander(f"{label} : {fmt.compte(len(diff.changed_after), 'ligne modifiée', 'lignes modifiées')} "
                                 "(ancienne → nouvelle valeur)"):
                    st.dataframe(gestion.changes_frame(table, diff), hide_index=True, width="stretch",
                                 key=f"imp_chg_{i}_{table}")
            if len(diff.removed):
                with st.expander(f"{label} : {fmt.compte(len(diff.removed), 'ligne supprimée', 'lignes supprimées')}"):
                    st.dataframe(diff.removed, hide_index=True, width="stretch", key=f"imp_del_{i}_{table}")


def _preview(plan: gestion.ImportPlan) -> None:
    st.subheader("Effet de l'import")
    counts = gestion.counts_view(plan)
    if counts.empty:
        st.info("Ces fichiers ne changent rien : les données sont déjà à jour.", icon=":material/info:")
        return
    st.table(counts, hide_index=True)
    if not plan.totals.empty:
        st.markdown("**Totaux des années concernées, avant → après**")
        st.table(gestion.totals_view(plan), hide_index=True)
    _details(plan)


def _commit_shown(user) -> None:
    """« Valider » callback: write exactly the plan drawn in the previous run (the one the person read).

    If anything was written since that check, nothing is written: the next run shows a fresh check.
    """
    shown = st.session_state.pop("imp_plan", None)
    if shown is None:
        return
    plan = shown[1]
    try:
        with public_files.dispositifs_choisis(_dispositifs(f.upload.name for f in plan.files)):
            results = gestion.commit_plan(data.base(), plan, user)
    except gestion.StalePlan as exc:
        st.session_state["imp_stale"] = layout.texte(exc.message)
        return
    except importer.ImportRejected as exc:
        st.session_state["imp_error"] = (f"{layout.texte(exc.report.file_name)} ne passe plus les contrôles : rien n'a été "
                                         "écrit. Vérifiez-le à nouveau.")
        return
    except CdvError as exc:
        st.session_state["imp_error"] = layout.texte(exc.message)
        return
    lines = [f"n° {r.import_id} : {layout.texte(r.file_name)} — {fmt.compte(r.added, 'ajoutée')}, "
             f"{fmt.compte(r.changed, 'modifiée')}, {fmt.compte(r.removed, 'supprimée')}" for r in results]
    st.session_state["imp_done"] = ("Import enregistré. " + " ; ".join(lines)
                                    + ". Toutes les pages affichent désormais ces données ; l'import peut être "
                                    "annulé depuis le journal des imports.")
    st.session_state["imp_uploader"] = st.session_state.get("imp_uploader", 0) + 1


def import_tab(user) -> None:
    done = st.session_state.pop("imp_done", None)
    if done:
        st.success(done, icon=":material/check_circle:")
    stale = st.session_state.pop("imp_stale", None)
    if stale:
        st.warning(stale, icon=":material/sync_problem:")
    error = st.session_state.pop("imp_error", None)
    if error:
        st.error(error, icon=":material/error:")
    files = st.file_uploader(
        f"Déposez un ou plusieurs fichiers CSV ou Excel (.xlsx), ou des contours (GeoJSON, Shapefile zippé), "
        f"{fmt.nombre(gestion.MAX_BYTES // 1_000_000)} Mo au plus par fichier", accept_multiple_files=True,
        key=f"imp_files_{st.session_state.get('imp_uploader', 0)}")
    st.caption(f"{reading.resume_limites()} Un montant au-delà de {fmt.euros(importer.plafond_montant())} par ligne "
               "est signalé en avertissement. Réglages : variables d'environnement CDV_LIMITE_… et "
               "CDV_PLAFOND_MONTANT (voir le README).")
    if not files:
        st.caption("Rien n'est écrit tant que vous n'avez pas cliqué sur « Valider l'import », après avoir lu le "
                   "rapport de vérification et l'aperçu des changements.")
        return
    cols = st.columns(min(len(files), 3))
    for i, f in enumerate(files):
        cols[i % len(cols)].selectbox(f"Type de « {layout.texte(f.name)} »", [AUTO, *KINDS], format_func=_kind_label,
                                      key=f"imp_kind_{i}_{f.name}")
    uploads = _uploads(files)
    plan = _plan(uploads)
    st.subheader("Rapport de vérification")
    for i, checked in enumerate(plan.files):
        _report(checked, i)
    if not plan.ok:
        st.info("Rien n'a été écrit. L'import est bloqué tant qu'un fichier a des erreurs : corrigez-les dans votre "
                "tableur puis déposez à nouveau le fichier (ou retirez-le de la liste).", icon=":material/info:")
        return
    _preview(plan)
    if plan.changes_anything:
        st.button("Valider l'import", type="primary", icon=":material/task_alt:", key="imp_commit",
                  on_click=_commit_shown, args=(user,))


def templates_tab() -> None:
    st.markdown("Partez d'un modèle : les colonnes, les valeurs acceptées et les exemples ci-dessous sont ceux que "
                "l'import vérifie. Le CSV s'ouvre directement dans Excel (séparateur point-virgule).")
    code = st.selectbox("Type de fichier", list(KINDS), format_func=_kind_label, key="imp_tpl_kind")
    kind = KINDS[code]
    if kind.description:
        st.caption(kind.description)
    st.dataframe(templates.column_guide(code), hide_index=True, width="stretch", key="imp_guide")
    xlsx = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    c = st.columns(4)
    for i, (with_example, ext) in enumerate(((False, "csv"), (False, "xlsx"), (True, "csv"), (True, "xlsx"))):
        what = "Exemple" if with_example else "Modèle vide"
        payload = templates.csv_bytes(code, with_example) if ext == "csv" else templates.xlsx_bytes(code, with_example)
        c[i].download_button(f"{what} ({'CSV' if ext == 'csv' else 'Excel'})", payload,
                             file_name=templates.file_name(code, with_example, ext),
                             mime="text/csv" if ext == "csv" else xlsx, icon=":material/download:",
                             key=f"imp_tpl_{code}_{i}", width="stretch")


def referentials_tab() -> None:
    st.markdown(
        "Les référentiels se mettent à jour comme les autres fichiers, avec les mêmes vérifications, le même "
        "journal et la même annulation : téléchargez le référentiel actuel, modifiez-le dans votre tableur, puis "
        "déposez-le dans l'onglet « Importer ».")
    layout.note("Un référentiel importé ajoute des codes ou modifie ceux qu'il contient ; il ne supprime jamais "
                "un code absent du fichier. Un changement qui laisserait des actions orphelines (un quartier "
                "rattaché à un autre contrat que celui de ses actions) est refusé, avec la liste des actions "
                "concernées.")
    code = st.selectbox("Référentiel", REFERENTIELS, format_func=_kind_label, key="imp_ref_kind")
    df = data.q(gestion.referential, code)
    st.caption(f"{fmt.compte(len(df), 'ligne enregistrée', 'lignes enregistrées')}.")
    layout.table(df, f"referentiel_{code}", f"imp_ref_{code}", height=420)


def main() -> None:
    user = access.require_manager()
    st.title("Importer des données")
    st.markdown("Programmation, financements, indicateurs, enquêtes ou référentiels : déposez vos fichiers, "
                "lisez le rapport de vérification et l'aperçu des changements, puis validez. Chaque import est "
                "inscrit au journal et peut être annulé.")
    t1, t2, t3 = st.tabs([":material/upload_file: Importer", ":material/description: Modèles de fichiers",
                          ":material/list_alt: Référentiels"])
    with t1:
        import_tab(user)
    with t2:
        templates_tab()
    with t3:
        referentials_tab()


main()
