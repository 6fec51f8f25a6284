"""Parquet as the interchange: the snapshot round-trips through a Parquet folder byte for byte."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
from click.testing import CliRunner

from kg.cli import cli
from kg.model import Edge, Note, Paper
from kg.scale.parquet import (
    papers_table,
    part_files,
    read_papers,
    read_vectors,
    vectors_table,
    write_parts,
)
from kg.store import Store


def test_the_default_snapshot_round_trips_through_parquet(data_copy: Path, tmp_path: Path):
    out = tmp_path / "pq"
    res = CliRunner().invoke(cli, ["--data-dir", str(data_copy), "parquet", "export", str(out),
                                   "--rows-per-part", "40"])
    assert res.exit_code == 0, res.output
    assert len(part_files(out / "papers")) >= 3  # partitioned: an engine can split the work by file
    fresh = tmp_path / "fresh"
    res = CliRunner().invoke(cli, ["--data-dir", str(fresh), "parquet", "import", str(out)])
    assert res.exit_code == 0, res.output
    for name in ("papers.jsonl", "systems.jsonl", "edges.jsonl"):
        original = data_copy / "corpus" / name
        if original.exists():
            assert (fresh / "corpus" / name).read_bytes() == original.read_bytes(), name


def test_import_keeps_the_snapshot_s_records_and_adds_new_ones(tmp_path: Path):
    store = Store.at(tmp_path / "data")
    store.save_papers([Paper(id="2112.10752", title="Ours", notes=[Note("our note", "a.md", 3)])])
    store.save_edges([Edge("2112.10752", "2006.11239", "cites", "semantic_scholar:x")])
    src = tmp_path / "src"
    write_parts(src / "papers", papers_table([Paper(id="2112.10752", title="Theirs"),
                                               Paper(id="2006.11239", title="DDPM", provenance={"title": "t"})]))
    res = CliRunner().invoke(cli, ["--data-dir", str(store.root), "parquet", "import", str(src)])
    assert res.exit_code == 0 and "added 1 papers" in res.output
    papers = {p.id: p for p in store.load_papers()}
    assert papers["2112.10752"].title == "Ours" and papers["2112.10752"].notes[0].text == "our note"
    assert papers["2006.11239"].provenance == {"title": "t"}


def test_vectors_round_trip_exactly_and_nested_fields_survive(tmp_path: Path):
    rng = np.random.default_rng(0)
    vectors = rng.standard_normal((7, 5)).astype(np.float32)
    write_parts(tmp_path / "vectors", vectors_table([f"p{i}" for i in range(7)], vectors), rows_per_part=3)
    ids, back = read_vectors(tmp_path / "vectors")
    assert ids == [f"p{i}" for i in range(7)] and np.array_equal(back, vectors)
    paper = Paper(id="x", title="Ü ñ", notes=[Note("n", "f.md", 1, "S")], citation_count=4, authors=["A"])
    write_parts(tmp_path / "papers", papers_table([paper]))
    assert read_papers(tmp_path / "papers") == [paper]
    assert pq.read_schema(part_files(tmp_path / "papers")[0]).field("citation_count").type == "int64"


def test_a_corrupt_part_is_one_line_naming_the_file(tmp_path: Path):
    (tmp_path / "src" / "papers").mkdir(parents=True)
    (tmp_path / "src" / "papers" / "part-00000.parquet").write_bytes(b"not parquet")
    res = CliRunner().invoke(cli, ["--data-dir", str(tmp_path / "d"), "parquet", "import", str(tmp_path / "src")])
    assert res.exit_code != 0 and "part-00000.parquet" in res.output and "Traceback" not in res.output
