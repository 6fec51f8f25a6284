"""Vectors on disk, written a chunk at a time, and the dense (faiss) index over them.

- Document vectors: float16, memory-mapped (768 bytes a document at 384 dimensions).
- Sentence vectors: int8 with one float16 scale per row (`SentenceVectors`; 386 bytes a sentence):
  they serve the sentence term of the dense score and the choice of evidence, where a cosine error of
  about 1e-3 changes nothing.
- Dense index: exact inner product (built at load from the document vectors) up to EXACT_THRESHOLD
  documents; above, IVF-PQ (product-quantised, 48 bytes a document) trained on a sample and filled
  chunk by chunk from the memory-mapped vectors, so building holds one chunk, the sample and the codes,
  never the whole matrix. A compressed index only proposes candidates: the searcher rescores
  REFINE of them with the exact float16 vectors (docs/search.md has the measurements behind this).

`write_vectors` embeds documents in chunks straight into the memory-mapped files; the function
`embed_documents` (kg.search.index) is the seam for other embedding back ends (Ray, at scale).
"""

from __future__ import annotations

import math
import os
import weakref
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np

EXACT_THRESHOLD = 20_000  # documents; exact search costs <= 2 ms up to here (docs/search.md)
PQ_BITS = 8  # one byte a sub-quantiser; pq_m(384) = 48 sub-quantisers of 8 dimensions
IVF_NPROBE = 64  # lists visited per query
REFINE = 500  # candidates a compressed index proposes, rescored exactly
TRAIN_SAMPLE = 100_000  # vectors the coarse quantiser and the PQ codebooks are trained on (at most)
TRAIN_PER_LIST = 64  # ... and at most this many per inverted list
KMEANS_ITERATIONS = 10  # faiss defaults to 25; 10 builds faster, and the recall in docs/search.md is with 10
CHUNK = 20_000  # rows handled at a time when building


class RowReader:
    """The rows of a saved 2-D .npy array, read with `os.pread` (no memory map): a query reads a few
    hundred rows scattered over a file of gigabytes, and a mapped read leaves whole page-cache folios
    (up to 2 MB each) mapped into the process, counted in its RSS (docs/search.md, "Performance")."""

    def __init__(self, path: Path, mapped: np.memmap):
        """`mapped`: the same file opened by np.load(mmap_mode="r"), for its layout (rows start at
        `mapped.offset`, as kg.search.vectors.splice_rows reads them)."""
        if mapped.ndim != 2 or not mapped.flags["C_CONTIGUOUS"]:
            raise ValueError(f"{path.name} is not a row-major table")
        self.fd = os.open(path, os.O_RDONLY)
        weakref.finalize(self, os.close, self.fd)
        self.dtype, self.offset, self.width = mapped.dtype, int(mapped.offset), int(mapped.shape[1])
        self.row_bytes = self.width * self.dtype.itemsize

    def read(self, rows: np.ndarray | slice) -> np.ndarray:
        """The given rows (a slice, or row numbers: each run of consecutive ones is one read)."""
        if isinstance(rows, slice):
            return self._run(int(rows.start or 0), int(rows.stop))
        if not len(rows):
            return np.zeros((0, self.width), dtype=self.dtype)
        breaks = np.flatnonzero(np.diff(rows) != 1) + 1  # each piece: consecutive row numbers
        return np.concatenate([self._run(int(run[0]), int(run[-1]) + 1) for run in np.split(rows, breaks)])

    def _run(self, lo: int, hi: int) -> np.ndarray:
        data = os.pread(self.fd, (hi - lo) * self.row_bytes, self.offset + lo * self.row_bytes)
        if len(data) != (hi - lo) * self.row_bytes:
            raise OSError(f"rows {lo}:{hi} lie beyond the end of the file")
        return np.frombuffer(data, dtype=self.dtype).reshape(hi - lo, self.width)


@dataclass
class SentenceVectors:
    """int8 sentence vectors with a float16 scale per row: row i ≈ codes[i] * scales[i]."""

    codes: np.ndarray  # int8 (sentences x dimension), memory-mapped
    scales: np.ndarray  # float16 (sentences,)
    reader: RowReader | None = None  # in a query process: the codes read without the map

    @property
    def shape(self) -> tuple[int, int]:
        return (int(self.codes.shape[0]), int(self.codes.shape[1]))

    def sims(self, rows: np.ndarray | slice, qvec: np.ndarray) -> np.ndarray:
        """Cosines of the query with the given rows."""
        codes = (self.codes[rows] if self.reader is None else self.reader.read(rows)).astype(np.float32)
        return np.asarray((codes @ qvec) * self.scales[rows].astype(np.float32), dtype=np.float32)


