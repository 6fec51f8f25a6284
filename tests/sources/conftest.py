"""Fixtures for the online-source tests: loopback servers and recorded sleeps.

Only sleeping is patched (`time.sleep` and `kg.sources.http.sleep` record the seconds asked for and
return at once); the real `arxiv`-based client and the real HTTP stack talk to the servers.
"""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest

from kg.sources import http
from testkit.servers import FakeArxiv, FakeSemanticScholar
from tests.sources.helpers import SleepLog


@pytest.fixture(autouse=True)
def sleeps(monkeypatch: pytest.MonkeyPatch) -> SleepLog:
    log = SleepLog()
    monkeypatch.setattr(http, "sleep", log)
    monkeypatch.setattr(time, "sleep", log)
    return log


@pytest.fixture
def fake_arxiv() -> Iterator[FakeArxiv]:
    with FakeArxiv() as server:
        yield server


@pytest.fixture
def fake_s2() -> Iterator[FakeSemanticScholar]:
    with FakeSemanticScholar() as server:
        yield server
