"""How kg reads and writes a file: the primitives under kg.store (which re-exports them all).

Every write is atomic (a temporary file in the same folder, fsync, then `os.replace`), so a killed
run or a reader in another process (the app) never sees a half-written file; inside a `Store.batch`
the replace waits for the batch's commit (kg.journal). A file that is not UTF-8 or not valid JSON
lines is one `BadInputError` naming the file and line. Which file lives where is kg.store's
business, not this module's.
"""

from __future__ import annotations

import hashlib
import json
import os
import stat
import tempfile
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, TypeVar

from kg.errors import BadInputError

_UMASK = os.umask(0)
os.umask(_UMASK)
R = TypeVar("R")


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


def read_records(path: Path, make: Callable[[dict[str, Any]], R]) -> list[R]:
    """`make` applied to every record of a JSON-lines file; a record it rejects is a BadInputError
    naming the file and line."""
    out: list[R] = []
    for n, data in _numbered(path):
        try:
            out.append(make(data))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise BadInputError(f"not a valid record ({type(exc).__name__}: {exc}); restore the file "
                                "(git checkout) or run `kg ingest`", str(path), n) from exc
    return out


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
    from kg.journal import active_batch  # here: kg.journal builds on kg.store, which builds on this

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
