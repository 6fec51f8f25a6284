"""The formats of real reading lists, one fixture each (tests/corpus/formats/): every entry's title, id,
authors, date, venue and section path; what is never a paper; `kg show "<title as written>"` for every
listed entry; and the rules for merging: the same id or the same normalised title, nothing weaker."""

from __future__ import annotations

import ast
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from kg.cli import cli
from kg.corpus import Corpus
from kg.ids import parse_arxiv_id
from kg.ingest.parser import parse_reading_list
from kg.ingest.run import ingest
from kg.store import Store

FORMATS = Path(__file__).parent / "formats"
S = " > "
NESTED = "Diffusion basics, links written many ways > Foundations"

# file -> [(line, title, arXiv id, authors, date, venue, section)]
EXPECTED = {
    "bold_blocks.md": [
        (7, "FateZero: Fusing Attentions for Zero-shot Text-based Video Editing", "2303.09535",
         "Chenyang Qi, Xiaodong Cun, Yong Zhang", "16 Mar 2023", "ICCV 2023",
         S.join(["Diffusion reading notes", "Video", "Editing"])),
        (12, "Tune-A-Video: One-Shot Tuning of Image Diffusion Models for Text-to-Video Generation",
         "2212.11565", "Jay Zhangjie Wu, Yixiao Ge", "22 Dec 2022", "ICCV 2023",
         S.join(["Diffusion reading notes", "Video", "Editing"])),
        (21, "Null-text Inversion for Editing Real Images using Guided Diffusion Models", "2211.09794", "", "",
         "CVPR 2023", S.join(["Diffusion reading notes", "Images"])),
        (25, "Prompt-to-Prompt Image Editing with Cross Attention Control", "2211.09794", "", "", "ICLR 2023",
         S.join(["Diffusion reading notes", "Images"])),
    ],
    "numbered.md": [
        (5, "Deep contextualized word representations", "1802.05365",
         "Matthew E. Peters, Mark Neumann, Mohit Iyyer", "2018", "NAACL 2018", "Pre-trained language models > Models"),
        (6, "BERT: Pre-training of Deep Bidirectional Transformers for Language Understanding", "1810.04805",
         "Jacob Devlin, Ming-Wei Chang, Kenton Lee, Kristina Toutanova", "2019", "NAACL 2019",
         "Pre-trained language models > Models"),
        (7, "RoBERTa: A Robustly Optimized BERT Pretraining Approach", "1907.11692", "Yinhan Liu, Myle Ott", "",
         "Preprint", "Pre-trained language models > Models"),
        (8, "Universal Language Model Fine-tuning for Text Classification", None, "Jeremy Howard, Sebastian Ruder",
         "2018", "ACL 2018", "Pre-trained language models > Models"),
    ],
    "bullets.md": [
        (5, "VBench: Comprehensive Benchmark Suite for Video Generative Models", "2311.17982", "", "Nov., 2023", "",
         "Video generation papers > Benchmarks"),
        (6, "PEEKABOO: Interactive Video Generation via Masked-Diffusion", "2312.07509", "", "2024", "CVPR, 2024",
         "Video generation papers > Benchmarks"),
        (8, "Photorealistic Video Generation with Diffusion Models", "2312.06662", "", "", "",
         "Video generation papers > Benchmarks"),
        (13, "Lumiere: A Space-Time Diffusion Model for Video Generation", "2401.12945", "", "Jan 2024", "",
         "Video generation papers > Loose links"),
        (14, "VideoCrafter2: Overcoming Data Limitations for High-Quality Video Diffusion Models", "2401.09047", "",
         "2024", "CVPR 2024", "Video generation papers > Loose links"),
        (16, "Emu Video: Factorizing Text-to-Video Generation by Explicit Image Conditioning", "2311.10709", "", "",
         "", "Video generation papers > Loose links"),
    ],
    "tables.md": [
        (7, "CelebV-Text: A Large-Scale Facial Text-Video Dataset", "2303.14717", "", "2023", "CVPR, 2023",
         "Video diffusion tables > Data"),
        (8, "InternVid: A Large-scale Video-Text Dataset for Multimodal Understanding and Generation", "2307.06942",
         "", "Jul., 2023", "", "Video diffusion tables > Data"),
        (17, "Lumiere: A Space-Time Diffusion Model for Video Generation", "2401.12945", "Omer Bar-Tal, Hila Chefer",
         "", "SIGGRAPH Asia 2024", "Video diffusion tables > Methods > 2024"),
        (23, "AnimateDiff: Animate Your Personalized Text-to-Image Diffusion Models without Specific Tuning",
         "2307.04725", "", "Jul., 2023", "", "Video diffusion tables > Methods"),
    ],
    "dated_bullets.md": [
        (6, "DynamicKV: Task-Aware Adaptive KV Cache Compression for Long Context LLMs", "2412.14838", "",
         "2024.12.20", "", "Long-context papers > News"),
        (7, "An Efficient Recipe for Long Context Extension via Middle-Focused Positional Encoding", "2406.07138",
         "", "2024.12.20", "NeurIPS 2024", "Long-context papers > News"),
        (11, "Efficient Transformers: A Survey", "2009.06732", "Yi Tay, Mostafa Dehghani, Dara Bahri, Donald Metzler",
         "2022", "Arxiv 2022", "Long-context papers > Surveys"),
        (13, "Longformer: The Long-Document Transformer", "2004.05150", "Iz Beltagy, Matthew E. Peters, Arman Cohan",
         "2020", "Arxiv 2020", "Long-context papers > Surveys"),
    ],
    "decorations.md": [
        (5, "Stable Video Diffusion: Scaling Latent Video Diffusion Models to Large Datasets", "2311.15127", "",
         "2023", "arXiv 2023", "Hot papers > Video"),
        (6, "Make-A-Video: Text-to-Video Generation without Text-Video Data", "2209.14792", "", "", "",
         "Hot papers > Video"),
        (7, "Imagen Video: High Definition Video Generation with Diffusion Models", "2210.02303", "", "",
         "arXiv 2022", "Hot papers > Video"),
    ],
    "nested_fields.md": [
        (6, "Direct Preference Optimization: Your Language Model is Secretly a Reward Model", "2305.18290",
         "Rafael Rafailov, Archit Sharma, Eric Mitchell, Stefano Ermon, Christopher D. Manning, Chelsea Finn", "", "",
         "Alignment reading list > Papers > 2023"),
        (11, "RRHF: Rank Responses to Align Language Models with Human Feedback without tears", "2304.05302",
         "Zheng Yuan, Hongyi Yuan, Chuanqi Tan and Fei Huang", "", "", "Alignment reading list > Papers > 2023"),
        (16, "Training language models to follow instructions with human feedback", "2203.02155",
         "Long Ouyang, Jeff Wu, Xu Jiang", "", "", "Alignment reading list > Papers > 2022"),
    ],
    "venue_after_title.md": [
        (4, "TinyLLaVA: A Framework of Small-scale Large Multimodal Models", "2402.14289", "", "2024", "arXiv, 2024",
         "Efficient vision-language models > Architecture"),
        (5, "Gemini: a family of highly capable multimodal models", "2312.11805", "", "2023", "arXiv, 2023",
         "Efficient vision-language models > Architecture"),
        (6, "DeepSeek-VL: Towards Real-World Vision-Language Understanding", "2403.05525", "", "2024", "arXiv, 2024",
         "Efficient vision-language models > Architecture"),
        (11, "Learning to Prompt for Continual Learning", "2112.08654", "", "2022", "CVPR 2022",
         "Efficient vision-language models > Methods we reproduce"),
        (12, "DualPrompt: Complementary Prompting for Rehearsal-free Continual Learning", "2204.04799", "", "2022",
         "ECCV 2022", "Efficient vision-language models > Methods we reproduce"),
    ],
    "authors_after_link.md": [
        (4, "Neural Volume Rendering: NeRF And Beyond", "2101.05204", "Dellaert and Yen-Chen", "2020", "Arxiv 2020",
         "Radiance fields > Survey"),
        (8, "DeRF: Decomposed Radiance Fields", "2011.12490", "Rebain et al.", "2020", "Arxiv 2020",
         "Radiance fields > Papers > Faster Inference"),
        (9, "KiloNeRF: Speeding up Neural Radiance Fields with Thousands of Tiny MLPs", "2103.13744", "Reiser et al.",
         "2021", "ICCV 2021", "Radiance fields > Papers > Faster Inference"),
        (12, "CAMPARI: Camera-Aware Decomposed Generative Neural Radiance Fields", "2103.17269", "Niemeyer & Geiger",
         "2021", "3DV 2021", "Radiance fields > Papers > Generalization"),
    ],
    "html_links.md": [
        (4, "LoRA: Low-Rank Adaptation of Large Language Models", "2106.09685", "", "2022", "ICLR 2022",
         "Parameter-efficient tuning > Methods"),
        (5, "QLoRA: Efficient Finetuning of Quantized LLMs", "2305.14314", "", "2023", "NeurIPS 2023",
         "Parameter-efficient tuning > Methods"),
        (7, "Woodpecker: Hallucination Correction for Multimodal Large Language Models", "2310.16045", "", "", "",
         "Parameter-efficient tuning > Methods"),
    ],
    "venue_first.md": [
        (4, "DPM-Solver: A Fast ODE Solver for Diffusion Probabilistic Model Sampling in Around 10 Steps",
         "2206.00927", "", "2022", "NeurIPS 2022", "Samplers and more > Samplers"),
        (5, "Pseudo Numerical Methods for Diffusion Models on Manifolds", "2202.09778", "", "2022.02",
         "Arxiv 2022.02", "Samplers and more > Samplers"),
        (6, "DiffuSeq: Sequence to Sequence Text Generation with Diffusion Models", "2210.08933", "", "2023",
         "ICLR 2023", "Samplers and more > Samplers"),
        (9, "Denoising Diffusion Implicit Models", "2010.02502", "Jiaming Song, Chenlin Meng and Stefano Ermon",
         "2021", "ICLR 2021", "Samplers and more > People first, or after"),
        (10, "Elucidating the Design Space of Diffusion-Based Generative Models", "2206.00364",
         "Tero Karras, Miika Aittala, Timo Aila, Samuli Laine", "", "", "Samplers and more > People first, or after"),
        (11, "Mip-NeRF 360: Unbounded Anti-Aliased Neural Radiance Fields", "2111.12077", "Barron et al.", "2022",
         "CVPR, 2022", "Samplers and more > People first, or after"),
    ],
    "bold_over_html.md": [
        (5, "VITA: Towards Open-Source Interactive Omni Multimodal LLM", "2408.05211", "", "", "",
         "Multimodal model pages > Our works"),
        (18, "Long-VITA: Scaling Large Multi-modal Models to 1 Million Tokens with Leading Short-Context Accuracy",
         "2502.05177", "", "", "", "Multimodal model pages > Our works"),
        (25, "MM-RLHF: The Next Step Forward in Multimodal LLM Alignment", "2502.10391", "", "", "",
         "Multimodal model pages > Our works"),
    ],
    "nested_links.md": [
        (5, "High-Resolution Image Synthesis with Latent Diffusion Models", "2112.10752", "", "", "", NESTED),
        (6, "Denoising Diffusion Probabilistic Models", "2006.11239", "", "", "", NESTED),
        (7, "Score-Based Generative Modeling through Stochastic Differential Equations", "2011.13456", "", "", "",
         NESTED),
        (8, "Improved Denoising Diffusion Probabilistic Models", "2102.09672", "", "", "", NESTED),
        (9, "Diffusion Models Beat GANs on Image Synthesis", "2105.05233", "", "", "arXiv 2021", NESTED),
        (10, "GLIDE: Towards Photorealistic Image Generation and Editing with Text-Guided Diffusion Models",
         "2112.10741", "", "", "", NESTED),
        (11, "Classifier-Free Diffusion Guidance", "2207.12598", "", "", "", NESTED),
    ],
    "category_bullets.md": [
        (6, "RePaint: Inpainting using Denoising Diffusion Probabilistic Models", "2201.09865", "", "", "",
         "Image editing reading list > Methods > Inpainting"),
        (7, "Palette: Image-to-Image Diffusion Models", "2111.05826", "", "", "",
         "Image editing reading list > Methods > Inpainting"),
        (9, "SDEdit: Guided Image Synthesis and Editing with Stochastic Differential Equations", "2108.01073", "", "",
         "", "Image editing reading list > Methods > Text-Guided Image Editing"),
        (10, "InstructPix2Pix: Learning to Follow Image Editing Instructions", "2211.09800", "", "", "",
         "Image editing reading list > Methods > Text-Guided Image Editing"),
        (14, "Improved Techniques for Training Consistency Models", None, "", "", "",
         "Image editing reading list > Still to find"),
        (15, "Consistency Trajectory Models: Learning Probability Flow ODE Trajectory of Diffusion", None, "", "", "",
         "Image editing reading list > Still to find"),
        (19, "Zero-Shot Text-to-Image Generation", "2102.12092", "", "", "",
         "Image editing reading list > One without a link"),
        (20, "Photorealistic Text-to-Image Diffusion Models with Deep Language Understanding", None, "", "", "",
         "Image editing reading list > One without a link"),  # a long title between linked entries: a paper
        (21, "Scaling Autoregressive Models for Content-Rich Text-to-Image Generation", "2206.10789", "", "", "",
         "Image editing reading list > One without a link"),
    ],
    "labelled_titles.md": [  # a bold label over two or more titles is their category; over one, its name
        (6, "Auto-Encoding Variational Bayes", None, "Kingma & Welling", "Dec 2013", "",
         S.join(["Generative models, a timeline", "Early work", "Variational Autoencoders (VAEs)"])),
        (7, "Stochastic Backpropagation and Approximate Inference in Deep Generative Models", None, "Rezende et al",
         "Jan 2014", "", S.join(["Generative models, a timeline", "Early work", "Variational Autoencoders (VAEs)"])),
        (11, "Generative Adversarial Networks", None, "Goodfellow et al", "June 2014", "",
         "Generative models, a timeline > Early work"),
        (14, "Diffusion Models Beat GANs on Image Synthesis", None, "Dhariwal & Nichol", "2021.05.11", "",
         "Generative models, a timeline > Early work"),  # a date over titles is no category
        (15, "Cascaded Diffusion Models for High Fidelity Image Generation", None, "Ho et al", "2021.05.11", "",
         "Generative models, a timeline > Early work"),
    ],
    "toc_sections.md": [  # the headings after "## Table of Contents" are not its subsections
        (14, "ExVideo: Extending Video Diffusion Models via Parameter-Efficient Post-Tuning", "2406.14130", "",
         "Jun., 2024", "", "Video diffusion, what we read > Video Generation"),
    ],
    "news.md": [
        (11, "Visual-RFT: Visual Reinforcement Fine-Tuning", "2503.01785", "", "2025.03", "",
         "Multimodal reasoning papers > Papers"),
        (12, "Seg-Zero: Reasoning-Chain Guided Segmentation via Cognitive Reinforcement", "2503.06520", "", "", "",
         "Multimodal reasoning papers > Papers"),
        (14, "LISA: Reasoning Segmentation via Large Language Model", "2308.00692", "", "", "CVPR24",
         "Multimodal reasoning papers > Papers"),
    ],
    "html_structure.md": [
        (9, "WebArena: A Realistic Web Environment for Building Autonomous Agents", "2307.13854", "Zhou et al.", "2307",
         "ICLR", "Agents and stylization > Role-Play > Web"),
        (16, "Text2Mesh: Text-Driven Neural Stylization for Meshes", "2112.03221", "", "", "CVPR 2022",
         "Agents and stylization > Role-Play > Stylization > Mesh Stylization"),
        (18, "ARF: Artistic Radiance Fields", "2206.06360", "", "", "ECCV 2022",
         "Agents and stylization > Role-Play > Stylization > Radiance Fields"),
    ],
}


