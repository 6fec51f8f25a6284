"""One topic rule (kg.text.topic_matches) for `kg list --topic`, `kg search --topic` and the app."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import kg.search.encoders
import kg.search.engine
from kg.cli import cli
from kg.text import topic_matches
from testkit.encoders import FakeEncoder


@pytest.fixture(autouse=True)
def fake_model(monkeypatch):
    fake = lambda model=None, **_: FakeEncoder(name=model or "fake")  # noqa: E731
    monkeypatch.setattr(kg.search.engine, "load_encoder", fake)
    monkeypatch.setattr(kg.search.encoders, "load_encoder", fake)  # where kg.pipeline loads it


def run(store, *args: str) -> str:
    res = CliRunner().invoke(cli, ["--data-dir", str(store.root), *args])
    assert res.exit_code == 0, res.output
    return res.stdout


@pytest.mark.parametrize("wanted", ["stable-diffusion", "Stable Diffusion", "stable diffusion", "STABLE_DIFFUSION"])
def test_kg_list_and_kg_search_agree_on_a_topic(store, wanted):
    run(store, "build")
    listed = {json.loads(line)["id"] for line in run(store, "list", "--topic", wanted, "--json").splitlines()}
    out = run(store, "search", "diffusion models", "--topic", wanted, "-k", "50", "--mode", "bm25", "--json")
    found = {h["id"] for h in json.loads(out)["hits"]}
    assert listed == {"2112.10752"}
    assert found == listed


def test_the_topic_rule():
    section = "Image Generation > Series of Stable Diffusion Models"
    assert topic_matches("stable-diffusion", section) and topic_matches("SERIES of stable", section)
    assert not topic_matches("diffusion stable", section) and not topic_matches("", section)
