"""Shared page furniture: styles, demo banner, headline figures, chart-with-table blocks, downloads."""

from __future__ import annotations

import re

import pandas as pd
import streamlit as st

from cdv_core import exports, fmt

SPLIT_NOTE = ("Montants par quartier : une action menée dans plusieurs quartiers (ou sur tout le contrat) est "
              "répartie à parts égales entre eux, si bien que la somme des quartiers égale le total.")

# Beyond this many bars a chart is no longer readable on a screen: charts show the first ones, tables all.
MAX_BARS = 25

CSS = """
<style>
/* Legible from the back of a meeting room */
h1 { font-size: 2.3rem !important; line-height: 1.2 !important; }
h2 { font-size: 1.65rem !important; }
h3 { font-size: 1.3rem !important; }
[data-testid="stMetricValue"] { font-size: clamp(1.45rem, 1.75vw, 2.4rem) !important; font-weight: 700; }
[data-testid="stMetricValue"] > div { overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricLabel"] p { font-size: 1.05rem !important; white-space: normal !important; }
[data-testid="stMetricDelta"] { max-width: 100% !important; height: auto !important; }
[data-testid="stMetricDelta"] div, [data-testid="stMetricDelta"] p {
  white-space: normal !important; overflow: visible !important; text-overflow: clip !important; }
[data-testid="stMetricDelta"] { font-size: 1.05rem !important; }
[data-testid="stMetric"] { background: #f4f6fb; border-radius: 10px; padding: 12px 14px; }
.cdv-banner { background: #fff4d6; border-left: 6px solid #b34000; padding: 8px 16px; border-radius: 6px;
              font-size: 1.05rem; margin-bottom: 0.6rem; }
.cdv-filters { color: #3a3a3a; font-size: 1rem; margin: -0.4rem 0 0.8rem 0; }
.cdv-note { color: #555; font-size: 0.95rem; }
.block-container { padding-top: 2.2rem; max-width: 1800px; }
/* Streamlit's main menu is in English: hidden (the app's own links do what it offers). */
[data-testid="stMainMenu"] { display: none !important; }
/* A chart's toolbar keeps "download as image" and "full screen". Streamlit's "show data" (the query's raw columns:
   codes, unformatted numbers; the section's « Tableau » tab shows the same figures in French) and "copy the
   Vega-Lite spec" (a developer's tool) are hidden. */
[data-testid="stElementToolbarButton"]:has(button[aria-label="Show data"]),
[data-testid="stElementToolbarButton"]:has(button[aria-label="Afficher les données"]),
[data-testid="stElementToolbarButton"]:has(button[aria-label="Copy Vega-Lite spec"]),
[data-testid="stElementToolbarButton"]:has(button[aria-label="Copier la définition du graphique"]) {
  display: none !important; }
/* Keyboard focus always visible (WCAG 2.4.7). */
a:focus-visible, button:focus-visible, [role="button"]:focus-visible, [role="tab"]:focus-visible,
input:focus-visible, [tabindex]:focus-visible, summary:focus-visible {
  outline: 3px solid #000091 !important; outline-offset: 2px !important; }
@page { size: A4 landscape; margin: 10mm; }
@media print {
  [data-testid="stSidebar"], [data-testid="stHeader"], [data-testid="stToolbar"], .stDownloadButton,
  [data-testid="stBaseButton-secondary"] { display: none !important; }
  .block-container { max-width: 100% !important; padding: 0 !important; }
  /* Charts keep the width they had on screen: lay the page out as wide as a laptop screen, scaled down. */
  .stApp { zoom: 0.72; }
  /* Keep a chart or a figure whole, but let long sections flow (no half-empty pages). */
  [data-testid="stVegaLiteChart"], [data-testid="stMetric"], [data-testid="stDeckGlJsonChart"] {
    break-inside: avoid; }
}
</style>
"""


