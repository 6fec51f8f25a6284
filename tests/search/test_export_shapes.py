"""The ONNX query export for a sentence-transformers model that is not BERT-shaped: an MPNet (the shape of
all-mpnet-base-v2) whose tokenizer gives no token type ids. Built here from a tiny random configuration,
with a word-level tokenizer written for the probes: no download, the real exporter and ONNX Runtime."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from kg.search.query_encoder import MIN_COSINE, PROBES, OnnxEncoder, export_model

pytestmark = pytest.mark.model  # torch and the exporter: seconds, not the fast lane


def _tiny_mpnet(root: Path):  # type: ignore[no-untyped-def]
    from sentence_transformers import SentenceTransformer
    from sentence_transformers import models as st_models
    from tokenizers import Tokenizer, models, pre_tokenizers
    from transformers import MPNetConfig, MPNetModel, PreTrainedTokenizerFast

    words = sorted({w for probe in PROBES for w in re.findall(r"\w+", probe.lower())})
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3, **{w: i + 4 for i, w in enumerate(words)}}
    tokenizer = Tokenizer(models.WordLevel(vocab, unk_token="<unk>"))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>",
                                   pad_token="<pad>", unk_token="<unk>",
                                   model_input_names=["input_ids", "attention_mask"])
    config = MPNetConfig(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=1, num_attention_heads=2,
                         intermediate_size=37, max_position_embeddings=80, pad_token_id=1)
    MPNetModel(config).save_pretrained(root)
    fast.save_pretrained(root)
    transformer = st_models.Transformer(str(root), max_seq_length=64)
    return SentenceTransformer(modules=[transformer, st_models.Pooling(32, "mean"), st_models.Normalize()],
                               device="cpu")


def test_a_model_without_token_type_ids_exports_and_verifies(tmp_path: Path):
    model = _tiny_mpnet(tmp_path / "tiny-mpnet")
    assert "token_type_ids" not in model.tokenize(["a probe"])
    manifest = export_model(model, "tiny-mpnet", tmp_path / "export")
    assert manifest.min_cosine >= MIN_COSINE
    encoder = OnnxEncoder.open(tmp_path / "export", "tiny-mpnet")
    assert [i.name for i in encoder.session.get_inputs()] == ["input_ids", "attention_mask"]
    assert encoder.encode(["which papers accelerate sampling?"]).shape == (1, 32)
