"""The app's five pages: Search, Paper, Lineage explorer, Timeline, Export (and the sidebar).

Each page reads widgets and the URL, calls `kg` (through kgapp.state's cached objects and the view
models in `kgapp`, which escape every text from data) and lays out what comes back.
"""

from __future__ import annotations

import streamlit as st

from kg.corpus import Corpus, Record
from kg.errors import KGError
from kg.search.documents import Filters
from kg.search.engine import DEFAULT_MODE, MODES
from kgapp import family as vfamily
from kgapp import records as vrec
from kgapp import related as vrel
from kgapp import timeline as vtime
from kgapp.escape import esc_md
from kgapp.state import (
    corpus,
    export_widget,
    follow_url,
    get_searcher,
    graph,
    open_page,
    pick_record,
    searcher,
    select,
    selection,
    stamp,
    store,
    table,
    toggle,
)


def page_search() -> None:
    st.title("Search")
    follow_url("q")
    follow_url("mode", MODES)
    st.session_state.setdefault("q", st.session_state.get("_q", ""))
    query = st.text_input("Ask the reading lists", key="q", placeholder="which papers accelerate sampling?")
    st.session_state["_q"] = query
    c1, c2 = st.columns([2, 3])
    mode = c1.radio("Mode", MODES, index=MODES.index(DEFAULT_MODE), key="mode", horizontal=True)
    k = c2.slider("Results", 3, 50, 10, key="k")
    filters = search_filters()
    if not query.strip():
        st.query_params.pop("q", None)
        st.info("Type a question or some words, e.g. *which papers accelerate sampling?* Titles, "
                "abstracts (once fetched) and the lists' notes are searched; each result shows the "
                "sentence it matched.")
        return
    st.query_params["q"] = query
    try:
        hits = searcher().search(query, k=k, mode=mode, filters=filters)
    except KGError as exc:
        st.warning(str(exc))
        return
    if not hits:
        st.info("No paper matches this query with these filters. Try other words, fewer filters, "
                "or the dense mode (BM25 needs a word in common).")
        return
    st.caption(f"{len(hits)} results · {mode}")
    for hit in hits:
        show_hit(hit)


def search_filters() -> Filters:
    c = corpus()
    years = [r.year for r in c.records() if r.year]
    topics = sorted({t for r in c.records() for t in r.topics})
    cats = sorted({x for p in c.papers.values() for x in [p.primary_category, *p.categories] if x})
    first, last = (min(years), max(years)) if years else (0, 0)
    with st.expander("Filters"):
        lo, hi = (st.slider("Years", first, last, (first, last), key="years") if first < last
                  else (first, last))
        chosen_topics = st.multiselect("Topics (reading-list sections)", topics, key="topics")
        chosen_cats = st.multiselect("arXiv categories", cats, key="cats")
    full = (lo, hi) == (first, last)
    return Filters(None if full else lo, None if full else hi, tuple(chosen_topics), tuple(chosen_cats))


def show_hit(hit) -> None:
    c = corpus()
    record = c.get(hit.id) if hit.id in c else None
    with st.container(border=True):
        left, mid, right = st.columns([10, 1.3, 1.7], vertical_alignment="center")
        label = f" ({esc_md(record.label)})" if record and record.label != hit.title else ""
        left.markdown(f"**{hit.rank}. {esc_md(hit.title)}**{label}  \n"
                      + (vrec.badges_md(record) if record else ""))
        if mid.button("Open", key=f"open-{hit.id}"):
            open_page("paper", paper=hit.id)
        right.checkbox("Select", key=f"sel-{hit.id}", value=hit.id in selection(), on_change=toggle,
                       args=(hit.id,), help="Add to the export selection")
        if hit.sentence:
            st.markdown(f"> {esc_md(hit.sentence)}")
        st.caption(f"matched in {esc_md(vrec.field_label(hit.field))} · {vrec.score_caption(hit)}")


