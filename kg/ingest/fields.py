"""What an entry's words say: its title (decorations dropped), authors, venue, date, short name.

Each convention is a small function over the spans of a `Line`; the parser decides which block is an
entry, these functions read its fields.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

from kg.ingest.inline import Line, Span, is_badge
from kg.ingest.markdown import Link, parse_list_date
from kg.text import squash_spaces

GENERIC_LINK_TEXT = frozenset(
    "paper pdf arxiv abs abstract link website web project projects page project page homepage home code "
    "github official code demo video blog openreview html doi bib bibtex slides poster dataset data model "
    "models weights hf huggingface colab paper link arxiv link pdf link supp supplementary talk".split()
) | {"project page", "official code", "paper link", "code link", "arxiv paper", "github repo"}
_DECORATION_WORDS = re.compile(
    r"^(?:\s*(?:NEW|HOT|\[NEW\]|\(NEW\)|\[New\]|\(New\)|New!|⭐+|★+)(?![A-Za-z])\s*[:!\-–]?\s*)+")
_SHORTCODE = re.compile(r"(?<![\w:]):[a-z0-9_+\-]+:(?![\w:])")
_STAR_COUNT = re.compile(r"\s*[⭐★]\s*\d[\d,.]*[kK]?\s*$|\s*\(\s*\d[\d,.]*[kK]?\s*stars?\s*\)\s*$", re.I)
_TRAILING_VENUE = re.compile(
    r"\s*[(\[]\s*([A-Za-z][\w&.\- ]{1,40}?[,\s]\s*'?(?:19|20)?\d{2}[^()\[\]]{0,30})[)\]]\s*$")
_KEYCAP = re.compile(r"[0-9#*]\ufe0f?\u20e3")
_YEAR_AFTER_LETTERS = re.compile(r"(?<=[A-Za-z])(?=(?:19|20)\d{2}\b)")
_MONTHS = re.compile(r"\b(jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?", re.I)
_LABEL_WORDS = frozenset(
    "note notes summary significance abstract tldr tl;dr comment comments remark".split())
_WRITTEN_DATE = re.compile(
    r"(?:\d{1,2}\s+)?(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?,?\s+\d{4}"
    r"|\d{4}[.\-/]\d{1,2}(?:[.\-/]\d{1,2})?", re.I)
_NAME_PARTICLES = frozenset("van der den de von di da la le del dos du bin al".split())
_ET_AL = re.compile(r"\bet\s+al\.?", re.IGNORECASE)
_TAIL_VENUE = re.compile(
    r"^(?P<title>\S.*?\S)\s*[.,]?\s+(?P<venue>(?:[A-Z][\w&\-]{1,15}|[aA]r[xX]iv)(?:\s[A-Za-z][\w&\-]{1,15})?,?\s+'?"
    r"(?:19|20)\d{2}(?:\s+(?:Oral|Spotlight|Highlight|Poster|Workshop|Findings))?)\.?$")
_VENUE_PREFIX = re.compile(
    r"^\[([A-Za-z][\w&\- ]{1,30}?\s*'?(?:19|20)\d{2}(?:[.\-/]\d{1,2})?)\]\s*[:\-–]?\s*")
_BY_AUTHORS = re.compile(r"\bby\s+(.+?)(?:\s*\(([^()]*)\))?\.?\s*$")


@dataclass
class Draft:
    """What a block says about the paper it names: the title and the fields beside it. Each convention
    (kg/ingest/entries.py, kg/ingest/tables.py) fills one; the walker turns it into a `ListedEntry`."""

    title: str = ""
    short_name: str = ""
    how: str = "listed"
    authors: str = ""
    venue: str = ""
    date: str = ""
    paper_links: list[Link] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    rest: str = ""  # words after the title that are a note ("- [T](url) - builds on DDPM")
    note_links: list[Link] = field(default_factory=list)  # the links inside those words

    def add_links(self, links: list[Link]) -> None:
        """Each link once, in `paper_links` when it points at the work itself, else in `links`."""
        for link in links:
            if link.url.startswith("#"):
                continue
            target = self.paper_links if link.is_paper else self.links
            if link.url not in {x.url for x in self.paper_links + self.links}:
                target.append(link)


# ---- titles ----------------------------------------------------------------------------------
def strip_decorations(text: str) -> str:
    """A title without what decorates it: emoji, ⭐/🔥/NEW markers, star counts, badges' words."""
    text = _STAR_COUNT.sub("", _KEYCAP.sub("", _SHORTCODE.sub(" ", text)))
    kept = text if text.isascii() else "".join(c for c in text if not _is_symbol(c))
    return squash_spaces(_DECORATION_WORDS.sub("", squash_spaces(kept))).strip(" -–—|:")


