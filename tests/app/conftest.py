"""Fixtures for the app's tests: built data directories and AppTest runs on them.

AppTest runs app.py in this process; the data directory reaches it through KG_DATA_DIR and the
embedding model is replaced by the deterministic FakeEncoder. The patch does not depend on import
order: everything app.py imports is imported here first, then every module-level binding of
`load_encoder` (`from kg.search.encoders import load_encoder` copies the function into the importing
module) is replaced for the test and restored after it. The browser test (test_browser.py) uses the
real model instead.
"""

from __future__ import annotations

import shutil
import sys
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

import kg.search.encoders
import kgapp.pages  # noqa: F401 - app.py's imports, loaded before any patch (see the module's docstring)
import kgapp.state  # noqa: F401
from testkit.appdata import REPO, make_app_data
from testkit.encoders import FakeEncoder

APP = str(REPO / "app.py")


def fake_encoder(model: str | None = None, **kwargs: object) -> FakeEncoder:
    return FakeEncoder()


@pytest.fixture(scope="session")
def built_data(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Default corpus + the hostile paper, built with the fake encoder (shared, copied per test)."""
    root = tmp_path_factory.mktemp("app-data") / "data"
    make_app_data(root, FakeEncoder())
    return root


@pytest.fixture
def app_data(built_data: Path, tmp_path: Path) -> Path:
    """A private copy of `built_data` (exports write the key registry into it)."""
    root = tmp_path / "data"
    shutil.copytree(built_data, root)
    return root


@pytest.fixture
def run_app(monkeypatch: pytest.MonkeyPatch, app_data: Path) -> Iterator[Callable[..., AppTest]]:
    """`run_app(**query_params)`: a first run of app.py over `app_data`, fake encoder in place."""
    yield from _runner(monkeypatch, app_data)


def patch_encoder_loader(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Replace `load_encoder` by `fake_encoder` in every loaded module that holds it; their names."""
    real = kg.search.encoders.load_encoder
    patched = []
    for name, module in list(sys.modules.items()):
        if (name.startswith(("kg.", "kgapp.")) or name == "kg") and getattr(module, "load_encoder", None) is real:
            monkeypatch.setattr(module, "load_encoder", fake_encoder)
            patched.append(name)
    return patched


def _runner(monkeypatch: pytest.MonkeyPatch, root: Path) -> Iterator[Callable[..., AppTest]]:
    monkeypatch.setenv("KG_DATA_DIR", str(root))
    st.cache_resource.clear()
    patch_encoder_loader(monkeypatch)

    def run(**params: str) -> AppTest:
        at = AppTest.from_file(APP, default_timeout=60)
        for key, value in params.items():
            at.query_params[key] = value
        return at.run()

    yield run
    st.cache_resource.clear()


@pytest.fixture
def run_unbuilt(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[Callable[..., AppTest]]:
    """Like `run_app`, over a data directory with no build/ yet (the first start)."""
    root = tmp_path / "fresh"
    make_app_data(root, None, build=False)
    yield from _runner(monkeypatch, root)
