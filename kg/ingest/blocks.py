"""A reading list's block structure, read by markdown-it: headings, paragraphs, list items, tables,
HTML blocks and rules, each with its line span. Code is skipped; front matter is blanked before.

Blocks come in document order. A list item carries its depth (1 = top level) and the lines of its
first paragraph; the item's further paragraphs follow as paragraph blocks with the same depth, its
nested items as items one deeper.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

from markdown_it import MarkdownIt
from markdown_it.token import Token

from kg.ingest.inline import Line, inline_lines

_SKIPPED = ("fence", "code_block")


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


def markdown_parser() -> MarkdownIt:
    return MarkdownIt("commonmark", {"html": True}).enable("table")


def read_blocks(text: str, parser: MarkdownIt | None = None) -> list[Block]:
    """The blocks of a Markdown text, in order."""
    tokens = (parser or markdown_parser()).parse(text)
    return list(_Walker(tokens).blocks())


class _Walker:
    def __init__(self, tokens: list[Token]):
        self.tokens = tokens
        self.i = 0
        self.depth = 0
        self.lists: list[bool] = []  # ordered? per open list
        self.pending_item: Block | None = None  # an item whose first paragraph is still to come

    def blocks(self) -> Iterator[Block]:
        while self.i < len(self.tokens):
            tok = self.tokens[self.i]
            self.i += 1
            yield from self._block(tok)

    def _block(self, tok: Token) -> list[Block]:
        """The blocks one token closes or opens: list nesting is kept here, the rest has a handler."""
        kind = tok.type
        if kind in ("bullet_list_open", "ordered_list_open"):
            self.lists.append(kind == "ordered_list_open")
            return []
        if kind in ("bullet_list_close", "ordered_list_close"):
            self.lists.pop()
            return []
        if kind == "list_item_close" or kind in _SKIPPED:
            return self._flush_item()
        handler = {"list_item_open": self._item, "heading_open": self._heading,
                   "paragraph_open": self._paragraph, "table_open": self._table, "html_block": self._html,
                   "hr": self._rule}.get(kind)
        return handler(tok) if handler is not None else []

    def _html(self, tok: Token) -> list[Block]:
        return self._with_item(Block("html", *_span(tok), html=tok.content, depth=len(self.lists)))

    def _rule(self, tok: Token) -> list[Block]:
        return self._with_item(Block("rule", *_span(tok)))

    # -- list items: the first paragraph's lines go with the item --
    def _item(self, tok: Token) -> list[Block]:
        flushed = self._flush_item()
        start, end = _span(tok)
        self.pending_item = Block("item", start, start, depth=len(self.lists),
                                  ordered=bool(self.lists and self.lists[-1]), item_end=end)
        return flushed

    def _flush_item(self) -> list[Block]:
        item, self.pending_item = self.pending_item, None
        return [item] if item is not None else []

    def _with_item(self, block: Block) -> list[Block]:
        """A block inside an item before its first paragraph: the (empty) item goes first."""
        return [*self._flush_item(), block]

    # -- blocks with inline content --
    def _inline(self) -> Token:
        tok = self.tokens[self.i]
        self.i += 2  # the inline token and the closing token
        return tok

    def _heading(self, tok: Token) -> list[Block]:
        start, end = _span(tok)
        inline = self._inline()
        level = int(tok.tag[1:]) if tok.tag[1:].isdigit() else 1
        block = Block("heading", start, end, inline_lines(inline.children, start), level=level)
        return self._with_item(block)

    def _paragraph(self, tok: Token) -> list[Block]:
        start, end = _span(tok)
        inline = self._inline()
        lines = inline_lines(inline.children, start)
        item = self.pending_item
        if item is not None and item.start == start:
            self.pending_item = None
            item.lines, item.end = lines, end
            return [item]
        return self._with_item(Block("para", start, end, lines, depth=len(self.lists)))

    def _table(self, tok: Token) -> list[Block]:
        start, end = _span(tok)
        rows: list[list[list[Line]]] = []
        row: list[list[Line]] = []
        row_line = start
        while self.i < len(self.tokens) and self.tokens[self.i].type != "table_close":
            cur = self.tokens[self.i]
            self.i += 1
            if cur.type == "tr_open":
                row, row_line = [], _span(cur)[0]
            elif cur.type == "tr_close":
                rows.append(row)
            elif cur.type == "inline":
                row.append(inline_lines(cur.children, row_line) or [Line(row_line)])
        self.i += 1
        return self._with_item(Block("table", start, end, rows=rows, depth=len(self.lists)))


def _span(tok: Token) -> tuple[int, int]:
    """A block token's (first, last) line, 1-based."""
    if tok.map is None:
        return 0, 0
    return tok.map[0] + 1, max(tok.map[1], tok.map[0] + 1)
