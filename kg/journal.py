"""Several files, one commit: the batch journal behind `Store.batch` (see kg.store's module doc).

Inside `with store.batch():` every atomic write under the data directory (caches excepted) leaves
its temporary beside the file instead of replacing it. At the end one journal, `.kg-commit.json`,
names every (temporary, file) pair; writing it atomically is the commit point. Then each temporary
is moved into place and the journal removed. A kill before the journal leaves the old files and
some stale temporaries (removed by `recover`); a kill after it leaves the journal, which `recover`
rolls forward. On a `KGError` inside the block the writes made so far still commit (they are
consistent: a fetch keeps what came before a failed request); on any other exception they are
dropped.

`HOOKS` lets a test pause or kill a writer at a named point ("after-journal", "before-commit",
"after-commit"); it is empty in normal runs.
"""

from __future__ import annotations

import contextvars
import os
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from kg.errors import KGError
from kg.store import Store, fsync_dir, read_json, write_json


@dataclass
class Batch:
    store: Store
    moves: dict[Path, Path] = field(default_factory=dict)  # final path -> its written temporary

    def covers(self, path: Path) -> bool:
        """Files under the data directory, except caches (each entry there stands alone)."""
        where = path.resolve()
        return where.is_relative_to(self.store.root.resolve()) \
            and not where.is_relative_to(self.store.cache_dir.resolve())

    def add(self, tmp: Path, path: Path) -> None:
        old = self.moves.pop(path, None)
        if old is not None:
            old.unlink(missing_ok=True)
        self.moves[path] = tmp

    def commit(self) -> None:
        if not self.moves:
            return
        root = self.store.root.resolve()
        pairs = [[str(t.resolve().relative_to(root)), str(f.resolve().relative_to(root))]
                 for f, t in self.moves.items()]
        write_json(self.store.journal_path, {"moves": pairs})  # the commit point
        fire("after-journal")
        _roll_forward(self.store)

    def discard(self) -> None:
        for tmp in self.moves.values():
            tmp.unlink(missing_ok=True)


_BATCH: contextvars.ContextVar[Batch | None] = contextvars.ContextVar("kg_store_batch", default=None)
# Test hooks: called with a point's name ("after-journal", "before-commit", …) so a test can pause
# or kill a writer at a chosen instant. Empty in normal runs.
HOOKS: list[Callable[[str], None]] = []


def fire(point: str) -> None:
    for hook in HOOKS:
        hook(point)


def _roll_forward(store: Store) -> None:
    """Finish a committed batch: move each temporary into place, then drop the journal."""
    try:
        pairs = read_json(store.journal_path)["moves"]
        moves = [(store.root / str(t), store.root / str(f)) for t, f in pairs]
    except (OSError, ValueError, TypeError, KeyError):  # a journal is written atomically: unreadable = none
        store.journal_path.unlink(missing_ok=True)
        return
    for tmp, final in moves:
        if tmp.exists():
            os.replace(tmp, final)
            fsync_dir(final.parent)
    store.journal_path.unlink(missing_ok=True)


def recover(store: Store) -> list[Path]:
    """Repair what a killed writer left (hold the lock): roll a committed batch forward and remove
    stale temporaries. Returns the temporaries removed."""
    if store.journal_path.exists():
        _roll_forward(store)
    removed: list[Path] = []
    for folder in (store.root, store.corpus_dir, store.build_root, store.build_root / "embeddings",
                   store.cache_path("arxiv"), store.cache_path("semantic_scholar")):
        if folder.is_dir():
            for tmp in folder.glob(".*.tmp"):
                tmp.unlink(missing_ok=True)
                removed.append(tmp)
    return removed




def active_batch() -> Batch | None:
    """The batch the current context writes into, if any."""
    return _BATCH.get()


@contextmanager
def batch(store: Store) -> Iterator[None]:
    """See the module doc; a batch inside a batch belongs to the outer one."""
    if _BATCH.get() is not None:
        yield
        return
    pending = Batch(store)
    token = _BATCH.set(pending)
    try:
        yield
    except KGError:
        _BATCH.reset(token)
        pending.commit()
        raise
    except BaseException:
        _BATCH.reset(token)
        pending.discard()
        raise
    _BATCH.reset(token)
    pending.commit()