# French in what Streamlit draws itself: the page's language (`<html lang="fr">`, read by screen readers and
# browsers' translation offers) and the upload widget's English instructions, with the limit of
# `server.maxUploadSize`. Kept in place by an observer, as Streamlit redraws its widgets.
FRENCH_JS = """
<script>
(() => {
  const limit = %(limit)s;
  const words = [
    [/^Drag and drop files? here$/, 'Glissez-déposez un fichier ici'],
    [/^Upload$/, 'Choisir un fichier'],
    [/^Browse files$/, 'Parcourir'],
    [/^Limit \\d+\\s?[MG]B per file/, limit + ' Mo au plus par fichier'],
    [/^\\d+\\s?[MG]B per file/, limit + ' Mo au plus par fichier'],
  ];
  // The address first asked for (Streamlit rewrites it to the main page's when it knows no such page).
  const asked = new URL((performance.getEntriesByType('navigation')[0] || {}).name || location.href).pathname;
  const overview = /\\/vue-ensemble\\/?$/.test(asked);
  // Every text under `root` that `translate` knows (it returns the French text, or nothing) is replaced in place.
  const retext = (root, translate) => {
    const walker = document.createTreeWalker(root, NodeFilter.SHOW_TEXT);
    let node;
    while ((node = walker.nextNode())) {
      const text = node.nodeValue.trim();
      const fr = translate(text);
      if (fr !== undefined && fr !== text) node.nodeValue = fr;
    }
  };
  // The same for the attributes `attrs` of `el` (`translate` also gets the attribute's name).
  const reattr = (el, attrs, translate) => {
    for (const attr of attrs) {
      const value = el.getAttribute(attr);
      const fr = value && translate(value, attr);
      if (fr && fr !== value) el.setAttribute(attr, fr);
    }
  };
  const notFound = () => {
    document.querySelectorAll('[role="dialog"]').forEach(dlg => {
      if (dlg.dataset.cdv || !/Page not found/.test(dlg.textContent)) return;
      dlg.dataset.cdv = 1;
      if (overview) {  // the overview is the main page: /vue-ensemble shows it, no message
        const close = dlg.querySelector('button');
        if (close) close.click();
        return;
      }
      retext(dlg, t => {
        if (t === 'Page not found') return 'Page introuvable ou réservée';
        if (/does not seem to exist/.test(t)) return "Cette adresse ne correspond à aucune page que "
          + "vous pouvez ouvrir. Si elle est réservée aux gestionnaires, connectez-vous dans la barre latérale "
          + "(« Se connecter ») puis rouvrez le lien. En attendant, voici la vue d'ensemble.";
      });
    });
  };
  // Names in French for the controls Streamlit draws (map zoom, full screen) and a sidebar menu whose lists
  // screen readers can read (Streamlit puts each section's links in a div inside one list).
  // No tag written in this script, not even in a comment: DOMPurify drops a script whose text holds one.
  const names = [
    ['button.mapboxgl-ctrl-zoom-in', 'Zoomer sur la carte'],
    ['button.mapboxgl-ctrl-zoom-out', 'Dézoomer la carte'],
    ['button.mapboxgl-ctrl-attrib-button', 'Afficher les crédits de la carte'],
    ['canvas.mapboxgl-canvas', 'Fond de carte'],
    ['a.mapboxgl-ctrl-logo', 'Logo Mapbox'],
  ];
  // Streamlit's English in names for screen readers, placeholders and the tooltips of its buttons (a chart's or a
  // table's toolbar, a help icon, a list's buttons), and in its lists' own lines ("Select 2 matches").
  const said = new Map([
    ['Fullscreen', 'Plein écran'],
    ['Close fullscreen', 'Quitter le plein écran'],
    ['Sidebar', 'Barre latérale'],
    ['Collapse sidebar', 'Replier la barre latérale'],
    ['Expand sidebar', 'Déplier la barre latérale'],
    ['App pages', 'Pages du tableau de bord'],
    ['Main menu', 'Menu principal'],
    ['Link to heading', 'Lien vers ce titre'],
    ['file upload', 'Choisir un fichier'],
    ['Show data', 'Afficher les données'],
    ['Download as PNG', 'Télécharger en image (PNG)'],
    ['Copy Vega-Lite spec', 'Copier la définition du graphique'],
    ['Show/hide columns', 'Afficher ou masquer des colonnes'],
    ['Download as CSV', 'Télécharger en CSV'],
    ['Search', 'Rechercher'],
    ['Open', 'Ouvrir la liste'],
    ['Clear all', 'Tout effacer'],
    ['Selected values', 'Valeurs choisies'],
    ['Dismiss', 'Fermer'],
    ['Close', 'Fermer'],
    ['Choose an option', 'Choisir une option'],
    ['Choose options', 'Choisir des options'],
    ['Choose date', 'Choisir une date'],
    ['Next month', 'Mois suivant'],
    ['Previous month', 'Mois précédent'],
  ]);
  const saidFr = t => {
    const fr = said.get(t);
    if (fr !== undefined) return fr;
    let m = /^Help for (.+)$/.exec(t);
    if (m) return 'Aide : ' + m[1];
    m = /^Remove (.+)$/.exec(t);
    if (m) return 'Retirer ' + m[1];
    m = /^(.+) — (start|end)$/.exec(t);  // a range slider's two handles
    if (m) return m[1] + (m[2] === 'start' ? ' — début' : ' — fin');
    m = /^(day|month|year), (.+)$/.exec(t);  // a date's fields
    if (m) return {day: 'jour', month: 'mois', year: 'année'}[m[1]] + ', ' + m[2];
    m = /^Choose date, (.+)$/.exec(t);
    if (m) return 'Choisir une date, ' + m[1];
    m = /^(\\d+) – (\\w+)$/.exec(t);  // a month field's value: "12 – December"
    if (m && MONTHS.includes(m[2])) return m[1] + ' – ' + MOIS[MONTHS.indexOf(m[2])];
    m = /^Shortcut (.+)$/.exec(t);  // a button's keyboard shortcut
    if (m) return 'Raccourci : ' + ({PageDown: 'page suivante', PageUp: 'page précédente'}[m[1]] || m[1]);
    if (t === 'Use arrow keys to navigate dates. Enter to select. Escape to close.')
      return 'Flèches pour changer de jour, Entrée pour choisir, Échap pour fermer.';
  };
  const MONTHS = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October',
                  'November', 'December'];
  const MOIS = ['janvier', 'février', 'mars', 'avril', 'mai', 'juin', 'juillet', 'août', 'septembre', 'octobre',
                'novembre', 'décembre'];
  // A list's own lines only (its other lines are data: a funder, a quartier).
  const listFr = t => {
    if (t === 'No results') return 'Aucun résultat';
    if (t === 'Select 1 match') return 'Sélectionner le seul résultat';
    const m = /^Select (\\d+) matches$/.exec(t);
    if (m) return 'Sélectionner les ' + m[1] + ' résultats';
  };
  const streamlitWords = () => {
    document.querySelectorAll('[aria-label], input[placeholder], [aria-valuetext]')
      .forEach(el => reattr(el, ['aria-label', 'placeholder', 'aria-valuetext'], saidFr));
    // A Material icon beside its text ("bar_chart icon" for a screen reader): decorative.
    document.querySelectorAll('span[role="img"][translate="no"][aria-label$=" icon"]').forEach(el => {
      el.removeAttribute('aria-label');
      el.setAttribute('aria-hidden', 'true');
    });
    document.querySelectorAll('[data-testid="stTooltipContent"], [data-testid="stDateInputCalendar"]')
      .forEach(root => retext(root, saidFr));
    document.querySelectorAll('[role="listbox"]').forEach(root => retext(root, listFr));
  };
  const a11y = () => {
    document.querySelectorAll('[data-testid="stSkipToContent"]').forEach(a => {
      const t = a.firstChild;
      if (t && t.nodeType === 3 && t.nodeValue !== 'Aller au contenu principal') t.nodeValue = 'Aller au contenu principal';
    });
    for (const [sel, name] of names) {
      document.querySelectorAll(sel).forEach(el => {
        if (el.getAttribute('aria-label') !== name) el.setAttribute('aria-label', name);
        if (el.title && el.title !== name) el.title = name;
      });
    }
    // A chart's frame (Vega's own ARIA texts, English, are turned off in the charts' config): a "graphique".
    document.querySelectorAll('[data-testid="stVegaLiteChart"] g[aria-roledescription$="mark container"]')
      .forEach(g => g.setAttribute('aria-roledescription', g.classList.contains('root') ? 'graphique' : 'groupe'));
    document.querySelectorAll('[data-testid="stVegaLiteChart"][aria-roledescription="visualization"]')
      .forEach(el => el.setAttribute('aria-roledescription', 'graphique'));
    document.querySelectorAll('ul[data-testid="stSidebarNavItems"]').forEach(ul => {
      const groups = [...ul.children].filter(c => c.tagName === 'DIV' && c.querySelector(':scope > li'));
      if (!groups.length) return;
      if (ul.getAttribute('role') !== 'none') ul.setAttribute('role', 'none');
      groups.forEach(g => {
        const head = g.querySelector(':scope > header');
        if (g.getAttribute('role') !== 'list') g.setAttribute('role', 'list');
        if (head) {
          const label = head.textContent.replace(/(expand_more|expand_less|chevron_right)/g, '').trim();
          if (g.getAttribute('aria-label') !== label) g.setAttribute('aria-label', label);
          if (head.getAttribute('aria-hidden') !== 'true') head.setAttribute('aria-hidden', 'true');
        }
      });
    });
  };
  // The menus Streamlit opens on a table (a column's menu, its statistics and number formats, the columns shown)
  // and the tooltip of a column's histogram. Exact texts only: a table's own values are left as they are.
  const tableWords = new Map([
    ['Sort ascending', 'Trier par ordre croissant'], ['Sort descending', 'Trier par ordre décroissant'],
    ['Statistics', 'Statistiques'], ['Autosize', 'Ajuster la largeur'], ['Pin column', 'Figer la colonne'],
    ['Unpin column', 'Libérer la colonne'], ['Hide column', 'Masquer la colonne'],
    ['Dataframe column menu', 'Menu de la colonne'], ['Copy column name', 'Copier le nom de la colonne'],
    ['Select all', 'Tout sélectionner'],
    ['Automatic', 'Automatique'], ['Localized', 'Selon la langue du navigateur'], ['Plain', 'Sans séparateur'],
    ['Compact', 'Compact'], ['Dollar', 'Dollar'], ['Euro', 'Euro'], ['Yen', 'Yen'], ['Percent', 'Pourcentage'],
    ['Scientific', 'Scientifique'], ['Accounting', 'Comptable'], ['Duration', 'Durée'],
    ['Distance', 'Écart à aujourd’hui'], ['Calendar', 'Calendrier'],
    ['Values', 'Valeurs'], ['Empty', 'Vides'], ['Distinct', 'Distinctes'], ['Minimum length', 'Longueur minimale'],
    ['Maximum length', 'Longueur maximale'], ['Average length', 'Longueur moyenne'], ['Average', 'Moyenne'],
    ['Median', 'Médiane'], ['25th percentile', 'Premier quartile'], ['75th percentile', 'Troisième quartile'],
    ['Minimum', 'Minimum'], ['Maximum', 'Maximum'], ['Standard deviation', 'Écart type'], ['Sum', 'Somme'],
    ['Count', 'Nombre'], ['Range', 'Intervalle'], ['True', 'Vrai'], ['False', 'Faux'], ['No data', 'Aucune donnée'],
    ['Based on sample', 'Sur un échantillon des lignes'], ['Vega visualization', 'Histogramme des valeurs'],
  ]);
  // What the icon beside a column's name says of its values (its `title` only: the icons' own names, such as
  // "list" or "link", are words drawn as icons and must stay as they are).
  const kinds = new Map([
    ['text', 'texte'], ['number', 'nombre'], ['checkbox', 'case à cocher'], ['date', 'date'],
    ['datetime', 'date et heure'], ['time', 'heure'], ['link', 'lien'], ['list', 'liste'], ['object', 'objet'],
    ['progress', 'barre de progression'], ['selectbox', 'liste de choix'], ['image', 'image'], ['json', 'JSON'],
  ]);
  const chartNames = [
    [/^Top values frequency chart/, 'Valeurs les plus fréquentes'], [/^Distribution histogram/, 'Histogramme'],
    [/^True\\/false distribution chart/, 'Répartition vrai / faux'],
  ];
  const tableMenus = ['stDataFrameColumnMenu', 'stDataFrameStatisticsMenu', 'stDataFrameColumnFormattingMenu',
    'stDataFrameColumnVisibilityMenu'].map(t => `[data-testid="${t}"]`).join(', ');
  const tables = () => {
    document.querySelectorAll(tableMenus).forEach(menu => {
      retext(menu, t => tableWords.get(t));
      menu.querySelectorAll('[aria-label], [title]').forEach(el => reattr(el, ['aria-label', 'title'], (value, attr) => {
        let fr = tableWords.get(value) || (attr === 'title' ? kinds.get(value) : undefined);
        for (const [re, name] of chartNames) if (re.test(value)) fr = value.replace(re, name);
        return fr;
      }));
    });
    // A column's histogram: Vega's English texts for screen readers replaced by one name (its figures are beside it).
    document.querySelectorAll('[data-testid="stDataFrameStatisticsMenu"] svg').forEach(svg => {
      if (svg.getAttribute('aria-label') !== 'Histogramme des valeurs') svg.setAttribute('aria-label', 'Histogramme des valeurs');
      [...svg.children].forEach(c => { if (c.getAttribute('aria-hidden') !== 'true') c.setAttribute('aria-hidden', 'true'); });
    });
    document.querySelectorAll('#vg-tooltip-element td.key').forEach(td => {
      if (td.textContent === 'Range' || td.textContent === 'Count') td.textContent = tableWords.get(td.textContent);
    });
  };
  const fix = () => {
    if (document.documentElement.lang !== 'fr') document.documentElement.lang = 'fr';
    notFound();
    a11y();
    streamlitWords();
    tables();
    document.querySelectorAll('[data-testid="stFileUploader"]').forEach(box => retext(box, t => {
      for (const [re, fr] of words) if (re.test(t)) return t.replace(re, fr);
    }));
  };
  fix();
  if (!window.__cdvFrench) {
    window.__cdvFrench = new MutationObserver(fix);
    window.__cdvFrench.observe(document.body, {childList: true, subtree: true, characterData: true});
  }
})();
</script>
"""


