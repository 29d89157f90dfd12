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
from gezondestad.app.pages import export, kaart, participatie, screening, toets
from gezondestad.app.sidebar import sidebar_study_area

PAGE_CONFIG = {"page_title": "Gezonde Stad", "page_icon": ":material/park:", "layout": "wide",
               "initial_sidebar_state": "expanded"}


def pages() -> list[st.Page]:
    """The app's pages, in menu order."""
    return [
        st.Page(kaart.render, title=kaart.TITLE, icon=":material/map:", url_path="kaart", default=True),
        st.Page(screening.render, title="Screening", icon=":material/checklist:", url_path="screening"),
        st.Page(toets.render, title="Toegankelijkheidstoets", icon=":material/accessible:", url_path="toets"),
        st.Page(participatie.render, title="Participatie", icon=":material/pin_drop:", url_path="participatie"),
        st.Page(export.render, title=export.TITLE, icon=":material/download:", url_path="export"),
    ]


def main() -> None:
    """One run of the app's script."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    st.set_page_config(**PAGE_CONFIG)
    nav = st.navigation(pages())
    sidebar_study_area()
    nav.run()


if __name__ == "__main__":
    main()
