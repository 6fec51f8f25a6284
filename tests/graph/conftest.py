"""Fixtures for the graph tests: the fixture corpus, the real curated lineage, built graphs."""

from __future__ import annotations

from pathlib import Path

import networkx as nx
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.corpus import Corpus
from kg.graph.build import BuildReport, build_graph
from kg.lineage import LineageRow, load_lineage
from kg.store import Store
from tests.graph.corpus_fixture import REPO_DATA, build_records


@pytest.fixture(scope="session")
def lineage_rows() -> list[LineageRow]:
    """The repository's data/lineage.csv, every evidence verified at its file:line."""
    return load_lineage(Store.at(REPO_DATA))


@pytest.fixture
def fixture_corpus() -> Corpus:
    papers, systems = build_records()
    return Corpus(papers, systems)


@pytest.fixture
def fixture_graph(fixture_corpus: Corpus, lineage_rows: list[LineageRow]) -> nx.MultiDiGraph:
    return build_graph(fixture_corpus, lineage_rows)


@pytest.fixture(scope="session")
def default_corpus() -> Corpus:
    """The committed default snapshot (data/corpus/), read only."""
    return Corpus.load(Store.at(REPO_DATA))


@pytest.fixture(scope="session")
def default_build(default_corpus: Corpus, lineage_rows: list[LineageRow]) -> tuple[nx.MultiDiGraph, BuildReport]:
    report = BuildReport()
    return build_graph(default_corpus, lineage_rows, report=report), report


@pytest.fixture
def kg(built_copy: Path):
    """Run `kg --data-dir <a private, built copy of data/> …`."""
    def run(*args: str):
        return CliRunner().invoke(cli, ["--data-dir", str(built_copy), *args])
    return run
