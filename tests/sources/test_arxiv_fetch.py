"""arXiv by id against the loopback server: batching, spacing, caching, the record mapping."""

from __future__ import annotations

import json
import math

import pytest

from kg.model import Paper
from kg.sources.arxiv import ArxivClient, ArxivSettings, record_from_result
from kg.sources.cache import ResponseCache
from kg.sources.fetch import fetch_corpus
from kg.sources.report import TitleChange
from kg.store import Store, read_jsonl
from testkit.servers import (
    FakeArxiv,
    FakeSemanticScholar,
    load_arxiv_table,
    synthetic_arxiv_table,
    table_for_papers,
)
from tests.sources.helpers import arxiv_settings, by_title, listed, make_store, s2_settings


@pytest.fixture
def big_arxiv():
    with FakeArxiv(load_arxiv_table() + synthetic_arxiv_table(257)) as server:
        yield server


def corpus_250_ids_7_titles() -> list[Paper]:
    table = synthetic_arxiv_table(257)
    papers = [listed(p["id"], p["title"]) for p in table[:250]]
    papers += [by_title(f"s{i}", p["title"]) for i, p in enumerate(table[250:])]
    return papers


def test_requests_are_id_batches_of_100_plus_title_queries(tmp_path, big_arxiv, sleeps):
    store = make_store(tmp_path, corpus_250_ids_7_titles())
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(big_arxiv))

    k = ArxivSettings().titles_per_query
    assert big_arxiv.count == math.ceil(250 / 100) + math.ceil(7 / k) == report.requests == 5
    id_queries = [q for q in big_arxiv.queries() if "id_list" in q]
    assert [len(q["id_list"].split(",")) for q in id_queries] == [100, 100, 50]
    assert all(q["max_results"] == str(len(q["id_list"].split(","))) for q in id_queries)
    title_queries = [q["search_query"] for q in big_arxiv.queries() if "search_query" in q]
    assert [q.count('ti:"') for q in title_queries] == [5, 2]
    assert len(report.new) == 257 and len(report.resolved) == 7
    # one request at a time, at least delay_seconds (3 s) apart: a wait before every request but the first,
    # 3 s less the time spent since the previous answer (parsing and caching it; more on a loaded machine)
    assert len(sleeps) == 4 and all(0.5 < s <= 3.0 for s in sleeps)
    assert all(r.headers["User-Agent"].startswith("paper-kg/") for r in big_arxiv.received)


def test_second_run_makes_no_requests_and_changes_nothing(tmp_path, big_arxiv):
    original = corpus_250_ids_7_titles()
    store = make_store(tmp_path, original)
    fetch_corpus(store, arxiv_settings=arxiv_settings(big_arxiv))
    fetched = store.papers_path.read_bytes()

    again = fetch_corpus(store, arxiv_settings=arxiv_settings(big_arxiv))
    assert again.requests == 0 and big_arxiv.count == 5
    assert store.papers_path.read_bytes() == fetched

    store.save_papers(original)  # as if the snapshot had been rebuilt: everything comes from the cache
    from_cache = fetch_corpus(store, arxiv_settings=arxiv_settings(big_arxiv))
    assert from_cache.requests == 0 and from_cache.cache_hits == 5 and big_arxiv.count == 5
    assert store.papers_path.read_bytes() == fetched


def test_refresh_ignores_the_cache(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752"), listed("2006.11239")])
    fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv))
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv), refresh=True)
    assert report.requests == 1 and fake_arxiv.count == 2
    assert report.unchanged == ["2006.11239", "2112.10752"]


def test_only_limits_the_run_to_the_named_papers(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752", aliases=["LDM"]), listed("2006.11239")])
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv), only=["LDM"])
    assert fake_arxiv.queries()[0]["id_list"] == "2112.10752"
    assert report.new == ["2112.10752"]
    assert {p.id: p.fetched_at is not None for p in store.load_papers()} == {"2006.11239": False,
                                                                            "2112.10752": True}


def test_every_field_is_mapped_and_provenance_kept(tmp_path, fake_arxiv):
    facts = "facts:https://example.org/ldm"
    paper = listed("2112.10752", "High-resolution image synthesis with latent diffusion models",
                   venue="CVPR 2022", published="2021-12", published_precision="month_from_arxiv_id",
                   provenance={"title": facts, "venue": facts, "published": facts})
    store = make_store(tmp_path, [paper])
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv))

    (p,) = store.load_papers()
    assert (p.id, p.arxiv_id, p.version) == ("2112.10752", "2112.10752", "v2")
    assert p.title == "High-Resolution Image Synthesis with Latent Diffusion Models"  # newline squashed
    assert p.authors == ["Robin Rombach", "Andreas Blattmann", "Dominik Lorenz", "Patrick Esser",
                         "Björn Ommer"]
    assert (p.published, p.published_precision, p.updated) == ("2021-12-20", "day", "2022-04-13")
    assert p.summary.startswith("Synthetic fixture summary for 2112.10752") and "\n" not in p.summary
    assert p.comment == "fixture comment: 42 pages, 10 figures"
    assert p.journal_ref == "Fixture Journal 1 (2022) 1-10" and p.doi == "10.5555/fixture.0001"
    assert (p.primary_category, p.categories) == ("cs.CV", ["cs.CV", "cs.LG"])
    assert p.pdf_url == "http://arxiv.org/pdf/2112.10752v2"
    assert p.venue == "CVPR 2022" and p.provenance["venue"] == facts  # arXiv has no venue: ours stays
    stamp = f"arxiv:{p.fetched_at}"
    assert p.provenance["summary"] == p.provenance["published"] == p.provenance["title"] == stamp
    assert p.fetched_at.endswith("Z")
    assert report.title_changes == []  # same words in another case are the same title


