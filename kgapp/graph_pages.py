"""The Lineage explorer and the Timeline pages.

The explorer shows the record `?paper=` names (SDXL by default): its drawing (kgapp.family) on wide
screens, and always the list of every link with its evidence, records as links (the only view under
640 px). Scope, direction and depth are bound to the URL. The timeline draws every dated record,
jittered inside its row and zoomable along time; a click opens the paper.
"""

from __future__ import annotations

import streamlit as st

from kgapp import family as vfamily
from kgapp import records as vrec
from kgapp import related as vrel
from kgapp import timeline as vtime
from kgapp.escape import esc_md
from kgapp.links import Column
from kgapp.state import corpus, go, graph, html, jump_picker, resolve_record, select, selection, table

EDGES = [Column("from", "from", "from_id"), Column("relation", "relation"), Column("to", "to", "to_id"),
         Column("evidence", "evidence"), Column("where", "where"), Column("source", "source")]
# Radio options are what the URL holds (`?scope=family&direction=across`).
SCOPES = {"lineage": "ancestors and descendants", "family": "the whole family"}
DIRECTIONS = {"auto": "auto", "across": "LR", "down": "TB"}


def page_lineage(name: str | None = None) -> None:
    st.title("Lineage explorer")
    c, g = corpus(), graph()
    ids = [i for i in vrel.lineage_records(g) if i in c]
    if not ids:
        st.info("No lineage is recorded yet: neither data/lineage.csv nor the lists' notes give any.")
        return
    name = name or st.query_params.get("paper")
    rid = resolve_record(name) if name else next((i for i in ids if c.get(i).label == "SDXL"), ids[0])
    choices = vrec.record_choices(c, [c.get(i) for i in ids])
    jump_picker("lineage_pick", choices, "lineage", "Another paper or model release",
                "Type a name or title…")
    if rid is None:
        return
    if rid not in choices:
        st.info(f"{esc_md(c.get(rid).label)} has no recorded lineage.")
        return
    draw_family(rid)


def draw_family(rid: str) -> None:
    c, g = corpus(), graph()
    c1, c2, c3 = st.columns([3, 2, 3])
    scope = c1.radio("Show", list(SCOPES), key="scope", bind="query-params", horizontal=True,
                     captions=list(SCOPES.values()))
    direction = c2.radio("Time runs", list(DIRECTIONS), key="direction", bind="query-params",
                         horizontal=True, captions=["by size", "→", "↓"])
    depth = c3.slider("Generations each way", 1, 8, 3, key="depth", bind="query-params",
                      disabled=scope == "family")
    family = vrel.family_graph(g, rid, str(scope), int(depth))
    layout = vfamily.layout_family(family, c, focus=rid)
    st.markdown(f"**{esc_md(c.get(rid).label)}**: {family.number_of_nodes()} records, "
                f"{family.number_of_edges()} links, laid out by date.")
    with st.container(key="kg-family-drawing"):
        st.caption("Arrows point from a record to what it derives from; hover an arrow for its evidence, "
                   "click a record to open it.")
        st.graphviz_chart(vfamily.render_family_dot(layout, DIRECTIONS[str(direction)]), width="content")
    html('<style>@media (max-width: 640px) { .st-key-kg-family-drawing { display: none; } }</style>')
    st.subheader("Every link, with its evidence")
    table(vfamily.edge_rows(layout, c), EDGES, "No links.")
    if st.button(f"Add these {family.number_of_nodes()} to the export selection", key="lineage-select"):
        select([n.id for n in layout.nodes if n.id in c])
        st.toast(f"{len(selection())} selected for export")


def page_timeline() -> None:
    st.title("Timeline")
    c = corpus()
    colour = st.radio("Rows and colours by", vtime.COLOR_FIELDS, key="colour", bind="query-params",
                      horizontal=True)
    frame, undated = vtime.timeline_frame(c)
    if frame.empty:
        st.info("No record has a date yet.")
        return
    chart = vtime.build_timeline_chart(frame, str(colour))
    event = st.altair_chart(chart, on_select="rerun", selection_mode=vtime.SELECTION, key="timeline",
                            width="stretch")
    picked = [p["id"] for p in event.selection.get(vtime.SELECTION, []) if "id" in p] if event else []
    if picked:
        go("paper", paper=picked[0])
    st.caption("Click a point to open the paper; drag or scroll on the chart to zoom into a span of "
               "years (double-click resets). Points are spread a little within their row so that papers "
               f"of the same months stay apart. Eras follow the list's own division of the history "
               f"({vtime.ERA_SOURCE}), each starting at the date of its first paper.")
    if undated:
        names = esc_md(", ".join(r.label for r in undated))
        st.caption(f"{len(undated)} undated records are not shown: {names}")
    options = dict(zip(frame["id"], frame["describe"], strict=True))
    jump_picker("timeline_pick", options, "paper", "Open a paper", "Pick from the timeline…")
