"""What BM25 reads beyond a document's own words: abbreviations the corpus defines, and the names of
what a record builds on (data/lineage.csv)."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.corpus import Corpus
from kg.errors import StaleIndexError
from kg.model import Note, Paper
from kg.search.abbreviations import Abbreviations, find_abbreviations
from kg.search.build import build_search_index
from kg.search.documents import build_documents, tokenize
from kg.search.engine import load_searcher
from kg.search.index import load_index_by_inputs
from kg.search.inputs import corpus_documents
from kg.store import Store
from testkit.encoders import FakeEncoder

LIST = "reading-lists/mine.md"
LINEAGE_HEADER = "child,parent,relation,support,evidence,ref,comment\n"


def test_definitions_are_found_as_tokens_and_noise_is_not():
    pairs = find_abbreviations([
        "We train Generative Adversarial Networks (GANs) on faces.",
        "A lightweight variational autoencoder (VAE) decodes latents.\nSee the results (Table 2) here.",
        "it works well (see below) and (A) is the first case",
    ])
    assert pairs == [(("generat", "adversari", "network"), "gan"), (("variat", "autoencod"), "vae")]
    assert find_abbreviations(["no parentheses at all"]) == []


def test_expansion_goes_both_ways_and_adds_each_token_once():
    abbreviations = Abbreviations(find_abbreviations(["Generative Adversarial Networks (GANs) work."]))
    assert abbreviations.expand(tokenize("generative adversarial networks")) == \
        ["generat", "adversari", "network", "gan"]
    assert abbreviations.expand(tokenize("GAN inversion")) == ["gan", "invers", "generat", "adversari", "network"]
    assert abbreviations.expand(tokenize("adversarial networks")) == ["adversari", "network"]  # not the whole
    assert abbreviations.expand(tokenize("gan gan")) == ["gan", "gan", "generat", "adversari", "network"]


def _papers() -> list[Paper]:
    return [
        Paper(id="1406.2661", title="Generative Adversarial Networks", published="2014-06-10",
              notes=[Note("The first Generative Adversarial Networks (GANs): a generator against a critic.",
                          LIST, 3)]),
        Paper(id="1809.11096", title="Large Scale GAN Training for High Fidelity Natural Image Synthesis",
              published="2018-09-28", aliases=["BigGAN"]),
        Paper(id="2112.10752", title="High-Resolution Image Synthesis with Latent Diffusion Models",
              published="2021-12-20", aliases=["LDM", "Stable Diffusion"]),
        Paper(id="2307.01952", title="SDXL: Improving Latent Diffusion Models for High-Resolution Image Synthesis",
              published="2023-07-04", aliases=["SDXL"]),
        Paper(id="2006.11239", title="Denoising Diffusion Probabilistic Models", published="2020-06-19"),
    ]


@pytest.fixture
def store(tmp_path: Path) -> Store:
    store = Store(tmp_path / "data")
    store.save_papers(_papers())
    (store.root / "reading-lists").mkdir(parents=True)
    (store.root / "reading-lists" / "mine.md").write_text("# Mine\n\nSDXL builds on LDM.\n")
    store.lineage_path.write_text(LINEAGE_HEADER + f"2307.01952,2112.10752,extends,stated,SDXL builds on LDM.,"
                                  f"{LIST}:3,\n")
    return store


def test_a_spelled_out_query_finds_the_paper_that_only_uses_the_short_form(store: Store):
    encoder = FakeEncoder(32)
    build_search_index(store, encoder)
    searcher = load_searcher(store, encoder)
    hits = searcher.search("generative adversarial networks", mode="bm25")
    assert {h.id for h in hits} >= {"1406.2661", "1809.11096"}  # BigGAN's title says only "GAN"
    assert [h.id for h in searcher.search("GAN", mode="bm25")][:2] == ["1406.2661", "1809.11096"]


def test_a_pair_is_one_concept_scored_once(store: Store):
    """A paper that writes only "GAN" scores as if it wrote the whole long form, so it is not beaten by one
    that has two of the long form's words; the pair's two spellings are not added up."""
    store.save_papers([*_papers(), Paper(id="1701.00160", title="Adversarial Training of Deep Networks",
                                         published="2017-01-01")])
    encoder = FakeEncoder(32)
    build_search_index(store, encoder)
    bm25 = load_searcher(store, encoder).index.bm25
    tokens = bm25.query_tokens("generative adversarial networks")
    assert bm25.abbreviations.concepts(tokens) == [(("generat", "adversari", "network"), "gan")]
    assert bm25.abbreviations.concepts(tokenize("generative adversarial")) == []  # the pair is not all there
    ids = [d.id for d in load_searcher(store, encoder).documents]
    scores = dict(zip(ids, bm25.score(tokens), strict=True))
    long_only = dict(zip(ids, bm25._sum(["generat", "adversari", "network"]), strict=True))
    short_only = dict(zip(ids, bm25._sum(["gan"]), strict=True))
    weight = sum(map(bm25.idf, ["generat", "adversari", "network"])) / bm25.idf("gan")
    for record in ids:
        assert scores[record] == pytest.approx(max(long_only[record], weight * short_only[record]))
    assert scores["1809.11096"] > scores["1701.00160"] > 0  # "GAN" only beats two of the three words
    assert long_only["1701.00160"] > short_only["1809.11096"]  # which adding the pair's tokens got wrong
    assert scores["1406.2661"] < long_only["1406.2661"] + short_only["1406.2661"]  # both ways: counted once
    assert scores["2006.11239"] == 0


def test_the_abbreviations_travel_with_the_index(store: Store):
    encoder = FakeEncoder(32)
    build_search_index(store, encoder)
    pairs = load_searcher(store, encoder).index.bm25.abbreviations.pairs  # read back from bm25.npz
    assert pairs == [(("generat", "adversari", "network"), "gan")]


def test_a_record_lists_the_names_of_what_it_builds_on(store: Store):
    documents = {d.id: d for d in corpus_documents(store)}
    assert documents["2307.01952"].lineage == [["High-Resolution Image Synthesis with Latent Diffusion Models",
                                                "LDM", "Stable Diffusion"]]
    assert documents["2112.10752"].lineage == []
    assert all(s.text != "LDM" for s in documents["2307.01952"].sentences)  # BM25 only, never evidence
    corpus = Corpus(_papers())
    assert build_documents(corpus, [("2307.01952", "9999.99999")])[3].lineage == []  # unknown parent: nothing


def test_derived_from_finds_the_children(store: Store):
    encoder = FakeEncoder(32)
    build_search_index(store, encoder)
    hits = load_searcher(store, encoder).search("models derived from Stable Diffusion", mode="bm25")
    assert [h.id for h in hits][:2] == ["2112.10752", "2307.01952"]
    assert hits[1].builds_on == ["Stable Diffusion"]  # the shortest of LDM's names that holds query words
    assert hits[0].builds_on == []


def test_editing_the_lineage_makes_the_index_stale(store: Store):
    encoder = FakeEncoder(32)
    build_search_index(store, encoder)
    from kg.search.inputs import snapshot_inputs

    assert load_index_by_inputs(store, encoder, snapshot_inputs(store, encoder.name)) is not None
    store.lineage_path.write_text(LINEAGE_HEADER)
    assert load_index_by_inputs(store, encoder, snapshot_inputs(store, encoder.name)) is None
    with pytest.raises(StaleIndexError):
        load_searcher(store, encoder)
    build_search_index(store, encoder)
    assert load_searcher(store, encoder).documents[3].lineage == []