def arxiv_of(entry) -> str | None:
    ids = [parse_arxiv_id(raw).id for link in entry.paper_links for raw in link.arxiv_raw_ids]
    return ids[0] if ids else None


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_every_entry_of_every_format(name):
    parsed = parse_reading_list(FORMATS / name, name)
    got = [(e.line, e.title, arxiv_of(e), e.authors, e.date, e.venue, e.section) for e in parsed.entries]
    assert got == EXPECTED[name]


def test_the_other_fields_of_an_entry():
    bold = parse_reading_list(FORMATS / "bold_blocks.md", "b.md").entries
    assert [x.url for x in bold[0].links] == ["https://github.com/ChenyangQiQi/FateZero",
                                              "https://fate-zero-edit.github.io/"]
    assert [n.text for n in bold[1].notes] == [] and bold[0].where == "b.md:7"
    numbered = parse_reading_list(FORMATS / "numbered.md", "n.md").entries
    assert [e.short_name for e in numbered] == ["ELMo", "", "", "ULMFiT"]
    assert numbered[3].paper_links[0].kind == "proceedings"  # an ACL Anthology page is the paper
    bullets = parse_reading_list(FORMATS / "bullets.md", "l.md").entries
    assert [n.text for n in bullets[2].notes] == ["the link text of this one wraps onto a second line."]
    assert [x.url for x in bullets[5].links] == ["https://github.com/facebookresearch/emu"]
    tables = parse_reading_list(FORMATS / "tables.md", "t.md").entries
    assert tables[3].short_name == "AnimateDiff" and tables[0].links[0].kind == "code"
    labelled = parse_reading_list(FORMATS / "labelled_titles.md", "t.md").entries
    assert [e.short_name for e in labelled] == ["", "", "GAN", "", ""]


