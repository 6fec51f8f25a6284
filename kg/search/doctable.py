"""The documents of a persisted index, read lazily: what a query process searches over.

`save_documents` (kg.search.documents, the one writer) puts one document on each line of documents.json;
`DocumentTable` is the one reader. Opening it reads the file once, a chunk at a time, checking its
SHA-256 against the manifest and recording where each line starts (8 bytes a document), and keeps no
document: `table[i]` reads and parses line i (a small cache keeps the last ones), iteration streams the
file, and `ids()` reads the id at the start of each line without parsing the rest. Every document is
made by `document_from_fingerprint`, as the build wrote it. A line that does not parse, or a file that is
not the one the index was built with, is a StaleIndexError ("run `kg build`"), never a traceback.

The table reads through the file handle it opened, so a build that replaces the index meanwhile does
not change what an open table reads.
"""

from __future__ import annotations

import hashlib
import json
import operator
import os
import weakref
from collections.abc import Iterable, Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import BinaryIO, overload

import numpy as np

from kg.errors import StaleIndexError
from kg.search.documents import Document, document_from_fingerprint

CHUNK = 1 << 20  # bytes read at a time while hashing and streaming
CACHE = 512  # parsed documents kept (a page of hits and their neighbours)
_ID_PREFIX = b'{"id":"'


class DocumentTable(Sequence[Document]):
    """A read-only sequence of the documents in `path` (documents.json), checked against `sha256`."""

    def __init__(self, path: Path, sha256: str):
        self.path = path
        self._file = path.open("rb")
        try:
            self._starts = _line_starts(self._file, sha256, path.name)
        except BaseException:
            self._file.close()
            raise
        weakref.finalize(self, self._file.close)
        self._cached = lru_cache(maxsize=CACHE)(self._read)

    def __len__(self) -> int:
        return len(self._starts) - 1

    @overload
    def __getitem__(self, i: int) -> Document: ...

    @overload
    def __getitem__(self, i: slice) -> list[Document]: ...

    def __getitem__(self, i: int | slice) -> Document | list[Document]:
        if isinstance(i, slice):
            return [self._cached(j) for j in range(*i.indices(len(self)))]
        j = operator.index(i)
        j = j + len(self) if j < 0 else j
        if not 0 <= j < len(self):
            raise IndexError(f"document {i} of {len(self)}")
        return self._cached(j)

    def __iter__(self) -> Iterator[Document]:
        """Every document in order, parsed one at a time and not kept."""
        for i, line in enumerate(self._lines()):
            yield self._parse(line, i)

    def ids(self) -> Iterator[str]:
        """Every document's id in order, read from the start of its line (parsed only when escaped)."""
        for i, line in enumerate(self._lines()):
            yield _leading_id(line) or self._parse(line, i).id

    def _read(self, i: int) -> Document:
        lo, hi = int(self._starts[i]), int(self._starts[i + 1])
        return self._parse(os.pread(self._file.fileno(), hi - lo, lo), i)

    def _lines(self) -> Iterator[bytes]:
        """The documents' lines in order, read CHUNK bytes at a time."""
        n, i = len(self), 0
        while i < n:
            j = int(np.searchsorted(self._starts, self._starts[i] + CHUNK, side="right")) - 1
            j = min(max(j, i + 1), n)
            starts = self._starts[i:j + 1].tolist()
            block = os.pread(self._file.fileno(), starts[-1] - starts[0], starts[0])
            for lo, hi in zip(starts, starts[1:], strict=False):
                yield block[lo - starts[0]:hi - starts[0]]
            i = j

    def _parse(self, line: bytes, i: int) -> Document:
        try:
            return document_from_fingerprint(json.loads(line.rstrip(b",\n")))
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise StaleIndexError(f"search index files are damaged ({self.path.name}: document {i + 1}, "
                                  f"{type(exc).__name__}); run `kg build`") from None


def document_ids(documents: Iterable[Document]) -> Iterator[str]:
    """The documents' ids in order; a DocumentTable reads them without parsing its documents."""
    if isinstance(documents, DocumentTable):
        return documents.ids()
    return (d.id for d in documents)


def _line_starts(fh: BinaryIO, sha256: str, name: str) -> np.ndarray:
    """Where each document's line starts, then where the closing `]` line starts (int64); StaleIndexError
    when the bytes are not the ones the index was built with or not one document a line."""
    digest = hashlib.sha256()
    newlines: list[np.ndarray] = []
    size = 0
    while chunk := fh.read(CHUNK):
        digest.update(chunk)
        newlines.append(np.flatnonzero(np.frombuffer(chunk, dtype=np.uint8) == 10).astype(np.int64) + size)
        size += len(chunk)
    if digest.hexdigest() != sha256:
        raise StaleIndexError(f"search index files are damaged ({name} is not the file the index was built "
                              f"with); run `kg build`")
    ends = np.concatenate(newlines) if newlines else np.zeros(0, dtype=np.int64)
    if len(ends) < 2 or ends[0] != 1 or ends[-1] != size - 1 or ends[-2] != size - 3 \
            or os.pread(fh.fileno(), 1, 0) != b"[" or os.pread(fh.fileno(), 1, size - 2) != b"]":
        raise StaleIndexError(f"search index files are damaged ({name} does not hold one document a line); "
                              f"run `kg build`")
    return ends[:-1] + 1


def _leading_id(line: bytes) -> str | None:
    """The id a line starts with, when it is written without escapes; None otherwise."""
    if not line.startswith(_ID_PREFIX):
        return None
    end = line.find(b'"', len(_ID_PREFIX))
    raw = line[len(_ID_PREFIX):end]
    if end < 0 or b"\\" in raw:
        return None
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return None


def as_sequence(documents: Sequence[Document]) -> Sequence[Document]:
    """`documents` as a Searcher keeps them: a DocumentTable as it is, anything else as a list."""
    return documents if isinstance(documents, DocumentTable) else list(documents)
