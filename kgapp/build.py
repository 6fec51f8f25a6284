"""First start: what is missing under data/build, the steps that make it, and a stamp of the data.

The app shows a progress bar while it runs the steps of `plan_build` one by one (the same work as
`kg build`); `data_stamp` changes whenever an input or a build output changes, so cached objects
in the app (corpus, graph, searcher) are rebuilt after `kg ingest`, `kg fetch` or `kg build`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass

from kg.corpus import Corpus
from kg.errors import StaleIndexError
from kg.graph.build import GRAPH_FILE, save_graph
from kg.pipeline import build_full_graph
from kg.search.encoders import Encoder
from kg.search.engine import build_search_index
from kg.search.index import manifest_path, read_manifest
from kg.store import Store


@dataclass
class BuildStep:
    """One step of a build: what it does (shown beside the progress bar) and the work itself."""

    label: str
    run: Callable[[], object]


def missing_parts(store: Store) -> list[str]:
    """The build outputs that do not exist yet: "search index", "graph" (empty when built)."""
    missing = []
    try:
        manifest = read_manifest(store)
    except StaleIndexError:  # an unreadable manifest: building again is the remedy
        manifest = None
    if manifest is None:
        missing.append("search index")
    if not store.build_path(GRAPH_FILE).exists():
        missing.append("graph")
    return missing


def plan_build(store: Store, load_encoder: Callable[[], Encoder]) -> list[BuildStep]:
    """The steps that build the search index and the graph of the store's corpus, in order."""
    state: dict[str, object] = {}

    def load_corpus() -> None:
        state["corpus"] = Corpus.load(store)

    def load_model() -> None:
        encoder = load_encoder()
        encoder.dimension  # noqa: B018 - loads the model's weights now, so this step is the one that waits
        state["encoder"] = encoder

    def index() -> None:
        build_search_index(store, state["encoder"], corpus=state["corpus"], force=True)  # type: ignore[arg-type]

    def graph() -> None:
        save_graph(store, build_full_graph(store, state["corpus"]))  # type: ignore[arg-type]

    return [BuildStep("Reading the corpus snapshot", load_corpus),
            BuildStep("Loading the embedding model", load_model),
            BuildStep("Embedding the papers and building the search index", index),
            BuildStep("Building the knowledge graph", graph)]


def data_stamp(store: Store) -> str:
    """A short digest of the size and modification time of every input and build output."""
    h = hashlib.sha256()
    for path in (store.papers_path, store.systems_path, store.edges_path, store.lineage_path,
                 manifest_path(store), store.build_path(GRAPH_FILE)):
        st = path.stat() if path.exists() else None
        h.update(f"{path}:{st.st_size if st else -1}:{st.st_mtime_ns if st else -1};".encode())
    return h.hexdigest()[:16]
