"""Search benchmark: default-corpus build time, and warm query latency, recall, memory and index size
at 1k, 10k and 100k documents against a brute-force `sentence_transformers.util.semantic_search`.

Run: python benchmarks/bench_search.py [--sizes 1000,10000,100000] [--repeat 3]
Writes benchmarks/results/search.json. Every size runs in its own process (its peak memory is its own).

Synthetic corpora: a pool of 2,000 sentences and 1,000 titles is generated from a small vocabulary
(deterministic) and embedded ONCE with the real model; each synthetic paper is a pool title plus two
to five pool sentences. Because a document's vector is derived from its sentences' vectors (see
kg/search/index.py), every vector in a synthetic index is exactly what the real model gives for that text,
without embedding 350k sentences on two cores. Queries are encoded by the real model at query time.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks.common import RESULTS, save_results  # noqa: E402
from kg.corpus import Corpus  # noqa: E402
from kg.model import Note, Paper  # noqa: E402
from kg.search.documents import build_documents  # noqa: E402
from kg.search.encoders import SentenceTransformerEncoder  # noqa: E402
from kg.search.engine import Searcher  # noqa: E402
from kg.search.index import build_dense_index, build_index, index_dir, load_index  # noqa: E402
from kg.store import DEFAULT_DATA_DIR, Store, read_jsonl  # noqa: E402

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


def load_pool(encoder: SentenceTransformerEncoder) -> dict[str, np.ndarray]:
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

    def __init__(self, real: SentenceTransformerEncoder, table: dict[str, np.ndarray]):
        self.real, self.table, self.name = real, table, real.name

    @property
    def dimension(self) -> int:
        return self.real.dimension

    def encode(self, texts, *, batch_size: int = 64, progress: bool = False) -> np.ndarray:
        if all(t in self.table for t in texts):
            return np.stack([self.table[t] for t in texts]) if texts else np.zeros((0, 384), np.float32)
        return self.real.encode(texts, batch_size=batch_size)


# ---- measuring -----------------------------------------------------------------------------------
def bench_queries() -> list[str]:
    labelled = [row["query"] for row in read_jsonl(DEFAULT_DATA_DIR / "eval" / "queries.jsonl")]
    return labelled + SYNTHETIC_QUERIES


def latency(fn, queries: list[str], repeat: int) -> dict[str, float]:
    """p50/p95 in ms of fn(query) over `repeat` passes after one warm-up pass."""
    return latencies({"fn": fn}, queries, repeat)["fn"]


def latencies(fns: dict, queries: list[str], repeat: int) -> dict[str, dict[str, float]]:
    """p50/p95 in ms of each fn(query), measured interleaved (query by query, function by function) so
    that every function meets the same background load; one warm-up pass first."""
    for q in queries:
        for fn in fns.values():
            fn(q)
    times: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(repeat):
        for q in queries:
            for name, fn in fns.items():
                start = time.perf_counter()
                fn(q)
                times[name].append(time.perf_counter() - start)
    out = {}
    for name, values in times.items():
        ms = np.array(values) * 1000
        out[name] = {
            "p50_ms": round(float(np.percentile(ms, 50)), 3),
            "p95_ms": round(float(np.percentile(ms, 95)), 3),
        }
    if "encoder" in times and "hybrid_ranking" in times:  # paired: the same query, moments apart
        rest = (np.array(times["hybrid_ranking"]) - np.array(times["encoder"])) * 1000
        out["hybrid_ranking_minus_encoder"] = {"p50_ms": round(float(np.percentile(rest, 50)), 3)}
    return out


def rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def run_size(n: int, repeat: int) -> dict[str, object]:
    """Everything measured at one corpus size (run in a child process)."""
    import torch
    from sentence_transformers import util

    real = SentenceTransformerEncoder()
    encoder = PoolEncoder(real, load_pool(real))
    out: dict[str, object] = {"documents": n, "rss_after_model_mb": round(rss_mb(), 1)}
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        start = time.perf_counter()
        documents = build_documents(Corpus(make_papers(n)))
        manifest = build_index(store, encoder, documents)
        out["build_s"] = round(time.perf_counter() - start, 2)
        start = time.perf_counter()
        searcher = Searcher(documents, load_index(store, encoder, documents), encoder)
        out["load_s"] = round(time.perf_counter() - start, 2)
        out.update(
            index_type=manifest.index_type,
            sentences=manifest.n_sentences,
            index_mb=round(
                sum(p.stat().st_size for p in index_dir(store).rglob("*") if p.is_file()) / 2**20, 1
            ),
        )
        queries = bench_queries()
        corpus = torch.from_numpy(np.array(searcher.index.doc_vectors, dtype=np.float32))
        out["load_average_before"] = round(os.getloadavg()[0], 2)
        out["latency"] = measure_latency(searcher, util, corpus, queries, repeat)
        out["load_average_after"] = round(os.getloadavg()[0], 2)
        out["dense_recall_at_10"] = dense_recall(searcher, util, corpus, queries)
        out["flat_vs_hnsw"] = compare_index_types(searcher, queries)
    out["peak_rss_mb"] = round(rss_mb(), 1)
    return out


def measure_latency(searcher: Searcher, util, corpus, queries: list[str], repeat: int) -> dict[str, object]:
    import torch

    qvecs = {q: searcher.encode_query(q) for q in queries}
    enc = searcher.encoder

    def brute(vectors):
        return util.semantic_search(
            torch.from_numpy(vectors), corpus, top_k=10, score_function=util.dot_score
        )

    by_threads = {}
    for threads in (1, 2):  # the baseline's search stage gets its better thread count
        torch.set_num_threads(threads)
        by_threads[threads] = latency(lambda q: brute(qvecs[q][None, :]), queries, repeat)
    best = min(by_threads, key=lambda t: by_threads[t]["p50_ms"])
    cos_sim = latency(
        lambda q: util.semantic_search(torch.from_numpy(qvecs[q][None, :]), corpus, top_k=10), queries[:10], 1
    )
    out = latencies(
        {
            "encoder": lambda q: enc.encode([q]),
            "hybrid_ranking": lambda q: searcher.search(q, 10, "hybrid", evidence=False),
            "hybrid_with_sentences": lambda q: searcher.search(q, 10, "hybrid"),
            "dense_with_sentences": lambda q: searcher.search(q, 10, "dense"),
            "bm25_with_sentences": lambda q: searcher.search(q, 10, "bm25"),
            "baseline_encode_and_semantic_search": lambda q: brute(enc.encode([q])),
        },
        queries,
        repeat,
    )
    faiss_stage = latency(lambda q: searcher.index.dense.search(qvecs[q][None, :], 10), queries, repeat)
    return {
        **out,
        "search_stage_faiss": faiss_stage,
        "search_stage_semantic_search": {**by_threads[best], "torch_threads": best},
        "search_stage_semantic_search_by_threads": by_threads,
        "search_stage_semantic_search_cos_sim": cos_sim,
    }


def dense_recall(searcher: Searcher, util, corpus, queries: list[str]) -> dict[str, float]:
    """faiss top-10 vs brute force top-10 on the same vectors; and the dense mode's top-10 with the
    index used vs with an exact index swapped in (the whole pipeline's approximation)."""
    import torch

    stage, pipeline = [], []
    exact = build_dense_index(np.asarray(searcher.index.doc_vectors), hnsw_threshold=10**12)
    for q in queries:
        qvec = searcher.encode_query(q)
        brute = {
            h["corpus_id"] for h in util.semantic_search(torch.from_numpy(qvec[None, :]), corpus, top_k=10)[0]
        }
        stage.append(len(brute & set(searcher.index.dense.search(qvec[None, :], 10)[1][0].tolist())) / 10)
        approx = {h.id for h in searcher.search(q, 10, "dense", evidence=False)}
        index, searcher.index.dense = searcher.index.dense, exact
        truth = {h.id for h in searcher.search(q, 10, "dense", evidence=False)}
        searcher.index.dense = index
        pipeline.append(len(approx & truth) / 10)
    return {"search_stage": round(float(np.mean(stage)), 4), "dense_mode": round(float(np.mean(pipeline)), 4)}


def compare_index_types(searcher: Searcher, queries: list[str]) -> dict[str, object]:
    """Search-only latency of exact (flat) and HNSW indexes over the same vectors, and HNSW's build time."""
    vectors = np.ascontiguousarray(searcher.index.doc_vectors, dtype=np.float32)
    start = time.perf_counter()
    hnsw = build_dense_index(vectors, hnsw_threshold=0)
    build = time.perf_counter() - start
    flat = build_dense_index(vectors, hnsw_threshold=10**12)
    qvecs = {q: searcher.encode_query(q)[None, :] for q in queries}
    k = searcher.settings.candidates
    return {
        "hnsw_build_s": round(build, 2),
        "flat_top100": latency(lambda q: flat.search(qvecs[q], k), queries, 3),
        "hnsw_top100": latency(lambda q: hnsw.search(qvecs[q], k), queries, 3),
    }


# ---- the default corpus ---------------------------------------------------------------------------
def bench_default_build(repeat: int = 3) -> dict[str, object]:
    """`kg build` in a fresh process on a copy of the default corpus: cold (no vectors cached: imports,
    model load, embedding every sentence) and warm (`--force` with the embedding cache)."""
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    cold, warm = [], []
    with tempfile.TemporaryDirectory() as tmp:
        data = Path(tmp) / "data"
        shutil.copytree(DEFAULT_DATA_DIR / "corpus", data / "corpus")
        command = [sys.executable, "-m", "kg", "--data-dir", str(data), "build", "--json"]
        for _ in range(repeat):
            shutil.rmtree(data / "build", ignore_errors=True)
            cold.append(_timed_run(command, env))
            warm.append(_timed_run([*command, "--force"], env))
        manifest = json.loads(
            subprocess.run(command, env=env, cwd=REPO, capture_output=True, text=True).stdout
        )
    return {
        "papers": manifest["n_documents"],
        "sentences": manifest["n_sentences"],
        "cold_s": round(float(np.median(cold)), 2),
        "cold_runs_s": [round(x, 2) for x in cold],
        "warm_cache_s": round(float(np.median(warm)), 2),
    }


def _timed_run(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, env=env, cwd=REPO, check=True, capture_output=True)
    return time.perf_counter() - start


# ---- driver ----------------------------------------------------------------------------------------
def run_children(sizes: list[int], repeat: int) -> dict[str, object]:
    out = {}
    for n in sizes:
        with tempfile.NamedTemporaryFile(suffix=".json") as fh:
            subprocess.run(
                [sys.executable, __file__, "--child", str(n), "--repeat", str(repeat), "--out", fh.name],
                check=True,
                cwd=REPO,
            )
            out[str(n)] = json.loads(Path(fh.name).read_text())
        print(f"  {n:>7} documents done", flush=True)
    return out


def render(results: dict[str, object]) -> str:
    b = results["default_build"]
    lines = [
        f"default corpus ({b['papers']} papers, {b['sentences']} sentences): kg build cold {b['cold_s']} s "
        f"(runs {b['cold_runs_s']}), with cached vectors {b['warm_cache_s']} s",
        "",
        f"{'docs':>7} {'index':>5} {'enc p50':>8} {'rest':>5} {'hybrid p50/p95':>15} "
        f"{'+sentences p50/p95':>19} "
        f"{'baseline p50':>12} {'faiss/brute p50':>16} {'speedup':>7} {'recall@10':>9} {'peak MB':>8} "
        f"{'disk MB':>7} {'build s':>7}",
    ]
    for n, r in results["sizes"].items():
        lat = r["latency"]
        faiss_ms, brute_ms = (
            lat["search_stage_faiss"]["p50_ms"],
            lat["search_stage_semantic_search"]["p50_ms"],
        )
        hybrid, evidence = lat["hybrid_ranking"], lat["hybrid_with_sentences"]
        baseline = lat["baseline_encode_and_semantic_search"]["p50_ms"]
        recall = r["dense_recall_at_10"]["search_stage"]
        lines.append(
            f"{n:>7} {r['index_type']:>5} {lat['encoder']['p50_ms']:>8.2f} "
            f"{lat['hybrid_ranking_minus_encoder']['p50_ms']:>5.2f} "
            f"{hybrid['p50_ms']:>7.2f}/{hybrid['p95_ms']:<7.2f} "
            f"{evidence['p50_ms']:>9.2f}/{evidence['p95_ms']:<9.2f} "
            f"{baseline:>12.2f} {faiss_ms:>7.3f}/{brute_ms:<8.3f} "
            f"{brute_ms / faiss_ms:>6.1f}x {recall:>9.3f} {r['peak_rss_mb']:>8.0f} "
            f"{r['index_mb']:>7.1f} {r['build_s']:>7.1f}"
        )
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args(argv if argv is not None else [])
    if args.child:
        Path(args.out).write_text(json.dumps(run_size(args.child, args.repeat)))
        return
    load_pool(SentenceTransformerEncoder())  # embed the pool once, before the children need it
    results = {
        "cpus": os.cpu_count(),
        "default_build": bench_default_build(),
        "sizes": run_children([int(s) for s in args.sizes.split(",")], args.repeat),
    }
    print(render(results))
    print(f"-> {save_results('search', results)}")


if __name__ == "__main__":
    main(sys.argv[1:])
