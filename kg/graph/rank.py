"""PageRank over node numbers: the one implementation, for the networkx graph and the DuckDB tables."""

from __future__ import annotations

import numpy as np


def pagerank(n: int, src: np.ndarray, dst: np.ndarray, alpha: float = 0.85, tol: float = 1e-10,
             max_iter: int = 200) -> np.ndarray:
    """PageRank of nodes 0..n-1 over the edges src[i] -> dst[i] (distinct pairs, no self-loops), by power
    iteration as `networkx.pagerank` computes it: dangling nodes spread their rank evenly; stops when
    the ranks move by less than n * tol in all. Sums to 1. numpy only: scipy costs more than the graph."""
    if n == 0:
        return np.zeros(0)
    src, dst = np.asarray(src, dtype=np.int64), np.asarray(dst, dtype=np.int64)
    out_degree = np.bincount(src, minlength=n).astype(np.float64)
    dangling = out_degree == 0
    share = np.divide(1.0, out_degree, out=np.zeros(n), where=~dangling)
    rank = np.full(n, 1.0 / n)
    for _ in range(max_iter):
        base = (1.0 - alpha) / n + alpha * float(rank[dangling].sum()) / n
        new = base + np.bincount(dst, weights=alpha * rank[src] * share[src], minlength=n)
        if float(np.abs(new - rank).sum()) < n * tol:
            return new
        rank = new
    return rank
