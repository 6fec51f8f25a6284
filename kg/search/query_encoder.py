"""Query encoding without torch: the embedding model exported once to ONNX, run by ONNX Runtime.

`kg build` exports the index's sentence-transformers model (BERT-style transformer, mean pooling,
normalisation: all-MiniLM-L6-v2's shape) into one folder under data/build/encoder/ and verifies it on
PROBES against sentence-transformers itself (cosine >= MIN_COSINE). The folder holds:

    model.onnx        token ids -> L2-normalised sentence vectors (pooling is inside the graph)
    tokenizer.json    the model's own fast tokenizer (Hugging Face `tokenizers`)
    encoder.json      written last: model name, SHA-256 of both files, the probes and the vectors
                      sentence-transformers gave for them, the cosine measured at export

`OnnxEncoder.open` reads both files once, checks their checksums, loads them and re-encodes the probes:
a missing, corrupt or drifting export raises `ExportError`, and `QueryEncoder` then falls back to
sentence-transformers (with a warning naming `kg build`). Nothing here imports torch; only
`export_model` does, and only `kg build` calls it.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import shutil
import tempfile
import warnings
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from kg.errors import KGError
from kg.store import Store, write_json
from kg.text import slugify

log = logging.getLogger(__name__)

EXPORT_FORMAT = 1
MIN_COSINE = 0.9999  # an export whose probe vectors differ more from sentence-transformers' is not used
PROBES = ("a", "which papers accelerate sampling?", "SDXL", "自回归图像生成",
          "Latent diffusion models run the diffusion process in the compressed latent space of a pretrained "
          "autoencoder, which cuts the cost of training and of sampling at high resolution. " * 8)
SHORT_PROBES = 4  # the probes checked on every load (the last one is long: truncation, checked at build)
MODEL_FILE, TOKENIZER_FILE, MANIFEST_FILE = "model.onnx", "tokenizer.json", "encoder.json"


class ExportError(Exception):
    """The ONNX export is missing, corrupt, unverified, or cannot be made for this model."""


@dataclass
class ExportManifest:
    """What an export holds and how it was verified."""

    model: str
    dimension: int
    max_tokens: int
    pad_id: int
    checksums: dict[str, str]  # file name -> SHA-256
    probes: list[str]
    reference: list[list[float]]  # sentence-transformers' vectors of the probes
    min_cosine: float  # measured at export
    built_at: str
    format: int = EXPORT_FORMAT

    @classmethod
    def read(cls, path: Path) -> ExportManifest:
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})
        except FileNotFoundError as exc:
            raise ExportError(f"no ONNX export at {path.parent}") from exc
        except (OSError, ValueError, TypeError) as exc:
            raise ExportError(f"unreadable ONNX export manifest {path}: {exc}") from exc


def export_dir(store: Store, model: str) -> Path:
    """The folder of `model`'s export in `store`."""
    return store.build_path("encoder", slugify(model, 80))


def query_threads() -> int:
    """Threads for one query: one on a machine of two cores or fewer (the other is rarely free)."""
    return 1 if (os.cpu_count() or 1) <= 2 else 2


