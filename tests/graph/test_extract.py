"""Extraction of lineage and mentions from real sentences of the reading lists."""

from __future__ import annotations

import pytest

from kg.graph.extract import (
    NameMatcher,
    extract_relations,
    merge_extracted,
    plain_text,
    relations_in_sentence,
)
from kg.model import Edge, Note, Paper
from kg.text import split_sentences
from tests.graph.corpus_fixture import (
    FAMILY,
    INTRO,
    NOTES,
    SUMMARIES,
    TABLES,
    build_records,
    read_line,
)


@pytest.fixture(scope="module")
def matcher() -> NameMatcher:
    papers, systems = build_records()
    return NameMatcher([*papers, *systems])


def sentence_at(file: str, line: int, snippet: str) -> str:
    """The sentence of the list's own line `file:line` that holds `snippet` (Markdown stripped)."""
    found = [s for s in split_sentences(plain_text(read_line(file, line))) if snippet in s]
    assert len(found) == 1, (file, line, snippet)
    return found[0]


def lineage_of(sentence: str, owner: str, matcher: NameMatcher) -> dict[str, str]:
    return {t: rel for t, rel in relations_in_sentence(sentence, owner, matcher) if rel}


def mentions_of(sentence: str, owner: str, matcher: NameMatcher) -> set[str]:
    return {t for t, rel in relations_in_sentence(sentence, owner, matcher) if rel is None}


@pytest.mark.parametrize(("owner", "file", "line", "snippet", "expected"), [
    ("system:sd-v1-5", FAMILY, 21, "Fine-tuned with", {"system:sd-v1-2-1-4": "finetuned_from"}),
    ("system:sd-2-1", FAMILY, 28, "Finetuned from SDv2.0", {"system:sd-2": "finetuned_from"}),
    ("system:sd-2-1-unclip", FAMILY, 29, "Finetuned version of SD2.1", {"system:sd-2-1": "finetuned_from"}),
    ("system:sd-2", FAMILY, 27, "Resumed training", {"system:sd-2-base": "resumed_from"}),
    ("system:sd-2-base", FAMILY, 26, "UNet config same as", {"system:sd-v1-5": "variant_of"}),
    ("system:sd-v1-2-1-4", FAMILY, 17, "by LDM model", {"2112.10752": "instance_of"}),
    ("2403.04692", SUMMARIES, 273, "builds upon the pre-trained", {"2310.00426": "builds_on"}),
    ("2405.05224", SUMMARIES, 13, "accelerating the inference", {"2309.15807": "distilled_from"}),
    ("2401.05252", SUMMARIES, 223, "enhances the PIXART",
     {"2310.00426": "extends", "2310.04378": "builds_on", "2302.05543": "builds_on"}),
    ("2403.06807", SUMMARIES, 283, "which unify", {"2303.01469": "unifies", "2303.04248": "unifies"}),
    ("2102.09672", SUMMARIES, 55, "presents enhancements to", {"2006.11239": "extends"}),
    ("2010.02502", SUMMARIES, 75, "enhance the efficiency", {"2006.11239": "extends"}),
    ("2201.09865", SUMMARIES, 19, "image inpainting method utilizing", {"2006.11239": "builds_on"}),
    ("2410.04671", TABLES, 22, "参考controlNet", {"2302.05543": "builds_on", "2404.02905": "builds_on"}),
    ("2406.06525", TABLES, 16, "相同的网络结构", {"2302.13971": "variant_of"}),
    ("2107.00630", TABLES, 57, "重新推了一遍DDPM", {"2006.11239": "reformulates"}),
])
def test_lineage_is_read_from_the_lists_sentences(matcher, owner, file, line, snippet, expected):
    assert lineage_of(sentence_at(file, line, snippet), owner, matcher) == expected


