"""Updating the search index for a corpus that changed a little, instead of rebuilding it.

When documents were added, changed or removed and the model is the same, `plan_update` compares the
documents with those the index holds, by digest (kg.search.inputs.document_digests: a 16-byte hash of
each document's fingerprint, and an 8-byte hash of its id, of which the corpus hash is made; the
build computes them once and passes them in; the index keeps
them in row order in digests.npy, 24 bytes a document, so documents.json is never read: at 100,000
documents it is 50 MB of JSON to parse) and `update_index_data` writes the index of the new corpus
into a new folder:

- only the added and changed documents reach the encoder; the rows of every other document in
  doc_vectors.npy, sentence_codes.npy and sentence_scales.npy are copied from the old files, range by
  range, inside the kernel (kg.search.vectors.splice_rows), never re-embedded or re-quantised;
- rows stay in document order (by id), the order of a full build, so the files, the exact index, the
  ranking and its ties are those of a full build of the same corpus;
- the IVF-PQ index (above EXACT_THRESHOLD documents) is read, loses the rows of removed and changed
  documents, is renumbered and gets the new vectors from the quantiser it was trained with (no
  retraining: `RETRAIN_GROWTH` says when a full build retrains it);
- BM25 keeps the postings (term frequencies) of kept documents, renumbered, tokenises only the
  embedded documents, and scores every posting again by the rule of a full build (`bm25_postings`:
  each score depends on the document count, the mean length and the term's document frequency, so
  one added paper changes them all); the abbreviations the corpus defines are found again over the
  documents, as a full build finds them (kg.search.abbreviations: the most common definition of
  each short form wins, a corpus-wide count); an index that saved no term frequencies gets BM25
  rebuilt.
  Kept postings are trusted as they are: a change to tokenisation or to the BM25 text must bump
  DOC_FORMAT, as it already must for `kg build` to notice it at all;
- documents.json, digests.npy (the digests `plan_update` computed), the offsets and the manifest
  are written anew.

The old folder is only read, and the new one becomes the index when the manifest names it (in a
build generation: at the generation's commit), so a kill leaves the old index or the new one.

A full build instead (`plan_update` gives None) when: there is no index or it is damaged (a build
does not carry it), `--force`, another model, dimension or index format (an index without
digests.npy is of an older format), digests.npy missing, unreadable, not the recorded one or not one
row per indexed document, duplicate ids, nothing kept, more than MAX_EMBEDDED documents to embed (a
full build streams them), the index type changes (across EXACT_THRESHOLD), or an IVF-PQ index whose
corpus has grown or shrunk RETRAIN_GROWTH-fold since its quantiser was trained.

The embedding cache (kg.search.encoders.EmbeddingCache) is neither read nor written by an update:
loading and saving it costs more than the update itself; a later full build embeds the documents
added by updates since the last full build again.
"""

from __future__ import annotations

import hashlib
import io
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import faiss
import numpy as np
from faiss.contrib.inspect_tools import get_invlist

from kg.errors import DimensionMismatchError
from kg.journal import fire
from kg.search.bm25 import BM25_FILE, Bm25Postings, bm25_postings, corpus_abbreviations
from kg.search.documents import DOC_FORMAT, Document, tokenize
from kg.search.encoders import Encoder
from kg.search.index import (
    DIGESTS_FILE,
    EMBED_CHUNK,
    INDEX_FORMAT,
    Built,
    IndexData,
    Manifest,
    embed_documents,
    finish_index,
    index_dir,
    new_build_id,
)
from kg.search.inputs import DIGEST_DTYPE, corpus_hash, document_digests
from kg.search.vectors import (
    EXACT_THRESHOLD,
    IVF_NPROBE,
    Piece,
    SentenceVectors,
    build_flat,
    index_type_for,
    quantize,
    splice_rows,
)
from kg.store import Store

MAX_EMBEDDED = EMBED_CHUNK  # documents an update embeds at most (held in memory); more: a full build
RETRAIN_GROWTH = 2.0  # IVF-PQ: a full build (retrained) once the corpus is 2x or 1/2 its trained size


