"""Build generations: the derived files of one build, committed together and checked by checksum.

The API every builder uses (the search index, the graph, an exported query encoder, …):

    with writer_lock(store, "kg build"):
        staging = Staging.begin(store)           # build/generations/.staging-<id>/ (hidden: uncommitted)
        staging.carry(["search"])                # hard-link parts of the current generation that verify
        build_things(staging.store)              # a Store whose build_dir is the staging folder
        staging.commit()                         # files.json (size + sha256 of every file), then the
                                                 # pointer build/CURRENT, in one os.replace

A *part* is a top-level entry of a generation (`search`, `graph.json`, a new builder's folder): the
unit that is reused or rebuilt. `verify(store)` checks the current generation against its
`files.json` and says, part by part, what is missing or corrupt; a part is carried into the next
generation only when every file of it verifies, so a builder sees either a complete, checked part
or nothing, and rebuilds exactly what is missing. A builder registers its files simply by writing
them under `staging.store.build_dir`: `commit` lists whatever is there.

A kill at any instant leaves the old generation current (the staging folder is removed by the next
build) or the new one. Commit keeps the previous generation one cycle, so a reader that pinned it
(`Store.pinned`) a moment before can finish.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from kg.errors import BadInputError
from kg.journal import fire
from kg.store import (
    Store,
    current_generation,
    file_sha256,
    fsync_dir,
    read_json_object,
    write_json,
    write_text,
)

FILES = "files.json"  # in each generation: {"format", "created", "files": {relative path: {size, sha256}}}
FILES_FORMAT = 1
STAGING_PREFIX = ".staging-"


@dataclass
class Verification:
    """The current generation checked against its files.json: parts whose every file matches, and
    for each other part what is wrong (missing file, size, checksum)."""

    generation: str | None
    good: list[str] = field(default_factory=list)
    problems: dict[str, list[str]] = field(default_factory=dict)

    @property
    def intact(self) -> bool:
        return self.generation is not None and not self.problems


def part_of(relative: str) -> str:
    return relative.split("/", 1)[0]


def list_files(folder: Path) -> dict[str, dict[str, Any]]:
    """{relative path: {"size", "sha256"}} of every file under `folder` except files.json."""
    out: dict[str, dict[str, Any]] = {}
    for path in sorted(folder.rglob("*")):
        rel = path.relative_to(folder).as_posix()
        if path.is_file() and rel != FILES and not path.name.endswith(".tmp"):
            out[rel] = {"size": path.stat().st_size, "sha256": file_sha256(path)}
    return out


def read_files(folder: Path) -> dict[str, dict[str, Any]]:
    """The recorded files of a generation; BadInputError when files.json is missing or unreadable."""
    data = read_json_object(folder / FILES, "build manifest")
    files = data.get("files")
    if not isinstance(files, dict) or not all(isinstance(v, dict) for v in files.values()):
        raise BadInputError("build manifest has no valid file list", str(folder / FILES))
    return files


def verify(store: Store) -> Verification:
    """Check the current generation (see `Verification`); no generation: nothing is good."""
    name = current_generation(store)
    result = Verification(name)
    if name is None:
        return result
    folder = store.generations_dir / name
    try:
        recorded = read_files(folder)
    except BadInputError as exc:
        result.problems["*"] = [str(exc)]
        return result
    for rel, meta in recorded.items():
        problem = _check_file(folder / rel, meta)
        if problem:
            result.problems.setdefault(part_of(rel), []).append(f"{rel}: {problem}")
    result.good = sorted({part_of(rel) for rel in recorded} - set(result.problems))
    return result


def _check_file(path: Path, meta: dict[str, Any]) -> str | None:
    if not path.is_file():
        return "missing"
    if path.stat().st_size != meta.get("size"):
        return f"{path.stat().st_size} bytes, {meta.get('size')} recorded"
    if file_sha256(path) != meta.get("sha256"):
        return "checksum differs"
    return None


@dataclass
class Staging:
    """A generation being built (see the module doc)."""

    base: Store
    name: str
    folder: Path

    @classmethod
    def begin(cls, store: Store) -> Staging:
        """A fresh staging folder; stale staging folders of killed builds are removed (hold the lock)."""
        remove_stale(store)
        name = datetime.now(UTC).strftime("%Y%m%dT%H%M%S%f") + f"-{os.getpid()}"
        folder = store.generations_dir / f"{STAGING_PREFIX}{name}"
        folder.mkdir(parents=True)
        return cls(store, name, folder)

    @property
    def store(self) -> Store:
        return self.base.with_generation(self.folder)

    def carry(self, parts: Iterable[str], verification: Verification | None = None) -> list[str]:
        """Hard-link the verified `parts` of the current generation in; returns the parts carried."""
        check = verification or verify(self.base)
        if check.generation is None:
            return []
        source = self.base.generations_dir / check.generation
        carried = [p for p in parts if p in check.good]
        recorded = read_files(source) if carried else {}
        for rel in recorded:
            if part_of(rel) in carried:
                _link(source / rel, self.folder / rel)
        return carried

    def commit(self) -> str:
        """List and checksum every file, then make this generation current; returns its id."""
        files = list_files(self.folder)
        write_json(self.folder / FILES, {"format": FILES_FORMAT, "created": self.name, "files": files})
        _fsync_tree(self.folder)
        final = self.base.generations_dir / self.name
        os.replace(self.folder, final)
        fsync_dir(final.parent)
        fire("before-commit")
        previous = current_generation(self.base)
        write_text(self.base.pointer_path, self.name + "\n")  # the commit point
        fire("after-commit")
        remove_stale(self.base, keep={self.name, previous or ""})
        return self.name

    def abort(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _link(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, target)
    except OSError:  # a file system without hard links
        shutil.copy2(source, target)


def _fsync_tree(folder: Path) -> None:
    for path in folder.rglob("*"):
        if path.is_dir():
            fsync_dir(path)
    fsync_dir(folder)


def remove_stale(store: Store, keep: set[str] | None = None) -> None:
    """Remove staging folders and generations other than the current one (and `keep`); the flat
    layout of builds before generations (build/search, build/graph.json) goes too."""
    current = current_generation(store)
    keep = (keep or set()) | {current or ""}
    folder = store.generations_dir
    if folder.is_dir():
        for child in folder.iterdir():
            if child.name not in keep:
                shutil.rmtree(child, ignore_errors=True) if child.is_dir() else child.unlink(missing_ok=True)
    if current is not None:
        shutil.rmtree(store.build_root / "search", ignore_errors=True)
        (store.build_root / "graph.json").unlink(missing_ok=True)
