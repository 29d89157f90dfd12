"""The Streamlit entry of the app: page configuration, sidebar, navigation.

``streamlit run`` this file (the installed package: ``gezondestad app``) or the repository's
``streamlit_app.py``, which calls :func:`main` too. Importing it runs nothing. Streamlit serves
the ``static/`` folder next to the main script (the app's own Leaflet): installed, that is
``gezondestad/app/static`` next to this file; in the repository, ``static/`` next to
``streamlit_app.py``.
"""

from __future__ import annotations

import logging

import streamlit as st
from gezondestad.app.pages import export, kaart, participatie, placestandard, screening, toets
from gezondestad.app.sidebar import sidebar_study_area

PAGE_CONFIG = {"page_title": "Gezonde Stad", "page_icon": ":material/park:", "layout": "wide",
               "initial_sidebar_state": "expanded"}


DUTCH_UPLOADER_CSS = """<style>
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p {
  font-size: 0 !important; }
[data-testid="stFileUploaderDropzone"] [data-testid="stBaseButton-secondary"] [data-testid="stMarkdownContainer"] p::after {
  content: "Bestand kiezen"; font-size: 0.875rem; }
[data-testid="stFileUploaderDropzoneInstructions"] span { font-size: 0 !important; }
[data-testid="stFileUploaderDropzoneInstructions"] span::after { content: "of sleep het bestand hierheen"; font-size: 0.875rem; }
</style>"""
"""Streamlit's uploader speaks English ("Upload", "50MB per file"); the limit is in our own label."""


def pages() -> list[st.Page]:
    """The app's pages, in menu order."""
    return [
        st.Page(kaart.render, title=kaart.TITLE, icon=":material/map:", url_path="kaart", default=True),
        st.Page(screening.render, title="Screening", icon=":material/checklist:", url_path="screening"),
        st.Page(toets.render, title="Toegankelijkheidstoets", icon=":material/accessible:", url_path="toets"),
        st.Page(participatie.render, title="Participatie", icon=":material/pin_drop:", url_path="participatie"),
        st.Page(placestandard.render, title="Hoe gezond is uw wijk?", icon=":material/radar:", url_path="wijkscore"),
        st.Page(export.render, title=export.TITLE, icon=":material/download:", url_path="export"),
    ]


def evening_pages() -> list[st.Page]:
    """Evening mode: every address of the app shows the evening participation map (no "page not found")."""
    out = [st.Page(participatie.render_evening, title="Participatie", url_path="avond", default=True)]
    for path in ("kaart", "screening", "toets", "participatie", "wijkscore", "export"):
        def alias() -> None:
            participatie.render_evening()

        alias.__name__ = f"avond_{path}"
        out.append(st.Page(alias, title="Participatie", url_path=path))
    return out


def main() -> None:
    """One run of the app's script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    evening = participatie.evening_requested()
    st.set_page_config(**(PAGE_CONFIG | {"initial_sidebar_state": "collapsed"} if evening else PAGE_CONFIG))
    if evening:  # residents at the kiosk: the participation map only, no sidebar, no other pages
        st.navigation(evening_pages(), position="hidden").run()
        return
    st.html(DUTCH_UPLOADER_CSS)
    nav = st.navigation(pages())
    sidebar_study_area()
    nav.run()


if __name__ == "__main__":
    main()