def setup() -> None:
    """Styles common to every page, and French in Streamlit's own texts."""
    st.markdown(CSS, unsafe_allow_html=True)
    limit = int(st.get_option("server.maxUploadSize") or 200)
    st.html(FRENCH_JS % {"limit": limit}, unsafe_allow_javascript=True)


SCROLL_JS = """
<script>
(() => {
  // Bring the block marked %(id)s to the top of the window, again while the charts above it finish drawing
  // (their height moves it), unless the person scrolls first. Request %(nonce)s.
  let stop = false;
  const cancel = () => { stop = true; };
  ['wheel', 'touchmove', 'keydown', 'mousedown'].forEach(e => window.addEventListener(e, cancel, {once: true, capture: true}));
  const go = () => {
    if (stop) return;
    const el = document.getElementById(%(id_js)s);
    if (el) el.scrollIntoView({block: 'start'});
  };
  [50, 400, 900, 1600, 2600, 4000].forEach(t => setTimeout(go, t));
  setTimeout(() => ['wheel', 'touchmove', 'keydown', 'mousedown'].forEach(e => window.removeEventListener(e, cancel, {capture: true})), 4500);
})();
</script>
"""


def anchor(anchor_id: str) -> None:
    """An invisible mark on the page that `scroll_to` can bring into view."""
    st.markdown(f'<div id="{anchor_id}" style="scroll-margin-top: 4.5rem"></div>', unsafe_allow_html=True)


