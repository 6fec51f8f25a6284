"""The persisted index: files and manifest, rebuilds, and the errors of a stale or mismatched index."""

from __future__ import annotations

import json

import numpy as np
import pytest

from kg import __version__
from kg.errors import DimensionMismatchError, StaleIndexError
from kg.model import Note, Paper
from kg.search.bm25 import build_bm25
from kg.search.build import build_search_index
from kg.search.engine import load_searcher
from kg.search.index import index_dir, manifest_path, read_manifest
from testkit.encoders import FakeEncoder

from .conftest import LIST, make_papers, save_corpus


def test_build_writes_files_and_a_manifest(store, encoder):
    manifest, rebuilt = build_search_index(store, encoder)
    assert rebuilt and manifest == read_manifest(store)
    assert (manifest.model, manifest.dimension, manifest.index_type) == ("fake", 32, "flat")
    assert manifest.package_version == __version__ and len(manifest.corpus_hash) == 64
    assert manifest.n_documents == 8 and manifest.n_sentences == len(encoder.encoded)
    folder = index_dir(store) / manifest.build_id
    names = {p.name for p in folder.iterdir()}
    assert names == {"doc_vectors.npy", "sentence_codes.npy", "sentence_scales.npy", "sentence_offsets.npy",
                     "bm25.npz", "documents.json", "digests.npy"}
    assert np.load(folder / "doc_vectors.npy").dtype == np.float16
    assert np.load(folder / "sentence_codes.npy").dtype == np.int8
    assert json.loads(manifest_path(store).read_text())["build_id"] == manifest.build_id


def test_build_is_skipped_when_up_to_date_and_redone_when_forced(store, encoder):
    first, _ = build_search_index(store, encoder)
    encoder.encoded.clear()
    again, rebuilt = build_search_index(store, encoder)
    assert not rebuilt and again == first and encoder.encoded == []
    forced, rebuilt = build_search_index(store, encoder, force=True)
    assert rebuilt and forced.build_id != first.build_id
    assert encoder.encoded == []  # every sentence came from the cache
    assert [p.name for p in index_dir(store).iterdir() if p.is_dir()] == [forced.build_id]  # old one removed


def test_adding_one_paper_embeds_only_that_paper(store, encoder):
    build_search_index(store, encoder)
    encoder.encoded.clear()
    new = Paper(id="2311.17042", title="Adversarial Diffusion Distillation", published="2023-11-28",
                notes=[Note("One to four steps. Real-time synthesis.", LIST, 70)])
    store.save_papers([*make_papers(), new])
    manifest, rebuilt = build_search_index(store, encoder)
    assert rebuilt and manifest.n_documents == 9 and manifest.embedded == 3
    assert encoder.encoded == ["Adversarial Diffusion Distillation", "One to four steps.", "Real-time synthesis."]
    assert load_searcher(store, encoder).search("real-time synthesis", k=1, mode="bm25")[0].id == "2311.17042"


def test_missing_index_is_a_clear_error(store, encoder):
    with pytest.raises(StaleIndexError, match="no search index has been built yet; run `kg build`"):
        load_searcher(store, encoder)


def test_changed_corpus_makes_the_index_stale(store, encoder):
    build_search_index(store, encoder)
    papers = make_papers()
    papers[1].notes.append(Note("An added remark.", LIST, 21))
    store.save_papers(papers)
    with pytest.raises(StaleIndexError, match=r"corpus changed .*run `kg build`"):
        load_searcher(store, encoder)


def test_other_dimension_is_a_dimension_mismatch(store, encoder):
    build_search_index(store, encoder)
    with pytest.raises(DimensionMismatchError, match="32-dimensional .* gives 16"):
        load_searcher(store, FakeEncoder(dimension=16))


def test_other_model_is_stale(store, encoder):
    build_search_index(store, encoder)
    with pytest.raises(StaleIndexError, match="built with model 'fake', not 'other'"):
        load_searcher(store, FakeEncoder(dimension=32, name="other"))


def test_missing_or_inconsistent_files_are_errors_not_wrong_answers(store, encoder):
    manifest, _ = build_search_index(store, encoder)
    folder = index_dir(store) / manifest.build_id
    (folder / "bm25.npz").unlink()
    with pytest.raises(StaleIndexError, match="files are missing"):
        load_searcher(store, encoder)
    build_search_index(store, encoder, force=True)
    data = json.loads(manifest_path(store).read_text())
    data["n_sentences"] += 1
    manifest_path(store).write_text(json.dumps(data))
    with pytest.raises(StaleIndexError, match="do not match their manifest"):
        load_searcher(store, encoder)


def test_older_format_and_unreadable_manifest_are_stale(store, encoder):
    build_search_index(store, encoder)
    data = json.loads(manifest_path(store).read_text())
    manifest_path(store).write_text(json.dumps({**data, "format": 0}))
    with pytest.raises(StaleIndexError, match="older format"):
        load_searcher(store, encoder)
    manifest_path(store).write_text("{broken")
    with pytest.raises(StaleIndexError, match="unreadable index manifest"):
        load_searcher(store, encoder)
    manifest, rebuilt = build_search_index(store, encoder)  # `kg build` repairs it
    assert rebuilt and load_searcher(store, encoder).search("diffusion", k=1)


