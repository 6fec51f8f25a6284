"""The reading-list parser, construct by construct, on small inline lists."""

from __future__ import annotations

from pathlib import Path

import pytest

from kg.errors import BadInputError
from kg.ids import parse_arxiv_id
from kg.ingest.markdown import classify_url, parse_list_date
from kg.ingest.parser import parse_reading_list
from kg.text import clean_text, match_key


def parse(tmp_path: Path, text: str):
    path = tmp_path / "list.md"
    path.write_text(text, encoding="utf-8")
    return parse_reading_list(path, "list.md")


def ids_of(entry) -> list[str]:
    return [str(parse_arxiv_id(raw)) for link in entry.paper_links for raw in link.arxiv_raw_ids]


@pytest.mark.parametrize(("url", "expected"), [
    ("https://arxiv.org/abs/2112.10752", "2112.10752"),
    ("https://arxiv.org/abs/2112.10752v2", "2112.10752v2"),
    ("https://arxiv.org/pdf/2006.11239.pdf", "2006.11239"),
    ("https://arxiv.org/pdf/2106.15282v3", "2106.15282v3"),
    ("https://arxiv.org/html/2410.08159v1", "2410.08159v1"),
    ("https://arxiv.org/pdf/arXiv:2102.09672v1", "2102.09672v1"),
    ("https://arxiv.org/abs/2501.07888https://github.com/someone/code", "2501.07888"),  # glued to the next
])
def test_arxiv_links_of_every_shape(tmp_path, url, expected):
    parsed = parse(tmp_path, f"# T\n\n### A paper title that is long\n\n{url}\n\nSome summary.\n")
    assert ids_of(parsed.entries[0]) == [expected]


def test_heading_links_and_summary_blocks(tmp_path):
    parsed = parse(tmp_path, (
        "# Top\n\n## 📜 Related\n\n### 1️⃣ [Denoising Diffusion Probabilistic Models]"
        "(https://arxiv.org/abs/2006.11239)\n   **Summary**: Establishes the foundation.\n"))
    (entry,) = parsed.entries
    assert entry.title == "Denoising Diffusion Probabilistic Models"
    assert entry.section == "Top > Related"
    assert [n.text for n in entry.notes] == ["Establishes the foundation."]
    assert entry.notes[0].line == 6


def test_title_date_url_summary_blocks(tmp_path):
    parsed = parse(tmp_path, (
        "## Diffusion Models\n\n### StableDiffusion\n\n**2022-04-13**\n\nhttps://arxiv.org/pdf/2112.10752\n\n"
        "---\n\n### IMAGEN VIDEO: HIGH DEFINITION VIDEO GENERATION\n\nThe paper presents a cascade.\n\n---\n"))
    first, second = parsed.entries
    assert (first.title, first.date, first.line, ids_of(first)) == ("StableDiffusion", "2022-04-13", 3,
                                                                    ["2112.10752"])
    assert first.section == "Diffusion Models"
    assert second.title.startswith("IMAGEN VIDEO") and second.notes[0].text == "The paper presents a cascade."


def test_short_name_blocks_with_authors_dates_links_and_sub_releases(tmp_path):
    parsed = parse(tmp_path, (
        "# Image Generation\n\n## Series\n\n"
        "`LDM` **High-Resolution Image Synthesis with Latent Diffusion Models**  \n"
        "_Robin Rombach, Björn Ommer_  \n"
        "2021.12 [[Paper](https://arxiv.org/abs/2112.10752)] [[Project](https://github.com/CompVis/ld)]  \n"
        "Note: Diffusion in the latent space.\n\n"
        "`SDv2` **[stabilityai/stable-diffusion-2](https://github.com/Stability-AI/stablediffusion)**  \n"
        "2022.11 StabilityAI Inc.  \nNotes:\n"
        "- [stable-diffusion-2-base](https://huggingface.co/stabilityai/stable-diffusion-2-base): Trained "
        "with `512x512`.\n"
        "- [stable-diffusion-2](https://huggingface.co/stabilityai/stable-diffusion-2): Resumed with "
        "[v-predict](https://arxiv.org/abs/2202.00512) from `stable-diffusion-2-base`.\n"))
    ldm, sdv2, base, sd2 = parsed.entries
    assert (ldm.short_name, ldm.authors, ldm.date) == ("LDM", "Robin Rombach, Björn Ommer", "2021.12")
    assert ids_of(ldm) == ["2112.10752"] and [x.kind for x in ldm.links] == ["code"]
    assert ldm.section == "Image Generation > Series" and ldm.notes[0].text == "Diffusion in the latent space."
    assert (sdv2.short_name, sdv2.date, sdv2.authors) == ("SDv2", "2022.11", "StabilityAI Inc.")
    assert (base.title, base.notes[0].text) == ("stable-diffusion-2-base", "Trained with 512x512.")
    assert sd2.links[0].kind == "model" and sd2.notes[0].line == 14
    assert [(x.link.url, parsed.entries[x.owner].title, x.line) for x in parsed.linked_in_notes] == [
        ("https://arxiv.org/abs/2202.00512", "stable-diffusion-2", 14)]


