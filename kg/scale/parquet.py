"""The corpus as Parquet: papers, edges and vectors, each a folder of part files.

Layout of a Parquet corpus folder (see docs/scale.md):

    papers/part-00000.parquet …    one row per paper (`kg.model.Paper`)
    edges/part-00000.parquet …     one row per stored edge (`kg.model.Edge`)
    vectors/part-00000.parquet …   (id, vector) document vectors of the search index

Each part holds at most `rows_per_part` rows, so an engine (Ray Data, DuckDB, Spark) can split the work
by file. Every part is written atomically (kg.store.atomic_open); `kg fetch --query` appends parts
named `page-<start>.parquet` one page at a time. Scalar fields are typed columns; the nested ones
(notes, listings, mentions, provenance) are JSON text, so a paper read back equals the paper written
and the JSON-lines snapshot round-trips through Parquet byte for byte.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq

from kg.errors import BadInputError
from kg.model import Edge, Paper
from kg.store import atomic_open

ROWS_PER_PART = 50_000
PAPER_STRINGS = ("id", "title", "arxiv_id", "version", "published", "published_precision", "updated",
                 "primary_category", "venue", "doi", "journal_ref", "comment", "summary", "pdf_url",
                 "status", "fetched_at", "kind")
PAPER_LISTS = ("authors", "categories", "aliases", "urls", "topics")
PAPER_INTS = ("citation_count", "influential_citation_count")
PAPER_JSON = ("notes", "listings", "mentions", "provenance")
EDGE_STRINGS = ("source", "target", "kind", "provenance", "relation", "evidence", "evidence_ref")

PAPER_SCHEMA = pa.schema(
    [pa.field(n, pa.string()) for n in PAPER_STRINGS]
    + [pa.field(n, pa.list_(pa.string())) for n in PAPER_LISTS]
    + [pa.field(n, pa.int64()) for n in PAPER_INTS]
    + [pa.field(n, pa.string()) for n in PAPER_JSON]
)
EDGE_SCHEMA = pa.schema([pa.field(n, pa.string()) for n in EDGE_STRINGS] + [pa.field("score", pa.float64())])


def vector_schema(dimension: int) -> pa.Schema:
    return pa.schema([pa.field("id", pa.string()), pa.field("vector", pa.list_(pa.float32(), dimension))])


# ---- rows ------------------------------------------------------------------------------------
def paper_row(paper: Paper) -> dict[str, Any]:
    data = paper.to_dict()
    for name in PAPER_JSON:
        data[name] = json.dumps(data[name], ensure_ascii=False, sort_keys=False)
    return {name: data[name] for name in PAPER_SCHEMA.names}


def paper_from_row(row: dict[str, Any]) -> Paper:
    data = dict(row)
    for name in PAPER_JSON:
        data[name] = json.loads(data[name]) if data.get(name) else ({} if name == "provenance" else [])
    for name in PAPER_LISTS:
        data[name] = list(data.get(name) or [])
    return Paper.from_dict(data)


def papers_table(papers: Iterable[Paper]) -> pa.Table:
    return pa.Table.from_pylist([paper_row(p) for p in papers], schema=PAPER_SCHEMA)


def edges_table(edges: Iterable[Edge]) -> pa.Table:
    return pa.Table.from_pylist([e.to_dict() for e in edges], schema=EDGE_SCHEMA)


def vectors_table(ids: Sequence[str], vectors: np.ndarray) -> pa.Table:
    matrix = np.ascontiguousarray(vectors, dtype=np.float32)
    dim = int(matrix.shape[1]) if matrix.ndim == 2 else 0
    flat = pa.array(matrix.reshape(-1), type=pa.float32())
    column = pa.FixedSizeListArray.from_arrays(flat, dim)
    return pa.Table.from_arrays([pa.array(list(ids), pa.string()), column], schema=vector_schema(dim))


# ---- files -----------------------------------------------------------------------------------
def write_part(path: Path, table: pa.Table) -> None:
    """One Parquet file, written atomically (a kill leaves the old file or the new one)."""
    with atomic_open(path, "wb") as fh:
        pq.write_table(table, fh, compression="zstd")


def write_parts(folder: Path, table: pa.Table, *, rows_per_part: int = ROWS_PER_PART) -> list[Path]:
    """`table` as part-00000.parquet, part-00001.parquet … in `folder` (created; old parts removed)."""
    folder.mkdir(parents=True, exist_ok=True)
    for old in folder.glob("part-*.parquet"):
        old.unlink()
    paths = []
    for n, start in enumerate(range(0, max(table.num_rows, 1), rows_per_part)):
        path = folder / f"part-{n:05d}.parquet"
        write_part(path, table.slice(start, rows_per_part))
        paths.append(path)
    return paths


def part_files(folder: Path) -> list[Path]:
    """The Parquet parts of a table folder, in name order (temporary files left out)."""
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.glob("*.parquet") if not p.name.startswith("."))


def read_part(path: Path, schema: pa.Schema | None = None) -> pa.Table:
    """One Parquet file; an unreadable one is a BadInputError naming it."""
    try:
        return pq.read_table(path, schema=schema)
    except (pa.ArrowInvalid, OSError) as exc:
        raise BadInputError(f"unreadable Parquet part ({type(exc).__name__})", str(path)) from exc


def read_table(folder: Path, schema: pa.Schema) -> pa.Table:
    """Every part of `folder` as one table (empty with `schema` when there is none)."""
    tables = [read_part(path, schema) for path in part_files(folder)]
    return pa.concat_tables(tables) if tables else schema.empty_table()


def iter_papers(folder: Path) -> Iterator[Paper]:
    """Papers of a `papers/` folder, part by part (one part in memory at a time)."""
    for path in part_files(folder):
        for row in read_part(path, PAPER_SCHEMA).to_pylist():
            yield paper_from_row(row)


def read_papers(folder: Path) -> list[Paper]:
    return list(iter_papers(folder))


def read_edges(folder: Path) -> list[Edge]:
    return [Edge.from_dict(row) for row in read_table(folder, EDGE_SCHEMA).to_pylist()]


def read_vectors(folder: Path) -> tuple[list[str], np.ndarray]:
    """(ids, float32 matrix) of a `vectors/` folder."""
    parts = [read_part(p) for p in part_files(folder)]
    if not parts:
        return [], np.zeros((0, 0), np.float32)
    table = pa.concat_tables(parts)
    column = table.column("vector").combine_chunks()
    dim = column.type.list_size
    matrix = column.values.to_numpy(zero_copy_only=False).reshape(-1, dim).astype(np.float32)
    return [str(i) for i in table.column("id").to_pylist()], matrix
