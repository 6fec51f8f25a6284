"""The conventions by which a block names a paper, each a small function over its lines.

- a short-name block: "`LDM` **Title**" then authors, date and link lines;
- a bold title: "**Title** \\ *Authors* \\ Venue. [[Paper](…)]",
  or "1. **Title**. *Authors*. Venue. [[pdf](…)]";
- a quoted bold title anywhere in a bullet: `**"Title"** by Authors (Dec 2013)`;
- a linked title: "[Title](paper-url) (CVPR, 2024)"; a bare paper URL; or words then a paper link
  (not a sentence about a named link: "This is the page of [Title](…)"); generic links then the title
  ("[[Paper](…)] Title"); a date and a venue before it ("25.03 (CVPR24) [Title](…)");
- a bare name in a bullet ("- ControlNet"): named, resolved only by an exact name.
A block with none of these is no entry; its words are a note or the list's prose.
"""

from __future__ import annotations

import re

from kg.ingest.fields import (
    Draft,
    authors_and_venue,
    authors_by,
    fields_of_rest,
    is_generic,
    is_label,
    looks_like_authors,
    looks_like_venue,
    split_tail_authors,
    split_tail_venue,
    split_title,
    split_venue_prefix,
    strip_decorations,
    venue_and_date,
    venue_of_links,
)
from kg.ingest.inline import Line, Span, is_badge
from kg.ingest.markdown import find_links, parse_list_date
from kg.text import squash_spaces

_QUOTED = re.compile(r"^[\"“](.+?)[\"”]$")
_BOLD_BY = re.compile(r"^:?\s*(?:Introduced\s+)?by\s+", re.IGNORECASE)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BARE_URL = re.compile(r"^<?(https?://\S+?)>?$")
_SUB_RELEASE = re.compile(r"^\s*[:：]\s*")
_DATE_LEAD = re.compile(
    r"^[\[(]?(\d{2,4}[./-]\d{1,2}(?:[./-]\d{1,2})?)[\])]?\s*(?:[(\[]([^()\[\]]{2,30})[)\]])?\s*[:：|\-–]?$")
_OPEN_BRACKETS = re.compile(r"^[\[(\s]+$")
_GENERIC_TAIL = re.compile(r"\s*[\[(]([^\[\]()]*)[\])]\s*$")  # "Improved DDPM [arXiv]"
_LEAD_LABEL = re.compile(r"(?i)\[?(?:paper|title|arxiv|pdf)\]?\s*[:：-]")


def lead_spans(line: Line) -> list[Span]:
    """The visible spans, with leading decorations (emoji, ⭐, "NEW") and a "Paper:" label dropped."""
    spans = line.visible()
    while spans and not spans[0].code and spans[0].link < 0 and (
            (not spans[0].bold and (not strip_decorations(spans[0].text)
                                    or _LEAD_LABEL.fullmatch(spans[0].text.strip())))
            or (venue_tag(line) and spans[0].text.strip() == f"[{venue_tag(line)}]" and len(spans) > 1
                and spans[1].link >= 0)):
        spans = spans[1:]
    return spans


def venue_tag(line: Line) -> str:
    """ "**[ICLR 2023]** [Title](…)": the venue written in brackets before the title, or ""."""
    spans = line.visible()
    text = spans[0].text.strip() if spans else ""
    title, venue, _ = split_venue_prefix(text + " a title")
    return venue if title == "a title" else ""


def bold_run(spans: list[Span]) -> tuple[str, int]:
    """The text of the leading bold run and how many spans it takes."""
    n = 0
    while n < len(spans) and spans[n].bold:
        n += 1
    return squash_spaces("".join(s.text for s in spans[:n])), n


# ---- conventions ---------------------------------------------------------------------------
def short_name_title(line: Line) -> Draft | None:
    """ "`LDM` **High-Resolution Image Synthesis …**" (the bold part may be a link)."""
    spans = lead_spans(line)
    if len(spans) < 2 or not spans[0].code or spans[0].bold or not spans[1].bold:
        return None
    bold, n = bold_run(spans[1:])
    if spans[1 + n:] and any(s.text.strip() for s in spans[1 + n:]):
        return None
    draft = Draft(title=split_title(bold)[0], short_name=spans[0].text.strip())
    draft.links = [x for x in line.links if not x.url.startswith("#")]
    return draft


