"""Raw responses of the online sources, kept on disk and keyed by the request that produced them.

An entry is two files in the source's cache folder (`data/cache/arxiv/`, `data/cache/semantic_scholar/`):

    <key>.xml | <key>.json   the response body, byte for byte as the server sent it
    <key>.meta.json          what was asked (`request`, `url`), when (`fetched_at`), and the body's
                             size and sha256

Both are written atomically (kg.store), body first, so an entry exists only once its meta file does;
a run killed between the two writes leaves a body without meta, which counts as absent and is
overwritten by the next run. The key hashes the request's own arguments (the query string for arXiv,
the sorted ids and fields for Semantic Scholar) and not the host, so a mirror or a test server shares
entries with the real endpoint.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from pathlib import Path

from kg.store import read_json, write_bytes, write_json

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CachedResponse:
    """A response body and when it was fetched (ISO timestamp, UTC)."""

    key: str
    body: bytes
    fetched_at: str
    from_cache: bool


def request_key(kind: str, request: str) -> str:
    """A file-name-safe key for a request: `<kind>-<first 20 hex digits of its sha256>`."""
    return f"{kind}-{hashlib.sha256(request.encode('utf-8')).hexdigest()[:20]}"


class ResponseCache:
    """Raw responses under one folder; `refresh=True` ignores what is there (but still writes)."""

    def __init__(self, directory: Path, ext: str, *, refresh: bool = False):
        self.directory = Path(directory)
        self.ext = ext.lstrip(".")
        self.refresh = refresh

    def body_path(self, key: str) -> Path:
        return self.directory / f"{key}.{self.ext}"

    def meta_path(self, key: str) -> Path:
        return self.directory / f"{key}.meta.json"

    def get(self, key: str) -> CachedResponse | None:
        """The cached response for `key`, or None (absent, refreshing, or not intact)."""
        if self.refresh:
            return None
        meta_path, body_path = self.meta_path(key), self.body_path(key)
        if not meta_path.exists() or not body_path.exists():
            return None
        try:
            meta = read_json(meta_path)
            body = body_path.read_bytes()
        except (OSError, ValueError) as exc:  # ValueError: invalid JSON, not UTF-8
            logger.warning("cache entry %s unreadable (%s); dropped, fetching again", key, exc)
            self.drop(key)
            return None
        if not isinstance(meta, dict) or meta.get("sha256") != hashlib.sha256(body).hexdigest():
            logger.warning("cache entry %s does not match its checksum; dropped, fetching again", key)
            self.drop(key)
            return None
        return CachedResponse(key, body, str(meta.get("fetched_at", "")), True)

    def put(self, key: str, body: bytes, *, request: str, url: str, fetched_at: str) -> CachedResponse:
        """Store a response (body first, then its meta file) and return it."""
        write_bytes(self.body_path(key), body)
        meta = {"request": request, "url": url, "fetched_at": fetched_at, "bytes": len(body),
                "sha256": hashlib.sha256(body).hexdigest()}
        write_json(self.meta_path(key), meta)
        return CachedResponse(key, body, fetched_at, False)

    def drop(self, key: str) -> None:
        """Forget one entry (meta first, so a half-dropped entry counts as absent)."""
        self.meta_path(key).unlink(missing_ok=True)
        self.body_path(key).unlink(missing_ok=True)

    def entries(self) -> list[str]:
        """Keys of the complete entries (those with a meta file)."""
        if not self.directory.exists():
            return []
        return sorted(p.name[: -len(".meta.json")] for p in self.directory.glob("*.meta.json"))
