"""kill -9 at random instants: `kg ingest`, `kg build` and `kg fetch`, each killed at 20 instants.

The command runs in a child forked by a zygote process (tests/faults/zygote.py: kg imported once,
the fake encoder in place, no thread pool inherited), so a run costs what the command costs and not
a Python start; the loopback arXiv runs in this process. After each kill the
data directory holds the old state or the new one, never a mix (checked right after the kill), and
a rerun gives the same outputs as an uninterrupted run.
"""

from __future__ import annotations

import json
import os
import random
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from kg.generations import verify
from kg.model import Note, Paper
from kg.search.index import read_manifest
from kg.store import Store
from testkit.servers import FakeArxiv, table_for_papers
from tests.faults.helpers import (
    REPO,
    copy_data,
    copy_inputs,
    diff_states,
    fetch_args,
    kg,
    normal_state,
)

KILLS = 20
TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")


class Zygote:
    """`python -m tests.faults.zygote`: forks the commands (see its module doc)."""

    def __init__(self) -> None:
        env = {**os.environ, "HF_HUB_OFFLINE": "1", "PYTHONPATH": str(REPO)}
        self.proc = subprocess.Popen([sys.executable, "-m", "tests.faults.zygote"], cwd=REPO, env=env,
                                     stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)

    def ask(self, request: dict[str, Any]) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(json.dumps(request) + "\n")
        self.proc.stdin.flush()
        line = self.proc.stdout.readline()
        assert line, "the zygote died"
        return dict(json.loads(line))

    def close(self) -> None:
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        self.proc.wait(30)


@pytest.fixture(scope="module")
def zygote() -> Iterator[Zygote]:
    z = Zygote()
    yield z
    z.close()


@pytest.fixture(scope="module")
def arxiv() -> Iterator[FakeArxiv]:
    papers = Store.at(REPO / "data").load_papers()
    with FakeArxiv(table_for_papers(papers)) as server:
        yield server  # type: ignore[misc]


ZYGOTE: list[Zygote] = []


def run_forked(root: Path, args: tuple[str, ...], kill_after: float | None) -> int | None:
    """Run `kg --data-dir root *args` in a child of the zygote; SIGKILL it after `kill_after` seconds
    (None: let it finish). Returns the exit status, or None when it was killed."""
    code = ZYGOTE[0].ask({"root": str(root), "args": list(args), "kill_after": kill_after})["code"]
    return None if code is None else int(code)


def _masked(state: dict[str, Any], root: Path) -> dict[str, Any]:
    out = dict(state)
    for key in [k for k in out if k.startswith(("corpus/", "cache/"))]:
        out[key] = TIME.sub(b"<t>", (root / key).read_bytes()) if (root / key).exists() else None
    return out


@pytest.fixture(autouse=True)
def _current_zygote(zygote: Zygote) -> Iterator[None]:
    ZYGOTE[:] = [zygote]
    yield
    ZYGOTE.clear()


def kill_and_rerun(start: Path, tmp: Path, args: tuple[str, ...], check_mid: Callable[[Path], None],
                   mask: bool = False) -> list[float]:
    """The uninterrupted run's state, then 20 killed runs each followed by a rerun: equal states."""
    clean = copy_data(start, tmp / "clean")
    began = time.monotonic()
    assert run_forked(clean, args, None) == 0
    duration = time.monotonic() - began
    expected = _masked(normal_state(clean), clean) if mask else normal_state(clean)
    rng = random.Random(f"kill {args[0]}")
    # within the first 70% of an uninterrupted run's time: a later run may be faster (a quieter machine)
    instants = sorted(rng.uniform(0.0, 0.7 * duration) for _ in range(KILLS))
    killed = 0
    for n, at in enumerate(instants):
        root = copy_data(start, tmp / f"kill{n}")
        killed += run_forked(root, args, at) is None
        check_mid(root)
        assert run_forked(root, args, None) == 0, f"rerun after a kill at {at:.3f} s failed"
        state = _masked(normal_state(root), root) if mask else normal_state(root)
        assert diff_states(expected, state) == [], f"kill at {at:.3f} s of {duration:.3f} s"
        shutil.rmtree(root)
    assert killed >= KILLS // 4, f"only {killed} of {KILLS} runs were killed before they ended"
    return instants


def test_kg_ingest_killed_anywhere_leaves_old_or_new_and_a_rerun_completes(tmp_path, mp, zygote):
    start = copy_inputs(tmp_path / "start")
    assert kg(start, "ingest").exit_code == 0
    old = {p.name: p.read_bytes() for p in (start / "corpus").glob("*.jsonl")}
    (start / "reading-lists" / "stable-diffusion-overview.md").unlink()  # the next ingest writes a
    # different papers.jsonl and systems.jsonl
    done = copy_data(start, tmp_path / "done")
    assert kg(done, "ingest").exit_code == 0
    new = {p.name: p.read_bytes() for p in (done / "corpus").glob("*.jsonl")}
    assert all(old[k] != new[k] for k in old)

    def old_or_new(root: Path) -> None:
        kg(root, "list")  # any command first finishes a committed batch (recover_if_idle)
        now = {p.name: p.read_bytes() for p in (root / "corpus").glob("*.jsonl")}
        assert now in (old, new), "a mix of old and new snapshot files"

    kill_and_rerun(start, tmp_path, ("ingest",), old_or_new)


