"""The one module that knows where files live and the only one that writes them.

Every write is atomic (a temporary file in the same folder, fsync, then `os.replace`), so a killed
run or a reader in another process (the app) never sees a half-written file.

Layout under the data directory (see data/README.md):
    reading-lists/*.md         the user's reading lists (input)
    facts/*.jsonl              bibliographic facts gathered by hand (input, read-only)
    lineage.csv                curated lineage, each row with its evidence
    corpus/papers.jsonl        the snapshot: one record per paper   (committed)
    corpus/systems.jsonl       model releases that are not papers    (committed)
    corpus/edges.jsonl         fetched edges (cites)                 (committed)
    corpus/bibkeys.json        citation keys given out by `kg export` (committed: keys never change)
    build/                     derived: graph, vectors, index, manifest (ignored by git)
    cache/                     raw responses of arXiv and Semantic Scholar (ignored by git)
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from kg.errors import BadInputError
from kg.model import Edge, Paper, System

_REPO_DATA = Path(__file__).resolve().parent.parent / "data"
# A checkout (or an editable install) uses the repository's data/; an installed package uses ./data.
DEFAULT_DATA_DIR = _REPO_DATA if _REPO_DATA.is_dir() else Path.cwd() / "data"
_UMASK = os.umask(0)
os.umask(_UMASK)


@dataclass(frozen=True)
class Store:
    """Paths and file access for one data directory."""

    root: Path = DEFAULT_DATA_DIR

    @classmethod
    def at(cls, root: str | os.PathLike[str] | None = None) -> Store:
        return cls(Path(root) if root is not None else DEFAULT_DATA_DIR)

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
    def build_dir(self) -> Path:
        return self.root / "build"

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
        return [Paper.from_dict(d) for d in read_jsonl(self.papers_path)]

    def save_papers(self, papers: Iterable[Paper]) -> None:
        write_jsonl(self.papers_path, (p.to_dict() for p in sorted(papers, key=lambda p: p.id)))

    def load_systems(self) -> list[System]:
        return [System.from_dict(d) for d in read_jsonl(self.systems_path)]

    def save_systems(self, systems: Iterable[System]) -> None:
        write_jsonl(self.systems_path, (s.to_dict() for s in sorted(systems, key=lambda s: s.id)))

    def load_edges(self) -> list[Edge]:
        return [Edge.from_dict(d) for d in read_jsonl(self.edges_path)]

    def save_edges(self, edges: Iterable[Edge]) -> None:
        key = lambda e: (e.kind, e.source, e.target, e.relation or "")  # noqa: E731
        write_jsonl(self.edges_path, (e.to_dict() for e in sorted(edges, key=key)))

    def load_facts(self, name: str) -> list[dict[str, Any]]:
        return list(read_jsonl(self.facts_dir / name))


# ---- file primitives -------------------------------------------------------------------
def dumps_line(record: dict[str, Any]) -> str:
    """The one JSON-lines encoding: stable key order (as given), UTF-8, no ASCII escaping."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSON-lines file; a missing file is empty; a bad line names file and line."""
    if not path.exists():
        return iter(())
    return _read_jsonl(path)


def _read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    with open(path, encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            if not line.strip():
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise BadInputError(f"invalid JSON ({exc.msg})", str(path), n) from exc


@contextmanager
def atomic_open(path: Path, mode: str = "w") -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; on success it replaces `path` in one step."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, 0o666 & ~_UMASK)  # mkstemp makes 0600 files; give the usual permissions
    try:
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else "\n"
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_jsonl(path: Path, records: Iterable[dict[str, Any]]) -> None:
    with atomic_open(path) as fh:
        for record in records:
            fh.write(dumps_line(record) + "\n")


def write_json(path: Path, data: Any) -> None:
    with atomic_open(path) as fh:
        json.dump(data, fh, ensure_ascii=False, indent=2, sort_keys=False)
        fh.write("\n")


def read_json(path: Path) -> Any:
    with open(path, encoding="utf-8") as fh:
        return json.load(fh)


def write_text(path: Path, text: str) -> None:
    with atomic_open(path) as fh:
        fh.write(text)


def write_bytes(path: Path, data: bytes) -> None:
    with atomic_open(path, "wb") as fh:
        fh.write(data)


def read_text(path: Path) -> str:
    """The text of a UTF-8 file; a missing file is a BadInputError naming it."""
    try:
        with open(path, encoding="utf-8", newline="") as fh:
            return fh.read()
    except FileNotFoundError as exc:
        raise BadInputError("file not found", str(path)) from exc
    except UnicodeDecodeError as exc:
        raise BadInputError(f"not UTF-8 text ({exc.reason})", str(path)) from exc


def digest_files(paths: Iterable[Path]) -> str:
    """A SHA-256 over the names and bytes of `paths` (a missing file counts as empty)."""
    h = hashlib.sha256()
    for path in paths:
        h.update(path.name.encode("utf-8") + b"\0")
        if path.exists():
            h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()
