"""A loopback arXiv that answers any `search_query` with its whole table, in submission order
(what a `cat:… AND submittedDate:[…]` listing looks like to a client that pages through it)."""

from __future__ import annotations

from typing import Any

from testkit.servers import FakeArxiv, synthetic_arxiv_table


class FakeListing(FakeArxiv):
    """FakeArxiv whose search matches every paper; `id_list` requests behave as before."""

    def _find(self, id_list: str, search_query: str) -> list[dict[str, Any]]:
        if id_list:
            return super()._find(id_list, "")
        return [self.table[k] for k in sorted(self.table)]

    def starts(self) -> list[int]:
        """The `start` of every search request received, in order."""
        return [int(q.get("start", 0)) for q in self.queries() if "search_query" in q]


def listing_table(n: int) -> list[dict[str, Any]]:
    return synthetic_arxiv_table(n)