def bold_title(line: Line, block_has_more: bool) -> Draft | None:
    """ "**Title** \\", "1. **Title**. *Authors*. Venue. [[pdf](…)]" (not "**Summary**: …")."""
    spans = lead_spans(line)
    if not spans or not spans[0].bold or spans[0].code:
        return None
    bold, n = bold_run(spans)
    after = "".join(s.text for s in spans[n:n + 1])
    if n < len(spans) and spans[n - 1].link >= 0 and spans[n].link == spans[n - 1].link:
        return None  # only part of a link is bold: the linked-title convention reads it
    if is_label(bold, after) or _DATE_ONLY.match(bold.strip()) or len(bold.split()) < 1:
        return None
    if _QUOTED.match(bold.strip()) or _BOLD_BY.match(after):
        return None  # the titled-bullet convention reads these
    rest = fields_of_rest(spans[n:], line)
    if not (block_has_more or rest.paper_links or rest.links or rest.authors or rest.date):
        return None  # a bold line alone is a heading of sorts, not a paper
    title, venue = split_title(bold)
    draft = Draft(title=title, short_name=rest.short_name, authors=rest.authors,
                  venue=rest.venue or venue, date=rest.date)
    if quoted := _QUOTED.match(rest.authors):  # **Mip-NeRF 360** — Barron et al. *"Title."* CVPR, 2022.
        plain = "".join(s.text for s in spans[n:] if not s.em and s.link < 0).split("[")[0]
        authors, _, venue_words = plain.strip(" —–-").partition(".")
        draft.title, draft.short_name = quoted[1].strip().rstrip("."), title
        draft.authors = authors + "." if authors.endswith("et al") else authors
        draft.venue, draft.date = venue_and_date(venue_words) if draft.authors else (rest.venue, rest.date)
    draft.add_links([line.links[i] for i in sorted({s.link for s in spans[:n] if s.link >= 0})])
    draft.add_links(rest.paper_links + rest.links)
    if not draft.venue:
        draft.venue = venue_of_links(line)
    return draft if title else None


def quoted_title(line: Line) -> Draft | None:
    """ `**"Title"** by Authors (Dec 2013)` or `**Title:** Introduced by Authors (June 2014)`."""
    spans = line.visible()
    for i, span in enumerate(spans):
        if not span.bold:
            continue
        text = span.text.strip()
        after = "".join(s.text for s in spans[i + 1:])
        quoted = _QUOTED.match(text)
        if quoted or (i == 0 and _BOLD_BY.match(after.lstrip(":").lstrip())):
            title = quoted[1] if quoted else text.rstrip(":")
            authors, date = authors_by(after)
            return Draft(title=split_title(title)[0], authors=authors, date=date)
    return None


def linked_title(line: Line) -> Draft | None:
    """ "[Title](paper-url) (CVPR, 2024)", "https://arxiv.org/abs/…", "Title [[paper](arxiv)]",
    "[[Paper](arxiv)] Title", "25.03 (NeurIPS24) [Title](paper-url)"."""
    spans = lead_spans(line)
    if not spans or not any(x.is_paper for x in line.all_links if not x.url.startswith("#")):
        return None
    draft = Draft()
    spans = _open_brackets_dropped(_date_lead(spans, draft))
    if not spans:
        return None
    first = spans[0]
    if first.link >= 0 and not is_badge(line, first.link) and not is_generic(line.links[first.link].text):
        rest_spans = _link_is_title(draft, spans, line)
    elif first.link >= 0:
        rest_spans = _title_after_links(draft, spans, line)
    elif _BARE_URL.match(first.text.strip().split(" ")[0]):
        rest_spans = spans
    else:
        words = _words_are_title(draft, spans, line)
        if words is None:
            return None
        rest_spans = words
    _read_rest(draft, rest_spans, line)
    if not draft.venue and (tag := venue_tag(line)):
        draft.venue, draft.date = tag, draft.date or split_venue_prefix(f"[{tag}] a title")[2]
    return draft


def _date_lead(spans: list[Span], draft: Draft) -> list[Span]:
    """ "25.03 [Title](…)", "2024.05 (NeurIPS24)[Title](…)": a date (and a venue in parentheses)
    written before a linked title; the date is kept when it is a month or a day of a full year."""
    if len(spans) < 2 or spans[0].link >= 0 or spans[0].code or spans[0].bold or spans[1].link < 0:
        return spans
    m = _DATE_LEAD.match(spans[0].text.strip())
    if m is None:
        return spans
    parsed = parse_list_date(m[1])
    draft.date = m[1] if parsed is not None and parsed[1] != "year" else ""
    draft.venue = squash_spaces(m[2] or "")
    return spans[1:]


def _open_brackets_dropped(spans: list[Span]) -> list[Span]:
    """ "[[Paper](…)] Title": the bracket before a link is no word of the entry."""
    while spans and spans[0].link < 0 and not spans[0].code and _OPEN_BRACKETS.match(spans[0].text):
        spans = spans[1:]
    return spans