# ---- the query path ----------------------------------------------------------------------
class OnnxEncoder:
    """The exported model under ONNX Runtime: the `Encoder` protocol, no torch."""

    backend = "onnx"

    def __init__(self, manifest: ExportManifest, session: Any, tokenizer: Any):
        self.name = manifest.model
        self.manifest = manifest
        self.session = session
        self.tokenizer = tokenizer
        self.inputs = [i.name for i in session.get_inputs()]

    @classmethod
    def open(cls, folder: Path, model: str | None = None, *, threads: int | None = None,
             full: bool = False) -> OnnxEncoder:
        """The verified export in `folder`; ExportError when it is missing, corrupt or drifts. Checks the
        short probes (milliseconds), or with `full` every probe (the long one costs ~0.5 s: `kg build`)."""
        manifest = ExportManifest.read(folder / MANIFEST_FILE)
        if manifest.format != EXPORT_FORMAT or (model is not None and manifest.model != model):
            raise ExportError(f"the ONNX export in {folder} is of another model or format")
        blobs = {name: _read_checked(folder / name, digest) for name, digest in manifest.checksums.items()}
        if set(blobs) != {MODEL_FILE, TOKENIZER_FILE}:
            raise ExportError(f"the ONNX export manifest in {folder} does not list its files")
        encoder = cls(manifest, _session(blobs[MODEL_FILE], threads or query_threads()),
                      _tokenizer(blobs[TOKENIZER_FILE], manifest))
        count = len(manifest.probes) if full else SHORT_PROBES
        cosine = probe_cosine(encoder.encode(manifest.probes[:count]),
                              np.asarray(manifest.reference[:count], np.float32))
        if cosine < MIN_COSINE:
            raise ExportError(f"the ONNX export in {folder} drifts from its model (cosine {cosine:.6f})")
        return encoder

    @property
    def dimension(self) -> int:
        return self.manifest.dimension

    loaded = True

    def encode(self, texts: Sequence[str], *, batch_size: int = 32, progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        parts = [self._run(texts[i:i + batch_size]) for i in range(0, len(texts), batch_size)]
        return np.ascontiguousarray(np.vstack(parts), dtype=np.float32)

    def _run(self, texts: Sequence[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(list(texts))
        columns = {"input_ids": [e.ids for e in encodings],
                   "attention_mask": [e.attention_mask for e in encodings],
                   "token_type_ids": [e.type_ids for e in encodings]}
        feed = {name: np.asarray(columns[name], dtype=np.int64) for name in self.inputs}
        return np.asarray(self.session.run(None, feed)[0], dtype=np.float32)


def probe_cosine(got: np.ndarray, reference: np.ndarray) -> float:
    """The smallest cosine between matching rows (both sides normalised here)."""
    if got.shape != reference.shape or not len(got):
        return -1.0
    a = got / np.maximum(np.linalg.norm(got, axis=1, keepdims=True), 1e-12)
    b = reference / np.maximum(np.linalg.norm(reference, axis=1, keepdims=True), 1e-12)
    return float(np.min(np.sum(a * b, axis=1)))


def _read_checked(path: Path, digest: str) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise ExportError(f"cannot read {path}: {exc}") from exc
    if hashlib.sha256(data).hexdigest() != digest:
        raise ExportError(f"{path} does not match its checksum (corrupt)")
    return data


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _session(model: bytes, threads: int) -> Any:
    import onnxruntime as ort

    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED
    options.log_severity_level = 3  # errors only
    try:
        return ort.InferenceSession(model, options, providers=["CPUExecutionProvider"])
    except Exception as exc:  # onnxruntime raises its own exception types for a bad graph
        raise ExportError(f"ONNX Runtime cannot load the export: {exc}") from exc


def _tokenizer(data: bytes, manifest: ExportManifest) -> Any:
    from tokenizers import Tokenizer

    try:
        tokenizer = Tokenizer.from_str(data.decode("utf-8"))
    except Exception as exc:  # tokenizers raises a plain Exception for a malformed file
        raise ExportError(f"unreadable tokenizer in the ONNX export: {exc}") from exc
    tokenizer.enable_truncation(max_length=manifest.max_tokens)
    tokenizer.enable_padding(pad_id=manifest.pad_id)
    return tokenizer


# ---- the export (build time; imports torch) ------------------------------------------------
def ensure_query_export(store: Store, model: str, encoder: Any) -> ExportManifest | None:
    """Export (or repair) the ONNX query encoder of a real sentence-transformers model into `store`'s
    build folder; nothing for other encoders (the test fake). The model's weights are loaded only when
    an export must be made."""
    from kg.search.encoders import SentenceTransformerEncoder

    if not isinstance(encoder, SentenceTransformerEncoder):
        return None
    return ensure_export(store, model, lambda: encoder.model)


def ensure_export(store: Store, model: str, load_model: Callable[[], Any]) -> ExportManifest | None:
    """Make sure `model`'s verified export is in `store` (export it when missing, corrupt or drifting);
    None when this model cannot be exported (queries then use sentence-transformers)."""
    folder = export_dir(store, model)
    try:
        return OnnxEncoder.open(folder, model, threads=1, full=True).manifest
    except ExportError as exc:
        if folder.exists():
            log.warning("rebuilding the ONNX query encoder: %s", exc)
    try:
        return export_model(load_model(), model, folder)
    except (ExportError, KGError) as exc:  # KGError: the model itself cannot be loaded
        log.warning("%s; queries will load sentence-transformers", exc)
        return None


def export_model(st_model: Any, name: str, folder: Path) -> ExportManifest:
    """Export a loaded sentence-transformers model into `folder` (replacing what is there) and verify
    it against the model on PROBES; ExportError when the model's shape is not supported or it fails."""
    if not _exportable(st_model):
        raise ExportError(f"model {name!r} is not a mean-pooled transformer: no ONNX export")
    reference = st_model.encode(list(PROBES), convert_to_numpy=True, normalize_embeddings=True)
    folder.parent.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
    work.chmod(0o755)
    try:
        try:
            _write_files(st_model, work)
        except ExportError:
            raise
        except Exception as exc:  # a model shape the exporter does not know: queries use the model itself
            raise ExportError(f"model {name!r} could not be exported to ONNX ({type(exc).__name__}: {exc})") \
                from exc
        manifest = ExportManifest(
            model=name, dimension=int(reference.shape[1]), max_tokens=int(st_model.max_seq_length),
            pad_id=int(st_model.tokenizer.pad_token_id or 0),
            checksums={f: _sha256(work / f) for f in (MODEL_FILE, TOKENIZER_FILE)},
            probes=list(PROBES), reference=reference.astype(float).round(7).tolist(), min_cosine=-1.0,
            built_at=datetime.now(UTC).isoformat(timespec="seconds"))
        write_json(work / MANIFEST_FILE, asdict(manifest))
        got = OnnxEncoder.open(work, name, threads=1, full=True).encode(PROBES)
        manifest.min_cosine = round(probe_cosine(got, reference), 8)
        write_json(work / MANIFEST_FILE, asdict(manifest))
        shutil.rmtree(folder, ignore_errors=True)
        work.rename(folder)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return manifest


def _exportable(st_model: Any) -> bool:
    names = [type(module).__name__ for module in st_model]
    if names not in (["Transformer", "Pooling"], ["Transformer", "Pooling", "Normalize"]):
        return False
    pooling = st_model[1].get_config_dict()
    return bool(pooling.get("pooling_mode") == "mean" or pooling.get("pooling_mode_mean_tokens") is True)


def _write_files(st_model: Any, work: Path) -> None:
    import torch

    class Pooled(torch.nn.Module):  # type: ignore[misc]  # torch is not followed (pyproject)
        def __init__(self, transformer: Any) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: Any, attention_mask: Any, token_type_ids: Any = None) -> Any:
            extra = {} if token_type_ids is None else {"token_type_ids": token_type_ids}  # BERT has them
            hidden = self.transformer(input_ids=input_ids, attention_mask=attention_mask,
                                      **extra).last_hidden_state
            mask = attention_mask.unsqueeze(-1).to(hidden.dtype)
            mean = (hidden * mask).sum(1) / mask.sum(1).clamp(min=1e-9)
            return torch.nn.functional.normalize(mean, p=2, dim=1)

    sample = st_model.tokenize(["a probe", "a longer probe text, padded against the first one"])
    names = [k for k in ("input_ids", "attention_mask", "token_type_ids") if k in sample]  # MPNet: no types
    args = tuple(sample[k] for k in names)
    axes = {k: {0: "batch", 1: "tokens"} for k in names}
    with warnings.catch_warnings(), torch.inference_mode():
        warnings.simplefilter("ignore")  # the tracer's notes on Python control flow (verified below)
        _export(Pooled(st_model[0].auto_model).eval(), args, work / MODEL_FILE, axes)
    with tempfile.TemporaryDirectory() as tmp:
        st_model.tokenizer.save_pretrained(tmp)
        source = Path(tmp) / TOKENIZER_FILE
        if not source.exists():
            raise ExportError("the model has no fast tokenizer (tokenizer.json): no ONNX export")
        shutil.copyfile(source, work / TOKENIZER_FILE)


def _export(module: Any, args: tuple[Any, ...], path: Path, axes: dict[str, dict[int, str]]) -> None:
    import torch

    try:
        torch.onnx.export(module, args, str(path), dynamo=False,
                          input_names=list(axes), output_names=["embedding"],
                          dynamic_axes={**axes, "embedding": {0: "batch"}}, opset_version=17)
    except Exception as exc:  # torch raises several types for a graph it cannot export
        raise ExportError(f"torch.onnx.export failed: {exc}") from exc