@dataclass
class Delta:
    """How the documents differ from the indexed ones: `source[i]` is document i's row in the old index,
    or -1 when it is embedded (added, or its text changed); `digests`: the documents' digests
    (document_digests), written with the updated index."""

    source: np.ndarray
    old_n: int
    changed: int
    digests: np.ndarray | None = None

    @property
    def embedded(self) -> np.ndarray:
        """Positions of the documents to embed."""
        return np.flatnonzero(self.source < 0)

    @property
    def kept(self) -> int:
        return int((self.source >= 0).sum())

    def positions(self) -> np.ndarray:
        """For each old row, its document's new position; -1 when removed or changed."""
        position = np.full(self.old_n, -1, dtype=np.int64)
        kept = np.flatnonzero(self.source >= 0)
        position[self.source[kept]] = kept
        return position

    def counts(self) -> dict[str, int]:
        n_embedded = len(self.embedded)
        return {"kept": self.kept, "added": n_embedded - self.changed, "changed": self.changed,
                "removed": self.old_n - self.kept - self.changed}

    def runs(self) -> Iterator[tuple[bool, int, int]]:
        """Stretches of consecutive documents: (True, first old row, last + 1) for kept documents whose
        old rows follow each other, (False, first, last + 1) for embedded ones, numbered among those."""
        kept = self.source >= 0
        n = len(kept)
        starts = np.ones(n, dtype=bool)
        starts[1:] = (kept[1:] != kept[:-1]) | (kept[1:] & (self.source[1:] != self.source[:-1] + 1))
        first = np.flatnonzero(starts)
        stops = np.append(first[1:], n)
        fresh = (~kept).astype(np.int64)
        before = np.cumsum(fresh) - fresh  # embedded documents before each position
        for a, b in zip(first.tolist(), stops.tolist(), strict=True):
            if kept[a]:
                yield True, int(self.source[a]), int(self.source[b - 1]) + 1
            else:
                yield False, int(before[a]), int(before[a]) + b - a


# ---- deciding --------------------------------------------------------------------------------
def plan_update(store: Store, manifest: Manifest, documents: Sequence[Document], model: str, *,
                digests: np.ndarray | None = None, exact_threshold: int = EXACT_THRESHOLD) -> Delta | None:
    """The delta from the index of `manifest` to `documents`, or None when a full build is the rule
    (see the module doc). `digests`: the documents' document_digests, when the caller has them."""
    if (manifest.model != model or manifest.format != INDEX_FORMAT or manifest.doc_format != DOC_FORMAT
            or index_type_for(len(documents), exact_threshold) != manifest.index_type
            or not _near_trained(manifest, len(documents))):
        return None
    digests = document_digests(documents) if digests is None else digests
    old = indexed_digests(store, manifest)
    delta = None if old is None else diff(old, digests, documents)
    if delta is None or delta.kept == 0 or len(delta.embedded) > MAX_EMBEDDED:
        return None
    return delta


def _near_trained(manifest: Manifest, n: int) -> bool:
    if manifest.index_type == "flat":
        return True
    trained = manifest.trained_on or manifest.n_documents
    return trained / RETRAIN_GROWTH <= n <= trained * RETRAIN_GROWTH


def indexed_digests(store: Store, manifest: Manifest) -> np.ndarray | None:
    """The digests of the indexed documents in row order (digests.npy); None when the file is missing,
    unreadable, not the file the manifest records, or not one row per indexed document."""
    path = index_dir(store) / manifest.build_id / DIGESTS_FILE
    try:
        data = path.read_bytes()
        if not manifest.digests_sha256 or hashlib.sha256(data).hexdigest() != manifest.digests_sha256:
            return None
        found = np.load(io.BytesIO(data), allow_pickle=False)
    except (OSError, ValueError, EOFError):
        return None
    ok = found.dtype == DIGEST_DTYPE and found.shape == (manifest.n_documents,)
    return found if ok else None


def diff(old: np.ndarray, new: np.ndarray, documents: Sequence[Document]) -> Delta | None:
    """The delta from the indexed documents' digests (`old`, in row order) to `documents` (`new`: their
    digests); None when ids repeat or kept rows would change order. A document is kept when its
    fingerprint digest is that of the indexed row with its id, changed when only the id matches."""
    if not len(old) or len({d.id for d in documents}) != len(documents):
        return None
    order = np.argsort(old["id"], kind="stable")
    ids = old["id"][order]
    if np.any(ids[1:] == ids[:-1]):  # (or two ids with one 8-byte hash: a full build, never a wrong update)
        return None
    at = np.minimum(np.searchsorted(ids, new["id"]), len(ids) - 1)
    found = ids[at] == new["id"]
    rows = np.where(found, order[at], -1)
    same = found & np.all(old["fingerprint"][rows] == new["fingerprint"], axis=1)  # (row -1: not found)
    source = np.where(same, rows, -1).astype(np.int64)
    if np.any(np.diff(source[same]) <= 0):
        return None
    return Delta(source, len(old), int((found & ~same).sum()), digests=new)


