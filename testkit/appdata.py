"""Test data for the app: a copy of the default corpus plus one hostile record, built and ready.

The hostile record is a paper titled `<script>alert(1)</script> & <b>x</b>` with a note in the same
spirit and a curated lineage row to SDXL (its evidence stands in a reading list of its own), so the
title reaches every place the app shows data: search results, the paper page, the lineage drawing,
the timeline and the export. Used by the AppTest tests, the browser test and benchmarks/bench_app.py.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from kg.graph.build import build_from_store, save_graph
from kg.model import Listing, Note, Paper
from kg.search.build import build_search_index
from kg.search.encoders import Encoder
from kg.store import Store, write_text

REPO = Path(__file__).resolve().parents[1]
XSS_TITLE = "<script>alert(1)</script> & <b>x</b>"
XSS_ID = "title:xss-probe"
XSS_TOPIC = "Hostile <i>titles</i>"  # its own topic: alone on its timeline row
XSS_LIST = "reading-lists/zz-hostile.md"
XSS_NOTE = "It extends SDXL; see <img src=x onerror=alert(2)> and `code` **bold** $x$ :red[red]."
SDXL = "2307.01952"


def copy_default_data(root: Path) -> Store:
    """The repository's inputs and snapshot (not its build) copied under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("reading-lists", "facts", "corpus"):
        if (REPO / "data" / name).exists():
            shutil.copytree(REPO / "data" / name, root / name)
    for name in ("systems.csv", "lineage.csv"):
        if (REPO / "data" / name).exists():
            shutil.copy(REPO / "data" / name, root / name)
    return Store.at(root)


def add_hostile_paper(store: Store) -> Paper:
    """Add the hostile paper, its reading list and its curated lineage row to the store."""
    line = f"- {XSS_TITLE} extends SDXL"
    write_text(store.root / XSS_LIST, f"# Hostile titles\n\n{line}\n\n{XSS_NOTE}\n")
    paper = Paper(id=XSS_ID, title=XSS_TITLE, published="2024-03-01", published_precision="day",
                  status="listed", topics=[XSS_TOPIC], venue="<i>Venue</i> & Co",
                  authors=["Ada <b>Lovelace</b>"],
                  notes=[Note(text=XSS_NOTE, file=XSS_LIST, line=5, section=XSS_TOPIC)],
                  listings=[Listing(file=XSS_LIST, line=3, title=XSS_TITLE, section=XSS_TOPIC)],
                  provenance={"title": f"list:{XSS_LIST}:3"})
    store.save_papers([*store.load_papers(), paper])
    rows = store.lineage_path.read_text(encoding="utf-8").rstrip("\n").split("\n")
    rows.append(f'{XSS_ID},{SDXL},extends,stated,"{XSS_TITLE} extends SDXL",{XSS_LIST}:3,hostile test row')
    write_text(store.lineage_path, "\n".join(rows) + "\n")
    return paper


def build_all(store: Store, encoder: Encoder) -> None:
    """The search index (with `encoder`) and the graph, as `kg build` leaves them."""
    build_search_index(store, encoder, force=True)
    save_graph(store, build_from_store(store))


def make_app_data(root: Path, encoder: Encoder | None, *, build: bool = True) -> Store:
    """Default corpus + the hostile paper under `root`; built with `encoder` unless `build` is False."""
    store = copy_default_data(root)
    add_hostile_paper(store)
    if build and encoder is not None:
        build_all(store, encoder)
    return store
