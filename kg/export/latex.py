"""Text to LaTeX for .bib fields: specials escaped, non-ASCII mapped, capitals protected.

Two modes, one per bibliography backend:

* ``ascii=True`` (BibTeX): the output is pure ASCII, because classic `bibtex` is byte-oriented
  (its `purify$`, `substring$` and sorting cut UTF-8 sequences apart). Accented letters become
  brace-wrapped accent commands (`Björn` -> `Bj{\\"o}rn`, `Trzciński` -> `Trzci{\\'n}ski`) using
  pylatexenc's table; Greek letters in titles become math (`PixArt-Σ` -> `PixArt-{$\\Sigma$}`);
  letters pylatexenc has no LaTeX for (CJK, Cyrillic …) are transliterated with anyascii and logged.
* ``ascii=False`` (BibLaTeX + biber): UTF-8 letters and punctuation are kept; the LaTeX specials are
  escaped, Greek letters in titles still become math (pdfLaTeX has no Greek text font by default)
  and symbols such as × → ≤ become commands (pdfLaTeX's inputenc knows few of them).

The ten specials `& % $ # _ { } ~ ^ \\` become `\\&`, `\\%`, `\\$`, `\\#`, `\\_`, `\\textbraceleft`,
`\\textbraceright`, `\\textasciitilde`, `\\textasciicircum`, `\\textbackslash`: a literal brace is
written as a command, never as `\\{`, because BibTeX counts every brace (escaped or not) when it
reads a field, so one unbalanced `\\}` would break the whole file.
"""

from __future__ import annotations

import logging
import re
import unicodedata
from functools import cache

from anyascii import anyascii
from pylatexenc.latexencode import (
    RULE_CALLABLE,
    RULE_DICT,
    UnicodeToLatexConversionRule,
    UnicodeToLatexEncoder,
)

from kg.text import squash_spaces

log = logging.getLogger(__name__)

SPECIALS = {
    "&": r"\&", "%": r"\%", "$": r"\$", "#": r"\#", "_": r"\_",
    "{": r"\textbraceleft", "}": r"\textbraceright", "~": r"\textasciitilde",
    "^": r"\textasciicircum", "\\": r"\textbackslash",
    "|": r"\textbar", "<": r"\textless", ">": r"\textgreater",
}

# Capital Greek letters that LaTeX has a command for; the others are drawn as the Latin capital.
_GREEK_CAPITALS = {"Gamma", "Delta", "Theta", "Lambda", "Xi", "Pi", "Sigma", "Upsilon", "Phi", "Psi", "Omega"}
_GREEK_LATIN_LOOKALIKES = {"Alpha": "A", "Beta": "B", "Epsilon": "E", "Zeta": "Z", "Eta": "H", "Iota": "I",
                           "Kappa": "K", "Mu": "M", "Nu": "N", "Omicron": "O", "Rho": "P", "Tau": "T",
                           "Chi": "X"}
_GREEK_VARIANTS = {"ϑ": r"\vartheta", "ϕ": r"\phi", "ϵ": r"\epsilon", "ϱ": r"\varrho", "ϖ": r"\varpi",
                   "ς": r"\varsigma", "φ": r"\varphi", "ε": r"\varepsilon"}


_GREEK_LETTERS = ("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu nu xi omicron pi rho "
                  "sigma tau upsilon phi chi psi omega").split()


def greek_to_math(char: str) -> str | None:
    """`$\\Sigma$` for "Σ", `$\\delta$` for "δ", `$\\mathrm{A}$` for "Α"; None for other characters."""
    if char in _GREEK_VARIANTS:
        return f"${_GREEK_VARIANTS[char]}$"
    m = re.fullmatch(r"GREEK (SMALL|CAPITAL) LETTER ([A-Z]+)", unicodedata.name(char, ""))
    word = m[2].lower().replace("lamda", "lambda") if m else ""
    if word not in _GREEK_LETTERS:
        return None
    if m and m[1] == "SMALL":
        return "$o$" if word == "omicron" else f"$\\{word}$"
    if word.capitalize() in _GREEK_CAPITALS:
        return f"$\\{word.capitalize()}$"
    return f"$\\mathrm{{{_GREEK_LATIN_LOOKALIKES[word.capitalize()]}}}$"


def _greek_rules() -> dict[int, str]:
    rules = {}
    for code in range(0x0370, 0x0400):
        latex = greek_to_math(chr(code))
        if latex:
            rules[code] = latex
    return rules


# Combining accents that plain LaTeX (OT1 and T1 alike) can put on a letter, and their commands.
_ACCENT_COMMANDS = {
    "\u0300": "`", "\u0301": "'", "\u0302": "^", "\u0303": "~", "\u0304": "=", "\u0306": "u", "\u0307": ".",
    "\u0308": '"', "\u030a": "r", "\u030b": "H", "\u030c": "v", "\u0327": "c", "\u0323": "d", "\u0331": "b",
}
# Letters and symbols with a LaTeX form that needs no package and no font encoding beyond OT1.
_PLAIN_LATEX_CHARS = frozenset(
    "ßæÆœŒøØłŁı"  # letters with a command of their own
    "\u00a0\u2009\u2002\u2003–—‘’“”…•†‡§¶©®™°·×÷±¬¿¡£€¢¥"  # punctuation and text symbols
    "←→↑↓↔⇐⇒⇔≤≥≈≠≡∞∼∝∂∇∑∏∫√∈∉⊂⊆∪∩∀∃∧∨⊕⊗′"  # maths symbols of plain LaTeX
)


