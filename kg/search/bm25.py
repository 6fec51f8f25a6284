"""BM25 over the search documents: Lucene's variant (k1 1.5, b 0.75) as an eager score matrix in CSC form,
numpy only, with the abbreviations the corpus defines (kg.search.abbreviations) for query expansion.

`build_bm25` (a full build) and `kg.search.update.update_bm25` (an update) score postings by the one
rule, `bm25_postings`; `save_bm25` / `read_bm25` keep it in the index folder's bm25.npz. A query sums
its tokens' postings (`Bm25Postings.score`, `np.bincount`).
"""

from __future__ import annotations

import math
from array import array as int_array
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from kg.search.abbreviations import Abbreviations, find_abbreviations
from kg.search.documents import Document, tokenize
from kg.store import atomic_open

BM25_K1, BM25_B = 1.5, 0.75  # Lucene's defaults
BM25_FILE = "bm25.npz"
ABBREVIATION_SAMPLE = 100_000  # documents read for abbreviation definitions (every n-th; ~6 s per 100k)


@dataclass
class Bm25Postings:
    """The eager BM25 matrix in CSC form: column t lists (document, score) pairs of token t."""

    data: np.ndarray  # float32 scores
    indices: np.ndarray  # int32 document numbers
    indptr: np.ndarray  # column starts, len(vocab) + 1
    vocab: dict[str, int]
    n_docs: int
    abbreviations: Abbreviations = field(default_factory=Abbreviations)  # defined in the documents
    tf: np.ndarray | None = None  # each posting's term frequency, and each document's length in tokens:
    lengths: np.ndarray | None = None  # saved for updates (kg.search.update), not read by queries

    def query_tokens(self, query: str) -> list[str]:
        """A query's BM25 tokens, with the abbreviations the corpus defines expanded both ways."""
        return self.abbreviations.expand(tokenize(query))

    def token_ids(self, tokens: Sequence[str]) -> list[int]:
        """Ids of the distinct known tokens, in query order."""
        return list(dict.fromkeys(self.vocab[t] for t in tokens if t in self.vocab))

    def score(self, tokens: Sequence[str]) -> np.ndarray:
        """BM25 scores of every document for a tokenised query (0 where no token occurs); an abbreviation
        pair the tokens hold both ways is one concept (kg.search.abbreviations)."""
        concepts = self.abbreviations.concepts(tokens)
        grouped = {t for long, short in concepts for t in (*long, short)}
        scores = self._sum([t for t in tokens if t not in grouped])
        for long, short in concepts:
            weight = sum(map(self.idf, long)) / max(self.idf(short), 1e-9)
            scores = scores + np.maximum(self._sum(long), weight * self._sum([short]))
        return scores

    def _sum(self, tokens: Sequence[str]) -> np.ndarray:
        """Summed BM25 scores of the distinct known `tokens`, for every document."""
        ids = self.token_ids(tokens)
        if not ids:
            return np.zeros(self.n_docs, dtype=np.float64)
        docs = np.concatenate([self.indices[self.indptr[t]:self.indptr[t + 1]] for t in ids])
        vals = np.concatenate([self.data[self.indptr[t]:self.indptr[t + 1]] for t in ids])
        return np.bincount(docs, weights=vals, minlength=self.n_docs)

    def idf(self, token: str) -> float:
        """Inverse document frequency (Lucene's form); 0 for an unknown token."""
        t = self.vocab.get(token)
        if t is None:
            return 0.0
        df = int(self.indptr[t + 1] - self.indptr[t])
        return math.log(1.0 + (self.n_docs - df + 0.5) / (df + 0.5))


