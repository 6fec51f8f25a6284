"""The app's Search and Export pages, the root page's deep links, and the sidebar.

Each page reads widgets (bound to the URL where they are view state) and `?paper=`, calls `kg`
(through kgapp.state's cached objects and the view models in `kgapp`, which escape every text from
data) and lays out what comes back. The Paper page is in kgapp.paper_page, the Lineage explorer and
the Timeline in kgapp.graph_pages.
"""

from __future__ import annotations

import streamlit as st

from kg.corpus import Corpus
from kg.errors import KGError
from kg.search.documents import Filters
from kg.search.engine import DEFAULT_MODE, MODES, Hit
from kgapp import graph_pages, links, paper_page
from kgapp import records as vrec
from kgapp.escape import esc_html, esc_md
from kgapp.state import (
    building,
    corpus,
    export_widget,
    html,
    model_ready,
    searcher,
    select,
    selection,
    store,
    toggle,
)

# The match modes in plain words, as the radio and the URL show them (`?mode=by+words`); both first.
MODE_CHOICES = {vrec.MODE_WORDS[m]: m for m in sorted(MODES, key=("hybrid", "dense", "bm25").index)}


def page_home() -> None:
    """The root URL: Search, or the page a deep link names (`?paper=`, `?lineage=`, `?page=`), drawn
    in place (no redirect, so no extra history entry)."""
    params = st.query_params
    if "paper" in params:
        paper_page.page_paper()
    elif "lineage" in params:
        graph_pages.page_lineage(params["lineage"])
    elif params.get("page") == "lineage":
        graph_pages.page_lineage()
    elif params.get("page") == "timeline":
        graph_pages.page_timeline()
    elif params.get("page") == "export":
        page_export()
    else:
        page_search()


def page_search() -> None:
    st.title("Search")
    query = st.text_input("Ask the reading lists", key="q", bind="query-params",
                          placeholder="which papers accelerate sampling?")
    filters, mode, k, details = search_options()
    if not query.strip():
        st.info("Type a question or some words, e.g. *which papers accelerate sampling?* Titles, "
                "abstracts (once fetched) and the lists' notes are searched; each result shows the "
                "sentence it matched.")
        return
    s = searcher()
    if mode != "bm25" and (building() is not None or not model_ready(s)):
        mode = "bm25"  # at once by words; by meaning too when the index and the model are ready
        if building() is None:
            model_status()
    try:
        hits = s.search(query, k=k, mode=mode, filters=filters)
    except KGError as exc:
        st.warning(esc_md(exc))
        return
    if not hits:
        st.info("No paper matches this query with these filters. Try other words, fewer filters, "
                "or matching by meaning (matching by words needs a word in common).")
        return
    st.caption(f"{len(hits)} results for ‘{esc_md(query.strip())}’, matched {vrec.MODE_WORDS[mode]}")
    c = corpus()
    for hit in hits:
        show_hit(hit, c, details)


def search_options() -> tuple[Filters, str, int, bool]:
    c = corpus()
    years = [r.year for r in c.records() if r.year]
    topics = sorted({t for r in c.records() for t in r.topics})
    cats = sorted({x for p in c.papers.values() for x in [p.primary_category, *p.categories] if x})
    first, last = (min(years), max(years)) if years else (0, 0)
    with st.expander("Options and filters"):
        c1, c2, c3 = st.columns([3, 3, 2], vertical_alignment="bottom")
        words = c1.radio("Match", list(MODE_CHOICES), index=list(MODE_CHOICES.values()).index(DEFAULT_MODE),
                         key="mode", bind="query-params", horizontal=True)
        k = c2.slider("Results", 3, 50, 10, key="k", bind="query-params")
        details = c3.toggle("details", key="details", bind="query-params",
                            help="How each result matched, with its scores")
        lo, hi = (st.slider("Years", first, last, (first, last), key="years", bind="query-params")
                  if first < last else (first, last))
        chosen_topics = st.multiselect("Topics (reading-list sections)", topics, key="topics",
                                       bind="query-params")
        chosen_cats = st.multiselect("arXiv categories", cats, key="cats", bind="query-params")
    full = (lo, hi) == (first, last)
    filters = Filters(None if full else lo, None if full else hi, tuple(chosen_topics), tuple(chosen_cats))
    return filters, MODE_CHOICES[str(words)], int(k), bool(details)


@st.fragment(run_every=1.0)
def model_status() -> None:
    """A spinner while the model loads in the background; the app reruns when it is ready."""
    s = searcher()
    if getattr(s.encoder, "loaded", True):
        st.rerun(scope="app")
    with st.spinner("Loading the language model; meanwhile results match by words…", show_time=True):
        st.caption("Results below match by words; they will match by meaning too in a few seconds.")


def hit_header(hit: Hit, c: Corpus) -> str:
    """The result's title (a link to its page), short name, arXiv links and byline, as HTML."""
    record = c.get(hit.id) if hit.id in c else None
    title = links.record_link(hit.id, f"{hit.rank}. {hit.title}", "kg-hit-title")
    label = f" ({esc_html(record.label)})" if record and record.label != hit.title else ""
    arxiv = " · ".join(links.external_link(url, text)
                       for text, url in links.arxiv_urls(getattr(record, "arxiv_id", None)))
    meta = esc_html(vrec.byline(record)) if record else ""
    return (f'<div class="kg-hit">{title}{label}' + (f" · {arxiv}" if arxiv else "")
            + f'<div class="kg-meta">{meta}</div></div>')


def show_hit(hit: Hit, c: Corpus, details: bool) -> None:
    with st.container(border=True):
        left, right = st.columns([10, 1.6], vertical_alignment="top")
        with left:
            html(hit_header(hit, c))
        right.checkbox("Select", key=f"sel-{hit.id}", value=hit.id in selection(), on_change=toggle,
                       args=(hit.id,), help="Add to the export selection")
        if hit.sentence:
            st.markdown(f"> {esc_md(vrec.plain(hit.sentence))}")
        where = f"matched in {esc_md(vrec.field_label(hit.field))}"
        if hit.builds_on:
            where += f" · builds on {esc_md(', '.join(hit.builds_on))}"
        st.caption(where + (f" · {esc_md(vrec.score_details(hit))}" if details else ""))


def page_export() -> None:
    st.title("Export")
    c = corpus()
    options = vrec.record_choices(c)
    with st.expander("Add to the selection"):
        add_topics(c)
        if st.button("Add every listed paper", key="add-all"):
            select([r.id for r in c.listed_papers()])
    st.session_state["export_sel"] = [i for i in selection() if i in options]
    chosen = st.multiselect("Selected papers and releases", list(options), format_func=lambda i: options[i],
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
