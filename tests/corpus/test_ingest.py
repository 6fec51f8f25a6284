"""Ingesting the five real reading lists: counts, resolutions, merges and the quality report."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import pytest

from kg.corpus import Corpus
from kg.ingest.run import ingest
from kg.store import Store, read_jsonl
from tests.conftest import DATA

LISTS = Path(__file__).resolve().parents[2] / "data" / "reading-lists"


@pytest.fixture(scope="module")
def result(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    for name in ("reading-lists", "facts"):
        shutil.copytree(DATA / name, root / name)
    shutil.copy(DATA / "systems.csv", root / "systems.csv")
    store = Store(root)
    res = ingest(store)
    return store, res


def linked_ids_in_text() -> set[str]:
    ids = set()
    for path in LISTS.glob("*.md"):
        for m in re.finditer(r"arxiv\.org/(?:abs|pdf|html)/(?:arXiv:)?(\d{4}\.\d{4,5})", path.read_text()):
            ids.add(m[1])
    return ids


def test_every_linked_arxiv_id_appears_exactly_once(result):
    store, res = result
    linked = linked_ids_in_text()
    assert len(linked) == 64
    ids = [p.id for p in res.papers]
    assert len(ids) == len(set(ids))
    assert linked <= set(ids)
    assert res.report.counts["arxiv_ids_linked"] == 64


def test_counts_of_the_default_corpus(result):
    _, res = result
    c = res.report.counts
    assert (c["lists"], c["entries"]) == (5, 114)
    assert (c["papers_listed"], c["papers_mentioned"], c["papers_without_arxiv_id"]) == (82, 19, 2)
    assert c["systems"] == 15


@pytest.mark.parametrize(("name", "expected"), [
    ("Imagen Video", "2210.02303"), ("Imagine Flash", "2405.05224"), ("LaMa", "2109.07161"),
    ("Adversarial Diffusion Distillation", "2311.17042"), ("InstantID", "2401.07519"),
    ("ControlNet", "2302.05543"), ("IPAdapter", "2308.06721"), ("VisionLLaMA", "2403.00522"),
    ("Movie Gen", "2410.13720"), ("CLIP", "2103.00020"), ("GAN", "1406.2661"), ("VAE", "1312.6114"),
    ("Flow Matching", "2210.02747"), ("DiT", "2212.09748"), ("Elite", "2302.13848"),
    ("Imagine yourself", "2409.13346"), ("DEADiff", "2403.06951"), ("VDM", "2107.00630"),
    ("Consistency Models", "2303.01469"), ("PixArt-α", "2310.00426"), ("LCM", "2310.04378"),
    ("stablediffusion", "2112.10752"), ("SD v1.5", "system:sd-v1-5"), ("SDXL-Turbo", "system:sdxl-turbo"),
    ("stable-diffusion-2-1-unclip", "system:sd-2-1-unclip"), ("FLUX.1", "system:flux-1"),
])
def test_names_without_links_resolve(result, name, expected):
    store, _ = result
    assert Corpus.load(store).resolve(name) == expected


def test_mentioned_only_papers_are_kept_and_marked(result):
    store, _ = result
    corpus = Corpus.load(store)
    for pid in ("2303.01469", "2310.00426", "2310.04378"):
        paper = corpus.papers[pid]
        assert paper.status == "mentioned" and paper.mentions
    assert corpus.papers["2310.00426"].mentions[0].by in ("2401.05252", "2403.04692")


def test_links_inside_notes_are_mentions_on_their_own_line(result):
    """"[v-predict](https://arxiv.org/abs/2202.00512)" in SD 2's note: the mention stands on that line,
    named by the link's words, with the note's sentence as its evidence (not the URL)."""
    store, _ = result
    corpus = Corpus.load(store)
    family = "reading-lists/stable-diffusion-family-and-identity-preservation.md"
    for pid, line, by, alias in (("2202.00512", 27, "system:sd-2", "v-predict"),
                                 ("2204.06125", 29, "system:sd-2-1-unclip", "DALLE2.0 2022.04")):
        paper = corpus.papers[pid]
        (listing,) = [x for x in paper.listings if x.how == "mentioned"]
        assert (listing.file, listing.line) == (family, line)
        (mention,) = [m for m in paper.mentions if m.file == family and m.line == line]
        assert (mention.by, mention.alias) == (by, alias)
        assert alias in mention.sentence and "https://" not in mention.sentence
    for record in corpus.records():
        assert all(x.line >= 1 for x in record.listings), record.id
        assert all(m.line >= 1 for m in record.mentions), record.id


def test_one_record_per_paper_across_lists(result):
    store, _ = result
    ldm = Corpus.load(store).papers["2112.10752"]
    files = {x.file for x in ldm.listings if x.how == "listed"}
    assert len(files) == 4
    assert "StableDiffusion" in [x.title for x in ldm.listings]


def test_report_names_the_known_problems(result):
    _, res = result
    report = res.report
    (mismatch,) = report.by_kind("id_title_mismatch")
    assert (mismatch["linked_id"], mismatch["resolved_to"]) == ("2112.10741", "2110.02711")
    assert mismatch["where"].endswith("generation-models-reading-list.md:38")
    dups = {d["id"]: d["lines"] for d in report.duplicates}
    assert dups["2201.09865"] == [17, 167] and dups["2107.00630"] == [36, 57]
    dates = {p["id"] for p in report.by_kind("date_before_id")}
    assert "2106.15282" in dates
    non_arxiv = {p["id"] for p in report.by_kind("non_arxiv_link")}
    assert {"2403.00522", "2410.13720", "2311.17042", "2107.00630", "2207.12598"} <= non_arxiv
    (ambiguous,) = report.by_kind("ambiguous")
    assert ambiguous["name"] == "StyleAlign" and len(ambiguous["candidates"]) == 2
    text = report.render()
    assert "DiffusionCLIP" in text and "RePaint" in text and "VDM" in text
    # a first-submission day we know is stated as such; a month read off the id is not called a submission
    assert "2103.00020 dated 'OpenAI, Jan 2021', but it was first submitted to arXiv on 2021-02-26" in text
    assert "2106.15282 dated '2021-05-30', but its arXiv id is from 2021-06" in text


def test_every_field_carries_its_source_and_nothing_is_invented(result):
    store, _ = result
    for record in read_jsonl(store.papers_path):
        for name in ("title", "authors", "published", "venue", "doi", "primary_category"):
            if record[name]:
                assert record["provenance"].get(name), (record["id"], name)
        assert record["summary"] is None  # abstracts stay empty until fetched


def test_snapshot_round_trips_byte_identically(result, tmp_path):
    store, _ = result
    before = store.papers_path.read_bytes(), store.systems_path.read_bytes()
    copy = Store(tmp_path)
    copy.save_papers(store.load_papers())
    copy.save_systems(store.load_systems())
    assert (copy.papers_path.read_bytes(), copy.systems_path.read_bytes()) == before
    ingest(store)  # a second ingest of the same lists writes the same bytes
    assert (store.papers_path.read_bytes(), store.systems_path.read_bytes()) == before


def test_committed_snapshot_is_current(result):
    store, _ = result
    assert (DATA / "corpus" / "papers.jsonl").read_bytes() == store.papers_path.read_bytes(), \
        "data/corpus is stale: run `kg ingest`"


def test_fetched_fields_survive_a_new_ingest(data_copy):
    store = Store(data_copy)
    papers = store.load_papers()
    ldm = next(p for p in papers if p.id == "2112.10752")
    ldm.summary, ldm.provenance["summary"], ldm.fetched_at = "A fetched abstract.", "arxiv:2026-11-01", "2026-11-01"
    dropped = next(p for p in papers if p.id == "2209.00796")
    dropped.summary, dropped.provenance["summary"] = "Fetched too.", "arxiv:2026-11-01"
    store.save_papers(papers)
    one_list = data_copy / "reading-lists" / "stable-diffusion-family-and-identity-preservation.md"
    ingest(store, [one_list])
    after = {p.id: p for p in store.load_papers()}
    assert after["2112.10752"].summary == "A fetched abstract." and after["2112.10752"].status == "listed"
    assert after["2209.00796"].status == "unlisted" and after["2209.00796"].summary == "Fetched too."
