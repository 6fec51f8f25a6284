"""Lineage relations and mentions extracted from the lists' notes and the arXiv summaries.

Each note (and summary) is split into sentences. Names of known records are found with the alias
dictionary (`NameMatcher`); a trigger phrase ("fine-tuned … from", "builds upon", "accelerating",
"unify", "在…上进行" …) opens a span, and the names inside that span are the parents of the record
that owns the note, with the trigger's relation. Every other name in the sentence is a mention.
Comparisons ("outperforming … DALL-E 2 and GLIDE") have no trigger, so they stay mentions.

`merge_extracted` keeps an extracted lineage edge only where no curated edge joins the same two
records (either way round) and where it does not close a cycle: extraction never duplicates or
contradicts the curated file.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field

import networkx as nx

from kg.model import Edge, Paper, System
from kg.text import clean_text, compact_key, squash_spaces

log = logging.getLogger(__name__)

Record = Paper | System

# Generic words that some record carries as an alias ("GAN", "VAE"): never evidence of anything.
GENERIC_NAMES = {"gan", "gans", "vae", "vaes", "aes", "sde", "sdes", "cfg", "diffusionmodels",
                 "autoencodersaes", "diffusionmodels2015"}
_BOUNDARY_L = r"(?<![A-Za-z0-9_\-])"
# not followed by a version ("DALL-E" is not "DALL-E 2", "SD 2" not "SD 2.5"); a year may follow
_BOUNDARY_R = r"(?![A-Za-z0-9_\-])(?!\s?\d{1,2}(?!\d))(?!\.\d)"
_WORD_START = re.compile(r"(?<![A-Za-z0-9_\-])\S")
_PLAIN_WORD = re.compile(r"[A-Z]?[a-z]+|[A-Z]+")
_MD_LINK = re.compile(r"!?\[([^\[\]]*)\]\([^)\s]*\)")
_URL = re.compile(r"https?://\S+")
_SENTENCE_END = re.compile(r"(?<=[.!?。！？])\s+(?=[^a-z\s])|(?<=[。！？])(?=\S)")

# (relation, trigger). A trigger with a `span` group names where the parents stand; otherwise the
# span runs from the trigger's end to the first stop. "accelerates" becomes distilled_from when the
# sentence speaks of distillation, else extends.
_TRIGGERS: list[tuple[str, re.Pattern[str]]] = [(rel, re.compile(rx, re.IGNORECASE)) for rel, rx in [
    ("finetuned_from", r"\bfine-?tun(?:ed|es|ing)\b(?:\s+version)?[^.;,]{0,40}?\b(?:from|of)\b"),
    ("resumed_from", r"\bresum(?:ed|es|ing)\s+training\b[^.;]{0,80}?\bfrom\b"),
    ("resumed_from", r"\bresum(?:ed|es|ing)\s+from\b"),
    ("distilled_from", r"\bdistill(?:ed|s|ing)?\s+(?:from|of)\b|\bdistillation\s+of\b"),
    ("accelerates", r"\baccelerat(?:e|es|ed|ing)\b"),
    ("extends", r"\b(?:enhanc(?:e|es|ing)|improv(?:e|es|ing)|extend(?:s|ing)?"
                r"|(?:enhancement|improvement|extension)s?\s+(?:to|of|on))\b"),
    ("builds_on", r"\bbuil(?:d|ds|t|ding)\s+(?:up)?on\b|\bbased\s+on\b|\bon\s+top\s+of\b"),
    ("builds_on", r"\b(?:utiliz|leverag|integrat)\w*\b"),
    ("instance_of", r"\btrained\b[^.;]{0,60}?\bby\b"),
    ("variant_of", r"\bsame\s+as\b|\bvariant\s+of\b"),
    ("unifies", r"\bunif(?:y|ies|ying)\b"),
    ("builds_on", r"在(?P<span>[^，。,；;]{1,30}?)上进行"),
    ("builds_on", r"参考(?P<span>[^，。,；;]{1,20}?)的"),
    ("builds_on", r"基于(?P<span>[^，。,；;]{1,30}?)(?:的|，|。|$)"),
    ("variant_of", r"与(?P<span>[^，。,；;]{1,20}?)相同"),
    ("reformulates", r"重新推(?:了)?(?:一遍)?(?P<span>[^，。,；;]{1,20})"),
]]
_STOP = re.compile(
    r"\.(?=\s|$)|[;:!?]|,(?!\s*(?:specifically|namely|especially)\b)"
    r"|\b(?:by|with|while|which|that|to|for|using|but|whereas|than|instead|rather|unlike|compared"
    r"|over|versus|vs)\b", re.IGNORECASE)
MAX_SPAN = 90
MAX_HEAD_WORDS, MAX_HEAD_CHARS = 3, 30  # a title's part before ":" is a name when this short


@dataclass(frozen=True)
class Hit:
    """A record's name found in a text, at [start, end)."""

    record_id: str
    name: str
    start: int
    end: int


