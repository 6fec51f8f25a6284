"""Session, data and navigation helpers of the app (Streamlit code, used by kgapp's pages and app.py).

View state has one source of truth: the widgets. Every widget that belongs in the URL is bound to
it (`bind="query-params"`: the browser writes the URL when the user changes it, without a history
entry, and reads it on a page load, Back or Forward), and the app itself never writes
`st.query_params`; a record is named by `?paper=`, which only navigation sets (links, pickers).
Cached resources (corpus, graph, model, searcher) load once per server process and data stamp;
the model loads in the background, so search answers by words at once. The export selection lives
in the session, which in-app navigation keeps. Only `kg` is called here: no ranking, graph or
export logic.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence

import networkx as nx
import streamlit as st
from PIL import Image, ImageDraw

from kg.corpus import Corpus, Record
from kg.errors import AmbiguousError, KGError, NotFoundError, StaleIndexError
from kg.export import EXTENSIONS, FORMATS, build_export
from kg.graph.build import GraphInDuckDBError, load_graph
from kg.pipeline import BuildPlan
from kg.search import encoders
from kg.search.build import load_words_searcher
from kg.search.encoders import DEFAULT_MODEL, Encoder
from kg.search.engine import Searcher, load_searcher
from kg.search.index import read_manifest
from kg.store import Store
from kgapp import build as vbuild
from kgapp import links
from kgapp.escape import esc_md

_STORE: list[Store] = [Store.at()]  # the data directory app.py configured (one per server process)
PAGES: dict[str, st.Page] = {}  # the navigation's pages by name, registered by app.py
MIME = {"bibtex": "application/x-bibtex", "biblatex": "application/x-bibtex", "csl-json": "application/json",
        "ris": "application/x-research-info-systems", "markdown": "text/markdown"}
STYLES = ("apa", "ieee", "chicago-author-date", "nature")


def configure(store: Store, pages: dict[str, st.Page]) -> None:
    """Called by app.py on every run: the data directory and the pages to navigate between."""
    _STORE[0] = store
    PAGES.clear()
    PAGES.update(pages)


def store() -> Store:
    return _STORE[0]


def page_icon() -> Image.Image:
    """The favicon, drawn here (a small graph), so the browser fetches no icon from anywhere."""
    img = Image.new("RGBA", (64, 64), (0, 0, 0, 0))
    draw = ImageDraw.Draw(img)
    nodes = [(16, 16), (48, 20), (32, 48)]
    draw.line([nodes[0], nodes[1], nodes[2], nodes[0]], fill=(79, 134, 198, 255), width=5)
    for x, y in nodes:
        draw.ellipse((x - 9, y - 9, x + 9, y + 9), fill=(255, 193, 7, 255), outline=(31, 78, 121, 255),
                     width=3)
    return img


# ---- cached resources: each loads once per process and data stamp ------------------------------
@st.cache_resource(show_spinner="Loading the corpus…", max_entries=2)
def get_corpus(root: str, stamp: str) -> Corpus:
    return Corpus.load(Store.at(root))


@st.cache_resource(show_spinner="Loading the knowledge graph…", max_entries=2)
def get_graph(root: str, stamp: str) -> nx.MultiDiGraph:
    return load_graph(Store.at(root))


@st.cache_resource(show_spinner=False, max_entries=2)
def get_encoder(model: str) -> Encoder:
    return encoders.load_encoder(model)  # lazy: the weights load on first use (see model_ready)


@st.cache_resource(show_spinner=False, max_entries=2)
def get_query_encoder(root: str, model: str) -> Encoder:
    """The encoder of queries: the ONNX export of `kg build` (no torch), else the model itself."""
    return encoders.load_encoder(model, store=Store.at(root))


@st.cache_resource
def build_lock() -> threading.Lock:
    """One build at a time in this server process, whatever the number of sessions."""
    return threading.Lock()


@st.cache_resource(show_spinner="Loading the search index…", max_entries=2)
def get_searcher(root: str, stamp: str) -> Searcher:
    store = Store.at(root)
    manifest = read_manifest(store)
    encoder = get_query_encoder(root, manifest.model if manifest else DEFAULT_MODEL)
    return load_searcher(store, encoder)  # checked by its inputs' digest: no document is rebuilt


@st.cache_resource(show_spinner=False)
def _model_loader(root: str, model: str) -> dict[str, object]:
    """Load the query encoder (the searcher's) in a background thread, once per process and data
    directory: {"thread", "error"}."""
    job: dict[str, object] = {"error": None}
    encoder = get_query_encoder(root, model)

    def load() -> None:
        try:
            encoder.encode(["warm up"])
        except Exception as exc:  # noqa: BLE001 - shown to the user as one line; search stays by words
            job["error"] = f"{type(exc).__name__}: {exc}"

    thread = threading.Thread(target=load, name=f"kg-model-{model}", daemon=True)
    job["thread"] = thread
    thread.start()
    return job


def model_ready(searcher: Searcher) -> bool:
    """Whether queries can be encoded now; starts loading the model in the background if not."""
    if getattr(searcher.encoder, "loaded", True):
        return True
    job = _model_loader(str(store().root), searcher.model)
    if job["error"]:
        st.warning(f"The language model could not load ({esc_md(job['error'])}); searching by words only.")
    return False


def stamp() -> str:
    return vbuild.data_stamp(store())


def corpus() -> Corpus:
    return get_corpus(str(store().root), stamp())


def graph() -> nx.MultiDiGraph:
    """The graph of the last build, or an explanation and a stop: while a first start builds it, a line
    saying so; stale or damaged, a button that runs the build (the app never shows a lesser graph)."""
    if building() is not None:
        st.info("The knowledge graph is being built (first start); this page is ready in a moment.")
        st.stop()
    try:
        return get_graph(str(store().root), stamp())
    except StaleIndexError as exc:
        st.warning(f"The knowledge graph cannot be used: {esc_md(exc)}")
        if st.button("Build it now", key="rebuild-graph"):
            run_build()
        st.stop()
    except GraphInDuckDBError as exc:  # a corpus above the networkx threshold: the CLI queries it
        st.info(f"The knowledge graph cannot be shown here: {esc_md(exc)}")
        st.stop()


def searcher() -> Searcher:
    """The searcher (by words only while a first start builds the index), or an explanation and a stop
    (stale index: a button rebuilds it)."""
    if building() is not None:
        return get_words_searcher(str(store().root), stamp())
    try:
        return get_searcher(str(store().root), stamp())
    except StaleIndexError as exc:
        st.warning(f"The search index cannot be used: {esc_md(exc)}")
        if st.button("Rebuild the index now", key="rebuild"):
            run_build()
        st.stop()


# ---- first start: the build runs in the background; search answers by words meanwhile ------------
@st.cache_resource(show_spinner=False)
def _build_jobs() -> dict[str, dict[str, object]]:
    """The first-start build of each data directory in this server process (one at a time)."""
    return {}


@st.cache_resource(show_spinner=False, max_entries=2)
def get_words_searcher(root: str, stamp: str) -> Searcher:
    return load_words_searcher(Store.at(root), get_corpus(root, stamp), get_encoder(DEFAULT_MODEL))


def _run_build(root: str, job: dict[str, object]) -> None:
    """kg.pipeline's plan (the one `kg build` runs), in a background thread; progress into `job`."""
    def step(i: int, n: int, label: str) -> None:
        job.update(step=i, n=n, label=label)

    try:
        with build_lock():
            plan = BuildPlan(Store.at(root), make_encoder=lambda name: get_encoder(name or DEFAULT_MODEL),
                             command="the app's first start")
            plan.run(on_step=step)
    except Exception as exc:  # noqa: BLE001 - shown as one line; the next page view tries again
        job["error"] = f"{type(exc).__name__}: {exc}"
    finally:
        job["done"] = True


def building() -> dict[str, object] | None:
    """The running first-start build (started here when the index or graph is missing), else None."""
    root = str(store().root)
    jobs = _build_jobs()
    with build_lock_for_jobs():
        job = jobs.get(root)
        if job is not None and not job["done"]:
            return job
        if not vbuild.missing_parts(store()):
            return None
        if job is not None and job["error"]:
            st.error(f"The first-start build failed ({esc_md(job['error'])}); run `kg build`.")
            st.stop()
        job = {"step": 0, "n": 1, "label": "Starting", "done": False, "error": None}
        jobs[root] = job
        threading.Thread(target=_run_build, args=(root, job), name="kg-first-build", daemon=True).start()
        return job


@st.cache_resource
def build_lock_for_jobs() -> threading.Lock:
    return threading.Lock()


@st.fragment(run_every=1.0)
def build_status() -> None:
    """The first-start build's progress; the app reruns when it is done."""
    job = _build_jobs().get(str(store().root))
    if job is None or job["done"]:
        st.rerun(scope="app")
        return
    step, n = int(job["step"]), int(job["n"])  # type: ignore[call-overload]
    st.progress(step / n, text=f"First start: step {step + 1} of {n}: {job['label']}… (offline, once; search "
                               "matches by words until it is done)")


def run_build() -> None:
    """Rebuild a stale index now, with a progress bar (kg.pipeline's plan), then rerun."""
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
    if building() is not None:
        build_status()


# ---- page chrome, links and navigation ----------------------------------------------------------
def install_chrome() -> None:
    """The tables' style and the in-app link handler (kgapp.links), once per run (in the sidebar, apart
    from the pages' content)."""
    with st.sidebar:
        st.html(links.STYLE + links.NAV_SCRIPT, unsafe_allow_javascript=True)


def html(block: str) -> None:
    """Escaped HTML built by kgapp.links (links, tables); no script runs in it."""
    st.html(block)


def table(rows: Sequence[dict[str, str]], columns: Sequence[links.Column], empty: str | None = None) -> None:
    """An HTML table whose record cells link to their paper pages; `empty` (one line) when no rows."""
    if rows:
        html(links.html_table(rows, columns))
    elif empty:
        st.caption(empty)


def go(page: str, **params: str) -> None:
    """Navigate to a page (a history entry; Back returns)."""
    st.switch_page(PAGES[page], query_params=params or None)


def jump_picker(key: str, options: dict[str, str], page: str, label: str, placeholder: str) -> None:
    """A picker that opens the chosen record on `page` (`?paper=`): navigation, not view state."""
    def chosen() -> None:
        st.session_state[f"_{key}_go"] = st.session_state[key]
        st.session_state[key] = None

    st.selectbox(label, list(options), format_func=lambda i: options[i], key=key, index=None,
                 placeholder=placeholder, on_change=chosen)
    target = st.session_state.pop(f"_{key}_go", None)
    if target:
        go(page, paper=target)


def suggestions(c: Corpus, name: str, limit: int = 5) -> list[str]:
    """Ids of the records closest to `name` (kg's one name scorer); a name whose number no record has
    ("Imagen 3") is compared without its numbers, so the family it names is still suggested."""
    rows = c.names.closest(name, limit=limit) or c.names.closest(re.sub(r"\d+", " ", name), limit=limit)
    return [rid for rid, _, _ in rows]


def resolve_record(name: str | None) -> str | None:
    """The record `name` names exactly (id, arXiv id, short name or title), or None with one line that
    says so and links to the closest records."""
    if not name or not name.strip():
        return None
    c = corpus()
    try:
        return c.resolve(name, fuzzy=False)
    except AmbiguousError as exc:
        ids = [i.split(" ")[0] for i in exc.candidates if i.split(" ")[0] in c]
        st.warning(f"‘{esc_md(name)}’ names several records; pick one:")
    except NotFoundError:
        ids = suggestions(c, name)
        st.warning(f"No paper matches ‘{esc_md(name)}’." + (" Closest:" if ids else ""))
    except KGError as exc:
        st.warning(esc_md(exc))
        return None
    if ids:
        html(links.link_list((i, c.get(i).label, f" — {c.get(i).title}" if c.get(i).title != c.get(i).label
                              else "") for i in dict.fromkeys(ids)))
    return None


# ---- the export selection (in the session) -------------------------------------------------------
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


def export_widget(records: list[Record], key: str) -> None:
    """Format (and style) pickers, a preview and a download button for `records`."""
    c1, c2 = st.columns(2)
    fmt = c1.selectbox("Format", FORMATS, key=f"{key}-fmt")
    style = c2.selectbox("Citation style", STYLES, key=f"{key}-style") if fmt == "markdown" else None
    try:
        result = build_export(records, fmt, style=style, store=store())
    except KGError as exc:
        st.error(esc_md(exc))
        return
    name = f"paper-kg-{key}{EXTENSIONS[fmt]}"
    st.download_button(f"Download {name}", result.text, file_name=name, mime=MIME[fmt], key=f"{key}-dl",
                       type="primary", on_click="ignore")
    st.code(result.text, language="bibtex" if "bib" in fmt else "json" if fmt == "csl-json" else None,
            height="content" if result.text.count("\n") < 40 else 640)