# ---- writing ---------------------------------------------------------------------------------
def update_index_data(store: Store, encoder: Encoder, manifest: Manifest, documents: Sequence[Document],
                      delta: Delta, *, inputs: str = "", progress: bool = False) -> IndexData:
    """Write the index of `documents` from the index of `manifest` and `delta` (see the module doc) and
    make it the index; returns it as it is in memory."""
    started = time.perf_counter()
    old = index_dir(store) / manifest.build_id
    digests = document_digests(documents) if delta.digests is None else delta.digests
    digest = corpus_hash(digests)
    folder = index_dir(store) / new_build_id(digest)
    folder.mkdir(parents=True)
    fresh = [documents[i] for i in delta.embedded]
    texts = sum(len(d.sentences) for d in fresh)
    doc_vecs, sent_vecs, fresh_offsets = _embed(fresh, encoder, manifest.dimension, progress)
    old_offsets = np.load(old / "sentence_offsets.npy")
    runs = list(delta.runs())
    doc_vectors = splice_rows(old / "doc_vectors.npy", folder / "doc_vectors.npy",
                              _pieces(runs, np.arange(delta.old_n + 1), np.arange(len(fresh) + 1), doc_vecs))
    codes, scales = quantize(sent_vecs)
    sentences = SentenceVectors(
        splice_rows(old / "sentence_codes.npy", folder / "sentence_codes.npy",
                    _pieces(runs, old_offsets, fresh_offsets, codes)),
        splice_rows(old / "sentence_scales.npy", folder / "sentence_scales.npy",
                    _pieces(runs, old_offsets, fresh_offsets, scales)))
    offsets = _offsets(runs, old_offsets, fresh_offsets)
    np.save(folder / "sentence_offsets.npy", offsets)
    fire("update-spliced")  # a test may kill the build here (kg.journal.HOOKS)
    dense = build_flat(doc_vectors) if manifest.index_type == "flat" else \
        update_ivfpq(faiss.read_index(str(old / "dense.faiss")), delta, doc_vectors)
    trained = 0 if manifest.index_type == "flat" else manifest.trained_on or manifest.n_documents
    built = Built(folder, doc_vectors, sentences, offsets, dense, manifest.index_type, trained_on=trained)
    return finish_index(store, manifest.model, documents, built, started=started, embedded=texts,
                        inputs=inputs, update=delta.counts(), digest=digest, digests=digests,
                        bm25=update_bm25(old / BM25_FILE, delta, documents))


