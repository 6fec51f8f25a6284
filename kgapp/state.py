"""Session, data and navigation helpers of the app (Streamlit code, used by kgapp.pages and app.py).

Cached resources (corpus, graph, model, searcher) load once per server process and data stamp;
the first start builds data/build with a progress bar; record pickers follow the URL; the export
selection lives in the session. Only `kg` is called here: no ranking, graph or export logic.
"""

from __future__ import annotations

import threading

import pandas as pd
import streamlit as st

from kg.corpus import Corpus, Record
from kg.errors import KGError, StaleIndexError
from kg.export import EXTENSIONS, FORMATS, build_export
from kg.graph.build import load_graph
from kg.pipeline import BuildPlan
from kg.search.encoders import DEFAULT_MODEL, Encoder, load_encoder
from kg.search.engine import Searcher, load_searcher
from kg.search.index import read_manifest
from kg.store import Store
from kgapp import build as vbuild
from kgapp.escape import esc_md

_STORE: list[Store] = [Store.at()]  # the data directory app.py configured (one per server process)
PAGES: dict[str, st.Page] = {}  # the navigation's pages by name, registered by app.py


def configure(store: Store, pages: dict[str, st.Page]) -> None:
    """Called by app.py on every run: the data directory and the pages to navigate between."""
    _STORE[0] = store
    PAGES.clear()
    PAGES.update(pages)


def store() -> Store:
    return _STORE[0]


MIME = {"bibtex": "application/x-bibtex", "biblatex": "application/x-bibtex", "csl-json": "application/json",
        "ris": "application/x-research-info-systems", "markdown": "text/markdown"}
STYLES = ("apa", "ieee", "chicago-author-date", "nature")


# ---- cached resources: each loads once per process and data stamp ------------------------------
@st.cache_resource(show_spinner="Loading the corpus…", max_entries=2)
def get_corpus(root: str, stamp: str) -> Corpus:
    return Corpus.load(Store.at(root))


@st.cache_resource(show_spinner="Loading the knowledge graph…", max_entries=2)
def get_graph(root: str, stamp: str):
    return load_graph(Store.at(root))


@st.cache_resource(show_spinner="Loading the embedding model…", max_entries=2)
def get_encoder(model: str) -> Encoder:
    return load_encoder(model)


@st.cache_resource(show_spinner="Loading the query encoder…", max_entries=2)
def get_query_encoder(root: str, model: str) -> Encoder:
    """The encoder of queries: the ONNX export of `kg build` (no torch), else the model itself."""
    return load_encoder(model, store=Store.at(root))


@st.cache_resource
def build_lock() -> threading.Lock:
    """One build at a time in this server process, whatever the number of sessions."""
    return threading.Lock()


@st.cache_resource(show_spinner="Loading the search index…", max_entries=2)
def get_searcher(root: str, stamp: str) -> Searcher:
    store = Store.at(root)
    manifest = read_manifest(store)
    encoder = get_query_encoder(root, manifest.model if manifest else DEFAULT_MODEL)
    return load_searcher(store, encoder, corpus=get_corpus(root, stamp))


def stamp() -> str:
    return vbuild.data_stamp(store())


def corpus() -> Corpus:
    return get_corpus(str(store().root), stamp())


def graph():
    """The graph of the last build, or an explanation and a stop (stale or damaged: a button runs
    the build; the app never shows a lesser graph built on the spot)."""
    try:
        return get_graph(str(store().root), stamp())
    except StaleIndexError as exc:
        st.warning(f"The knowledge graph cannot be used: {exc}")
        if st.button("Build it now", key="rebuild-graph"):
            run_build()
        st.stop()


def searcher() -> Searcher:
    """The searcher, or an explanation and a stop (stale index: a button rebuilds it)."""
    try:
        return get_searcher(str(store().root), stamp())
    except StaleIndexError as exc:
        st.warning(f"The search index cannot be used: {exc}")
        if st.button("Rebuild the index now", key="rebuild"):
            run_build()
        st.stop()


# ---- first start --------------------------------------------------------------------------------
def run_build() -> None:
    """Build data/build with a progress bar (kg.pipeline's plan, the one `kg build` runs), then rerun."""
    lock = build_lock()
    if not lock.acquire(blocking=False):
        with st.spinner("Another session is building; waiting for it…"):
            lock.acquire()
    try:
        plan = BuildPlan(store(), make_encoder=lambda name: get_encoder(name or DEFAULT_MODEL),
                         command="the app's first start")
        bar = st.progress(0.0, text="Building the search index and the graph…")

        def show(i: int, n: int, label: str) -> None:
            bar.progress(i / n, text=f"Step {i + 1} of {n}: {label}…")

        plan.run(on_step=show)
        bar.progress(1.0, text="Built. Starting…")
    finally:
        lock.release()
    st.rerun()


def require_data() -> None:
    if not store().papers_path.exists():
        st.info(f"No corpus snapshot in {esc_md(store().root)}: run `kg ingest` to read the reading lists "
                "first.")
        st.stop()
    missing = vbuild.missing_parts(store())
    if missing:
        st.title("Paper KG")
        st.info(f"First start: building the {' and the '.join(missing)} under {esc_md(store().build_dir)} "
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
    chosen = st.selectbox("Paper or model release", list(options), key=key, format_func=options.__getitem__)
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
    if len(rows) <= 30:  # a static table: always drawn, wraps long text, prints well
        literal = frame.map(lambda v: esc_md(v) if isinstance(v, str) else v)  # cells render Markdown
        st.table(literal.set_index(literal.columns[0]))
    else:
        st.dataframe(frame, hide_index=True)


def export_widget(records: list[Record], key: str) -> None:
    """Format (and style) pickers, a preview and a download button for `records`."""
    c1, c2 = st.columns(2)
    fmt = c1.selectbox("Format", FORMATS, key=f"{key}-fmt")
    style = c2.selectbox("Citation style", STYLES, key=f"{key}-style") if fmt == "markdown" else None
    try:
        result = build_export(records, fmt, style=style, store=store())
    except KGError as exc:
        st.error(str(exc))
        return
    name = f"paper-kg-{key}{EXTENSIONS[fmt]}"
    st.download_button(f"Download {name}", result.text, file_name=name, mime=MIME[fmt], key=f"{key}-dl",
                       type="primary", on_click="ignore")
    st.code(result.text, language="bibtex" if "bib" in fmt else "json" if fmt == "csl-json" else None,
            height="content" if result.text.count("\n") < 40 else 640)


