"""The script layout.setup() puts in every page survives Streamlit's sanitiser (DOMPurify).

DOMPurify drops a script element whose text holds something that looks like a tag (`<div`, `</`, `<!`), even in
a comment: the page then silently stays in English (`lang="en"`), upload texts untranslated, map buttons unnamed.
"""

from __future__ import annotations

import re

from ui import layout


def _script() -> str:
    html = layout.FRENCH_JS % {"limit": 20}
    return html.split("<script>", 1)[1].rsplit("</script>", 1)[0]


def test_the_page_script_holds_no_tag_like_text():
    assert re.findall(r"<[/\w!]", _script()) == []


def test_the_page_script_names_the_map_controls_in_french():
    script = _script()
    for name in ("Zoomer sur la carte", "Dézoomer la carte", "Plein écran"):
        assert name in script


def test_the_scroll_script_holds_no_tag_like_text():
    html = layout.SCROLL_JS % {"id": "cdv-fiche", "id_js": '"cdv-fiche"', "nonce": "QN06229M"}
    script = html.split("<script>", 1)[1].rsplit("</script>", 1)[0]
    assert re.findall(r"<[/\w!]", script) == []