def _is_symbol(char: str) -> bool:
    return unicodedata.category(char) in ("So", "Cn", "Co", "Sk") or char in "\ufe0f\u200d\u20e3"


def split_title(text: str) -> tuple[str, str]:
    """(title, venue) of a written title: "SDXL (ICLR 2024)" -> ("SDXL", "ICLR 2024")."""
    title = strip_decorations(text)
    venue = ""
    if m := _TRAILING_VENUE.search(title):
        venue, title = m[1].strip(), title[: m.start()].strip()
    return title.strip().rstrip(".").strip(), venue


def is_generic(text: str) -> bool:
    """Link text that names no paper: "Paper", "[Code]", "ICCV 2023", "Website", "📖 arXiv Paper"."""
    words = squash_spaces(re.sub(r"[\[\]()*_`:]", " ", strip_decorations(text))).lower()
    if not words or words in GENERIC_LINK_TEXT or "://" in text:
        return True
    return looks_like_venue(words) or words.split()[0] in ("code", "github", "project", "demo", "pdf")


def looks_like_venue(text: str) -> bool:
    """ "CVPR 2023", "ICLR 2023 (Highlight)", "NeurIPS2019", "Arxiv 2021": a short name with a year."""
    words = squash_spaces(re.sub(r"[\[\]()]", " ", _YEAR_AFTER_LETTERS.sub(" ", text))).split()
    return 2 <= len(words) <= 6 and any(re.fullmatch(r"'?(?:19|20)\d{2}[.,]?", w) for w in words[1:3])


def is_label(bold: str, after: str) -> bool:
    """ "**Summary**:", "**AlexNet (2012):**", "**Significance:** …": a label, not a title."""
    head = bold.strip()
    return head.endswith((":", "：")) or after.lstrip().startswith((":", "：")) or \
        head.lower().rstrip(":") in _LABEL_WORDS


# ---- the rest of a title line and the lines after it -------------------------------------------
def fields_of_rest(spans: list[Span], line: Line) -> Draft:
    """Authors (emphasis), short name (bold in parentheses), venue and date (plain words) and links
    of what follows a title on its line: ". *A, B*. CoNLL 2016. [[pdf](…)] (**ELMo**)"."""
    out = Draft()
    plain: list[str] = []
    for i, span in enumerate(spans):
        if span.link >= 0 or span.image or span.code:
            continue
        if span.em and not span.bold and not out.authors:
            out.authors = span.text.strip(" .,;")
        elif span.bold and i > 0 and spans[i - 1].text.rstrip().endswith("("):
            out.short_name = span.text.strip()
        elif not span.em and not span.bold:
            plain.append(span.text)
    venue, date = venue_and_date(" ".join(plain))
    out.venue, out.date = venue, date
    out.add_links([line.links[i] for i in sorted({s.link for s in spans if s.link >= 0})])
    return out


def venue_and_date(text: str) -> tuple[str, str]:
    """ "CoNLL 2016." -> ("CoNLL 2016", "2016"); "(Jun., 2024)" -> ("", "Jun., 2024");
    "CVPR, 2023" -> ("CVPR, 2023", "2023"); "Preprint." -> ("Preprint", "")."""
    words = squash_spaces(re.sub(r"[\[\]()|]", " ", text)).strip(" .,;:-–")
    if not words or len(words.split()) > 8:
        return "", ""
    parsed = parse_list_date(_YEAR_AFTER_LETTERS.sub(" ", words))
    date = ""
    if parsed is not None:
        date = _date_text(words, parsed[1])
    rest = _MONTHS.sub(" ", re.sub(r"\d", " ", words))
    has_name = bool(re.search(r"[A-Za-z]{2,}", rest))
    return (words if has_name else ""), date


