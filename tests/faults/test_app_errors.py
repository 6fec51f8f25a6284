"""The app shows a damaged data directory as a short message, never a traceback."""

from __future__ import annotations

from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.faults.helpers import REPO, damage, patch_encoders

APP = str(REPO / "app.py")


@pytest.mark.parametrize(("rel", "how"), [("corpus/papers.jsonl", "garbage"), ("corpus/papers.jsonl", "wrong-type"),
                                          ("graph.json", "truncated")])
def test_a_damaged_file_is_a_short_message_in_the_app(built_copy: Path, monkeypatch, rel, how):
    from kg.store import Store

    patch_encoders(monkeypatch)
    store = Store.at(built_copy)
    path = store.build_path(rel) if rel == "graph.json" else built_copy / rel
    damage(path, how)
    monkeypatch.setenv("KG_DATA_DIR", str(built_copy))
    st.cache_resource.clear()
    try:
        at = AppTest.from_file(APP, default_timeout=60)
        at.query_params["lineage"] = "SDXL"  # a page that needs the graph
        at.run()
    finally:
        st.cache_resource.clear()
    assert not at.exception, [e.value for e in at.exception]
    shown = [str(e.value).replace("\\", "") for e in [*at.error, *at.warning]]
    assert shown and any(("papers.jsonl" in m or "graph" in m) for m in shown), shown
    assert all("Traceback" not in m for m in shown)