def test_bullets_that_open_with_a_paper_link_are_entries(tmp_path):
    parsed = parse(tmp_path, (
        "# My list\n\n"
        "- [Denoising Diffusion Probabilistic Models](https://arxiv.org/abs/2006.11239)\n"
        "- [A Paper Nobody Knows](https://arxiv.org/pdf/2501.00001v2) - builds on [DDPM](https://arxiv.org/abs/2006.11239)\n"
        "* https://arxiv.org/abs/2112.10752\n"
        "1. [Paper](https://openreview.net/forum?id=abc): a workshop version.\n"
        "- [Official Stable Diffusion Repository](https://github.com/CompVis/stable-diffusion)\n"))
    ddpm, unknown, ldm, workshop = parsed.entries
    assert (ddpm.title, ids_of(ddpm), ddpm.notes, ddpm.line) == (
        "Denoising Diffusion Probabilistic Models", ["2006.11239"], [], 3)
    assert (unknown.title, ids_of(unknown)) == ("A Paper Nobody Knows", ["2501.00001v2"])
    assert [n.text for n in unknown.notes] == ["builds on DDPM"]
    assert [x.link.url for x in parsed.linked_in_notes] == ["https://arxiv.org/abs/2006.11239"]
    assert (ldm.title, ids_of(ldm)) == ("", ["2112.10752"])
    assert (workshop.title, workshop.paper_links[0].kind) == ("", "openreview")
    assert [n.text for n in workshop.notes] == ["a workshop version."]
    assert [p.text for p in parsed.prose] == ["Official Stable Diffusion Repository"]  # code: no paper


def test_an_organisation_line_ending_in_inc_is_no_note(tmp_path):
    parsed = parse(tmp_path, (
        "`SDXL-Lightning` **Progressive Adversarial Diffusion Distillation**  \nByetaDance Inc.  \n"
        "2024.02 [[Paper](https://arxiv.org/abs/2402.13929)]\n\n"
        "`PuLID` **Pure and Lightning ID Customization via Contrastive Alignment**  \nByteDance Inc.  \n"
        "2024.04. [[Paper](https://arxiv.org/abs/2404.16022)]  \nNote: Trained modules.\n"))
    lightning, pulid = parsed.entries
    assert (lightning.authors, lightning.notes) == ("ByetaDance Inc.", [])
    assert pulid.authors == "ByteDance Inc." and [n.text for n in pulid.notes] == ["Trained modules."]


def test_tables_with_chinese_notes_and_label_lines(tmp_path):
    parsed = parse(tmp_path, (
        "Autoregressive generation model:\n"
        "Date|Method|Conference|Title|Code/Project Page|abstract\n"
        "-----|----|-----|-----|-----|-----\n"
        "Jun 2024|VAR|PR Jun 2024|[Visual Autoregressive Modeling](https://arxiv.org/abs/2404.02905)|"
        "[code](https://github.com/FoundationVision/VAR)|以不同scale图像作为自回归单位进行自回归生成\n"
        "2015-xx-xx|--|ICML 2015|[Deep Unsupervised Learning](http://proceedings.mlr.press/v37/x.pdf)|None\n"))
    var, dul = parsed.entries
    assert (var.short_name, var.venue, var.date, var.section) == ("VAR", "PR Jun 2024", "Jun 2024",
                                                                  "Autoregressive generation model")
    assert var.notes[0].text == "以不同scale图像作为自回归单位进行自回归生成"
    assert dul.short_name == "" and dul.paper_links[0].kind == "proceedings" and not dul.notes


def test_bullets_with_quoted_titles_authors_and_dates(tmp_path):
    parsed = parse(tmp_path, (
        "# The Introduction\n\n"
        "* **AlexNet (2012):**\n"
        "    * **\"ImageNet Classification with Deep Convolutional Neural Networks\"** by Krizhevsky, "
        "Sutskever, and Hinton.\n"
        "    * **Significance:** The classic paper.\n"
        "* **Variational Autoencoders (VAEs):**\n"
        "    * **\"Auto-Encoding Variational Bayes\"** by Kingma & Welling (Dec 2013)\n"
        "    * **\"Stochastic Backpropagation\"** by Rezende et al. (Jan 2014).\n"
        "* **GAN (2014):**\n"
        "    * **Generative Adversarial Networks:** Introduced by Ian Goodfellow et al. (June 2014).\n"))
    alexnet, vae, rezende, gan = parsed.entries
    assert (alexnet.short_name, alexnet.authors) == ("AlexNet", "Krizhevsky, Sutskever, and Hinton")
    assert alexnet.notes[0].text == "Significance: The classic paper."
    assert (vae.title, vae.authors, vae.date, vae.short_name) == ("Auto-Encoding Variational Bayes",
                                                                 "Kingma & Welling", "Dec 2013", "")
    assert rezende.short_name == "" and rezende.date == "Jan 2014"
    assert (gan.title, gan.short_name, gan.authors) == ("Generative Adversarial Networks", "GAN",
                                                        "Ian Goodfellow et al")


