"""Inline Markdown as the parser sees it: markdown-it inline tokens turned into lines of styled spans.

A `Line` is one source line of a block (a paragraph, a list item, a heading, a table cell) with its
line number; its spans say which text is bold, emphasised, code or inside which link. A link whose
text wraps onto the next line stays one link on the line where it starts.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from markdown_it.token import Token

from kg.ingest.markdown import Link, find_links, link_target
from kg.text import squash_spaces

_BREAKS = ("softbreak", "hardbreak")
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+\-]+:(?![\w:])")
_STYLE_STEPS = {"strong_open": ("bold", 1), "strong_close": ("bold", -1), "em_open": ("em", 1),
                "em_close": ("em", -1)}
_HTML_A_OPEN = re.compile(r"""^<a\s[^>]*?\bhref\s*=\s*["']([^"']+)["']""", re.IGNORECASE)
_HTML_A_CLOSE = re.compile(r"^</a\s*>$", re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A run of text with its style: bold, emphasis, code; `link` indexes the line's links (-1: none)."""

    text: str
    bold: bool = False
    em: bool = False
    code: bool = False
    link: int = -1
    image: bool = False


@dataclass
class Line:
    """One source line of a block, as spans, with the links that start on it."""

    number: int
    spans: list[Span] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The plain text (images left out, emoji shortcodes removed, spaces collapsed)."""
        return squash_spaces(_SHORTCODE.sub(" ", "".join(s.text for s in self.spans if not s.image)))

    @property
    def all_links(self) -> list[Link]:
        """Markdown links and bare URLs written in the text."""
        bare = find_links(" ".join(s.text for s in self.spans if s.link < 0 and not s.code))
        return [*self.links, *bare]

    def visible(self) -> list[Span]:
        """The spans a reader sees as words (no images, no blank runs)."""
        return [s for s in self.spans if not s.image and s.text.strip()]


@dataclass
class _State:
    bold: int = 0
    em: int = 0
    link: int = -1


def inline_lines(children: Sequence[Token] | None, first_line: int) -> list[Line]:
    """The lines of one inline token, numbered from `first_line` (1-based)."""
    lines = [Line(first_line)]
    state = _State()
    for tok in children or []:
        current = lines[-1]
        if tok.type in _BREAKS:
            if state.link >= 0:  # a link's text wrapping onto the next line stays one link
                current.spans.append(Span(" ", state.bold > 0, state.em > 0, link=state.link))
            else:
                lines.append(Line(current.number + 1))
            continue
        _add_token(tok, current, state)
    return [line for line in lines if line.spans or line.links]


def _add_token(tok: Token, line: Line, state: _State) -> None:
    kind = tok.type
    if kind == "text":
        line.spans.append(Span(tok.content, state.bold > 0, state.em > 0, link=state.link))
    elif kind == "code_inline":
        line.spans.append(Span(tok.content, state.bold > 0, state.em > 0, code=True, link=state.link))
    elif kind in _STYLE_STEPS:
        attr, step = _STYLE_STEPS[kind]
        setattr(state, attr, getattr(state, attr) + step)
    elif kind == "link_open":
        _open_link(tok, line, state)
    elif kind == "link_close":
        _close_link(line, state)
    elif kind == "image":
        line.spans.append(Span(tok.content, image=True, link=state.link))
    elif kind == "html_inline":
        _html_inline(tok.content, line, state)


def _html_inline(html: str, line: Line, state: _State) -> None:
    """`<a href="…">…</a>` is a link like Markdown's; any other tag (`<ins>`, `<br>`, `<sup>`)
    separates words ("models<ins>arXiv, 2023</ins>" reads "models arXiv, 2023")."""
    if (m := _HTML_A_OPEN.match(html)) and state.link < 0:
        line.links.append(Link(m[1], ""))
        state.link = len(line.links) - 1
    elif _HTML_A_CLOSE.match(html.strip()):
        _close_link(line, state)
    elif line.spans and not line.spans[-1].image:
        last = line.spans[-1]
        line.spans[-1] = Span(last.text + " ", last.bold, last.em, last.code, last.link)


def _open_link(tok: Token, line: Line, state: _State) -> None:
    href = link_target(str(tok.attrs.get("href", "")))
    line.links.append(Link(href, ""))
    state.link = len(line.links) - 1


def _close_link(line: Line, state: _State) -> None:
    """Give the link its text: its words, else an image's alt text (a badge: "arXiv")."""
    index = state.link
    state.link = -1
    if index < 0:
        return
    mine = [s for s in line.spans if s.link == index]
    words = squash_spaces("".join(s.text for s in mine if not s.image))
    alt = squash_spaces(" ".join(s.text for s in mine if s.image))
    link = line.links[index]
    line.links[index] = Link(link.url, words or alt)


def link_spans(line: Line, index: int) -> list[Span]:
    return [s for s in line.spans if s.link == index]


def is_badge(line: Line, index: int) -> bool:
    """A link made of an image only (a shields.io badge, a star count)."""
    spans = [s for s in link_spans(line, index) if s.text.strip()]
    return bool(spans) and all(s.image for s in spans)


def joined(first: Line, second: Line) -> Line:
    """Two source lines read as one (a title that wraps before its links), numbered as the first."""
    shift = len(first.links)
    spans = list(first.spans)
    if spans:
        last = spans[-1]
        spans[-1] = Span(last.text + " ", last.bold, last.em, last.code, last.link, last.image)
    spans += [Span(s.text, s.bold, s.em, s.code, s.link + shift if s.link >= 0 else -1, s.image)
              for s in second.spans]
    return Line(first.number, spans, [*first.links, *second.links])