def _date_text(words: str, precision: str) -> str:
    """The date as the list writes it, when it is more than a venue's year."""
    if precision == "year":
        m = re.search(r"(?:19|20)\d{2}", words)
        return m[0] if m else ""
    m = _WRITTEN_DATE.search(words)
    return m[0] if m else words


def authors_by(text: str) -> tuple[str, str]:
    """ "… by Kingma & Welling (Dec 2013)" -> ("Kingma & Welling", "Dec 2013")."""
    if m := _BY_AUTHORS.search(text):
        return m[1].strip().rstrip("."), m[2] or ""
    return "", ""


def looks_like_authors(text: str) -> bool:
    """ "Dun Zeng, Yong Dai, Zenglin Xu", "Feifan Song, … and Houfeng Wang", "Mildenhall et al.":
    people's names (one to four capitalised words each, initials and particles allowed), no more."""
    text = text.strip().rstrip(".")
    if _ET_AL.search(text):
        head = _ET_AL.split(text)[0].strip(" ,")
        return bool(head) and _is_person(head) and not _ET_AL.split(text)[1].strip(" .,")
    parts = [p.strip() for p in re.split(r",|\band\b|&", text) if p.strip()]
    return len(parts) >= 2 and all(_is_person(p) for p in parts)


def _is_person(name: str) -> bool:
    words = name.split()
    if not 1 <= len(words) <= 4 or any(c.isdigit() for c in name) or ":" in name:
        return False
    return all(w[:1].isupper() or w.lower() in _NAME_PARTICLES for w in words) and \
        any(len(w.strip(".")) > 1 for w in words)


def split_tail_venue(title: str) -> tuple[str, str]:
    """ "Mobilevlm: A fast … devices. arXiv, 2023" -> ("Mobilevlm: A fast … devices", "arXiv, 2023"):
    a venue and year written after a title on its line (the title keeps two words at least)."""
    m = _TAIL_VENUE.match(title)
    if m is None or len(m["title"].split()) < 2 or not looks_like_venue(m["venue"].replace(",", " ")):
        return title, ""
    return m["title"].rstrip(" .,"), m["venue"]


def split_venue_prefix(title: str) -> tuple[str, str, str]:
    """ "[NeurIPS 2023] SA-Solver: …" -> ("SA-Solver: …", "NeurIPS 2023", "2023");
    "[Arxiv 2022.02] Title" -> ("Title", "Arxiv 2022.02", "2022.02"): a venue tag before the title."""
    m = _VENUE_PREFIX.match(title)
    if m is None or len(title[m.end():].split()) < 2:
        return title, "", ""
    venue = m[1].strip()
    parsed = parse_list_date(venue)
    date = _date_text(venue, parsed[1]) if parsed is not None else ""
    return title[m.end():].strip(), venue, date


def split_tail_authors(title: str) -> tuple[str, str]:
    """ "Learning with Noisy Foundation Models. Hao Chen, Jindong Wang, Ran Tao" -> (title, authors):
    the people named after a title's last full stop."""
    head, dot, tail = title.rpartition(". ")
    if not dot or len(head.split()) < 2 or not looks_like_authors(tail):
        return title, ""
    return head.strip(), tail.strip().rstrip(".")


def authors_and_venue(text: str) -> tuple[str, str]:
    """ "Mildenhall et al., ECCV 2020", "Dellaert and Yen-Chen, Arxiv 2020", "Rebain et al. Arxiv 2020":
    (authors, venue) of the words after a linked title, or ("", "") when they are something else."""
    text = text.strip(" ,;|—–-")
    if m := _ET_AL.search(text):
        authors, venue = text[:m.end()].strip(" ,"), text[m.end():].strip(" ,.")
    else:
        authors, _, venue = text.rpartition(",")
        authors, venue = authors.strip(), venue.strip(" .")
    if not authors or not looks_like_venue(venue) or not looks_like_authors(authors):
        return "", ""
    return authors, venue


def venue_of_links(line: Line) -> str:
    """A link whose words are a venue ("[[CVPR 2023](arxiv)]") states where the paper appeared."""
    for i, link in enumerate(line.links):
        words = squash_spaces(re.sub(r"[\[\]]", " ", link.text))
        if not is_badge(line, i) and looks_like_venue(words):
            return words
    return ""
