"""Fixtures shared by every test folder."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

# Tests never reach the internet: the Hugging Face libraries read these when first imported, which is after
# this file (the bundled model loads from its package; a name that is not bundled fails fast, offline).
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

REPO = Path(__file__).resolve().parent.parent
DATA = REPO / "data"


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A private copy of the default inputs (lists, facts, curated files) and snapshot."""
    root = tmp_path / "data"
    root.mkdir()
    for name in ("reading-lists", "facts", "corpus"):
        if (DATA / name).exists():
            shutil.copytree(DATA / name, root / name)
    for name in ("systems.csv", "lineage.csv"):
        if (DATA / name).exists():
            shutil.copy(DATA / name, root / name)
    return root


def fake_build(root: Path) -> None:
    """`kg build` of `root` with the deterministic fake encoder (the one build plan, kg.pipeline)."""
    from kg.pipeline import BuildPlan
    from kg.store import Store
    from testkit.encoders import FakeEncoder

    BuildPlan(Store.at(root), make_encoder=lambda name: FakeEncoder(name=name or "fake")).run()


@pytest.fixture
def built_copy(data_copy: Path) -> Path:
    """`data_copy`, built as `kg build` leaves it (fake encoder)."""
    fake_build(data_copy)
    return data_copy
