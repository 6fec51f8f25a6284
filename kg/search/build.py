"""Building the search index (full, updated or kept), the `similar_to` edges it gives the graph, and the
words-only searcher the app answers with while a first build runs. `kg.pipeline.BuildPlan` is the one
build plan that calls these; `build_search_index` is its index step on its own (tests, benchmarks)."""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

import numpy as np

from kg.errors import StaleIndexError
from kg.search import encoders
from kg.search.bm25 import build_bm25
from kg.search.documents import Document, Filters
from kg.search.encoders import CachedEncoder, EmbeddingCache, Encoder, SentenceTransformerEncoder, text_key
from kg.search.engine import Hit, Searcher, SearchSettings, check_mode
from kg.search.index import (
    INDEX_FORMAT,
    IndexData,
    Manifest,
    build_index,
    build_index_data,
    read_manifest,
    record_inputs,
)
from kg.search.inputs import corpus_documents, corpus_hash, document_digests, snapshot_files, snapshot_inputs
from kg.search.query_encoder import ensure_query_export
from kg.search.update import plan_update, update_index_data
from kg.search.vectors import SentenceVectors
from kg.store import Store

if TYPE_CHECKING:
    from kg.corpus import Corpus
    from kg.model import Edge

log = logging.getLogger(__name__)


def build_search_index(store: Store, encoder: Encoder | None = None, *, corpus: Corpus | None = None,
                       model: str | None = None, force: bool = False, progress: bool = False,
                       use_cache: bool = True) -> tuple[Manifest, bool]:
    """(manifest, rebuilt): rebuild the index unless it already fits the corpus and model. The model is
    `encoder`, else `model`, else the current index's model, else the bundled all-MiniLM-L6-v2.

    An index whose corpus gained, changed or lost a few documents is updated (kg.search.update: only
    those documents are embedded). With `use_cache`, sentence vectors are kept in
    store.build_dir/embeddings, so a full rebuild embeds only sentences never seen before."""
    files = snapshot_files(store) if corpus is None else None  # inputs are known only for the snapshot
    documents = corpus_documents(store, corpus)
    digests = document_digests(documents)  # once: the corpus hash, the update's comparison, digests.npy
    try:
        current = read_manifest(store)
    except StaleIndexError as exc:  # an unreadable manifest is what `kg build` is there to repair
        log.warning("%s", exc)
        current = None
    model = model or (current.model if current else None)  # keep the index's model unless told otherwise
    name = encoder.name if encoder is not None else SentenceTransformerEncoder(model).name
    inputs = snapshot_inputs(store, name, files) if files else ""
    if not force and current is not None and index_fits(current, digests, name, encoder):
        ensure_query_export(store, current.model, encoder or encoders.load_encoder(current.model))
        return record_inputs(store, current, documents, inputs), False
    encoder = encoder or encoders.load_encoder(model)
    delta = None if force or current is None else plan_update(store, current, documents, encoder.name,
                                                                       digests=digests)
    if current is not None and delta is not None:  # a few documents added, changed or removed
        manifest = update_index_data(store, encoder, current, documents, delta, inputs=inputs).manifest
    elif not use_cache:
        manifest = build_index(store, encoder, documents, progress=progress, inputs=inputs, digests=digests)
    else:
        cached = CachedEncoder(encoder, EmbeddingCache.for_store(store, encoder.name))
        manifest = build_index(store, cached, documents, progress=progress, inputs=inputs, digests=digests)
        cached.cache.retain({text_key(s.text) for d in documents for s in d.sentences})
        cached.cache.save()
    ensure_query_export(store, manifest.model, encoder)
    return manifest, True


def index_fits(manifest: Manifest, digests: np.ndarray, name: str, encoder: Encoder | None) -> bool:
    """True when the index of `manifest` was built with this model from the documents whose
    document_digests are `digests` (their corpus hash is the manifest's)."""
    same_dim = encoder is None or encoder.dimension == manifest.dimension
    return (manifest.model == name and same_dim and manifest.format == INDEX_FORMAT
            and manifest.corpus_hash == corpus_hash(digests))


