"""Page "Participatie": residents put a remark on the map of their wijk; the facilitator moderates."""

from __future__ import annotations

import logging
import os
import time
import uuid
from pathlib import Path

import folium
import geopandas as gpd
import pandas as pd
import shapely
import streamlit as st
from gezondestad.app import areas, compute, draw, maps, state
from gezondestad.app.state import W
from gezondestad.app.ui import guarded, md_escape, synthetic_banner
from gezondestad.layers import participation as pt
from gezondestad.layers import placestandard, wishes
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_datetime, fmt_people
from gezondestad.model.studyarea import StudyArea
from pyproj import Transformer
from streamlit_folium import st_folium

logger = logging.getLogger(__name__)

TITLE = "Participatie: uw opmerking op de kaart"
MAX_SERVED_WAIT_S = 5.0
"""Guard waits up to this long are served by the server (honest typos); longer ones refuse the try."""
CATEGORY_COLORS: dict[str, str] = {
    "hier is het te heet": "#e53935",
    "onveilig oversteken": "#fb8c00",
    "te weinig groen": "#43a047",
    "slecht toegankelijk": "#8e24aa",
    "fietsen voelt onveilig": "#6d4c41",
    "wateroverlast": "#1e88e5",
    "plek om elkaar te ontmoeten": "#00acc1",
    "andere": "#757575",
}
PARTICIPATION_CSS = """
<style>
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stCaptionContainer"] p,
[data-testid="stMain"] [data-testid="stRadio"] label p,
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stSelectbox"] input { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stTextArea"] textarea { font-size: 1.25rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button { padding: 0.7rem 1.8rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button p { font-size: 1.35rem !important; }
</style>
"""
MODERATION_COLUMNS = {"id": "Nr.", "wijk_code": "Wijk", "category": "Onderwerp", "text": "Tekst",
                      "created_at": "Tijdstip", "hidden": "Verborgen", "moderation_note": "Moderatienota"}


def db_path() -> Path:
    return pt.default_db_path()


def facilitator_pin() -> str:
    """The facilitator PIN: GEZONDESTAD_PIN, else ``facilitator_pin`` in .streamlit/secrets.toml, else the default."""
    env = os.environ.get(pt.PIN_ENV_VAR, "").strip()
    if env:
        return env
    try:
        return str(st.secrets.get("facilitator_pin", pt.DEFAULT_PIN))
    except FileNotFoundError:  # no secrets.toml
        return pt.DEFAULT_PIN


def pin_guard(db: Path) -> pt.PinGuard:
    """The library's guard: default PIN refused unless allowed, growing delay, lockout, audit log."""
    return pt.PinGuard(db, pin=facilitator_pin())


def check_pin(db: Path, attempt: str, action: str) -> bool:
    """Try ``attempt`` through the guard (a short imposed wait is served here, on the server)."""
    guard = pin_guard(db)
    wait = guard.wait_s()
    if 0 < wait <= MAX_SERVED_WAIT_S:  # an honest typo: wait the few seconds instead of refusing
        time.sleep(wait)
    res = guard.try_unlock(attempt, session_id=f"{state.SESSION_UID.get() or ''}:{action}")
    if not res.ok:
        st.error(res.message_nl)
    return res.ok


REMARK_CRS = "EPSG:31370"
"""Remarks are stored in Lambert 72 (``x_31370``, ``y_31370``) whatever the area's own CRS."""


def to_lambert(lon: float, lat: float) -> tuple[float, float]:
    x, y = Transformer.from_crs(maps.WGS84, REMARK_CRS, always_xy=True).transform(lon, lat)
    return float(x), float(y)


def to_lonlat(x: float, y: float) -> tuple[float, float]:
    lon, lat = Transformer.from_crs(REMARK_CRS, maps.WGS84, always_xy=True).transform(x, y)
    return float(lon), float(lat)


@st.cache_data(show_spinner=False, max_entries=16)
def area_box(folder: str, stamp: str) -> list[float]:
    """Bounds of the study area in the remarks' CRS (a remark outside is refused)."""
    area = compute.load_area(folder, stamp)
    src = area.boundary if len(area.boundary) else area.wijken
    return [float(v) for v in src.to_crs(REMARK_CRS).total_bounds]


