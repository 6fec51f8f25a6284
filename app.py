"""Paper KG's Streamlit app: Search · Paper · Lineage explorer · Timeline · Export.

A thin script over `kg`: the pages (kgapp/pages.py, paper_page.py, graph_pages.py) read widgets,
call `kg.*` (search, graph queries, export, and the view models in `kgapp`, which also escape every
text from data) and lay out what comes back. No ranking, graph or export logic lives in the app.

Run it with `kg serve` (or `streamlit run app.py`). The data directory comes from the environment
variable KG_DATA_DIR (read here only; `kg --data-dir DIR serve` sets it), else the repository's data/.
URLs: `/search?q=…&mode=bm25&topics=…`, `/paper?paper=2112.10752` (a paper, by id or exact short name
or title), `/lineage?paper=SDXL&scope=family`, `/timeline`, `/export`; the root URL takes the same
(`/?q=…`, `/?paper=…`, `/?lineage=SDXL`, `/?page=timeline`). See docs/app.md.
"""

from __future__ import annotations

import os

import streamlit as st

from kg.errors import KGError
from kg.store import Store
from kgapp import graph_pages, pages, paper_page, state
from kgapp.escape import esc_md

st.set_page_config(page_title="Paper KG", page_icon=state.page_icon(), layout="wide")


def build_pages() -> dict[str, st.Page]:
    return {
        "home": st.Page(pages.page_home, title="Paper KG", url_path="home", default=True,
                        visibility="hidden"),
        "search": st.Page(pages.page_search, title="Search", icon=":material/search:", url_path="search"),
        "paper": st.Page(paper_page.page_paper, title="Paper", icon=":material/article:", url_path="paper"),
        "lineage": st.Page(graph_pages.page_lineage, title="Lineage explorer", icon=":material/account_tree:",
                           url_path="lineage"),
        "timeline": st.Page(graph_pages.page_timeline, title="Timeline", icon=":material/timeline:",
                            url_path="timeline"),
        "export": st.Page(pages.page_export, title="Export", icon=":material/download:", url_path="export"),
    }


def main() -> None:
    state.configure(Store.at(os.environ.get("KG_DATA_DIR") or None), build_pages())
    nav = st.navigation(list(state.PAGES.values()))
    try:
        serve(nav)
    except KGError as exc:  # a damaged file, a held lock …: a short message, never a traceback
        st.error(esc_md(exc))


def serve(nav: st.Page) -> None:
    state.require_data()
    state.install_chrome()
    pages.sidebar()
    nav.run()


main()
