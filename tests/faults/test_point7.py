"""The smaller faults of issue 12 point 7."""

from __future__ import annotations

import time

import pytest

from kg.errors import BadInputError
from kg.export import build_export
from kg.lineage import parse_lineage, verify_evidence
from kg.model import Paper
from kg.sources.arxiv import ArxivSettings
from kg.store import Store
from tests.faults.helpers import assert_one_line, kg

HEADER = "child,parent,relation,support,evidence,ref,comment\n"


def row(child: str, parent: str, ref: str = "reading-lists/a.md:1") -> str:
    return f"{child},{parent},extends,stated,words,{ref},\n"


def test_lineage_cycles_of_three_or_more_are_refused_naming_their_rows():
    with pytest.raises(BadInputError, match=r"lineage cycle a -> b -> c -> a \(rows 2, 3, 4\)"):
        parse_lineage(HEADER + row("a", "b") + row("b", "c") + row("c", "a"))
    with pytest.raises(BadInputError, match="lineage cycle"):
        parse_lineage(HEADER + row("a", "b") + row("b", "c") + row("c", "d") + row("d", "a"))
    assert len(parse_lineage(HEADER + row("a", "b") + row("b", "c") + row("a", "c"))) == 3  # a DAG


@pytest.mark.parametrize("ref", ["../outside.md:1", "/etc/passwd.md:1", "reading-lists/../../x.md:1"])
def test_a_lineage_reference_cannot_point_outside_the_data_directory(ref, tmp_path):
    with pytest.raises(BadInputError, match="inside the data directory"):
        parse_lineage(HEADER + row("a", "b", ref))
    (tmp_path / "data").mkdir()
    (tmp_path / "outside.md").write_text("words\n")
    rows = parse_lineage(HEADER + row("a", "b"))
    object.__setattr__(rows[0], "ref", "../outside.md:1")  # past the parser: the reader checks again
    with pytest.raises(BadInputError, match="outside the data directory"):
        verify_evidence(rows, Store.at(tmp_path / "data"))


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_an_author_with_a_brace_stays_one_whole_name(fmt):
    paper = Paper(id="2112.10752", arxiv_id="2112.10752", title="T", published="2021-01-01",
                  authors=["Ada } Lovelace", "Bob {x Smith", "Carl Gauss"])
    text = build_export([paper], fmt).text
    author = next(line for line in text.splitlines() if line.strip().startswith("author"))
    assert "{Ada {\\textbraceright} Lovelace} and {Bob {\\textbraceleft}x Smith} and Carl Gauss" in author
    assert author.count("{") == author.count("}")


def test_an_invalid_endpoint_url_is_refused_at_once(tmp_path, sleeps_forbidden):
    with pytest.raises(BadInputError, match="http"):
        ArxivSettings(query_url_format="htp:/nowhere?{}")
    store = Store.at(tmp_path / "data")
    store.save_papers([Paper(id="2112.10752", arxiv_id="2112.10752")])
    started = time.monotonic()
    result = kg(store.root, "fetch", "--arxiv-url", "http://exa mple.org/api/query", "--no-progress")
    assert_one_line(result, "fetch with a bad URL")
    assert result.exit_code == 2 and time.monotonic() - started < 5
    with pytest.raises(BadInputError):
        ArxivSettings(query_url_format="http://[::1/api?{}")


@pytest.fixture
def sleeps_forbidden(monkeypatch: pytest.MonkeyPatch) -> None:
    from kg.sources import http

    monkeypatch.setattr(http, "sleep", lambda s: pytest.fail(f"slept {s} s: a bad URL is not retried"))


def test_kg_show_and_list_print_no_terminal_escapes_from_the_corpus(tmp_path):
    store = Store.at(tmp_path / "data")
    hostile = "Evil \x1b]0;pwned\x07 \x1b[2J title \x9b31m"
    store.save_papers([Paper(id="title:evil", title=hostile, status="listed", published="2024")])
    for args in (("show", "title:evil"), ("list",)):
        result = kg(store.root, *args)
        assert result.exit_code == 0, result.output
        assert "\x1b" not in result.output and "\x07" not in result.output and "\x9b" not in result.output
        assert "\\x1b]0;pwned\\x07" in result.output
