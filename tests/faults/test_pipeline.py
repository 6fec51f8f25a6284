"""One build plan: `kg build`, `kg graph build` and the app's first start; loaders never build less."""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest

from kg import pipeline
from kg.errors import LockedError
from kg.generations import STAGING_PREFIX, verify
from kg.journal import HOOKS, recover
from kg.lock import writer_lock
from kg.pipeline import BuildPlan
from kg.search import engine as search_engine
from kg.search import index as search_index
from kg.search import inputs as search_inputs
from kg.store import Store, current_generation
from testkit.encoders import FakeEncoder
from tests.faults.helpers import assert_one_line, kg, normal_state, patch_encoders


@pytest.fixture(autouse=True)
def fake_model(monkeypatch: pytest.MonkeyPatch) -> None:
    patch_encoders(monkeypatch)


def neighbors(root: Path) -> str:
    result = kg(root, "neighbors", "LDM", "--kind", "similar_to")
    assert_one_line(result, "kg neighbors")
    return result.output if result.exit_code == 0 else result.stderr


def test_neighbors_answer_the_same_after_graph_json_is_deleted_or_say_run_kg_build(built_copy):
    before = neighbors(built_copy)
    assert "similar_to" in before and before.count("\n") > 3
    Store.at(built_copy).build_path("graph.json").unlink()
    missing = neighbors(built_copy)
    assert missing.startswith("error:") and "run `kg build`" in missing  # never a graph without them
    assert kg(built_copy, "graph", "build").exit_code == 0
    assert neighbors(built_copy) == before
    Store.at(built_copy).build_path("graph.json").unlink()
    assert kg(built_copy, "build").exit_code == 0
    assert neighbors(built_copy) == before


def test_graph_build_keeps_the_index_model_and_does_not_rebuild_the_index(data_copy):
    assert kg(data_copy, "build", "--model", "fake-b").exit_code == 0
    first = search_index.read_manifest(Store.at(data_copy))
    assert first is not None and first.model == "fake-b"
    assert kg(data_copy, "graph", "build").exit_code == 0
    again = search_index.read_manifest(Store.at(data_copy))
    assert again is not None and (again.model, again.build_id) == ("fake-b", first.build_id)


def test_the_index_is_handed_on_in_memory_and_documents_are_built_once(data_copy, monkeypatch):
    calls: list[int] = []
    real = search_inputs.build_documents

    def counted(corpus: object, lineage: object = ()) -> object:
        calls.append(1)
        return real(corpus, lineage)  # type: ignore[arg-type]

    monkeypatch.setattr(search_inputs, "build_documents", counted)
    for module in (search_index, pipeline, search_engine):
        monkeypatch.setattr(module, "load_index", lambda *a, **k: pytest.fail("read back"))
    result = BuildPlan(Store.at(data_copy)).run()
    assert result.index_rebuilt and calls == [1]
    assert result.report.edges.get("similar_to", 0) > 0


def test_the_app_and_kg_build_make_the_same_build(data_copy, tmp_path):
    other = tmp_path / "other"
    shutil.copytree(data_copy, other)
    assert kg(data_copy, "build").exit_code == 0
    labels: list[str] = []
    BuildPlan(Store.at(other), make_encoder=lambda name: FakeEncoder(name=name or "fake"),
              command="the app's first start").run(on_step=lambda i, n, label: labels.append(label))
    assert len(labels) == 6
    assert normal_state(data_copy) == normal_state(other)


def test_a_corrupt_index_file_is_rebuilt_by_kg_build_alone(built_copy):
    store = Store.at(built_copy)
    (vectors,) = store.build_dir.glob("search/*/doc_vectors.npy")
    vectors.write_bytes(vectors.read_bytes()[:100])
    assert "search" in verify(store).problems
    search = kg(built_copy, "search", "diffusion")
    assert_one_line(search, "search")
    assert search.exit_code == 2 and "run `kg build`" in search.stderr
    result = kg(built_copy, "build")
    assert result.exit_code == 0 and "repaired search" in result.stderr
    assert "Built the search index" in result.output  # not "up to date"
    assert verify(store).intact and kg(built_copy, "search", "diffusion").exit_code == 0


def test_stale_temporaries_and_staging_folders_are_removed_by_the_next_writer(built_copy):
    store = Store.at(built_copy)
    stale = [store.corpus_dir / ".papers.jsonl.abc123.tmp", store.build_root / ".graph.json.x.tmp"]
    for path in stale:
        path.write_text("left by kill -9")
    staging = store.generations_dir / f"{STAGING_PREFIX}20200101T000000000000-1"
    staging.mkdir()
    assert kg(built_copy, "ingest").exit_code == 0
    assert not any(p.exists() for p in stale)
    assert kg(built_copy, "build").exit_code == 0
    assert not staging.exists()
    assert sorted(p.name for p in store.generations_dir.iterdir()) <= sorted(
        {current_generation(store) or ""} | {p.name for p in store.generations_dir.iterdir()})
    assert len(list(store.generations_dir.iterdir())) <= 2  # the current one and the one before


