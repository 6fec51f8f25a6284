"""Documents, sentences, BM25 tokens, the corpus hash and filters."""

from __future__ import annotations

import numpy as np
import pytest

from kg.corpus import Corpus
from kg.errors import BadInputError
from kg.model import Note, Paper
from kg.search import inputs
from kg.search.documents import (
    MAX_SENTENCE_CHARS,
    FilterIndex,
    Filters,
    build_document,
    build_documents,
    plain_text,
    split_sentences,
    tokenize,
)
from kg.search.inputs import corpus_hash, document_digests

from .conftest import LIST, make_papers


def test_sentences_split_after_full_stops_but_not_after_abbreviations():
    text = "DDIMs are fast (e.g. Song et al. 2020) and simple. They reach 10x speedups! Why? 2 reasons."
    assert split_sentences(text) == ["DDIMs are fast (e.g. Song et al. 2020) and simple.",
                                     "They reach 10x speedups!", "Why?", "2 reasons."]


def test_each_line_is_a_sentence_and_cjk_full_stops_split():
    assert split_sentences("first item\nsecond item. Third one") == ["first item", "second item.", "Third one"]
    assert split_sentences("这是第一句。这是第二句") == ["这是第一句。", "这是第二句"]


def test_overlong_sentences_are_cut_at_clauses():
    long = ", ".join(f"clause number {i} about diffusion" for i in range(40)) + "."
    pieces = split_sentences(long)
    assert len(pieces) > 1 and all(len(p) <= MAX_SENTENCE_CHARS for p in pieces)
    assert " ".join(pieces).replace(" ", "") == long.replace(" ", "")


def test_plain_text_drops_markdown_and_urls_but_keeps_link_words():
    assert plain_text("Diffusion in the **latent space**, see [LDM](https://x.org/1) https://y.org") == \
        "Diffusion in the latent space, see LDM"
    assert plain_text("- one\n\n- two") == "one\ntwo"
    assert plain_text("Diﬀusion 512√ó512") == "Diffusion 512×512"  # ligature and mojibake repaired


def test_plain_text_drops_single_emphasis_but_not_arithmetic_or_identifiers():
    assert plain_text("*Diffusion* models in _latent_ space, *CVPR 2023*") == \
        "Diffusion models in latent space, CVPR 2023"
    assert plain_text("[*DiT*: Scalable Diffusion](https://x.org/1)") == "DiT: Scalable Diffusion"
    assert plain_text("2 * 3 * 4 and snake_case_name and a*b*c") == "2 * 3 * 4 and snake_case_name and a*b*c"


def test_document_fields_title_abstract_notes_with_file_and_line():
    ldm = build_document(make_papers()[2])
    assert [label for label, _ in ldm.fields] == ["title", "abstract", f"{LIST}:30"]
    assert ldm.sentences[0].field == "title"
    assert [s.field for s in ldm.sentences[1:3]] == ["abstract", "abstract"]
    assert "LDM" in ldm.bm25_text and all("LDM" != s.text for s in ldm.sentences)  # aliases: BM25 only
    assert ldm.year == 2021 and ldm.categories == ["cs.CV"]


def test_documents_are_listed_papers_with_text_sorted_by_id():
    papers = make_papers() + [Paper(id="9999.00001", title="", status="listed"),
                              Paper(id="2501.00001", title="Old", status="unlisted")]
    ids = [d.id for d in build_documents(Corpus(papers))]
    assert ids == sorted(p.id for p in make_papers())


def test_tokens_are_stemmed_stopword_free_folded_and_cjk_bigrams():
    assert tokenize("Which papers accelerate sampling?") == ["acceler", "sampl"]
    assert tokenize("accelerating the samplers") == ["acceler", "sampler"]
    assert tokenize("Café naïve SDXL-Lightning") == ["cafe", "naiv", "sdxl", "lightn"]
    assert tokenize("自回归生成") == ["自回", "回归", "归生", "生成"]
    assert tokenize("...") == []


def hash_of(papers: list[Paper]) -> str:
    return corpus_hash(document_digests(build_documents(Corpus(papers))))


def test_corpus_hash_changes_with_a_note_and_only_then():
    papers = make_papers()
    before = hash_of(papers)
    papers[5].citation_count = 12  # not part of any document
    assert hash_of(papers) == before
    papers[0].notes.append(Note("A new remark.", LIST, 99))
    assert hash_of(papers) != before


