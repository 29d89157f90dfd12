"""Gezonde Stad — the Streamlit app (start with ``streamlit run streamlit_app.py``; it opens on the demo town).

The app lives in ``app/`` (installed: ``gezondestad.app``): ``entry.py`` (page configuration,
sidebar, navigation), one module per page in ``app/pages/``, and small modules for session state
(``state.py``), cached computation (``compute.py``), maps (``maps.py``) and uploads
(``uploads.py``). This file stays next to the repository's ``static/`` folder, which Streamlit
serves for the maps (Leaflet, offline).

Environment variables
---------------------
GEZONDESTAD_DB
    SQLite file of the participation remarks (default: the per-user data folder).
GEZONDESTAD_PIN
    PIN of the facilitator ("begeleider"); also ``facilitator_pin`` in ``.streamlit/secrets.toml``.
    The default ``gezond`` must be changed before a public session.
GEZONDESTAD_CACHE
    Folder where study areas prepared from a place name or an OSM upload are cached.
"""

from __future__ import annotations

from gezondestad.app.entry import main

if __name__ == "__main__":
    main()