def quantize(vectors: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(int8 codes, float16 scales) of float rows: each row scaled so its largest component is ±127."""
    peak = np.maximum(np.abs(vectors).max(axis=1), 1e-12)
    scales = (peak / 127.0).astype(np.float16)
    codes = np.rint(vectors / scales.astype(np.float32)[:, None]).clip(-127, 127).astype(np.int8)
    return codes, scales


def open_rows(path: Path, shape: tuple[int, ...], dtype: Any) -> np.ndarray:
    """A new .npy file of `shape` opened for writing through a memory map."""
    return np.lib.format.open_memmap(path, mode="w+", dtype=dtype, shape=shape)


Piece = tuple[int, int] | np.ndarray  # rows of the old file (first row, count), or new rows


def splice_rows(source: Path, target: Path, pieces: Sequence[Piece]) -> np.ndarray:
    """A new .npy file `target` holding, in order, row ranges of the .npy file `source` and new rows;
    returns it memory-mapped. Ranges are copied inside the kernel (os.copy_file_range: no pass through
    Python, a clone where the file system shares blocks); `source` is only read, never changed."""
    old = np.load(source, mmap_mode="r")
    row_bytes = old.dtype.itemsize * int(np.prod(old.shape[1:], dtype=np.int64))
    n = sum(p[1] if isinstance(p, tuple) else len(p) for p in pieces)
    header = open_rows(target, (n, *old.shape[1:]), old.dtype)  # writes the header; the rows follow it
    del header
    position = target.stat().st_size - n * row_bytes
    with open(source, "rb") as src, open(target, "r+b") as dst:
        for piece in pieces:
            if isinstance(piece, tuple):
                count, start = piece[1] * row_bytes, int(old.offset) + piece[0] * row_bytes
                copy_range(src.fileno(), dst.fileno(), start, position, count)
            else:
                data = np.ascontiguousarray(piece, dtype=old.dtype).reshape(len(piece), *old.shape[1:])
                count = os.pwrite(dst.fileno(), data.tobytes(), position)
            position += count
        os.fsync(dst.fileno())
    spliced: np.ndarray = np.load(target, mmap_mode="r").view(np.ndarray)
    return spliced


def copy_range(src: int, dst: int, src_at: int, dst_at: int, count: int) -> None:
    """Copy `count` bytes between open files, in the kernel where it can (else through a buffer)."""
    kernel_copy = getattr(os, "copy_file_range", None)
    while count > 0:
        done = 0
        if kernel_copy is not None:
            try:
                done = kernel_copy(src, dst, count, src_at, dst_at)
            except OSError:  # not supported between these files: copy through user space
                kernel_copy = None
        if done <= 0:
            done = os.pwrite(dst, os.pread(src, min(count, 1 << 24), src_at), dst_at)
            if done <= 0:
                raise OSError(f"cannot copy {count} bytes: the source file ends early")
        src_at, dst_at, count = src_at + done, dst_at + done, count - done


def chunks(n: int, size: int = CHUNK) -> Iterator[slice]:
    for start in range(0, n, size):
        yield slice(start, min(start + size, n))


# ---- the dense index ------------------------------------------------------------------------
def index_type_for(n: int, exact_threshold: int = EXACT_THRESHOLD) -> str:
    return "flat" if n <= exact_threshold else "ivfpq"


def build_flat(doc_vectors: np.ndarray) -> Any:
    index = faiss.IndexFlatIP(int(doc_vectors.shape[1]))
    for part in chunks(len(doc_vectors)):
        index.add(np.ascontiguousarray(doc_vectors[part], dtype=np.float32))
    return index


def build_ivfpq(doc_vectors: np.ndarray, progress: Callable[[int], None] | None = None) -> Any:
    """IVF-PQ over (possibly memory-mapped) vectors: trained on an even sample, filled chunk by chunk."""
    n, dim = doc_vectors.shape
    index = faiss.IndexIVFPQ(faiss.IndexFlatIP(dim), dim, ivf_lists(n), pq_m(dim), PQ_BITS,
                             faiss.METRIC_INNER_PRODUCT)
    index.cp.niter = index.pq.cp.niter = KMEANS_ITERATIONS
    sample = min(n, TRAIN_SAMPLE, TRAIN_PER_LIST * index.nlist)
    index.train(np.ascontiguousarray(doc_vectors[::max(1, n // sample)][:sample], dtype=np.float32))
    for part in chunks(n):
        index.add(np.ascontiguousarray(doc_vectors[part], dtype=np.float32))
        if progress is not None:
            progress(part.stop)
    index.nprobe = IVF_NPROBE
    return index


def pq_m(dim: int) -> int:
    """Sub-quantisers: the largest divisor of `dim` that gives each at least 8 dimensions."""
    return max(m for m in range(1, max(1, dim // 8) + 1) if dim % m == 0)


def ivf_lists(n: int) -> int:
    """Inverted lists for n vectors: about 4·sqrt(n) (a power of two), at least 64, and at least 39
    training points a list (faiss's minimum for k-means)."""
    lists = 2 ** round(math.log2(max(64.0, 4 * math.sqrt(n))))
    return int(max(16, min(lists, min(n, TRAIN_SAMPLE) // 39)))


def compressed_search(index: Any, qvec: np.ndarray, k: int, selector: Any | None = None,
                      nprobe: int = IVF_NPROBE) -> np.ndarray:
    """Candidate document numbers (>= 0) of a compressed index for one query."""
    params = faiss.SearchParametersIVF()
    params.nprobe = nprobe
    if selector is not None:
        params.sel = selector
    _, ids = index.search(qvec[None, :].astype(np.float32), k, params=params)
    return np.asarray(ids[0][ids[0] >= 0], dtype=np.int64)


def top_exact(doc_vectors: np.ndarray, candidates: np.ndarray, qvec: np.ndarray, n: int) -> np.ndarray:
    """The `n` candidates with the largest exact inner product, as sorted document numbers."""
    if len(candidates) <= n:
        return np.sort(candidates)
    ordered = np.sort(candidates)  # sorted rows read a memory map front to back
    sims = doc_vectors[ordered].astype(np.float32) @ qvec
    return np.sort(ordered[np.argpartition(-sims, n - 1)[:n]])


