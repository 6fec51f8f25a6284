"""A reading list's block structure, read by markdown-it: headings, paragraphs, list items, tables,
HTML blocks and rules, each with its line span. Code is skipped; front matter is blanked before.

Blocks come in document order. A list item carries its depth (1 = top level) and the lines of its
first paragraph; the item's further paragraphs follow as paragraph blocks with the same depth, its
nested items as items one deeper.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kg.ingest.inline import Line, Span, inline_lines
from kg.text import squash_spaces

_SKIPPED = ("fence", "code_block")
_HTML_HEADING = re.compile(r"^\s*<h([1-6])\b[^>]*>(.*?)</h\1\s*>\s*$", re.IGNORECASE | re.DOTALL)
_TAG = re.compile(r"<[^>]+>")


@dataclass
class Block:
    """kind: heading | para | item | table | html | rule."""

    kind: str
    start: int  # first line (1-based)
    end: int  # last line (1-based, inclusive)
    lines: list[Line] = field(default_factory=list)
    level: int = 0  # a heading's level
    depth: int = 0  # list depth: 0 outside lists, 1 for a top-level item (and its paragraphs)
    ordered: bool = False
    rows: list[list[list[Line]]] = field(default_factory=list)  # a table: rows of cells; row 0 is the header
    html: str = ""
    item_end: int = 0  # an item: the last line of the whole item (nested items included)


class _ListMarkdown(MarkdownIt):
    """CommonMark with tables and HTML; link URLs and texts are kept as written (no percent-encoding:
    a reading list's links are compared and shown as the list writes them)."""

    def normalizeLink(self, url: str) -> str:  # noqa: N802 - markdown-it's name
        return url

    def normalizeLinkText(self, link: str) -> str:  # noqa: N802 - markdown-it's name
        return link


def markdown_parser() -> MarkdownIt:
    return _ListMarkdown("commonmark", {"html": True}).enable("table")


def read_blocks(text: str, parser: MarkdownIt | None = None, offset: int = 0) -> list[Block]:
    """The blocks of a Markdown text, in order; line numbers start after `offset` lines."""
    tokens = (parser or markdown_parser()).parse(text)
    return list(_Walker(tokens, offset).blocks())


def sections(lines: list[str]) -> Iterator[tuple[int, list[str]]]:
    """The text cut before each heading at the start of a line (outside code fences), with the
    number of lines before each part: parsed one part at a time, a long list needs little memory.
    No Markdown block runs across such a heading."""
    start, fence = 0, ""
    for i, line in enumerate(lines):
        stripped = line.lstrip()
        if stripped.startswith(("```", "~~~")) and len(line) - len(stripped) < 4:
            mark = stripped[:3]
            fence = "" if fence == mark else fence or mark
        elif not fence and line.startswith("#") and i > start and _is_heading(line):
            yield start, lines[start:i]
            start = i
    yield start, lines[start:]


def _is_heading(line: str) -> bool:
    hashes = len(line) - len(line.lstrip("#"))
    return 1 <= hashes <= 6 and (len(line) == hashes or line[hashes] in " \t")


class _Walker:
    def __init__(self, tokens: list[Token], offset: int = 0):
        self.tokens = tokens
        self.offset = offset
        self.i = 0
        self.depth = 0
        self.lists: list[bool] = []  # ordered? per open list
        self.pending_item: Block | None = None  # an item whose first paragraph is still to come

    def _span(self, tok: Token) -> tuple[int, int]:
        return _span(tok, self.offset)

    def blocks(self) -> Iterator[Block]:
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            self.i += 1
            yield from self._block(tok)

    def _block(self, tok: Token) -> list[Block]:
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.lists.append(kind == "ordered_list_open")
        elif kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
        elif kind == "html_block":
            return self._with_item(self._html(tok))
        elif kind == "hr":
            return self._with_item(Block("rule", *self._span(tok)))
        elif kind in _SKIPPED or kind == "list_item_close":
            return self._flush_item()
        elif handler := self._handlers.get(kind):
            return handler(tok)
        return []

    @property
    def _handlers(self) -> dict[str, Callable[[Token], list[Block]]]:
        return {"list_item_open": self._item, "heading_open": self._heading,
                "paragraph_open": self._paragraph, "table_open": self._table}

    # -- list items: the first paragraph's lines go with the item --
    def _item(self, tok: Token) -> list[Block]:
        flushed = self._flush_item()
        start, end = self._span(tok)
        self.pending_item = Block("item", start, start, depth=len(self.lists),
                                  ordered=bool(self.lists and self.lists[-1]), item_end=end)
        return flushed

    def _flush_item(self) -> list[Block]:
        item, self.pending_item = self.pending_item, None
        return [item] if item is not None else []

    def _with_item(self, block: Block) -> list[Block]:
        """A block inside an item before its first paragraph: the (empty) item goes first."""
        return [*self._flush_item(), block]

    def _html(self, tok: Token) -> Block:
        """An HTML block; one that is only `<h2 id="…">Title</h2>` is a heading like Markdown's."""
        start, end = self._span(tok)
        m = _HTML_HEADING.match(tok.content)
        text = squash_spaces(html.unescape(_TAG.sub(" ", m[2]))) if m else ""
        if m and text:
            return Block("heading", start, end, [Line(start, [Span(text)])], level=int(m[1]))
        return Block("html", start, end, html=tok.content, depth=len(self.lists))

    # -- blocks with inline content --
    def _inline(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 2  # the inline token and the closing token
        return tok

    def _heading(self, tok: Token) -> list[Block]:
        start, end = self._span(tok)
        inline = self._inline()
        level = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 1
        block = Block("heading", start, end, inline_lines(inline.children, start), level=level)
        return self._with_item(block)

    def _paragraph(self, tok: Token) -> list[Block]:
        start, end = self._span(tok)
        inline = self._inline()
        lines = inline_lines(inline.children, start)
        item = self.pending_item
        if item is not None and item.start == start:
            self.pending_item = None
            item.lines, item.end = lines, end
            return [item]
        return self._with_item(Block("para", start, end, lines, depth=len(self.lists)))

    def _table(self, tok: Token) -> list[Block]:
        start, end = self._span(tok)
        rows: list[list[list[Line]]] = []
        row: list[list[Line]] = []
        row_line = start
        while self.i < len(self.tokens) and self.tokens[self.i].type != "table_close":
            cur = self.tokens[self.i]
            self.i += 1
            if cur.type == "tr_open":
                row, row_line = [], self._span(cur)[0]
            elif cur.type == "tr_close":
                rows.append(row)
            elif cur.type == "inline":
                row.append(inline_lines(cur.children, row_line) or [Line(row_line)])
        self.i += 1
        return self._with_item(Block("table", start, end, rows=rows, depth=len(self.lists)))


def _span(tok: Token, offset: int = 0) -> tuple[int, int]:
    """A block token's (first, last) line, 1-based."""
    if tok.map is None:
        return 0, 0
    return offset + tok.map[0] + 1, offset + max(tok.map[1], tok.map[0] + 1)