def test_bare_names_are_entries_and_prose_bullets_are_not(tmp_path):
    parsed = parse(tmp_path, (
        "## Identity\n\nOverview of methods for this task:\n"
        "- Central Challenge: The entanglement between Diversity and Identity.\n"
        "1. Tuning Free: Using an ID Encoder to inject reference information.\n\n"
        "- Imagine yourself\n- InstantID\n"
        "- Elite: Encoding visual concepts into textual embeddings for customized generation.\n-\n"))
    assert [(e.short_name, e.how) for e in parsed.entries] == [
        ("Imagine yourself", "named"), ("InstantID", "named"), ("Elite", "named")]
    assert parsed.entries[2].title.startswith("Elite: Encoding visual concepts")
    assert parsed.entries[0].section == "Identity"  # the "Overview …:" line is prose, not a section
    assert any("Central Challenge" in p.text for p in parsed.prose)


def test_details_blocks_are_notes_of_the_entry_before(tmp_path):
    parsed = parse(tmp_path, (
        "`PuLID` **Pure and Lightning ID Customization**  \n2024.04. [[Paper](https://arxiv.org/abs/2404.16022)]\n\n"
        "<details>\n<summary>Notes</summary>\n1. Trained modules: the MLPs.\n\n</details>\n\n- InstantID\n"))
    pulid, instantid = parsed.entries
    assert [n.text for n in pulid.notes] == ["1. Trained modules: the MLPs."]
    assert instantid.short_name == "InstantID" and not instantid.notes


def test_code_fences_front_matter_and_images_are_skipped(tmp_path):
    parsed = parse(tmp_path, (
        "---\nlayout: post\ntitle: \"A post\"\n---\n\n# Intro\n\n![img]({{ '/a.jpg' }})\n\n"
        "```python\nmodel_id = \"runwayml/stable-diffusion-v1-5\"\n```\nA line of prose about LDM.\n"))
    assert parsed.entries == []
    assert [p.text for p in parsed.prose] == ["A line of prose about LDM."]


def test_ligatures_and_mis_encoded_characters_are_repaired(tmp_path):
    parsed = parse(tmp_path, (
        "### Cascaded Diﬀusion Models for High Fidelity\n\n**2021-12-17**\n\n"
        "https://arxiv.org/pdf/2106.15282v3\n\nGenerates 512√ó512 images with classiﬁer-free guidance.\n"))
    (entry,) = parsed.entries
    assert entry.title == "Cascaded Diffusion Models for High Fidelity"
    assert entry.notes[0].text == "Generates 512×512 images with classifier-free guidance."
    assert clean_text("## üìú Related") == "## 📜 Related"
    assert match_key("PIXART-δ: FAST") == match_key("PixArt-δ fast")


@pytest.mark.parametrize(("url", "kind"), [
    ("https://openreview.net/pdf?id=qw8AKxfYbI", "openreview"),
    ("https://www.ecva.net/papers/eccv_2024/papers_ECCV/papers/08280.pdf", "proceedings"),
    ("https://openaccess.thecvf.com/content/CVPR2024/papers/x.pdf", "proceedings"),
    ("http://proceedings.mlr.press/v37/sohl-dickstein15.pdf", "proceedings"),
    ("https://proceedings.neurips.cc/paper/2021/file/x-Paper.pdf", "proceedings"),
    ("https://huggingface.co/stabilityai/sdxl-turbo", "model"),
    ("https://huggingface.co/blog/stable_diffusion", "blog"),
    ("https://github.com/CompVis/latent-diffusion", "code"),
    ("https://www.youtube.com/watch?v=nVhmFski3vg", "video"),
    ("https://omriavrahami.com/blended-diffusion-page/", "page"),
    ("https://stability.ai/news/stability-ai-sdxl-turbo", "blog"),
])
def test_non_arxiv_links_are_classified(url, kind):
    assert classify_url(url) == kind


@pytest.mark.parametrize(("text", "expected"), [
    ("2020.12", ("2020-12", "month")), ("2024.04.", ("2024-04", "month")), ("2022.8 CompVis", ("2022-08", "month")),
    ("2017-01-19", ("2017-01-19", "day")), ("2024-8-14", ("2024-08-14", "day")), ("2015-xx-xx", ("2015", "year")),
    ("2021-X-X", ("2021", "year")), ("Jun 2024", ("2024-06", "month")), ("28 Jul 2024", ("2024-07-28", "day")),
    ("OpenAI, Jan 2021", ("2021-01", "month")), ("2006", ("2006", "year")), ("coming soon", None),
])
def test_list_dates(text, expected):
    assert parse_list_date(text) == expected


def test_invalid_file_contents_name_file_and_line(tmp_path):
    path = tmp_path / "bad.md"
    path.write_bytes(b"# ok\n\nfine line\n\xff\xfe broken\n")
    with pytest.raises(BadInputError) as err:
        parse_reading_list(path, "bad.md")
    assert (err.value.path, err.value.line) == ("bad.md", 4) and "not UTF-8" in str(err.value)
