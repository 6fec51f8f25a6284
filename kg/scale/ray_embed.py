"""Document embedding as a Ray Data job (`kg build --ray [ADDRESS]`).

`RayEncoder` is an `Encoder` (kg.search.encoders' seam): the build calls `encode(texts)` exactly as it
calls the local model, so everything around the embedding (documents, the embedding cache, the faiss
index, BM25, the manifest) is the one code path of `kg build`. Inside, `encode`:

1. writes the texts as Parquet parts (row number, text) in a staging folder;
2. runs `read_parquet → map_batches(EmbedActor)` with a pool of actors, each holding one copy of
   the model (loaded once per actor, not per batch);
3. puts each vector back at its row, so the result equals the local path's row for row.

With no address a local Ray is started (and stopped after the job); with one (`auto`, `ray://host:10001`)
the job runs on that cluster, whose workers must see the staging folder (a shared filesystem; see
docs/scale.md). An already initialised Ray (a test fixture, a notebook) is used as it is.
"""

from __future__ import annotations

import importlib
import importlib.util
import logging
import os
import shutil
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa

from kg.errors import BadInputError
from kg.scale.parquet import part_files, read_part, write_parts
from kg.search.encoders import BATCH_SIZE, Encoder, SentenceTransformerEncoder, load_encoder

log = logging.getLogger(__name__)

RAY_BATCH = 256  # texts handed to an actor at once (it encodes them BATCH_SIZE at a time)
TEXTS_PER_PART = 4096  # rows per staged Parquet part: the unit Ray Data splits the work by
# This checkout's `kg` package, shipped to the workers (a cluster needs only the dependencies installed)
KG_PACKAGE = Path(__file__).resolve().parent.parent


@dataclass(frozen=True)
class EncoderSpec:
    """What each actor builds its encoder from (picklable, unlike a loaded model).

    model: a sentence-transformers name or path (None: the bundled all-MiniLM-L6-v2).
    factory: instead, "module:callable" called as callable(dimension, name=name) (tests and benchmarks
        pass a deterministic fake); its top-level package is shipped to the workers with kg.
    """

    model: str | None = None
    factory: str | None = None
    dimension: int | None = None
    factory_name: str = "fake"

    @property
    def name(self) -> str:
        if self.factory:
            return self.factory_name
        return SentenceTransformerEncoder(self.model).name

    def make(self) -> Encoder:
        if self.factory:
            module, _, attr = self.factory.partition(":")
            build: Any = getattr(importlib.import_module(module), attr)
            encoder: Encoder = build(self.dimension, name=self.factory_name)
            return encoder
        return load_encoder(self.model, threads=1)

    def packages(self) -> list[str]:
        """The folders of the packages the workers need: kg's, and the factory's."""
        folders = [str(KG_PACKAGE)]
        if self.factory:
            spec = importlib.util.find_spec(self.factory.split(".", 1)[0].split(":", 1)[0])
            if spec is not None and spec.submodule_search_locations:
                folders.append(str(Path(list(spec.submodule_search_locations)[0])))
        return folders


