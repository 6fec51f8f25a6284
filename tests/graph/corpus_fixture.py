"""A corpus for the graph tests, made from the repository's own inputs, without the network.

Papers come from data/facts/papers.jsonl (ids, titles, aliases, authors, dates); systems mirror the
ids and aliases ingestion gives the model releases; notes are real sentences of the reading lists,
each checked to stand at its file:line (see test_fixture_notes_are_real).
"""

from __future__ import annotations

import json
from pathlib import Path

from kg.model import Listing, Note, Paper, System
from kg.text import slugify

REPO_DATA = Path(__file__).resolve().parents[2] / "data"
FAMILY = "reading-lists/stable-diffusion-family-and-identity-preservation.md"
SUMMARIES = "reading-lists/diffusion-papers-with-summaries.md"
TABLES = "reading-lists/generation-models-reading-list.md"
OVERVIEW = "reading-lists/stable-diffusion-overview.md"
INTRO = "reading-lists/image-generation-101.md"
SERIES = "Image Generation > Series of Stable Diffusion Models"

# id, name, aliases, date, described_in
SYSTEMS = [
    ("system:sd-v1-2-1-4", "SD v1.2-1.4 (CompVis/stable-diffusion)",
     ["SD v1.2-1.4", "SD v1.4", "SD v1.2", "SDv1.2", "SD v1.x"], "2022-08", "2112.10752"),
    ("system:sd-v1-5", "SD v1.5 (runwayml/stable-diffusion-v1-5)", ["SD v1.5", "SDv1.5"], "2022-10", None),
    ("system:sd-2-base", "stable-diffusion-2-base", ["SD 2-base", "stable-diffusion-2-base"], "2022-11", None),
    ("system:sd-2", "stable-diffusion-2", ["SD 2", "SDv2", "SDv2.0", "stable-diffusion-2"], "2022-11", None),
    ("system:sd-2-1", "stable-diffusion-2-1", ["SD 2.1", "SD2.1", "stable-diffusion-2-1"], "2022-12", None),
    ("system:sd-2-1-unclip", "stable-diffusion-2-1-unclip", ["SD 2.1-unCLIP", "stable-diffusion-2-1-unclip"],
     "2023-03", None),
    ("system:sdxl-turbo", "SDXL-Turbo (stabilityai/sdxl-turbo)", ["SDXL-Turbo", "SDXL Turbo"], "2023-11",
     "2311.17042"),
    ("system:flux-1", "FLUX.1", ["FLUX.1"], None, None),
    ("system:gpt-4o-image", "GPT-4o image generation", ["4o (Ghibli)"], None, None),
    ("system:gemini-image", "Gemini image generation", ["Gemini"], None, None),
    ("system:openclip-vit-h", "OpenCLIP-ViT/H", ["OpenCLIP-ViT/H"], None, None),
    ("system:sora", "Sora", ["Sora"], None, None),
]