def test_never_a_paper(tmp_path):
    """Headings, a table of contents, category bullets, badges, a bold line alone: no record."""
    store = Store(tmp_path / "data")
    result = ingest(store, [FORMATS / "never.md"], write=False)
    assert result.papers == [] and result.systems == []
    assert result.report.by_kind("no_arxiv_id") == [] and result.report.by_kind("unresolved") == []
    # a link-less heading that reads like a title is a paper only when it is a known one
    (entry,) = parse_reading_list(FORMATS / "never.md").entries
    assert entry.from_heading and entry.title.startswith("Papers we still")
    assert entry.section == "Video Editing"  # "# Contents" over anchor links is no section


def test_the_fields_of_the_newer_conventions():
    """Sub-bullets under a linked title are its authors, notes and links, never papers; a code-span
    name before a colon is a short name; a bullet with no link and a sentence is no entry; the words
    of a bold link line ("**[Paper](…)** | **[GitHub](…)**") are never a venue."""
    nested = parse_reading_list(FORMATS / "nested_fields.md", "n.md").entries
    assert [x.url for x in nested[0].links] == ["https://github.com/eric-mitchell/direct-preference-optimization"]
    assert [n.text for n in nested[1].notes] == ["Keyword: ranking loss instead of PPO"]
    venues = parse_reading_list(FORMATS / "venue_after_title.md", "v.md").entries
    assert [e.short_name for e in venues] == ["", "", "", "L2P", "DualPrompt"]
    assert all(not n.text.startswith(".") for e in venues for n in e.notes)
    html = parse_reading_list(FORMATS / "html_links.md", "h.md").entries
    assert [x.url for x in html[2].links] == ["https://github.com/BradyFU/Woodpecker", "./bib.txt"]


