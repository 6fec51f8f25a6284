"""News lines: "- [2024.05] 🔥 We released the code of [Paper](https://arxiv.org/abs/…)" tells what
happened to a paper; it lists none.

The rule: a line is news when the words it writes before its first named link (its own words, not a
link's) are a sentence about an event (two words or more, with "we", "our", "released", "accepted",
"available", "now" and the like), and either the line starts with a date ("[2024.05]", "**2024-05-01**",
"2024.05.01:") or it stands under a News / Updates / Changelog heading. A news line and the items nested
in it are the list's prose; an arXiv link in them is a mention (kept with its line), never an entry.

A dated line whose first words are a linked title ("- 2024.05 [Title](url)", "Paper: [Title](url)" under
"## News") is an entry as before: the title comes first, not a sentence.
"""

from __future__ import annotations

import re

from kg.ingest.fields import strip_decorations
from kg.ingest.inline import Line

_NEWS_HEADING = re.compile(
    r"^(?:latest |recent )?(?:news|updates?|change ?log|what'?s new|announcements?|release notes)"
    r"(?:\s*(?:&|and)\s*(?:updates?|news))?\W*$", re.IGNORECASE)
_MON = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|oct|nov|dec)[a-z]*\.?"
_DATE_HEAD = re.compile(
    r"^[\[(【]?\s*(?:\d{4}[./-]\d{1,2}(?:[./-]\d{1,2})?|\d{2}[./]\d{2}|\d{1,2}/\d{1,2}/\d{2,4}"
    r"|(?:\d{1,2}\s+)?" + _MON + r",?\s+\d{4}|" + _MON + r"\s+\d{1,2},?\s+\d{4})\s*[\])】]?\s*[:：\-–]?\s*",
    re.IGNORECASE)
_EVENT = re.compile(
    r"\b(?:we|our|us|release[sd]?|releasing|accepted|available|launch(?:ed|es)?|update[sd]?|add(?:ed|s)?"
    r"|support(?:s|ed)?|open-?sourced?|publish(?:ed)?|announce[sd]?|won|selected|out|now|upload(?:ed)?"
    r"|welcome|congratulations)\b", re.IGNORECASE)


def is_news_heading(title: str) -> bool:
    """ "News", "🔥 Updates", "Latest News", "What's New", "Changelog"."""
    return bool(_NEWS_HEADING.match(strip_decorations(title)))


def is_news(line: Line, under_news_heading: bool) -> bool:
    """Is `line` a news line (see the module doc)?"""
    words = []
    for span in line.spans:
        if span.link >= 0:
            break
        if not span.image:
            words.append(span.text)
    text = strip_decorations("".join(words))
    m = _DATE_HEAD.match(text)
    if m is None and not under_news_heading:
        return False
    sentence = text[m.end():] if m else text
    return len(sentence.split()) >= 2 and bool(_EVENT.search(sentence))