def page_paper() -> None:
    c = corpus()
    options = vrec.record_choices(c)
    pid = pick_record("paper_pick", options, "paper", next(iter(options)))
    record = c.get(pid)
    st.title(esc_md(record.label))
    st.markdown(f"**{esc_md(record.title)}**  \n" + vrec.badges_md(record))
    st.caption(esc_md(f"{record.id} · {record.kind} · {record.status}"))
    st.subheader("Abstract")
    summary = vrec.abstract_text(record)
    if summary:
        st.markdown(esc_md(summary))
    else:
        st.info(vrec.ABSTRACT_MISSING)
    st.subheader("Notes from the reading lists")
    for row in vrec.note_rows(record):
        st.markdown(f"> {esc_md(row['note'])}")
        st.caption(esc_md(f"{row['where']} · {row['section']}"))
    if not record.notes:
        st.caption("The lists say nothing about this record beyond listing it.")
    st.subheader("Metadata and where it came from")
    table(vrec.metadata_rows(record), "")
    with st.expander(f"Listed in ({len(record.listings)})"):
        table(vrec.listing_rows(record), "Not listed as an entry of its own.")
    paper_graph_sections(record)
    st.subheader("Export this")
    export_widget([record], "this")
    if st.button("Add to the export selection", key="select-this"):
        select([record.id])
        st.toast(f"{len(selection())} selected for export")


def paper_graph_sections(record: Record) -> None:
    g, rid = graph(), record.id
    st.subheader("Lineage")
    up, down = st.columns(2)
    with up:
        st.markdown("**Derives from** (ancestors)")
        table(vrel.lineage_rows(g, rid, "up"), "No recorded ancestors.")
    with down:
        st.markdown("**Led to** (descendants)")
        table(vrel.lineage_rows(g, rid, "down"), "No recorded descendants.")
    if st.button("Open in the lineage explorer", key="to-lineage"):
        open_page("lineage", paper=rid)
    cites, cited = st.columns(2)
    with cites:
        st.markdown("**Cites**")
        table(vrel.related_rows(g, rid, "cites", "out"), vrel.NO_CITATIONS)
    with cited:
        st.markdown("**Cited by**")
        table(vrel.related_rows(g, rid, "cites", "in"), vrel.NO_CITATIONS)
    st.subheader("Mentions")
    named, names = st.columns(2)
    with named:
        st.markdown("**Named in** (list sentences)")
        table(vrec.mention_rows(record, corpus()), "No list sentence names this record.")
    with names:
        st.markdown("**Its notes name**")
        table(vrel.related_rows(g, rid, "mentions", "out"), "Its notes name no other record.")
    st.subheader("Similar papers")
    similar_section(rid)


def similar_section(rid: str) -> None:
    try:
        s = get_searcher(str(store().root), stamp())
    except KGError as exc:
        st.caption(f"Similar papers need the search index: {esc_md(exc)}")
        return
    if rid not in s.position:
        st.caption("Model releases are not in the search index; see their paper instead.")
        return
    for hit in s.similar(rid, k=5):
        cols = st.columns([10, 1.3], vertical_alignment="center")
        cols[0].markdown(f"{esc_md(hit.title)} · {hit.year or '—'} · similarity {hit.score:.2f}")
        if cols[1].button("Open", key=f"similar-{hit.id}"):
            open_page("paper", paper=hit.id)


