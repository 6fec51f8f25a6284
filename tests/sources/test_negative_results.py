"""Negative results only when confirmed: a partial arXiv page never becomes "not found"."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from kg.sources.fetch import fetch_corpus
from kg.store import read_jsonl
from testkit.servers import FakeArxiv, synthetic_arxiv_table
from tests.sources.helpers import arxiv_settings, listed, make_store


def test_a_partial_page_is_asked_again_for_the_missing_ids_and_never_cached(tmp_path, sleeps):
    table = synthetic_arxiv_table(100)
    store = make_store(tmp_path, [listed(p["id"]) for p in table])
    with FakeArxiv(table) as server:
        server.partial_pages = 1  # 60 of 100 entries, totalResults 100
        report = fetch_corpus(store, arxiv_settings=arxiv_settings(server))
        assert report.not_found == [] and report.failures == []
        assert len(report.new) == 100
        asked = [len(q["id_list"].split(",")) for q in server.queries()]
        assert asked == [100, 40]  # the second request names exactly the 40 ids the page lacked
        assert all(r["fetched_at"] and r["summary"] for r in read_jsonl(store.papers_path))
        again = fetch_corpus(store, arxiv_settings=arxiv_settings(server), refresh=True)
        assert again.not_found == [] and server.count == 3  # the partial page was not cached


def test_pages_that_stay_partial_are_a_failure_naming_the_ids_not_a_not_found(tmp_path, sleeps):
    table = synthetic_arxiv_table(10)
    store = make_store(tmp_path, [listed(p["id"]) for p in table])
    with FakeArxiv(table) as server:
        server.partial_pages = 99
        try:
            fetch_corpus(store, arxiv_settings=arxiv_settings(server))
        except Exception as exc:  # FetchError: what came before is kept, the rest named
            assert "partial pages" in str(exc)
            assert exc.report.not_found == []  # type: ignore[attr-defined]
        else:
            raise AssertionError("a page that stays partial must not be taken as the answer")


def test_an_absent_id_is_confirmed_alone_and_rechecked_after_an_age(tmp_path, sleeps):
    table = synthetic_arxiv_table(3)
    store = make_store(tmp_path, [listed(p["id"]) for p in table] + [listed("2501.99999")])
    with FakeArxiv(table) as server:
        report = fetch_corpus(store, arxiv_settings=arxiv_settings(server))
        assert [n.paper for n in report.not_found] == ["2501.99999"]
        assert [q["id_list"] for q in server.queries()][-1] == "2501.99999"  # asked alone
        assert fetch_corpus(store, arxiv_settings=arxiv_settings(server)).requests == 0  # cached
        old = (datetime.now(UTC) - timedelta(days=31)).isoformat(timespec="seconds")
        for meta in store.cache_path("arxiv").glob("*.meta.json"):
            data = json.loads(meta.read_text())
            if data["request"].endswith("id_list=2501.99999&sortBy=relevance&sortOrder=descending&start=0"
                                        "&max_results=1"):
                data["fetched_at"] = old
                meta.write_text(json.dumps(data))
        later = fetch_corpus(store, arxiv_settings=arxiv_settings(server))
        assert later.requests == 1 and [n.paper for n in later.not_found] == ["2501.99999"]