# record id, file, line, the note as ingestion keeps it (Markdown stripped where it had any)
NOTES = [
    ("2012.09841", FAMILY, 8, "The introduction of generation in the latent space of images by GAN."),
    ("2112.10752", FAMILY, 13, "The introduction of diffusion model in the latent space of images."),
    ("system:sd-v1-2-1-4", FAMILY, 17,
     "512x512 resolution trained on subset of LAION-5B by LDM model. (860M UNet and 123M text encoder)"),
    ("system:sd-v1-5", FAMILY, 21, "Fine-tuned with 512x512 from SDv1.2 with more steps."),
    ("system:sd-2-base", FAMILY, 26, "Trained with 512x512 in subset of LAION-5B. UNet config same as SDv1.5, "
                                     "us OpenCLIP-ViT/H as the text encoder."),
    ("system:sd-2", FAMILY, 27, "Resumed training on 768x768 with of v-predict from stable-diffusion-2-base."),
    ("system:sd-2-1", FAMILY, 28,
     "2022.12. Finetuned from SDv2.0 with a less restrictive NSFW filtering of LAION-5B dataset."),
    ("system:sd-2-1-unclip", FAMILY, 29,
     "2023.03 Finetuned version of SD2.1, modified to accept (noisy) CLIP image embedding in addition to the "
     "text prompt, and can be used to create image variations (Examples) or can be chained with text-to-image "
     "CLIP priors. (The ability to reimage as DALLE2.0 2022.04)"),
    ("2307.01952", FAMILY, 34, "1024x1024 pretraining with larger UNet size."),
    ("2406.06525", TABLES, 16, "采用与Llama相同的网络结构实现了图像的自回归生成，在语言视觉模型的范式统一上具有重要意义"),
    ("2410.13720", TABLES, 19, "继Sora后Meta推出的视频生成模型"),
    ("2410.08159", TABLES, 20, "提出了一种与LLM主流模型结构具有统一性的扩散生成模型（里面推导很多，暂时没看懂，先去看VDM了）"),
    ("2410.04671", TABLES, 22, "参考controlNet的方式在自回归生成模型VAR上进行可控生成"),
    ("2107.00630", TABLES, 57, "哈哈，好像是换了个角度重新推了一遍DDPM，有点没看懂，公式推导好多啊"),
    ("2102.09672", OVERVIEW, 16, "Enhances the DDPM framework with optimizations such as improved variance "
                                 "scheduling, leading to better sample quality and efficiency."),
    ("2404.02905", INTRO, 77, "It is specular (but fairly obvious) that 4o (Ghibli), Gemini, etc. used a similar "
                              "idea for their latest image generation."),
]
# whole summary paragraphs of diffusion-papers-with-summaries.md: record id -> line
SUMMARY_LINES = {
    "2210.02303": 7, "2405.05224": 13, "2201.09865": 19, "2006.11239": 45, "2102.09672": 55,
    "2010.02502": 75, "2106.15282": 115, "2112.10741": 125, "2205.11487": 153, "2309.15807": 213,
    "2401.05252": 223, "2403.04692": 273, "2403.06807": 283, "2405.14477": 293, "2212.09748": 183,
}


def read_line(ref_file: str, line: int) -> str:
    return (REPO_DATA / ref_file).read_text(encoding="utf-8").splitlines()[line - 1]


def load_facts() -> list[dict]:
    with open(REPO_DATA / "facts" / "papers.jsonl", encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def build_papers() -> list[Paper]:
    papers = []
    for fact in load_facts():
        pid = fact["arxiv_id"] or f"title:{slugify(fact['title'])}"
        papers.append(Paper(id=pid, title=fact["title"], arxiv_id=fact["arxiv_id"], authors=fact["authors"],
                            published=fact["published"], aliases=list(fact["aliases"]),
                            provenance={"authors": "facts:data/facts/papers.jsonl"}))
    by_id = {p.id: p for p in papers}
    # The facts give ADD the alias SDXL-Turbo too; ingestion keeps that name for the checkpoint.
    by_id["2311.17042"].aliases = ["ADD"]
    # Two StyleAlign papers share that alias in the facts: the matcher must skip it.
    for pid, line in SUMMARY_LINES.items():
        by_id[pid].notes.append(Note(read_line(SUMMARIES, line), SUMMARIES, line))
    return papers


def build_systems() -> list[System]:
    return [System(id=sid, name=name, aliases=list(aliases), date=date, described_in=paper,
                   provenance={"described_in": "curated:data/systems.csv"} if paper else {})
            for sid, name, aliases, date, paper in SYSTEMS]


def build_records() -> tuple[list[Paper], list[System]]:
    papers, systems = build_papers(), build_systems()
    by_id = {r.id: r for r in [*papers, *systems]}
    for rid, file, line, text in NOTES:
        by_id[rid].notes.append(Note(text, file, line, SERIES if file == FAMILY else ""))
    for rid in ("2012.09841", "2112.10752", "system:sd-v1-2-1-4", "system:sd-v1-5", "system:sd-2",
                "2307.01952", "system:sdxl-turbo", "2402.13929", "2403.03206"):
        by_id[rid].topics.append(SERIES)
        by_id[rid].listings.append(Listing(file=FAMILY, line=_family_line(rid), section=SERIES))
    return papers, systems


def _family_line(rid: str) -> int:
    return {"2012.09841": 5, "2112.10752": 10, "system:sd-v1-2-1-4": 15, "system:sd-v1-5": 19,
            "system:sd-2": 23, "2307.01952": 31, "system:sdxl-turbo": 36, "2402.13929": 40,
            "2403.03206": 44}[rid]