def popup_html(r: pd.Series) -> str:
    """A remark's popup (escaped by the library), its time in Brussels time."""
    return pt.remark_popup_html(r["category"], r["text"], fmt_datetime(r["created_at"]))


def wijk_map(folder: str, stamp: str, code: str, big_controls: bool = False) -> folium.Map:
    """The wijk with its streets, buildings, green and water (the map reads without internet tiles)."""
    gj, bnds = maps.wijk_geojson_and_bounds(folder, stamp, code)
    m = maps.make_map(bnds, canvas=False, big_controls=big_controls)
    ctx = maps.wijk_context_geojson(folder, stamp, code)
    if "green" in ctx:
        folium.GeoJson(ctx["green"], name="Groen", interactive=False, style_function=lambda f: {
            "color": "#4caf50", "weight": 1, "fillColor": "#a5d6a7", "fillOpacity": 0.8}).add_to(m)
    if "water" in ctx:
        folium.GeoJson(ctx["water"], name="Water", interactive=False, style_function=lambda f: {
            "color": "#5b9bd5", "weight": 3, "fillColor": "#9ecae1", "fillOpacity": 0.9}).add_to(m)
    if "buildings" in ctx:
        folium.GeoJson(ctx["buildings"], name="Gebouwen", interactive=False, style_function=lambda f: {
            "color": "#9e9e9e", "weight": 0.5, "fillColor": "#cfcfcf", "fillOpacity": 0.9}).add_to(m)
    if "streets" in ctx:
        folium.GeoJson(ctx["streets"], name="Straten", style_function=lambda f: {"color": "#757575", "weight": 2},
                       tooltip=folium.GeoJsonTooltip(fields=["name"], aliases=["Straat"])).add_to(m)
    folium.GeoJson(gj, name="Wijk", style_function=lambda f: {"color": "#1b7f4b", "weight": 4, "fillOpacity": 0.0},
                   interactive=False).add_to(m)
    return m


def remark_layer(remarks: pd.DataFrame, pin: tuple[float, float] | None) -> folium.FeatureGroup:
    """The remarks and the resident's own point, as one dynamic layer.

    They travel apart from the map itself (``feature_group_to_add``): the map widget's identity
    then depends on the wijk only, so a remark posted by someone else meanwhile does not reset
    the widget and swallow this resident's click.
    """
    fg = folium.FeatureGroup(name="Opmerkingen")
    for _, r in remarks.iterrows():
        lon, lat = to_lonlat(float(r["x_31370"]), float(r["y_31370"]))
        folium.CircleMarker(
            [lat, lon], class_name="opmerking-marker", radius=11, color="#222", weight=2, fill=True,
            fill_color=CATEGORY_COLORS.get(r["category"], "#777"), fill_opacity=0.9,
        ).add_child(maps.SafePopup(popup_html(r))).add_child(maps.SafeTooltip(str(r["category"]))).add_to(fg)
    if pin:
        folium.CircleMarker([pin[0], pin[1]], radius=14, color="#000", weight=4, fill=True, fill_color="#ffeb3b",
                            fill_opacity=1.0).add_child(maps.SafeTooltip("Uw punt")).add_to(fg)
    return fg


def take_click(out: dict | None, code: str) -> None:
    """Turn a new map click into the resident's point (a click is used once)."""
    clicked = (out or {}).get("last_clicked")
    if not clicked or clicked.get("lat") is None:
        return
    pin_k, seen_k = state.pin_key(code), state.seen_click_key(code)
    new_pin = (round(float(clicked["lat"]), 7), round(float(clicked["lng"]), 7))
    pin = pin_k.get()
    if new_pin != (tuple(pin) if pin else None) and new_pin != seen_k.get():
        pin_k.set(new_pin)
        seen_k.set(new_pin)
        st.rerun()


