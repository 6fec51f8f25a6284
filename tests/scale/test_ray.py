"""`kg build --ray`: the embedding as a Ray Data job gives the local build's vectors and answers."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

import kg.search.encoders
import kg.search.engine
from kg.cli import cli
from kg.model import Paper
from kg.scale import ray_embed
from kg.search.engine import load_searcher
from kg.search.index import index_dir, read_manifest
from kg.store import Store
from testkit.encoders import FakeEncoder

ray = pytest.importorskip("ray")
FAKE = "testkit.encoders:FakeEncoder"
WORDS = ("diffusion latent sampling guidance distillation video editing transformer consistency "
         "flow matching adapter control depth segmentation caption upscaling inpainting").split()
QUERIES = ["latent diffusion sampling", "video editing with control", "consistency distillation", "depth"]


@pytest.fixture(scope="module")
def local_ray() -> Iterator[None]:
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False,
             runtime_env=ray_embed.kg_runtime_env(ray_embed.EncoderSpec(factory=FAKE)))
    try:
        yield
    finally:
        ray.shutdown()


def synthetic_papers(n: int) -> list[Paper]:
    rng = np.random.default_rng(15)
    papers = []
    for i in range(n):
        words = [WORDS[j] for j in rng.integers(0, len(WORDS), 12)]
        papers.append(Paper(id=f"2401.{i:05d}", title=f"{words[0].title()} {words[1]} for {words[2]} {i}",
                            summary=f"We study {' '.join(words[3:7])}. Results on {' '.join(words[7:])} improve."))
    return papers


def _stores(tmp_path: Path, papers: list[Paper]) -> tuple[Store, Store]:
    stores = Store.at(tmp_path / "local"), Store.at(tmp_path / "ray")
    for store in stores:
        store.save_papers(papers)
    return stores


def _vectors(store: Store) -> tuple[np.ndarray, np.ndarray]:
    """The stored document vectors (float16) and sentence codes (int8 with a scale per row)."""
    folder = index_dir(store) / read_manifest(store).build_id  # type: ignore[union-attr]
    sentences = np.load(folder / "sentence_codes.npy") * np.load(folder / "sentence_scales.npy")[:, None]
    return np.load(folder / "doc_vectors.npy"), sentences


def test_ray_build_of_5000_documents_equals_the_local_build(tmp_path: Path, local_ray: None,
                                                           monkeypatch: pytest.MonkeyPatch):
    local, on_ray = _stores(tmp_path, synthetic_papers(5000))
    fake = lambda model=None, **_: FakeEncoder(32)  # noqa: E731
    monkeypatch.setattr(kg.search.engine, "load_encoder", fake)
    monkeypatch.setattr(kg.search.encoders, "load_encoder", fake)  # where kg.pipeline loads it
    res = CliRunner().invoke(cli, ["--data-dir", str(local.root), "build"])
    assert res.exit_code == 0, res.output
    jobs: list[ray_embed.RayEncoder] = []

    def fake_on_ray(model: str | None, address: str | None, actors: int | None = None,
                    staging: Path | None = None) -> ray_embed.RayEncoder:
        jobs.append(ray_embed.RayEncoder(ray_embed.EncoderSpec(factory=FAKE, dimension=32), actors=actors))
        return jobs[-1]

    monkeypatch.setattr(ray_embed, "ray_encoder", fake_on_ray)
    res = CliRunner().invoke(cli, ["--data-dir", str(on_ray.root), "build", "--ray", "--ray-actors", "2"])
    assert res.exit_code == 0, res.output
    assert len(jobs) == 1 and read_manifest(on_ray).n_documents == 5000  # type: ignore[union-attr]
    (doc_a, sent_a), (doc_b, sent_b) = _vectors(local), _vectors(on_ray)
    assert doc_a.shape == doc_b.shape == (5000, 32)
    assert np.abs(doc_a - doc_b).max() <= 1e-6 and np.abs(sent_a - sent_b).max() <= 1e-6
    a, b = load_searcher(local, FakeEncoder(32)), load_searcher(on_ray, FakeEncoder(32))
    for query in QUERIES:
        assert [h.id for h in a.search(query, k=10)] == [h.id for h in b.search(query, k=10)]


def test_the_ray_job_puts_every_vector_back_at_its_row(local_ray: None):
    texts = [f"text {i} " + " ".join(WORDS[i % 7: i % 7 + 3]) for i in range(9000)]
    encoder = ray_embed.RayEncoder(ray_embed.EncoderSpec(factory=FAKE, dimension=16), actors=2)
    got = encoder.encode(texts)
    assert np.array_equal(got, FakeEncoder(16).encode(texts))
    assert encoder.encode([]).shape == (0, 16)
    # to a cluster without a shared staging folder the parts travel through the object store
    shipped = ray_embed.RayEncoder(ray_embed.EncoderSpec(factory=FAKE, dimension=16), address="auto", actors=2)
    assert np.array_equal(shipped.encode(texts[:3000]), got[:3000])


def test_actor_plan_leaves_a_cpu_for_the_read_tasks():
    assert ray_embed.plan_actors(2.0, None) == (2, 0.5)
    assert ray_embed.plan_actors(64.0, None) == (64, 0.984)
    assert ray_embed.plan_actors(1.0, None) == (1, 0.5)


@pytest.mark.model
def test_ray_build_with_the_real_model_equals_the_local_build(tmp_path: Path, local_ray: None):
    local, on_ray = _stores(tmp_path, synthetic_papers(60))
    assert CliRunner().invoke(cli, ["--data-dir", str(local.root), "build"]).exit_code == 0
    res = CliRunner().invoke(cli, ["--data-dir", str(on_ray.root), "build", "--ray", "--ray-actors", "2"])
    assert res.exit_code == 0, res.output
    (doc_a, sent_a), (doc_b, sent_b) = _vectors(local), _vectors(on_ray)
    assert np.abs(doc_a - doc_b).max() <= 1e-6
    assert np.abs(sent_a.astype(np.float32) - sent_b.astype(np.float32)).max() <= 1e-3  # stored as float16
