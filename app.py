"""Paper KG's Streamlit app: Search · Paper · Lineage explorer · Timeline · Export.

A thin script over `kg`: it reads widgets, calls `kg.*` (search, graph queries, export, and the
view models in `kg.view`, which also escape every text from data) and lays out what comes back.
No ranking, graph or export logic lives here.

Run it with `kg serve` (or `streamlit run app.py`). The data directory comes from the environment
variable KG_DATA_DIR (read here only; `kg --data-dir DIR serve` sets it), else the repository's data/.
Deep links: `?q=…` (search), `?paper=2112.10752` (a paper, by id or short name), `?lineage=SDXL`
(the lineage explorer), `?page=timeline|export`. See docs/app.md.
"""

from __future__ import annotations

import os
import threading

import pandas as pd
import streamlit as st
from kg.documents import Filters
from kg.encoders import DEFAULT_MODEL, Encoder, load_encoder
from kg.export import EXTENSIONS, FORMATS, build_export
from kg.graph import load_or_build_graph
from kg.index import read_manifest
from kg.search import DEFAULT_MODE, MODES, Searcher, load_searcher

from kg.corpus import Corpus, Record
from kg.errors import KGError, StaleIndexError
from kg.store import Store
from kg.view import build as vbuild
from kg.view import family as vfamily
from kg.view import records as vrec
from kg.view import related as vrel
from kg.view import timeline as vtime
from kg.view.escape import esc_md

st.set_page_config(page_title="Paper KG", page_icon=":material/hub:", layout="wide")
STORE = Store.at(os.environ.get("KG_DATA_DIR") or None)
MIME = {"bibtex": "application/x-bibtex", "biblatex": "application/x-bibtex", "csl-json": "application/json",
        "ris": "application/x-research-info-systems", "markdown": "text/markdown"}
STYLES = ("apa", "ieee", "chicago-author-date", "nature")


# ---- cached resources: each loads once per process and data stamp ------------------------------
@st.cache_resource(show_spinner="Loading the corpus…", max_entries=2)
def get_corpus(root: str, stamp: str) -> Corpus:
    return Corpus.load(Store.at(root))


@st.cache_resource(show_spinner="Loading the knowledge graph…", max_entries=2)
def get_graph(root: str, stamp: str):
    return load_or_build_graph(Store.at(root), get_corpus(root, stamp))


@st.cache_resource(show_spinner="Loading the embedding model…", max_entries=2)
def get_encoder(model: str) -> Encoder:
    return load_encoder(model)


@st.cache_resource
def build_lock() -> threading.Lock:
    """One build at a time in this server process, whatever the number of sessions."""
    return threading.Lock()


@st.cache_resource(show_spinner="Loading the search index…", max_entries=2)
def get_searcher(root: str, stamp: str) -> Searcher:
    store = Store.at(root)
    manifest = read_manifest(store)
    encoder = get_encoder(manifest.model if manifest else DEFAULT_MODEL)
    return load_searcher(store, encoder, corpus=get_corpus(root, stamp))


def stamp() -> str:
    return vbuild.data_stamp(STORE)


def corpus() -> Corpus:
    return get_corpus(str(STORE.root), stamp())


def graph():
    return get_graph(str(STORE.root), stamp())


def searcher() -> Searcher:
    """The searcher, or an explanation and a stop (stale index: a button rebuilds it)."""
    try:
        return get_searcher(str(STORE.root), stamp())
    except StaleIndexError as exc:
        st.warning(f"The search index cannot be used: {exc}")
        if st.button("Rebuild the index now", key="rebuild"):
            run_build()
        st.stop()


# ---- first start --------------------------------------------------------------------------------
def run_build() -> None:
    """Build data/build with a progress bar (the same steps as `kg build`), then rerun."""
    lock = build_lock()
    if not lock.acquire(blocking=False):
        with st.spinner("Another session is building; waiting for it…"):
            lock.acquire()
    try:
        steps = vbuild.plan_build(STORE, lambda: get_encoder(DEFAULT_MODEL))
        bar = st.progress(0.0, text="Building the search index and the graph…")
        for i, step in enumerate(steps):
            bar.progress(i / len(steps), text=f"Step {i + 1} of {len(steps)}: {step.label}…")
            step.run()
        bar.progress(1.0, text="Built. Starting…")
    finally:
        lock.release()
    st.rerun()


def require_data() -> None:
    if not STORE.papers_path.exists():
        st.info(f"No corpus snapshot in {STORE.root}: run `kg ingest` to read the reading lists first.")
        st.stop()
    missing = vbuild.missing_parts(STORE)
    if missing:
        st.title("Paper KG")
        st.info(f"First start: building the {' and the '.join(missing)} under {STORE.build_dir} "
                "(offline, once; later starts load it).")
        run_build()


# ---- navigation helpers -------------------------------------------------------------------------
def open_page(name: str, **params: str) -> None:
    st.switch_page(PAGES[name], query_params=params)


