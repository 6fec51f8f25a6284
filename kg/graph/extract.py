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

from kg.ingest.mentions import NameMatcher
from kg.model import Edge, Paper, System
from kg.text import markdown_to_text, split_sentences, squash_spaces

log = logging.getLogger(__name__)

Record = Paper | System


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


# ---- sentences -----------------------------------------------------------------------------------
def plain_text(text: str) -> str:
    """Note text on one line without Markdown (kg.text.markdown_to_text, the one rule)."""
    return squash_spaces(markdown_to_text(text))


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
    if not hits:  # most sentences name no record: no trigger to look for
        return []
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
    tree: nx.DiGraph[str] = nx.DiGraph()
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
