"""Semantic search over the corpus: dense vectors, BM25 and their fusion, with the matching sentence.

Library API (the CLI and the app call only this):

    searcher = load_searcher(store)                 # the model loads once; reuse the searcher
    hits = searcher.search("which papers accelerate sampling?", k=10, mode="hybrid",
                           filters=Filters.from_options(year="2021:2024"))
    searcher.similar("2112.10752", k=5)             # nearest papers in embedding space

Building the index, the graph's `similar_to` edges and the app's words-only searcher: kg.search.build;
what an index is built from (documents, inputs digest): kg.search.inputs.

Scoring (docs/search.md, "How it ranks"): dense = (1 - s) * cos(query, document) + s * best
cos(query, sentence); bm25 = Lucene's BM25 (kg.search.bm25); hybrid = kg.search.fusion (score-normalised
fusion by default, exact names first); each hit's sentence and what matched: kg.search.evidence.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from dataclasses import field as dataclass_field
from functools import cached_property
from typing import TYPE_CHECKING

import faiss
import numpy as np

from kg.errors import BadInputError, DimensionMismatchError, NotFoundError, StaleIndexError
from kg.search.doctable import as_sequence, document_ids
from kg.search.documents import (
    Document,
    FilterIndex,
    Filters,
    Sentence,
)
from kg.search.encoders import (
    Encoder,
    load_encoder,
)
from kg.search.evidence import Evidence, first_per_segment, lineage_matches, pick_evidence, sentence_rows
from kg.search.fusion import EXACT_BONUS, NameIndex, fuse, ranks, top_positive
from kg.search.index import (
    IndexData,
    load_index,
    load_index_by_inputs,
    read_manifest,
)
from kg.search.inputs import corpus_documents, snapshot_inputs
from kg.search.query_encoder import query_threads
from kg.search.vectors import REFINE, compressed_search, top_exact
from kg.store import Store

if TYPE_CHECKING:  # loaded only where documents are built: a query process reads them from the index
    from kg.corpus import Corpus

log = logging.getLogger(__name__)

MODES = ("dense", "bm25", "hybrid")
DEFAULT_MODE = "hybrid"  # the best of the three on data/eval/queries.jsonl (docs/search.md)


@dataclass(frozen=True)
class SearchSettings:
    """Tunable constants of ranking, with the values docs/search.md reports results for."""

    rrf_k: int = 60  # reciprocal-rank fusion constant (Cormack et al. use 60)
    dense_weight: float = 0.31  # share of the dense component in fusion; BM25 gets the rest (docs/search.md)
    sentence_weight: float = 0.5  # share of the best sentence in a document's dense score
    candidates: int = 50  # documents each component brings to fusion (at least k)
    fusion: str = "convex"  # "convex" (score-normalised) or "rrf" (kg.search.fusion; docs/search.md)
    exact_names: bool = True  # hybrid: a paper whose title or short name is the whole query ranks first


@dataclass
class Hit:
    """One search result: the paper, its scores and ranks per component, and its best sentence."""

    id: str
    title: str
    year: int | None
    rank: int
    score: float
    mode: str
    dense_score: float | None = None
    dense_rank: int | None = None
    bm25_score: float | None = None
    bm25_rank: int | None = None
    sentence: str | None = None
    field: str | None = None  # "title", "abstract" or a note's "file:line"
    sentence_score: float | None = None
    exact_name: bool = False  # the query is this paper's title or one of its short names (ranked first)
    kind: str = "paper"  # "paper" or "system" (a model release)
    matched_by: str | None = None  # "words", "meaning" or "name" (kg.search.evidence)
    builds_on: list[str] = dataclass_field(default_factory=list)  # lineage parents' names holding query words

    def to_dict(self) -> dict[str, object]:
        return asdict(self)


@dataclass
class Ranking:
    """A ranking before hits are made: document numbers, best first, and per-component arrays."""

    docs: np.ndarray
    score: np.ndarray
    dense_score: np.ndarray | None = None
    dense_rank: np.ndarray | None = None
    bm25_score: np.ndarray | None = None
    bm25_rank: np.ndarray | None = None
    best_sentence: np.ndarray | None = None  # per document: its best sentence's number within it
    best_sentence_score: np.ndarray | None = None


@dataclass
class _Dense:
    """Dense scores of some documents, with the best sentence of each (number within the document)."""

    score: np.ndarray
    best_sentence: np.ndarray
    best_sentence_score: np.ndarray

    def take(self, order: np.ndarray) -> _Dense:
        return _Dense(self.score[order], self.best_sentence[order], self.best_sentence_score[order])


class Searcher:
    """Search over one loaded index with one encoder; cheap to query, load it once."""

    def __init__(self, documents: Sequence[Document], index: IndexData, encoder: Encoder,
                 settings: SearchSettings | None = None):
        self.documents = as_sequence(documents)  # a list, or the index's lazy DocumentTable
        self.index = index
        self.encoder = encoder
        self.settings = settings or SearchSettings()

    @cached_property
    def position(self) -> dict[str, int]:
        """Each document's number by id; built on first use (`similar`, eval, the app's paper page)
        from the ids alone."""
        return {doc_id: i for i, doc_id in enumerate(document_ids(self.documents))}

    @cached_property
    def filter_index(self) -> FilterIndex:
        """Built at the first filtered search (a search without filters never needs it)."""
        return FilterIndex(self.documents)

    @cached_property
    def names(self) -> NameIndex:
        """Built at the first hybrid search (BM25 and dense never need it; name keys repair text)."""
        return NameIndex([d.title, *d.aliases] for d in self.documents)

    @property
    def model(self) -> str:
        return self.index.manifest.model

    # ---- search --------------------------------------------------------------------------
    def search(self, query: str, k: int = 10, mode: str | None = None, filters: Filters | None = None,
               *, evidence: bool = True) -> list[Hit]:
        """The top `k` papers for `query`; an empty list when nothing matches (bm25) or passes filters."""
        query, mode = check_query(query), check_mode(mode)
        if k < 1:
            raise BadInputError(f"k must be at least 1, not {k}")
        allowed = None if filters is None or filters.is_empty else self.filter_index.mask(filters)
        qvec = self.encode_query(query) if mode != "bm25" else None
        qtokens = self.index.bm25.query_tokens(query) if mode != "dense" else []
        ranked = self.rank(mode, qvec, qtokens, allowed, depth=k, query=query)
        return [self._hit(ranked, j, mode, qvec, qtokens, evidence) for j in range(min(k, len(ranked.docs)))]

    def encode_query(self, query: str) -> np.ndarray:
        vector = np.asarray(self.encoder.encode([query])[0], dtype=np.float32)
        if vector.shape != (self.index.manifest.dimension,):
            raise DimensionMismatchError(
                f"model {self.encoder.name!r} gives {vector.shape[-1]}-dimensional vectors but the search "
                f"index holds {self.index.manifest.dimension}-dimensional ones; run `kg build`")
        return vector

    def rank(self, mode: str, qvec: np.ndarray | None, qtokens: Sequence[str],
             allowed: np.ndarray | None = None, depth: int = 0, query: str = "") -> Ranking:
        """Every candidate document, best first, with its component scores and ranks; each component
        brings max(`depth`, settings.candidates) candidates; hybrid puts exact names of `query` first."""
        n = max(depth, self.settings.candidates)
        if mode == "dense":
            docs = self._dense_candidates(qvec, allowed, n)
            dense = self._dense_scores(qvec, docs)
            order = np.lexsort((docs, -dense.score))
            d = dense.take(order)
            return Ranking(docs[order], d.score, d.score, np.arange(1, len(docs) + 1),
                           best_sentence=d.best_sentence, best_sentence_score=d.best_sentence_score)
        bm25_all = self._bm25_all(qtokens, allowed)
        bm25_docs = top_positive(bm25_all, n)
        if mode == "bm25":
            scores = bm25_all[bm25_docs]
            return Ranking(bm25_docs, scores, bm25_score=scores, bm25_rank=np.arange(1, len(bm25_docs) + 1))
        exact = self._exact(query, allowed)
        return self._fuse(qvec, bm25_all, np.union1d(bm25_docs, exact), exact, allowed, n)

    def _exact(self, query: str, allowed: np.ndarray | None) -> np.ndarray:
        if not self.settings.exact_names or not query:
            return np.zeros(0, dtype=np.int64)
        exact = self.names.exact(query)
        return exact if allowed is None else exact[allowed[exact]]

    def _fuse(self, qvec: np.ndarray | None, bm25_all: np.ndarray, bm25_docs: np.ndarray, exact: np.ndarray,
              allowed: np.ndarray | None, n: int) -> Ranking:
        docs = np.union1d(self._dense_candidates(qvec, allowed, n), bm25_docs)
        dense = self._dense_scores(qvec, docs)
        bm25 = bm25_all[docs]
        dense_rank = ranks(dense.score)
        bm25_rank = np.where(bm25 > 0, ranks(bm25), 0)
        st = self.settings
        fused = fuse(st.fusion, dense.score, bm25, dense_rank, bm25_rank, st.dense_weight, st.rrf_k)
        fused = fused + np.isin(docs, exact) * EXACT_BONUS
        order = np.lexsort((docs, -dense.score, -fused))
        d = dense.take(order)
        return Ranking(docs[order], fused[order], d.score, dense_rank[order], bm25[order], bm25_rank[order],
                       d.best_sentence, d.best_sentence_score)

    def _dense_candidates(self, qvec: np.ndarray | None, allowed: np.ndarray | None, n: int) -> np.ndarray:
        """Document numbers to score densely: all (allowed) ones when few, else faiss's `n` nearest."""
        pool = np.arange(len(self.documents)) if allowed is None else np.flatnonzero(allowed)
        if len(pool) <= n or qvec is None:
            return pool
        selector = None if allowed is None else faiss.IDSelectorBatch(pool.astype(np.int64))
        if self.index.compressed:  # candidates from the codes, the best n of them by exact vectors
            found = compressed_search(self.index.dense, qvec, max(n, REFINE), selector)
            return top_exact(self.index.doc_vectors, found, qvec, n)
        params = None
        if selector is not None:
            params = faiss.SearchParameters()
            params.sel = selector
        _, ids = self.index.dense.search(qvec[None, :], n, params=params)
        return np.sort(ids[0][ids[0] >= 0])

    def _dense_scores(self, qvec: np.ndarray | None, docs: np.ndarray) -> _Dense:
        """(1 - s) * cos(query, document) + s * the best cos(query, sentence), for each of `docs`."""
        if len(docs) == 0 or qvec is None:
            zeros = np.zeros(len(docs), dtype=np.float32)
            return _Dense(zeros, np.zeros(len(docs), dtype=np.int64), zeros)
        doc_sim = self.index.doc_vectors[docs].astype(np.float32, copy=False) @ qvec
        rows, starts, lengths = sentence_rows(self.index.sentence_offsets, docs)
        sent_sim = self.index.sentence_vectors.sims(rows, qvec)
        best = np.maximum.reduceat(sent_sim, starts)
        first_best = first_per_segment(np.flatnonzero(sent_sim >= np.repeat(best, lengths)), starts)
        s = self.settings.sentence_weight
        return _Dense(((1 - s) * doc_sim + s * best).astype(np.float32), first_best - starts, best)

    def _bm25_all(self, qtokens: Sequence[str], allowed: np.ndarray | None) -> np.ndarray:
        scores = self.index.bm25.score(qtokens)
        return scores if allowed is None else np.where(allowed, scores, 0.0).astype(np.float32)

    # ---- hits and evidence ---------------------------------------------------------------
    def _hit(self, ranked: Ranking, j: int, mode: str, qvec: np.ndarray | None, qtokens: Sequence[str],
             evidence: bool) -> Hit:
        i = int(ranked.docs[j])
        doc = self.documents[i]
        exact = bool(ranked.score[j] >= EXACT_BONUS)
        hit = Hit(id=doc.id, title=doc.title, year=doc.year, rank=j + 1, mode=mode, exact_name=exact,
                  kind=doc.kind, score=_num(ranked.score[j] - EXACT_BONUS * exact))
        if ranked.dense_score is not None and ranked.dense_rank is not None:
            hit.dense_score, hit.dense_rank = _num(ranked.dense_score[j]), int(ranked.dense_rank[j])
        if ranked.bm25_score is not None and ranked.bm25_rank is not None and ranked.bm25_score[j] > 0:
            hit.bm25_score, hit.bm25_rank = _num(ranked.bm25_score[j]), int(ranked.bm25_rank[j])
        if evidence:
            self._add_evidence(hit, i, ranked, j, qvec, qtokens)
        return hit

    def _add_evidence(self, hit: Hit, i: int, ranked: Ranking, j: int, qvec: np.ndarray | None,
                      qtokens: Sequence[str]) -> None:
        sentences = self._sentences_of(i)
        best, best_score = ranked.best_sentence, ranked.best_sentence_score
        if hit.mode == "dense" and best is not None and best_score is not None:  # found while scoring
            found = Evidence(int(best[j]), float(best_score[j]), "meaning")
        else:
            found = pick_evidence(sentences, self._cosines(i, qvec), qtokens, self.index.bm25.idf,
                                  exact_name=hit.exact_name)
        sentence = sentences[found.index]
        hit.sentence, hit.field, hit.sentence_score = sentence.text, sentence.field, _num(found.score)
        hit.matched_by = found.matched_by
        hit.builds_on = lineage_matches(self.documents[i].lineage, qtokens)

    def _cosines(self, i: int, qvec: np.ndarray | None) -> np.ndarray | None:
        if qvec is None:
            return None
        lo, hi = int(self.index.sentence_offsets[i]), int(self.index.sentence_offsets[i + 1])
        return self.index.sentence_vectors.sims(slice(lo, hi), qvec)

    def _sentences_of(self, i: int) -> list[Sentence]:
        sentences = self.documents[i].sentences
        if len(sentences) != int(self.index.sentence_offsets[i + 1] - self.index.sentence_offsets[i]):
            raise StaleIndexError(f"the search index does not match the sentences of {self.documents[i].id}; "
                                  f"run `kg build`")
        return sentences

    def best_sentence(self, i: int, qvec: np.ndarray | None, qtokens: Sequence[str] = ()
                      ) -> tuple[Sentence, float]:
        """Document i's sentence to show for a query (kg.search.evidence) and its score."""
        found = pick_evidence(self._sentences_of(i), self._cosines(i, qvec), qtokens, self.index.bm25.idf)
        return self._sentences_of(i)[found.index], found.score

    # ---- neighbours ----------------------------------------------------------------------
    def similar(self, record_id: str, k: int = 10) -> list[Hit]:
        """The `k` papers whose document vectors are closest to `record_id`'s."""
        if record_id not in self.position:
            raise NotFoundError(record_id, ["(only listed papers with some text are in the search index)"])
        if k < 1:
            raise BadInputError(f"k must be at least 1, not {k}")
        i = self.position[record_id]
        qvec = np.asarray(self.index.doc_vectors[i], dtype=np.float32)
        scores, ids = self.index.dense.search(qvec[None, :], min(k + 1, len(self.documents)))
        hits: list[Hit] = []
        for score, j in zip(scores[0], ids[0], strict=True):
            if j < 0 or j == i or len(hits) == k:
                continue
            doc = self.documents[j]
            sentence, s_score = self.best_sentence(int(j), qvec)
            hits.append(Hit(id=doc.id, title=doc.title, year=doc.year, rank=len(hits) + 1, score=_num(score),
                            mode="similar", kind=doc.kind, dense_score=_num(score), dense_rank=len(hits) + 1,
                            sentence=sentence.text, field=sentence.field, sentence_score=_num(s_score)))
        return hits


