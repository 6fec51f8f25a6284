"""The fake encoder, the embedding cache, and the real encoder's naming (no model load here)."""

from __future__ import annotations

import numpy as np

from kg.search.encoders import (
    DEFAULT_MODEL,
    CachedEncoder,
    EmbeddingCache,
    Encoder,
    SentenceTransformerEncoder,
    bundled_model_path,
    text_key,
)
from kg.store import Store
from testkit.encoders import FakeEncoder


def test_fake_encoder_is_deterministic_normalised_float32_and_word_sensitive():
    enc = FakeEncoder(dimension=24)
    a = enc.encode(["faster sampling of diffusion", "faster sampling", "image inpainting", ""])
    assert a.dtype == np.float32 and a.shape == (4, 24)
    np.testing.assert_allclose(np.linalg.norm(a, axis=1), 1.0, rtol=1e-6)
    np.testing.assert_array_equal(a, FakeEncoder(dimension=24).encode(
        ["faster sampling of diffusion", "faster sampling", "image inpainting", ""]))
    assert a[0] @ a[1] > a[0] @ a[2]
    assert isinstance(enc, Encoder)


def test_cached_encoder_embeds_each_distinct_text_once(tmp_path):
    inner = FakeEncoder()
    cache = EmbeddingCache.for_store(Store(tmp_path), inner.name)
    cached = CachedEncoder(inner, cache)
    first = cached.encode(["a b", "c d", "a b"])
    assert inner.encoded == ["a b", "c d"] and cached.embedded == 2 and cached.reused == 1
    second = cached.encode(["c d", "e f"])
    assert inner.encoded == ["a b", "c d", "e f"]
    np.testing.assert_array_equal(first[1], second[0])


def test_cache_persists_per_model_and_forgets_unused_texts(tmp_path):
    store = Store(tmp_path)
    cached = CachedEncoder(FakeEncoder(), EmbeddingCache.for_store(store, "fake"))
    cached.encode(["kept", "dropped"])
    cached.cache.retain({text_key("kept")})
    cached.cache.save()
    again = EmbeddingCache.for_store(store, "fake")
    assert set(again.vectors) == {text_key("kept")}
    assert EmbeddingCache.for_store(store, "other-model").vectors == {}


def test_cache_of_another_dimension_is_cleared_not_mixed(tmp_path):
    store = Store(tmp_path)
    cached = CachedEncoder(FakeEncoder(dimension=32), EmbeddingCache.for_store(store, "fake"))
    cached.encode(["old text"])
    cached.cache.save()
    wider = CachedEncoder(FakeEncoder(dimension=48), EmbeddingCache.for_store(store, "fake"))
    out = wider.encode(["old text", "new text"])
    assert out.shape == (2, 48)


def test_unreadable_cache_file_is_ignored(tmp_path):
    store = Store(tmp_path)
    path = EmbeddingCache.for_store(store, "fake").path
    path.parent.mkdir(parents=True)
    path.write_bytes(b"not an npz file")
    assert EmbeddingCache.for_store(store, "fake").vectors == {}


def test_default_model_is_the_bundled_one_and_names_are_stable():
    assert bundled_model_path() is not None and (bundled_model_path() / "model.safetensors").exists()
    assert SentenceTransformerEncoder().name == DEFAULT_MODEL
    assert SentenceTransformerEncoder("all-MiniLM-L6-v2").name == DEFAULT_MODEL
    assert SentenceTransformerEncoder("BAAI/bge-small-en-v1.5").name == "BAAI/bge-small-en-v1.5"
    assert not SentenceTransformerEncoder().loaded  # nothing is loaded until the model is used


def test_cache_keys_ending_in_zero_bytes_survive_a_save(tmp_path):
    """numpy's "S16" strips trailing NUL bytes: about one key in 256 came back shorter and missed."""
    store = Store(tmp_path)
    cache = EmbeddingCache.for_store(store, "fake")
    keys = [bytes(15) + b"\x01", bytes(16), b"\x07" + bytes(15)]
    cache.vectors = {k: np.eye(4, dtype=np.float32)[i] for i, k in enumerate(keys)}
    cache.save()
    assert set(EmbeddingCache.for_store(store, "fake").vectors) == set(keys)