@pytest.mark.parametrize(("owner", "file", "line", "snippet", "mentioned"), [
    # comparisons and context are mentions, never lineage
    ("2205.11487", SUMMARIES, 153, "outperforming existing models like DALL-E 2 and GLIDE",
     {"2204.06125", "2112.10741"}),
    ("2309.15807", SUMMARIES, 213, "state-of-the-art model SDXLv1.0", {"2307.01952"}),
    ("2006.11239", SUMMARIES, 45, "comparable quality to ProgressiveGAN", {"1710.10196"}),
    ("2106.15282", SUMMARIES, 115, "compared to BigGAN-deep and VQ-VAE-2", {"1809.11096", "1906.00446"}),
    ("2410.13720", TABLES, 19, "继Sora后", {"system:sora"}),
    ("2404.02905", INTRO, 77, "used a similar idea", {"system:gpt-4o-image", "system:gemini-image"}),
    ("2010.02502", SUMMARIES, 75, "same training objective as DDPMs", {"2006.11239"}),
    ("2210.02303", SUMMARIES, 7, "introduction of progressive distillation", {"2202.00512"}),
    ("2405.14477", SUMMARIES, 293, "designed for latent diffusion models (LDMs)", {"2112.10752"}),
    ("system:sd-2-1-unclip", FAMILY, 29, "The ability to reimage", {"2204.06125"}),
    # names the matcher must not see: a generic word, lower-case prose, a hyphenated code name
    ("2012.09841", FAMILY, 8, "latent space of images by GAN", set()),
    ("2210.02303", SUMMARIES, 7, "cascade of video diffusion models", set()),
    ("2112.10741", SUMMARIES, 125, "utilizes guided diffusion techniques", set()),
    ("2212.09748", SUMMARIES, 183, "instead of the traditional U-Net backbone", set()),
    ("2309.15807", SUMMARIES, 213, "a quality-tuned latent diffusion model", set()),
])
def test_sentences_that_yield_no_lineage(matcher, owner, file, line, snippet, mentioned):
    sentence = sentence_at(file, line, snippet)
    assert lineage_of(sentence, owner, matcher) == {}
    assert mentions_of(sentence, owner, matcher) == mentioned


@pytest.mark.parametrize(("text", "expected"), [
    ("PIXART-α and PixArt-α", ["2310.00426", "2310.00426"]),  # coined names ignore case
    ("after controlNet", ["2302.05543"]),
    ("the DDPMs and LDMs", ["2006.11239", "2112.10752"]),  # plural of an acronym
    ("SD v1.5, SDv1.5 and SD-v1.5", ["system:sd-v1-5", "system:sd-v1-5"]),  # spaces optional, hyphen not
    ("DALL-E 2 is not DALL-E", ["2204.06125", "2102.12092"]),  # middle dot or hyphen; a version number
    ("SD 2.5 is no release we know; SD 2.1 is", ["system:sd-2-1"]),
    ("DALLE2.0 2022.04", ["2204.06125"]),  # a year is not a version
    ("a glide path, an emu, a car, the var", []),  # acronyms and plain words keep their case
    ("GANs, a VAE and CFG", []),  # generic aliases are never evidence
    ("StyleAlign", []),  # two papers share this alias: skipped, never guessed
    ("LLaMA, Llama and LLAMA", ["2302.13971"] * 3),  # a title's head ("LLaMA: Open and …") is a name
])
def test_names_are_found_by_alias_title_and_case_rules(matcher, text, expected):
    assert [h.record_id for h in matcher.find(text)] == expected


def test_sentences_keep_version_dots_and_split_on_full_stops():
    text = "2022.12. Finetuned from SDv2.0 with less filtering. Works with SD2.1, too。继Sora后"
    assert split_sentences(text) == ["2022.12.", "Finetuned from SDv2.0 with less filtering.",
                                     "Works with SD2.1, too。", "继Sora后"]


