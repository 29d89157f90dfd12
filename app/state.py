"""Every session-state key of the app, in one place.

Two kinds of keys:

* :class:`StateKey` — a value the app keeps between reruns of one session (typed get/set/pop);
* :class:`W` — keys of widgets (Streamlit stores a widget's value under its key).

Pages never write a literal session-state key; they use these names, so a key cannot be
misspelt in one place and a search shows every reader and writer.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Generic, TypeVar

import streamlit as st

T = TypeVar("T")


@dataclass(frozen=True)
class StateKey(Generic[T]):
    """A typed session-state entry of one session."""

    name: str

    def get(self, default: T | None = None) -> T | None:
        return st.session_state.get(self.name, default)

    def set(self, value: T) -> None:
        st.session_state[self.name] = value

    def pop(self, default: T | None = None) -> T | None:
        return st.session_state.pop(self.name, default)

    def present(self) -> bool:
        return self.name in st.session_state


# --- the study area -----------------------------------------------------------------------
AREA_DIR: StateKey[str] = StateKey("area_dir")
"""Folder of the active study area (absent: the demo town)."""
AREA_ERROR: StateKey[str] = StateKey("area_error")
"""Dutch message of the last failed attempt to choose a study area (shown in the sidebar)."""

# --- Kaart per wijk -------------------------------------------------------------------------
KAART_LAST_CLICK: StateKey[str] = StateKey("_kaart_last_click")
"""Wijk code of the last map click that was acted upon (a click is acted upon once)."""

# --- Participatie -------------------------------------------------------------------------
SESSION_UID: StateKey[str] = StateKey("session_uid")
"""Random id of this browser session (stored with remarks, never shown)."""
CLEAR_REMARK: StateKey[bool] = StateKey("_clear_remark")
FLASH: StateKey[str] = StateKey("_flash")
FACILITATOR_OK: StateKey[bool] = StateKey("facilitator_ok")
FACILITATOR_SEEN: StateKey[float] = StateKey("facilitator_seen")
"""Monotonic time of the facilitator's last action (idle timeout)."""
PIN_MESSAGE: StateKey[str] = StateKey("_pin_message")


def pin_key(wijk_code: str) -> StateKey[tuple[float, float]]:
    """The resident's chosen point (lat, lon) in one wijk."""
    return StateKey(f"pin_{wijk_code}")


def seen_click_key(wijk_code: str) -> StateKey[tuple[float, float]]:
    """The last map click already turned into a point in one wijk (a click is used once)."""
    return StateKey(f"_seen_pin_{wijk_code}")


# --- Screening ----------------------------------------------------------------------------
SCREENING_RESULT: StateKey[tuple[str, Any]] = StateKey("screening_result")
"""(content key, ScreeningResult) of the last screening of this session."""


class W:
    """Widget keys."""

    AREA_MODE = "area_mode"
    AREA_FOLDER = "area_folder_input"
    AREA_FOLDER_BTN = "area_folder_btn"
    AREA_PLACE = "area_place_input"
    AREA_PLACE_BTN = "area_place_btn"
    AREA_OSM_UPLOAD = "area_osm_upload"
    AREA_OSM_BTN = "area_osm_btn"
    CLEAR_CACHES = "clear_caches_btn"

    KAART_LAYERS = "kaart_lagen"
    KAART_INDICATORS = "kaart_indicatorlagen"
    KAART_STOP_COL = "kaart_stop_col"
    KAART_PROFILE = "kaart_profile"
    KAART_WIJK = "kaart_wijk"
    KAART_COMPARE = "kaart_vergelijk"

    PART_WIJK = "part_wijk"
    REMARK_TEXT = "remark_text"
    REMARK_CATEGORY = "remark_category"
    FACILITATOR_TOGGLE = "facilitator_toggle"
    FACILITATOR_PIN = "facilitator_pin_input"
    FACILITATOR_UNLOCK = "facilitator_unlock"
    FACILITATOR_LOCK = "facilitator_lock"
    MOD_ID = "mod_id"
    MOD_NOTE = "mod_note"
    MOD_BTN = "mod_btn"
    EXPORT_HIDDEN = "exp_hidden"

    SCREENING_SOURCE = "screening_bron"
    SCREENING_UPLOAD = "screening_upload"
    SCREENING_RUN = "screening_run"
    SCREENING_ZONE = "screening_zone"

    TOETS_SOURCE = "toets_bron"
    TOETS_UPLOAD = "toets_upload"

    EXPORT_LAYER = "export_layer"
    EXPORT_CRS = "export_crs"
    EXPORT_DOWNLOAD = "export_download"

    @staticmethod
    def checklist(item: str) -> str:
        return f"chk_{item}"

    @staticmethod
    def toets_column(design: str, column: str) -> str:
        return f"toets_map_{design}_{column}"

    @staticmethod
    def export_format(kind: str) -> str:
        return f"export_fmt_{kind}"