def test_the_gaps_found_on_real_lists():
    """A bold title over HTML blocks takes their links (badges' images are no links) and a title that
    gets no paper link is prose; nested links keep their ids and links; category bullets, news lines
    and a heading over headings make no entry; a news line's arXiv link is a mention."""
    bold = parse_reading_list(FORMATS / "bold_over_html.md", "b.md")
    assert [x.url for x in bold.entries[0].links] == ["https://youtu.be/vita-demo", "https://github.com/VITA-MLLM/VITA"]
    assert [x.url for x in bold.entries[2].links] == ["https://github.com/Kwai-YuanQi/MM-RLHF"]
    assert "Maintainers of this page" in [p.text for p in bold.prose]
    nested = parse_reading_list(FORMATS / "nested_links.md", "n.md")
    assert [x.url for x in nested.entries[2].links] == ["https://github.com/yang-song/score_sde"]
    assert nested.entries[5].short_name == "GLIDE"
    assert [n.text for n in nested.entries[6].notes] == ["guidance without a classifier, in our words."]
    assert [(x.link.url, x.owner) for x in nested.linked_in_notes] == [("https://arxiv.org/abs/2204.06125", -1)]
    news = parse_reading_list(FORMATS / "news.md", "w.md")
    assert [(x.line, x.owner) for x in news.linked_in_notes] == [(5, -1), (6, -1), (18, -1)]
    assert [x.url for x in news.entries[0].links] == ["https://github.com/Liuziyu77/Visual-RFT"]
    assert [n.text for n in news.entries[1].notes] == ["Segmentation learned with reinforcement, in our words | "
                                                       "Task: Segmentation"]
    html = parse_reading_list(FORMATS / "html_structure.md", "h.md")
    assert not [e for e in html.entries if e.from_heading]