def test_kg_build_killed_anywhere_leaves_old_or_new_and_a_rerun_completes(tmp_path, mp, zygote):
    start = copy_inputs(tmp_path / "start")
    assert kg(start, "ingest").exit_code == 0
    assert kg(start, "build").exit_code == 0  # an old build, then a corpus that makes it stale
    store = Store.at(start)
    store.save_papers(store.load_papers()[:-3])
    old_generation = verify(store).generation

    def intact(root: Path) -> None:
        checked = verify(Store.at(root))
        assert checked.intact, f"generation {checked.generation}: {checked.problems}"
        assert checked.generation is not None and checked.generation >= (old_generation or "")

    kill_and_rerun(start, tmp_path, ("build",), intact)


def test_kg_build_updating_the_index_killed_anywhere_leaves_old_or_new(tmp_path, mp, zygote):
    """One paper added and one changed: the build updates the carried index (kg.search.update); a kill
    at any instant leaves the old index or the updated one, each whole and verified."""
    start = copy_inputs(tmp_path / "start")
    assert kg(start, "ingest").exit_code == 0 and kg(start, "build").exit_code == 0
    store = Store.at(start)
    old = read_manifest(store)
    papers = store.load_papers()
    papers[0].notes.append(Note("A remark written for this test about sampling speed.", "test.md", 1))
    papers.append(Paper(id="2501.00001", title="One-step video generation by distillation",
                        notes=[Note("It distils a video diffusion model into one step.", "test.md", 2)]))
    store.save_papers(papers)
    done = copy_data(start, tmp_path / "done")
    assert kg(done, "build").exit_code == 0
    new = read_manifest(Store.at(done))
    assert old is not None and new is not None and new.update == {
        "kept": old.n_documents - 1, "added": 1, "changed": 1, "removed": 0}

    def old_or_new(root: Path) -> None:
        checked = verify(Store.at(root))
        assert checked.intact, f"generation {checked.generation}: {checked.problems}"
        manifest = read_manifest(Store.at(root))
        assert manifest is not None and manifest.corpus_hash in (old.corpus_hash, new.corpus_hash)

    kill_and_rerun(start, tmp_path, ("build",), old_or_new)
    killed = copy_data(start, tmp_path / "killed-in-the-update")  # and once right inside the update
    assert ZYGOTE[0].ask({"root": str(killed), "args": ["build"], "kill_at": "update-spliced"})["code"] is None
    old_or_new(killed)
    assert read_manifest(Store.at(killed)) == old
    assert run_forked(killed, ("build",), None) == 0
    assert diff_states(normal_state(done), normal_state(killed)) == []


def test_kg_fetch_killed_anywhere_resumes_and_a_rerun_completes(tmp_path, mp, zygote, arxiv):
    start = copy_inputs(tmp_path / "start")
    assert kg(start, "ingest").exit_code == 0

    def readable(root: Path) -> None:
        result = kg(root, "list")
        assert result.exit_code == 0, result.output

    kill_and_rerun(start, tmp_path, fetch_args(arxiv.endpoint), readable, mask=True)


def test_two_forced_builds_in_two_processes_one_paused_before_its_commit(tmp_path, mp, zygote):
    """Process A stops just before its commit; process B starts meanwhile and must wait for A's lock;
    A resumes and commits, then B builds and commits: a valid index and graph at the end."""
    root = copy_inputs(tmp_path / "data")
    assert kg(root, "ingest").exit_code == 0 and kg(root, "build").exit_code == 0
    gate, reached = tmp_path / "release-a", tmp_path / "a-reached"

    try:
        pause = {"gate": str(gate), "reached": str(reached)}
        a = int(zygote.ask({"root": str(root), "args": ["build", "--force"], "spawn": True, "pause": pause})["pid"])
        deadline = time.monotonic() + 60
        while not reached.exists() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert reached.exists()
        reached.unlink()
        b = int(zygote.ask({"root": str(root), "args": ["build", "--force"], "spawn": True, "pause": pause})["pid"])
        time.sleep(0.5)
        assert not reached.exists()  # B waits for A's lock: it has not reached its own commit
    finally:
        gate.touch()
    assert zygote.ask({"wait": a})["code"] == 0 and zygote.ask({"wait": b})["code"] == 0
    store = Store.at(root)
    assert verify(store).intact
    assert kg(root, "search", "diffusion sampling").exit_code == 0
    assert kg(root, "neighbors", "LDM", "--kind", "similar_to").exit_code == 0

