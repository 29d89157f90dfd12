"""The sidebar: which study area is active (demo, a prepared folder, a place name, an OSM file)."""

from __future__ import annotations

import logging
from pathlib import Path

import streamlit as st
from gezondestad.app import areas, compute, state, uploads
from gezondestad.app.state import W
from gezondestad.app.ui import error_text, md_escape
from gezondestad.layers.prepare import prepare_from_args
from gezondestad.layers.studyarea import is_study_area_dir, save_study_area
from gezondestad.model.errors import GezondeStadError

logger = logging.getLogger(__name__)

AREA_DEMO = "Demostad (demo)"
AREA_FOLDER = "Voorbereide map"
AREA_PLACE = "Plaatsnaam (OSM, internet nodig)"
AREA_OSM = "OSM-bestand (.osm/.pbf) uploaden"
AREA_MODES = (AREA_DEMO, AREA_FOLDER, AREA_PLACE, AREA_OSM)
LAST_BY_MODE: state.StateKey[dict[str, str]] = state.StateKey("area_by_mode")
"""The folder last made active in each mode: switching back to a mode brings it back."""

OFFLINE_HELP = (
    "Wat u kunt doen: controleer de internetverbinding en probeer opnieuw; of bereid het gebied voor op een "
    "computer met internet (`gezondestad prepare --place \"Mechelen, Belgium\" --out MAP`) en kies die map hier "
    "als ‘Voorbereide map’; of upload een OSM-bestand (.osm.pbf) van de stad, bv. van download.geofabrik.de."
)


def _activate(mode: str, folder: str) -> None:
    state.AREA_DIR.set(folder)
    areas.remember_area(compute.areas_cache_dir(), folder)  # evening mode opened by URL opens the last one chosen
    memo = dict(LAST_BY_MODE.get() or {})
    memo[mode] = folder
    LAST_BY_MODE.set(memo)


def folder_problem(text: str) -> tuple[Path | None, str]:
    """The study-area folder meant by ``text`` (a file inside it is accepted), or a Dutch problem."""
    if not text.strip():
        return None, "Geef eerst het pad naar een map op."
    p = Path(text.strip()).expanduser()
    if p.is_file():
        if p.name in ("manifest.json", "studyarea.gpkg") and is_study_area_dir(p.parent):
            return p.parent.resolve(), ""
        return None, (f"‘{p}’ is een bestand, geen map. Geef de map die studyarea.gpkg en manifest.json bevat "
                      "(gemaakt met `gezondestad prepare … --out MAP`).")
    if not p.exists():
        return None, f"De map ‘{p}’ bestaat niet. Controleer het pad."
    if not p.is_dir():
        return None, f"‘{p}’ is geen map."
    if not is_study_area_dir(p):
        return None, (f"‘{p}’ is geen voorbereid studiegebied (studyarea.gpkg en manifest.json ontbreken). "
                      "Maak er een met `gezondestad prepare … --out MAP`.")
    return p.resolve(), ""


def prepare_and_cache(label: str, target: Path, **kwargs: object) -> str | None:
    """Prepare a study area into ``target`` (reused when it is already there); Dutch errors in view."""
    if is_study_area_dir(target):
        return str(target)
    with st.status(f"Studiegebied ‘{label}’ voorbereiden…", expanded=True) as status:
        try:
            bar = st.progress(0.0, text="Gegevens ophalen en omzetten naar het model…")

            def on_progress(done: int, total: int, message: str) -> None:
                bar.progress(min(1.0, done / total) if total else 0.0, text=message)

            area = prepare_from_args(**kwargs, progress=on_progress)
            st.write(f"{len(area.wijken)} wijken, {len(area.streets)} straatsegmenten, {len(area.buildings)} gebouwen.")
            st.write("Opslaan in de cache…")
            save_study_area(area, target)
        except GezondeStadError as exc:
            status.update(label="Voorbereiden mislukt", state="error", expanded=True)
            st.error(f"Het studiegebied ‘{label}’ kon niet voorbereid worden: {error_text(exc)}")
            return None
        except (OSError, ConnectionError) as exc:  # no internet, server down, disk full
            logger.warning("prepare %s failed: %r", label, exc)
            status.update(label="Voorbereiden mislukt", state="error", expanded=True)
            st.error(f"Het studiegebied ‘{label}’ kon niet voorbereid worden: er is geen verbinding met de "
                     f"OpenStreetMap-server of het bestand kon niet geschreven worden. {OFFLINE_HELP}")
            return None
        status.update(label=f"‘{label}’ is klaar", state="complete", expanded=False)
    return str(target)


