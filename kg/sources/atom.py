"""Our own reading of the arXiv API's Atom feed (lxml, strict, no entities, no network).

The `arxiv` package is used only through its public surface: its `Result` type (with `Author` and
`Link`) is built here with its documented constructor. The page header (`opensearch:totalResults`,
`startIndex`, `itemsPerPage`) is kept, so a page with fewer entries than it announces is seen as
partial rather than taken as the answer.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import arxiv
from lxml import etree

ATOM = "http://www.w3.org/2005/Atom"
ARXIV = "http://arxiv.org/schemas/atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
_NS = {"atom": ATOM, "arxiv": ARXIV, "opensearch": OPENSEARCH}
_STRICT_XML = etree.XMLParser(resolve_entities=False, no_network=True, huge_tree=False)
_EPOCH = datetime(1, 1, 1)


@dataclass
class Feed:
    """One page of the API: its entries as `arxiv.Result`s and what the header announces."""

    results: list[arxiv.Result] = field(default_factory=list)
    total_results: int | None = None  # opensearch:totalResults (None when the header lacks it)
    start_index: int = 0
    items_per_page: int | None = None

    def partial(self, asked: int) -> bool:
        """True when the page holds fewer entries than it should: `totalResults` (from its start),
        at most the `asked` page size."""
        if self.total_results is None:
            return False
        return len(self.results) < min(self.total_results - self.start_index, asked)


class FeedError(ValueError):
    """Not a complete Atom feed (truncated XML, another document)."""


def check_feed(body: bytes, *, expect_entries: bool) -> str | None:
    """None if `body` is a complete Atom feed (with entries, when expected), else what is wrong."""
    try:
        root = etree.fromstring(body, parser=_STRICT_XML)
    except etree.XMLSyntaxError:
        return "truncated or invalid XML"
    if root is None or root.tag != f"{{{ATOM}}}feed":
        return "not an Atom feed"
    if expect_entries and root.find(f"{{{ATOM}}}entry") is None:
        return "unexpectedly empty page"
    return None


def parse_feed(body: bytes) -> Feed:
    """The page in `body`; FeedError when it is not a complete Atom feed."""
    try:
        root = etree.fromstring(body, parser=_STRICT_XML)
    except etree.XMLSyntaxError as exc:
        raise FeedError(f"truncated or invalid XML ({exc})") from exc
    if root is None or root.tag != f"{{{ATOM}}}feed":
        raise FeedError("not an Atom feed")
    return Feed(results=[_result(e) for e in root.findall("atom:entry", _NS)],
                total_results=_int(root, "opensearch:totalResults"),
                start_index=_int(root, "opensearch:startIndex") or 0,
                items_per_page=_int(root, "opensearch:itemsPerPage"))


def _text(elem: Any, path: str) -> str:
    found = elem.find(path, _NS)
    return found.text or "" if found is not None else ""


def _int(elem: Any, path: str) -> int | None:
    text = _text(elem, path).strip()
    return int(text) if text.isdigit() else None


def _when(text: str) -> datetime:
    try:
        return datetime.fromisoformat(text.strip().replace("Z", "+00:00")).astimezone(UTC)
    except ValueError:
        return _EPOCH


def _result(entry: Any) -> arxiv.Result:
    primary = entry.find("arxiv:primary_category", _NS)
    authors = [arxiv.Result.Author(_text(a, "atom:name"),
                                   [x.text or "" for x in a.findall("arxiv:affiliation", _NS)])
               for a in entry.findall("atom:author", _NS)]
    links = [arxiv.Result.Link(link.get("href", ""), title=link.get("title"), rel=link.get("rel", ""),
                               content_type=link.get("type"))
             for link in entry.findall("atom:link", _NS)]
    return arxiv.Result(
        entry_id=_text(entry, "atom:id"), updated=_when(_text(entry, "atom:updated")),
        published=_when(_text(entry, "atom:published")), title=_text(entry, "atom:title"),
        authors=authors, summary=_text(entry, "atom:summary"), comment=_text(entry, "arxiv:comment"),
        journal_ref=_text(entry, "arxiv:journal_ref"), doi=_text(entry, "arxiv:doi"),
        primary_category=primary.get("term", "") if primary is not None else "",
        categories=[c.get("term", "") for c in entry.findall("atom:category", _NS)], links=links)