def remark_form(folder: str, stamp: str, area: StudyArea, db: Path, code: str, text_height_px: int = 110) -> None:
    pin_k = state.pin_key(code)
    pin = pin_k.get()
    st.markdown("**2. Kies een onderwerp en schrijf een korte opmerking.**")
    flash = state.FLASH.pop()
    if pin:
        st.caption(f"Gekozen punt: {pin[0]:.5f} N, {pin[1]:.5f} O".replace(".", ","))
    elif flash:  # here, not under the form: on a 1280x720 projector the form fills the screen
        st.markdown(f":green[**{flash}**]")  # fixed Dutch text with the remark number
    else:
        st.caption("Nog geen punt gekozen: klik eerst op de kaart.")
    if state.CLEAR_REMARK.pop(False):
        st.session_state[W.REMARK_TEXT] = ""
    with st.form("remark_form", clear_on_submit=False, border=True):
        category = st.radio("Onderwerp", pt.CATEGORIES, key=W.REMARK_CATEGORY, horizontal=True)
        text = st.text_area(f"Uw opmerking (maximaal {pt.MAX_TEXT_CHARS} tekens)", key=W.REMARK_TEXT,
                            max_chars=pt.MAX_TEXT_CHARS, height=text_height_px)
        submitted = st.form_submit_button("Opmerking plaatsen", type="primary")
    if submitted:
        if not pin:
            st.error("Klik eerst op de kaart om de plek van uw opmerking aan te duiden. Uw tekst blijft bewaard.")
        else:
            x, y = to_lambert(pin[1], pin[0])
            try:
                rid = pt.add_remark(db, area.name, code, category, text, x, y, bounds=tuple(area_box(folder, stamp)),
                                    session_id=state.SESSION_UID.get())
            except pt.ParticipationError as exc:
                st.error(f"{exc.nl} Uw tekst blijft bewaard.")
            else:
                state.FLASH.set(f"Bedankt! Uw opmerking (nr. {rid}) is opgeslagen.")
                state.CLEAR_REMARK.set(True)
                pin_k.pop()
                st.rerun()


def unlock_form(db: Path) -> bool:
    """The PIN form; True when this session is unlocked (and not idle for too long)."""
    if state.FACILITATOR_OK.get():
        if pt.is_idle(state.FACILITATOR_SEEN.get(0.0) or 0.0):
            lock(db, idle=True)
            st.info("De begeleidersmodus werd vergrendeld na een tijd zonder activiteit. Geef de PIN opnieuw.")
        else:
            state.FACILITATOR_SEEN.set(time.time())
            return True
    guard = pin_guard(db)
    if guard.default_in_force:
        st.warning("De standaard-PIN ‘gezond’ is actief" + (" (toegelaten voor een demo)." if guard.allow_default else
                   " en daarom uitgeschakeld.") + " Stel vóór een publieke sessie een eigen PIN in (omgevingsvariabele "
                   "GEZONDESTAD_PIN of facilitator_pin in .streamlit/secrets.toml).")
    pin = st.text_input("PIN van de begeleider", type="password", key=W.FACILITATOR_PIN)
    if st.button("Ontgrendelen", key=W.FACILITATOR_UNLOCK) and check_pin(db, pin, "begeleider"):
        state.FACILITATOR_OK.set(True)
        state.FACILITATOR_SEEN.set(time.time())
        st.rerun()
    return False


def lock(db: Path, idle: bool = False) -> None:
    state.FACILITATOR_OK.set(False)
    st.session_state.pop(W.FACILITATOR_PIN, None)
    pin_guard(db).lock(state.SESSION_UID.get() or "", idle=idle)


