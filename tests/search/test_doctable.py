"""documents.json, one document a line, and the lazy table a query process reads it through
(kg.search.doctable): the same answers as documents in memory, and a clear error for a damaged file."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg.search.engine
from kg.cli import cli
from kg.corpus import Corpus
from kg.errors import StaleIndexError
from kg.search.build import build_search_index
from kg.search.doctable import DocumentTable
from kg.search.documents import Document, Filters, save_documents
from kg.search.engine import load_searcher
from kg.search.index import DOCUMENTS_FILE, index_dir, manifest_path, read_manifest
from testkit.encoders import FakeEncoder

from .conftest import make_papers, save_corpus
from .test_update import synthetic

ODD = [Document(id='we"ird\\id', title="Quote \" and backslash \\", year=2020, fields=[("title", "Quote")]),
       Document(id="syn:ü-2", title="Überall\u2028line separator", topics=["A > B"], categories=["cs.CV"],
                aliases=["Ü2"], fields=[("title", "Überall"), ("notes.md:3", "Zeile\nzwei")],
                lineage=[["Parent", "P"]], kind="system"),
       Document(id="plain", title="Plain", fields=[("title", "Plain")])]


def test_one_document_a_line_valid_json_and_read_back_lazily(tmp_path: Path):
    path = tmp_path / DOCUMENTS_FILE
    sha = save_documents(path, ODD)
    data = path.read_bytes()
    assert sha == hashlib.sha256(data).hexdigest()
    assert json.loads(data) == json.loads(json.dumps([d.fingerprint() for d in ODD]))
    lines = data.split(b"\n")
    assert lines[0] == b"[" and lines[-2:] == [b"]", b""] and len(lines) == len(ODD) + 3
    table = DocumentTable(path, sha)
    assert len(table) == 3
    assert [d.fingerprint() for d in table] == [d.fingerprint() for d in ODD]
    assert table[-1].fingerprint() == ODD[-1].fingerprint() and table[1].sentences == ODD[1].sentences
    assert [d.id for d in table[0:3:2]] == ['we"ird\\id', "plain"]
    assert list(table.ids()) == [d.id for d in ODD]
    with pytest.raises(IndexError):
        table[3]


def test_no_documents_and_many_documents_across_chunks(tmp_path: Path, monkeypatch):
    path = tmp_path / DOCUMENTS_FILE
    assert len(DocumentTable(path, save_documents(path, []))) == 0
    many = [Document(id=f"d{i:05d}", title=f"T {i}", year=2000 + i % 20, fields=[("title", f"T {i}")])
            for i in range(2_500)]
    monkeypatch.setattr("kg.search.doctable.CHUNK", 1_000)  # many reads, lines across their ends
    table = DocumentTable(path, save_documents(path, many))
    assert list(table.ids()) == [d.id for d in many]
    assert [d.year for d in table] == [d.year for d in many] and table[1234].title == "T 1234"


@pytest.fixture
def built(tmp_path: Path):
    store = save_corpus(tmp_path / "data", [*make_papers(), *synthetic(120)])
    encoder = FakeEncoder(dimension=32)
    build_search_index(store, encoder)
    return store, encoder


QUERIES = ("faster sampling", "latent video diffusion", "DDIM", "Consistency Models", "Paper 0042",
           "identity masks pose", "图像的自回归生成")
FILTERS = (None, Filters(year_from=2021), Filters(topics=("Diffusion",)), Filters(categories=("cs.CV",)),
           Filters(year_to=2022, categories=("cs",)))


def test_lazy_and_in_memory_searchers_answer_the_same(built):
    store, encoder = built
    lazy = load_searcher(store, encoder)
    eager = load_searcher(store, encoder, corpus=Corpus.load(store))
    assert isinstance(lazy.documents, DocumentTable) and isinstance(eager.documents, list)
    assert "position" not in vars(lazy) and "filter_index" not in vars(lazy)  # nothing built up front
    for query in QUERIES:
        for mode in ("dense", "bm25", "hybrid"):
            for filters in FILTERS:
                assert lazy.search(query, k=7, mode=mode, filters=filters) == \
                    eager.search(query, k=7, mode=mode, filters=filters), (query, mode, filters)
    assert lazy.search("DDIM", k=1)[0].exact_name
    for doc_id in ("2010.02502", "syn:0007", "syn:0119", "1406.2661"):
        assert lazy.similar(doc_id, k=5) == eager.similar(doc_id, k=5)
    assert lazy.position == eager.position


def _documents_path(store) -> Path:
    return index_dir(store) / read_manifest(store).build_id / DOCUMENTS_FILE  # type: ignore[union-attr]


def _cli_error(store, *args: str) -> str:
    res = CliRunner().invoke(cli, ["--data-dir", str(store.root), *args])
    assert res.exit_code != 0 and "Traceback" not in res.output
    return res.stderr.strip()


@pytest.fixture
def fake_model(monkeypatch):
    monkeypatch.setattr(kg.search.engine, "load_encoder",
                        lambda model=None, **_: FakeEncoder(name=model or "fake", dimension=32))


@pytest.mark.parametrize("damage", ["truncated", "edited"])
def test_a_damaged_documents_json_is_a_one_line_error(built, fake_model, damage):
    store, encoder = built
    path = _documents_path(store)
    data = path.read_bytes()
    path.unlink()  # (a hard link shared with the store's generation)
    path.write_bytes(data[:len(data) // 2] if damage == "truncated" else data.replace(b"Paper 0042", b"Paper 4200"))
    with pytest.raises(StaleIndexError, match=r"^search index files are damaged .*run `kg build`$"):
        load_searcher(store, encoder)
    error = _cli_error(store, "search", "faster sampling", "--mode", "bm25")
    assert "\n" not in error and "run `kg build`" in error


def test_a_line_that_does_not_parse_is_a_one_line_error_when_read(built, fake_model):
    """Even bytes that match the manifest's checksum (someone edited both): the damaged document is an
    error when a query reads it, never a traceback or a wrong answer."""
    store, encoder = built
    path = _documents_path(store)
    lines = path.read_bytes().split(b"\n")
    victim = next(i for i, line in enumerate(lines) if b'"id":"syn:0042"' in line)
    lines[victim] = b'{"id":"syn:0042","title":' + b","
    data = b"\n".join(lines)
    path.unlink()
    path.write_bytes(data)
    manifest = json.loads(manifest_path(store).read_text())
    manifest["documents_sha256"] = hashlib.sha256(data).hexdigest()
    manifest_path(store).unlink()
    manifest_path(store).write_text(json.dumps(manifest))
    searcher = load_searcher(store, encoder)
    assert searcher.search("consistency distillation", k=3, mode="bm25")  # other documents still answer
    with pytest.raises(StaleIndexError, match=r"document \d+, JSONDecodeError\); run `kg build`$"):
        searcher.search("Paper 0042", k=1, mode="bm25")
    assert "syn:0042" in searcher.position  # its id is still read from the start of its line
    error = _cli_error(store, "search", "Paper 0042", "--mode", "bm25")
    assert "\n" not in error and error.endswith("run `kg build`")