def selection() -> list[str]:
    return st.session_state.setdefault("selection", [])


def select(ids: list[str]) -> None:
    chosen = selection()
    chosen.extend(i for i in ids if i not in chosen)


def toggle(record_id: str) -> None:
    chosen = selection()
    if st.session_state.get(f"sel-{record_id}"):
        select([record_id])
    elif record_id in chosen:
        chosen.remove(record_id)


def resolve_param(name: str) -> str | None:
    """The record a query parameter names (id, alias or title); a warning when none or several do."""
    value = st.query_params.get(name)
    if not value:
        return None
    try:
        return corpus().resolve(value)
    except KGError as exc:
        st.warning(str(exc))
        return None


def pick_record(key: str, options: dict[str, str], param: str, default: str) -> str:
    """A record picker bound to the query parameter `param`, so the URL always says what is shown.

    A new value in the URL (a deep link, an Open button) wins; otherwise the last choice stands."""
    url, last = resolve_param(param), st.session_state.get(f"_{key}")
    if url is not None and url not in options:
        st.info(f"{esc_md(corpus().get(url).label)} has nothing to show here; showing another record.")
    if url in options and url != last:
        st.session_state[key] = url
    elif st.session_state.get(key) not in options:
        st.session_state[key] = last if last in options else default
    chosen = st.selectbox("Paper or model release", list(options), key=key, format_func=options.get)
    st.session_state[f"_{key}"] = chosen
    st.query_params[param] = chosen
    return chosen


def follow_url(key: str, allowed: tuple[str, ...] | None = None) -> None:
    """Set widget `key` from the query parameter of the same name when the URL brings a new value."""
    value = st.query_params.get(key)
    fresh = value is not None and st.session_state.get(f"_url_{key}") != value
    if fresh and (allowed is None or value in allowed):
        st.session_state[f"_url_{key}"] = st.session_state[key] = value


def table(rows: list[dict[str, str]], empty: str, hide: tuple[str, ...] = ("id",)) -> None:
    if not rows:
        st.caption(empty)
        return
    frame = pd.DataFrame(rows).drop(columns=[c for c in hide if c in rows[0]])
    st.dataframe(frame, hide_index=True, height="content" if len(rows) <= 15 else "auto")


def export_widget(records: list[Record], key: str) -> None:
    """Format (and style) pickers, a preview and a download button for `records`."""
    c1, c2 = st.columns(2)
    fmt = c1.selectbox("Format", FORMATS, key=f"{key}-fmt")
    style = c2.selectbox("Citation style", STYLES, key=f"{key}-style") if fmt == "markdown" else None
    try:
        result = build_export(records, fmt, style=style, store=STORE)
    except KGError as exc:
        st.error(str(exc))
        return
    name = f"paper-kg-{key}{EXTENSIONS[fmt]}"
    st.download_button(f"Download {name}", result.text, file_name=name, mime=MIME[fmt], key=f"{key}-dl",
                       type="primary", on_click="ignore")
    st.code(result.text, language="bibtex" if "bib" in fmt else "json" if fmt == "csl-json" else None,
            height="content" if result.text.count("\n") < 40 else 640)


# ---- pages ----------------------------------------------------------------------------------------
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
        s = get_searcher(str(STORE.root), stamp())
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
    rid = st.selectbox("Open a paper", list(options), format_func=options.get, key="timeline_pick",
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
    chosen = st.multiselect("Selected papers and releases", list(options), format_func=options.get,
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


# ---- the script -------------------------------------------------------------------------------------
PAGES = {
    "search": st.Page(page_search, title="Search", icon=":material/search:", url_path="search", default=True),
    "paper": st.Page(page_paper, title="Paper", icon=":material/article:", url_path="paper"),
    "lineage": st.Page(page_lineage, title="Lineage explorer", icon=":material/account_tree:",
                       url_path="lineage"),
    "timeline": st.Page(page_timeline, title="Timeline", icon=":material/timeline:", url_path="timeline"),
    "export": st.Page(page_export, title="Export", icon=":material/download:", url_path="export"),
}


def sidebar() -> None:
    c = corpus()
    fetched, total = vrec.abstract_counts(c)
    with st.sidebar:
        st.caption(f"{len(c.papers)} papers · {len(c.systems)} model releases · abstracts {fetched}/{total}")
        st.caption(f"Data: {esc_md(STORE.root)}")
        if selection():
            st.caption(f"{len(selection())} selected for export")


def main() -> None:
    nav = st.navigation(list(PAGES.values()))
    require_data()
    if nav is PAGES["search"]:
        for param, page in (("paper", "paper"), ("lineage", "lineage")):
            if param in st.query_params:
                open_page(page, paper=st.query_params[param])
        if st.query_params.get("page") in PAGES and st.query_params["page"] != "search":
            open_page(st.query_params["page"])
    sidebar()
    nav.run()


main()