def scroll_to(anchor_id: str, nonce: str) -> None:
    """Scroll the window to the mark `anchor_id` (see `anchor`) once this run is drawn; `nonce` names the request
    (a new value scrolls again)."""
    import json

    st.html(SCROLL_JS % {"id": anchor_id, "id_js": json.dumps(anchor_id), "nonce": nonce},
            unsafe_allow_javascript=True)


def demo_banner() -> None:
    st.markdown(
        '<div class="cdv-banner" role="note"><b>Données de démonstration</b> — territoire de la CA de '
        "Lens-Liévin : communes, quartiers et postes adultes-relais/FONJEP réels ; actions, montants et "
        "enquêtes inventés mais vraisemblables ; suivi des engagements illustratif. Ne pas citer.</div>",
        unsafe_allow_html=True,
    )


def filters_line(text: str) -> None:
    """The active filters, under the title, so a screenshot or a projection says what it shows."""
    st.markdown(f'<div class="cdv-filters">{_escape(text)}</div>', unsafe_allow_html=True)


def _escape(text: str) -> str:
    """Text for an HTML block: entities escaped, and no blank line (which would end the block and let the rest
    be read as Markdown)."""
    text = str(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return " ".join(text.split("\n")) if "\n" in text else text


# Every character Markdown, Streamlit's directives (:color[…], :material/…:), LaTeX ($…$) or HTML may read.
_MARKDOWN_SPECIALS = "\\`*_{}[]()<#+-.!|~$:=&\""


def texte(value: object) -> str:
    """Data (a label, a name, a title, an answer) as literal text in any Streamlit element that renders Markdown
    (st.markdown, st.title/subheader, st.caption, st.info, metric labels, tab and expander labels, st.table
    cells): every Markdown, LaTeX and HTML character is backslash-escaped, line breaks become spaces."""
    text = " ".join(str(value).split("\n")) if value is not None else ""
    # `>` is shown with its backslash by Streamlit's Markdown: escaped only where it would start a quote
    text = "".join("\\" + ch if ch in _MARKDOWN_SPECIALS else ch for ch in text)
    return "\\" + text if text.lstrip().startswith(">") else text


def textes(df: pd.DataFrame) -> pd.DataFrame:
    """A table for st.table (which renders its cells and headers as Markdown): text cells escaped."""
    out = df.copy()
    for col in out.columns:
        if out[col].dtype == object or pd.api.types.is_string_dtype(out[col]):
            out[col] = out[col].map(lambda v: texte(v) if isinstance(v, str) else v)
    out.columns = [texte(c) if isinstance(c, str) else c for c in out.columns]
    out.index = _texte_index(out.index)
    return out


def _texte_index(index: pd.Index) -> pd.Index:
    """The index's text labels escaped (st.table shows them as its first column), its name(s) kept: the heading
    of that column."""
    if isinstance(index, pd.MultiIndex):
        return index.set_levels([_texte_index(level) for level in index.levels])
    if index.dtype == object or pd.api.types.is_string_dtype(index):
        return pd.Index([texte(v) if isinstance(v, str) else v for v in index], name=index.name, dtype=object)
    return index


def note(text: str) -> None:
    st.markdown(f'<div class="cdv-note">{_escape(text)}</div>', unsafe_allow_html=True)


def empty(message: str) -> None:
    """A sentence instead of an empty chart (shown literally: it may quote data)."""
    st.info(texte(message), icon=":material/info:")


def slug(text: str) -> str:
    text = re.sub(r"[^\w-]+", "_", text.lower(), flags=re.UNICODE)
    return text.strip("_")[:60] or "tableau"


def downloads(df: pd.DataFrame, name: str, key: str) -> None:
    """CSV (French Excel) and XLSX downloads of a table, built only when clicked (no rerun)."""
    c1, c2, _ = st.columns([1, 1, 3])
    c1.download_button("CSV", lambda: exports.to_csv_bytes(df), file_name=f"{slug(name)}.csv", mime="text/csv",
                       icon=":material/download:", key=f"csv_{key}", width="stretch", on_click="ignore")
    c2.download_button("Excel", lambda: exports.to_xlsx_bytes({name: df}), file_name=f"{slug(name)}.xlsx",
                       mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                       key=f"xlsx_{key}", width="stretch", icon=":material/download:", on_click="ignore")


def table(df: pd.DataFrame, name: str, key: str, column_config: dict | None = None, height: int | None = None,
          formats: dict[str, str] | None = None, **kwargs):
    """A table with its downloads; numbers written in French (`formats`: the section's column kinds, else guessed
    from the names), still sorted as numbers."""
    from ui import show

    event = st.dataframe(show.french(df, formats), hide_index=True, width="stretch", column_config=column_config,
                         height=height or "auto", key=f"df_{key}", **kwargs)
    downloads(df, name, key)
    return event


def chart_tabs(key: str):
    """The tabs "Graphique" and "Tableau" of a chart and its table. The table is drawn only once its tab is
    chosen (a rerun then draws it): a page opened or a filter changed sends no hidden table to the browser.
    Returns (chart tab, table tab, whether the table tab is open)."""
    t1, t2 = st.tabs([":material/bar_chart: Graphique", ":material/table: Tableau"], key=f"tabs_{key}",
                     on_change="rerun")
    return t1, t2, bool(t2.open)


def euro_column(title: str) -> st.column_config.NumberColumn:
    return st.column_config.NumberColumn(title, format="euro")


def money(value) -> str:
    return fmt.euros(value)