def page_lineage() -> None:
    st.title("Lineage explorer")
    c, g = corpus(), graph()
    ids = [i for i in vrel.lineage_records(g) if i in c]
    if not ids:
        st.info("No lineage is recorded yet: neither data/lineage.csv nor the lists' notes give any.")
        return
    default = next((i for i in ids if c.get(i).label == "SDXL"), ids[0])
    rid = pick_record("lineage_pick", vrec.record_choices(c, [c.get(i) for i in ids]), "paper", default)
    c1, c2, c3 = st.columns([3, 2, 3])
    follow_url("scope", ("lineage", "family"))
    scope = c1.radio("Show", ["lineage", "family"], key="scope", horizontal=True,
                     format_func={"lineage": "Ancestors and descendants", "family": "The whole family"}.get)
    direction = c2.radio("Time runs", ["auto", "LR", "TB"], key="direction", horizontal=True,
                         format_func={"auto": "auto", "LR": "→", "TB": "↓"}.get)
    depth = c3.slider("Generations each way", 1, 8, 3, key="depth", disabled=scope == "family")
    family = vrel.family_graph(g, rid, scope, depth)
    layout = vfamily.layout_family(family, c, focus=rid)
    st.caption(f"{family.number_of_nodes()} records, {family.number_of_edges()} links, laid out by date. "
               "Arrows point from a record to what it derives from; hover an arrow for its evidence, "
               "click a record to open it.")
    st.graphviz_chart(vfamily.render_family_dot(layout, direction), width="content")
    st.subheader("Evidence for every link")
    table(vfamily.edge_rows(layout, c), "No links.")
    b1, b2 = st.columns(2)
    if b1.button("Open this paper", key="lineage-open"):
        open_page("paper", paper=rid)
    if b2.button(f"Add these {family.number_of_nodes()} to the export selection", key="lineage-select"):
        select([n.id for n in layout.nodes if n.id in c])
        st.toast(f"{len(selection())} selected for export")


def page_timeline() -> None:
    st.title("Timeline")
    c = corpus()
    colour = st.radio("Colour by", vtime.COLOR_FIELDS, key="colour", horizontal=True)
    frame, undated = vtime.timeline_frame(c)
    if frame.empty:
        st.info("No record has a date yet.")
        return
    chart = vtime.build_timeline_chart(frame, colour)
    event = st.altair_chart(chart, on_select="rerun", selection_mode=vtime.SELECTION, key="timeline",
                            width="stretch")
    picked = [p["id"] for p in event.selection.get(vtime.SELECTION, []) if "id" in p] if event else []
    if picked:
        open_page("paper", paper=picked[0])
    st.caption("Click a point to open the paper. Eras follow the list's own division of the history "
               f"({vtime.ERA_SOURCE}), each starting at the date of its first paper.")
    if undated:
        names = esc_md(", ".join(r.label for r in undated))
        st.caption(f"{len(undated)} undated records are not shown: {names}")
    options = dict(zip(frame["id"], frame["describe"], strict=True))
    rid = st.selectbox("Open a paper", list(options), format_func=options.__getitem__, key="timeline_pick",
                       index=None, placeholder="Pick from the timeline…")
    if rid:
        open_page("paper", paper=rid)


def page_export() -> None:
    st.title("Export")
    c = corpus()
    options = vrec.record_choices(c)
    with st.expander("Add to the selection"):
        add_topics(c)
        if st.button("Add every listed paper", key="add-all"):
            select([r.id for r in c.listed_papers()])
    st.session_state["export_sel"] = [i for i in selection() if i in options]
    chosen = st.multiselect("Selected papers and releases", list(options), format_func=options.__getitem__,
                            key="export_sel", on_change=keep_selection)
    if not chosen:
        st.info("Nothing selected yet: tick results on Search, use “Add to the export selection” on a paper "
                "or in the lineage explorer, or add a topic above.")
        return
    st.caption(f"{len(chosen)} selected")
    export_widget([c.get(i) for i in chosen], "selection")


def keep_selection() -> None:
    st.session_state["selection"] = list(st.session_state["export_sel"])


def add_topics(c: Corpus) -> None:
    topics = sorted({t for r in c.records() for t in r.topics})
    cols = st.columns([4, 1], vertical_alignment="bottom")
    topic = cols[0].selectbox("A topic", topics, key="export-topic")
    if cols[1].button("Add", key="add-topic"):
        select([r.id for r in c.records() if topic in r.topics])



def sidebar() -> None:
    c = corpus()
    fetched, total = vrec.abstract_counts(c)
    with st.sidebar:
        st.caption(f"{len(c.papers)} papers · {len(c.systems)} model releases · abstracts {fetched}/{total}")
        st.caption(f"Data: {esc_md(store().root)}")
        if selection():
            st.caption(f"{len(selection())} selected for export")