def test_news_and_category_bullets_make_no_record(tmp_path):
    store = Store(tmp_path / "data")
    result = ingest(store, [FORMATS / "news.md", FORMATS / "category_bullets.md"], write=False)
    status = {p.id: p.status for p in result.papers}
    assert status["2501.12948"] == status["2404.18930"] == "mentioned"  # named in news lines only
    titles = {p.title for p in result.papers}
    assert not {"Inpainting", "Text-Guided Image Editing", "We added and nine more papers"} & titles
    assert len([p for p in result.papers if p.status == "listed"]) == 12


@pytest.fixture(scope="module")
def formats_store(tmp_path_factory):
    root = tmp_path_factory.mktemp("formats")
    shutil.copytree(FORMATS, root / "reading-lists")
    store = Store(root)
    result = ingest(store)
    return store, result


def test_kg_show_answers_every_listed_entry_by_its_title_as_written(formats_store):
    store, _ = formats_store
    runner = CliRunner()
    corpus = Corpus.load(store)
    for name, rows in EXPECTED.items():
        for _, title, aid, *_ in rows:
            res = runner.invoke(cli, ["--data-dir", str(store.root), "show", title])
            assert res.exit_code == 0, (name, title, res.output)
            expected = aid or corpus.resolve(title)
            assert res.output.startswith(expected), (name, title, res.output[:80])


