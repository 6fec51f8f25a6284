"""Fixtures for the export tests: awkward records, a copy of the default corpus."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from export_helpers import build_special_records

from kg.corpus import Corpus
from kg.model import Paper, System
from kg.store import DEFAULT_DATA_DIR, Store


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
def corpus_store(tmp_path: Path) -> Store:
    """A copy of the default corpus snapshot (and its committed key registry) in tmp_path."""
    source = Store(DEFAULT_DATA_DIR)
    if not source.papers_path.exists():
        pytest.fail(f"the default corpus snapshot is missing: {source.papers_path}")
    store = Store(tmp_path / "data")
    store.corpus_dir.mkdir(parents=True)
    for path in (source.papers_path, source.systems_path, source.keys_path):
        if path.exists():
            shutil.copy(path, store.corpus_dir / path.name)
    return store


@pytest.fixture
def corpus(corpus_store: Store) -> Corpus:
    return Corpus.load(corpus_store)
