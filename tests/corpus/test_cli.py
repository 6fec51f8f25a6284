"""`kg ingest`, `kg show`, `kg list` from the command line, good input and bad."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.corpus import Corpus
from kg.store import Store


def run(data: Path, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(data), *args])


def snapshot_bytes(data: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((data / "corpus").glob("*.jsonl"))}


@pytest.mark.parametrize(("name", "expected"), [
    ("LDM", "2112.10752"), ("2112.10752v2", "2112.10752"), ("SD v1.5", "system:sd-v1-5"),
    ("stablediffusion", "2112.10752"), ("arXiv:2006.11239", "2006.11239"),
    ("Denoising Diffusion Implicit Models", "2010.02502"), ("denoising diffusion implict models", "2010.02502"),
])
def test_show_answers_by_id_version_short_name_and_title(data_copy, name, expected):
    res = run(data_copy, "show", name)
    assert res.exit_code == 0, res.output
    assert res.output.splitlines()[0].startswith(expected)
    as_json = json.loads(run(data_copy, "show", name, "--json").output)
    assert as_json["id"] == expected


def test_show_says_how_many_mentions_it_leaves_out(data_copy):
    out = run(data_copy, "show", "LDM").output
    total = len(json.loads(run(data_copy, "show", "LDM", "--json").output)["mentions"])
    assert total > 10 and f"Mentioned ({total}):" in out
    assert f"… and {total - 10} more" in out


def test_show_says_when_the_abstract_is_missing(data_copy):
    out = run(data_copy, "show", "LDM").output
    assert "not fetched yet" in out and "facts:" in out and "reading-lists/" in out


@pytest.mark.parametrize(("name", "message"), [
    ("Stable Difusion XL Turbo Ultra", "no paper or system matches 'Stable Difusion XL Turbo Ultra'"),
    ("2301.999999", "invalid arXiv id '2301.999999'"),
    ("2501.99999", "no paper or system matches '2501.99999'"),
])
def test_show_unknown_or_invalid_names(data_copy, name, message):
    res = run(data_copy, "show", name)
    assert res.exit_code == 2
    assert message in res.output and "Traceback" not in res.output


def test_show_tolerates_typos_suggests_close_names_and_reports_ambiguity(data_copy):
    assert run(data_copy, "show", "Imagine Flahs").output.startswith("2405.05224")
    res = run(data_copy, "show", "Imagin Flash backward")
    assert res.exit_code == 2 and "closest: 2405.05224 (Imagine Flash)" in res.output
    res = run(data_copy, "show", "consistency")  # one generic word: never resolved by a near match alone
    assert res.exit_code == 2 and "closest: 2303.01469 (Consistency Models)" in res.output
    assert "2403.06807" in res.output


def test_show_names_the_candidates_of_an_ambiguous_name(data_copy):
    res = run(data_copy, "show", "StyleAlign")
    assert res.exit_code == 2 and len(res.output.strip().splitlines()) == 1
    assert "ambiguous" in res.output and "2110.11323 (" in res.output and "2312.02133 (" in res.output


def test_list_filters_by_topic_year_and_prints_json(data_copy):
    res = run(data_copy, "list", "--topic", "series of stable diffusion", "--year", "2023:2024", "--json")
    records = [json.loads(line) for line in res.output.splitlines()]
    ids = {r["id"] for r in records}
    assert {"2307.01952", "2402.13929", "2403.03206", "system:sdxl-turbo"} <= ids
    assert all(r["id"] != "2112.10752" for r in records)
    assert "records)" in run(data_copy, "list", "--kind", "system").output
    assert run(data_copy, "list", "--year", "2024:2020").exit_code == 2


def test_ingest_prints_counts_and_report(data_copy):
    res = run(data_copy, "ingest")
    assert res.exit_code == 0, res.output
    assert "64 arXiv ids linked" in res.output and "DiffusionCLIP" in res.output
    report = json.loads(run(data_copy, "ingest", "--json").output)
    assert report["counts"]["papers_listed"] == 82


def write_list(folder: Path, name: str, content: bytes) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(content)
    return path


BAD_LISTS = {
    "empty": (b"", "empty file", None),
    "blank": (b"\n\n  \n", "empty file", None),
    "binary": (b"# Title\n\x89PNG\x00\x00\x00\rIHDR\n", "binary file", 2),
    "latin1": ("# Papers\n\n- Björn's list\n".encode("latin-1"), "not UTF-8", 3),
}
BAD_ENTRIES = {
    "bad-id": (b"# T\n\n### Some long paper title here\n\nhttps://arxiv.org/abs/2301.999999\n",
               "invalid arXiv id '2301.999999'", 3),
    "bad-id2": (b"# T\n\n`X` **A paper**\n2021.1 [[Paper](https://arxiv.org/abs/abcd.1234)]\n",
                "invalid arXiv id 'abcd.1234'", 3),
    "bad-id-in-prose": (b"# T\n\nSee [this](https://arxiv.org/abs/2301.999999) too.\n",
                        "invalid arXiv id '2301.999999'", 3),
}
GOOD = b"- [Denoising Diffusion Probabilistic Models](https://arxiv.org/abs/2006.11239)\n"


@pytest.mark.parametrize("case", sorted(BAD_ENTRIES))
def test_a_bad_entry_costs_that_entry_only(data_copy, tmp_path, case):
    content, message, line = BAD_ENTRIES[case]
    path = write_list(tmp_path / "lists", f"{case}.md", content + b"\n" + GOOD)
    before = snapshot_bytes(data_copy)
    res = run(data_copy, "ingest", "--strict", str(path))  # all or nothing: nothing written
    assert res.exit_code == 1 and f"{path}:{line}: {message}" in res.output and "--strict" in res.output
    assert snapshot_bytes(data_copy) == before
    res = run(data_copy, "ingest", str(path))
    assert res.exit_code == 1
    assert res.output.strip().splitlines()[-1].startswith("error: skipped 1 entry, first ")
    assert f"{path}:{line}: {message}" in res.output
    assert snapshot_bytes(data_copy) != before
    ddpm = Corpus.load(Store(data_copy)).papers["2006.11239"]
    assert ddpm.status == "listed" and any(x.file == str(path) for x in ddpm.listings)


@pytest.mark.parametrize("case", sorted(BAD_LISTS))
def test_bad_lists_give_one_line_with_file_and_line_and_touch_nothing(data_copy, tmp_path, case):
    content, message, line = BAD_LISTS[case]
    path = write_list(tmp_path / "lists", f"{case}.md", content)
    before = snapshot_bytes(data_copy)
    res = run(data_copy, "ingest", str(path))
    assert res.exit_code == 2
    lines = res.output.strip().splitlines()
    assert len(lines) == 1 and message in lines[0], res.output
    assert f"{path}:{line}:" in lines[0] if line else str(path) in lines[0]
    assert snapshot_bytes(data_copy) == before


def test_missing_paths_and_folders_without_markdown(data_copy, tmp_path):
    before = snapshot_bytes(data_copy)
    res = run(data_copy, "ingest", str(tmp_path / "nope"))
    assert res.exit_code == 2 and "no such file or directory" in res.output and "nope" in res.output
    (tmp_path / "empty-dir").mkdir()
    (tmp_path / "empty-dir" / "notes.txt").write_text("not markdown")
    res = run(data_copy, "ingest", str(tmp_path / "empty-dir"))
    assert res.exit_code == 2 and "no Markdown reading lists" in res.output
    assert snapshot_bytes(data_copy) == before


def test_a_50_mb_list_is_refused_without_reading_it(data_copy, tmp_path):
    row = b"2024|X|Y|[A title](https://arxiv.org/abs/2404.02905)|None\n"
    path = tmp_path / "huge.md"
    with open(path, "wb") as fh:
        fh.write(b"Date|Method|Conference|Title|Code\n---|---|---|---|---\n")
        fh.write(row * (50 * 1024 * 1024 // len(row) + 1))
    before = snapshot_bytes(data_copy)
    res = run(data_copy, "ingest", str(path))
    assert res.exit_code == 2 and "file too large (52.4 MB" in res.output
    assert snapshot_bytes(data_copy) == before


def test_a_large_list_under_a_raised_limit_parses(data_copy, tmp_path):
    rows = "".join(f"2024|M{i}|Venue|[Title number {i} of a synthetic list](https://github.com/x/{i})|None\n"
                   for i in range(3000))
    path = write_list(tmp_path / "lists", "big.md", ("Date|Method|Conference|Title|Code\n---|---|---|---|---\n"
                                                      + rows).encode())
    res = run(data_copy, "ingest", "--dry-run", "--max-size", str(10 * 1024 * 1024), str(path))
    assert res.exit_code == 0, res.output
    assert "3000 entries" in res.output


def test_the_kg_entry_point_runs(data_copy):
    out = subprocess.run([sys.executable, "-m", "kg", "--data-dir", str(data_copy), "show", "VQ-GAN"],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("2012.09841")