def is_plain_latex(char: str) -> bool:
    """True when pdfLaTeX with no extra package can typeset `char` through pylatexenc's form of it."""
    if char.isascii() or char in _PLAIN_LATEX_CHARS or greek_to_math(char):
        return True
    return accented_latin(char) is not None


def accented_latin(char: str) -> str | None:
    """`{\\"o}` for "ö", `{\\={\\"u}}` for "ǖ", `{\\'\\i}` for "í": a Latin letter under plain accents."""
    base, *marks = list(unicodedata.normalize("NFD", char))
    if not (base.isascii() and base.isalpha() and marks and all(m in _ACCENT_COMMANDS for m in marks)):
        return None
    latex = {"i": "\\i", "j": "\\j"}.get(base, base) if marks[0] not in "\u0327\u0323\u0331" else base
    for mark in marks:
        command = _ACCENT_COMMANDS[mark]
        bare = not command.isalpha() and len(latex) == 1
        latex = f"\\{command}{latex}" if bare else f"\\{command}{{{latex}}}"
    return f"{{{latex}}}"


def _accent_rule(text: str, pos: int) -> tuple[int, str] | None:
    latex = accented_latin(text[pos]) if not text[pos].isascii() else None
    return (1, latex) if latex else None


def transliterate_unknown(text: str) -> str:
    """BibTeX mode: characters plain LaTeX cannot typeset (CJK, Cyrillic …) become ASCII, logged."""
    unknown = sorted({c for c in text if not is_plain_latex(c)})
    if not unknown:
        return text
    log.warning("no plain-LaTeX form for %s in %r: transliterated to ASCII", "".join(unknown), text)
    return "".join(anyascii(c) if c in unknown else c for c in text)


def _keep(text: str, pos: int) -> tuple[int, str] | None:
    """BibLaTeX mode: letters, marks, punctuation and spaces stay UTF-8; a symbol plain LaTeX has a
    command for (×, →, ≤, €) goes on to pylatexenc's table, since inputenc knows few of them."""
    char = text[pos]
    if char.isascii():
        return None
    symbol = unicodedata.category(char).startswith("S") and char in _PLAIN_LATEX_CHARS
    return None if symbol else (1, char)


@cache
def _encoder(ascii_only: bool, greek_math: bool) -> UnicodeToLatexEncoder:
    rules: list[UnicodeToLatexConversionRule | str] = [
        UnicodeToLatexConversionRule(RULE_DICT, {ord(k): v for k, v in SPECIALS.items()})
    ]
    if greek_math:
        rules.append(UnicodeToLatexConversionRule(RULE_DICT, _greek_rules()))
    if ascii_only:
        accents = UnicodeToLatexConversionRule(RULE_CALLABLE, _accent_rule,
                                               replacement_latex_protection="none")
        rules += [accents, "defaults"]
    else:
        keep = UnicodeToLatexConversionRule(RULE_CALLABLE, _keep, replacement_latex_protection="none")
        rules += [keep, "defaults"]
    return UnicodeToLatexEncoder(conversion_rules=rules, non_ascii_only=False,
                                 replacement_latex_protection="braces-all")


def encode_latex(text: str, *, ascii_only: bool, greek_math: bool = True) -> str:
    """`text` as LaTeX for a .bib field (see the module docstring for the two modes).

    In names (`greek_math=False`) Greek is text, not a symbol: BibTeX mode transliterates it.
    """
    text = unicodedata.normalize("NFC", squash_spaces(text))
    if ascii_only and not greek_math:
        text = "".join(anyascii(c) if unicodedata.name(c, "").startswith("GREEK") else c for c in text)
    if ascii_only:
        text = transliterate_unknown(text)
    return str(_encoder(ascii_only, greek_math).unicode_to_latex(text))


def needs_case_protection(word: str) -> bool:
    """True for a word a style must not lower-case: `GANs`, `PixArt`, `VQ-VAE-2`, `3D`, `iPhone`.

    A word with only its first letter capital ("Diffusion") is left to the style: it may be the
    first word of a sentence-cased title. Proper nouns of that shape (Bayes) cannot be told apart.
    """
    for part in re.split(r"[-/–—]", word):
        letters = [c for c in part if c.isalpha()]
        if any(c.isupper() for c in letters[1:]):
            return True
        if letters and part[0].isdigit() and any(c.isupper() for c in letters):
            return True
        if letters and letters[0].islower() and any(c.isupper() for c in letters):
            return True
    return False


def encode_title(title: str, *, ascii_only: bool) -> str:
    """A title for BibTeX/BibLaTeX: escaped, with each word that must keep its capitals in braces."""
    words = squash_spaces(title).split(" ")
    out = []
    for word in words:
        latex = encode_latex(word, ascii_only=ascii_only)
        out.append(f"{{{latex}}}" if needs_case_protection(word) else latex)
    return " ".join(out)


def encode_verbatim(value: str) -> str:
    """A URL or DOI for a verbatim field: percent-encode the characters BibTeX cannot carry."""
    table = {"{": "%7B", "}": "%7D", "\\": "%5C", " ": "%20", '"': "%22"}
    return "".join(table.get(c, c) for c in value.strip())