def _link_is_title(draft: Draft, spans: list[Span], line: Line) -> list[Span]:
    """ "[Title](url)", "[Improved DDPM [arXiv]](url)", "[GLIDE](url): Towards Photorealistic …"."""
    link = line.links[spans[0].link]
    title, venue = split_title(link.text)
    draft.title, draft.venue = _GENERIC_TAIL.sub(lambda m: "" if is_generic(m[1]) else m[0], title), \
        draft.venue or venue
    draft.add_links([link])
    rest = [s for s in spans if s.link != spans[0].link]
    words, n = _plain_run(rest)
    after = words.lstrip()[1:].strip() if words.lstrip().startswith((":", "：")) else ""
    if len(draft.title.split()) <= 3 and len(after.split()) >= 3 and is_title_case(after):
        draft.short_name, draft.title = draft.title, f"{draft.title}: {after.rstrip(' .')}"
        rest = rest[n:]
    return rest


def _title_after_links(draft: Draft, spans: list[Span], line: Line) -> list[Span]:
    """ "[[Paper](arxiv)] Title", "[PDF](url) Title": generic links or badges, then the title's words."""
    n = 0
    while n < len(spans) and (spans[n].link >= 0 or _OPEN_BRACKETS.match(spans[n].text.replace("]", " "))):
        n += 1
    words, m = _plain_run(spans[n:])
    words = words.strip(" ])|-–:")
    lead = [line.links[i] for i in sorted({s.link for s in spans[:n] if s.link >= 0})]
    if len(words.split()) >= 2 and words[:1].isupper() and not looks_like_venue(words):
        draft.title, venue = split_title(words)
        draft.venue = draft.venue or venue
        draft.add_links(lead)
        return spans[n + m:]
    draft.add_links([line.links[spans[0].link]])
    return [s for s in spans if s.link != spans[0].link]


def _words_are_title(draft: Draft, spans: list[Span], line: Line) -> list[Span] | None:
    """ "Title [[paper](arxiv)]", "Title. CVPR 2024 [[paper](…)]": the words before the first link;
    None when they are a sentence about a named link ("This is the repository of [Title](…)")."""
    if spans[0].code and len(spans) > 1 and spans[1].text.lstrip().startswith((":", "：")):
        draft.short_name, spans = spans[0].text.strip(), [Span(spans[1].text.lstrip()[1:]), *spans[2:]]
    lead = _leading_words(spans)
    at = next((i for i, s in enumerate(spans) if s.link >= 0), len(spans))
    if len(lead.split()) < 2:
        return None
    if at < len(spans) and len(lead.split()) >= 4 and _names_a_work(line, spans[at].link):
        return None
    draft.title, draft.venue = split_title(lead)
    if not draft.venue:  # "Title. arXiv, 2023 [[Paper](…)]", "Title. CVPR 2024 [[paper](…)]"
        draft.title, draft.venue = split_tail_venue(draft.title)
        draft.date = _year_of(draft.venue)
    draft.title, draft.authors = split_tail_authors(draft.title)
    _authors_then_bold(draft, spans)
    return spans[at:]


def _names_a_work(line: Line, index: int) -> bool:
    """A link whose words name something (two words or more, no "Paper", no badge)."""
    text = line.links[index].text
    return not is_badge(line, index) and not is_generic(text) and len(text.split()) >= 2


def _plain_run(spans: list[Span]) -> tuple[str, int]:
    """The words of the spans before the next link, and how many spans they take."""
    n = 0
    while n < len(spans) and spans[n].link < 0:
        n += 1
    return squash_spaces("".join(s.text for s in spans[:n] if not s.image)), n


def _authors_then_bold(draft: Draft, spans: list[Span]) -> None:
    """ "A and B. **Title**. ICAPS 2024. [[arxiv](…)]": the bold words are the title, the people
    before them its authors."""
    bold = [i for i, s in enumerate(spans) if s.bold and s.link < 0]
    if not bold or any(s.link >= 0 for s in spans[:bold[0]]):
        return
    before = squash_spaces("".join(s.text for s in spans[:bold[0]]))
    title = squash_spaces("".join(spans[i].text for i in bold))
    if len(title.split()) >= 2 and looks_like_authors(before.rstrip(". ")):
        after = "".join(s.text for s in spans[bold[-1] + 1:] if s.link < 0).split("[")[0]
        venue, date = venue_and_date(after)
        draft.title, draft.authors = split_title(title)[0], before.rstrip(". ")
        draft.venue, draft.date = venue, date


def _year_of(venue: str) -> str:
    m = re.search(r"(?:19|20)\d{2}", venue)
    return m[0] if m else ""