@pytest.mark.parametrize("change", ["id", "kind", "title", "year", "topics", "categories", "aliases", "fields",
                                    "lineage", "order", "one less", "doc format"])
def test_the_corpus_hash_covers_every_field_of_every_document_their_order_and_the_format(change, monkeypatch):
    """The corpus hash is made of the documents' digests (kg.search.inputs): what it covered when it hashed
    the documents' JSON (every fingerprint field, the order, DOC_FORMAT) it still covers."""
    documents = build_documents(Corpus(make_papers()))
    before = corpus_hash(document_digests(documents))
    doc = documents[2]
    edits = {"id": ("id", doc.id + "x"), "kind": ("kind", "system"), "title": ("title", doc.title + "!"),
             "year": ("year", (doc.year or 0) + 1), "topics": ("topics", [*doc.topics, "Video"]),
             "categories": ("categories", ["cs.AI"]), "aliases": ("aliases", [*doc.aliases, "X"]),
             "fields": ("fields", [*doc.fields, ("a.md:1", "More.")]), "lineage": ("lineage", [["Parent"]])}
    if change in edits:
        setattr(doc, *edits[change])
    elif change == "order":
        documents[1], documents[2] = documents[2], documents[1]
    elif change == "one less":
        documents.pop()
    else:
        monkeypatch.setattr(inputs, "DOC_FORMAT", inputs.DOC_FORMAT + 1)
    assert corpus_hash(document_digests(documents)) != before
    assert len(before) == 64


@pytest.fixture
def filters_index() -> tuple[FilterIndex, list[str]]:
    docs = build_documents(Corpus(make_papers()))
    return FilterIndex(docs), [d.id for d in docs]


def passing(index_and_ids, filters: Filters) -> set[str]:
    index, ids = index_and_ids
    mask = index.mask(filters)
    return set(ids) if mask is None else {ids[i] for i in np.flatnonzero(mask)}


def test_year_range_keeps_papers_in_range_and_drops_papers_without_a_year(filters_index):
    assert passing(filters_index, Filters.from_options(year="2022:2023")) == \
        {"2202.00512", "2201.09865", "2303.01469"}
    assert "1406.2661" not in passing(filters_index, Filters.from_options(year=":2030"))
    assert passing(filters_index, Filters.from_options(year="2024")) == {"2406.06525"}
    assert len(passing(filters_index, Filters())) == 8


def test_topic_and_category_filters(filters_index):
    assert passing(filters_index, Filters.from_options(topics=["stable diffusion"])) == {"2112.10752"}
    assert passing(filters_index, Filters.from_options(topics=["distillation", "autoregressive"])) == \
        {"2202.00512", "2303.01469", "2406.06525"}
    assert passing(filters_index, Filters.from_options(categories=["cs"])) == \
        passing(filters_index, Filters.from_options(categories=["cs.CV", "cs.LG"]))
    assert passing(filters_index, Filters.from_options(year="2022:", categories=["cs.CV"])) == \
        {"2201.09865", "2406.06525"}


@pytest.mark.parametrize(("options", "message"), [
    ({"topics": ["quantum chemistry"]}, "no topic matches 'quantum chemistry'"),
    ({"categories": ["q-bio"]}, "no category matches 'q-bio'"),
])
def test_unknown_topic_or_category_is_a_clear_error(filters_index, options, message):
    with pytest.raises(BadInputError, match=message):
        filters_index[0].mask(Filters.from_options(**options))


@pytest.mark.parametrize("year", ["2024:2021", "20x1", "2021-2024"])
def test_bad_year_ranges_are_rejected(year):
    with pytest.raises(BadInputError):
        Filters.from_options(year=year)


def test_an_uninformative_note_sentence_is_never_a_sentence():
    paper = Paper(id="2406.09750", title="ControlVAR: Exploring Controllable Visual Autoregressive Modeling",
                  notes=[Note("coming soon", LIST, 21), Note("Alignment Loss:\nIt aligns the identity features.", LIST, 22)])
    doc = build_document(paper)
    assert [s.text for s in doc.sentences] == [paper.title, "It aligns the identity features."]
    assert "coming soon" in doc.bm25_text  # BM25 still reads it
    bare = build_document(Paper(id="x", title="", notes=[Note("coming soon", LIST, 3)]))
    assert [s.text for s in bare.sentences] == ["coming soon"]  # nothing else: kept