def _folder_mode(sb: st.delta_generator.DeltaGenerator) -> None:
    text = sb.text_input("Pad naar een voorbereide map", key=W.AREA_FOLDER,
                         help="Een map gemaakt met `gezondestad prepare … --out MAP`.")
    if sb.button("Map laden", key=W.AREA_FOLDER_BTN):
        p, problem = folder_problem(text)
        if problem:
            sb.error(problem)
            return
        try:
            compute.load_area(str(p), compute.area_stamp(str(p)))
        except GezondeStadError as exc:
            sb.error(f"Deze map kon niet geladen worden: {error_text(exc)}")
            return
        _activate(AREA_FOLDER, str(p))


def _place_mode(sb: st.delta_generator.DeltaGenerator) -> None:
    place = sb.text_input("Plaatsnaam", key=W.AREA_PLACE, placeholder="Mechelen, Belgium")
    if sb.button("Voorbereiden via OpenStreetMap", key=W.AREA_PLACE_BTN):
        if not place.strip():
            sb.error("Geef eerst een plaatsnaam op, bv. ‘Mechelen, Belgium’.")
            return
        with sb:
            out = prepare_and_cache(place.strip(), compute.areas_cache_dir() / compute.slug(place.strip()),
                                    place=place.strip())
        if out:
            _activate(AREA_PLACE, out)


def _osm_mode(sb: st.delta_generator.DeltaGenerator) -> None:
    up = sb.file_uploader(f"OSM-bestand (max. {uploads.MAX_OSM_UPLOAD_MB} MB)", key=W.AREA_OSM_UPLOAD)
    if up is None or not sb.button("Voorbereiden uit dit bestand", key=W.AREA_OSM_BTN):
        return
    chk = uploads.check_upload(up, uploads.OSM_UPLOAD_TYPES, uploads.MAX_OSM_UPLOAD_MB)
    if not chk.ok or chk.upload is None:
        sb.error(chk.message_nl)
        return
    target = compute.areas_cache_dir() / compute.slug(f"{up.name}-{chk.upload.digest[:16]}")
    with sb, uploads.temporary_copy(chk.upload, up.getvalue()) as path:
        out = prepare_and_cache(up.name, target, osm_file=path)
    if out:
        _activate(AREA_OSM, out)


def sidebar_study_area() -> None:
    """The study-area chooser in the sidebar."""
    sb = st.sidebar
    sb.markdown("### Studiegebied")
    mode = sb.radio("Bron", AREA_MODES, key=W.AREA_MODE, label_visibility="collapsed")
    remembered = (LAST_BY_MODE.get() or {}).get(mode)
    if mode == AREA_DEMO:
        state.AREA_DIR.set(compute.demo_folder())
    elif remembered:
        state.AREA_DIR.set(remembered)
    {AREA_FOLDER: _folder_mode, AREA_PLACE: _place_mode, AREA_OSM: _osm_mode}.get(mode, lambda _: None)(sb)
    if mode != AREA_DEMO and not (LAST_BY_MODE.get() or {}).get(mode):
        sb.caption("Nog niets geladen in deze keuze: de demostad blijft actief.")
        state.AREA_DIR.set(compute.demo_folder())
    try:
        _, _, area = compute.current_area()
    except GezondeStadError as exc:  # the chosen folder broke: back to the demo, keep the session
        sb.error(f"Het gekozen studiegebied kon niet geladen worden; terug naar de demostad: {error_text(exc)}")
        state.AREA_DIR.set(compute.demo_folder())
        _, _, area = compute.current_area()
    sb.success(f"Actief: **{md_escape(area.name)}** — {len(area.wijken)} wijken")
    if area.manifest.get("synthetic"):
        sb.caption("Synthetische gegevens (demo).")
