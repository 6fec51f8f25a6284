"""Resolve reading-list entries to records: by arXiv id, else title (fuzzy), else short name.

An entry resolves to a known paper, a known system, both (a release listed under its paper's
title, like `SDXL-Turbo` **Adversarial Diffusion Distillation**), or a new record when the list
gives an arXiv id or a title we do not know yet. Ambiguity is reported, never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from rapidfuzz import fuzz

from kg.corpus import FUZZY_MARGIN, FUZZY_THRESHOLD
from kg.errors import BadInputError, InvalidIdError
from kg.ids import ArxivId, parse_arxiv_id
from kg.ingest.known import Known, paper_id_for
from kg.ingest.parser import ListedEntry
from kg.model import Paper
from kg.text import compact_key, match_key

TITLE_DIFFERS_BELOW = 60.0  # token-sort similarity under which a linked id's title is reported


@dataclass
class Resolution:
    """What one entry resolved to, and what the report should say about it."""

    entry: ListedEntry
    paper_id: str | None = None
    system_id: str | None = None
    arxiv: ArxivId | None = None
    problems: list[dict] = field(default_factory=list)

    def report(self, kind: str, **details: object) -> None:
        self.problems.append({"kind": kind, "where": self.entry.where, **details})


def entry_arxiv_ids(entry: ListedEntry) -> list[ArxivId]:
    """The arXiv ids of the entry's own paper links; an invalid one is an error naming file:line."""
    ids = []
    for link in entry.paper_links:
        for raw in link.arxiv_raw_ids:
            try:
                ids.append(parse_arxiv_id(raw))
            except InvalidIdError as exc:
                raise BadInputError(f"{exc} in link {link.url}", entry.file, entry.line) from exc
    return ids


def match_title(known: Known, title: str) -> tuple[list[str], str]:
    """Records whose title or alias matches `title`: (ids, how) with how = exact | fuzzy | ''."""
    if not title.strip():
        return [], ""
    exact = sorted(known.names.lookup_exact(title))
    if exact:
        return exact, "exact"
    if len(match_key(title)) < 8:
        return [], ""
    rows = known.names.fuzzy(title, limit=5, cutoff=FUZZY_THRESHOLD - FUZZY_MARGIN)
    if not rows or rows[0][1] < FUZZY_THRESHOLD:
        return [], ""
    close = [rid for rid, score, _ in rows if rows[0][1] - score < FUZZY_MARGIN]
    return close, "fuzzy"


def resolve_entry(known: Known, entry: ListedEntry) -> Resolution:
    res = Resolution(entry)
    ids = entry_arxiv_ids(entry)
    res.system_id = _system_for(known, entry)
    if ids:
        res.arxiv = ids[0]
        _resolve_linked(known, res)
    elif res.system_id is None or _names_a_paper_too(known, entry):
        _resolve_unlinked(known, res)
    if res.paper_id and res.paper_id in known.papers and entry.paper_links and not ids:
        if known.papers[res.paper_id].arxiv_id:
            res.report("non_arxiv_link", id=res.paper_id, urls=[x.url for x in entry.paper_links])
    return res


def _system_for(known: Known, entry: ListedEntry) -> str | None:
    keys = known.system_alias_keys()
    for name in (entry.short_name, entry.title):
        if name and compact_key(name) in keys:
            ids = [s.id for s in known.systems.values()
                   if compact_key(name) in {compact_key(a) for a in [s.name, *s.aliases]}]
            if len(ids) == 1:
                return ids[0]
    return None


def _names_a_paper_too(known: Known, entry: ListedEntry) -> bool:
    """`SDXL-Turbo` **Adversarial Diffusion Distillation**: the release's line also titles its paper."""
    ids, _ = match_title(known, entry.title) if entry.title and entry.title != entry.short_name else ([], "")
    return any(i in known.papers for i in ids)


def _resolve_linked(known: Known, res: Resolution) -> None:
    entry, aid = res.entry, res.arxiv
    assert aid is not None  # noqa: S101 - set by the caller
    res.paper_id = aid.id
    linked = known.papers.get(aid.id)
    if linked is None or not entry.title:
        return
    by_title, how = match_title(known, entry.title)
    others = [i for i in by_title if i != aid.id and i in known.papers]
    if len(by_title) == 1 and others:
        res.paper_id = others[0]
        res.report("id_title_mismatch", linked_id=aid.id, linked_title=linked.title,
                   listed_title=entry.title, resolved_to=others[0], how=how)
        return
    score = fuzz.token_sort_ratio(match_key(entry.title), match_key(linked.title))
    if aid.id not in by_title and score < TITLE_DIFFERS_BELOW and not _is_alias(linked, entry.title):
        res.report("title_differs", id=aid.id, listed_title=entry.title, known_title=linked.title,
                   similarity=round(score))


def _is_alias(paper: Paper, name: str) -> bool:
    return compact_key(name) in {compact_key(a) for a in paper.aliases}


def _resolve_unlinked(known: Known, res: Resolution) -> None:
    entry = res.entry
    for name, kind in ((entry.title, "title"), (entry.short_name, "short name")):
        ids, how = match_title(known, name)
        ids = [i for i in ids if i in known.papers]
        if len(ids) == 1:
            res.paper_id = ids[0]
            return
        if len(ids) > 1:
            res.report("ambiguous", name=name, by=kind, candidates=[
                f"{i} ({known.papers[i].title})" for i in ids])
            return
    if entry.title and entry.how == "listed":
        paper = Paper(id=paper_id_for(None, None, entry.title), title=entry.title,
                      provenance={"title": f"list:{entry.where}"})
        known.add_paper(paper)
        res.paper_id = paper.id
        res.report("no_arxiv_id", id=paper.id, title=entry.title)
        return
    if res.system_id is None:
        res.report("unresolved", name=entry.short_name or entry.title)
