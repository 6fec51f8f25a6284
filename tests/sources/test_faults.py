"""Every fault mode of the loopback arXiv server: retried with backoff, then a clear error naming ids."""

from __future__ import annotations

import socket

import pytest

from kg.errors import OfflineError
from kg.sources.arxiv import ArxivSettings
from kg.sources.cache import ResponseCache
from kg.sources.fetch import FetchError, fetch_corpus
from kg.sources.http import parse_retry_after
from kg.store import read_jsonl
from tests.sources.helpers import arxiv_settings, by_title, listed, make_store

FAULTS = {  # fault -> what the final error says
    "503": "HTTP 503",
    "429": "HTTP 429",
    "500": "HTTP 500",
    "empty": "unexpectedly empty page",
    "truncated": "truncated or invalid XML",
    "reset": "connection reset",
    "slow": "timed out",
}
BASE = ArxivSettings().backoff_base


@pytest.fixture
def two_papers(tmp_path):
    return make_store(tmp_path, [listed("2112.10752"), listed("2006.11239")])


def settings(server, **kw):
    return arxiv_settings(server, **kw)  # timeout 1 s: the "slow" answer takes 3 s


@pytest.mark.parametrize("fault", FAULTS)
def test_one_fault_is_retried_with_backoff(two_papers, fake_arxiv, sleeps, fault):
    fake_arxiv.faults.append(fault)
    report = fetch_corpus(two_papers, arxiv_settings=settings(fake_arxiv))

    assert fake_arxiv.count == report.requests == 2 and report.stats["arxiv"].retries == 1
    assert report.new == ["2006.11239", "2112.10752"]
    (wait,) = sleeps
    if fault == "503":
        assert wait > 6.9  # Retry-After: 7 is honoured
    else:
        assert BASE / 2 - 0.1 < wait <= BASE and wait > 2.9  # jittered backoff, never under the 3 s spacing
    assert all(p.summary for p in two_papers.load_papers())


@pytest.mark.parametrize("fault", FAULTS)
def test_after_the_last_retry_the_error_names_the_ids(two_papers, fake_arxiv, sleeps, fault):
    fake_arxiv.faults.extend([fault] * 4)
    before = two_papers.papers_path.read_bytes()
    with pytest.raises(FetchError) as info:
        fetch_corpus(two_papers, arxiv_settings=settings(fake_arxiv))

    message = str(info.value)
    assert FAULTS[fault] in message and "after 4 tries" in message
    assert "not fetched: 2006.11239, 2112.10752" in message and info.value.ids == ["2006.11239", "2112.10752"]
    assert fake_arxiv.count == 4
    assert two_papers.papers_path.read_bytes() == before  # nothing fetched, nothing written
    assert ResponseCache(two_papers.cache_path("arxiv"), "xml").entries() == []  # a failure is not cached
    for attempt, wait in enumerate(sleeps):  # the backoff doubles: at least half of base * 2**attempt
        assert wait >= (7 if fault == "503" else BASE * 2**attempt / 2) - 0.1


def test_a_failure_after_some_batches_keeps_those_and_a_rerun_resumes(tmp_path, fake_arxiv):
    ids = ["2006.11239", "2010.02502", "2112.10752", "2307.01952"]
    store = make_store(tmp_path, [listed(i) for i in ids])
    fake_arxiv.faults.extend(["ok"] + ["503"] * 4)
    with pytest.raises(FetchError) as info:
        fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv, page_size=2))
    assert info.value.ids == ["2112.10752", "2307.01952"]
    saved = {r["id"]: r["fetched_at"] for r in read_jsonl(store.papers_path)}
    assert list(saved) == ids and [bool(v) for v in saved.values()] == [True, True, False, False]
    assert info.value.report.new == ["2006.11239", "2010.02502"]

    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv, page_size=2))
    assert report.requests == 1 and report.new == ["2112.10752", "2307.01952"]
    assert all(p.fetched_at for p in store.load_papers())


def test_one_unknown_id_alone_is_not_found_from_an_explicit_empty_answer(tmp_path, fake_arxiv, sleeps):
    store = make_store(tmp_path, [listed("2501.99999")])
    report = fetch_corpus(store, arxiv_settings=settings(fake_arxiv))
    assert fake_arxiv.count == 1 and sleeps == []  # an empty page with totalResults 0: explicit
    assert [n.paper for n in report.not_found] == ["2501.99999"] and report.failures == []
    assert fetch_corpus(store, arxiv_settings=settings(fake_arxiv)).requests == 0  # the answer is cached


def test_no_network_fails_fast_and_leaves_the_snapshot_untouched(two_papers, sleeps):
    with socket.socket() as s:  # a port nobody listens on: connection refused
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    before = two_papers.papers_path.read_bytes()
    dead = ArxivSettings(query_url_format=f"http://127.0.0.1:{port}/api/query?{{}}", timeout=1.0)
    with pytest.raises(OfflineError, match=r"cannot reach arXiv at 127.0.0.1:\d+ \(connection refused\)"):
        fetch_corpus(two_papers, arxiv_settings=dead)
    assert sleeps == []  # no retries
    assert two_papers.papers_path.read_bytes() == before


def test_a_retry_after_beyond_the_limit_stops_at_once(two_papers, fake_arxiv, sleeps):
    fake_arxiv.retry_after = "3600"
    fake_arxiv.faults.append("503")
    with pytest.raises(FetchError, match="asked to wait 3600 s"):
        fetch_corpus(two_papers, arxiv_settings=settings(fake_arxiv))
    assert fake_arxiv.count == 1 and sleeps == []


def test_an_empty_words_query_is_retried_before_a_title_counts_as_not_found(tmp_path, fake_arxiv, sleeps):
    store = make_store(tmp_path, [by_title("nowhere", "Quantum Gardening for Synthetic Teapots")])
    fake_arxiv.faults.extend(["ok", "empty", "empty", "empty", "empty"])
    report = fetch_corpus(store, arxiv_settings=settings(fake_arxiv))
    # the phrase query is empty (legitimately: not retried), its words query is empty 4 times
    assert ['"' in q["search_query"] for q in fake_arxiv.queries()] == [True] + [False] * 4
    assert fake_arxiv.count == 5 and report.stats["arxiv"].retries == 3
    assert [n.paper for n in report.not_found] == ["title:nowhere"]
    assert fetch_corpus(store, arxiv_settings=settings(fake_arxiv)).requests == 0  # the answer is cached


def test_an_empty_words_query_that_recovers_finds_the_paper(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [by_title("ddim", "Denoising Difusion Implicit Modles")])
    fake_arxiv.faults.extend(["ok", "empty"])
    report = fetch_corpus(store, arxiv_settings=settings(fake_arxiv))
    assert fake_arxiv.count == 3 and report.resolved[0].arxiv_id == "2010.02502"


def test_retry_after_as_an_http_date():
    assert parse_retry_after("120") == 120.0
    assert parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT") == 0.0  # in the past: no wait
    assert parse_retry_after("soon") is None and parse_retry_after(None) is None


def test_a_name_that_does_not_resolve_is_offline(two_papers, monkeypatch):
    """The machine's name lookup fails (patched: no DNS query leaves the machine)."""
    import socket

    def no_dns(*args, **kwargs):
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    monkeypatch.setattr(socket, "getaddrinfo", no_dns)
    dead = ArxivSettings(query_url_format="http://no-such-host.invalid/api/query?{}", timeout=1.0)
    with pytest.raises(OfflineError, match=r"no-such-host.invalid \(name lookup failed\)"):
        fetch_corpus(two_papers, arxiv_settings=dead)
