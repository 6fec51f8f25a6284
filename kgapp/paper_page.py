"""The Paper page: one record with everything known about it, every related record a link.

The record is the one `?paper=` names exactly (id, arXiv id, short name or title); anything else
shows "No paper matches …" with the closest records as links, and no paper. Tables are HTML that
wrap (and become lists on narrow screens); a section with nothing to show is one line saying why.
"""

from __future__ import annotations

import streamlit as st

from kg.corpus import Record
from kg.errors import KGError
from kgapp import links
from kgapp import records as vrec
from kgapp import related as vrel
from kgapp.escape import esc_html, esc_md
from kgapp.links import Column
from kgapp.state import (
    corpus,
    export_widget,
    get_searcher,
    graph,
    html,
    jump_picker,
    resolve_record,
    select,
    selection,
    stamp,
    store,
    table,
)

TREE = [Column("gen.", "generation"), Column("record", "record", "id"), Column("year", "year"),
        Column("relation", "relation"), Column("evidence", "evidence"), Column("where", "where"),
        Column("source", "source")]
NEIGHBOURS = [Column("record", "record", "id"), Column("year", "year"), Column("evidence", "evidence"),
              Column("where", "where")]
MENTIONS = [Column("sentence", "sentence"), Column("as", "as"), Column("in", "in", "in_id"),
            Column("where", "where")]
NOTES = [Column("note", "note"), Column("where", "where"), Column("section", "section")]
META = [Column("field", "field"), Column("value", "value"), Column("source", "source")]
LISTINGS = [Column("where", "where"), Column("how", "how"), Column("as written", "as written"),
            Column("section", "section")]


def page_paper() -> None:
    c = corpus()
    name = st.query_params.get("paper")
    rid = resolve_record(name)
    if rid is None:
        if not name:
            st.title("Paper")
            st.info("Pick a paper or model release, or open one from Search, the lineage explorer or the "
                    "timeline.")
        jump_picker("paper_pick", vrec.record_choices(c), "paper", "Open a paper or model release",
                    "Type a name or title…")
        return
    record = c.get(rid)
    header(record)
    text_sections(record)
    paper_graph_sections(record)
    st.subheader("Export this")
    export_widget([record], "this")
    if st.button("Add to the export selection", key="select-this"):
        select([record.id])
        st.toast(f"{len(selection())} selected for export")
    jump_picker("paper_pick", vrec.record_choices(c), "paper", "Open another paper or model release",
                "Type a name or title…")


def header(record: Record) -> None:
    st.title(esc_md(record.label))
    arxiv = " · ".join(links.external_link(url, text)
                       for text, url in links.arxiv_urls(getattr(record, "arxiv_id", None)))
    meta = f'<div class="kg-meta">{esc_html(vrec.byline(record))}</div>'
    html(f'<div class="kg-hit"><span class="kg-hit-title">{esc_html(record.title)}</span>'
         + (f" · {arxiv}" if arxiv else "") + meta + "</div>")
    st.markdown(vrec.badges_md(record))
    st.caption(esc_md(f"{record.id} · {record.kind} · {record.status}"))


def text_sections(record: Record) -> None:
    summary = vrec.abstract_text(record)
    if summary:
        st.subheader("Abstract")
        st.markdown(esc_md(summary))
    elif why := vrec.abstract_missing(record):
        st.caption(f"Abstract: {why}")
    st.subheader("Notes from the reading lists")
    table(vrec.note_rows(record), NOTES, "The lists say nothing about this record beyond listing it.")
    st.subheader("Metadata and where it came from")
    table(vrec.metadata_rows(record), META)
    with st.expander(f"Listed in ({len(record.listings)})"):
        table(vrec.listing_rows(record), LISTINGS, "Not listed as an entry of its own.")


def paper_graph_sections(record: Record) -> None:
    g, rid = graph(), record.id
    st.subheader("Lineage")
    up, down = vrel.lineage_rows(g, rid, "up"), vrel.lineage_rows(g, rid, "down")
    if not (up or down):
        st.caption("No recorded lineage: neither data/lineage.csv nor the lists' notes link it to another "
                   "record.")
    if up:
        st.markdown("**Derives from** (ancestors)")
        table(up, TREE)
    if down:
        st.markdown("**Led to** (descendants)")
        table(down, TREE)
    if up or down:
        html(f'<a data-kg-nav="1" href="{esc_html(links.page_href("lineage", paper=rid))}">'
             "Open in the lineage explorer →</a>")
    cites, cited = vrel.related_rows(g, rid, "cites", "out"), vrel.related_rows(g, rid, "cites", "in")
    st.subheader("Citations")
    if not (cites or cited):
        st.caption(vrel.NO_CITATIONS)
    for title, rows in (("Cites", cites), ("Cited by", cited)):
        if rows:
            st.markdown(f"**{title}**")
            table(rows, NEIGHBOURS)
    mention_sections(record)
    similar_section(rid)


def mention_sections(record: Record) -> None:
    named = vrec.mention_rows(record, corpus())
    names = vrel.related_rows(graph(), record.id, "mentions", "out")
    st.subheader("Mentions")
    if not (named or names):
        st.caption("No list sentence names this record, and its notes name no other record.")
    if named:
        st.markdown("**Named in** (list sentences)")
        table(named, MENTIONS)
    if names:
        st.markdown("**Its notes name**")
        table(names, NEIGHBOURS)


def similar_section(rid: str) -> None:
    st.subheader("Similar papers")
    try:
        s = get_searcher(str(store().root), stamp())
    except KGError as exc:
        st.caption(f"Similar papers need the search index: {esc_md(exc)}")
        return
    if rid not in s.position:
        st.caption("Model releases are not in the search index; see the paper that describes them.")
        return
    c = corpus()
    rows = [(h.id, c.get(h.id).label if h.id in c else h.title,
             f" — {h.title} · {h.year or '—'} · similarity {h.score:.2f}") for h in s.similar(rid, k=5)]
    html(links.link_list(rows))

