"""Helpers for the export tests: awkward records, a LaTeX reader, and runs of the real TeX tools."""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from pylatexenc.latex2text import LatexNodes2Text, MacroTextSpec, get_default_latex_context_db

from kg.model import Paper, System

SPECIALS_TITLE = r"Specials & 100% of $5 #1 snake_case {braced} ~tilde ^caret back\slash |bar| <angle>"


def build_special_records() -> list[Paper | System]:
    """Records that exercise every escaping and encoding rule."""
    return [
        Paper(id="2401.00001", arxiv_id="2401.00001", version="v2", title=SPECIALS_TITLE,
              authors=["Björn Ommer", "Tomasz Trzciński"], published="2024-01-02",
              primary_category="cs.CV", categories=["cs.CV", "cs.LG"]),
        Paper(id="2403.04692", arxiv_id="2403.04692",
              title="PixArt-Σ: Weak-to-Strong Training of Diffusion Transformer for 4K Text-to-Image "
                    "Generation",
              authors=["Junsong Chen", "Chongjian Ge"], published="2024-03-07", primary_category="cs.CV",
              venue="ECCV 2024", doi="10.1007/978-3-031-73411-3_5"),
        Paper(id="2401.05252", arxiv_id="2401.05252",
              title="PIXART-δ: Fast and Controllable Image Generation with Latent Consistency Models",
              authors=["Junsong Chen", "Yue Wu"], published="2024-01-10", primary_category="cs.CV"),
        Paper(id="2402.00002", arxiv_id="2402.00002",
              title="基于扩散模型的图像生成: Image Generation with Diffusion",
              authors=["王小明", "Kenji Tanaka", "Дмитрий Ветров"], published="2024-02-01",
              venue="CVPR 2024"),
        Paper(id="2402.00003", arxiv_id="2402.00003", title=r"A } Unbalanced \ Title { With Braces",
              authors=["Patrick von Platen", "Jürgen Schmidhuber", "Łukasz Kaiser", "Gül Varol",
                       "Aäron van den Oord", "François Chollet", "Nguyễn Văn Ánh", "Γιώργος Παπαδόπουλος"],
              published="2024-02", published_precision="month"),
        Paper(id="1910.10683", arxiv_id="1910.10683",
              title="Exploring the Limits of Transfer Learning with a Unified Text-to-Text Transformer",
              authors=["Colin Raffel", "Noam Shazeer"], published="2019-10",
              venue="JMLR 2020 (vol. 21, no. 140, pp. 1-67)", doi="10.48550/arXiv.1910.10683"),
        Paper(id="2207.12598", arxiv_id="2207.12598", title="Classifier-Free Diffusion Guidance",
              authors=["Jonathan Ho", "Tim Salimans"], published="2022-07-26", primary_category="cs.LG",
              venue="NeurIPS 2021 Workshop on Deep Generative Models and Downstream Applications "
                    "(short version)"),
        Paper(id="doi:10.1126/science.1127647", doi="10.1126/science.1127647",
              title="Reducing the Dimensionality of Data with Neural Networks",
              authors=["Geoffrey E. Hinton", "Ruslan R. Salakhutdinov"], published="2006",
              venue="Science 2006, vol. 313, no. 5786, pp. 504-507"),
        Paper(id="2402.00004", arxiv_id="2402.00004",
              title="A Report by a Lab: 2× Faster, ≤ 4 Steps → “Better” …",
              authors=["DeepMind and Google Research"], published="2024-02-03",
              venue="Some Unknown Venue 2024"),
        System(id="system:sd-v1-5", name="SD v1.5 (runwayml/stable-diffusion-v1-5)", organisation="RunwayML",
               date="2022-10", urls=["https://huggingface.co/runwayml/stable-diffusion-v1-5"]),
        System(id="system:odd", name="Model_X & Co #2", organisation="Stability AI & Friends, Ltd.",
               date="2023+", urls=["https://example.org/a_b%20c"]),
        System(id="system:flux-1", name="FLUX.1"),
    ]


# ---- the real LaTeX toolchain ---------------------------------------------------------------
@dataclass
class TexRun:
    """The outputs of one document build: what each tool printed and wrote."""

    bib_log: str  # bibtex's stdout + .blg, or biber's stdout + .blg
    tex_log: str  # the last LaTeX run's .log
    bbl: str
    returncodes: list[int]


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(args, cwd=cwd, capture_output=True, text=True, errors="replace", timeout=180)


def compile_document(workdir: Path, bib_text: str, keys: list[str], *, biblatex: bool,
                     engine: str = "latex", bst: str = "plainnat") -> TexRun:
    """Write refs.bib and a document citing every key; run LaTeX, bibtex or biber, LaTeX twice."""
    workdir.mkdir(parents=True, exist_ok=True)
    (workdir / "refs.bib").write_text(bib_text, encoding="utf-8")
    cites = "\\cite{" + ",".join(keys) + "}"
    if biblatex:
        preamble = ("\\usepackage[backend=biber,style=numeric]{biblatex}\n\\addbibresource{refs.bib}\n")
        body, tool = f"{cites}\n\\printbibliography\n", ["biber", "--validate-datamodel", "doc"]
    else:
        preamble = "\\usepackage{url}\n\\usepackage[numbers]{natbib}\n"
        body, tool = f"{cites}\n\\bibliographystyle{{{bst}}}\n\\bibliography{{refs}}\n", ["bibtex", "doc"]
    fontenc = "" if engine == "lualatex" else "\\usepackage[T1]{fontenc}\n"
    doc = f"\\documentclass{{article}}\n{fontenc}{preamble}\\begin{{document}}\n{body}\\end{{document}}\n"
    (workdir / "doc.tex").write_text(doc, encoding="utf-8")
    tex = [engine, "-interaction=nonstopmode", "-halt-on-error", "doc.tex"]
    codes, bib_out = [], ""
    for step in (tex, tool, tex, tex):
        proc = _run(step, workdir)
        codes.append(proc.returncode)
        if step is tool:
            bib_out = proc.stdout + proc.stderr
    blg = (workdir / "doc.blg").read_text(errors="replace") if (workdir / "doc.blg").exists() else ""
    return TexRun(bib_log=bib_out + blg, tex_log=(workdir / "doc.log").read_text(errors="replace"),
                  bbl=(workdir / "doc.bbl").read_text(errors="replace"), returncodes=codes)


def require_tools(*tools: str) -> None:
    """Fail (not skip) when the TeX toolchain the acceptance tests need is not installed."""
    missing = [t for t in tools if shutil.which(t) is None]
    if missing:
        pytest.fail(f"missing TeX tools {missing}: apt-get install texlive-latex-base "
                    "texlive-latex-recommended texlive-bibtex-extra biber lmodern")


def decode_latex(latex: str) -> str:
    """LaTeX back to text with pylatexenc, taught the text commands it lacks or renders otherwise."""
    extra = [MacroTextSpec("textbraceleft", "{"), MacroTextSpec("textbraceright", "}"),
             MacroTextSpec("textasciicircum", "^"), MacroTextSpec("textasciitilde", "~"),
             MacroTextSpec("textbar", "|"), MacroTextSpec("textless", "<"), MacroTextSpec("textgreater", ">")]
    db = get_default_latex_context_db()
    db.add_context_category("kg-test", macros=extra, prepend=True)
    return LatexNodes2Text(latex_context=db).latex_to_text(latex)
