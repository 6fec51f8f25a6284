"""The corrupt-state matrix: every file under data/corpus, data/build and data/cache, damaged each
way (deleted, truncated, zero bytes, garbage bytes, and for JSON files a JSON value of the wrong
type), met by every command that reads it, in-process with the fake encoder and the loopback arXiv.

Each command must exit 0 or with one `error:` line, never a traceback; then one repair brings the
data directory back to the clean state, byte for byte where the build is deterministic (see
`tests.faults.helpers.normal_state`):
- a build file: one `kg build`;
- a cache file: one `kg fetch` (the damaged entry is dropped and asked again);
- a snapshot file (data/corpus, committed to git): deleted, `kg ingest` + `kg fetch` + `kg build`
  rebuild it; damaged, the commands name the file and `git checkout` of it + `kg build` repair it.

Commands that never open an area (`kg ingest` and `kg fetch` never read data/build; readers never
read data/cache) are run once against every file of that area damaged at the same time
(`test_commands_that_do_not_read_an_area_ignore_its_damage`) instead of once per case.
The result table is written to test-artifacts/corrupt-matrix.md.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from testkit.servers import FakeArxiv, table_for_papers
from tests.faults.helpers import (
    REPO,
    assert_one_line,
    copy_data,
    copy_inputs,
    damage,
    data_files,
    diff_states,
    fetch_args,
    is_json,
    kg,
    normal_state,
)

HOWS = ("deleted", "truncated", "zero", "garbage", "wrong-type")
READERS = (("search", "diffusion sampling"), ("show", "LDM"), ("lineage", "SDXL"),
           ("neighbors", "LDM", "--kind", "similar_to"), ("export", "--all", "--format", "bibtex"))
TIME = re.compile(rb"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)")
RESULTS: dict[tuple[str, str], Counter[str]] = {}  # (area, damage) -> cases, runs, errors, restored


@pytest.fixture(scope="module")
def arxiv() -> Iterator[FakeArxiv]:
    from kg.store import Store

    papers = Store.at(REPO / "data").load_papers()
    table = table_for_papers(papers)
    versions = {p.arxiv_id: p.version for p in papers if p.arxiv_id and p.version}
    for row in table:  # the versions the lists name, so that ingest after fetch changes nothing
        row["version"] = int(versions.get(row["id"], "v1").lstrip("v") or 1)
    with FakeArxiv(table) as server:
        yield server  # type: ignore[misc]


@pytest.fixture(scope="module")
def golden(tmp_path_factory: pytest.TempPathFactory, mp: pytest.MonkeyPatch, arxiv: FakeArxiv) -> dict[str, Any]:
    """A data directory made by `kg ingest`, `kg fetch`, `kg build`, and its state; plus the snapshot
    as ingest left it (before fetch), to make `kg fetch` read the cache."""
    root = copy_inputs(tmp_path_factory.mktemp("golden") / "data")
    assert kg(root, "ingest").exit_code == 0
    unfetched = (root / "corpus" / "papers.jsonl").read_bytes()
    assert kg(root, *fetch_args(arxiv.endpoint)).exit_code == 0
    assert kg(root, "export", "--all").exit_code == 0  # the citation-key registry, corpus/bibkeys.json
    result = kg(root, "build")
    assert result.exit_code == 0, result.output
    return {"root": root, "state": normal_state(root), "unfetched": unfetched,
            "files": data_files(root)}


def _cases(area: str, golden: dict[str, Any]) -> list[tuple[str, str]]:
    files = [f for f in golden["files"] if f.startswith(area + "/")]
    return [(f, how) for f in files for how in HOWS if how != "wrong-type" or is_json(Path(f))]


def _masked(state: dict[str, Any], root: Path) -> dict[str, Any]:
    """The state with fetch timestamps masked (an entry fetched again is fetched at another time)."""
    out = dict(state)
    for key in [k for k in out if k.startswith(("corpus/", "cache/"))]:
        out[key] = TIME.sub(b"<time>", (root / key).read_bytes()) if (root / key).exists() else None
    return out


def _readers(root: Path, label: str) -> list[int]:
    codes = []
    for args in READERS:
        result = kg(root, *args)
        assert_one_line(result, f"{label}: kg {' '.join(args)}")
        codes.append(result.exit_code)
    return codes


def _record(area: str, how: str, codes: list[int], restored: bool) -> None:
    row = RESULTS.setdefault((area, how), Counter())
    row.update(cases=1, runs=len(codes), errors=sum(c != 0 for c in codes), restored=int(restored))


# ---- build files: readers, then one `kg build` ----------------------------------------------
def test_every_damaged_build_file_is_one_line_then_one_kg_build_restores_it(golden, tmp_path, mp):
    cases = _cases("build", golden)
    assert len(cases) >= 40
    for n, (rel, how) in enumerate(cases):
        root = copy_data(golden["root"], tmp_path / f"case{n}")
        damage(root / rel, how, seed=n)
        codes = _readers(root, f"{rel} {how}")
        result = kg(root, "build")
        assert_one_line(result, f"{rel} {how}: kg build")
        assert result.exit_code == 0, f"{rel} {how}: kg build failed: {result.output}"
        diff = diff_states(golden["state"], normal_state(root))
        assert diff == [], f"{rel} {how}: not restored: {diff}"
        codes.append(result.exit_code)
        _record("build", how, codes, True)
        shutil.rmtree(root)


# ---- cache files: one `kg fetch` -------------------------------------------------------------
def test_every_damaged_cache_file_is_dropped_and_asked_again_by_one_kg_fetch(golden, tmp_path, mp, arxiv):
    cases = _cases("cache", golden)
    assert cases
    clean = copy_data(golden["root"], tmp_path / "clean")
    (clean / "corpus" / "papers.jsonl").write_bytes(golden["unfetched"])
    assert kg(clean, *fetch_args(arxiv.endpoint)).exit_code == 0  # every answer from the cache
    expected = _masked(normal_state(clean), clean)
    for n, (rel, how) in enumerate(cases):
        root = copy_data(golden["root"], tmp_path / f"case{n}")
        (root / "corpus" / "papers.jsonl").write_bytes(golden["unfetched"])
        damage(root / rel, how, seed=n)
        before = arxiv.count
        result = kg(root, *fetch_args(arxiv.endpoint))
        assert_one_line(result, f"{rel} {how}: kg fetch")
        assert result.exit_code == 0, f"{rel} {how}: {result.output}"
        assert arxiv.count - before == 1, f"{rel} {how}: the damaged entry alone is asked again"
        diff = diff_states(expected, _masked(normal_state(root), root))
        assert diff == [], f"{rel} {how}: not restored: {diff}"
        _record("cache", how, [result.exit_code], True)
        shutil.rmtree(root)


# ---- snapshot files: every command; rebuilt (deleted) or named (damaged) ----------------------
def test_every_damaged_snapshot_file_is_one_line_in_every_command(golden, tmp_path, mp, arxiv):
    cases = _cases("corpus", golden)
    assert cases
    for n, (rel, how) in enumerate(cases):
        root = copy_data(golden["root"], tmp_path / f"case{n}")
        damage(root / rel, how, seed=n)
        codes = _readers(root, f"{rel} {how}")
        for args in (("build",), fetch_args(arxiv.endpoint), ("ingest",)):
            result = kg(root, *args)
            assert_one_line(result, f"{rel} {how}: kg {args[0]}")
            codes.append(result.exit_code)
            if result.exit_code != 0 and how != "deleted":
                assert Path(rel).name in result.stderr, f"{rel} {how}: kg {args[0]} must name the file"
        if how == "deleted":
            for args in (("ingest",), fetch_args(arxiv.endpoint), ("build",)):
                assert kg(root, *args).exit_code == 0
        else:  # the snapshot is committed: restore the file (git checkout), then one `kg build`
            shutil.copy(golden["root"] / rel, root / rel)
            assert kg(root, "build").exit_code == 0
        diff = diff_states(golden["state"], normal_state(root))
        assert diff == [], f"{rel} {how}: not restored: {diff}"
        _record("corpus", how, codes, True)
        shutil.rmtree(root)


def test_commands_that_do_not_read_an_area_ignore_its_damage(golden, tmp_path, mp, arxiv):
    """`kg ingest` and `kg fetch` with every build file garbage; readers with every cache file garbage."""
    root = copy_data(golden["root"], tmp_path / "build-garbage")
    for rel in [f for f in golden["files"] if f.startswith("build/")]:
        damage(root / rel, "garbage")
    for args in (("ingest",), fetch_args(arxiv.endpoint)):
        result = kg(root, *args)
        assert result.exit_code == 0, result.output
    root = copy_data(golden["root"], tmp_path / "cache-garbage")
    for rel in [f for f in golden["files"] if f.startswith("cache/")]:
        damage(root / rel, "garbage")
    assert all(code == 0 for code in _readers(root, "cache garbage"))


def test_zz_write_the_table(golden):
    """The matrix's size and outcomes, for the closing note (test-artifacts/corrupt-matrix.md)."""
    lines = ["| area | damage | cases | command runs | exit 0 | one-line error | traceback | restored |",
             "|---|---|---|---|---|---|---|---|"]
    for (area, how), c in sorted(RESULTS.items()):
        lines.append(f"| {area} | {how} | {c['cases']} | {c['runs']} | {c['runs'] - c['errors']} | "
                     f"{c['errors']} | 0 | {c['restored']}/{c['cases']} |")
    total = sum(c["cases"] for c in RESULTS.values())
    runs = sum(c["runs"] for c in RESULTS.values())
    lines.append(f"\n{total} cases ({runs} command runs) over {len(golden['files'])} files.")
    out = REPO / "test-artifacts" / "corrupt-matrix.md"
    out.parent.mkdir(exist_ok=True)
    out.write_text("\n".join(lines) + "\n")
