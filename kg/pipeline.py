"""The one build plan: documents → search index → graph with `similar_to` edges, as one generation.

`kg build`, `kg graph build` and the app's first start all run `BuildPlan(store, …).run()`:

1. check the current build generation against its checksums (kg.generations) and carry every part
   that verifies into a fresh staging generation (nothing with `force`);
2. read the corpus snapshot and build the search documents and their digests (once: the corpus hash
   of every check, the update's comparison and digests.npy are made of them);
3. if the carried index does not fit the corpus: when only some documents were added, changed or
   removed and the model is the same, update it (kg.search.update: only those documents are embedded,
   the other rows are copied); else (missing, corrupt, another model, `force`) load the model (the
   index's own unless `model` names another) and build the index; the searcher is handed on in
   memory, never read back;
4. export the query encoder to ONNX (`encoder/`) unless the carried export verifies;
5. build the graph with `similar_to` edges from that searcher and save it: networkx up to
   `graph_sql_above` records (kg.graph.build.GRAPH_SQL_THRESHOLD), DuckDB tables above (kg.graph.table);
6. commit the generation: every file listed with size and sha256, then the pointer, in one step.

All of it under the data directory's writer lock (kg.lock). A kill at any instant leaves the old
generation or the new one. A loader never builds a lesser graph: without a current graph it stops
with "run `kg build`" (`kg.graph.build.load_graph`).

To add outputs to a build (e.g. an exported query encoder), write them under `state.store.build_dir`
in a step: the commit lists and checksums them; the next build carries them when they verify.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field

import networkx as nx
import numpy as np

from kg.corpus import Corpus
from kg.errors import KGError, StaleIndexError
from kg.generations import Staging, Verification, verify
from kg.graph.build import GRAPH_DB_FILE, GRAPH_FILE, GRAPH_SQL_THRESHOLD, BuildReport, build_and_save
from kg.lineage import load_lineage
from kg.lock import writer_lock
from kg.search import encoders
from kg.search.build import build_searcher, index_fits, iter_similar_edges
from kg.search.documents import Document
from kg.search.encoders import EmbeddingCache, Encoder, SentenceTransformerEncoder
from kg.search.engine import Searcher
from kg.search.index import Manifest, load_index, read_manifest, record_inputs
from kg.search.inputs import corpus_documents, document_digests, snapshot_files, snapshot_inputs
from kg.search.query_encoder import ensure_query_export
from kg.search.update import Delta, plan_update, update_index_data
from kg.store import Store

log = logging.getLogger(__name__)

SIMILAR_K = 5  # nearest neighbours kept as `similar_to` edges for each paper
SIMILAR_MIN_SCORE = 0.5  # cosine similarity below which a neighbour is not called similar
REBUILT_EVERY_TIME = (GRAPH_FILE, GRAPH_DB_FILE)  # parts cheap enough to rebuild on every run (never carried)


@dataclass
class BuildResult:
    manifest: Manifest
    index_rebuilt: bool
    graph: nx.MultiDiGraph[str] | None  # None: the corpus is above the threshold, the graph is in DuckDB
    report: BuildReport
    generation: str = ""
    repaired: dict[str, list[str]] = field(default_factory=dict)  # parts found missing or corrupt
    index_updated: bool = False  # the index was updated for added/changed/removed documents (not rebuilt)


@dataclass
class BuildStep:
    """One step of a build: what it does (shown beside a progress bar) and the work itself."""

    label: str
    run: Callable[[], None]


@dataclass
class _State:
    staging: Staging | None = None
    checked: Verification | None = None
    corpus: Corpus | None = None
    documents: list[Document] = field(default_factory=list)
    digests: np.ndarray | None = None  # kg.search.inputs.document_digests(documents), computed once
    files: str = ""  # digest of the snapshot files, taken before reading them (engine.snapshot_files)
    encoder: Encoder | None = None
    searcher: Searcher | None = None
    rebuilt: bool = False
    delta: Delta | None = None  # set when the carried index is updated rather than rebuilt
    graph: nx.MultiDiGraph[str] | None = None
    report: BuildReport = field(default_factory=BuildReport)


class BuildPlan:
    """The steps of one build (see the module doc); `run` holds the lock and commits."""

    def __init__(self, store: Store, *, encoder: Encoder | None = None, model: str | None = None,
                 force: bool = False, progress: bool = False,
                 make_encoder: Callable[[str | None], Encoder] | None = None,
                 command: str = "kg build", on_wait: Callable[[str], None] | None = None,
                 graph_sql_above: int = GRAPH_SQL_THRESHOLD):
        self.store = Store(store.root)  # the current generation, not a pinned one
        self.graph_sql_above = graph_sql_above
        self.encoder, self.model, self.force, self.progress = encoder, model, force, progress
        self.make_encoder = make_encoder or (lambda name: encoders.load_encoder(name))
        self.command, self.on_wait = command, on_wait
        self.state = _State()
        self.steps = [BuildStep("Checking the last build", self._check),
                      BuildStep("Reading the corpus snapshot", self._read_corpus),
                      BuildStep("Loading the embedding model", self._load_model),
                      BuildStep("Embedding the papers and building the search index", self._index),
                      BuildStep("Exporting the query encoder", self._export),
                      BuildStep("Building the knowledge graph", self._graph)]

    def run(self, on_step: Callable[[int, int, str], None] | None = None) -> BuildResult:
        """Run every step (`on_step(i, n, label)` before each), then commit the generation."""
        with writer_lock(self.store, self.command, on_wait=self.on_wait):
            self.state.staging = Staging.begin(self.store)
            try:
                for i, step in enumerate(self.steps):
                    if on_step is not None:
                        on_step(i, len(self.steps), step.label)
                    step.run()
                name = self.state.staging.commit()
            except BaseException:
                self.state.staging.abort()
                raise
        return self._result(name)

    # ---- the steps -------------------------------------------------------------------------
    def _check(self) -> None:
        staging = self._staging()
        checked = self.state.checked = verify(self.store)
        for part, problems in checked.problems.items():
            log.warning("build part %s is damaged, rebuilding it: %s", part, "; ".join(problems[:3]))
        if not self.force:
            staging.carry([p for p in checked.good if p not in REBUILT_EVERY_TIME], checked)

    def _read_corpus(self) -> None:
        self.state.files = snapshot_files(self.store)
        self.state.corpus = Corpus.require(self.store)
        self.state.documents = corpus_documents(self.store, self.state.corpus)
        self.state.digests = document_digests(self.state.documents)

    def _current_manifest(self) -> Manifest | None:
        try:
            return read_manifest(self._staging().store)
        except StaleIndexError as exc:
            log.warning("%s", exc)
            return None

    def _load_model(self) -> None:
        current = self._current_manifest()
        model = self.model or (current.model if current else None)  # keep the index's model
        name = self.encoder.name if self.encoder is not None else SentenceTransformerEncoder(model).name
        digests = self.state.digests
        assert digests is not None
        if current is not None and index_fits(current, digests, name, self.encoder):
            self.state.encoder = self.encoder or self.make_encoder(current.model)  # loads lazily: unused
            _drop_damaged_cache(self.store, current.model)
            return
        delta = None if current is None else plan_update(self._staging().store, current, self.state.documents,
                                                         name, digests=digests)
        encoder = self.state.encoder = self.encoder or self.make_encoder(model)
        if delta is None or len(delta.embedded):  # a removal alone needs no model
            encoder.dimension  # noqa: B018 - loads the weights now, so this is the step that waits
        if delta is not None and len(delta.embedded) and current is not None \
                and encoder.dimension != current.dimension:
            delta = None
        self.state.delta, self.state.rebuilt = delta, delta is None

    def _index(self) -> None:
        store, encoder = self._staging().store, self.state.encoder
        assert encoder is not None
        inputs = snapshot_inputs(self.store, encoder.name, self.state.files)
        if self.state.delta is not None:
            current = self._current_manifest()
            assert current is not None
            data = update_index_data(store, encoder, current, self.state.documents, self.state.delta,
                                     inputs=inputs, progress=self.progress)
            self.state.searcher = Searcher(self.state.documents, data, encoder)
        elif self.state.rebuilt:
            self.state.searcher = build_searcher(store, encoder, self.state.documents, progress=self.progress,
                                                 inputs=inputs, digests=self.state.digests)
        else:  # the carried index, checked against these documents (built once, here)
            documents = self.state.documents
            current = self._current_manifest()  # fits these documents (`_load_model`)
            if current is not None:
                record_inputs(store, current, documents, inputs)  # so queries need not build documents
            data = load_index(store, encoder, documents, self.state.digests)
            self.state.searcher = Searcher(documents, data, encoder)

    def _export(self) -> None:
        """The ONNX query encoder (kg.search.query_encoder) in the `encoder` part: carried when it
        verifies, else exported from the index's model (loaded only then)."""
        searcher = self.state.searcher
        assert searcher is not None
        ensure_query_export(self._staging().store, searcher.model, self.state.encoder)

    def _graph(self) -> None:
        searcher, corpus = self.state.searcher, self.state.corpus
        assert searcher is not None and corpus is not None
        edges = iter_similar_edges(searcher, k=SIMILAR_K, min_score=SIMILAR_MIN_SCORE)
        self.state.graph = build_and_save(self._staging().store, corpus, load_lineage(self.store), edges,
                                          report=self.state.report, sql_above=self.graph_sql_above)

    # ---- helpers ---------------------------------------------------------------------------
    def _staging(self) -> Staging:
        if self.state.staging is None:
            raise KGError("a build step ran outside BuildPlan.run")
        return self.state.staging

    def _result(self, name: str) -> BuildResult:
        s = self.state
        assert s.searcher is not None and s.checked is not None
        return BuildResult(s.searcher.index.manifest, s.rebuilt, s.graph, s.report, name,
                           dict(s.checked.problems), index_updated=s.delta is not None)


def _drop_damaged_cache(store: Store, model: str) -> None:
    """An embedding cache that cannot be read is removed now (it would be dropped when next used)."""
    cache = EmbeddingCache.for_store(store, model)
    if cache.damaged and cache.path is not None:
        cache.path.unlink(missing_ok=True)


def build_all(store: Store, *, encoder: Encoder | None = None, model: str | None = None,
              force: bool = False, progress: bool = False,
              on_wait: Callable[[str], None] | None = None) -> BuildResult:
    """Build (or bring up to date, repairing what is damaged) the search index and the graph."""
    return BuildPlan(store, encoder=encoder, model=model, force=force, progress=progress,
                     on_wait=on_wait).run()
