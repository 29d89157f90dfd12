"""Page "Hoe gezond is uw wijk?": a Place Standard round — the 14 themes of a wijk scored 1 to 7.

Each resident scores the themes they want (every theme optional) with an optional remark; the
round is stored at once with the remarks (same database, durability, moderation). The spider
chart shows the median per theme for the wijk, and for this evening when an evening label is set
(``?avond=...`` in the address, or by the facilitator). Text is stored verbatim and escaped where shown.
"""

from __future__ import annotations

import logging
import uuid

import streamlit as st
from gezondestad.app import compute, state
from gezondestad.app.ui import guarded, md_escape, synthetic_banner
from gezondestad.layers import participation as pt
from gezondestad.layers import placestandard as ps
from gezondestad.model.errors import GezondeStadError
from gezondestad.model.fmt import fmt_number
from gezondestad.screening.charts import place_standard_spider

logger = logging.getLogger(__name__)

TITLE = "Hoe gezond is uw wijk?"
NO_ANSWER = "–"


def _score_widget(theme: ps.Theme, key: str) -> int | None:
    choice = st.radio(f"**{theme.label}** — {theme.question}", [NO_ANSWER, 1, 2, 3, 4, 5, 6, 7], horizontal=True, key=key,
                      help="1 = veel ruimte voor verbetering, 7 = weinig ruimte voor verbetering")
    return None if choice == NO_ANSWER else int(choice)


@guarded
def render() -> None:
    folder, stamp, area = compute.current_area()
    synthetic_banner(area)
    st.title(TITLE)
    st.caption("Geef elk thema een score van 1 (veel ruimte voor verbetering) tot 7 (weinig ruimte voor verbetering). "
               "Sla over wat u niet weet. Naar de Place Standard tool (NHS Health Scotland e.a., 2017).")
    if len(area.wijken) == 0:
        st.error("Dit studiegebied heeft geen wijken.")
        return
    if not state.SESSION_UID.present():
        state.SESSION_UID.set(uuid.uuid4().hex[:12])
    std = ps.PlaceStandard.from_norms()
    names = dict(zip(area.wijken["wijk_code"].astype(str), area.wijken["wijk_naam"].astype(str)))
    code = st.selectbox("Over welke wijk gaat het?", list(names), format_func=lambda c: f"{names[c]} ({c})", key="ps_wijk")
    evening = str(st.query_params.get("avond", "") or "")[:60]
    db = pt.default_db_path()
    with st.form("ps_round", clear_on_submit=True):
        scores, remarks = {}, {}
        for t in std.themes:
            s = _score_widget(t, f"ps_{t.key}")
            if s is not None:
                scores[t.key] = s
            with st.expander("Opmerking bij dit thema (mag leeg)"):
                remarks[t.key] = st.text_area("Opmerking", key=f"ps_r_{t.key}", max_chars=pt.MAX_TEXT_CHARS, label_visibility="collapsed")
        sent = st.form_submit_button("Mijn scores bewaren", type="primary")
    if sent:
        try:
            ps.add_round(db, area.name, code, scores, {k: v for k, v in remarks.items() if v and k in scores},
                         evening=evening, session_id=state.SESSION_UID.get(), standard=std)
            st.success(f"Bedankt! Uw scores voor {md_escape(names[code])} zijn bewaard.")
        except GezondeStadError as exc:
            st.error(getattr(exc, "nl", str(exc)))
    data = ps.list_scores(db, area_name=area.name, wijk_codes=[code])
    n = data["round_id"].nunique() if len(data) else 0
    st.subheader(f"Scores voor {names[code]} ({fmt_number(n)} deelnemers)")
    if n:
        st.image(place_standard_spider(ps.summary(data, standard=std), title=names[code]), width=520)
        if evening:
            ev = data[data["evening"] == evening]
            if len(ev):
                st.image(place_standard_spider(ps.summary(ev, by="evening", standard=std), group_col="evening",
                                               title=f"Deze avond: {evening}"), width=520)
    else:
        st.info("Nog geen scores voor deze wijk.")
