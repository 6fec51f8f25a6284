"""Semantic Scholar against the loopback server: 500 ids a request, nulls, cites edges inside the corpus."""

from __future__ import annotations

import json

import pytest

from kg.errors import OfflineError
from kg.model import Edge, Paper
from kg.sources.fetch import FetchError, fetch_corpus
from kg.sources.report import CitationSummary
from kg.sources.semantic_scholar import S2_FIELDS
from testkit.servers import FakeSemanticScholar
from tests.sources.helpers import arxiv_settings, listed, make_store, s2_settings

FETCHED = "2024-01-01T00:00:00Z"  # papers already fetched from arXiv: this run only asks Semantic Scholar


def fetched(arxiv_id: str) -> Paper:
    return listed(arxiv_id, fetched_at=FETCHED)


def small_corpus() -> list[Paper]:
    doi_only = Paper(id="doi:10.5555/fixture.doi-only", doi="10.5555/fixture.doi-only", title="Doi only")
    return [fetched(i) for i in ("2112.10752", "2307.01952", "2010.02502", "2006.11239", "2408.08332")] + [
        doi_only]


def run(store, fake_arxiv, fake_s2, **kw):
    return fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv), s2_settings=s2_settings(fake_s2),
                        citations=True, **kw)


def test_cites_edges_only_between_corpus_papers(tmp_path, fake_arxiv, fake_s2):
    store = make_store(tmp_path, small_corpus())
    store.save_edges([Edge("2112.10752", "2408.08332", "cites", "semantic_scholar:old"),
                      Edge("2307.01952", "2112.10752", "lineage", "lineage.csv:2", relation="builds_on")])
    report = run(store, fake_arxiv, fake_s2)

    assert fake_arxiv.count == 0 and fake_s2.count == 1 == report.stats["semantic_scholar"].requests
    (request,) = fake_s2.received
    assert request.query["fields"] == [S2_FIELDS]
    assert json.loads(request.body)["ids"] == sorted(
        ["ARXIV:2112.10752", "ARXIV:2307.01952", "ARXIV:2010.02502", "ARXIV:2006.11239", "ARXIV:2408.08332",
         "DOI:10.5555/fixture.doi-only"])
    edges = store.load_edges()
    cites = sorted((e.source, e.target) for e in edges if e.kind == "cites")
    assert cites == [("2010.02502", "2006.11239"),  # its reference to itself is dropped
                     ("2112.10752", "2006.11239"), ("2112.10752", "2010.02502"),  # 1312.6114: not in corpus
                     ("2307.01952", "2006.11239"), ("2307.01952", "2112.10752"),
                     ("2307.01952", "doi:10.5555/fixture.doi-only"),  # matched by DOI
                     ("doi:10.5555/fixture.doi-only", "2006.11239")]
    assert all(e.provenance.startswith("semantic_scholar:20") for e in edges if e.kind == "cites")
    assert [e.kind for e in edges].count("lineage") == 1  # other kinds are kept
    assert report.citations == CitationSummary(papers=5, unknown_to_semantic_scholar=("2408.08332",), cites_edges=7)


def test_counts_are_stored_with_provenance_and_nulls_leave_papers_alone(tmp_path, fake_arxiv, fake_s2):
    store = make_store(tmp_path, small_corpus())
    run(store, fake_arxiv, fake_s2)
    papers = {p.id: p for p in store.load_papers()}
    ldm = papers["2112.10752"]
    assert (ldm.citation_count, ldm.influential_citation_count) == (1200, 300)
    assert ldm.provenance["citation_count"].startswith("semantic_scholar:")
    unknown = papers["2408.08332"]
    assert unknown.citation_count is None and "citation_count" not in unknown.provenance


