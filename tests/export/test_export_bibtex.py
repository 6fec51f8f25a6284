"""BibTeX and BibLaTeX entries: types, arXiv fields, venues, and files two parsers read cleanly."""

from __future__ import annotations

import logging
import warnings

import bibtexparser
import pybtex.database
import pybtex.errors
import pytest
from pybtex.database import BibliographyData

from kg.export import build_export, export_records
from kg.export.latex import transliterate_unknown
from kg.model import Paper
from tests.export.export_helpers import decode_latex


def parse_strictly(text: str) -> tuple[BibliographyData, bibtexparser.Library]:
    """Parse with pybtex (strict: its warnings raise) and bibtexparser; fail on any complaint."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        pybtex.errors.set_strict_mode(True)
        try:
            data = pybtex.database.parse_string(text, "bibtex")
            library = bibtexparser.parse_string(text)
        finally:
            pybtex.errors.set_strict_mode(False)
    assert library.failed_blocks == []
    assert len(library.entries) == len(data.entries)
    assert [b for b in library.blocks if not isinstance(b, bibtexparser.model.Entry)] == []
    for entry in data.entries.values():  # names that BibTeX cannot split would raise here
        for person in entry.persons.get("author", []):
            assert person.last_names
    return data, library


def entries_by_id(records, fmt: str, store=None) -> dict[str, dict[str, str]]:
    result = build_export(records, fmt, store=store)
    _, library = parse_strictly(result.text)
    by_key = {e.key: {f.key: f.value for f in e.fields} | {"ENTRYTYPE": e.entry_type}
              for e in library.entries}
    return {rid: by_key[key] for rid, key in result.keys.items()}


def test_arxiv_preprint_is_misc_with_clean_eprint(special_records) -> None:
    e = entries_by_id(special_records, "bibtex")["2401.00001"]
    assert e["ENTRYTYPE"] == "misc"
    assert e["eprint"] == "2401.00001"  # no version "v2", no "arXiv:" prefix
    assert (e["archivePrefix"], e["primaryClass"]) == ("arXiv", "cs.CV")
    assert e["howpublished"] == "arXiv:2401.00001"
    assert e["url"] == "https://arxiv.org/abs/2401.00001"
    assert "journal" not in e and e["year"] == "2024"


def test_known_conference_is_inproceedings_and_keeps_the_eprint(special_records) -> None:
    e = entries_by_id(special_records, "bibtex")["2403.04692"]
    assert e["ENTRYTYPE"] == "inproceedings"
    assert e["booktitle"] == "European Conference on Computer Vision (ECCV)"
    assert (e["eprint"], e["archivePrefix"]) == ("2403.04692", "arXiv")
    assert e["doi"] == "10.1007/978-3-031-73411-3_5"
    assert "journal" not in e


def test_journal_is_article_with_its_volume_number_and_pages(special_records) -> None:
    entries = entries_by_id(special_records, "bibtex")
    jmlr, science = entries["1910.10683"], entries["doi:10.1126/science.1127647"]
    assert (jmlr["ENTRYTYPE"], jmlr["journal"]) == ("article", "Journal of Machine Learning Research (JMLR)")
    assert (jmlr["volume"], jmlr["number"], jmlr["pages"], jmlr["year"]) == ("21", "140", "1--67", "2020")
    assert jmlr["eprint"] == "1910.10683"
    assert (science["journal"], science["pages"]) == ("Science", "504--507")
    assert "eprint" not in science and science["url"] == "https://doi.org/10.1126/science.1127647"


def test_workshop_venue_year_and_note(special_records) -> None:
    e = entries_by_id(special_records, "bibtex")["2207.12598"]
    assert e["ENTRYTYPE"] == "inproceedings"
    assert e["booktitle"].startswith("NeurIPS 2021 Workshop on")
    assert (e["year"], e["note"]) == ("2021", "short version")


def test_unknown_venue_stays_a_preprint_with_the_venue_as_note(special_records) -> None:
    e = entries_by_id(special_records, "bibtex")["2402.00004"]
    assert (e["ENTRYTYPE"], e["note"]) == ("misc", "Some Unknown Venue 2024")
    assert e["author"] == "{DeepMind and Google Research}"  # one corporate name, not two people


def test_model_release_is_misc_in_bibtex_and_software_in_biblatex(special_records) -> None:
    bib = entries_by_id(special_records, "bibtex")["system:sd-v1-5"]
    assert (bib["ENTRYTYPE"], bib["author"], bib["year"], bib["note"]) == (
        "misc", "{RunwayML}", "2022", "Model release")
    blx = entries_by_id(special_records, "biblatex")["system:sd-v1-5"]
    assert (blx["ENTRYTYPE"], blx["author"], blx["date"]) == ("software", "{RunwayML}", "2022-10")
    odd = entries_by_id(special_records, "bibtex")["system:odd"]
    assert odd["author"] == r"{Stability AI {\&} Friends, Ltd.}"
    assert (odd["year"], odd["url"]) == ("2023", "https://example.org/a_b%20c")


def test_a_model_release_with_nothing_to_cite_is_left_out_and_said_so(special_records) -> None:
    result = build_export(special_records, "bibtex")
    assert "system:flux-1" not in result.keys
    assert "no date" in result.left_out["system:flux-1"]
    assert "FLUX" not in result.text


def test_biblatex_uses_its_own_field_names_and_keeps_utf8(special_records) -> None:
    entries = entries_by_id(special_records, "biblatex")
    e = entries["2401.00001"]
    assert (e["eprinttype"], e["eprintclass"], e["date"]) == ("arxiv", "cs.CV", "2024-01-02")
    assert "archivePrefix" not in e and "year" not in e and "howpublished" not in e
    assert e["author"] == "Björn Ommer and Tomasz Trzciński"
    assert entries["1910.10683"]["journaltitle"] == "Journal of Machine Learning Research (JMLR)"
    assert entries["2403.04692"]["date"] == "2024"  # the venue's year
    assert "基于扩散模型的图像生成" in entries["2402.00002"]["title"]


def test_bibtex_mode_is_pure_ascii_with_escaped_names(special_records) -> None:
    result = build_export(special_records, "bibtex")
    assert result.text.isascii()
    entries = entries_by_id(special_records, "bibtex")
    assert entries["2401.00001"]["author"] == r"Bj{\"o}rn Ommer and Tomasz Trzci{\'n}ski"
    assert entries["2402.00002"]["author"] == "WangXiaoMing and Kenji Tanaka and Dmitriy Vetrov"
    assert entries["2402.00003"]["author"].startswith(r"Patrick von Platen and J{\"u}rgen Schmidhuber and ")


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_titles_decode_back_to_the_original(special_records, fmt: str) -> None:
    entries = entries_by_id(special_records, fmt)
    for record in special_records:
        if record.id not in entries or not isinstance(record, Paper):
            continue
        decoded = decode_latex(entries[record.id]["title"])
        # BibLaTeX keeps every character; BibTeX transliterates what plain LaTeX cannot typeset (CJK).
        assert decoded == (record.title if fmt == "biblatex" else transliterate_unknown(record.title))
    assert transliterate_unknown(special_records[3].title) == "JiYuKuoSanMoXingDeTuXiangShengCheng: " \
        "Image Generation with Diffusion"


def test_title_with_lone_brace_and_backslash_parses(special_records) -> None:
    e = entries_by_id(special_records, "bibtex")["2402.00003"]
    assert e["title"] == r"A {\textbraceright} Unbalanced {\textbackslash} Title {\textbraceleft} With Braces"


@pytest.mark.parametrize("fmt", ["bibtex", "biblatex"])
def test_whole_default_corpus_parses_with_pybtex_and_bibtexparser_without_warnings(
        corpus, corpus_store, fmt: str, caplog) -> None:
    records = list(corpus.records())
    with caplog.at_level(logging.WARNING):
        result = build_export(records, fmt, store=corpus_store)
        data, library = parse_strictly(result.text)
    assert [r for r in caplog.records if r.name.startswith(("pybtex", "bibtexparser"))] == []
    assert len(data.entries) == len(records) - len(result.left_out) == len(result.keys)
    assert set(data.entries.keys()) == set(result.keys.values())


def test_output_is_sorted_by_key_and_deterministic(special_records) -> None:
    first = export_records(special_records, "bibtex")
    assert first == export_records(list(reversed(special_records)), "bibtex")
    keys = [line[line.index("{") + 1:-1] for line in first.splitlines() if line.startswith("@")]
    assert keys == sorted(keys)
