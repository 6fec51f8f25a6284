"""Searching: modes, fusion, evidence sentences, filters, odd queries, neighbours and similar_to edges."""

from __future__ import annotations

import numpy as np
import pytest

from kg.errors import BadInputError, NotFoundError
from kg.search.build import similar_edges
from kg.search.documents import Filters, tokenize
from kg.search.engine import DEFAULT_MODE, MODES, SearchSettings

from .conftest import LIST


@pytest.mark.parametrize("mode", MODES)
def test_each_mode_finds_the_paper_whose_note_says_it(searcher, mode):
    hits = searcher.search("faster sampling speedups", k=3, mode=mode)
    top = hits[0]
    assert top.id == "2010.02502" and top.mode == mode and top.rank == 1
    assert top.sentence == "They allow faster sampling with speedups of 10x to 50x."
    assert top.field == f"{LIST}:12"
    assert top.title == "Denoising Diffusion Implicit Models" and top.year == 2020


def test_hybrid_hits_carry_both_components_and_fuse_by_weighted_reciprocal_rank(searcher):
    searcher.settings = settings = SearchSettings(fusion="rrf", dense_weight=0.3, rrf_k=60)
    hits = searcher.search("latent diffusion autoencoder", k=8, mode="hybrid")
    for h in hits:
        expected = settings.dense_weight / (settings.rrf_k + h.dense_rank)
        if h.bm25_rank is not None:
            expected += (1 - settings.dense_weight) / (settings.rrf_k + h.bm25_rank)
        assert h.score == pytest.approx(expected, abs=1e-6)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    assert hits[0].id == "2112.10752" and hits[0].field == "abstract"


def test_convex_fusion_is_a_weighted_sum_of_min_max_scaled_scores(searcher):
    assert searcher.settings.fusion == "convex"  # the default
    w = searcher.settings.dense_weight
    ranked = searcher.rank("hybrid", searcher.encode_query("latent diffusion autoencoder"),
                           tokenize("latent diffusion autoencoder"))
    dense, bm25 = ranked.dense_score, ranked.bm25_score
    matched = bm25 > 0
    d = (dense - dense.min()) / (dense.max() - dense.min())
    b = np.where(matched, (bm25 - bm25[matched].min()) / (bm25[matched].max() - bm25[matched].min()), 0)
    np.testing.assert_allclose(ranked.score, w * d + (1 - w) * b, atol=1e-6)
    assert list(ranked.score) == sorted(ranked.score, reverse=True)


def test_an_exact_short_name_ranks_first_in_hybrid(searcher):
    doc = next(d for d in searcher.documents if d.aliases)
    for query in (doc.aliases[0], doc.aliases[0].lower(), doc.title):
        top = searcher.search(query, k=3, mode="hybrid")[0]
        assert top.id == doc.id and top.exact_name and top.score <= 1.0
    assert not searcher.search("diffusion", k=1)[0].exact_name


def test_fusion_weight_moves_the_ranking_towards_one_component(searcher):
    searcher.settings = SearchSettings(dense_weight=1.0)
    dense_only = [h.id for h in searcher.search("denoising models", k=5, mode="dense")]
    assert [h.id for h in searcher.search("denoising models", k=5, mode="hybrid")] == dense_only
    searcher.settings = SearchSettings(dense_weight=0.0)
    bm25_only = [h.id for h in searcher.search("denoising models", k=5, mode="bm25")]
    assert [h.id for h in searcher.search("denoising models", k=5, mode="hybrid")][:len(bm25_only)] == bm25_only


def test_default_mode_is_hybrid(searcher):
    assert DEFAULT_MODE == "hybrid" and searcher.search("inpainting")[0].mode == "hybrid"


def test_bm25_evidence_is_the_sentence_with_the_query_words(searcher):
    hit = searcher.search("resamples known regions", k=1, mode="bm25")[0]
    assert (hit.id, hit.sentence, hit.field) == ("2201.09865", "It resamples known regions.", f"{LIST}:40")


def test_query_without_matching_words_has_no_bm25_hits(searcher):
    assert searcher.search("zzyzx qwerty", mode="bm25") == []
    assert len(searcher.search("zzyzx qwerty", mode="dense", k=3)) == 3  # dense always ranks


@pytest.mark.parametrize("query", ["", "   ", "?!…"])
def test_empty_queries_are_a_clear_error(searcher, query):
    with pytest.raises(BadInputError, match="query"):
        searcher.search(query)


def test_a_ten_thousand_character_query_is_answered(searcher):
    query = ("faster sampling of diffusion models with fewer steps " * 200)[:10_000]
    hits = searcher.search(query, k=3)
    assert len(query) == 10_000 and hits and hits[0].sentence


def test_non_ascii_query_matches_a_chinese_note(searcher):
    hit = searcher.search("自回归生成", k=1, mode="bm25")[0]
    assert hit.id == "2406.06525" and hit.field == f"{LIST}:50"
    assert searcher.search("Diﬀusion modèles — café", k=2)  # ligatures and accents do not break anything


def test_filters_apply_in_every_mode(searcher):
    filters = Filters.from_options(year="2022:2024", categories=["cs.LG"])
    for mode in MODES:
        ids = {h.id for h in searcher.search("diffusion sampling", k=10, mode=mode, filters=filters)}
        assert ids <= {"2202.00512", "2303.01469"} and ids
    assert searcher.search("diffusion", filters=Filters.from_options(year="1990:1991")) == []


@pytest.mark.parametrize(("k", "mode"), [(0, "hybrid"), (3, "sparse")])
def test_bad_k_or_mode_is_a_clear_error(searcher, k, mode):
    with pytest.raises(BadInputError):
        searcher.search("diffusion", k=k, mode=mode)


def test_ranking_without_evidence_leaves_sentences_out(searcher):
    hits = searcher.search("diffusion", k=3, evidence=False)
    assert hits and all(h.sentence is None for h in hits)


def test_similar_papers_exclude_the_paper_itself(searcher):
    hits = searcher.similar("2006.11239", k=3)
    assert len(hits) == 3 and "2006.11239" not in {h.id for h in hits}
    assert all(h.sentence and h.mode == "similar" for h in hits)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
    with pytest.raises(NotFoundError):
        searcher.similar("9999.99999")


def test_similar_to_edges_for_the_graph(searcher):
    edges = similar_edges(searcher, k=2)
    assert len(edges) == 2 * len(searcher.documents)
    assert all(e.kind == "similar_to" and e.provenance == "index:fake" and e.source != e.target for e in edges)
    assert all(isinstance(e.score, float) and -1.0 <= e.score <= 1.0 for e in edges)
    strong = similar_edges(searcher, k=2, min_score=0.99)
    assert len(strong) < len(edges)


@pytest.mark.parametrize("mode", ["dense", "hybrid"])
def test_evidence_found_while_scoring_is_the_closest_sentence(searcher, mode):
    qvec = searcher.encode_query("latent space of images autoencoder")
    for hit in searcher.search("latent space of images autoencoder", k=8, mode=mode):
        sentence, score = searcher.best_sentence(searcher.position[hit.id], qvec)
        assert (hit.sentence, hit.field) == (sentence.text, sentence.field)
        assert hit.sentence_score == pytest.approx(score, abs=1e-5)


@pytest.mark.parametrize("mode", MODES)
def test_asking_for_more_hits_than_candidates_deepens_the_candidates(searcher, mode):
    searcher.settings = SearchSettings(candidates=2)
    assert len(searcher.search("diffusion models", k=6, mode=mode)) == 6