def test_an_id_listed_under_another_title_is_reported(formats_store):
    _, result = formats_store
    (problem,) = result.report.by_kind("id_title_conflict")
    assert problem.where == "reading-lists/bold_blocks.md:25" and problem["id"] == "2211.09794"
    assert "Prompt-to-Prompt" in result.report.render()


def test_one_invalid_id_among_a_thousand_costs_one_entry(tmp_path):
    lines = [f"- [Paper number {i} of a long list](https://arxiv.org/abs/2401.{10000 + i})" for i in range(999)]
    lines.insert(500, "- [A paper with a mistyped id](https://arxiv.org/abs/2401.1234567)")
    path = tmp_path / "long.md"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = ingest(Store(tmp_path / "data"), [path], write=False)
    assert result.report.counts["papers_listed"] == 999
    (skipped,) = result.report.skipped
    assert skipped.where == f"{path}:501" and "invalid arXiv id '2401.1234567'" in skipped["reason"]


def test_the_same_paper_by_arxiv_link_and_by_title_only_is_one_record(tmp_path):
    lists = tmp_path / "lists"
    lists.mkdir()
    (lists / "a.md").write_text("- MSR-VTT: A Large Video Description Dataset for Bridging Video and Language "
                                "[[pdf](https://openaccess.thecvf.com/content_cvpr_2016/html/x.html)]\n")
    (lists / "b.md").write_text("- [MSR-VTT: a large video description dataset for bridging video and language]"
                                "(https://arxiv.org/abs/1604.01234)\n")
    result = ingest(Store(tmp_path / "data"), [lists], write=False)
    (paper,) = result.papers
    assert paper.id == "1604.01234" and {x.file for x in paper.listings} == {str(lists / "a.md"),
                                                                              str(lists / "b.md")}


