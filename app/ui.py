"""Small pieces every page uses: the page guard, Dutch error messages, banners, data-quality notes."""

from __future__ import annotations

import functools
import html
import logging
from collections.abc import Callable, Sequence

import pandas as pd
import streamlit as st
from gezondestad.app.uploads import REPAIR_NL
from gezondestad.layers.textsafe import escape_markdown
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import MISSING, fmt_datetime, fmt_number
from gezondestad.model.studyarea import StudyArea

logger = logging.getLogger(__name__)

THEME_NL: dict[str, str] = {
    "boundary": "Grens",
    "wijken": "Wijken",
    "buildings": "Gebouwen",
    "streets": "Straten en paden",
    "green": "Groen",
    "pois": "Voorzieningen (haltes, scholen, winkels…)",
    "water": "Water",
    "landuse": "Bodemgebruik",
    "railways": "Spoorwegen",
    "landcover": "Bodembedekking (raster)",
}
STATUS_NL = {"present": "aanwezig", "partial": "gedeeltelijk", "missing": "ontbreekt"}
PAGE_FAILED = ("Er liep iets mis op deze pagina. Kies een ander studiegebied of laad de pagina opnieuw; "
               "de fout is bewaard in het logboek van de server.")


md_escape = escape_markdown
"""Text safe inside Streamlit markdown (every markdown character escaped): a name such as
``![x](https://elders.example/p.png)`` is shown as text and no browser fetches anything."""


def error_text(exc: BaseException) -> str:
    """The Dutch message of a library error (``nl`` when the error carries a separate one)."""
    return str(getattr(exc, "nl", "") or exc)


def show_error(context_nl: str, exc: GezondeStadError) -> None:
    """A library error as one Dutch message."""
    st.error(f"{context_nl}: {error_text(exc)}")


def guarded(render: Callable[[], None]) -> Callable[[], None]:
    """The one top-level guard of a page: library errors show their Dutch message, anything else
    is logged and replaced by a short Dutch message (the rest of the app keeps working)."""

    @functools.wraps(render)
    def run() -> None:
        try:
            render()
        except GezondeStadError as exc:
            st.error(error_text(exc))
        except Exception:  # the page's top-level guard (see docstring)
            logger.exception("page %s failed", render.__module__)
            st.error(PAGE_FAILED)

    return run


def synthetic_banner(area: StudyArea) -> None:
    if area.manifest.get("synthetic"):
        st.warning("**Let op: dit is een synthetische demostad, geen echte gegevens.**", icon=":material/warning:")


def show_notes(notes: Sequence[str], where: str = "") -> None:
    """Data-quality notes (Dutch), shown where the figures they qualify stand."""
    if not notes:
        return
    items = "".join(f"<li>{html.escape(n)}</li>" for n in notes)
    st.html(
        '<div style="font-size:0.9rem;color:#5d4037;background:#fff8e1;border-left:4px solid #f9a825;'
        'padding:6px 10px;margin:4px 0 8px 0">'
        f"<b>Kanttekeningen bij de gegevens{(' – ' + html.escape(where)) if where else ''}</b>"
        f'<ul style="margin:4px 0 0 0;padding-left:18px">{items}</ul></div>'
    )


def text_cell(v: object) -> str:
    """A table cell as Dutch text (missing as "–", numbers with a decimal comma)."""
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return MISSING
    if isinstance(v, bool):
        return "ja" if v else "nee"
    if isinstance(v, int):
        return fmt_number(v, 0)
    if isinstance(v, float):
        return fmt_number(v, 0 if float(v).is_integer() else 2)
    s = str(v)
    return MISSING if s in ("", "None", "nan", "NaN", "<NA>") else s


def repairs_text(repairs: object) -> str:
    """``"invalid_repaired=3, empty_dropped=1"`` in Dutch."""
    parts = []
    for part in str(repairs or "").split(","):
        k, _, v = part.strip().partition("=")
        if k:
            parts.append(f"{REPAIR_NL.get(k, k.replace('_', ' '))}: {v}")
    return ", ".join(parts) or MISSING


def manifest_table(area: StudyArea) -> pd.DataFrame:
    """The manifest per theme, in Dutch (no emoji: they render as boxes without an emoji font)."""
    rows = []
    for _, r in area.summary().iterrows():
        rows.append({
            "Thema": THEME_NL.get(r["theme"], r["theme"]),
            "Status": STATUS_NL.get(r["status"], r["status"]),
            "Aantal": fmt_number(r["count"]),
            "Bron": text_cell(r["source"]),
            "Datum": fmt_datetime(r["date"]) if "T" in str(r["date"]) else text_cell(r["date"]),
            "Herstellingen": repairs_text(r["repairs"]),
            "Opmerking": text_cell(r["note"]),
        })
    lc = area.landcover
    rows.append({
        "Thema": THEME_NL["landcover"],
        "Status": STATUS_NL["present"] if lc is not None else STATUS_NL["missing"],
        "Aantal": fmt_number(lc.classes.size) if lc is not None else "0",
        "Bron": "afgeleid uit de vectorthema's" if lc is not None else MISSING,
        "Datum": MISSING,
        "Herstellingen": MISSING,
        "Opmerking": f"cellen van {fmt_number(lc.resolution_m)} m" if lc is not None else MISSING,
    })
    return pd.DataFrame(rows)