def test_one_request_per_500_papers_and_none_the_second_time(tmp_path, fake_arxiv):
    papers = [fetched(f"2301.{i:05d}") for i in range(1, 1201)]
    table = {f"2301.{i:05d}": {"citationCount": i, "influentialCitationCount": 0,
                               "references": [f"ARXIV:2301.{i - 1:05d}", "ARXIV:1999.99999"]}
             for i in range(1, 1201, 2)}  # every other paper is unknown: null
    store = make_store(tmp_path, papers)
    with FakeSemanticScholar(table) as s2:
        report = run(store, fake_arxiv, s2)
        assert [len(ids) for ids in s2.batch_ids()] == [500, 500, 200]
        assert report.citations.papers == 600
        assert len(report.citations.unknown_to_semantic_scholar) == 600
        assert report.citations.cites_edges == 599  # 2301.00000 does not exist
        edges = store.edges_path.read_bytes()
        again = run(store, fake_arxiv, s2)
        assert again.requests == 0 and again.cache_hits == 3 and s2.count == 3
        assert store.edges_path.read_bytes() == edges


def test_the_api_key_is_sent_only_when_given(tmp_path, fake_arxiv, fake_s2):
    store = make_store(tmp_path, small_corpus())
    run(store, fake_arxiv, fake_s2)
    run(store, fake_arxiv, fake_s2, api_key="k-123", refresh=True)
    assert [r.headers.get("x-api-key") for r in fake_s2.received] == [None, "k-123"]


@pytest.mark.parametrize("fault", ["429", "503", "500", "truncated", "reset", "slow", "empty"])
def test_faults_are_retried(tmp_path, fake_arxiv, fake_s2, sleeps, fault):
    store = make_store(tmp_path, small_corpus())
    fake_s2.faults.append(fault)
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv),
                          s2_settings=s2_settings(fake_s2), citations=True)
    assert fake_s2.count == 2 and report.stats["semantic_scholar"].retries == 1
    assert report.citations.cites_edges == 7
    assert len(sleeps) == 1 and sleeps[0] > (6.9 if fault == "503" else 2.4)


def test_after_the_last_retry_the_error_names_the_papers(tmp_path, fake_arxiv, fake_s2):
    store = make_store(tmp_path, small_corpus())
    before = store.papers_path.read_bytes()
    fake_s2.faults.extend(["503"] * 4)
    with pytest.raises(FetchError, match=r"Semantic Scholar: HTTP 503 after 4 tries \(not fetched: ") as info:
        run(store, fake_arxiv, fake_s2)
    assert sorted(info.value.ids) == sorted(p.id for p in small_corpus())
    assert store.papers_path.read_bytes() == before and not store.edges_path.exists()


def test_semantic_scholar_unreachable_is_offline_and_changes_nothing(tmp_path, fake_arxiv):
    store = make_store(tmp_path, small_corpus())
    before = store.papers_path.read_bytes()
    with FakeSemanticScholar() as s2:
        gone = s2_settings(s2)  # the server stops at the end of the block: its port refuses connections
    with pytest.raises(OfflineError, match=r"cannot reach Semantic Scholar at 127.0.0.1:\d+"):
        fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv), s2_settings=gone, citations=True)
    assert store.papers_path.read_bytes() == before and not store.edges_path.exists()


def test_a_failed_batch_keeps_the_batches_before_it(tmp_path, fake_arxiv, fake_s2):
    store = make_store(tmp_path, small_corpus())
    fake_s2.faults.extend(["ok"] + ["503"] * 4)
    with pytest.raises(FetchError) as info:
        fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv),
                     s2_settings=s2_settings(fake_s2, batch_size=2), citations=True)
    assert sorted(info.value.ids) == ["2112.10752", "2307.01952", "2408.08332", "doi:10.5555/fixture.doi-only"]
    counts = {p.id: p.citation_count for p in store.load_papers() if p.citation_count is not None}
    assert counts == {"2006.11239": 2000, "2010.02502": 800}
    assert [(e.source, e.target) for e in store.load_edges()] == [("2010.02502", "2006.11239")]
