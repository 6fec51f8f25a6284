"""The rank arithmetic of kg.search.fusion, and the row reader of kg.search.vectors, against plain
definitions."""

from __future__ import annotations

import numpy as np
import pytest

from kg.search.fusion import SAMPLE_SIZE, top_positive


def plain_top(scores: np.ndarray, n: int) -> np.ndarray:
    """The definition: every positive score, best first, ties by the lower number, the first n."""
    positive = np.flatnonzero(scores > 0)
    return positive[np.lexsort((positive, -scores[positive]))][:n]


def scores_of(kind: str, size: int, rng: np.random.Generator) -> np.ndarray:
    if kind == "spread":
        return rng.random(size)
    if kind == "ties":  # five distinct values: the n-th best is tied with thousands
        return np.round(rng.random(size) * 5) / 5
    if kind == "sparse":  # a rare word: few documents reached
        return np.where(rng.random(size) < 0.9995, 0.0, rng.random(size))
    scores = np.zeros(size)  # fewer positive documents than asked for
    scores[rng.integers(0, size, 3)] = 1.0
    return scores


@pytest.mark.parametrize("size", [7, 1_000, 5 * SAMPLE_SIZE, 300_000])  # the last two take the sample path
@pytest.mark.parametrize("kind", ["spread", "ties", "sparse", "few"])
def test_top_positive_is_the_plain_definition(size, kind):
    rng = np.random.default_rng(size)
    for dtype in (np.float32, np.float64):
        scores = scores_of(kind, size, rng).astype(dtype)
        for n in (1, 10, 50, 600):
            assert np.array_equal(top_positive(scores, n), plain_top(scores, n)), (size, kind, dtype, n)


def test_row_reader_reads_what_the_memory_map_holds(tmp_path):
    """Sentence codes are read with pread in a query process: the same rows as the map, in order."""
    from kg.search.vectors import RowReader

    table = np.arange(50 * 7, dtype=np.int8).reshape(50, 7)
    np.save(tmp_path / "codes.npy", table)
    reader = RowReader(tmp_path / "codes.npy", np.load(tmp_path / "codes.npy", mmap_mode="r"))
    for rows in (np.array([3]), np.array([0, 1, 2, 10, 11, 49]), np.array([5, 4, 4, 9]), np.arange(50),
                 np.array([], dtype=np.int64)):
        assert np.array_equal(reader.read(rows), table[rows]), rows
    assert np.array_equal(reader.read(slice(7, 19)), table[7:19])
    with pytest.raises(OSError):
        reader.read(np.array([50]))