class EmbedActor:
    """A Ray Data actor: loads the encoder once, then embeds batch after batch."""

    def __init__(self, spec: EncoderSpec):
        self.encoder = spec.make()

    def __call__(self, batch: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        texts = [str(t) for t in batch["text"]]
        vectors = self.encoder.encode(texts, batch_size=BATCH_SIZE)
        return {"row": np.asarray(batch["row"], dtype=np.int64), "vector": vectors}


class RayEncoder:
    """An `Encoder` whose `encode` runs as a Ray Data job (see the module doc).

    address: None for a local Ray; else a cluster address for `ray.init`.
    actors: model copies working at once (None: one per CPU of the cluster). They share all CPUs but
        one, which stays free for Ray Data's read tasks (actors holding every CPU would starve them).
    num_cpus: CPUs of a local Ray (None: all of the machine's).
    staging: a folder every Ray node can read (a shared filesystem) for the staged Parquet parts; the
        workers then read them with `read_parquet`. None: a local temporary folder, read by the
        workers directly on a local Ray and shipped through Ray's object store to a cluster.
    """

    def __init__(self, spec: EncoderSpec, *, address: str | None = None, actors: int | None = None,
                 num_cpus: int | None = None, staging: Path | None = None):
        if actors is not None and actors < 1:
            raise BadInputError(f"--ray needs at least one actor, not {actors}")
        self.spec = spec
        self.name = spec.name
        self.address = address
        self.actors = actors
        self.num_cpus = num_cpus
        self.staging = staging
        self._local: Encoder | None = None

    @property
    def dimension(self) -> int:
        if self.spec.factory and self.spec.dimension:
            return self.spec.dimension
        if self._local is None:
            self._local = self.spec.make()
        return self._local.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        folder = Path(tempfile.mkdtemp(prefix="kg-ray-", dir=self.staging))
        try:
            stage_texts(folder, texts)
            with ray_session(self.address, self.num_cpus, self.spec):
                return self._run(folder, len(texts))
        finally:
            shutil.rmtree(folder, ignore_errors=True)

    def _run(self, folder: Path, n: int) -> np.ndarray:
        import ray
        import ray.data

        ray.data.DataContext.get_current().enable_progress_bars = False
        resources: dict[str, float] = ray.cluster_resources()  # type: ignore[no-untyped-call]
        actors, cpus = plan_actors(float(resources.get("CPU", 1.0)), self.actors)
        # Ray Data coalesces small files into one block, and one block goes to one actor: split again
        parts = part_files(folder)
        blocks = max(len(parts), 2 * actors)
        if self.address is None or self.staging is not None:
            source = ray.data.read_parquet(str(folder))
        else:  # a cluster whose nodes cannot see this machine's disk: the parts go through the object store
            source = ray.data.from_arrow([read_part(p) for p in parts])
        ds = source.repartition(blocks).map_batches(
            EmbedActor, fn_constructor_args=(self.spec,), batch_size=RAY_BATCH, batch_format="numpy",
            compute=ray.data.ActorPoolStrategy(size=actors), num_cpus=cpus)
        out = np.full((n, 0), 0.0, dtype=np.float32)
        filled = np.zeros(n, dtype=bool)
        for batch in ds.iter_batches(batch_format="numpy", batch_size=None):
            rows, vectors = np.asarray(batch["row"]), np.asarray(batch["vector"], dtype=np.float32)
            if out.shape[1] == 0:
                out = np.zeros((n, vectors.shape[1]), dtype=np.float32)
            out[rows], filled[rows] = vectors, True
        if not filled.all():
            raise BadInputError(f"the Ray job returned {int(filled.sum())} of {n} vectors")
        return out


def plan_actors(cluster_cpus: float, actors: int | None) -> tuple[int, float]:
    """(actors, CPUs each): all CPUs but one shared by the actors (default: one actor per CPU)."""
    count = actors or max(1, int(cluster_cpus))
    free = max(cluster_cpus - 1.0, 0.5)
    return count, round(min(1.0, free / count), 3)


def stage_texts(folder: Path, texts: Sequence[str], rows_per_part: int = TEXTS_PER_PART) -> None:
    """The texts as Parquet parts of (row, text): the partitions the Ray job reads."""
    table = pa.table({"row": pa.array(np.arange(len(texts), dtype=np.int64)),
                      "text": pa.array(list(texts), pa.string())})
    write_parts(folder, table, rows_per_part=rows_per_part)


def kg_runtime_env(spec: EncoderSpec | None = None) -> dict[str, Any]:
    """Ray's runtime environment for kg's jobs: this `kg` package (and a factory's package) shipped to
    every worker (pass it to `ray.init` when you start Ray yourself)."""
    return {"py_modules": (spec or EncoderSpec()).packages()}


class ray_session:  # noqa: N801 - used as a context manager, like contextlib's helpers
    """Ray for the duration of a job: an initialised Ray is reused, else one is started and stopped."""

    def __init__(self, address: str | None, num_cpus: int | None, spec: EncoderSpec | None = None):
        self.address = address
        self.num_cpus = num_cpus
        self.spec = spec
        self.started = False

    def __enter__(self) -> ray_session:
        try:
            import ray
        except ImportError as exc:
            raise BadInputError("--ray needs Ray: pip install 'paper-kg[scale]'") from exc

        if not ray.is_initialized():
            kwargs: dict[str, Any] = {"include_dashboard": False, "log_to_driver": False,
                                      "configure_logging": False, "runtime_env": kg_runtime_env(self.spec)}
            if self.address:
                kwargs["address"] = self.address
            else:
                kwargs["num_cpus"] = self.num_cpus or os.cpu_count() or 1
            try:
                ray.init(**kwargs)
            except (ConnectionError, RuntimeError, ValueError) as exc:
                raise BadInputError(f"cannot start or reach Ray ({self.address or 'local'}): {exc}") from exc
            self.started = True
        return self

    def __exit__(self, *exc: object) -> None:
        if self.started:
            import ray

            ray.shutdown()


def ray_encoder(model: str | None, address: str | None, actors: int | None = None,
                staging: Path | None = None) -> RayEncoder:
    """The encoder of `kg build --ray [ADDRESS]` ("local" or None: a local Ray)."""
    return RayEncoder(EncoderSpec(model), address=None if address in (None, "", "local") else address,
                      actors=actors, staging=staging)
