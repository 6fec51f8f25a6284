"""Fixtures of the scale tests: patched sleeps (never the client) and a loopback arXiv listing."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from kg.sources import http
from tests.scale.fake_listing import FakeListing, listing_table


@pytest.fixture(autouse=True)
def no_sleep(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    asked: list[float] = []
    monkeypatch.setattr(http, "sleep", asked.append)
    return asked


@pytest.fixture(scope="module")
def listing() -> Iterator[FakeListing]:
    with FakeListing(listing_table(10_000)) as server:
        yield server
