"""Journal des imports: every import and undo, undo of an import after confirmation, backup (gestionnaires)."""

from __future__ import annotations

import streamlit as st

from cdv_core import demo, fmt, gestion
from cdv_core.errors import CdvError
from ui import access, data, layout, require_app

require_app()


def _entry_label(row) -> str:
    return f"n° {row['N°']} — {row['Fichier']} ({row['Personne']}, {row['Date']:%d/%m/%Y %H:%M})"


def undo_section(user, journal) -> None:
    st.subheader("Annuler un import")
    candidates = journal[journal["N°"].isin(data.q(gestion.undoable_ids))]
    if candidates.empty:
        layout.empty("Aucun import ne peut être annulé.")
        return
    labels = {int(r["N°"]): _entry_label(r) for _, r in candidates.iterrows()}
    import_id = st.selectbox("Import à annuler", list(labels), format_func=labels.get, key="jr_choice")
    con = data.cursor()
    try:
        blocked = gestion.undo_blockers_text(con, import_id)
        diffs = {} if blocked else gestion.undo_preview(con, import_id)
    finally:
        con.close()
    if blocked:
        st.error(layout.texte(blocked), icon=":material/block:")  # it names files
        return
    st.markdown("**Ce que l'annulation va rétablir**")
    shown = {t: d for t, d in diffs.items() if t in gestion.SHOWN_TABLES
             and len(d.added) + len(d.changed_after) + len(d.removed)}
    if not shown:
        st.info("Cet import n'a rien changé : l'annuler sera seulement inscrit au journal.", icon=":material/info:")
    for table, d in shown.items():
        name = gestion.TABLE_LABELS.get(table, table)
        st.markdown(f"- {name} : {fmt.compte(len(d.added), 'ligne remise', 'lignes remises')}, "
                    f"{fmt.compte(len(d.changed_after), 'ramenée')} à leur valeur d'avant, "
                    f"{fmt.compte(len(d.removed), 'retirée')}")
        if len(d.added):
            with st.expander(f"{name} : lignes remises"):
                st.dataframe(d.added, hide_index=True, width="stretch", key=f"jr_add_{table}")
        if len(d.changed_after):
            with st.expander(f"{name} : valeurs rétablies (actuelle → rétablie)"):
                st.dataframe(gestion.changes_frame(table, d), hide_index=True, width="stretch", key=f"jr_chg_{table}")
        if len(d.removed):
            with st.expander(f"{name} : lignes retirées"):
                st.dataframe(d.removed, hide_index=True, width="stretch", key=f"jr_del_{table}")
    confirm = st.checkbox(f"Je confirme l'annulation de l'import n° {import_id}", key=f"jr_confirm_{import_id}")
    if st.button("Annuler cet import", type="primary", icon=":material/undo:", disabled=not confirm,
                 key="jr_undo"):
        try:
            result = gestion.undo(data.base(), import_id, user)
        except CdvError as exc:
            st.error(layout.texte(exc.message), icon=":material/block:")
            return
        st.session_state["jr_done"] = (f"Import n° {import_id} annulé (opération n° {result.import_id} du journal) : "
                                       "les données d'avant sont rétablies sur toutes les pages.")
        st.rerun()


def backup_section(user) -> None:
    st.subheader("Sauvegarde")
    path = demo.database_path()
    target = gestion.backup_dir(path)
    st.markdown(f"Une sauvegarde est une copie complète de la base (données, référentiels, journal), écrite dans "
                f"`{target}`. Pour restaurer une sauvegarde, arrêtez l'application puis lancez "
                "`python -m cdv_core restore` (voir le README).")
    if st.button("Sauvegarder maintenant", icon=":material/save:", key="jr_backup"):
        try:
            saved = gestion.backup_now(data.base(), path, target, user)
        except CdvError as exc:
            st.error(layout.texte(exc.message), icon=":material/error:")
            return
        st.session_state["jr_backup_file"] = str(saved)
    saved = st.session_state.get("jr_backup_file")
    if saved:
        st.success(f"Sauvegarde enregistrée : {saved}", icon=":material/check_circle:")
        with open(saved, "rb") as fh:
            st.download_button("Télécharger la sauvegarde", fh.read(), file_name=saved.rsplit("/", 1)[-1],
                               mime="application/octet-stream", icon=":material/download:", key="jr_backup_dl")


def main() -> None:
    user = access.require_manager()
    done = st.session_state.pop("jr_done", None)
    journal = data.q(gestion.journal_view)
    n = len(journal)
    st.title(f"Journal des imports : {fmt.compte(n, 'opération enregistrée', 'opérations enregistrées')}")
    if done:
        st.success(done, icon=":material/check_circle:")
    if n == 0:
        layout.empty("Aucun import n'a encore été fait.")
    else:
        layout.table(journal, "journal_des_imports", "jr_journal", column_config={
            "Date": st.column_config.DatetimeColumn("Date", format="DD/MM/YYYY HH:mm"),
            "N°": st.column_config.NumberColumn("N°", format="%d"),
        }, height=None if n <= 10 else 420)
    st.divider()
    left, right = st.columns([3, 2], gap="large")
    with left:
        undo_section(user, journal)
    with right:
        backup_section(user)
    st.divider()
    access_section()


def access_section() -> None:
    st.subheader("Séances, vues, sauvegardes et connexions")
    layout.note("Qui a enregistré ou supprimé une séance ou une vue, sauvegardé ou restauré la base, et les "
                "tentatives de connexion (réussies ou non) : les 500 dernières opérations.")
    con = data.cursor()
    try:
        df = gestion.access_journal(con)
    finally:
        con.close()
    if df.empty:
        layout.empty("Aucune opération de ce type n'a encore été faite.")
        return
    st.dataframe(df, hide_index=True, width="stretch", key="jr_acces", height="content" if len(df) <= 10 else 320,
                 column_config={"Date": st.column_config.DatetimeColumn("Date", format="DD/MM/YYYY HH:mm:ss")})


main()
