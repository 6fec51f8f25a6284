"""The persisted search index: vectors in faiss, BM25 postings, and a manifest that guards them.

Layout under `store.build_dir / "search"`:
    manifest.json            model, dimension, corpus hash, package version, counts, index type,
                             and the build folder below that holds the files (written last)
    <build-id>/doc_vectors.npy        float16 (documents x dimension), one vector per document
    <build-id>/sentence_codes.npy     int8 (sentences x dimension), every sentence of every document,
    <build-id>/sentence_scales.npy    float16 (sentences,): row i is codes[i] * scales[i] (kg.search.vectors)
    <build-id>/sentence_offsets.npy   int64 (documents + 1): document i owns rows offsets[i]:offsets[i+1]
    <build-id>/bm25.npz               the eager BM25 score matrix (CSC postings) and its vocabulary
    <build-id>/dense.faiss            IVF-PQ, only above EXACT_THRESHOLD documents (else exact search)
    <build-id>/documents.json         the documents, one a line (kg.search.documents.save_documents;
                                      a query process reads them lazily: kg.search.doctable)
    <build-id>/digests.npy            each document's digests (id, fingerprint), in row order
                                      (kg.search.inputs.document_digests): what an update compares

Two hashes guard an index: `corpus_hash` (kg.search.inputs.corpus_hash, of the documents' digests:
`kg build` decides on it) and `inputs_hash` (of the snapshot files the documents were built from, the
document format and the model: a query process compares it without building a document, then reads the
documents from documents.json). When the inputs hash differs, the query process falls back to building
the documents and comparing `corpus_hash`, so a changed snapshot is still a StaleIndexError, never a
wrong answer. Vectors are embedded a chunk of documents at a time straight into memory-mapped files.

A new build writes a fresh folder and then replaces the manifest in one step, so a reader sees the
old index or the new one, never a mixture. Loading checks the manifest against the model and the
corpus: a mismatch is a `StaleIndexError` or `DimensionMismatchError`, never a silent wrong answer.

A document's vector is the normalised sum of its title's vector and the mean of its other sentences'
vectors: the title weighs as much as everything written about the paper, and documents longer than
the model's 256 word pieces lose nothing to truncation.
"""

from __future__ import annotations

import hashlib
import io
import logging
import shutil
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import faiss
import numpy as np

from kg import __version__
from kg.errors import BadInputError, DimensionMismatchError, StaleIndexError
from kg.search.bm25 import BM25_FILE, Bm25Postings, build_bm25, read_bm25, save_bm25
from kg.search.doctable import DocumentTable
from kg.search.documents import DOC_FORMAT, Document, save_documents
from kg.search.encoders import Encoder
from kg.search.inputs import corpus_hash, document_digests
from kg.search.vectors import (
    EXACT_THRESHOLD,
    IVF_NPROBE,
    RowReader,
    SentenceVectors,
    build_flat,
    build_ivfpq,
    chunks,
    index_type_for,
    open_rows,
    quantize,
)
from kg.store import Store, atomic_open, read_json, write_json

log = logging.getLogger(__name__)

INDEX_FORMAT = 6  # 3: bm25.npz holds the corpus's abbreviations; 4: digests.npy; 5: corpus hash of digests;
# 6: documents.json holds one document a line (kg.search.doctable reads it lazily)
DOCUMENTS_FILE = "documents.json"
DIGESTS_FILE = "digests.npy"
EMBED_CHUNK = 5_000  # documents embedded (and held in memory) at a time while building