def facilitator_section(area: StudyArea, db: Path) -> None:
    """Moderation and export, behind the facilitator's PIN; switching the section off locks it again."""
    if not st.toggle("Begeleider (moderatie en export)", key=W.FACILITATOR_TOGGLE):
        if state.FACILITATOR_OK.get():
            lock(db)
        return
    if not unlock_form(db):
        return
    c1, c2, c3 = st.columns([1, 1, 2])
    if c1.button("Vergrendelen", key=W.FACILITATOR_LOCK, icon=":material/lock:"):
        lock(db)
        st.rerun()
    if c2.button("Avondmodus starten", key="evening_start", icon=":material/co_present:",
                 help="Alleen de kaart voor de inwoners, zonder zijbalk en andere pagina's; verlaten vraagt de PIN."):
        EVENING.set(True)
        st.query_params["modus"] = "avond"
        st.query_params["gebied"] = area.name  # a reload, or this address on the projector, opens this area
        EVENING_AREA_FOR.set(area.name)  # this session's area is the one meant: no lookup
        areas.remember_area(compute.areas_cache_dir(), compute.current_folder())
        st.rerun()
    if c3.button("Alle berekende resultaten opnieuw laten berekenen (caches leegmaken)", key=W.CLEAR_CACHES):
        compute.clear_all_caches()
        st.success("De caches zijn leeggemaakt; de volgende pagina rekent alles opnieuw uit.")
    moderation(area, db)


def moderation(area: StudyArea, db: Path) -> None:
    allr = pt.list_remarks(db, area_name=area.name, include_hidden=True)
    st.markdown(f"**Alle opmerkingen van {md_escape(area.name)}** ({fmt_people(len(allr))}, waarvan "
                f"{fmt_people(int(allr['hidden'].sum()))} verborgen)")
    view = allr[list(MODERATION_COLUMNS)].copy()
    view["created_at"] = view["created_at"].map(fmt_datetime)
    view["hidden"] = view["hidden"].map(lambda h: "ja" if h else "nee")
    view["moderation_note"] = view["moderation_note"].fillna("")
    st.dataframe(view.rename(columns=MODERATION_COLUMNS), hide_index=True, width="stretch")
    if len(allr):
        c1, c2 = st.columns([2, 3])
        by_id = allr.set_index("id")
        rid = c1.selectbox("Opmerking", list(allr["id"]), key=W.MOD_ID,
                           format_func=lambda i: f"nr. {i} — " + str(by_id.loc[i, "text"])[:50])
        note = c2.text_input("Reden (optioneel)", key=W.MOD_NOTE)
        is_hidden = bool(by_id.loc[rid, "hidden"])
        if st.button("Opnieuw tonen" if is_hidden else "Verbergen", key=W.MOD_BTN):
            try:
                pt.set_hidden(db, int(rid), not is_hidden, note, session_id=state.SESSION_UID.get() or "")
            except pt.ParticipationError as exc:
                st.error(exc.nl)
            else:
                st.rerun()
    inc = st.checkbox("Verborgen opmerkingen meenemen in de export", value=False, key=W.EXPORT_HIDDEN)
    d1, d2 = st.columns(2)
    d1.download_button("Download GeoPackage", data=lambda: pt.export_remarks(db, "gpkg", area.name, inc),
                       file_name="opmerkingen.gpkg", mime="application/geopackage+sqlite3", on_click="ignore",
                       key="dl_part_gpkg")
    d2.download_button("Download CSV", data=lambda: pt.export_remarks(db, "csv", area.name, inc),
                       file_name="opmerkingen.csv", mime="text/csv", on_click="ignore", key="dl_part_csv")
    st.download_button("Download wijkscores (Place Standard, CSV)", data=lambda: placestandard.export_scores(db, area.name, inc),
                       file_name="wijkscores_place_standard.csv", mime="text/csv", on_click="ignore", key="dl_part_ps")