def build_bm25(documents: Sequence[Document], *, progress: bool = False) -> Bm25Postings:
    """BM25 (Lucene's variant, k1=1.5, b=0.75) over each document's title, summary, notes and aliases,
    as an eager score matrix in CSC form (numpy only; `progress` is accepted for symmetry), with the
    abbreviations the documents define (kg.search.abbreviations)."""
    abbreviations = corpus_abbreviations(documents)
    seen: dict[str, int] = {}  # token -> id in order of first use
    flat = int_array("q")  # every document's token ids, one after another (no token string kept)
    lengths = np.zeros(len(documents), dtype=np.int64)
    for i, d in enumerate(documents):
        tokens = tokenize(d.bm25_text)
        flat.extend(seen.setdefault(t, len(seen)) for t in tokens)
        lengths[i] = len(tokens)
    if not seen:
        empty = np.zeros(0, np.int64)
        return bm25_postings(empty, empty, empty, lengths, {}, abbreviations)
    vocab = {t: i for i, t in enumerate(sorted(seen))}  # sorted: see kg.search.update
    renumber = np.fromiter((vocab[t] for t in seen), dtype=np.int64, count=len(seen))
    n = len(documents)
    doc_of = np.repeat(np.arange(n, dtype=np.int64), lengths)
    pairs, tf = np.unique(renumber[np.frombuffer(flat, dtype=np.int64)] * n + doc_of, return_counts=True)
    return bm25_postings(pairs // n, pairs % n, tf, lengths, vocab, abbreviations)  # pairs: by term


def corpus_abbreviations(documents: Sequence[Document]) -> Abbreviations:
    """The abbreviations the documents define (kg.search.abbreviations), read from every document up to
    ABBREVIATION_SAMPLE of them, else from an even sample."""
    step = max(1, math.ceil(len(documents) / ABBREVIATION_SAMPLE))  # definitions recur: a sample finds them
    return Abbreviations(find_abbreviations(text for d in documents[::step] for _, text in d.fields))


def bm25_postings(term: np.ndarray, doc: np.ndarray, tf: np.ndarray, lengths: np.ndarray,
                  vocab: dict[str, int], abbreviations: Abbreviations) -> Bm25Postings:
    """The BM25 matrix of (term, document, frequency) postings sorted by term, then document, and the
    documents' lengths in tokens (one rule for a build and an update)."""
    df = np.bincount(term, minlength=len(vocab))
    idf = np.log(1.0 + (len(lengths) - df + 0.5) / (df + 0.5))
    mean = float(lengths.astype(np.float64).mean()) if len(lengths) else 0.0
    norm = BM25_K1 * (1 - BM25_B + BM25_B * lengths.astype(np.float64) / max(mean, 1e-9))
    scores = idf[term] * tf / (tf + norm[doc])
    indptr = np.zeros(len(vocab) + 1, dtype=np.int64)
    indptr[1:] = np.cumsum(df)
    small = len(tf) == 0 or int(tf.max()) < 2**16
    return Bm25Postings(scores.astype(np.float32), doc.astype(np.int32), indptr, vocab, len(lengths),
                        abbreviations, tf.astype(np.uint16 if small else np.uint32), lengths.astype(np.int32))


def save_bm25(path: Path, bm25: Bm25Postings) -> None:
    """Write the postings, vocabulary, abbreviations and (for updates) term frequencies, in one step."""
    vocab = sorted(bm25.vocab, key=bm25.vocab.__getitem__)
    with atomic_open(path, "wb") as fh:
        pairs = bm25.abbreviations.pairs
        arrays = {"data": bm25.data, "indices": bm25.indices, "indptr": bm25.indptr,
                  "vocab": np.array(vocab, dtype=str), "n_docs": np.array(bm25.n_docs),
                  "abbr_long": np.array([" ".join(long) for long, _ in pairs], dtype=str),
                  "abbr_short": np.array([short for _, short in pairs], dtype=str)}
        if bm25.tf is not None and bm25.lengths is not None:
            arrays.update(tf=bm25.tf, lengths=bm25.lengths)
        np.savez(fh, **arrays)  # type: ignore[arg-type]


def read_bm25(path: Path) -> Bm25Postings:
    """The postings `save_bm25` wrote (term frequencies are left on disk: queries never read them)."""
    with np.load(path, allow_pickle=False) as z:
        vocab = {str(t): i for i, t in enumerate(z["vocab"])}
        abbreviations = Abbreviations([(tuple(str(long).split()), str(short))
                                       for long, short in zip(z["abbr_long"], z["abbr_short"], strict=True)])
        return Bm25Postings(z["data"], z["indices"], z["indptr"], vocab, int(z["n_docs"]), abbreviations)