# ---- module functions ------------------------------------------------------------------------
def check_query(query: str) -> str:
    """The stripped query; BadInputError when it is empty or has no letters or digits."""
    query = (query or "").strip()
    if not query:
        raise BadInputError("empty query: give some words to search for")
    if not any(ch.isalnum() for ch in query):
        raise BadInputError(f"query {query[:40]!r} has no letters or digits to search for")
    return query


def check_mode(mode: str | None) -> str:
    mode = (mode or DEFAULT_MODE).lower()
    if mode not in MODES:
        raise BadInputError(f"unknown search mode {mode!r}; choose one of {', '.join(MODES)}")
    return mode


def load_searcher(store: Store, encoder: Encoder | None = None, *, corpus: Corpus | None = None,
                  model: str | None = None, settings: SearchSettings | None = None) -> Searcher:
    """A searcher over the persisted index. The encoder defaults to the index's own model (or `model`);
    a missing, stale or mismatched index raises StaleIndexError / DimensionMismatchError.

    Without `corpus`, the index is checked against the snapshot files' inputs digest and its documents
    are read from the index (no document is built); a `corpus` in memory is checked document by document."""
    faiss.omp_set_num_threads(query_threads())  # once, for queries: see docs/search.md ("Performance")
    if encoder is None:
        manifest = read_manifest(store)
        encoder = load_encoder(model or (manifest.model if manifest else None), store=store)
    if corpus is None:
        if not store.papers_path.exists():
            raise BadInputError("no corpus snapshot yet: run `kg ingest` first", str(store.papers_path))
        found = load_index_by_inputs(store, encoder, snapshot_inputs(store, encoder.name))
        if found is not None:
            return Searcher(found[0], found[1], encoder, settings)
    documents = corpus_documents(store, corpus)
    return Searcher(documents, load_index(store, encoder, documents), encoder, settings)


def _num(value: float) -> float:
    return round(float(value), 6)