def test_a_compressed_index_above_the_threshold_gives_the_exact_top_hits(tmp_path):
    """IVF-PQ proposes candidates, the exact float16 vectors rank them: the same top hits as exact search."""
    from kg.corpus import Corpus
    from kg.search.documents import build_documents
    from kg.search.engine import Searcher
    from kg.search.index import build_index, load_index

    words = "diffusion sampling latent video editing identity autoregressive tokens masks pose edges".split()
    rng = np.random.default_rng(3)
    papers = [Paper(id=f"syn:{i:04d}", title=" ".join(rng.choice(words, 4)), published="2022-01-01",
                    notes=[Note(" ".join(rng.choice(words, 8)) + ".", LIST, i + 1)]) for i in range(1200)]
    documents = build_documents(Corpus(papers))
    encoder = FakeEncoder(dimension=32)
    stores = {kind: save_corpus(tmp_path / kind, papers) for kind in ("flat", "ivfpq")}
    for kind, threshold in (("flat", 10**6), ("ivfpq", 100)):
        manifest = build_index(stores[kind], encoder, documents, exact_threshold=threshold)
        assert manifest.index_type == kind
    assert (index_dir(stores["ivfpq"]) / read_manifest(stores["ivfpq"]).build_id / "dense.faiss").exists()
    exact, approx = (Searcher(documents, load_index(stores[k], encoder, documents), encoder) for k in stores)
    for query in ("faster sampling", "latent video diffusion", "identity masks", "pose edges tokens"):
        want = [h.id for h in exact.search(query, k=5, mode="dense", evidence=False)]
        assert [h.id for h in approx.search(query, k=5, mode="dense", evidence=False)] == want


def test_bm25_of_documents_without_any_word(encoder):
    from kg.search.documents import Document
    docs = [Document(id="a", title="...", fields=[("title", "...")])]
    bm25 = build_bm25(docs)
    assert bm25.n_docs == 1 and bm25.score(["diffus"]).tolist() == [0.0]


def test_a_query_process_reads_documents_from_the_index_when_the_snapshot_is_unchanged(store, encoder,
                                                                                      monkeypatch):
    from kg.corpus import Corpus
    from kg.search import inputs

    build_search_index(store, encoder)
    slow = load_searcher(store, encoder, corpus=Corpus.load(store))  # built and checked document by document

    def no_building(*args, **kwargs):
        raise AssertionError("a query process built documents although the snapshot is unchanged")

    monkeypatch.setattr(inputs, "build_documents", no_building)
    fast = load_searcher(store, encoder)
    assert [d.fingerprint() for d in fast.documents] == [d.fingerprint() for d in slow.documents]
    for mode in ("dense", "bm25", "hybrid"):
        assert fast.search("few steps sampling", k=5, mode=mode) == slow.search("few steps sampling", k=5,
                                                                                 mode=mode)


def test_other_snapshot_bytes_fall_back_to_the_document_check(store, encoder, monkeypatch):
    """Snapshot bytes that differ but give the same documents: the index still fits (checked the slow
    way); bytes that give other documents: stale, as before."""
    build_search_index(store, encoder)
    store.papers_path.write_bytes(store.papers_path.read_bytes() + b"\n")  # same records, other bytes
    assert load_searcher(store, encoder).search("diffusion", k=1)
    papers = make_papers()
    papers[0].title += " revisited"
    store.save_papers(papers)
    with pytest.raises(StaleIndexError, match=r"corpus changed .*run `kg build`"):
        load_searcher(store, encoder)


def test_damaged_or_missing_stored_documents_are_errors_not_wrong_answers(store, encoder):
    manifest, _ = build_search_index(store, encoder)
    path = index_dir(store) / manifest.build_id / "documents.json"
    docs = json.loads(path.read_text(encoding="utf-8"))
    docs[0]["title"] = "Something else entirely"  # still valid JSON
    path.write_text(json.dumps(docs), encoding="utf-8")
    with pytest.raises(StaleIndexError, match="files are damaged"):
        load_searcher(store, encoder)
    path.unlink()
    with pytest.raises(StaleIndexError, match="files are missing"):
        load_searcher(store, encoder)


def test_an_index_kept_by_build_gets_its_inputs_recorded(store, encoder):
    from kg.corpus import Corpus

    first, _ = build_search_index(store, encoder, corpus=Corpus.load(store))  # a corpus in memory: inputs unknown
    assert first.inputs_hash == ""
    kept, rebuilt = build_search_index(store, encoder)
    assert not rebuilt and kept.build_id == first.build_id and len(kept.inputs_hash) == 64
    assert read_manifest(store) == kept
    assert (index_dir(store) / kept.build_id / "documents.json").is_file()
