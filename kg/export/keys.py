"""Citation keys that never change: built once from the record, then kept in a registry.

A paper's key is the first author's surname + the year of first submission + the first significant
title word, in ASCII and lower case (`rombach2021high`); a model release's is its organisation +
year + short name (`runwayml2022sdv15`). A key someone else already holds gets the first
free suffix `a`, `b`, … `z`, `aa`, … Records that need a key in the same run are served in a fixed
order (date, then id), so the same corpus always gives the same keys. Every key given out is stored
in `store.keys_path` (record id -> key); a stored key is reused as it is, even when the record's
title or authors change later, and is never handed to another record, even after its record left
the corpus, so adding papers never renames one a document already cites.

Keys are given out where the corpus is written: `record_new_keys(store)` runs after `kg ingest` and
`kg fetch`. Exporting only reads the registry (views never write); a record it lacks (a corpus
written by other means) gets its key in memory by the same rule.
"""

from __future__ import annotations

import logging
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import count, product
from string import ascii_lowercase

from anyascii import anyascii

from kg.errors import BadInputError
from kg.export.names import split_name
from kg.model import Paper, System
from kg.store import Store, read_json, write_json
from kg.text import compact_key, match_key

log = logging.getLogger(__name__)

Record = Paper | System
REGISTRY_VERSION = 1

STOP_WORDS = frozenset(
    "a an the on of for in at to and or with without from by via into onto over under is are be "
    "as its it this that towards toward using use your you we our do does can how what when why "
    "not no".split()
)


def _ascii_word(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", anyascii(text).lower())


def build_base_key(record: Record) -> str:
    """The key a record gets when nobody holds it yet.

    A paper: first author's surname + year + first significant title word (`rombach2021high`).
    A model release: organisation + year + its short name, which carries the version that tells
    releases apart (`runwayml2022sdv15`, `stabilityai2022sd21`; `flux1` with neither).
    """
    year = str(record.year) if record.year else ""
    if isinstance(record, System):
        who = _ascii_word(match_key(record.organisation or "").split(" ")[0])
        return f"{who}{year}{compact_key(record.label)[:24]}" or "anon"
    who = _ascii_word(split_name(record.authors[0]).sort_name) if record.authors else "anon"
    words = match_key(record.title or "").split()
    word = next((w for w in words if w not in STOP_WORDS), words[0] if words else "")
    return f"{who}{year}{_ascii_word(word)}"


def _suffixes() -> Iterable[str]:
    """"", "a" … "z", "aa", "ab" …: the deterministic suffixes, in the order they are tried."""
    yield ""
    for n in count(1):
        for letters in product(ascii_lowercase, repeat=n):
            yield "".join(letters)


@dataclass
class KeyRegistry:
    """Record id -> citation key; `assign` adds keys and never changes one already given."""

    keys: dict[str, str] = field(default_factory=dict)
    changed: bool = False

    def __post_init__(self) -> None:
        self._taken = {k.lower() for k in self.keys.values()}

    def copy(self) -> KeyRegistry:
        return KeyRegistry(dict(self.keys))

    def key_of(self, record_id: str) -> str:
        return self.keys[record_id]

    def assign(self, records: Iterable[Record]) -> list[str]:
        """Give a key to every record without one, in (date, id) order; the ids newly keyed."""
        new = [r for r in {r.id: r for r in records}.values() if r.id not in self.keys]
        new.sort(key=lambda r: (r.published or "9999", r.id))
        for record in new:
            base = build_base_key(record)
            key = next(base + s for s in _suffixes() if (base + s).lower() not in self._taken)
            self.keys[record.id] = key
            self._taken.add(key.lower())
            log.info("new citation key %s for %s", key, record.id)
        self.changed = self.changed or bool(new)
        return [r.id for r in new]


def load_keys(store: Store) -> KeyRegistry:
    """The registry stored in `store.keys_path`; an empty one when there is none yet."""
    path = store.keys_path
    if not path.exists():
        return KeyRegistry()
    try:
        data = read_json(path)
    except ValueError as exc:
        raise BadInputError(f"invalid JSON ({exc})", str(path)) from exc
    keys = data.get("keys") if isinstance(data, dict) else None
    if not isinstance(keys, dict) or not all(isinstance(v, str) for v in keys.values()):
        raise BadInputError('expected {"version": 1, "keys": {record id: key}}', str(path))
    dupes = sorted(k for k, n in Counter(keys.values()).items() if n > 1)
    if dupes:
        raise BadInputError(f"keys given to more than one record: {', '.join(dupes)}", str(path))
    return KeyRegistry(dict(keys))


def save_keys(store: Store, registry: KeyRegistry) -> None:
    """Write the registry (atomically, sorted by id so diffs stay small) when it changed."""
    if not registry.changed:
        return
    write_json(store.keys_path, {"version": REGISTRY_VERSION, "keys": dict(sorted(registry.keys.items()))})
    registry.changed = False


def record_new_keys(store: Store) -> list[str]:
    """Give a key to every record of the store's corpus that has none and save the registry; the ids
    newly keyed. Called where the corpus is written (`kg ingest`, `kg fetch`), never by a view."""
    registry = load_keys(store)
    new = registry.assign([*store.load_papers(), *store.load_systems()])
    save_keys(store, registry)
    return new
