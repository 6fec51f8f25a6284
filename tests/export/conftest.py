"""Fixtures for the export tests: awkward records, a copy of the default corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import Corpus
from kg.model import Paper, System
from kg.store import Store
from tests.conftest import fake_build
from tests.export.export_helpers import build_special_records


@pytest.fixture
def special_records() -> list[Paper | System]:
    return build_special_records()


@pytest.fixture
def special_store(tmp_path: Path, special_records) -> Store:
    store = Store(tmp_path / "data")
    store.save_papers([r for r in special_records if isinstance(r, Paper)])
    store.save_systems([r for r in special_records if isinstance(r, System)])
    return store


@pytest.fixture
def corpus_store(data_copy: Path) -> Store:
    """A private copy of the default data: snapshot, committed key registry, lineage, lists."""
    store = Store(data_copy)
    if not store.papers_path.exists():
        pytest.fail(f"the default corpus snapshot is missing from {store.corpus_dir}")
    fake_build(data_copy)  # --lineage reads the graph of the last build
    return store


@pytest.fixture
def corpus(corpus_store: Store) -> Corpus:
    return Corpus.load(corpus_store)
