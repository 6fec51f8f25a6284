"""Small helpers for reading lists: links and their kinds, Markdown links in plain text, dates."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlparse

from kg.ids import arxiv_ids_in_url
from kg.text import markdown_to_text, squash_spaces

_MD_LINK = re.compile(r"!?\[((?:[^\[\]]|\[[^\[\]]*\])*)\]\((<?)(\S+?)(>?)(?:\s+\"[^\"]*\")?\)")
_WRAPPED_URL = re.compile(r"^\[[^\[\]]*\]\((\S+)\)$")  # "[2006.11239](https://…)" written as a link's URL
_IMG_TAG = re.compile(r"<img\b[^>]*>", re.IGNORECASE)
_HTML_TAG = re.compile(r"<[^>]+>")
_MD_IMAGE = re.compile(r"!\[[^\[\]]*\]\([^)]*\)")
_BARE = re.compile(r"(?<![(<\[])\bhttps?://[^\s<>()\]]+[^\s<>()\].,;:!?'\"]")
_MONTHS = {m: i for i, m in enumerate(
    ["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], 1)}
_MON = r"(jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_PATTERNS: list[tuple[re.Pattern[str], str]] = [
    (re.compile(r"\b(\d{4})-(\d{1,2}|x{1,2})-(\d{1,2}|x{1,2})\b", re.I), "iso"),
    (re.compile(r"(?<![\d.])(\d{4})\.(\d{1,2})(?![\d])"), "dotted"),
    (re.compile(r"\b(\d{1,2})\s+" + _MON + r"\s+(\d{4})\b", re.I), "dmy"),
    (re.compile(r"\b" + _MON + r",?\s+(\d{4})\b", re.I), "my"),
    (re.compile(r"\b((?:19|20)\d{2})\b"), "y"),
]
_PROCEEDINGS_HOSTS = ("ecva.net", "thecvf.com", "mlr.press", "neurips.cc", "nips.cc", "aclanthology.org",
                      "aclweb.org", "dl.acm.org", "ieeexplore.ieee.org", "doi.org", "sciencedirect.com",
                      "springer.com", "aaai.org", "ijcai.org", "jmlr.org", "nature.com", "science.org",
                      "biorxiv.org", "medrxiv.org", "semanticscholar.org", "iclr.cc", "icml.cc")
_HF_NOT_MODELS = {"blog", "docs", "papers", "datasets", "spaces", "learn", "models", "posts"}


@dataclass(frozen=True)
class Link:
    """A link as written in a list: its text, URL and what kind of page it points at."""

    url: str
    text: str = ""
    kind: str = field(init=False, repr=False, compare=False, default="")  # classified once, when made

    def __post_init__(self) -> None:
        object.__setattr__(self, "kind", classify_url(self.url))

    @property
    def is_paper(self) -> bool:
        """Does the link point at the work itself (a paper page or PDF), not code, a video or a blog?"""
        return self.kind in ("arxiv", "openreview", "proceedings", "pdf")

    @property
    def arxiv_raw_ids(self) -> list[str]:
        return arxiv_ids_in_url(self.url) if self.kind == "arxiv" else []


@lru_cache(maxsize=1 << 16)
def classify_url(url: str) -> str:
    """arxiv | openreview | proceedings | pdf | model | code | video | blog | page."""
    parsed = urlparse(url if "://" in url else "https://" + url)
    host = (parsed.hostname or "").lower().removeprefix("www.")
    path = parsed.path.lower()
    if host.endswith("arxiv.org") and re.match(r"/(abs|pdf|html)/", path):
        return "arxiv"
    if host.endswith("openreview.net"):
        return "openreview"
    if any(host.endswith(h) for h in _PROCEEDINGS_HOSTS):
        return "proceedings"
    if host == "huggingface.co":
        first = path.strip("/").split("/")[0] if path.strip("/") else ""
        return "blog" if not first or first in _HF_NOT_MODELS else "model"
    if host in ("github.com", "git.io", "gitlab.com"):
        return "code"
    if host in ("youtube.com", "youtu.be", "m.youtube.com", "vimeo.com"):
        return "video"
    if host in ("medium.com", "towardsdatascience.com") or "/blog" in path or "/news" in path:
        return "blog"
    if path.endswith(".pdf") or "research-paper" in path:
        return "pdf"
    return "page"


def link_target(url: str) -> str:
    """The URL a link points at; `[[Paper]]([2006.11239](https://arxiv.org/abs/2006.11239))` writes a
    whole Markdown link where the URL goes, and the inner link's URL is the target."""
    m = _WRAPPED_URL.match(url.strip())
    return m[1] if m else url


def find_links(text: str) -> list[Link]:
    """Markdown links `[text](url)` (images excluded) and bare URLs, in order of appearance."""
    links: list[Link] = []
    spans: list[tuple[int, int]] = []
    for m in _MD_LINK.finditer(text):
        spans.append(m.span())
        if m.group(0).startswith("!"):
            continue
        inner = next((x for x in _MD_LINK.finditer(m[1]) if not x[0].startswith("!")), None)
        label = inner[1] if inner else m[1]  # "[[Paper](url)]" nests a link inside brackets
        links.append(Link(link_target(m[3]), link_words(label)))
    for m in _BARE.finditer(text):
        if not any(a <= m.start() < b for a, b in spans):
            links.append(Link(m.group(0), ""))
    return links


def html_links(html: str) -> list[Link]:
    """The links of an HTML block: `<a href>`, Markdown links and bare URLs in it; an image's `src`
    is no link."""
    return find_links(_IMG_TAG.sub(" ", html))


def link_words(label: str) -> str:
    """The words of a link written in raw text (an HTML block, a bare line): its text as plain text by
    kg.text.markdown_to_text (the one Markdown-to-text rule), HTML tags dropped; an image inside it
    gives its alt text only when the link has no words of its own, as for inline links (inline.py):
    "[![arXiv](badge.svg)](url)" reads "arXiv", "[![x](y) Paper](url)" reads "Paper"."""
    plain = _HTML_TAG.sub(" ", label)
    words = squash_spaces(markdown_to_text(_MD_IMAGE.sub(" ", plain)))
    return words or squash_spaces(markdown_to_text(plain))


def parse_list_date(text: str) -> tuple[str, str] | None:
    """The first date written in `text`, as (ISO prefix, precision): ("2021-12", "month") …

    Understands 2020.12, 2024.04., 2017-01-19, 2024-8-14, 2015-xx-xx, Jun 2024, 28 Jul 2024,
    (Dec 2013), 2006. Returns None when no date is written.
    """
    for pattern, kind in _DATE_PATTERNS:
        m = pattern.search(text)
        if m:
            parsed = _date_from_match(m, kind)
            if parsed is not None:
                return parsed
    return None


def _date_from_match(m: re.Match[str], kind: str) -> tuple[str, str] | None:
    if kind == "iso":
        year, month, day = m[1], m[2], m[3]
        if "x" in month.lower():
            return year, "year"
        if not 1 <= int(month) <= 12:
            return None
        if "x" in day.lower():
            return f"{year}-{int(month):02d}", "month"
        return f"{year}-{int(month):02d}-{int(day):02d}", "day"
    if kind == "dotted":
        return (f"{m[1]}-{int(m[2]):02d}", "month") if 1 <= int(m[2]) <= 12 else None
    if kind == "dmy":
        return f"{m[3]}-{_MONTHS[m[2][:3].lower()]:02d}-{int(m[1]):02d}", "day"
    if kind == "my":
        return f"{m[2]}-{_MONTHS[m[1][:3].lower()]:02d}", "month"
    return m[1], "year"