@dataclass
class Manifest:
    """What an index was built from; compared with the model and corpus before every use."""

    model: str
    dimension: int
    corpus_hash: str
    package_version: str
    n_documents: int
    n_sentences: int
    index_type: str  # "flat" (exact inner product) | "ivfpq"
    build_id: str
    built_at: str
    format: int = INDEX_FORMAT
    doc_format: int = DOC_FORMAT
    faiss_version: str = faiss.__version__
    build_seconds: float = 0.0
    embedded: int | None = None  # texts sent to the model by this build (the rest came from the cache)
    inputs_hash: str = ""  # kg.search.documents.inputs_digest of the snapshot files ("" when not known)
    documents_sha256: str = ""  # of <build-id>/documents.json
    digests_sha256: str = ""  # of <build-id>/digests.npy
    trained_on: int = 0  # documents the IVF-PQ quantiser was trained on (0: exact search, nothing trained)
    update: dict[str, int] | None = None  # an update (kg.search.update): kept, added, changed, removed

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Manifest:
        known = set(cls.__dataclass_fields__)
        return cls(**{k: v for k, v in data.items() if k in known})


@dataclass
class IndexData:
    """A loaded index: the manifest, vectors (memory-mapped), the dense index and BM25 postings."""

    manifest: Manifest
    doc_vectors: np.ndarray  # float16, memory-mapped
    sentence_vectors: SentenceVectors
    sentence_offsets: np.ndarray
    dense: Any  # faiss.Index
    bm25: Bm25Postings
    path: Path | None = None

    @property
    def compressed(self) -> bool:
        return self.manifest.index_type != "flat"


# ---- paths -------------------------------------------------------------------------------
def index_dir(store: Store) -> Path:
    return store.build_path("search")


def manifest_path(store: Store) -> Path:
    return store.search_manifest_path


def read_manifest(store: Store) -> Manifest | None:
    """The current manifest, or None when no index was ever built."""
    path = manifest_path(store)
    if not path.exists():
        return None
    try:
        return Manifest.from_dict(read_json(path))
    except (ValueError, TypeError, AttributeError, OSError) as exc:
        raise StaleIndexError(f"{path}: unreadable index manifest ({exc}); run `kg build`") from exc