def build_searcher(store: Store, encoder: Encoder, documents: Sequence[Document], *, progress: bool = False,
                   use_cache: bool = True, inputs: str = "", digests: np.ndarray | None = None) -> Searcher:
    """Embed, index and persist `documents` (sentence vectors cached, see `build_search_index`) and
    return the searcher over the new index as it is in memory (nothing is read back). `inputs`: the
    inputs digest of the snapshot the documents were built from (`snapshot_inputs`), when they were;
    `digests`: their document_digests, when the caller has them."""
    if not use_cache:
        data = build_index_data(store, encoder, documents, progress=progress, inputs=inputs, digests=digests)
        return Searcher(documents, data, encoder)
    cached = CachedEncoder(encoder, EmbeddingCache.for_store(store, encoder.name))
    data = build_index_data(store, cached, documents, progress=progress, inputs=inputs, digests=digests)
    cached.cache.retain({text_key(s.text) for d in documents for s in d.sentences})
    cached.cache.save()
    return Searcher(documents, data, encoder)


def similar_edges(searcher: Searcher, k: int = 5, min_score: float = 0.0) -> list[Edge]:
    """`similar_to` edges from each paper to its `k` nearest papers scoring at least `min_score`
    (model releases are searchable but take no part in `similar_to`)."""
    return list(iter_similar_edges(searcher, k, min_score))


def iter_similar_edges(searcher: Searcher, k: int = 5, min_score: float = 0.0,
                       batch: int = 50_000) -> Iterator[Edge]:
    """The edges of `similar_edges` one at a time (a million papers' edges as objects would take GBs),
    the neighbours searched `batch` papers at a time."""
    from kg.model import Edge

    docs = searcher.documents
    papers = np.array([i for i, d in enumerate(docs) if d.kind == "paper"], dtype=np.int64)
    if not len(papers):
        return
    depth = min(k + 1 + len(docs) - len(papers), len(docs))
    provenance = f"index:{searcher.model}"
    for start in range(0, len(papers), batch):
        some = papers[start:start + batch]
        vectors = np.ascontiguousarray(searcher.index.doc_vectors[some], dtype=np.float32)
        scores, ids = searcher.index.dense.search(vectors, depth)
        for i, row_scores, row_ids in zip(some.tolist(), scores.tolist(), ids.tolist(), strict=True):
            kept = [(s, j) for s, j in zip(row_scores, row_ids, strict=True)
                    if j >= 0 and j != i and docs[j].kind == "paper"][:k]
            for s, j in kept:
                if s >= min_score:
                    yield Edge(source=docs[i].id, target=docs[j].id, kind="similar_to", provenance=provenance,
                               score=round(float(s), 4))


def load_words_searcher(store: Store, corpus: Corpus, encoder: Encoder, settings: SearchSettings | None = None
                        ) -> Searcher:
    """A searcher that matches by words only (BM25 over the same documents), built in memory in about
    a second: what the app answers with while the index is being built on a first start. Searching by
    meaning with it raises StaleIndexError; `similar` finds nothing."""
    documents = corpus_documents(store, corpus)
    offsets = np.concatenate([[0], np.cumsum([len(d.sentences) for d in documents])]).astype(np.int64)
    n = int(offsets[-1])
    manifest = Manifest(model=encoder.name, dimension=0, corpus_hash=corpus_hash(document_digests(documents)),
                        package_version="in memory", n_documents=len(documents), n_sentences=int(offsets[-1]),
                        index_type="words only", build_id="", built_at="")
    data = IndexData(manifest, np.zeros((len(documents), 0), np.float32),
                     SentenceVectors(np.zeros((n, 0), np.int8), np.zeros(n, np.float16)), offsets, None,
                     build_bm25(documents))
    return _WordsSearcher(documents, data, encoder, settings)


class _WordsSearcher(Searcher):
    def search(self, query: str, k: int = 10, mode: str | None = None, filters: Filters | None = None,
               *, evidence: bool = True) -> list[Hit]:
        if check_mode(mode) != "bm25":
            raise StaleIndexError("the search index is still being built: only matching by words for now")
        return super().search(query, k, mode, filters, evidence=evidence)

    def similar(self, record_id: str, k: int = 10) -> list[Hit]:
        return []