def test_a_batch_killed_after_its_commit_point_is_rolled_forward(data_copy):
    store = Store.at(data_copy)
    old = {p: p.read_bytes() for p in (store.papers_path, store.systems_path)}
    papers, systems = store.load_papers()[:5], store.load_systems()[:1]

    class Killed(BaseException):
        pass

    def die(point: str) -> None:
        if point == "after-journal":
            raise Killed

    HOOKS.append(die)
    try:
        with pytest.raises(Killed), store.batch():
            store.save_papers(papers)
            store.save_systems(systems)
    finally:
        HOOKS.remove(die)
    assert store.journal_path.exists()
    assert {p: p.read_bytes() for p in old} == old  # not yet moved: the old state
    recover(store)
    assert len(store.load_papers()) == 5 and len(store.load_systems()) == 1  # all of the new state
    assert not store.journal_path.exists() and not list(store.corpus_dir.glob(".*.tmp"))


def test_a_batch_that_fails_before_its_commit_point_leaves_the_old_state(data_copy):
    store = Store.at(data_copy)
    old = {p: p.read_bytes() for p in (store.papers_path, store.systems_path)}
    with pytest.raises(RuntimeError), store.batch():
        store.save_papers(store.load_papers()[:5])
        raise RuntimeError("killed")
    assert {p: p.read_bytes() for p in old} == old and not list(store.corpus_dir.glob(".*.tmp"))


# ---- the lock: two writers ------------------------------------------------------------------------
def _paused_build(root: Path, point: str) -> tuple[threading.Thread, threading.Event, list[BaseException]]:
    """A `kg build --force` in a thread that stops at `point` until released."""
    reached, release, errors = threading.Event(), threading.Event(), []

    def hook(where: str) -> None:
        if where == point and threading.current_thread().name == "first":
            reached.set()
            release.wait(30)

    HOOKS.append(hook)

    def run() -> None:
        try:
            BuildPlan(Store.at(root), force=True).run()
        except BaseException as exc:  # noqa: BLE001 - reported to the test
            errors.append(exc)

    thread = threading.Thread(target=run, name="first")
    thread.start()
    assert reached.wait(30)
    return thread, release, errors


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_two_forced_builds_interleaved_end_with_a_valid_index(built_copy, point):
    thread, release, errors = _paused_build(built_copy, point)
    try:
        waits: list[str] = []
        second = threading.Thread(target=lambda: BuildPlan(Store.at(built_copy), force=True,
                                                           on_wait=waits.append).run(), name="second")
        second.start()
        second.join(0.5)
        assert second.is_alive() and waits and "kg build" in waits[0]  # it waits, and says for whom
    finally:
        release.set()
        HOOKS.clear()
    thread.join(30)
    second.join(30)
    assert not errors and not thread.is_alive() and not second.is_alive()
    store = Store.at(built_copy)
    assert verify(store).intact
    result = kg(built_copy, "search", "diffusion sampling")
    assert result.exit_code == 0, result.output


def test_a_writer_that_cannot_wait_names_who_holds_the_lock(built_copy):
    store = Store.at(built_copy)
    with writer_lock(store, "kg ingest"):
        with pytest.raises(LockedError, match=r"in use by pid \d+ on .* \(kg ingest\)"):
            with writer_lock(store, "kg build", wait=0.2):
                pass


def test_a_search_after_kg_build_builds_no_document_and_a_changed_snapshot_is_stale(data_copy, monkeypatch):
    store = Store.at(data_copy)
    assert kg(data_copy, "build").exit_code == 0
    first = search_index.read_manifest(store)
    assert first is not None and len(first.inputs_hash) == 64
    built: list[int] = []
    real = search_inputs.build_documents
    monkeypatch.setattr(search_inputs, "build_documents", lambda corpus, lineage=(): built.append(1) or real(corpus, lineage))
    assert kg(data_copy, "search", "diffusion sampling", "--mode", "bm25").exit_code == 0
    assert built == []
    papers = store.load_papers()
    papers[0].title = "A title the index has never seen"
    store.save_papers(papers)
    result = kg(data_copy, "search", "diffusion sampling", "--mode", "bm25")
    assert result.exit_code != 0 and "run `kg build`" in result.stderr and built == [1]
