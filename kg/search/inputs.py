"""What a search index is built from, and the digest that says whether it still fits: the store's snapshot
(papers, systems) and its curated lineage, read into documents by the one document builder."""

from __future__ import annotations

from typing import TYPE_CHECKING

from kg.search.documents import Document, build_documents, inputs_digest
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
