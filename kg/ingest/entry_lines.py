"""The lines below an entry's title line: each says one thing (a date, authors, links, a note)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from kg.ingest.fields import strip_decorations, venue_and_date, venue_of_links
from kg.ingest.inline import Line
from kg.ingest.markdown import Link, parse_list_date
from kg.text import squash_spaces

_NOTE_PREFIX = re.compile(r"^(?:Notes?|Summary|TL;?DR)\s*[:：]\s*", re.IGNORECASE)
_DATE_ONLY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_BARE_URL = re.compile(r"^<?(https?://\S+?)>?$")
_ORG_ABBREVIATION = re.compile(r"\b(?:Inc|Ltd|Co|Corp|LLC|GmbH|Labs?)\.$")  # "ByteDance Inc.": no sentence


@dataclass
class LineFacts:
    """What one line after the title says: a field, links, or a note."""

    date: str = ""
    authors: str = ""
    venue: str = ""
    paper_links: list[Link] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    note: str = ""
    sticky: bool = False


def read_entry_line(line: Line, has_notes: bool, has_authors: bool) -> LineFacts:
    """One line of an entry block after its title line."""
    text = line.text
    facts = LineFacts()
    visible = line.visible()
    if len(visible) == 1 and visible[0].bold and _DATE_ONLY.match(visible[0].text.strip()):
        facts.date = visible[0].text.strip()
        return facts
    links = [x for x in line.all_links if not x.url.startswith("#")]
    if _BARE_URL.match(text) and links:
        _sort_links(facts, links)
        return facts
    if visible and all(s.em and not s.bold and s.link < 0 for s in visible) and not has_authors:
        facts.authors = text.strip(" .")
        return facts
    if not links and _is_date_line(text):
        facts.date = text.strip(" .")
        return facts
    head = text.split("[")[0].split()
    if head and parse_list_date(head[0]) is not None and len(head) <= 6 or is_link_line(line, links):
        _date_and_links(facts, text, links, line, has_authors)
        return facts
    if _NOTE_PREFIX.match(text):
        facts.note = _NOTE_PREFIX.sub("", text)
        facts.sticky = text.lower().startswith("notes")
        return facts
    ends_sentence = text.endswith(".") and not _ORG_ABBREVIATION.search(text)
    if not has_notes and not has_authors and len(text) < 80 and not ends_sentence and not links:
        facts.authors = text  # an organisation line: "Stability AI, Applied Research"
        return facts
    facts.note = text
    return facts


def _is_date_line(text: str) -> bool:
    """ "16 Jul 2022", "Jul. 2022", "2022-07-16": a line that is only a date finer than a year."""
    parsed = parse_list_date(text)
    return parsed is not None and parsed[1] != "year" and len(text.split()) <= 4 and \
        not re.search(r"[A-Za-z]{5,}", re.sub(r"(?i)\b(?:january|february|march|april|june|july|august|"
                                               r"september|october|november|december)\b", "", text))


def is_link_line(line: Line, links: list[Link]) -> bool:
    """A line of links with a few words at most ("[[Paper](…)] | [[Code](…)]", "CVPR 2023 [pdf](…)")."""
    rest = squash_spaces("".join(s.text for s in line.spans if s.link < 0 and not s.image))
    rest = re.sub(r"https?://\S+", "", rest)
    return bool(links) and len(rest.strip(" .[]()|,;")) <= 40 and len(rest.split()) <= 6


def _sort_links(facts: LineFacts, links: list[Link]) -> None:
    for link in links:
        (facts.paper_links if link.is_paper else facts.links).append(link)


def _date_and_links(facts: LineFacts, text: str, links: list[Link], line: Line, has_authors: bool) -> None:
    """ "2021.12 [[Paper](…)] [[Project](…)]", "2022.8 CompVis", "CVPR 2023. [[Paper](…)]" (the words
    of the links themselves, "**[Project Page](…)** | **[Paper](…)**", are no venue)."""
    plain = strip_decorations("".join(s.text for s in line.spans if s.link < 0 and not s.image))
    head = plain.split("[")[0].strip(" |")
    parsed = parse_list_date(head.split()[0]) if head.split() else None
    if parsed is not None:
        facts.date = head.split()[0].rstrip(".")
        org = " ".join(head.split()[1:]).strip()
        if org and not has_authors:
            facts.authors = org
    elif head:
        facts.venue, facts.date = venue_and_date(head)
    facts.venue = facts.venue or venue_of_links(line)
    for link in links:
        if link.text.lower() in ("paper", "pdf", "arxiv") or link.kind == "arxiv" or link.is_paper:
            facts.paper_links.append(link)
        else:
            facts.links.append(link)