def test_markdown_links_keep_their_words_and_lose_their_urls():
    line = read_line(FAMILY, 27)
    assert plain_text(line) == ("stable-diffusion-2: Resumed training on 768x768 with of v-predict from "
                              "stable-diffusion-2-base.")


def test_the_fixture_notes_are_the_lists_own_words():
    for _, file, line, text in NOTES:
        assert plain_text(text) in plain_text(read_line(file, line)), (file, line)


def test_extraction_over_records_gives_edges_with_evidence_and_where():
    papers, systems = build_records()
    found = extract_relations([*papers, *systems])
    pairs = {(e.source, e.target): e for e in found.lineage}
    edge = pairs["system:sd-v1-5", "system:sd-v1-2-1-4"]
    assert edge.kind == "lineage" and edge.relation == "finetuned_from"
    assert edge.evidence == "Fine-tuned with 512x512 from SDv1.2 with more steps."
    assert edge.evidence_ref == f"{FAMILY}:21" and edge.provenance == f"extracted:{FAMILY}:21"
    assert all(e.evidence and e.evidence_ref and e.provenance for e in [*found.lineage, *found.mentions])
    # a name the note gives as a parent is not also a mention of that note
    assert not {(e.source, e.target, e.evidence_ref) for e in found.mentions} & {
        (e.source, e.target, e.evidence_ref) for e in found.lineage}


def test_summaries_are_read_too_with_the_summary_as_where():
    paper = Paper(id="2999.00001", title="A", summary="We distill from SDXL into one step. We beat DALL-E 2.")
    sdxl = Paper(id="2307.01952", title="SDXL: Improving", aliases=["SDXL"])
    dalle = Paper(id="2204.06125", title="H", aliases=["DALL·E 2"])
    found = extract_relations([paper, sdxl, dalle])
    assert [(e.target, e.relation, e.evidence_ref, e.provenance) for e in found.lineage] == [
        ("2307.01952", "distilled_from", "summary:2999.00001", "extracted:summary")]
    assert [e.target for e in found.mentions] == ["2204.06125"]
    assert extract_relations([paper, sdxl], include_summaries=False).lineage == []


def test_a_note_never_makes_its_owner_its_own_parent():
    ldm = Paper(id="2112.10752", title="High-Resolution Image Synthesis with Latent Diffusion Models",
                aliases=["LDM"], notes=[Note("Based on the LDM paper, it extends LDMs.", "x.md", 1)])
    assert extract_relations([ldm]).lineage == extract_relations([ldm]).mentions == []


def lineage(source: str, target: str, relation: str = "extends", provenance: str = "x") -> Edge:
    return Edge(source, target, "lineage", provenance, relation=relation, evidence="e", evidence_ref="f.md:1")


def test_extracted_edges_never_duplicate_or_contradict_curated_ones():
    curated = [lineage("b", "a", provenance="curated:lineage.csv:2"), lineage("c", "b")]
    extracted = [
        lineage("b", "a"),  # the same edge
        lineage("b", "a", "builds_on"),  # the same pair, another relation
        lineage("a", "b"),  # the other way round
        lineage("a", "c"),  # closes a cycle a -> c -> b -> a
        lineage("d", "a"),  # new: kept
        lineage("a", "d"),  # contradicts the one just kept
    ]
    kept, dropped = merge_extracted(curated, extracted)
    assert [(e.source, e.target) for e in kept] == [("d", "a")]
    assert [why for _, why in dropped] == [
        "duplicates", "contradicts curated:lineage.csv:2", "contradicts curated:lineage.csv:2",
        "would close a lineage cycle", "contradicts x"]


def test_on_the_fixture_corpus_extraction_only_confirms_the_curated_file(lineage_rows):
    papers, systems = build_records()
    found = extract_relations([*papers, *systems])
    kept, dropped = merge_extracted([r.to_edge() for r in lineage_rows], found.lineage)
    assert kept == [] and {why for _, why in dropped} == {"duplicates"}
    assert len(dropped) >= 19