@guarded
def render() -> None:
    folder, stamp, area = compute.current_area()
    synthetic_banner(area)
    st.markdown(PARTICIPATION_CSS, unsafe_allow_html=True)
    st.title(TITLE)
    if len(area.wijken) == 0:
        st.error("Dit studiegebied heeft geen wijken.")
        return
    if not state.SESSION_UID.present():
        state.SESSION_UID.set(uuid.uuid4().hex[:12])
    db = db_path()
    names = dict(zip(area.wijken["wijk_code"].astype(str), area.wijken["wijk_naam"].astype(str)))
    codes = list(names)
    qp = st.query_params.get("wijk")
    if qp in codes and W.PART_WIJK not in st.session_state:
        st.session_state[W.PART_WIJK] = qp
    code = st.selectbox("Over welke wijk gaat het?", codes, format_func=lambda c: f"{names[c]} ({c})", key=W.PART_WIJK)
    remarks = pt.list_remarks(db, area_name=area.name, wijk_code=code)

    st.markdown("**1. Klik op de kaart op de plek waarover u iets wilt zeggen.**")
    m = wijk_map(folder, stamp, code)
    fg = remark_layer(remarks, state.pin_key(code).get())
    out = st_folium(m, key=f"part_map_{compute.slug(folder)}_{code}", height=620, use_container_width=True,
                    returned_objects=["last_clicked"], feature_group_to_add=fg)
    take_click(out, code)
    remark_form(folder, stamp, area, db, code)

    st.markdown(f"**Opmerkingen in deze wijk ({len(remarks)})**")
    for _, r in remarks.iloc[::-1].head(30).iterrows():
        st.html(popup_html(r))
    st.divider()
    facilitator_section(area, db)


# ---------------------------------------------------------------------------------------------
# evening mode (?modus=avond): the participation map on a projector or a kiosk
# ---------------------------------------------------------------------------------------------

EVENING_CSS = """<style>
[data-testid="stSidebar"], [data-testid="stSidebarCollapsedControl"], [data-testid="stExpandSidebarButton"],
[data-testid="stHeader"], [data-testid="stToolbar"], [data-testid="stDecoration"] { display: none !important; }
[data-testid="stMainBlockContainer"] { padding: 0.6rem 1.2rem 0.6rem 1.2rem !important; max-width: 100% !important; }
[data-testid="stMain"] [data-testid="stMarkdownContainer"] p,
[data-testid="stMain"] [data-testid="stRadio"] label p,
[data-testid="stMain"] [data-testid="stWidgetLabel"] p { font-size: 1.2rem !important; }
[data-testid="stMain"] [data-testid="stRadio"] label > div:first-child { transform: scale(1.3); margin-right: 0.3rem; }
[data-testid="stMain"] [data-testid="stTextArea"] textarea { font-size: 1.3rem !important; }
[data-testid="stMain"] [data-testid="stSelectbox"] div[data-baseweb="select"] { font-size: 1.3rem !important; min-height: 3rem; }
[data-testid="stMain"] button { min-height: 3.2rem; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button { width: 100%; padding: 0.8rem 1.8rem !important; }
[data-testid="stMain"] [data-testid="stFormSubmitButton"] button p { font-size: 1.5rem !important; }
[data-testid="stMain"] iframe[title="streamlit_folium.st_folium"] {
  height: max(360px, calc(100vh - 4.6rem)) !important; }
</style>"""
"""Evening mode's page: no sidebar or header, large controls, and the map's frame as tall as the
screen minus the one line above it and the page padding (a 1920x1080 projector gets a ~1000 px map)."""
EVENING_MAP_HEIGHT_PX = 610
"""Map height given to the map widget in evening mode; the browser then stretches the frame to the
screen (EVENING_CSS) and the map fills its frame (``maps.FILL_FRAME_CSS``)."""
EVENING: state.StateKey[bool] = state.StateKey("evening_mode")
EVENING_AREA_FOR: state.StateKey[str] = state.StateKey("evening_area_for")
"""The ``gebied`` URL value this session's evening area was chosen for (chosen once per value)."""
EVENING_AREA_NOTE: state.StateKey[str] = state.StateKey("evening_area_note")
"""Dutch note shown on the evening screen (under the form) when the area asked for could not be opened."""
BADGE_DEMO = "Demostad (voorbeeld): nog geen studiegebied gekozen"
BADGE_NOT_FOUND = "Gevraagd gebied niet gevonden: zie de melding rechts"
MAP_BADGE_CSS = ("<style>#map_div::after {{ content: \"{text}\"; position: absolute; top: 12px; right: 12px; z-index: 1000; "
                 "background: #fff3cd; color: #664d03; border: 1px solid #e0c36a; border-radius: 6px; padding: 6px 12px; "
                 "font: 600 18px sans-serif; pointer-events: none; }}</style>")