def name_pattern(name: str) -> str:
    """The regex for one name: whole word, not followed by a version number, spaces optional
    ("SD v1.5" = "SDv1.5"), a middle dot or a hyphen ("DALL·E 2" = "DALL-E 2"), plural "s" for
    acronyms ("LDMs"); case-insensitive only for coined tokens ("PIXART-α" = "PixArt-α",
    "controlNet" = "ControlNet"), never for plain words or acronyms ("GLIDE" is not "glide")."""
    body = r"\s?".join(re.escape(part) for part in name.split()).replace("·", "[·-]")  # DALL·E = DALL-E
    if name[-1].isupper():
        body += "s?"
    coined = " " not in name and len(name) >= 4 and not _PLAIN_WORD.fullmatch(name)
    return _BOUNDARY_L + (f"(?i:{body})" if coined else body) + _BOUNDARY_R


class NameMatcher:
    """Finds the records a text names, by alias, system name or title; longest name first.

    A name two records share is skipped (never guessed); generic aliases ("GAN") are ignored.
    """

    def __init__(self, records: Iterable[Record]):
        owners: dict[str, set[str]] = {}
        names: dict[str, str] = {}
        for record in records:
            for name in _names_of(record):
                key = compact_key(name)
                if len(key) < 2 or key in GENERIC_NAMES or key.isdigit():
                    continue
                owners.setdefault(key, set()).add(record.id)
                names.setdefault(name, key)
        self.owner = {key: next(iter(ids)) for key, ids in owners.items() if len(ids) == 1}
        usable = sorted((n for n, k in names.items() if k in self.owner), key=lambda n: (-len(n), n))
        # One alternation per first letter: tried only where a word starts with that letter.
        groups: dict[str, list[str]] = {}
        for name in usable:
            groups.setdefault(name[0].lower(), []).append(name_pattern(name))
        self.patterns = {first: re.compile("|".join(rx)) for first, rx in groups.items()}

    def find(self, text: str) -> list[Hit]:
        """The records `text` names, left to right, never two overlapping."""
        hits: list[Hit] = []
        pos = 0
        for start in _WORD_START.finditer(text):
            i = start.start()
            pattern = self.patterns.get(text[i].lower())
            m = pattern.match(text, i) if pattern is not None and i >= pos else None
            if m is None:
                continue
            key = compact_key(m.group(0))
            rid = self.owner.get(key) or self.owner.get(key[:-1] if key.endswith("s") else "")
            if rid:
                hits.append(Hit(rid, m.group(0), m.start(), m.end()))
                pos = m.end()
        return hits


def _names_of(record: Record) -> list[str]:
    """Aliases, the title, a system's name, and a title's short head ("LLaMA" of "LLaMA: Open and …")."""
    names = [*record.aliases, record.title]
    if isinstance(record, System):
        names.append(record.name)
    head = record.title.split(":", 1)[0].strip() if ":" in record.title else ""
    if head and len(head) <= MAX_HEAD_CHARS and len(head.split()) <= MAX_HEAD_WORDS:
        names.append(head)
    return [clean_text(n).strip() for n in names if n and n.strip()]


# ---- sentences -----------------------------------------------------------------------------------
def plain_text(text: str) -> str:
    """Note text without Markdown (links keep their words, URLs and markup go), mojibake repaired."""
    text = _MD_LINK.sub(lambda m: m.group(1), clean_text(text))
    text = _URL.sub("", text).replace("**", "").replace("`", "")
    return squash_spaces(text)


def split_sentences(text: str) -> list[str]:
    """Sentences of a plain text ("SDv1.2" and "2022.12" keep their dots)."""
    return [s.strip() for s in _SENTENCE_END.split(text) if s and s.strip()]


def _span(sentence: str, m: re.Match[str]) -> tuple[int, int]:
    if "span" in m.re.groupindex:
        return m.span("span")
    start = m.end()
    stop = _STOP.search(sentence, start, min(len(sentence), start + MAX_SPAN))
    return start, stop.start() if stop else min(len(sentence), start + MAX_SPAN)


