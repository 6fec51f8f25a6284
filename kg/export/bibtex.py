"""BibTeX (ASCII, for `bibtex`) and BibLaTeX (UTF-8, for `biber`) entries, written by bibtexparser.

Entry types: an arXiv preprint is `@misc` with `eprint` (the id without version and without
"arXiv:"), `archivePrefix = {arXiv}` and `primaryClass`; a known conference makes it
`@inproceedings` (`booktitle`), a known journal `@article` (`journal`), both keeping the eprint
fields. The arXiv id never goes into `journal`. A model release is `@misc` (BibTeX, whose classic
styles know no `@software`) or `@software` (BibLaTeX) with its organisation as corporate author.
BibLaTeX uses its own names: `eprinttype`, `eprintclass`, `journaltitle`, `date`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import bibtexparser
from bibtexparser.middlewares import AddEnclosingMiddleware
from bibtexparser.model import Entry, Field

from kg.export.citable import Citable
from kg.export.latex import encode_latex, encode_title, encode_verbatim

BIBTEX_FORMAT = bibtexparser.BibtexFormat()
BIBTEX_FORMAT.indent = "  "
BIBTEX_FORMAT.block_separator = "\n"

_TYPES = {
    # kind: (BibTeX type, BibLaTeX type)
    "preprint": ("misc", "misc"),
    "conference": ("inproceedings", "inproceedings"),
    "journal": ("article", "article"),
    "software": ("misc", "software"),
    "other": ("misc", "misc"),
}


def render_bibtex(citables: Iterable[Citable], *, biblatex: bool = False) -> str:
    """A .bib file: one entry per citable, in the order given."""
    library = bibtexparser.Library([build_entry(c, biblatex=biblatex) for c in citables])
    stack = [AddEnclosingMiddleware(reuse_previous_enclosing=False, enclose_integers=True,
                                    default_enclosing="{")]
    text = bibtexparser.write_string(library, unparse_stack=stack, bibtex_format=BIBTEX_FORMAT)
    return text.rstrip("\n") + "\n" if text.strip() else ""


def build_entry(c: Citable, *, biblatex: bool = False) -> Entry:
    """The bibtexparser entry of one citable (values already LaTeX-encoded)."""
    ascii_only = not biblatex
    fields: list[tuple[str, str | None]] = [
        ("author", _authors(c, ascii_only)),
        ("title", encode_title(c.title, ascii_only=ascii_only) if c.title else None),
    ]
    fields += _venue_fields(c, biblatex)
    fields += _date_fields(c, biblatex)
    fields += _eprint_fields(c, biblatex)
    fields += [("doi", encode_verbatim(c.doi) if c.doi else None),
               ("url", encode_verbatim(c.url) if c.url else None)]
    if not c.authors and not c.organisation:
        fields.append(("key", encode_latex(c.title or c.key, ascii_only=ascii_only)))
    entry_type = _TYPES[c.kind][1 if biblatex else 0]
    return Entry(entry_type, c.key, [Field(k, v) for k, v in fields if v])


def _authors(c: Citable, ascii_only: bool) -> str | None:
    if c.organisation:  # a corporate author: double braces keep BibTeX from splitting it
        return "{" + encode_latex(c.organisation, ascii_only=ascii_only, greek_math=False) + "}"
    names = []
    for name in c.authors:
        latex = encode_latex(name.text, ascii_only=ascii_only, greek_math=False)
        # A brace or backslash in a name becomes a command in a brace group, which biber would take
        # as a name part of its own and cut to a broken initial (`\.`): such a name stays whole.
        braced = (name.literal or re.search(r"\band\b", name.text, re.IGNORECASE)
                  or any(ch in name.text for ch in "{}\\"))
        names.append("{" + latex + "}" if braced else latex)
    return " and ".join(names) or None


def _venue_fields(c: Citable, biblatex: bool) -> list[tuple[str, str | None]]:
    ascii_only = not biblatex
    v = c.venue

    def enc(s: str | None) -> str | None:
        return encode_latex(s, ascii_only=ascii_only) if s else None

    if c.kind == "conference" and v:
        return [("booktitle", enc(v.name)), ("series", enc(v.series)), ("volume", v.volume),
                ("pages", _pages(v.pages)), ("note", enc(v.note))]
    if c.kind == "journal" and v:
        return [("journaltitle" if biblatex else "journal", enc(v.name)), ("volume", v.volume),
                ("number", v.number), ("pages", _pages(v.pages)), ("note", enc(v.note))]
    if c.kind == "software":
        return [] if biblatex else [("note", "Model release")]
    fields: list[tuple[str, str | None]] = []
    if c.kind == "preprint" and not biblatex:  # classic styles print no eprint: say where it is
        fields.append(("howpublished", f"arXiv:{c.eprint}"))
    return fields + [("note", enc(v.raw) if v else None)]


def _date_fields(c: Citable, biblatex: bool) -> list[tuple[str, str | None]]:
    if not biblatex:
        return [("year", str(c.year) if c.year else None)]
    if c.venue and c.venue.year and c.kind in ("conference", "journal"):
        return [("date", str(c.venue.year))]
    return [("date", c.date)]


def _eprint_fields(c: Citable, biblatex: bool) -> list[tuple[str, str | None]]:
    if not c.eprint:
        return []
    if biblatex:
        return [("eprint", c.eprint), ("eprinttype", "arxiv"), ("eprintclass", c.eprint_class)]
    return [("eprint", c.eprint), ("archivePrefix", "arXiv"), ("primaryClass", c.eprint_class)]


def _pages(pages: str | None) -> str | None:
    return pages.replace("-", "--") if pages else None

