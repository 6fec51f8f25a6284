"""Updating the index for a few added, changed or removed papers (kg.search.update), through the one
build plan: only those papers are embedded, and the result is what a full build of the same corpus gives."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
from pathlib import Path

import faiss
import numpy as np
import pytest

from kg.generations import FILES, read_files, verify
from kg.model import Note, Paper
from kg.pipeline import BuildPlan, BuildResult
from kg.search import index as index_module
from kg.search import update as update_module
from kg.search.documents import DOC_FORMAT, Document
from kg.search.engine import load_searcher
from kg.search.index import DIGESTS_FILE, DOCUMENTS_FILE, index_dir, manifest_path, read_manifest
from kg.search.update import Delta, update_ivfpq
from kg.search.vectors import build_ivfpq
from kg.store import Store, current_generation, file_sha256
from testkit.encoders import FakeEncoder

from .conftest import LIST, save_corpus

WORDS = ("diffusion sampling latent video editing identity autoregressive tokens masks pose edges distillation "
         "consistency guidance adapter transformer flow matching inpainting layout").split()
QUERIES = ("faster sampling", "latent video diffusion", "identity masks", "pose edges tokens",
           "consistency distillation", "guidance adapter layout", "Paper 0042")


def synthetic(n: int, seed: int = 3) -> list[Paper]:
    """n papers of random words; one in ten defines an abbreviation (the BM25 index keeps the corpus's)."""
    rng = np.random.default_rng(seed)
    papers = [Paper(id=f"syn:{i:04d}", title=f"Paper {i:04d} " + " ".join(rng.choice(WORDS, 3)),
                  published=f"{2015 + i % 10}-01-01",
                  notes=[Note(" ".join(rng.choice(WORDS, 6)) + ". " + " ".join(rng.choice(WORDS, 5)) + ".",
                              LIST, i + 1)]) for i in range(n)]
    for i in range(0, n, 10):
        phrase = ("a Latent Consistency Model (LCM)", "Generative Adversarial Networks (GANs)")[i // 10 % 2]
        papers[i].notes.append(Note(f"It trains {phrase} with guidance.", LIST, n + i))
    return papers


NEW = Paper(id="syn:0100a", title="One-step video generation by distillation", published="2025-01-01",
            notes=[Note("It distils a video diffusion model (VDM) into one step. Samples stay sharp.", LIST, 999)])


def build(store: Store, encoder: FakeEncoder, **kwargs: object) -> BuildResult:
    return BuildPlan(store, encoder=encoder, **kwargs).run()  # type: ignore[arg-type]


def index_files(store: Store) -> dict[str, np.ndarray]:
    folder = index_dir(store) / read_manifest(store).build_id  # type: ignore[union-attr]
    out = {p.name: np.load(p) for p in folder.glob("*.npy")}
    with np.load(folder / "bm25.npz") as z:
        out.update({f"bm25.{k}": z[k] for k in z.files})
    out[DOCUMENTS_FILE] = np.frombuffer((folder / DOCUMENTS_FILE).read_bytes(), dtype=np.uint8)
    return out


def answers(store: Store, encoder: FakeEncoder) -> list[object]:
    searcher = load_searcher(store, encoder)
    hits = [searcher.search(q, k=10, mode=m) for q in QUERIES for m in ("dense", "bm25", "hybrid")]
    return [*hits, *(searcher.similar(d.id, k=5) for d in searcher.documents[::37])]


@pytest.fixture
def corpus(tmp_path: Path) -> tuple[Store, list[Paper], FakeEncoder]:
    papers = synthetic(200)
    store = save_corpus(tmp_path / "data", papers)
    encoder = FakeEncoder(dimension=32)
    assert build(store, encoder).index_rebuilt
    encoder.encoded.clear()
    return store, papers, encoder


def full_build_of(store: Store, tmp_path: Path) -> Store:
    """The same corpus built from scratch (no build, no cache) in another data directory."""
    fresh = Store(tmp_path / "fresh")
    fresh.corpus_dir.mkdir(parents=True)
    for path in store.corpus_dir.iterdir():
        shutil.copy(path, fresh.corpus_dir / path.name)
    assert build(fresh, FakeEncoder(dimension=32)).index_rebuilt
    return fresh


def test_adding_one_paper_embeds_exactly_that_paper_and_updates_the_index(corpus, monkeypatch):
    store, papers, encoder = corpus

    def no_full_bm25(*args: object, **kwargs: object) -> None:
        raise AssertionError("an update tokenised every document again")

    monkeypatch.setattr(index_module, "build_bm25", no_full_bm25)
    before = read_manifest(store)
    store.save_papers([*papers, NEW])
    result = build(store, encoder)
    assert result.index_updated and not result.index_rebuilt
    assert encoder.encoded == ["One-step video generation by distillation", "It distils a video diffusion "
                               "model (VDM) into one step.", "Samples stay sharp."]
    manifest = result.manifest
    assert manifest.update == {"kept": 200, "added": 1, "changed": 0, "removed": 0}
    assert manifest.embedded == 3 and manifest.n_documents == 201 and manifest.build_id != before.build_id
    assert load_searcher(store, encoder).search("one-step video distillation", k=1)[0].id == NEW.id
    encoder.encoded.clear()
    again = build(store, encoder)  # now it fits: nothing embedded, nothing updated
    assert not again.index_updated and not again.index_rebuilt and encoder.encoded == []


@pytest.mark.parametrize(("change", "embedded"), [("add", 3), ("append-at-end", 1), ("add-change-remove", 6),
                                                ("remove-only", 0)])
def test_an_updated_index_answers_exactly_as_a_full_build_of_the_same_corpus(corpus, tmp_path, change, embedded):
    store, papers, encoder = corpus
    papers = list(papers)
    if change == "append-at-end":  # sorts after every indexed id: rows appended
        papers.append(Paper(id="syn:9999", title="Latent masks for video editing", published="2024-01-01"))
    if change in ("add", "add-change-remove"):  # sorts between indexed ids: rows inserted
        papers.insert(100, NEW)
    if change in ("add-change-remove", "remove-only"):
        if change == "add-change-remove":
            papers[5].notes.append(Note("A new remark on guidance.", LIST, 500))
        del papers[60], papers[0], papers[-1]
    store.save_papers(papers)
    result = build(store, encoder)
    assert result.index_updated and len(encoder.encoded) == embedded
    fresh = full_build_of(store, tmp_path)
    ours, theirs = index_files(store), index_files(fresh)
    assert ours.keys() == theirs.keys() and len(theirs["bm25.abbr_short"]) >= 2
    for name, array in theirs.items():
        assert np.array_equal(ours[name], array), name  # byte for byte: vectors, offsets, BM25, documents
    assert read_manifest(store).corpus_hash == read_manifest(fresh).corpus_hash  # type: ignore[union-attr]
    assert answers(store, encoder) == answers(fresh, encoder)


def test_an_index_without_term_frequencies_is_updated_with_bm25_rebuilt(tmp_path):
    """An index written before BM25 kept its term frequencies: the update scores BM25 from the documents."""
    from kg.search.build import build_search_index

    papers = synthetic(120)
    store = save_corpus(tmp_path / "data", papers)
    encoder = FakeEncoder(dimension=32)
    manifest, _ = build_search_index(store, encoder)
    path = index_dir(store) / manifest.build_id / "bm25.npz"
    with np.load(path) as z:
        older = {k: z[k] for k in z.files if k not in ("tf", "lengths")}
    np.savez(path, **older)
    store.save_papers([*papers, NEW])
    updated, _ = build_search_index(store, encoder)
    assert updated.update == {"kept": 120, "added": 1, "changed": 0, "removed": 0}
    fresh = full_build_of(store, tmp_path)
    assert answers(store, encoder) == answers(fresh, encoder)


def test_the_previous_generation_is_never_changed_by_an_update(corpus):
    store, papers, encoder = corpus
    old = current_generation(store)
    folder = store.generations_dir / str(old)
    recorded = read_files(folder)
    store.save_papers([*papers, NEW])
    assert build(store, encoder).index_updated
    assert current_generation(store) != old and folder.is_dir()  # kept one cycle for readers
    for rel, meta in recorded.items():
        assert file_sha256(folder / rel) == meta["sha256"], rel


def test_a_full_build_for_another_model_or_when_forced(corpus):
    store, papers, encoder = corpus
    store.save_papers([*papers, NEW])
    result = build(store, FakeEncoder(dimension=32, name="other"))
    assert result.index_rebuilt and not result.index_updated and result.manifest.update is None
    store.save_papers(papers)
    assert build(store, FakeEncoder(dimension=32, name="other"), force=True).index_rebuilt


def test_no_update_without_the_indexed_digests_or_across_the_exact_threshold(corpus, monkeypatch):
    from kg.corpus import Corpus
    from kg.search.documents import build_documents

    store, papers, _ = corpus
    store.save_papers([*papers, NEW])
    documents = build_documents(Corpus.load(store))
    manifest = read_manifest(store)
    assert manifest is not None and update_module.plan_update(store, manifest, documents, "fake") is not None
    assert update_module.plan_update(store, manifest, documents, "other") is None  # another model
    with monkeypatch.context() as mp:  # 201 documents would need a compressed index: a full build
        mp.setattr(update_module, "index_type_for", lambda n, t=0: "flat" if n <= 200 else "ivfpq")
        assert update_module.plan_update(store, manifest, documents, "fake") is None


def rewrite(path: Path, data: bytes) -> None:
    path.unlink()  # a hard link shared with the generation: the file there stays as it was
    path.write_bytes(data)


def test_the_update_never_reads_documents_json(corpus):
    store, papers, encoder = corpus
    folder = index_dir(store) / read_manifest(store).build_id  # type: ignore[union-attr]
    rewrite(folder / DOCUMENTS_FILE, b"not json")  # (queries would refuse it; the plan must not need it)
    from kg.corpus import Corpus
    from kg.search.documents import build_documents

    store.save_papers([*papers, NEW])
    delta = update_module.plan_update(store, read_manifest(store), build_documents(Corpus.load(store)), "fake")
    assert delta is not None and delta.counts() == {"kept": 200, "added": 1, "changed": 0, "removed": 0}


@pytest.mark.parametrize("damage", ["missing", "flipped byte", "another corpus's digests", "not recorded"])
def test_missing_or_corrupt_digests_mean_a_full_build_never_a_wrong_update(corpus, tmp_path, damage):
    """digests.npy is what the update trusts to keep rows: when it is missing, damaged, or not the file
    the manifest records, the plan is a full build; the pipeline (which also checks the generation's
    checksums) rebuilds, equal to a full build of the same corpus."""
    from kg.corpus import Corpus
    from kg.search.documents import build_documents
    from kg.search.inputs import document_digests

    store, papers, encoder = corpus
    papers = list(papers)
    papers[3].notes.append(Note("A remark on guidance added later.", LIST, 700))
    store.save_papers([*papers, NEW])
    documents = build_documents(Corpus.load(store))
    manifest = read_manifest(store)
    assert manifest is not None
    path = index_dir(store) / manifest.build_id / DIGESTS_FILE
    data = path.read_bytes()
    if damage == "missing":
        path.unlink()
    elif damage == "flipped byte":
        rewrite(path, data[:-5] + bytes([data[-5] ^ 1]) + data[-4:])
    elif damage == "another corpus's digests":  # a well-formed file that claims every document unchanged
        buffer = io.BytesIO()
        np.save(buffer, document_digests(documents)[:200])
        rewrite(path, buffer.getvalue())
    else:
        manifest_path(store).unlink()
        manifest_path(store).write_text(json.dumps({**manifest.to_dict(), "digests_sha256": ""}))
        manifest = read_manifest(store)
        assert manifest is not None
    assert update_module.plan_update(store, manifest, documents, "fake") is None
    result = build(store, encoder)
    assert result.index_rebuilt and not result.index_updated
    fresh = full_build_of(store, tmp_path)
    ours, theirs = index_files(store), index_files(fresh)
    assert all(np.array_equal(ours[name], array) for name, array in theirs.items())
    assert answers(store, encoder) == answers(fresh, encoder)


def json_corpus_hash(documents: list[Document]) -> str:
    """The corpus hash of index formats 4 and before: every document's JSON, hashed in order."""
    h = hashlib.sha256(f"doc-format:{DOC_FORMAT}\n".encode())
    for doc in documents:
        h.update(json.dumps(doc.fingerprint(), ensure_ascii=False, sort_keys=True).encode("utf-8") + b"\n")
    return h.hexdigest()


def write_as_built(store: Store, path: Path, text: str) -> None:
    """Replace a file of the current generation and record it in its file list, as if that build had
    written it: the next build's checksums pass, so what it does is the format's doing, not theirs."""
    rewrite(path, text.encode())
    folder = store.generations_dir / str(current_generation(store))
    listing = json.loads((folder / FILES).read_text())
    listing["files"][path.relative_to(folder).as_posix()] = {"size": path.stat().st_size,
                                                           "sha256": file_sha256(path)}
    rewrite(folder / FILES, json.dumps(listing).encode())


@pytest.mark.parametrize(("older", "added"), [(3, True), (4, True), (4, False)])
def test_an_index_of_an_older_format_is_rebuilt_never_kept_or_updated(corpus, older, added):
    """Format 3 had no digests.npy; format 4 had them, but its corpus hash was of the documents' JSON
    (another value for the same corpus). Either is rebuilt by `kg build`, even with nothing changed and
    its files intact, and a query on it says to run `kg build` rather than reading it."""
    from kg.corpus import Corpus
    from kg.errors import StaleIndexError
    from kg.search.documents import build_documents

    store, papers, encoder = corpus
    manifest = read_manifest(store)
    assert manifest is not None and manifest.format == index_module.INDEX_FORMAT == 6
    documents = build_documents(Corpus.load(store))
    assert json_corpus_hash(documents) != manifest.corpus_hash  # the value changed: the format had to
    older_manifest = {**manifest.to_dict(), "format": older, "corpus_hash": json_corpus_hash(documents)}
    if older == 3:
        (index_dir(store) / manifest.build_id / DIGESTS_FILE).unlink()
        del older_manifest["digests_sha256"]
    write_as_built(store, manifest_path(store), json.dumps(older_manifest))
    assert verify(store).intact == (older == 4)
    with pytest.raises(StaleIndexError, match="older format"):
        load_searcher(store, encoder)
    if added:
        store.save_papers([*papers, NEW])
    result = build(store, encoder)
    assert result.index_rebuilt and not result.index_updated and result.manifest.format == 6
    assert (index_dir(store) / result.manifest.build_id / DIGESTS_FILE).is_file()
    assert load_searcher(store, encoder).search("one-step video distillation" if added else "Paper 0042",
                                                k=1)[0].id == (NEW.id if added else "syn:0042")


@pytest.mark.parametrize("kind", ["nothing changed", "one added", "forced"])
def test_a_build_serialises_each_document_once_for_its_digests(corpus, monkeypatch, kind):
    """The documents' digests (their JSON, hashed) are computed once per build and give the corpus hash
    of every check, the update's comparison and digests.npy; documents.json, when a build writes it,
    serialises each document once more. Nothing else does."""
    from kg.search.documents import Document as Doc

    store, papers, encoder = corpus
    calls = []
    fingerprint = Doc.fingerprint
    monkeypatch.setattr(Doc, "fingerprint", lambda self: calls.append(self.id) or fingerprint(self))
    if kind == "one added":
        store.save_papers([*papers, NEW])
    result = build(store, encoder, force=kind == "forced")
    n = result.manifest.n_documents
    assert (result.index_updated, result.index_rebuilt) == (kind == "one added", kind == "forced")
    assert len(calls) == n * (1 if kind == "nothing changed" else 2) and len(set(calls)) == n


# ---- IVF-PQ -------------------------------------------------------------------------------------
def lists_of(index: faiss.Index) -> list[list[tuple[int, bytes]]]:
    from faiss.contrib.inspect_tools import get_invlist

    ivf = faiss.extract_index_ivf(index)
    out = []
    for list_no in range(ivf.nlist):
        ids, codes = get_invlist(ivf.invlists, list_no)
        out.append(sorted(zip(ids.tolist(), (c.tobytes() for c in codes), strict=True)))
    return out


def test_an_ivfpq_update_equals_filling_the_same_trained_quantiser_with_the_new_rows():
    rng = np.random.default_rng(5)
    old = rng.standard_normal((1500, 32)).astype(np.float32)
    old /= np.linalg.norm(old, axis=1, keepdims=True)
    old = old.astype(np.float16)
    index = build_ivfpq(old)
    trained = faiss.clone_index(index)
    source = np.concatenate([np.arange(0, 400), [-1, -1], np.arange(401, 900), [-1], np.arange(950, 1500)])
    new_vectors = np.empty((len(source), 32), dtype=np.float16)
    new_vectors[source >= 0] = old[source[source >= 0]]
    new_vectors[source < 0] = rng.standard_normal((3, 32)).astype(np.float16)
    updated = update_ivfpq(index, Delta(source.astype(np.int64), 1500, changed=0), new_vectors)
    trained.reset()
    trained.add(new_vectors.astype(np.float32))
    assert updated.ntotal == len(source) and lists_of(updated) == lists_of(trained)


def test_an_ivfpq_index_is_updated_through_the_build_and_finds_every_document(tmp_path, monkeypatch):
    threshold = 100
    for module in (index_module, update_module):
        monkeypatch.setattr(module, "index_type_for", lambda n, t=0: "flat" if n <= threshold else "ivfpq")
    papers = synthetic(400, seed=9)
    store = save_corpus(tmp_path / "data", papers)
    encoder = FakeEncoder(dimension=32)
    assert build(store, encoder).manifest.index_type == "ivfpq"
    encoder.encoded.clear()
    store.save_papers([p for p in papers if p.id != "syn:0007"] + [NEW])
    result = build(store, encoder)
    assert result.index_updated and result.manifest.index_type == "ivfpq" and result.manifest.trained_on == 400
    assert len(encoder.encoded) == 3
    searcher = load_searcher(store, encoder)
    vectors = np.asarray(searcher.index.doc_vectors, dtype=np.float32)
    _, ids = searcher.index.dense.search(vectors, 10)
    found = np.mean([i in row for i, row in enumerate(ids)])
    assert searcher.index.dense.ntotal == 400 and found > 0.95  # ids renumbered to the new rows
    assert searcher.search("one-step video distillation", k=1, mode="dense")[0].id == NEW.id


def test_the_cli_says_the_index_was_updated(corpus):
    from click.testing import CliRunner

    from kg.cli import cli
    from tests.faults.helpers import patch_encoders

    store, papers, _ = corpus
    store.save_papers([*papers, NEW])
    with pytest.MonkeyPatch.context() as mp:
        patch_encoders(mp)
        result = CliRunner().invoke(cli, ["--data-dir", str(store.root), "build", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output[result.output.index("{"):])
    assert data["updated"] and not data["rebuilt"] and data["embedded"] == 3


def test_an_index_whose_documents_json_is_one_line_is_rebuilt(corpus):
    """Format 5 wrote documents.json as one line; a query refuses it (it cannot be read by line) and
    `kg build` rebuilds it, writing one document a line."""
    from kg.errors import StaleIndexError

    store, _, encoder = corpus
    manifest = read_manifest(store)
    assert manifest is not None
    path = index_dir(store) / manifest.build_id / DOCUMENTS_FILE
    one_line = json.dumps(json.loads(path.read_bytes()), ensure_ascii=False, separators=(",", ":"))
    write_as_built(store, path, one_line)
    older = {**manifest.to_dict(), "format": 5, "documents_sha256": hashlib.sha256(one_line.encode()).hexdigest()}
    write_as_built(store, manifest_path(store), json.dumps(older))
    with pytest.raises(StaleIndexError, match="older format.*run `kg build`"):
        load_searcher(store, encoder)
    result = build(store, encoder)
    assert result.index_rebuilt and result.manifest.format == index_module.INDEX_FORMAT
    lines = (index_dir(store) / result.manifest.build_id / DOCUMENTS_FILE).read_bytes().split(b"\n")
    assert len(lines) == 200 + 3 and lines[0] == b"[" and lines[-2:] == [b"]", b""]
    assert load_searcher(store, encoder).search("Paper 0042", k=1)[0].id == "syn:0042"