def test_a_fetched_title_that_differs_is_reported(tmp_path, fake_arxiv):
    paper = listed("2307.01952", "SDXL: Improving Latent Diffusion Models",
                   provenance={"title": "list:a.md:3"})
    store = make_store(tmp_path, [paper])
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv))
    assert report.title_changes == [TitleChange(
        paper="2307.01952", ours="SDXL: Improving Latent Diffusion Models", ours_from="list:a.md:3",
        arxiv="SDXL: Improving Latent Diffusion Models for High-Resolution Image Synthesis")]


def test_record_from_result_is_the_one_mapping(fake_arxiv):
    client = ArxivClient(arxiv_settings(fake_arxiv))
    batch = client.fetch_ids(["hep-th/9901001", "2408.00735"])
    old = record_from_result(batch.results["hep-th/9901001"])
    assert (old["arxiv_id"], old["version"]) == ("hep-th/9901001", "v1")
    new = record_from_result(batch.results["2408.00735"])
    assert new["doi"] is None and new["journal_ref"] is None
    assert new["comment"] == "fixture comment: project page"
    assert set(new) == {"arxiv_id", "version", "title", "authors", "published", "published_precision",
                        "updated", "summary", "comment", "journal_ref", "doi", "primary_category",
                        "categories", "pdf_url"}
    assert set(new) <= set(Paper.__dataclass_fields__)


def test_unknown_ids_are_reported_not_found(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752"), listed("2501.99999")])
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv))
    assert report.new == ["2112.10752"]
    assert [n.paper for n in report.not_found] == ["2501.99999"]


def test_id_batches_go_through_our_cache(tmp_path, fake_arxiv):
    cache = ResponseCache(tmp_path / "cache", "xml")
    client = ArxivClient(arxiv_settings(fake_arxiv), cache=cache)
    ids = ["2006.11239", "2010.02502"]
    first = [r.get_short_id() for r in client.fetch_ids(ids).results.values()]
    again = [r.get_short_id() for r in ArxivClient(arxiv_settings(fake_arxiv), cache=cache).fetch_ids(ids)
             .results.values()]
    assert first == again == ["2006.11239v2", "2010.02502v4"]
    assert fake_arxiv.count == 1
    (key,) = cache.entries()
    meta = json.loads(cache.meta_path(key).read_text())
    assert meta["request"].startswith("search_query=&id_list=2006.11239") and meta["fetched_at"]


def test_snapshot_stays_valid_jsonl(tmp_path, fake_arxiv):
    store = make_store(tmp_path, [listed("2112.10752"), listed("2307.01952")])
    fetch_corpus(store, arxiv_settings=arxiv_settings(fake_arxiv))
    assert [r["id"] for r in read_jsonl(store.papers_path)] == ["2112.10752", "2307.01952"]


def test_the_default_corpus_takes_one_request_per_100_ids_and_none_the_second_time(data_copy):
    store = Store.at(data_copy)
    papers = store.load_papers()
    ids = sum(1 for p in papers if p.arxiv_id)
    titles = sum(1 for p in papers if p.id.startswith("title:"))
    assert ids > 0
    with FakeArxiv(table_for_papers(papers)) as server, FakeSemanticScholar({}) as s2:
        run = lambda: fetch_corpus(store, arxiv_settings=arxiv_settings(server),  # noqa: E731
                                   s2_settings=s2_settings(s2), citations=True)
        report = run()
        k = ArxivSettings().titles_per_query
        assert server.count == math.ceil(ids / 100) + math.ceil(titles / k)
        assert s2.count == math.ceil(sum(1 for p in papers if p.arxiv_id or p.doi) / 500)
        assert len(report.new) == ids and report.failures == []
        assert run().requests == 0
    fetched = store.load_papers()
    assert [p.id for p in fetched] == [p.id for p in papers]  # every record once, none added or lost
    assert all(p.summary for p in fetched if p.arxiv_id)
    assert all(p.venue == q.venue for p, q in zip(fetched, papers, strict=True))  # the facts' venues stay
