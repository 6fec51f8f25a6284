"""First start: what is missing under data/build, and a stamp of the data.

The build itself is `kg.pipeline.BuildPlan`, the one plan `kg build` runs too; the app shows its
steps beside a progress bar (kgapp.state.run_build). `data_stamp` changes whenever an input or a
build output changes, so cached objects in the app (corpus, graph, searcher) are rebuilt after
`kg ingest`, `kg fetch` or `kg build`.
"""

from __future__ import annotations

import hashlib

from kg.errors import StaleIndexError
from kg.graph.build import GRAPH_FILE
from kg.search.index import manifest_path, read_manifest
from kg.store import Store


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


def data_stamp(store: Store) -> str:
    """A short digest of the build pointer and of the size and modification time of every input and
    build output."""
    h = hashlib.sha256()
    for path in (store.papers_path, store.systems_path, store.edges_path, store.lineage_path,
                 store.pointer_path, manifest_path(store), store.build_path(GRAPH_FILE)):
        st = path.stat() if path.exists() else None
        h.update(f"{path}:{st.st_size if st else -1}:{st.st_mtime_ns if st else -1};".encode())
    return h.hexdigest()[:16]
