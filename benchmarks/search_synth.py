"""Synthetic corpora for the search benchmarks (stated, as the issue allows).

A pool of 2,000 sentences and 1,000 titles is recombined from a small hand-written vocabulary
(deterministically) and embedded ONCE with the real model (cached in benchmarks/results/); each
synthetic paper is a pool title plus two to five pool sentences. A document's vector is derived from
its sentences' vectors (kg/search/index.py), so every vector in a synthetic index is exactly what the
real model gives for that text, without embedding millions of sentences on two cores.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Sequence
from pathlib import Path

import numpy as np

from benchmarks.common import RESULTS
from kg.model import Note, Paper
from kg.search.encoders import Encoder, SentenceTransformerEncoder
from kg.store import DEFAULT_DATA_DIR, read_jsonl

REPO = Path(__file__).resolve().parent.parent
SIZES = (1_000, 10_000, 100_000)
N_SENTENCES, N_TITLES = 2_000, 1_000

SUBJECTS = (
    "The proposed sampler|A distilled student model|Our latent diffusion model|The consistency "
    "model|A cascaded pipeline|The transformer backbone|An adversarial objective|The autoencoder|A "
    "flow matching model|The autoregressive decoder|A lightweight adapter|The guidance scheme|A "
    "retrieval module|The score network|A frozen text encoder|The video model"
).split("|")
VERBS = (
    "reduces|improves|accelerates|stabilises|controls|scales|compresses|preserves|generates|"
    "refines|predicts|edits|aligns|distils|conditions|evaluates"
).split("|")
OBJECTS = (
    "the number of denoising steps|sample quality|identity features|high-resolution images|video "
    "frames|the latent space|text-image alignment|training compute|inference latency|spatial "
    "layouts|fine-grained details|3D shapes|masked regions|the noise schedule|segmentation "
    "maps|artistic styles"
).split("|")
QUALIFIERS = (
    "on ImageNet|without retraining|in under a second|at 1024px resolution|with a frozen text "
    "encoder|on consumer GPUs|across many benchmarks|using only four steps|under a fixed budget|with "
    "human preference data|for personalised generation|in the wavelet domain|with classifier-free "
    "guidance|from a single image"
).split("|")
ADJECTIVES = (
    "Scalable|Efficient|Progressive|Adversarial|Latent|Hierarchical|Controllable|Consistent|"
    "Fast|Masked|Conditional|Cascaded|Rectified|Personalised|Unified"
).split("|")
CORES = (
    "Diffusion Models|Consistency Distillation|Flow Matching|Vision Transformers|Score "
    "Networks|Autoregressive Priors|Autoencoders|Guidance|Adapters|Video Generators|Image "
    "Editors|Samplers|Token Predictors|Noise Schedules|Reward Models"
).split("|")
TASKS = (
    "Text-to-Image Synthesis|Few-Step Generation|Image Inpainting|Video "
    "Generation|Super-Resolution|Identity Preservation|3D Object Generation|Image Editing|Layout "
    "Control|Semantic Segmentation|Style Transfer|High-Resolution Synthesis"
).split("|")
TOPICS = (
    "Diffusion model|Distillation|Autoregressive generation model|Image Generation > Editing|Survey|Video"
).split("|")
SYNTHETIC_QUERIES = (
    "reducing the number of denoising steps without retraining|fast few-step image "
    "generation|identity preserving personalised generation|video generation at high "
    "resolution|controlling spatial layouts of generated images|masked region inpainting|distilling a"
    " sampler into a student model|aligning text and images with guidance|autoencoder latent space "
    "compression|3D shape generation from a single image"
).split("|")


# ---- synthetic data ----------------------------------------------------------------------------
def make_pool() -> tuple[list[str], list[str]]:
    """2,000 distinct sentences and 1,000 distinct titles recombined from the vocabulary above."""
    rng = np.random.default_rng(7)
    sentences: dict[str, None] = {}
    while len(sentences) < N_SENTENCES:
        s, v, o, q = (rng.integers(len(x)) for x in (SUBJECTS, VERBS, OBJECTS, QUALIFIERS))
        sentences[f"{SUBJECTS[s]} {VERBS[v]} {OBJECTS[o]} {QUALIFIERS[q]}."] = None
    titles: dict[str, None] = {}
    while len(titles) < N_TITLES:
        a, c, t = (rng.integers(len(x)) for x in (ADJECTIVES, CORES, TASKS))
        titles[f"{ADJECTIVES[a]} {CORES[c]} for {TASKS[t]}"] = None
    return list(sentences), list(titles)


def load_pool(encoder: Encoder) -> dict[str, np.ndarray]:
    """Text -> real-model vector for the pool, cached in benchmarks/results/ (the encoding takes ~30 s)."""
    sentences, titles = make_pool()
    texts = sentences + titles
    digest = hashlib.sha256("\n".join([encoder.name, *texts]).encode()).hexdigest()[:16]
    path = RESULTS / f"search-pool-{digest}.npy"
    if path.exists():
        vectors = np.load(path)
    else:
        vectors = encoder.encode(texts, batch_size=64)
        RESULTS.mkdir(parents=True, exist_ok=True)
        np.save(path, vectors)
    return dict(zip(texts, vectors, strict=True))


def make_papers(n: int) -> list[Paper]:
    """n synthetic papers: a pool title, 2-5 pool sentences as one note, a year, a topic, a category."""
    sentences, titles = make_pool()
    rng = np.random.default_rng(n)
    papers = []
    for i in range(n):
        picked = [
            sentences[j] for j in rng.choice(len(sentences), size=int(rng.integers(2, 6)), replace=False)
        ]
        papers.append(
            Paper(
                id=f"syn:{i:06d}",
                title=titles[int(rng.integers(len(titles)))],
                published=f"{2015 + i % 10}-01-01",
                primary_category=("cs.CV", "cs.LG")[i % 2],
                topics=[TOPICS[i % len(TOPICS)]],
                notes=[Note(" ".join(picked), "synthetic.md", i + 1)],
            )
        )
    return papers


class PoolEncoder:
    """The real model's vectors: looked up for pool texts (they were made by the model), encoded for
    anything else (every query)."""

    def __init__(self, real: Encoder, table: dict[str, np.ndarray]):
        self.real, self.table, self.name = real, table, real.name

    @property
    def dimension(self) -> int:
        return self.real.dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if all(t in self.table for t in texts):
            return np.stack([self.table[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)
        return self.real.encode(texts, batch_size=batch_size)


def bench_queries() -> list[str]:
    """The labelled queries of the default corpus and ten synthetic ones."""
    labelled = [str(row["query"]) for row in read_jsonl(DEFAULT_DATA_DIR / "eval" / "queries.jsonl")]
    return labelled + SYNTHETIC_QUERIES


def synthetic_doc_vectors(n: int, pool: dict[str, np.ndarray], chunk: int = 50_000) -> Iterator[np.ndarray]:
    """Document vectors of n synthetic papers, chunk by chunk: normalise(title + mean(2-5 sentences)),
    the same rule as kg.search.index.doc_vectors_from, with the real model's vectors of the pool."""
    sentences, titles = make_pool()
    s_vecs = np.stack([pool[t] for t in sentences]).astype(np.float32)
    t_vecs = np.stack([pool[t] for t in titles]).astype(np.float32)
    rng = np.random.default_rng(n)
    for start in range(0, n, chunk):
        m = min(chunk, n - start)
        counts = rng.integers(2, 6, m)
        picks = rng.integers(0, len(sentences), (m, 5))
        mask = np.arange(5)[None, :] < counts[:, None]
        means = (s_vecs[picks] * mask[..., None]).sum(axis=1) / counts[:, None]
        vecs = t_vecs[rng.integers(0, len(titles), m)] + means
        yield (vecs / np.linalg.norm(vecs, axis=1, keepdims=True)).astype(np.float32)


def pool_for(model: str | None = None) -> dict[str, np.ndarray]:
    return load_pool(SentenceTransformerEncoder(model))
