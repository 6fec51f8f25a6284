"""The real toolchain: documents citing every entry built with latex + bibtex and latex + biber.

Marked `latex`; they fail (never skip) when the TeX tools are missing, since they are acceptance tests.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

from kg.export import build_export
from kg.export.latex import encode_latex, is_plain_latex
from tests.export.export_helpers import TexRun, compile_document, require_tools

pytestmark = pytest.mark.latex

_LATEX_PROBLEMS = re.compile(
    r"^!|Citation .* undefined|There were undefined references|Empty .thebibliography|"
    r"Package biblatex Warning|Package natbib Warning|Unicode character", re.MULTILINE)


def assert_clean(run: TexRun, *, n_entries: int, biblatex: bool) -> None:
    assert run.returncodes == [0, 0, 0, 0], run.bib_log[-2000:] + run.tex_log[-3000:]
    if biblatex:
        assert re.findall(r"WARN|ERROR", run.bib_log) == [], run.bib_log
        assert run.bbl.count("\\entry{") == n_entries
    else:
        assert "Warning--" not in run.bib_log and "error message" not in run.bib_log, run.bib_log
        assert run.bbl.count("\\bibitem") == n_entries
    assert _LATEX_PROBLEMS.findall(run.tex_log) == []


@pytest.mark.parametrize("bst", ["plainnat", "plain"])
def test_default_corpus_bibtex_builds_with_latex_and_bibtex(corpus, corpus_store, tmp_path: Path,
                                                            bst: str) -> None:
    require_tools("latex", "bibtex")
    result = build_export(list(corpus.records()), "bibtex", store=corpus_store)
    keys = sorted(result.keys.values())
    run = compile_document(tmp_path / bst, result.text, keys, biblatex=False, bst=bst)
    assert_clean(run, n_entries=len(keys), biblatex=False)


def test_default_corpus_biblatex_builds_with_latex_and_biber(corpus, corpus_store, tmp_path: Path) -> None:
    require_tools("latex", "biber")
    result = build_export(list(corpus.records()), "biblatex", store=corpus_store)
    keys = sorted(result.keys.values())
    run = compile_document(tmp_path, result.text, keys, biblatex=True)
    assert_clean(run, n_entries=len(keys), biblatex=True)
    assert "Bj\\\"orn" in run.bbl or "Björn" in run.bbl


def test_special_characters_bibtex_build(special_records, tmp_path: Path) -> None:
    require_tools("latex", "bibtex")
    result = build_export(special_records, "bibtex")
    keys = sorted(result.keys.values())
    run = compile_document(tmp_path, result.text, keys, biblatex=False)
    assert_clean(run, n_entries=len(keys), biblatex=False)
    assert r"{\textbraceright}" in run.bbl and r"{$\Sigma$}" in run.bbl


def test_special_characters_biblatex_build_with_lualatex_for_cjk(special_records, tmp_path: Path) -> None:
    """BibLaTeX keeps UTF-8 (CJK included), which pdfLaTeX cannot typeset without a CJK package;
    LuaLaTeX reads it. Glyphs missing from Latin Modern are a font matter, not a .bib one."""
    require_tools("lualatex", "biber")
    result = build_export(special_records, "biblatex")
    keys = sorted(result.keys.values())
    run = compile_document(tmp_path, result.text, keys, biblatex=True, engine="lualatex")
    assert_clean(run, n_entries=len(keys), biblatex=True)
    assert "基于扩散模型的图像生成" in run.bbl and "Trzciński" in run.bbl


def test_special_characters_biblatex_build_with_latex_when_no_cjk(special_records, tmp_path: Path) -> None:
    require_tools("latex", "biber")
    records = [r for r in special_records if r.id != "2402.00002"]
    result = build_export(records, "biblatex")
    keys = sorted(result.keys.values())
    run = compile_document(tmp_path, result.text, keys, biblatex=True)
    assert_clean(run, n_entries=len(keys), biblatex=True)


def test_every_character_called_plain_latex_typesets_with_latex(tmp_path: Path) -> None:
    require_tools("latex")
    chars = [chr(c) for c in range(0x80, 0x3000) if is_plain_latex(chr(c))]
    assert len(chars) > 400
    lines = [f"\\typeout{{CHAR {ord(c):04X}}}\\setbox0\\hbox{{{encode_latex(c, ascii_only=True)}}}"
             for c in chars]
    (tmp_path / "chars.tex").write_text(
        "\\documentclass{article}\n\\begin{document}\n" + "\n".join(lines) + "\n\\end{document}\n",
        encoding="ascii")
    proc = subprocess.run(["latex", "-interaction=nonstopmode", "chars.tex"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=120)
    log = (tmp_path / "chars.log").read_text(errors="replace")
    assert proc.returncode == 0 and not re.search(r"^!", log, re.MULTILINE), log[-2000:]