"""A badge on the evening map itself (fixed Dutch text): the fallback is seen without moving the form down."""


def css_string(text: str) -> str:
    """``text`` for a CSS string: every character but letters, digits and spaces as a CSS escape."""
    return "".join(ch if ch.isascii() and (ch.isalnum() or ch == " ") else f"\\{ord(ch):x} " for ch in text)


def evening_requested() -> bool:
    """True in evening mode: asked for by ``?modus=avond``, kept for the session until the facilitator leaves it."""
    if st.query_params.get("modus") == "avond":
        EVENING.set(True)
    return bool(EVENING.get(False))


def leave_evening() -> None:
    """The facilitator's way out of evening mode (PIN)."""
    with st.expander("Begeleider"):
        pin = st.text_input("PIN van de begeleider", type="password", key="evening_pin")
        if st.button("Avondmodus verlaten", key="evening_leave"):
            if check_pin(db_path(), pin, "avondmodus verlaten"):
                EVENING.set(False)
                st.query_params.pop("modus", None)
                logger.info("evening mode left (session %s)", state.SESSION_UID.get())
                st.rerun()


def _loads(folder: str) -> bool:
    try:
        compute.load_area(folder, compute.area_stamp(folder))
    except GezondeStadError as exc:
        logger.warning("evening area %s does not load: %s", folder, exc)
        return False
    return True


def evening_area() -> None:
    """Make the evening's study area active, once per ``gebied`` value of the address.

    In order: the area named by ``?gebied=<naam>`` (its name or folder name, among the areas the
    app knows); the area this session already chose (the facilitator started evening mode in the
    app); the area used last on this server; the demo town. Falling back after an unknown name,
    or to the demo when no area was used yet, leaves a note for the screen.
    """
    asked = str(st.query_params.get("gebied", "") or "").strip()[:200]
    if EVENING_AREA_FOR.get() == asked:
        return
    EVENING_AREA_FOR.set(asked)
    cache, demo = compute.areas_cache_dir(), compute.demo_folder()
    note = ""
    if asked:
        found = areas.find_area(asked, cache, extra=[demo])
        if found and _loads(found):
            state.AREA_DIR.set(found)
            EVENING_AREA_NOTE.pop()
            return
        note = f"Het gebied ‘{asked}’ werd niet gevonden tussen de voorbereide gebieden. "
    if state.AREA_DIR.present():
        folder = state.AREA_DIR.get() or demo
        if note:
            note += f"Het gebied van deze sessie (‘{areas.area_name(folder)}’) wordt getoond."
    else:
        last = next((f for f in areas.recent_areas(cache) if _loads(f)), None)
        folder = last or demo
        if last and note:
            note += f"Het laatst gebruikte gebied (‘{areas.area_name(last)}’) wordt getoond."
        elif not last:
            note += ("Er werd nog geen studiegebied gekozen: de demostad wordt getoond. Kies het gebied in de app "
                     "(zijbalk) en start de avondmodus daar, of open ?modus=avond&gebied=<naam van het gebied>.")
    state.AREA_DIR.set(folder)
    if note:
        EVENING_AREA_NOTE.set(note)
    else:
        EVENING_AREA_NOTE.pop()


def evening_note(right) -> None:
    """The note about the area shown (if any), under the form in the right column."""
    note = EVENING_AREA_NOTE.get()
    if note:
        with right:
            st.warning(note)


def map_badge() -> str:
    """The map badge's CSS for the note about the area ("" without a note)."""
    note = EVENING_AREA_NOTE.get()
    if not note:
        return ""
    return MAP_BADGE_CSS.format(text=css_string(BADGE_DEMO if "demostad wordt getoond" in note else BADGE_NOT_FOUND))


