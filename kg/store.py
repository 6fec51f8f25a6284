"""The one module that knows where files live: the data directory's layout and its records.

Every write goes through kg.files (re-exported here: `from kg.store import write_json` works as
before), so it is atomic (a temporary file in the same folder, fsync, then `os.replace`): a killed
run or a reader in another process (the app) never sees a half-written file. Writes that belong
together commit together:

- corpus files: `with store.batch():` defers every write under the data directory (kg.journal); at
  the end the temporaries are named in one journal (`.kg-commit.json`, written atomically: the commit
  point), then moved into place. A kill before the journal leaves the old files (the temporaries are
  removed by `kg.journal.recover`), a kill after it leaves a journal that `recover` rolls forward.
- build outputs: a *generation* (kg.generations): a command builds every file in a fresh folder
  `build/generations/<id>/` and a checksummed manifest, then switches the pointer `build/CURRENT` in
  one `os.replace`. `Store.build_dir` is the current generation, so readers follow the pointer.
- one writer per data directory: kg.lock (`.kg.lock`, with who holds it).

Layout under the data directory (see data/README.md):
    reading-lists/*.md         the user's reading lists (input)
    facts/*.jsonl              bibliographic facts gathered by hand (input, read-only)
    lineage.csv                curated lineage, each row with its evidence
    corpus/papers.jsonl        the snapshot: one record per paper   (committed)
    corpus/systems.jsonl       model releases that are not papers    (committed)
    corpus/edges.jsonl         fetched edges (cites)                 (committed)
    corpus/bibkeys.json        citation keys given out by `kg export` (committed: keys never change)
    build/CURRENT              the current build generation's id (see kg.generations)
    build/generations/<id>/    derived: search index, graph, `files.json` (checksums) (ignored by git)
    build/embeddings/          the embedding cache (outside generations: shared by them)
    cache/                     raw responses of arXiv and Semantic Scholar (ignored by git)
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from kg.files import (
    atomic_open,
    digest_files,
    dumps_line,
    file_sha256,
    fsync_dir,
    read_json,
    read_json_object,
    read_jsonl,
    read_records,
    read_text,
    write_bytes,
    write_json,
    write_jsonl,
    write_output,
    write_text,
)
from kg.model import Edge, Paper, System

__all__ = [
    "DEFAULT_DATA_DIR", "GENERATIONS", "JOURNAL", "POINTER", "Store", "current_generation",
    # file primitives, from kg.files
    "atomic_open", "digest_files", "dumps_line", "file_sha256", "fsync_dir", "read_json", "read_json_object",
    "read_jsonl", "read_text", "write_bytes", "write_json", "write_jsonl", "write_output", "write_text",
]

_REPO_DATA = Path(__file__).resolve().parent.parent / "data"
# A checkout (or an editable install) uses the repository's data/; an installed package uses ./data.
DEFAULT_DATA_DIR = _REPO_DATA if _REPO_DATA.is_dir() else Path.cwd() / "data"


POINTER = "CURRENT"  # build/CURRENT: the id of the current build generation
GENERATIONS = "generations"
JOURNAL = ".kg-commit.json"
_GENERATION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,80}")


@dataclass(frozen=True)
class Store:
    """Paths and file access for one data directory.

    `generation`, when set, pins the build folder (a staging generation while building, or the
    current one for a reader that wants every file from the same build); else `build_dir` follows
    build/CURRENT on each use (the flat build/ folder when no generation was ever committed).
    """

    root: Path = DEFAULT_DATA_DIR
    generation: Path | None = field(default=None, compare=False)

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None = None) -> Store:
        return cls(Path(root) if root is not None else DEFAULT_DATA_DIR)

    def pinned(self) -> Store:
        """This store with `build_dir` fixed to the generation current now."""
        return replace(self, generation=self.build_dir)

    def with_generation(self, folder: Path) -> Store:
        return replace(self, generation=folder)

    # ---- paths -------------------------------------------------------------------------
    @property
    def reading_lists(self) -> Path:
        return self.root / "reading-lists"

    @property
    def facts_dir(self) -> Path:
        return self.root / "facts"

    @property
    def corpus_dir(self) -> Path:
        return self.root / "corpus"

    @property
    def papers_path(self) -> Path:
        return self.corpus_dir / "papers.jsonl"

    @property
    def systems_path(self) -> Path:
        return self.corpus_dir / "systems.jsonl"

    @property
    def edges_path(self) -> Path:
        return self.corpus_dir / "edges.jsonl"

    @property
    def keys_path(self) -> Path:
        """The citation-key registry: record id -> BibTeX key, so a key once given never changes."""
        return self.corpus_dir / "bibkeys.json"

    @property
    def lineage_path(self) -> Path:
        return self.root / "lineage.csv"

    @property
    def build_root(self) -> Path:
        """data/build itself: generations, their pointer, the embedding cache, reports."""
        return self.root / "build"

    @property
    def build_dir(self) -> Path:
        """The build generation in use (see the class doc)."""
        if self.generation is not None:
            return self.generation
        name = current_generation(self)
        if name is None:
            return self.build_root
        return self.build_root / GENERATIONS / name

    @property
    def generations_dir(self) -> Path:
        return self.build_root / GENERATIONS

    @property
    def pointer_path(self) -> Path:
        return self.build_root / POINTER

    @property
    def lock_path(self) -> Path:
        return self.root / ".kg.lock"

    @property
    def journal_path(self) -> Path:
        return self.root / JOURNAL

    def report_path(self, name: str) -> Path:
        """Where a command's report goes (data/build/<name>, outside generations)."""
        return self.build_root / name

    @property
    def search_manifest_path(self) -> Path:
        """The search index's manifest: rebuilt indexes change it, and with it the graph's inputs."""
        return self.build_dir / "search" / "manifest.json"

    @property
    def cache_dir(self) -> Path:
        return self.root / "cache"

    def build_path(self, *parts: str) -> Path:
        return self.build_dir.joinpath(*parts)

    def cache_path(self, *parts: str) -> Path:
        return self.cache_dir.joinpath(*parts)

    # ---- records -----------------------------------------------------------------------
    def load_papers(self) -> list[Paper]:
        return read_records(self.papers_path, Paper.from_dict)

    def save_papers(self, papers: Iterable[Paper]) -> None:
        write_jsonl(self.papers_path, (_stable(p.to_dict()) for p in sorted(papers, key=lambda p: p.id)))

    def load_systems(self) -> list[System]:
        return read_records(self.systems_path, System.from_dict)

    def save_systems(self, systems: Iterable[System]) -> None:
        write_jsonl(self.systems_path, (_stable(s.to_dict()) for s in sorted(systems, key=lambda s: s.id)))

    def load_edges(self) -> list[Edge]:
        return read_records(self.edges_path, Edge.from_dict)

    def save_edges(self, edges: Iterable[Edge]) -> None:
        key = lambda e: (e.kind, e.source, e.target, e.relation or "")  # noqa: E731
        write_jsonl(self.edges_path, (e.to_dict() for e in sorted(edges, key=key)))

    def load_facts(self, name: str) -> list[dict[str, Any]]:
        return list(read_jsonl(self.facts_dir / name))

    # ---- several files, one commit ---------------------------------------------------------
    def batch(self) -> AbstractContextManager[None]:
        """Commit every write made inside (under this data directory) together; see kg.journal."""
        from kg.journal import batch

        return batch(self)


def _stable(record: dict[str, Any]) -> dict[str, Any]:
    """The record with its provenance in field order, so that the same record is the same bytes
    whichever merge filled it first."""
    provenance = record.get("provenance")
    if isinstance(provenance, dict):
        order = {name: i for i, name in enumerate(record)}
        record["provenance"] = dict(sorted(provenance.items(), key=lambda kv: (order.get(kv[0], len(order)),
                                                                                kv[0])))
    return record


def current_generation(store: Store) -> str | None:
    """The id in build/CURRENT, or None when there is none (or it is not a valid id)."""
    try:
        name = store.pointer_path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _GENERATION_ID.fullmatch(name) else None