def _leading_words(spans: list[Span]) -> str:
    words = []
    for span in spans:
        if span.link >= 0:
            break
        words.append(span.text)
    return squash_spaces("".join(words)).rstrip("[( -–:")


def _read_rest(draft: Draft, spans: list[Span], line: Line) -> None:
    """What follows a title: its own links ("[[code](…)]", badges), a venue or date in parentheses,
    else a note with the links named in it ("- builds on [DDPM](…)")."""
    named = {s.link for s in spans if s.link >= 0 and not is_badge(line, s.link)
             and not is_generic(line.links[s.link].text)}
    words = [s for s in spans if not s.image and (s.link < 0 or s.link in named)]
    text = squash_spaces(" ".join(s.text for s in words))
    bare = find_links(text)
    stripped = re.sub(r"https?://\S+", "", text).strip().lstrip("-–—:：|").strip()
    if not re.sub(r"[\[\]()\s.,;:|*_-]", "", strip_decorations(stripped)):
        stripped = ""  # only the brackets around the title's own links, or a star count
    authors, venue = authors_and_venue(stripped.split(" | ")[0])
    if authors:  # "[Title](url), Mildenhall et al., ECCV 2020 | [github](…)"
        draft.authors, draft.venue, draft.date = authors, venue, draft.date or _year_of(venue)
        draft.add_links([line.links[i] for i in sorted({s.link for s in spans if s.link >= 0})] + bare)
        return
    short = stripped.startswith(("(", "[")) or len(stripped.split()) <= 4
    venue, date = venue_and_date(stripped) if short else ("", "")
    if venue and not date and not stripped.startswith(("(", "[")):
        venue = ""  # bare words after a link are a note unless they carry a year
    own = [line.links[i] for i in sorted({s.link for s in spans if s.link >= 0} - named)]
    if venue or date or not stripped:
        draft.venue, draft.date = draft.venue or venue, date or draft.date
        draft.add_links(own + [line.links[i] for i in sorted(named)] + bare)
    else:
        draft.rest = stripped
        draft.note_links = [line.links[i] for i in sorted(named)]
        draft.add_links(own + bare)
    if not draft.venue:
        draft.venue = venue_of_links(line)


def bare_name(line: Line) -> Draft | None:
    """ "- ControlNet", "- Imagine yourself", "- Elite: Encoding visual concepts …" (not prose)."""
    body = line.text
    if line.all_links or any(s.bold or s.code or s.em for s in line.spans):
        return None
    name, sep, rest = body.partition(":")
    words = name.split()
    if not 1 <= len(words) <= 3 or name.strip().endswith("."):
        return None
    if sep:
        if rest.strip() and len(rest.split()) >= 4 and name.strip()[:1].isupper() and len(words) == 1:
            return Draft(title=body.rstrip("."), short_name=name.strip(), how="named")
        return None
    if body[:1].isupper() or any(c.isupper() for c in body[1:]):
        return Draft(short_name=name.strip(), how="named")
    return None


def title_bullet(line: Line) -> Draft | None:
    """ "- Improved Techniques for Training Consistency Models": a bullet that is a title alone
    (four words or more, in title case, no sentence); a title-only entry."""
    text = strip_decorations(line.text)
    if line.all_links or any(s.bold or s.code or s.em for s in line.spans) or text.endswith((".", "!", "?")):
        return None
    if looks_like_authors(text):
        return None  # "- Dun Zeng, Yong Dai, Zenglin Xu": people, not a title
    if not 4 <= len(text.split()) <= 25 or not is_title_case(text):
        return None
    title, venue = split_title(text)
    return Draft(title=title, venue=venue)


def is_title_case(text: str) -> bool:
    """Most words longer than three letters start with a capital or a digit ("Improved Techniques for
    Training Consistency Models"), as titles and category names are written, and sentences are not."""
    long_words = [w for w in text.split() if len(w) > 3]
    capitalised = sum(1 for w in long_words if w[:1].isupper() or w[:1].isdigit())
    return bool(long_words) and capitalised >= 0.6 * len(long_words)


def sub_release(line: Line) -> Draft | None:
    """ "- [stable-diffusion-2-base](hf-url): text" under an entry: a release of its own."""
    spans = line.visible()
    if not spans or spans[0].link < 0 or len(spans) < 2:
        return None
    link = line.links[spans[0].link]
    after = "".join(s.text for s in spans if s.link != spans[0].link)
    if link.kind not in ("model", "code") or not _SUB_RELEASE.match(after):
        return None
    draft = Draft(title=link.text, short_name=link.text, links=[link])
    draft.rest = _SUB_RELEASE.sub("", after, count=1).strip()
    return draft
