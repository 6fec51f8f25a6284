"""Search ranking as the app shows it (issue 13 point 6): an exact short name ranks first, and model
releases are searchable. AppTest over the default corpus with the fake encoder (see conftest.py)."""

from __future__ import annotations

from testkit.appdata import SDXL


def hit_ids(at) -> list[str]:
    return [b.key.removeprefix("sel-") for b in at.checkbox if b.key and b.key.startswith("sel-")]


def test_the_query_sdxl_ranks_sdxl_first(run_app):
    at = run_app(q="SDXL")
    assert not at.exception, [e.value for e in at.exception]
    ids = hit_ids(at)
    assert ids[0] == SDXL and "2402.13929" in ids  # SDXL above SDXL-Lightning


def test_a_model_release_can_be_found(run_app):
    at = run_app(q="SDXL-Turbo")
    assert not at.exception, [e.value for e in at.exception]
    assert hit_ids(at)[0] == "system:sdxl-turbo"
    at = run_app(q="stable diffusion 2.1 release")
    assert "system:sd-2-1" in hit_ids(at)
