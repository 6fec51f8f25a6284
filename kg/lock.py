"""One writer per data directory: `kg ingest`, `kg fetch`, `kg build` and the app's first build hold
`data/.kg.lock` (filelock, an OS lock that dies with its process) while they write.

A second writer waits for the first (its `on_wait` callback is told who holds the lock: pid,
command, since when, from `data/.kg.lock.json`) and gives up after `wait` seconds with a
`LockedError` naming the holder. Taking the lock also repairs what a killed writer left
(`kg.journal.recover`: a committed batch rolled forward, stale temporaries removed).
"""

from __future__ import annotations

import json
import os
import socket
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime

from kg.errors import LockedError
from kg.journal import recover
from kg.store import Store

DEFAULT_WAIT = 600.0  # seconds a second writer waits before giving up


def holder(store: Store) -> str:
    """Who holds the lock, in words ("pid 123 (kg build) since 2026-…"), as far as it is known."""
    try:
        with open(_info_path(store), encoding="utf-8") as fh:
            info = json.load(fh)
        return f"pid {info['pid']} on {info['host']} ({info['command']}) since {info['since']}"
    except (OSError, ValueError, KeyError, TypeError):
        return "another process"


def _info_path(store: Store) -> os.PathLike[str]:
    return store.root / ".kg.lock.json"


@contextmanager
def writer_lock(store: Store, command: str, *, wait: float = DEFAULT_WAIT,
                on_wait: Callable[[str], None] | None = None) -> Iterator[None]:
    """Hold the data directory's lock while the block runs (see the module doc)."""
    import filelock  # here: a command that only reads (kg search) never needs it (~20 ms to import)

    store.root.mkdir(parents=True, exist_ok=True)
    lock = filelock.FileLock(str(store.lock_path), thread_local=False, is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except filelock.Timeout:
        if on_wait is not None:
            on_wait(f"waiting for {holder(store)} to finish with {store.root}")
        try:
            lock.acquire(timeout=wait)
        except filelock.Timeout as exc:
            raise LockedError(f"{store.root} is in use by {holder(store)}; try again when it finishes") \
                from exc
    try:
        _write_info(store, command)
        recover(store)
        yield
    finally:
        lock.release()


def _write_info(store: Store, command: str) -> None:
    info = {"pid": os.getpid(), "host": socket.gethostname(), "command": command,
            "since": datetime.now(UTC).isoformat(timespec="seconds")}
    with open(_info_path(store), "w", encoding="utf-8") as fh:
        json.dump(info, fh)


def recover_if_idle(store: Store) -> None:
    """Repair what a killed writer left, when no writer is at work (else leave it to the writer)."""
    if not store.journal_path.exists():
        return
    import filelock

    lock = filelock.FileLock(str(store.lock_path), thread_local=False, is_singleton=False)
    try:
        lock.acquire(timeout=0)
    except (filelock.Timeout, OSError):
        return
    try:
        recover(store)
    finally:
        lock.release()