# ---- building ----------------------------------------------------------------------------
def embed_documents(documents: Sequence[Document], encoder: Encoder, *, progress: bool = False
                    ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(document vectors, sentence vectors, sentence offsets) of the documents."""
    texts = [s.text for d in documents for s in d.sentences]
    offsets = np.zeros(len(documents) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d.sentences) for d in documents])
    sentence_vectors = encoder.encode(texts, progress=progress)
    return doc_vectors_from(documents, sentence_vectors, offsets), sentence_vectors, offsets


def doc_vectors_from(documents: Sequence[Document], sentence_vectors: np.ndarray, offsets: np.ndarray
                     ) -> np.ndarray:
    """Each document's vector: normalise(title + mean of the other sentences); see the module doc."""
    dim = sentence_vectors.shape[1]
    out = np.zeros((len(documents), dim), dtype=np.float32)
    for i, doc in enumerate(documents):
        rows = sentence_vectors[offsets[i]:offsets[i + 1]].astype(np.float32)
        has_title = doc.sentences[0].field == "title"
        if has_title and len(rows) > 1:
            vec = rows[0] + rows[1:].mean(axis=0)
        else:
            vec = rows.mean(axis=0)
        out[i] = vec / max(float(np.linalg.norm(vec)), 1e-12)
    return out


def write_vectors(folder: Path, documents: Sequence[Document], encoder: Encoder, *, progress: bool = False
                  ) -> tuple[np.ndarray, SentenceVectors, np.ndarray]:
    """Embed `documents` EMBED_CHUNK at a time into memory-mapped files in `folder`:
    (document vectors, sentence vectors, sentence offsets)."""
    offsets = np.zeros(len(documents) + 1, dtype=np.int64)
    offsets[1:] = np.cumsum([len(d.sentences) for d in documents])
    files: tuple[np.ndarray, SentenceVectors] | None = None
    for part in chunks(len(documents), EMBED_CHUNK):
        doc_vecs, sent_vecs, _ = embed_documents(documents[part], encoder, progress=progress)
        if files is None:
            files = _open_vector_files(folder, len(documents), int(offsets[-1]), doc_vecs.shape[1])
        rows = slice(int(offsets[part.start]), int(offsets[part.stop]))
        files[0][part] = doc_vecs
        files[1].codes[rows], files[1].scales[rows] = quantize(sent_vecs)
    assert files is not None  # documents is not empty
    for array in (files[0], files[1].codes, files[1].scales):
        array.flush()  # type: ignore[attr-defined]
    np.save(folder / "sentence_offsets.npy", offsets)
    return files[0], files[1], offsets


def _open_vector_files(folder: Path, n_docs: int, n_sentences: int, dim: int
                       ) -> tuple[np.ndarray, SentenceVectors]:
    folder.mkdir(parents=True, exist_ok=True)
    return (open_rows(folder / "doc_vectors.npy", (n_docs, dim), np.float16),
            SentenceVectors(open_rows(folder / "sentence_codes.npy", (n_sentences, dim), np.int8),
                            open_rows(folder / "sentence_scales.npy", (n_sentences,), np.float16)))


def build_index(store: Store, encoder: Encoder, documents: Sequence[Document], *, progress: bool = False,
                exact_threshold: int = EXACT_THRESHOLD, inputs: str = "", digests: np.ndarray | None = None
                ) -> Manifest:
    """Embed, index and persist `documents`; returns the new manifest (already in place). `inputs`: the
    inputs digest of the files `documents` were built from, when they were (see the module doc);
    `digests`: their document_digests, when the caller has them."""
    data = build_index_data(store, encoder, documents, progress=progress, exact_threshold=exact_threshold,
                            inputs=inputs, digests=digests)
    return data.manifest


def build_index_data(store: Store, encoder: Encoder, documents: Sequence[Document], *, progress: bool = False,
                     exact_threshold: int = EXACT_THRESHOLD, inputs: str = "",
                     digests: np.ndarray | None = None) -> IndexData:
    """Embed, index and persist `documents`; returns the index in memory (the manifest already in place),
    so a caller that goes on to use it need not read it back. `digests`: as for `build_index`."""
    if not documents:
        raise BadInputError(f"no papers to index in {store.papers_path}; run `kg ingest` first")
    started = time.perf_counter()
    before = getattr(encoder, "embedded", None)
    digests = document_digests(documents) if digests is None else digests
    digest = corpus_hash(digests)
    folder = index_dir(store) / new_build_id(digest)
    doc_vectors, sentences, offsets = write_vectors(folder, documents, encoder, progress=progress)
    index_type = index_type_for(len(documents), exact_threshold)
    dense = build_flat(doc_vectors) if index_type == "flat" else build_ivfpq(doc_vectors)
    built = Built(folder, doc_vectors, sentences, offsets, dense, index_type,
                  trained_on=0 if index_type == "flat" else len(documents))
    embedded = None if before is None else encoder.embedded - before  # type: ignore[attr-defined]
    return finish_index(store, encoder.name, documents, built, started=started, embedded=embedded,
                        inputs=inputs, digests=digests, digest=digest)


@dataclass
class Built:
    """The vector files a build or an update (kg.search.update) wrote into its folder, and the dense index."""

    folder: Path
    doc_vectors: np.ndarray
    sentences: SentenceVectors
    offsets: np.ndarray
    dense: Any  # faiss.Index
    index_type: str
    trained_on: int = 0


def finish_index(store: Store, model: str, documents: Sequence[Document], built: Built, *, started: float,
                 embedded: int | None, inputs: str, digests: np.ndarray, digest: str,
                 update: dict[str, int] | None = None, bm25: Bm25Postings | None = None) -> IndexData:
    """BM25, the IVF-PQ file, documents.json, digests.npy, then the manifest (the step that makes the
    folder the index) for the vectors in `built`; older folders are removed. The index, as it is in
    memory. `digests`: the documents' document_digests, `digest`: corpus_hash(digests), `bm25`: their
    BM25 matrix when the caller has it."""
    folder = built.folder
    if built.index_type != "flat":
        _save_array(folder / "dense.faiss", faiss.serialize_index(built.dense), raw=True)
    bm25 = build_bm25(documents) if bm25 is None else bm25
    save_bm25(folder / BM25_FILE, bm25)
    documents_sha = save_documents(folder / DOCUMENTS_FILE, documents)
    digests_sha = hashlib.sha256(_save_array(folder / DIGESTS_FILE, digests)).hexdigest()
    manifest = Manifest(
        model=model, dimension=int(built.doc_vectors.shape[1]), corpus_hash=digest,
        package_version=__version__, n_documents=len(documents), n_sentences=int(built.offsets[-1]),
        index_type=built.index_type, build_id=folder.name,
        built_at=datetime.now(UTC).isoformat(timespec="seconds"),
        build_seconds=round(time.perf_counter() - started, 3), embedded=embedded, inputs_hash=inputs,
        documents_sha256=documents_sha, digests_sha256=digests_sha, trained_on=built.trained_on,
        update=update)
    write_json(manifest_path(store), manifest.to_dict())
    _remove_old_builds(store, keep=folder.name)
    return IndexData(manifest, built.doc_vectors.view(np.ndarray), built.sentences, built.offsets,
                     built.dense, bm25, folder)


def new_build_id(digest: str) -> str:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f")
    return f"{stamp}-{digest[:10]}"


def _save_array(path: Path, array: np.ndarray, *, raw: bool = False) -> bytes:
    """Write `array` as .npy (or its raw bytes); returns the bytes written."""
    if raw:
        data = np.ascontiguousarray(array).tobytes()
    else:
        buffer = io.BytesIO()
        np.save(buffer, array, allow_pickle=False)
        data = buffer.getvalue()
    with atomic_open(path, "wb") as fh:
        fh.write(data)
    return data


def _remove_old_builds(store: Store, keep: str) -> None:
    for child in index_dir(store).iterdir():
        if child.is_dir() and child.name != keep:
            shutil.rmtree(child, ignore_errors=True)


def record_inputs(store: Store, manifest: Manifest, documents: Sequence[Document], inputs: str) -> Manifest:
    """The manifest of an index that fits `documents`, now recording `inputs` (and documents.json)
    when it did not: an index that `kg build` keeps then loads fast too. No-op when already recorded."""
    folder = index_dir(store) / manifest.build_id
    if not inputs or (manifest.inputs_hash == inputs and manifest.documents_sha256
                      and (folder / DOCUMENTS_FILE).is_file()):
        return manifest
    manifest = Manifest.from_dict({**manifest.to_dict(), "inputs_hash": inputs,
                                   "documents_sha256": save_documents(folder / DOCUMENTS_FILE, documents)})
    write_json(manifest_path(store), manifest.to_dict())
    return manifest


# ---- loading -----------------------------------------------------------------------------
def check_manifest(manifest: Manifest | None, documents: Sequence[Document], encoder: Encoder,
                   digests: np.ndarray | None = None) -> Manifest:
    """The manifest if the index fits this corpus and encoder (`check_model`); a clear error otherwise.
    `digests`: the documents' document_digests, when the caller has them."""
    manifest = check_model(manifest, encoder)
    if corpus_hash(document_digests(documents) if digests is None else digests) != manifest.corpus_hash:
        raise StaleIndexError(f"the corpus changed since the search index was built ({len(documents)} papers "
                              f"now, {manifest.n_documents} indexed); run `kg build`")
    return manifest


def check_model(manifest: Manifest | None, encoder: Encoder) -> Manifest:
    """The manifest if the index exists, is in this format and fits the encoder; a clear error otherwise.

    An encoder whose model is not loaded yet (`loaded` False) is checked by name only here, so a BM25
    search never waits for the model; its dimension is checked when it first encodes a query."""
    if manifest is None:
        raise StaleIndexError("no search index has been built yet; run `kg build`")
    if manifest.format != INDEX_FORMAT or manifest.doc_format != DOC_FORMAT:
        raise StaleIndexError(f"the search index was written by kg {manifest.package_version} in an older "
                              f"format; run `kg build`")
    if getattr(encoder, "loaded", True) and encoder.dimension != manifest.dimension:
        raise DimensionMismatchError(
            f"the search index holds {manifest.dimension}-dimensional vectors but model {encoder.name!r} "
            f"gives {encoder.dimension}; run `kg build --model {encoder.name}`")
    if encoder.name != manifest.model:
        raise StaleIndexError(f"the search index was built with model {manifest.model!r}, not "
                              f"{encoder.name!r}; run `kg build --model {encoder.name}` or search with "
                              f"--model {manifest.model}")
    return manifest


def load_index(store: Store, encoder: Encoder, documents: Sequence[Document],
               digests: np.ndarray | None = None) -> IndexData:
    """The persisted index for `documents` and `encoder`, checked (see `check_manifest`)."""
    manifest = check_manifest(read_manifest(store), documents, encoder, digests)
    return _open_checked(store, manifest, documents)[1]


def load_index_by_inputs(store: Store, encoder: Encoder, inputs: str
                         ) -> tuple[Sequence[Document], IndexData] | None:
    """(documents, index) read from the index itself when its manifest records these inputs (see the
    module doc): the documents as a lazy DocumentTable (kg.search.doctable), parsed as they are used;
    None when the inputs differ (the caller then builds the documents and uses `load_index`)."""
    manifest = check_model(read_manifest(store), encoder)
    if not manifest.inputs_hash or manifest.inputs_hash != inputs or not manifest.documents_sha256:
        return None
    return _open_checked(store, manifest, None)


def _open_checked(store: Store, manifest: Manifest, documents: Sequence[Document] | None
                  ) -> tuple[Sequence[Document], IndexData]:
    folder = index_dir(store) / manifest.build_id
    try:
        if documents is None:
            documents = DocumentTable(folder / DOCUMENTS_FILE, manifest.documents_sha256)
        data = _read_files(folder, manifest)
    except StaleIndexError:
        raise
    except FileNotFoundError as exc:
        raise StaleIndexError(f"search index files are missing ({exc.filename}); run `kg build`") from exc
    except Exception as exc:  # numpy, zipfile and faiss raise many kinds on a damaged file
        raise StaleIndexError(f"search index files are damaged ({type(exc).__name__}); run `kg build`") \
            from exc
    _check_shapes(data, documents)
    return documents, data


def _read_files(folder: Path, manifest: Manifest) -> IndexData:
    # memory-mapped (pages load as touched), viewed as plain arrays: np.memmap's indexing is slower
    doc_vectors = np.load(folder / "doc_vectors.npy", mmap_mode="r").view(np.ndarray)
    codes = np.load(folder / "sentence_codes.npy", mmap_mode="r")
    sentences = SentenceVectors(codes.view(np.ndarray),
                                np.load(folder / "sentence_scales.npy", mmap_mode="r").view(np.ndarray),
                                RowReader(folder / "sentence_codes.npy", codes))
    offsets = np.load(folder / "sentence_offsets.npy")
    bm25 = read_bm25(folder / BM25_FILE)
    if manifest.index_type == "flat":
        dense = build_flat(doc_vectors)
    else:
        dense = faiss.read_index(str(folder / "dense.faiss"))
        faiss.extract_index_ivf(dense).nprobe = IVF_NPROBE
    return IndexData(manifest, doc_vectors, sentences, offsets, dense, bm25, folder)


def _check_shapes(data: IndexData, documents: Sequence[Document]) -> None:
    m = data.manifest
    if data.doc_vectors.shape[1] != m.dimension or data.dense.d != m.dimension \
            or data.sentence_vectors.shape[1] != m.dimension:
        raise DimensionMismatchError(f"search index files do not hold {m.dimension}-dimensional vectors; "
                                     f"run `kg build`")
    counts = {len(documents), data.doc_vectors.shape[0], data.dense.ntotal, data.bm25.n_docs,
              len(data.sentence_offsets) - 1}
    if len(counts) != 1 or data.sentence_vectors.shape[0] != data.sentence_offsets[-1] \
            or int(data.sentence_offsets[-1]) != m.n_sentences:
        raise StaleIndexError("search index files do not match their manifest; run `kg build`")
