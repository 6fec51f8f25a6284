"""Title resolution against the loopback arXiv: exact, variants, a typo, and reported ambiguity."""

from __future__ import annotations

from datetime import UTC, datetime

import arxiv
import pytest

from kg.sources.fetch import fetch_corpus
from kg.sources.report import ResolvedTitle
from kg.sources.titles import build_title_query, build_words_query, match_title
from tests.sources.helpers import arxiv_settings, by_title, listed, make_store

LDM = "High-Resolution Image Synthesis with Latent Diffusion Models"


def resolve(tmp_path, server, titles: dict[str, str], extra=()):
    store = make_store(tmp_path, [by_title(slug, t) for slug, t in titles.items()] + list(extra))
    report = fetch_corpus(store, arxiv_settings=arxiv_settings(server))
    return store, report, {p.id: p for p in store.load_papers()}


@pytest.mark.parametrize("written", [
    LDM,                                                               # exact
    "high-resolution image synthesis with latent diffusion models",    # case
    "High Resolution Image Synthesis, with Latent Diffusion Models.",  # punctuation
    "High-Resolution Image Synthesis with Latent Diﬀusion Models",     # the "ﬀ" ligature of a PDF copy
    "High-Resolution  Image\nSynthesis with Latent Diffusion Models",  # broken across lines
])
def test_variants_of_a_title_resolve_in_one_query(tmp_path, fake_arxiv, written):
    _, report, papers = resolve(tmp_path, fake_arxiv, {"ldm": written})
    paper = papers["title:ldm"]
    assert paper.arxiv_id == "2112.10752" and paper.summary and paper.version == "v2"
    assert paper.provenance["arxiv_id"] == f"arxiv:{paper.fetched_at}"
    assert report.resolved == [ResolvedTitle("title:ldm", written, "2112.10752")]
    assert fake_arxiv.count == 1 and fake_arxiv.queries()[0]["search_query"] == (
        'ti:"high resolution image synthesis with latent diffusion models"')


def test_a_typo_defeats_the_phrase_but_not_the_words_query(tmp_path, fake_arxiv):
    _, report, papers = resolve(tmp_path, fake_arxiv, {"ddim": "Denoising Difusion Implicit Modles"})
    assert papers["title:ddim"].arxiv_id == "2010.02502"
    assert [q["search_query"] for q in fake_arxiv.queries()] == [
        'ti:"denoising difusion implicit modles"',
        "ti:denoising OR ti:difusion OR ti:implicit OR ti:modles"]
    assert report.ambiguous == [] and report.not_found == []


def test_turboedit_alone_is_ambiguous_and_never_guessed(tmp_path, fake_arxiv):
    _, report, papers = resolve(tmp_path, fake_arxiv, {"turboedit": "TurboEdit"})
    assert papers["title:turboedit"].arxiv_id is None and papers["title:turboedit"].fetched_at is None
    (amb,) = report.ambiguous
    assert [c.arxiv_id for c in amb.candidates] == ["2408.00735", "2408.08332"]
    assert report.resolved == [] and report.new == []


def test_the_two_turboedit_papers_resolve_apart_by_their_full_titles(tmp_path, fake_arxiv):
    titles = {"wu": "TurboEdit: Instant text-based image editing",
              "deutch": "TurboEdit: Text-Based Image Editing Using Few-Step Diffusion Models"}
    _, report, papers = resolve(tmp_path, fake_arxiv, titles)
    assert papers["title:wu"].arxiv_id == "2408.08332"
    assert papers["title:deutch"].arxiv_id == "2408.00735"
    assert fake_arxiv.count == 1 and report.ambiguous == []


def test_a_title_of_a_paper_already_in_the_corpus_is_reported_not_linked(tmp_path, fake_arxiv):
    _, report, papers = resolve(tmp_path, fake_arxiv, {"ldm-again": LDM}, extra=[listed("2112.10752", LDM)])
    assert papers["title:ldm-again"].arxiv_id is None
    assert [n.reason for n in report.not_found] == ["matches 2112.10752, already in the corpus"]


def test_a_title_arxiv_does_not_have_is_not_found(tmp_path, fake_arxiv):
    _, report, papers = resolve(tmp_path, fake_arxiv, {"x": "Latent Gardening with Diffusion Teapots"})
    assert papers["title:x"].arxiv_id is None
    assert [n.paper for n in report.not_found] == ["title:x"]


def _result(aid: str, title: str) -> arxiv.Result:
    when = datetime(2024, 8, 1, tzinfo=UTC)
    return arxiv.Result(f"http://arxiv.org/abs/{aid}v1", updated=when, published=when, title=title)


def test_match_title_scores_against_the_title_and_its_parts():
    wu = _result("2408.08332", "TurboEdit: Instant text-based image editing")
    deutch = _result("2408.00735", "TurboEdit: Text-Based Image Editing Using Few-Step Diffusion Models")
    status, _, cands = match_title("turboedit", [wu, deutch])
    assert status == "ambiguous" and {c[0] for c in cands} == {"2408.08332", "2408.00735"}
    status, result, _ = match_title("TurboEdit: instant text based image editing", [deutch, wu])
    assert status == "matched" and result is wu
    # a list title that lost the "Name:" prefix still matches
    disc = _result("2305.10722", "Discffusion: Discriminative Diffusion Models as Few-shot Vision and "
                                 "Language Learners")
    listed_title = "Discriminative Diffusion Models as Few-shot Vision and Language Learners"
    status, result, _ = match_title(listed_title, [disc])
    assert status == "matched" and result is disc
    assert match_title("GAN", [_result("1406.2661", "GAN")])[0] == "not_found"  # too short to match


def test_queries_carry_no_quotes_or_operators_from_titles():
    assert build_title_query(['Say "Hi": A Study', "AND OR: x-y"]) == 'ti:"say hi a study" OR ti:"and or x y"'
    assert build_words_query("The Art of the Fix: a study") == "ti:art OR ti:fix OR ti:study"


def test_two_list_titles_of_one_paper_link_only_the_first(tmp_path, fake_arxiv):
    _, report, papers = resolve(tmp_path, fake_arxiv, {"a-ldm": LDM, "b-ldm": LDM.upper()})
    assert papers["title:a-ldm"].arxiv_id == "2112.10752" and papers["title:b-ldm"].arxiv_id is None
    assert [n.reason for n in report.not_found] == ["matches title:a-ldm, already in the corpus"]