def _embed(documents: Sequence[Document], encoder: Encoder, dimension: int, progress: bool
           ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(float16 document vectors, float32 sentence vectors, offsets) of the documents to embed."""
    if not documents:
        empty = np.zeros((0, dimension), dtype=np.float32)
        return empty.astype(np.float16), empty, np.zeros(1, dtype=np.int64)
    doc_vecs, sent_vecs, offsets = embed_documents(documents, encoder, progress=progress)
    if doc_vecs.shape[1] != dimension:
        raise DimensionMismatchError(f"model {encoder.name!r} gives {doc_vecs.shape[1]}-dimensional vectors, "
                                     f"the index {dimension}; run `kg build --force`")
    return doc_vecs.astype(np.float16), sent_vecs, offsets


def _pieces(runs: Sequence[tuple[bool, int, int]], old_bounds: np.ndarray, fresh_bounds: np.ndarray,
            fresh_rows: np.ndarray) -> list[Piece]:
    """The rows of one file, run by run: old rows by range, new rows as arrays (`*_bounds`: where each
    document's rows start, one more entry than documents)."""
    pieces: list[Piece] = []
    for kept, a, b in runs:
        if kept:
            pieces.append((int(old_bounds[a]), int(old_bounds[b] - old_bounds[a])))
        else:
            pieces.append(fresh_rows[int(fresh_bounds[a]):int(fresh_bounds[b])])
    return pieces


def _offsets(runs: Sequence[tuple[bool, int, int]], old_offsets: np.ndarray, fresh_offsets: np.ndarray
             ) -> np.ndarray:
    counts = [np.diff((old_offsets if kept else fresh_offsets)[a:b + 1]) for kept, a, b in runs]
    offsets = np.zeros(sum(len(c) for c in counts) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum(np.concatenate(counts))
    return offsets


def update_bm25(old: Path, delta: Delta, documents: Sequence[Document]) -> Bm25Postings | None:
    """The BM25 matrix of `documents` from the old file's postings of kept documents and the tokens of
    the embedded ones, scored anew (`bm25_postings`: the rule of a full build, whose vocabulary is sorted
    too, so the arrays are a full build's); None when the old file holds no term frequencies."""
    with np.load(old, allow_pickle=False) as z:
        if "tf" not in z.files or "lengths" not in z.files:
            return None
        indices, indptr, tf, lengths, vocab = (z[k] for k in ("indices", "indptr", "tf", "lengths", "vocab"))
    position = delta.positions()
    keep = position[indices] >= 0
    term = np.repeat(np.arange(len(vocab), dtype=np.int64), np.diff(indptr))[keep]
    fresh = delta.embedded
    tokens = [tokenize(documents[i].bm25_text) for i in fresh]
    words = np.array(sorted({str(w) for w in vocab[np.unique(term)]} | {t for doc in tokens for t in doc}),
                     dtype=str)
    n = len(documents)
    kept_keys = np.searchsorted(words, vocab)[term] * n + position[indices[keep]]  # still sorted
    new_keys, new_tf = _fresh_postings(tokens, fresh, words, n)
    at = np.searchsorted(kept_keys, new_keys)
    keys, tfs = np.insert(kept_keys, at, new_keys), np.insert(tf[keep].astype(np.int64), at, new_tf)
    new_lengths = np.zeros(n, dtype=np.int64)
    new_lengths[delta.source >= 0] = lengths[delta.source[delta.source >= 0]]
    new_lengths[fresh] = [len(doc) for doc in tokens]
    return bm25_postings(keys // n, keys % n, tfs, new_lengths, {str(w): i for i, w in enumerate(words)},
                         corpus_abbreviations(documents))


def _fresh_postings(tokens: Sequence[Sequence[str]], positions: np.ndarray, words: np.ndarray, n: int
                    ) -> tuple[np.ndarray, np.ndarray]:
    """(term * n + document, frequency) of the embedded documents' tokens, sorted by key."""
    parts = [np.searchsorted(words, np.array(doc, dtype=str)) * n + int(p)
             for doc, p in zip(tokens, positions, strict=True) if doc]
    if not parts:
        return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    keys, tf = np.unique(np.concatenate(parts), return_counts=True)
    return keys.astype(np.int64), tf.astype(np.int64)


def update_ivfpq(index: Any, delta: Delta, doc_vectors: np.ndarray) -> Any:
    """The IVF-PQ index of the old rows, brought to the new ones: rows of removed and changed documents
    removed, the rest renumbered to their new positions, the embedded documents' vectors (as stored:
    float16) added with the trained quantiser."""
    position = delta.positions()
    gone = np.flatnonzero(position < 0)
    if len(gone):
        index.remove_ids(faiss.IDSelectorBatch(gone))
    stays = np.flatnonzero(position >= 0)
    if np.any(position[stays] != stays):
        _renumber(faiss.extract_index_ivf(index), position)
    added = delta.embedded
    if len(added):
        index.add_with_ids(np.ascontiguousarray(doc_vectors[added], dtype=np.float32), added.astype(np.int64))
    faiss.extract_index_ivf(index).nprobe = IVF_NPROBE
    return index


def _renumber(ivf: Any, position: np.ndarray) -> None:
    """Replace every id in the inverted lists by its new position (codes unchanged)."""
    lists = ivf.invlists
    for list_no in range(ivf.nlist):
        ids, codes = get_invlist(lists, list_no)  # type: ignore[no-untyped-call]
        if len(ids):
            new_ids = np.ascontiguousarray(position[ids], dtype=np.int64)
            codes = np.ascontiguousarray(codes)
            lists.update_entries(list_no, 0, len(ids), faiss.swig_ptr(new_ids), faiss.swig_ptr(codes))