@guarded
def render_evening() -> None:
    """Evening mode: the wijk map fills the screen, large controls, nothing else to reach."""
    evening_area()
    folder, stamp, area = compute.current_area()
    st.html(EVENING_CSS)
    if len(area.wijken) == 0:
        st.error("Dit studiegebied heeft geen wijken.")
        return
    if not state.SESSION_UID.present():
        state.SESSION_UID.set(uuid.uuid4().hex[:12])
    db = db_path()
    names = dict(zip(area.wijken["wijk_code"].astype(str), area.wijken["wijk_naam"].astype(str)))
    qp = st.query_params.get("wijk")
    if qp in names and W.PART_WIJK not in st.session_state:
        st.session_state[W.PART_WIJK] = qp
    left, right = st.columns([3, 2], gap="medium")
    with right:
        code = st.selectbox("Uw wijk", list(names), format_func=lambda c: names[c], key=W.PART_WIJK)
        doing = st.radio("Wat wilt u doen?", [DO_REMARK, DO_WISH], key="avond_doing", horizontal=True)
    if doing == DO_WISH:
        evening_wish(folder, stamp, area, db, code, left, right)
        evening_note(right)
        with right:
            leave_evening()
        return
    remarks = pt.list_remarks(db, area_name=area.name, wijk_code=code)
    with left:
        st.markdown("**1. Tik op de kaart op de plek waarover u iets wilt zeggen.**")
        m = wijk_map(folder, stamp, code, big_controls=True)
        m.get_root().header.add_child(folium.Element(maps.FILL_FRAME_CSS + map_badge()))
        out = st_folium(m, key=f"avond_map_{compute.slug(folder)}_{code}", height=EVENING_MAP_HEIGHT_PX,
                        use_container_width=True, returned_objects=["last_clicked"],
                        feature_group_to_add=remark_layer(remarks, state.pin_key(code).get()))
        take_click(out, code)
    with right:
        remark_form(folder, stamp, area, db, code, text_height_px=90)
        st.caption(f"{fmt_people(len(remarks))} opmerking(en) in deze wijk. Gebied: {md_escape(area.name)}.")
    evening_note(right)
    with right:
        leave_evening()


WISH_CONTEXT = (("green", "#43a047", "groen"), ("water", "#5b9bd5", "water"), ("streets", "#757575", "straten"))
"""Themes drawn under a wish sketch (theme, colour, Dutch name)."""
DO_REMARK = "Een opmerking op de kaart"
DO_WISH = "Een wens tekenen"


def evening_wish(folder: str, stamp: str, area: StudyArea, db: Path, code: str, left, right) -> None:
    """A resident sketches a wish (a point, line or area) and picks what it is; stored at once."""
    with left:
        st.markdown("**1. Teken uw wens op de kaart: een punt, een lijn of een vlak (knoppen links).**")
        wb = maps.wijk_geojson_and_bounds(folder, stamp, code)
        ctx = maps.wijk_context_geojson(folder, stamp, code)  # streets and green: residents find their way
        context = [(ctx[t], colour, name) for t, colour, name in WISH_CONTEXT if t in ctx] + [(wb[0], "#1f4e9c", "wijk")]
        drawings = draw.draw_map(wb[1], key=f"avond_wens_{compute.slug(folder)}_{code}", height=EVENING_MAP_HEIGHT_PX,
                                 context=context, fill_frame=True)
    with right:
        wish = st.selectbox("2. Wat wenst u hier?", wishes.WISHES, key="avond_wish_kind")
        text = st.text_area("Toelichting (mag leeg)", key="avond_wish_text", max_chars=pt.MAX_TEXT_CHARS, height=90)
        if st.button("Wens bewaren", key="avond_wish_save", type="primary"):
            if not drawings:
                st.warning("Teken eerst uw wens op de kaart.")
                return
            geom = gpd.GeoSeries([shapely.geometry.shape(drawings[-1]["geometry"])], crs="EPSG:4326").to_crs(area.crs).iloc[0]
            try:
                wishes.add_wish(db, area.name, wish, geom, str(area.crs), text=text, wijk_code=code,
                                bounds=tuple(area.wijken.total_bounds), session_id=state.SESSION_UID.get())
            except pt.ParticipationError as exc:
                st.error(exc.nl)
            else:
                st.success("Bedankt! Uw wens is bewaard.")
        n = len(wishes.wishes_gdf(db, area.name))
        st.caption(f"{fmt_people(n)} wens(en) getekend in dit gebied.")
