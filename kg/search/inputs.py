"""What a search index is built from, and the digests that say whether it still fits: the store's snapshot
(papers, systems) and its curated lineage, read into documents by the one document builder; the digest
of the snapshot files (queries compare it), each document's own digest (updates compare them) and the
corpus hash made of those (`corpus_hash`: `kg build` compares it).

A build computes the documents' digests once (`document_digests`: the JSON of every document, hashed;
~0.7 s at 100,000 documents) and hands them to everything that needs them: the corpus hash of the
manifest and of each check against it, the update's comparison, and digests.npy."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from hashlib import blake2b
from typing import TYPE_CHECKING

import numpy as np

from kg.search.documents import DOC_FORMAT, Document, build_documents, inputs_digest
from kg.store import Store, digest_files

if TYPE_CHECKING:
    from kg.corpus import Corpus


def corpus_documents(store: Store, corpus: Corpus | None = None) -> list[Document]:
    """The search documents of `corpus` (default: the store's snapshot) with the store's curated lineage
    (data/lineage.csv): what every index build and every check against one reads."""
    from kg.corpus import Corpus
    from kg.lineage import load_lineage

    lineage = [(row.child, row.parent) for row in load_lineage(store, verify=False)]
    return build_documents(corpus or Corpus.load(store), lineage)


def snapshot_inputs(store: Store, model: str, files: str | None = None) -> str:
    """The inputs digest (kg.search.documents.inputs_digest) of the store's snapshot files for `model`:
    the files `corpus_documents(store)` reads (`files`: their digest, taken earlier)."""
    return inputs_digest(files or snapshot_files(store), model)


def snapshot_files(store: Store) -> str:
    """kg.store.digest_files of the snapshot files documents are built from. Take it BEFORE reading
    them: a snapshot that changes in between then only makes the recorded inputs not match."""
    return digest_files([store.papers_path, store.systems_path, store.lineage_path])


# Each document's digests: 8 bytes of blake2b of its id, 16 of its fingerprint (`document_digests`)
DIGEST_DTYPE = np.dtype([("id", "<u8"), ("fingerprint", "<u8", (2,))])
_CANONICAL = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))  # one encoder: no setup per call


def document_digests(documents: Sequence[Document]) -> np.ndarray:
    """The digests of each document, in order (DIGEST_DTYPE): of its id, and of its fingerprint
    (Document.fingerprint: everything the index depends on) as JSON. Equal fingerprint digests, equal
    documents (a 128-bit hash): kg.search.update keeps a document's rows on that alone."""
    raw = b"".join(blake2b(d.id.encode(), digest_size=8).digest()
                   + blake2b(_CANONICAL.encode(d.fingerprint()).encode(), digest_size=16).digest()
                   for d in documents)
    return np.frombuffer(raw, dtype=DIGEST_DTYPE).copy()


def corpus_hash(digests: np.ndarray) -> str:
    """The corpus hash of documents from their digests (`document_digests`, in row order): SHA-256 of
    DOC_FORMAT, the count and the digests' bytes. Equal hashes: an index built on one set of documents
    fits the other (same documents, same order, same document format). The one rule: the manifest's
    `corpus_hash`, `kg build`'s check and a query's check all take it here."""
    rows = np.ascontiguousarray(digests, dtype=DIGEST_DTYPE)
    h = hashlib.sha256(f"doc-format:{DOC_FORMAT}\ndocuments:{len(rows)}\n".encode())
    h.update(rows.tobytes())
    return h.hexdigest()
