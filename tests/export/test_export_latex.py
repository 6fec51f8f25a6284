"""LaTeX encoding of .bib values: specials, accents, Greek, CJK, case protection."""

from __future__ import annotations

import logging

import pytest

from kg.export.latex import (
    SPECIALS,
    encode_latex,
    encode_title,
    encode_verbatim,
    greek_to_math,
    is_plain_latex,
    needs_case_protection,
)
from tests.export.export_helpers import decode_latex

TEN_SPECIALS = "&%$#_{}~^\\"


@pytest.mark.parametrize("char", list(TEN_SPECIALS))
@pytest.mark.parametrize("ascii_only", [True, False])
def test_each_latex_special_is_escaped(char: str, ascii_only: bool) -> None:
    latex = encode_latex(f"a{char}b", ascii_only=ascii_only)
    assert latex == "a{" + SPECIALS[char] + "}b"


@pytest.mark.parametrize("ascii_only", [True, False])
def test_braces_and_backslash_never_leave_a_bare_brace_or_backslash(ascii_only: bool) -> None:
    latex = encode_latex(r"A } lone { and \ slash", ascii_only=ascii_only)
    assert latex == r"A {\textbraceright} lone {\textbraceleft} and {\textbackslash} slash"
    depth = 0
    for ch in latex:
        depth += {"{": 1, "}": -1}.get(ch, 0)
        assert depth >= 0
    assert depth == 0


def test_accented_names_become_brace_wrapped_accent_commands() -> None:
    assert encode_latex("Björn Ommer", ascii_only=True, greek_math=False) == r'Bj{\"o}rn Ommer'
    assert encode_latex("Tomasz Trzciński", ascii_only=True, greek_math=False) == r"Tomasz Trzci{\'n}ski"
    assert encode_latex("Łukasz", ascii_only=True) == r"{\L}ukasz"
    assert encode_latex("Nguyễn", ascii_only=True) == r"Nguy{\~{\^e}}n"
    assert encode_latex("í", ascii_only=True) == r"{\'{\i}}"


def test_biblatex_mode_keeps_utf8_letters() -> None:
    assert encode_latex("Björn Trzciński 王小明", ascii_only=False) == "Björn Trzciński 王小明"


@pytest.mark.parametrize("ascii_only", [True, False])
def test_greek_in_titles_becomes_math(ascii_only: bool) -> None:
    assert encode_latex("PixArt-Σ", ascii_only=ascii_only) == r"PixArt-{$\Sigma$}"
    assert encode_latex("PIXART-δ", ascii_only=ascii_only) == r"PIXART-{$\delta$}"
    assert encode_latex("PixArt-α", ascii_only=ascii_only) == r"PixArt-{$\alpha$}"
    assert greek_to_math("Λ") == r"$\Lambda$"
    assert greek_to_math("Β") == r"$\mathrm{B}$"  # no \Beta in LaTeX
    assert greek_to_math("x") is None


def test_greek_in_names_is_text_not_math() -> None:
    assert encode_latex("Γιώργος", ascii_only=True, greek_math=False) == "Giorgos"
    assert encode_latex("Γιώργος", ascii_only=False, greek_math=False) == "Γιώργος"


def test_cjk_and_cyrillic_are_transliterated_in_bibtex_mode_and_logged(caplog) -> None:
    with caplog.at_level(logging.WARNING, logger="kg.export.latex"):
        latex = encode_latex("扩散模型 Дмитрий", ascii_only=True)
    assert latex.isascii()
    assert latex == "KuoSanMoXing Dmitriy"
    assert "transliterated" in caplog.text


def test_every_bibtex_mode_output_is_ascii() -> None:
    text = "".join(chr(c) for c in range(0x20, 0x3100) if chr(c).isprintable())
    assert encode_latex(text, ascii_only=True).isascii()


def test_roundtrip_through_a_latex_reader_restores_the_text() -> None:
    original = r"A } b { c \ d & e % f $ g # h _ i ~ j ^ k Björn Trzciński Σδ"
    assert decode_latex(encode_latex(original, ascii_only=True)) == original
    assert decode_latex(encode_latex(original, ascii_only=False)) == original


@pytest.mark.parametrize("word, protect", [
    ("GANs", True), ("PixArt-Σ:", True), ("VQ-VAE-2", True), ("3D", True), ("iPhone", True),
    ("SDXL:", True), ("Diffusion", False), ("Text-to-Image", False), ("a", False), ("A", False),
    ("16x16", False),
])
def test_case_protection_rule(word: str, protect: bool) -> None:
    assert needs_case_protection(word) is protect


def test_title_protects_words_with_inner_capitals_only() -> None:
    title = encode_title("PixArt-Σ: Weak-to-Strong Training of GANs in 3D", ascii_only=True)
    assert title == r"{PixArt-{$\Sigma$}:} Weak-to-Strong Training of {GANs} in {3D}"


def test_verbatim_fields_keep_url_characters_but_not_braces() -> None:
    assert encode_verbatim("https://x.org/a_b%20c#d~e") == "https://x.org/a_b%20c#d~e"
    assert encode_verbatim("https://x.org/{a}\\b c") == "https://x.org/%7Ba%7D%5Cb%20c"


def test_plain_latex_set_covers_latin_accents_but_not_cjk() -> None:
    assert all(is_plain_latex(c) for c in "öńŁçéàâêîôûãõåčřžşğ–—“”…×")
    assert not any(is_plain_latex(c) for c in "北京한국Дж😀")
