"""The year a page shows and the year it is compared with: two select boxes beside the headline, kept in the
address (`?annee=2021&reference=2018`), offered from the page's `*_annees` section (cdv_core decides which years
and which defaults)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from cdv_core.filters import Filtres
from ui import filters, layout, show, url
from ui.data import section


@dataclass
class Annees:
    head: Any              # the column where the page writes its headline
    annee: int
    annee_ref: int | None  # None when the page compares nothing


def choisir(f: Filtres, type_annees: str, prefix: str, reference: bool = True) -> Annees | None:
    """Draw the year pickers of a page; None when the page has nothing to show (its title and the sentence
    saying why are then drawn)."""
    ctx = section(type_annees, f)
    if ctx.vide:
        st.title(show.texte_titre(ctx.titre))  # a headline may quote data
        layout.filters_line(filters.summary(f))
        layout.empty(ctx.vide)
        return None
    years = ctx.params["annees"]
    if reference:
        head, c1, c2 = st.columns([4, 1, 1], vertical_alignment="bottom")
    else:
        head, c1 = st.columns([5, 1], vertical_alignment="bottom")
    url.seed(f"{prefix}_annee", "annee", years, ctx.params["defaut"], int)
    annee = c1.selectbox("Année affichée", years, key=f"{prefix}_annee")
    annee_ref = None
    if reference:
        refs = section(type_annees, f, annee=annee).params
        url.seed(f"{prefix}_ref", "reference", refs["references"], refs["annee_ref"], int)
        annee_ref = c2.selectbox("Comparer à", refs["references"], key=f"{prefix}_ref")
        url.keep("reference", annee_ref, refs["annee_ref"])
    url.keep("annee", annee, ctx.params["defaut"])
    return Annees(head, annee, annee_ref)
