"""Fusing the dense and BM25 rankings, and the exact-name rule.

Two fusions over the union of both components' candidates (chosen on data/eval/queries.jsonl, see
docs/search.md):
- "rrf": reciprocal-rank fusion, w / (k + rank_dense) + (1 - w) / (k + rank_bm25);
- "convex": score-normalised fusion, w * dense' + (1 - w) * bm25', each component's scores scaled to
  [0, 1] over the candidates by min-max (a document no query word reaches gets bm25' = 0).

Exact names: a document whose title or one of whose short names ("SDXL", "DDIM") equals the whole
query (compared by `compact_key`: case, spaces and punctuation ignored) ranks above every other.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

import numpy as np

from kg.text import compact_key

FUSIONS = ("rrf", "convex")
EXACT_BONUS = 1e3  # added to an exact name match's fused score: above any fused score (at most 1)


def fuse(kind: str, dense: np.ndarray, bm25: np.ndarray, dense_rank: np.ndarray, bm25_rank: np.ndarray,
         weight: float, rrf_k: int) -> np.ndarray:
    """Fused scores of the candidates (higher is better); bm25_rank 0 means no query word matched."""
    if kind == "convex":
        matched = bm25 > 0
        return weight * _minmax(dense) + (1 - weight) * np.where(matched, _minmax(bm25, matched), 0.0)
    return weight / (rrf_k + dense_rank) + np.where(bm25_rank > 0, (1 - weight) / (rrf_k + bm25_rank), 0.0)


def _minmax(scores: np.ndarray, mask: np.ndarray | None = None) -> np.ndarray:
    """Scores scaled to [0, 1] over `mask` (all when None); all equal: 1."""
    pool = scores if mask is None else scores[mask]
    if not len(pool):
        return np.zeros(len(scores), dtype=np.float64)
    lo, hi = float(pool.min()), float(pool.max())
    if hi - lo < 1e-12:
        return np.ones(len(scores), dtype=np.float64)
    return (scores.astype(np.float64) - lo) / (hi - lo)


_ASCII_NON_ALNUM = re.compile(r"[^a-z0-9]+")


def name_key(text: str) -> str:
    """`compact_key`, with a fast path for plain ASCII (the text repair it runs costs ~0.1 ms a name)."""
    return _ASCII_NON_ALNUM.sub("", text.lower()) if text.isascii() else compact_key(text)


class NameIndex:
    """Documents by the compact key of their title and of each short name."""

    def __init__(self, names: Iterable[Sequence[str]]):
        self.by_key: dict[str, list[int]] = {}
        for i, doc_names in enumerate(names):
            for name in dict.fromkeys(k for k in map(name_key, doc_names) if k):
                self.by_key.setdefault(name, []).append(i)

    def exact(self, query: str) -> np.ndarray:
        """Numbers of the documents named exactly `query` (sorted; empty when none)."""
        return np.array(sorted(self.by_key.get(name_key(query), [])), dtype=np.int64)


# ---- rank arithmetic -------------------------------------------------------------------
SAMPLE_SIZE = 16_384  # scores read to guess a threshold that keeps every one of the top n


def top_positive(scores: np.ndarray, n: int) -> np.ndarray:
    """Numbers of the (at most) n best documents with a positive score, best first (ties: the lower
    number first). Exact and deterministic, but over a million scores it does not partition them all:
    every document at or above a threshold read off an evenly spaced sample (at least n of them, so the
    n best are among them) is ranked, else every positive one."""
    pool = _above_sample_threshold(scores, n) if len(scores) > 4 * SAMPLE_SIZE else None
    if pool is None:
        pool = np.flatnonzero(scores > 0)
    values = scores[pool]
    if len(pool) > n:  # the n best: all above the n-th best score, then its ties by number
        nth = np.partition(values, len(values) - n)[len(values) - n]
        above, tied = pool[values > nth], pool[values == nth]
        pool = np.concatenate([above, tied[: n - len(above)]])
    return pool[np.lexsort((pool, -scores[pool]))]


def _above_sample_threshold(scores: np.ndarray, n: int) -> np.ndarray | None:
    """The positive documents scoring at least a threshold that about 4n of them reach, judged from a
    sample; None when fewer than n do (then every positive document is ranked)."""
    sample = scores[:: len(scores) // SAMPLE_SIZE]
    keep = min(len(sample), 4 * n * len(sample) // len(scores) + 8)
    threshold = max(float(np.partition(sample, len(sample) - keep)[len(sample) - keep]), 0.0)
    pool = np.flatnonzero(scores > threshold) if threshold == 0.0 else np.flatnonzero(scores >= threshold)
    return pool if len(pool) >= n else None


def ranks(scores: np.ndarray) -> np.ndarray:
    """1-based ranks, best score first (ties: the lower document number first)."""
    order = np.argsort(-scores, kind="stable")
    ranks = np.empty(len(scores), dtype=np.int64)
    ranks[order] = np.arange(1, len(scores) + 1)
    return ranks