NEAR = """# Later work, title only
- Stable Video Diffusion
- SAM 2: Segment Anything in Images and Videos
- Improved Techniques for Training Consistency Models
"""


def test_near_names_stay_distinct_and_are_reported(data_copy, tmp_path):
    """Never merge by guess: a title that contains a known paper's name is a paper of its own."""
    path = tmp_path / "near.md"
    path.write_text("- [Segment Anything](https://arxiv.org/abs/2304.02643)\n" + NEAR, encoding="utf-8")
    result = ingest(Store(data_copy), [path], write=False)
    ids = {p.title: p.id for p in result.papers if p.status == "listed"}
    for title in ("SAM 2: Segment Anything in Images and Videos",
                  "Improved Techniques for Training Consistency Models"):
        assert ids[title].startswith("title:"), title
    assert ids["Stable Video Diffusion"].startswith("title:")  # more words than LDM's alias: its own
    assert not {"2112.10752", "2303.01469"} & set(ids.values())  # LDM, Consistency Models: not listed here
    near = {p["name"]: " ".join(p["candidates"]) for p in result.report.by_kind("possible_duplicate")}
    assert "2112.10752" in near["Stable Video Diffusion"]
    assert "2304.02643" in near["SAM 2: Segment Anything in Images and Videos"]
    assert "2303.01469" in near["Improved Techniques for Training Consistency Models"]
    (svd,) = [p for p in result.papers if p.title == "Stable Video Diffusion"]
    assert [(x.line, x.how) for x in svd.listings] == [(3, "named")]


def test_category_bullets_near_a_known_name_make_no_record(data_copy, tmp_path):
    """Two-word or lower-case bullets near a known name are categories or prose, never papers."""
    path = tmp_path / "cats.md"
    path.write_text("- [Segment Anything](https://arxiv.org/abs/2304.02643)\n\n## Topics\n"
                    "- Semantic Segmentation\n- Stable Diffusion\n- stable video diffusion\n", encoding="utf-8")
    result = ingest(Store(data_copy), [path], write=False)
    titles = {p.title for p in result.papers if p.status == "listed"}
    assert not {"Semantic Segmentation", "stable video diffusion"} & titles
    assert not [p for p in result.papers if p.id.startswith("title:")]


def test_distinct_rows_never_collapse(tmp_path):
    """Thousands of title-only rows that differ by a number stay as many records (no fuzzy merge)."""
    rows = "".join(f"| Paper {i} on a synthetic topic | 2024 |\n" for i in range(3000))
    path = tmp_path / "rows.md"
    path.write_text("| Title | Year |\n|---|---|\n" + rows, encoding="utf-8")
    result = ingest(Store(tmp_path / "data"), [path], write=False)
    assert len({p.id for p in result.papers}) == 3000
    assert result.report.by_kind("possible_duplicate") == []


def test_one_name_matcher_for_corpus_ingest_and_titles():
    """kg/corpus.py, kg/ingest/resolve.py (through the corpus's name index) and kg/sources/titles.py
    all pick near matches with kg.names.pick_unique, and none brings its own fuzzy scorer."""
    root = Path(__file__).resolve().parents[2] / "kg"
    for module in ("corpus.py", "sources/titles.py"):
        tree = ast.parse((root / module).read_text(encoding="utf-8"))
        called = {n.func.id for n in ast.walk(tree) if isinstance(n, ast.Call) and isinstance(n.func, ast.Name)}
        assert "pick_unique" in called, module
    for module in ("corpus.py", "sources/titles.py", "ingest/resolve.py", "ingest/known.py"):
        text = (root / module).read_text(encoding="utf-8")
        assert "import rapidfuzz" not in text and "from rapidfuzz" not in text, module
    assert ".names.pick(" in (root / "ingest" / "resolve.py").read_text(encoding="utf-8")
