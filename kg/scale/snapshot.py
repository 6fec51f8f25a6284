"""The JSON-lines snapshot to and from a Parquet corpus folder (`kg parquet export|import`).

The snapshot (data/corpus/*.jsonl) stays the default for small corpora; a Parquet folder is what an
engine reads at scale and what `kg fetch --query` writes. Export then import gives the same snapshot
files byte for byte (tests/scale/test_parquet.py).
"""

from __future__ import annotations

import json
import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pyarrow as pa

from kg.errors import BadInputError
from kg.model import Edge, Paper, System
from kg.scale.parquet import (
    edges_table,
    papers_table,
    read_edges,
    read_papers,
    read_table,
    vectors_table,
    write_parts,
)
from kg.search.index import index_dir, read_manifest
from kg.search.inputs import corpus_documents
from kg.store import Store

SYSTEM_SCHEMA = pa.schema([pa.field("id", pa.string()), pa.field("record", pa.string())])


@dataclass
class Counts:
    """How many rows of each table were written or read."""

    papers: int = 0
    systems: int = 0
    edges: int = 0
    vectors: int = 0


def export_parquet(store: Store, out: Path, *, rows_per_part: int = 50_000) -> Counts:
    """Write the snapshot (and the search index's document vectors, if built) as a Parquet folder.

    The folder is written beside `out` and then swapped in, so a kill leaves the old folder or the new."""
    papers, systems, edges = store.load_papers(), store.load_systems(), store.load_edges()
    tmp = out.with_name(f".{out.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    write_parts(tmp / "papers", papers_table(papers), rows_per_part=rows_per_part)
    rows = [{"id": s.id, "record": json.dumps(s.to_dict(), ensure_ascii=False)} for s in systems]
    systems_rows = pa.Table.from_pylist(rows, schema=SYSTEM_SCHEMA)
    write_parts(tmp / "systems", systems_rows, rows_per_part=rows_per_part)
    write_parts(tmp / "edges", edges_table(edges), rows_per_part=rows_per_part)
    ids, vectors = index_vectors(store)
    if ids:
        write_parts(tmp / "vectors", vectors_table(ids, vectors), rows_per_part=rows_per_part)
    _swap_in(tmp, out)
    return Counts(len(papers), len(systems), len(edges), len(ids))


def _swap_in(tmp: Path, out: Path) -> None:
    old = out.with_name(f".{out.name}.old-{os.getpid()}")
    if out.exists():
        os.replace(out, old)
    os.replace(tmp, out)
    shutil.rmtree(old, ignore_errors=True)


def index_vectors(store: Store) -> tuple[list[str], np.ndarray]:
    """(document ids, document vectors) of the current search index; empty when none is built."""
    manifest = read_manifest(store)
    if manifest is None:
        return [], np.zeros((0, 0), np.float32)
    folder = index_dir(store) / manifest.build_id
    vectors = np.load(folder / "doc_vectors.npy")
    ids = [d.id for d in corpus_documents(store)]  # the index's order: the one document builder's
    if len(ids) != len(vectors):
        raise BadInputError("the search index does not match the corpus; run `kg build`", str(folder))
    return ids, vectors


def import_parquet(store: Store, src: Path) -> Counts:
    """Add the papers, systems and edges of a Parquet folder to the snapshot.

    A paper or system already in the snapshot keeps its record (the snapshot holds the reading lists'
    notes); edges are added unless the same edge is there already."""
    if not (src / "papers").is_dir():
        raise BadInputError("not a Parquet corpus folder (no papers/ inside)", str(src))
    papers = {p.id: p for p in store.load_papers()}
    new_papers = [p for p in read_papers(src / "papers") if p.id not in papers]
    systems = {s.id: s for s in store.load_systems()}
    new_systems = [s for s in _read_systems(src / "systems") if s.id not in systems]
    edges = store.load_edges()
    seen = {_edge_key(e) for e in edges}
    new_edges = [e for e in read_edges(src / "edges") if _edge_key(e) not in seen]
    store.save_papers([*papers.values(), *_unique(new_papers)])
    store.save_systems([*systems.values(), *new_systems])
    store.save_edges([*edges, *new_edges])
    return Counts(len(new_papers), len(new_systems), len(new_edges), 0)


def _unique(papers: list[Paper]) -> list[Paper]:
    return list({p.id: p for p in papers}.values())


def _read_systems(folder: Path) -> list[System]:
    rows = read_table(folder, SYSTEM_SCHEMA).to_pylist()
    return [System.from_dict(json.loads(r["record"])) for r in rows]


def _edge_key(edge: Edge) -> tuple[str, str, str, str]:
    return (edge.kind, edge.source, edge.target, edge.relation or "")