def relations_in_sentence(sentence: str, owner: str, matcher: NameMatcher) -> list[tuple[str, str | None]]:
    """(record id, relation) for each record the sentence names; relation None for a mention.

    The owner of the note is never its own parent; a record keeps the first relation found for it.
    """
    hits = [h for h in matcher.find(sentence) if h.record_id != owner]
    found: dict[str, str | None] = {h.record_id: None for h in hits}
    triggers = sorted(((m.start(), rel, m) for rel, rx in _TRIGGERS for m in rx.finditer(sentence)),
                      key=lambda t: t[0])
    for _, relation, m in triggers:
        if relation == "accelerates":
            relation = "distilled_from" if re.search(r"distill", sentence, re.I) else "extends"
        lo, hi = _span(sentence, m)
        for h in hits:
            if lo <= h.start and h.end <= hi and found[h.record_id] is None:
                found[h.record_id] = relation
    return list(found.items())


# ---- records -------------------------------------------------------------------------------------
@dataclass
class Extraction:
    """What the notes and summaries say: lineage edges (child -> parent) and mention edges."""

    lineage: list[Edge] = field(default_factory=list)
    mentions: list[Edge] = field(default_factory=list)


def _texts(record: Record, include_summaries: bool) -> Iterator[tuple[str, str, str]]:
    """(text, evidence_ref, provenance) of each note, then the summary."""
    for note in record.notes:
        ref = f"{note.file}:{note.line}"
        yield note.text, ref, f"extracted:{ref}"
    if include_summaries and isinstance(record, Paper) and record.summary:
        yield record.summary, f"summary:{record.id}", "extracted:summary"


def extract_relations(records: Iterable[Record], matcher: NameMatcher | None = None, *,
                      include_summaries: bool = True) -> Extraction:
    """Lineage and mention edges from every record's notes (and arXiv summary)."""
    records = sorted(records, key=lambda r: r.id)
    matcher = matcher or NameMatcher(records)
    out = Extraction()
    seen_lineage: set[tuple[str, str]] = set()
    seen_mentions: set[tuple[str, str, str]] = set()
    for record in records:
        for text, ref, provenance in _texts(record, include_summaries):
            for sentence in split_sentences(plain_text(text)):
                for target, relation in relations_in_sentence(sentence, record.id, matcher):
                    edge = Edge(record.id, target, "lineage" if relation else "mentions", provenance,
                                relation=relation, evidence=sentence, evidence_ref=ref)
                    if relation and (record.id, target) not in seen_lineage:
                        seen_lineage.add((record.id, target))
                        out.lineage.append(edge)
                    elif not relation and (record.id, target, ref) not in seen_mentions:
                        seen_mentions.add((record.id, target, ref))
                        out.mentions.append(edge)
    # a name the same note already gives as a parent is not a mention besides
    parents = {(e.source, e.target, e.evidence_ref) for e in out.lineage}
    out.mentions = [e for e in out.mentions if (e.source, e.target, e.evidence_ref) not in parents]
    return out


def merge_extracted(curated: Iterable[Edge],
                    extracted: Iterable[Edge]) -> tuple[list[Edge], list[tuple[Edge, str]]]:
    """The extracted lineage edges that neither duplicate, contradict nor close a cycle with the
    curated ones (or with those kept before them), and the dropped ones with the reason."""
    tree = nx.DiGraph()
    pairs: dict[frozenset[str], Edge] = {}
    for e in curated:
        tree.add_edge(e.source, e.target)
        pairs[frozenset((e.source, e.target))] = e
    kept: list[Edge] = []
    dropped: list[tuple[Edge, str]] = []
    for e in extracted:
        other = pairs.get(frozenset((e.source, e.target)))
        if other is not None:
            same = (other.source, other.relation) == (e.source, e.relation)
            dropped.append((e, "duplicates" if same else f"contradicts {other.provenance}"))
        elif e.target in tree and e.source in tree and nx.has_path(tree, e.target, e.source):
            dropped.append((e, "would close a lineage cycle"))
        else:
            tree.add_edge(e.source, e.target)
            pairs[frozenset((e.source, e.target))] = e
            kept.append(e)
    for e, reason in dropped:
        log.debug("extracted %s -[%s]-> %s dropped: %s", e.source, e.relation, e.target, reason)
    return kept, dropped
