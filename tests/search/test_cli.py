"""`kg build`, `kg search`, `kg similar`, `kg eval` from the command line (the fake encoder stands in
for the model here; tests/search/test_model.py runs the real one)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

import kg.search.encoders
import kg.search.engine
from kg.cli import cli
from kg.model import Note
from testkit.encoders import FakeEncoder

from .conftest import LIST, make_papers


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    """Every model name loads the fake encoder (named after the model asked for)."""
    fake = lambda model=None, **_: FakeEncoder(name=model or "fake")  # noqa: E731
    monkeypatch.setattr(kg.search.engine, "load_encoder", fake)
    monkeypatch.setattr(kg.search.encoders, "load_encoder", fake)  # where kg.pipeline loads it


def run(store, *args: str):
    return CliRunner().invoke(cli, ["--data-dir", str(store.root), *args])


def test_build_then_up_to_date(store):
    res = run(store, "build")
    assert res.exit_code == 0, res.output
    assert "Built the search index" in res.output and "8 papers" in res.output
    res = run(store, "build")
    assert res.exit_code == 0 and "up to date" in res.output
    res = run(store, "build", "--force", "--json")
    data = json.loads(res.stdout)
    assert data["rebuilt"] and data["embedded"] == 0 and data["n_documents"] == 8


def test_search_shows_the_sentence_and_where_it_was_written(store):
    run(store, "build")
    res = run(store, "search", "faster sampling speedups", "-k", "3")
    assert res.exit_code == 0, res.output
    assert res.output.startswith(" 1. Denoising Diffusion Implicit Models (2020)  [2010.02502]")
    assert f'"They allow faster sampling with speedups of 10x to 50x."  ({LIST}:12)' in res.output
    assert "dense" in res.output and "bm25" in res.output


def test_search_json_and_filters(store):
    run(store, "build")
    res = run(store, "search", "diffusion", "--json", "--year", "2022:2024", "--category", "cs.LG", "--mode", "bm25")
    data = json.loads(res.stdout)
    assert data["mode"] == "bm25" and data["filters"]["year_from"] == 2022
    assert {h["id"] for h in data["hits"]} == {"2202.00512"}
    assert set(data["hits"][0]) >= {"id", "title", "year", "score", "bm25_score", "bm25_rank", "sentence", "field"}


@pytest.mark.parametrize("query", ["", "   "])
def test_empty_query_is_a_one_line_error(store, query):
    run(store, "build")
    res = run(store, "search", query)
    assert res.exit_code == 2 and res.stderr.strip() == "error: empty query: give some words to search for"
    assert "Traceback" not in res.output


def test_long_query_is_answered_with_a_note(store):
    run(store, "build")
    res = run(store, "search", ("faster sampling " * 700)[:10_000], "-k", "2")
    assert res.exit_code == 0 and "Traceback" not in res.output
    assert "10000 characters" in res.stderr and res.stdout.startswith(" 1. ")


def test_non_ascii_query(store):
    run(store, "build")
    res = run(store, "search", "自回归生成", "-k", "1", "--mode", "bm25")
    assert res.exit_code == 0 and "[2406.06525]" in res.output


def test_query_with_no_hits_says_so(store):
    run(store, "build")
    res = run(store, "search", "zzyzx qwerty", "--mode", "bm25")
    assert res.exit_code == 0
    assert res.output.strip() == ("No papers match 'zzyzx qwerty': no indexed title or note contains any of "
                                  "its words (bm25 mode).")
    res = run(store, "search", "diffusion", "--year", "1990")
    assert res.exit_code == 0 and "none passes the filters" in res.output


@pytest.mark.parametrize(("args", "message"), [
    (["--year", "2024:2020"], "2024 is after 2020"),
    (["--topic", "astrophysics"], "no topic matches 'astrophysics'"),
])
def test_bad_filters_are_one_line_errors(store, args, message):
    run(store, "build")
    res = run(store, "search", "diffusion", *args)
    assert res.exit_code == 2 and message in res.stderr and "Traceback" not in res.output


def test_stale_or_missing_index_is_an_error_that_says_what_to_run(store):
    res = run(store, "search", "diffusion")
    assert res.exit_code == 2 and "run `kg build`" in res.stderr
    run(store, "build")
    papers = make_papers()
    papers[0].notes.append(Note("A later remark.", LIST, 13))
    store.save_papers(papers)
    res = run(store, "search", "diffusion")
    assert res.exit_code == 2 and "corpus changed since the search index was built" in res.stderr
    res = run(store, "search", "diffusion", "--model", "another-model")
    assert res.exit_code == 2 and "run `kg build" in res.stderr
    assert run(store, "build").exit_code == 0 and run(store, "search", "diffusion").exit_code == 0


def test_missing_corpus_is_an_error(tmp_path: Path):
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path), "build"])
    assert res.exit_code == 2 and "run `kg ingest` first" in res.stderr


def test_similar_resolves_short_names(store):
    run(store, "build")
    res = run(store, "similar", "DDPM", "-k", "2")
    assert res.exit_code == 0, res.output
    assert res.output.startswith("Closest to Denoising Diffusion Probabilistic Models [2006.11239]:")
    assert "[2006.11239]" not in res.output.split("\n", 1)[1]
    res = run(store, "similar", "no such paper at all")
    assert res.exit_code == 2 and "no paper or system matches" in res.stderr


def test_eval_prints_the_three_modes(store, tmp_path):
    run(store, "build")
    queries = tmp_path / "q.jsonl"
    queries.write_text(json.dumps({"id": "q1", "query": "faster sampling", "judgments": {"2010.02502": 2}}) + "\n")
    res = run(store, "eval", "--queries", str(queries))
    assert res.exit_code == 0, res.output
    lines = res.output.splitlines()
    assert [line.split()[0] for line in lines[-3:]] == ["dense", "bm25", "hybrid"]
    assert lines[-1].endswith("(default)")
    data = json.loads(run(store, "eval", "--queries", str(queries), "--json").stdout)
    assert data["scores"]["bm25"]["nDCG@10"] == 1.0 and data["n_queries"] == 1
