"""Fixtures for search tests: a small hand-made corpus in tmp_path and the fake encoder."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.model import Note, Paper
from kg.search.build import build_search_index
from kg.search.engine import Searcher, load_searcher
from kg.store import Store
from testkit.encoders import FakeEncoder

LIST = "reading-lists/test-list.md"


def make_papers() -> list[Paper]:
    """Eight papers: titles, notes on some, one summary, one Chinese note, years, topics, categories."""
    return [
        Paper(id="2010.02502", title="Denoising Diffusion Implicit Models", published="2020-10-06",
              aliases=["DDIM"], primary_category="cs.LG", topics=["Diffusion model"],
              notes=[Note("DDIMs keep the training objective of DDPMs. They allow faster sampling with "
                          "speedups of 10x to 50x.", LIST, 12)]),
        Paper(id="2006.11239", title="Denoising Diffusion Probabilistic Models", published="2020-06-19",
              aliases=["DDPM"], primary_category="cs.LG", topics=["Diffusion model"],
              notes=[Note("A probabilistic framework that progressively denoises samples.", LIST, 20)]),
        Paper(id="2112.10752", title="High-Resolution Image Synthesis with Latent Diffusion Models",
              published="2021-12-20", aliases=["LDM"], primary_category="cs.CV",
              categories=["cs.CV"], topics=["Stable Diffusion > Series"],
              summary="We run diffusion in the latent space of a pretrained autoencoder. This cuts compute.",
              notes=[Note("Diffusion in the **latent space** of images, see [LDM](https://x.org/1).", LIST, 30)]),
        Paper(id="2202.00512", title="Progressive Distillation for Fast Sampling of Diffusion Models",
              published="2022-02-01", primary_category="cs.LG", topics=["Distillation"]),
        Paper(id="2201.09865", title="RePaint: Inpainting using Denoising Diffusion Probabilistic Models",
              published="2022-01-24", primary_category="cs.CV", topics=["Diffusion model"],
              notes=[Note("A mask-agnostic inpainting method.\nIt resamples known regions.", LIST, 40)]),
        Paper(id="2406.06525", title="Autoregressive Model Beats Diffusion: Llama for Scalable Image Generation",
              published="2024-06-10", primary_category="cs.CV", topics=["Autoregressive generation model"],
              notes=[Note("采用与Llama相同的网络结构实现了图像的自回归生成", LIST, 50)]),
        Paper(id="2303.01469", title="Consistency Models", published="2023-03-02", primary_category="cs.LG",
              topics=["Distillation"], notes=[Note("One-step generation by consistency distillation.", LIST, 60)]),
        Paper(id="1406.2661", title="Generative Adversarial Networks", published=None, status="mentioned",
              aliases=["GAN"]),
    ]


def save_corpus(root: Path, papers: list[Paper] | None = None) -> Store:
    store = Store(root)
    store.save_papers(papers if papers is not None else make_papers())
    return store


@pytest.fixture
def store(tmp_path: Path) -> Store:
    return save_corpus(tmp_path / "data")


@pytest.fixture
def encoder() -> FakeEncoder:
    return FakeEncoder(dimension=32)


@pytest.fixture
def searcher(store: Store, encoder: FakeEncoder) -> Searcher:
    build_search_index(store, encoder)
    return load_searcher(store, encoder)
