"""Selections (names, topics, everything, ids from elsewhere) and the `kg export` command."""

from __future__ import annotations

import json

import pytest
import rispy
from click.testing import CliRunner

from kg.cli import cli
from kg.corpus import Corpus
from kg.errors import AmbiguousError, BadInputError, NotFoundError
from kg.export.select import lineage_family_ids, select_records
from kg.model import Paper
from kg.store import Store


def ids(records) -> list[str]:
    return [r.id for r in records]


def test_select_by_id_version_alias_and_title(corpus: Corpus) -> None:
    names = ["LDM", "2006.11239v2", "SD v1.5", "Denoising Diffusion Implicit Models"]
    chosen = select_records(corpus, names=names)
    assert ids(chosen) == ["2006.11239", "2010.02502", "2112.10752", "system:sd-v1-5"]


def test_select_topic_all_and_union(corpus: Corpus) -> None:
    topic = select_records(corpus, topics=["Series of Stable Diffusion"])
    assert "2112.10752" in ids(topic) and "system:sd-v1-5" in ids(topic)
    assert all(any("Series of Stable Diffusion" in t for t in r.topics) for r in topic)
    everything = select_records(corpus, everything=True)
    assert len(everything) == len([r for r in corpus.records() if r.status != "unlisted"])
    union = select_records(corpus, names=["LDM"], topics=["Survey"])
    assert "2112.10752" in ids(union) and len(union) > 1


def test_ids_from_other_modules_are_checked_and_merged(corpus: Corpus) -> None:
    assert ids(select_records(corpus, ids=["2112.10752", "2006.11239"], names=["LDM"])) == [
        "2006.11239", "2112.10752"]
    with pytest.raises(NotFoundError):
        select_records(corpus, ids=["9999.99999"])


def test_lineage_family_from_the_graph(corpus_store: Store, corpus: Corpus) -> None:
    family = lineage_family_ids(corpus_store, corpus, ["SDXL"])
    assert {"2307.01952", "2112.10752", "2006.11239", "system:sdxl-turbo"} <= set(family)
    near = lineage_family_ids(corpus_store, corpus, ["SDXL"], depth=1)
    assert "2307.01952" in near and "2006.11239" not in near and set(near) < set(family)
    assert lineage_family_ids(corpus_store, corpus, []) == []
    records = select_records(corpus, ids=family)
    assert ids(records) == sorted(family)


def test_selection_errors(corpus: Corpus) -> None:
    with pytest.raises(BadInputError, match="nothing selected"):
        select_records(corpus)
    with pytest.raises(BadInputError, match="no paper or system is listed under topic 'Quantum'"):
        select_records(corpus, topics=["Quantum"])
    with pytest.raises(NotFoundError):
        select_records(corpus, names=["No Such Paper At All Really"])


def test_ambiguous_name_is_reported() -> None:
    corpus = Corpus([Paper(id="1", title="Alpha", aliases=["X"]), Paper(id="2", title="Beta", aliases=["X"])])
    with pytest.raises(AmbiguousError):
        select_records(corpus, names=["X"])


# ---- the command ------------------------------------------------------------------------------
def run(store: Store, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(store.root), "export", *args])


def test_cli_writes_a_file_and_records_keys(corpus_store: Store, tmp_path) -> None:
    out = tmp_path / "refs.ris"
    result = run(corpus_store, "--format", "ris", "--all", "--out", str(out))
    assert result.exit_code == 0, result.output
    entries = rispy.loads(out.read_text(encoding="utf-8"))
    assert f"wrote {len(entries)} entries (ris) to {out}" in result.stderr
    assert "left out system:flux-1 (FLUX.1): a model release with no date to cite" in result.stderr
    keys = json.loads(corpus_store.keys_path.read_text(encoding="utf-8"))["keys"]
    assert {e["id"] for e in entries} <= set(keys.values())


def test_cli_prints_to_stdout_by_default(corpus_store: Store) -> None:
    result = run(corpus_store, "LDM", "SDXL")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.count("\n@") + result.stdout.startswith("@") == 2
    assert "eprint = {2112.10752}" in result.stdout


def test_cli_json_summary(corpus_store: Store, tmp_path) -> None:
    result = run(corpus_store, "--format", "csl-json", "--json", "LDM", "FLUX.1")
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["keys"] == {"2112.10752": "rombach2021high"}
    assert list(summary["left_out"]) == ["system:flux-1"]
    assert json.loads(summary["text"])[0]["id"] == "rombach2021high"
    out = tmp_path / "x.json"
    summary = json.loads(run(corpus_store, "--format", "csl-json", "--json", "--out", str(out), "LDM").stdout)
    assert "text" not in summary and summary["out"] == str(out) and out.exists()


def test_cli_lineage(corpus_store: Store) -> None:
    result = run(corpus_store, "--lineage", "SDXL", "--depth", "1", "--json")
    assert result.exit_code == 0, result.stderr
    keys = json.loads(result.stdout)["keys"]
    assert keys["2307.01952"] == "podell2023sdxl" and "2112.10752" in keys and "2006.11239" not in keys


def test_cli_markdown_with_style(corpus_store: Store) -> None:
    result = run(corpus_store, "--format", "markdown", "--style", "ieee", "LDM")
    assert result.exit_code == 0, result.stderr
    assert result.stdout.startswith("[1] R. Rombach, A. Blattmann, D. Lorenz, P. Esser, and B. Ommer")


@pytest.mark.parametrize("args, message", [
    ([], "nothing selected"),
    (["--style", "apa", "LDM"], "markdown format only"),
    (["--format", "markdown", "--style", "nope", "LDM"], "unknown citation style"),
    (["Definitely Not A Paper Title Here"], "no paper or system matches"),
])
def test_cli_errors_exit_2_with_one_line(corpus_store: Store, args: list[str], message: str) -> None:
    result = run(corpus_store, *args)
    assert result.exit_code == 2
    assert message in result.stderr and result.stderr.startswith("error: ")


def test_cli_without_a_snapshot_says_what_to_run(tmp_path) -> None:
    result = run(Store(tmp_path), "--all")
    assert result.exit_code == 2 and "kg ingest" in result.stderr


def test_cli_help_has_an_example() -> None:
    result = CliRunner().invoke(cli, ["export", "--help"])
    assert result.exit_code == 0 and "Example: kg export" in result.output
    for fmt in ("bibtex", "biblatex", "ris", "csl-json", "markdown"):
        assert fmt in result.output
