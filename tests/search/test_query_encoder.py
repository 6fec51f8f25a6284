"""The ONNX query encoder (kg build exports it; queries use it without torch) and its fallback."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import numpy as np
import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.search.encoders import DEFAULT_MODEL, QueryEncoder, SentenceTransformerEncoder
from kg.search.query_encoder import MIN_COSINE, PROBES, ExportError, OnnxEncoder, export_dir
from kg.store import Store
from tests.conftest import DATA

pytestmark = pytest.mark.model


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A copy of the default corpus after `kg build` (index and ONNX export, the real model)."""
    root = tmp_path_factory.mktemp("onnx") / "data"
    shutil.copytree(DATA / "corpus", root / "corpus")
    res = CliRunner().invoke(cli, ["--data-dir", str(root), "build"])
    assert res.exit_code == 0, res.output
    return Store(root)


def test_onnx_vectors_match_sentence_transformers(built):
    onnx = OnnxEncoder.open(export_dir(built, DEFAULT_MODEL), DEFAULT_MODEL, full=True)
    texts = [*PROBES, "few-step image generation by distillation", "Diﬀusion modèles", "many words " * 600]
    got = onnx.encode(texts)
    want = SentenceTransformerEncoder().encode(texts)
    assert got.shape == want.shape == (len(texts), 384) and got.dtype == np.float32
    assert float(np.min(np.sum(got * want, axis=1))) >= MIN_COSINE
    single = np.vstack([onnx.encode([t]) for t in texts])  # unpadded one by one: the same numbers
    assert float(np.min(np.sum(single * want, axis=1))) >= MIN_COSINE


def test_search_never_imports_torch_when_the_export_exists(built):
    code = ("import sys, runpy\n"
            f"sys.argv = ['kg', '--data-dir', {str(built.root)!r}, 'search', 'which papers accelerate sampling?',"
            " '--json']\n"
            "try:\n    runpy.run_module('kg', run_name='__main__')\nexcept SystemExit:\n    pass\n"
            "heavy = [m for m in ('torch', 'transformers', 'sentence_transformers') if m in sys.modules]\n"
            "print('HEAVY', heavy)\n")
    env = {**os.environ, "HF_HUB_OFFLINE": "1"}
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True).stdout
    assert out.strip().endswith("HEAVY []"), out[-500:]
    hits = json.loads(out[:out.rindex("HEAVY")])["hits"]
    assert hits and hits[0]["dense_score"] is not None


def test_a_corrupt_export_falls_back_to_sentence_transformers_and_build_repairs_it(built, caplog):
    folder = export_dir(built, DEFAULT_MODEL)
    model = folder / "model.onnx"
    good = model.read_bytes()
    try:
        model.write_bytes(good[:1000] + b"\0" * 64 + good[1064:])  # same size, damaged weights
        with pytest.raises(ExportError, match="checksum"):
            OnnxEncoder.open(folder, DEFAULT_MODEL)
        encoder = QueryEncoder(built)
        vector = encoder.encode(["image inpainting"])
        assert encoder.backend == "sentence-transformers" and "kg build" in caplog.text
        reference = SentenceTransformerEncoder().encode(["image inpainting"])
        np.testing.assert_allclose(vector, reference, atol=1e-5)
        res = CliRunner().invoke(cli, ["--data-dir", str(built.root), "build"])  # repairs the export
        assert res.exit_code == 0, res.output
        assert QueryEncoder(built).backend == "onnx"
    finally:
        if QueryEncoder(built).backend != "onnx":
            model.write_bytes(good)


def test_a_missing_export_falls_back(tmp_path):
    encoder = QueryEncoder(Store(tmp_path))
    assert not encoder.loaded and encoder.name == DEFAULT_MODEL
    assert encoder.backend == "sentence-transformers" and encoder.dimension == 384
