"""Shared by the fault tests: a golden data directory made by the real commands (ingest, fetch
against the loopback arXiv fake, build with the fake encoder), damage to files, and a comparison of
two data directories that ignores only what is not deterministic (timestamps, build ids).
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from click.testing import CliRunner, Result

from kg.cli import cli
from kg.generations import read_files
from kg.store import Store, current_generation
from testkit.encoders import FakeEncoder

REPO = Path(__file__).resolve().parents[2]
VOLATILE_MANIFEST_KEYS = {"built_at", "build_id", "build_seconds", "embedded", "update"}  # how, not what


def fake_encoder(model: str | None = None, **_: object) -> FakeEncoder:
    return FakeEncoder(name=model or "fake")


def patch_encoders(monkeypatch: Any) -> None:
    """Every model name loads the fake encoder, wherever kg loads one."""
    import kg.search.encoders
    import kg.search.engine

    monkeypatch.setattr(kg.search.encoders, "load_encoder", fake_encoder)
    monkeypatch.setattr(kg.search.engine, "load_encoder", fake_encoder)


def copy_inputs(root: Path) -> Path:
    """The repository's reading lists, facts and curated files (no snapshot, no build) under `root`."""
    root.mkdir(parents=True, exist_ok=True)
    for name in ("reading-lists", "facts"):
        shutil.copytree(REPO / "data" / name, root / name)
    for name in ("lineage.csv", "systems.csv"):
        shutil.copy(REPO / "data" / name, root / name)
    return root


def kg(root: Path, *args: str) -> Result:
    return CliRunner().invoke(cli, ["--data-dir", str(root), *args])


def fetch_args(endpoint: str) -> tuple[str, ...]:
    return ("fetch", "--arxiv-url", endpoint, "--delay", "0", "--no-progress")


def assert_one_line(result: Result, what: str) -> None:
    """No traceback; a failure is one `error:` line on stderr."""
    text = result.output + (result.stderr or "")
    assert "Traceback" not in text, f"{what}: traceback\n{text}"
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"{what}: uncaught {type(result.exception).__name__}: {result.exception}")
    if result.exit_code != 0:
        lines = [line for line in result.stderr.splitlines() if line.strip()]
        errors = [line for line in lines if line.startswith("error:")]
        assert len(errors) == 1 and lines[-1] == errors[0], f"{what}: not one error line:\n{result.stderr}"


# ---- damage ------------------------------------------------------------------------------
def damage(path: Path, how: str, seed: int = 0) -> None:
    data = path.read_bytes()
    if how == "deleted":
        path.unlink()
    elif how == "truncated":
        _rewrite(path, data[: len(data) // 2])
    elif how == "zero":
        _rewrite(path, b"")
    elif how == "garbage":
        _rewrite(path, random.Random(seed).randbytes(max(len(data), 16)))
    elif how == "wrong-type":
        _rewrite(path, b'[1, "two"]\n"three"\n' if path.suffix == ".jsonl" else b'[1, "two"]\n')
    else:
        raise ValueError(how)


def _rewrite(path: Path, data: bytes) -> None:
    """Write in place (the same inode, as a disk error or a stray editor would)."""
    with open(path, "r+b") as fh:
        fh.truncate(0)
        fh.write(data)


def is_json(path: Path) -> bool:
    return path.suffix in (".json", ".jsonl")


# ---- comparing data directories -------------------------------------------------------------
@dataclass(frozen=True)
class Normal:
    """A data directory reduced to what a deterministic build must reproduce."""

    files: dict[str, Any]


def normal_state(root: Path) -> dict[str, Any]:
    """corpus/* and cache/* byte for byte; the current build generation by content (build ids,
    timestamps and zip dates left out); the embedding cache by its vectors."""
    store = Store.at(root)
    out: dict[str, Any] = {}
    for folder in (store.corpus_dir, store.cache_dir):
        for path in sorted(folder.rglob("*")) if folder.exists() else []:
            if path.is_file():
                out[str(path.relative_to(root))] = _digest(path.read_bytes())
    name = current_generation(store)
    out["build/CURRENT"] = name is not None
    if name is not None:
        folder = store.generations_dir / name
        for rel in sorted(read_files(folder)):
            key = "build/" + _generic(rel)
            out[key] = _content(folder / rel)
    for path in sorted((store.build_root / "embeddings").glob("*.npz")):
        out[f"build/embeddings/{path.name}"] = _npz(path)
    return out


def _generic(rel: str) -> str:
    parts = rel.split("/")
    if parts[0] == "search" and len(parts) == 3:
        parts[1] = "<build-id>"
    return "/".join(parts)


def _content(path: Path) -> Any:
    if path.name == "manifest.json":
        data = json.loads(path.read_text())
        return {k: v for k, v in data.items() if k not in VOLATILE_MANIFEST_KEYS}
    if path.name == "graph.json":
        return _digest(json.dumps(json.loads(path.read_text())["graph"], sort_keys=True).encode())
    if path.suffix == ".npz":
        return _npz(path)
    return _digest(path.read_bytes())


def _npz(path: Path) -> str:
    h = hashlib.sha256()
    with np.load(path, allow_pickle=False) as z:
        for key in sorted(z.files):
            h.update(key.encode() + np.ascontiguousarray(z[key]).tobytes())
    return h.hexdigest()


def _digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# `kg export` still gives out citation keys into the registry (issue 11 item 2 moves that to ingest
# and fetch); until then the registry is left out of the comparison.
IGNORED = {"corpus/bibkeys.json"}


def diff_states(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Keys whose values differ; the embedding cache may be absent from `b` (a cache: a build whose
    index is intact does not embed, so it does not make the cache again)."""
    return sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k) and k not in IGNORED
                  and not (k.startswith("build/embeddings/") and k not in b))


def data_files(root: Path) -> list[str]:
    """Every file under corpus/, build/ and cache/ (relative), lock files left out."""
    out = []
    for folder in ("corpus", "build", "cache"):
        for path in sorted((root / folder).rglob("*")):
            if path.is_file():
                out.append(str(path.relative_to(root)))
    return out


def copy_data(source: Path, target: Path) -> Path:
    shutil.copytree(source, target, symlinks=True)
    return target


def run_all(checks: list[Callable[[], None]]) -> None:
    for check in checks:
        check()


__all__ = ["os"]
