"""Helpers shared by the source tests: settings for the loopback servers, small corpora."""

from __future__ import annotations

from pathlib import Path

from kg.model import Paper
from kg.sources.arxiv import ArxivSettings
from kg.sources.semantic_scholar import S2Settings
from kg.store import Store
from testkit.servers import FakeArxiv, FakeSemanticScholar


class SleepLog(list[float]):
    """The seconds every patched sleep was asked to wait, in order."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


def arxiv_settings(server: FakeArxiv, **overrides: object) -> ArxivSettings:
    """Settings for a test server: the real defaults except a short timeout and three retries."""
    values: dict[str, object] = {"query_url_format": server.url_format, "timeout": 1.0, "num_retries": 3}
    values.update(overrides)
    return ArxivSettings(**values)  # type: ignore[arg-type]


def s2_settings(server: FakeSemanticScholar, **overrides: object) -> S2Settings:
    values: dict[str, object] = {"base_url": server.base_url, "timeout": 1.0, "num_retries": 3}
    values.update(overrides)
    return S2Settings(**values)  # type: ignore[arg-type]


def make_store(root: Path, papers: list[Paper]) -> Store:
    store = Store.at(root / "data")
    store.save_papers(papers)
    return store


def listed(arxiv_id: str, title: str = "", **fields: object) -> Paper:
    """A paper as `kg ingest` leaves it before any fetch."""
    return Paper(id=arxiv_id, arxiv_id=arxiv_id, title=title, **fields)  # type: ignore[arg-type]


def by_title(slug: str, title: str) -> Paper:
    """A paper known only by its title (`title:<slug>`)."""
    return Paper(id=f"title:{slug}", title=title)
