"""The one module that knows where files live and the only one that writes them.

Every write is atomic (a temporary file in the same folder, fsync, then `os.replace`), so a killed
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

import hashlib
import json
import os
import re
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import IO, Any, TypeVar

from kg.errors import BadInputError
from kg.model import Edge, Paper, System

_REPO_DATA = Path(__file__).resolve().parent.parent / "data"
# A checkout (or an editable install) uses the repository's data/; an installed package uses ./data.
DEFAULT_DATA_DIR = _REPO_DATA if _REPO_DATA.is_dir() else Path.cwd() / "data"
_UMASK = os.umask(0)
os.umask(_UMASK)


POINTER = "CURRENT"  # build/CURRENT: the id of the current build generation
GENERATIONS = "generations"
JOURNAL = ".kg-commit.json"
_GENERATION_ID = re.compile(r"[0-9A-Za-z][0-9A-Za-z._-]{0,80}")
R = TypeVar("R")


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
        return _load_records(self.papers_path, Paper.from_dict)

    def save_papers(self, papers: Iterable[Paper]) -> None:
        write_jsonl(self.papers_path, (_stable(p.to_dict()) for p in sorted(papers, key=lambda p: p.id)))

    def load_systems(self) -> list[System]:
        return _load_records(self.systems_path, System.from_dict)

    def save_systems(self, systems: Iterable[System]) -> None:
        write_jsonl(self.systems_path, (_stable(s.to_dict()) for s in sorted(systems, key=lambda s: s.id)))

    def load_edges(self) -> list[Edge]:
        return _load_records(self.edges_path, Edge.from_dict)

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


def _load_records(path: Path, make: Callable[[dict[str, Any]], R]) -> list[R]:
    out: list[R] = []
    for n, data in _numbered(path):
        try:
            out.append(make(data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInputError(f"not a valid record ({type(exc).__name__}: {exc}); restore the file "
                                "(git checkout) or run `kg ingest`", str(path), n) from exc
    return out


def current_generation(store: Store) -> str | None:
    """The id in build/CURRENT, or None when there is none (or it is not a valid id)."""
    try:
        name = store.pointer_path.read_text(encoding="utf-8").strip()
    except (OSError, UnicodeDecodeError):
        return None
    return name if _GENERATION_ID.fullmatch(name) else None


# ---- file primitives -------------------------------------------------------------------
def dumps_line(record: dict[str, Any]) -> str:
    """The one JSON-lines encoding: stable key order (as given), UTF-8, no ASCII escaping."""
    return json.dumps(record, ensure_ascii=False, separators=(", ", ": "))


def read_jsonl(path: Path) -> Iterator[dict[str, Any]]:
    """Records of a JSON-lines file; a missing file is empty; a bad line names file and line."""
    return (data for _, data in _numbered(path))


def _numbered(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    if not path.exists():
        return iter(())
    return _read_jsonl(path)


def _read_jsonl(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with open(path, encoding="utf-8") as fh:
            for n, line in enumerate(fh, 1):
                if line.strip():
                    yield n, _json_object(line, path, n)
    except UnicodeDecodeError as exc:
        raise BadInputError(f"not UTF-8 text ({exc.reason}); restore the file or run `kg ingest`",
                            str(path)) from exc
    except IsADirectoryError as exc:
        raise BadInputError("a folder where a file should be", str(path)) from exc


def _json_object(line: str, path: Path, n: int) -> dict[str, Any]:
    try:
        data = json.loads(line)
    except json.JSONDecodeError as exc:
        raise BadInputError(f"invalid JSON ({exc.msg})", str(path), n) from exc
    if not isinstance(data, dict):
        raise BadInputError(f"a JSON {type(data).__name__} where a record (object) should be",
                            str(path), n)
    return data


def fsync_dir(folder: Path) -> None:
    try:
        fd = os.open(folder, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


@contextmanager
def atomic_open(path: Path, mode: str = "w", *, keep_mode: bool = False) -> Iterator[IO[Any]]:
    """Open a temporary file beside `path`; on success it replaces `path` in one step (inside a
    `Store.batch`, at the batch's commit). `keep_mode`: the new file gets the old one's permissions."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    os.chmod(tmp, _mode_for(path, keep_mode))  # mkstemp makes 0600 files; give the usual permissions
    try:
        encoding = None if "b" in mode else "utf-8"
        newline = None if "b" in mode else "\n"
        with os.fdopen(fd, mode, encoding=encoding, newline=newline) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        _place(Path(tmp), path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _mode_for(path: Path, keep_mode: bool) -> int:
    if keep_mode:
        try:
            return stat.S_IMODE(path.stat().st_mode)
        except OSError:
            pass
    return 0o666 & ~_UMASK


def _place(tmp: Path, path: Path) -> None:
    from kg.journal import active_batch  # here: kg.journal builds on this module

    batch = active_batch()
    if batch is not None and batch.covers(path):
        batch.add(tmp, path)
        return
    os.replace(tmp, path)
    fsync_dir(path.parent)


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


def read_json_object(path: Path, what: str) -> dict[str, Any]:
    """A JSON file holding an object; BadInputError naming `what` when it is unreadable or not one."""
    try:
        data = read_json(path)
    except FileNotFoundError as exc:
        raise BadInputError(f"{what} is missing", str(path)) from exc
    except (OSError, ValueError) as exc:  # ValueError: invalid JSON or not UTF-8
        raise BadInputError(f"{what} is unreadable ({type(exc).__name__})", str(path)) from exc
    if not isinstance(data, dict):
        raise BadInputError(f"{what} holds a JSON {type(data).__name__}, not an object", str(path))
    return data


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
        if path.is_file():
            h.update(path.read_bytes())
        h.update(b"\0")
    return h.hexdigest()


def file_sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


# ---- output files (`--out`) ------------------------------------------------------------------
def write_output(path: Path, text: str) -> None:
    """Write a command's output to `path`, the way a user means it:

    - a regular file (or a new name) is replaced atomically, keeping the old file's permissions;
    - a symlink writes its target (the link stays a link);
    - a FIFO, a device, `/dev/stdout` (anything not a regular file) is written in place;
    - a path that cannot be written is one BadInputError naming it (no temporary file in the message).
    """
    try:
        if path.exists() and not path.is_file():  # follows links: /dev/stdout, a FIFO, a device
            with open(path, "w", encoding="utf-8", newline="\n") as fh:
                fh.write(text)
            return
        with atomic_open(Path(os.path.realpath(path)), keep_mode=True) as fh:
            fh.write(text)
    except OSError as exc:
        raise BadInputError(f"cannot write here: {exc.strerror or exc}", str(path)) from exc
