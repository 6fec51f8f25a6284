"""Resolve reading-list entries to records: by arXiv id, else by the same normalised title or name.

An entry resolves to a known paper, a known system, both (a release listed under its paper's
title, like `SDXL-Turbo` **Adversarial Diffusion Distillation**), or a new record when the list
gives an arXiv id or a title we do not know yet. Two records merge only on the same id or the same
normalised title (case, punctuation, accents, ligatures and decorations ignored): a near match by
the one name matcher (kg/names.py) or a known name inside a title is reported as a possible
duplicate, both kept; an ambiguous name is reported with its candidates. Never guessed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import combinations

from kg.errors import BadInputError, InvalidIdError
from kg.ids import ArxivId, parse_arxiv_id
from kg.ingest.known import Known, paper_id_for, significant_words
from kg.ingest.listed import ListedEntry
from kg.ingest.report import Problem
from kg.model import Paper
from kg.names import name_score
from kg.text import compact_key, match_key

TITLE_DIFFERS_BELOW = 60.0  # score under which a listed title and its linked id's title disagree
MAX_SUBSET_WORDS = 12  # words of a title tried for known names inside it


@dataclass
class Resolution:
    """What one entry resolved to, and what the report should say about it."""

    entry: ListedEntry
    paper_id: str | None = None
    system_id: str | None = None
    arxiv: ArxivId | None = None
    candidates: list[str] = field(default_factory=list)  # an ambiguous name's candidates
    problems: list[Problem] = field(default_factory=list)

    def report(self, kind: str, **details: object) -> None:
        self.problems.append(Problem(kind, self.entry.where, details))


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


def same_title(known: Known, name: str) -> list[str]:
    """Known papers whose title or alias is `name` after normalisation."""
    if not name.strip():
        return []
    return sorted(i for i in known.names.lookup_exact(name) if i in known.papers)


def near_names(known: Known, name: str) -> list[str]:
    """Papers whose names come close to `name` without being it: the name matcher's candidates, and
    papers with a name of two to four words all inside `name` ("Stable Diffusion" in "Stable Video
    Diffusion"). Reported, never merged."""
    if len(compact_key(name)) < 5:
        return []
    found = [i for i, _, _ in known.names.pick(name).candidates if i in known.papers]
    sets = known.word_sets  # only words some short name has can make up one (a few, not all 12)
    words = sorted(significant_words(name) & known.word_set_words)[:MAX_SUBSET_WORDS]
    for size in range(2, min(4, len(words)) + 1):
        for subset in combinations(words, size):
            found += [i for i in sets.get(frozenset(subset), ()) if i in known.papers]
    return list(dict.fromkeys(found))


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
    return bool(entry.title and entry.title != entry.short_name and same_title(known, entry.title))


def _resolve_linked(known: Known, res: Resolution) -> None:
    """The id decides; a title that is another known paper's is reported (and followed)."""
    entry, aid = res.entry, res.arxiv
    assert aid is not None  # noqa: S101 - set by the caller
    res.paper_id = aid.id
    linked = known.papers.get(aid.id)
    if linked is None and entry.title:  # a new paper: its list title names it for the entries after it
        known.add_paper(Paper(id=aid.id, arxiv_id=aid.id, title=entry.title,
                              provenance={"title": f"list:{entry.where}"}))
    if linked is None or not entry.title or from_list(linked):
        return  # a title only the lists give is checked across them (run.conflicting_titles)
    by_title = same_title(known, entry.title)
    others = [i for i in by_title if i != aid.id]
    if len(by_title) == 1 and others:
        res.paper_id = others[0]
        res.report("id_title_mismatch", linked_id=aid.id, linked_title=linked.title,
                   listed_title=entry.title, resolved_to=others[0], how="exact")
        return
    if aid.id not in by_title and not titles_agree(entry.title, linked.title) \
            and not _is_alias(linked, entry.title):
        res.report("title_differs", id=aid.id, listed_title=entry.title, known_title=linked.title,
                   similarity=round(name_score(entry.title, linked.title)))


def from_list(paper: Paper) -> bool:
    """Is the paper's title one a reading list gave (no fetched or gathered title yet)?"""
    return paper.provenance.get("title", "").startswith("list:")


def titles_agree(a: str, b: str) -> bool:
    """Two written titles of one paper: equal after normalisation, close by the name matcher, or one
    the other's head ("TurboEdit" and "TurboEdit: Instant …")."""
    ka, kb = match_key(a), match_key(b)
    if not ka or not kb or ka == kb:
        return True
    return max(name_score(a, b), name_score(b, a)) >= TITLE_DIFFERS_BELOW


def _is_alias(paper: Paper, name: str) -> bool:
    return compact_key(name) in {compact_key(a) for a in paper.aliases}


def _resolve_unlinked(known: Known, res: Resolution) -> None:
    entry = res.entry
    for name, kind in ((entry.title, "title"), (entry.short_name, "short name")):
        ids = same_title(known, name)
        if len(ids) == 1:
            res.paper_id = ids[0]
            return
        if len(ids) > 1:
            _ambiguous(known, res, name, kind, ids)
            return
    if entry.from_heading:
        return  # a heading that names no known paper is a section, never a record
    near = list(dict.fromkeys(near_names(known, entry.title) + near_names(known, entry.short_name)))
    if entry.title and entry.how == "listed":
        _new_title_record(known, res, near)
        return
    if res.system_id is not None:
        return
    if near and extends_a_known_name(known, entry.short_name):
        entry.title = entry.short_name  # "Stable Video Diffusion": a later paper, not LDM's alias
        _new_title_record(known, res, near)
        return
    if len(near) > 1:
        _ambiguous(known, res, entry.short_name or entry.title, "short name", near)
    elif near:
        res.report("possible_duplicate", name=entry.short_name or entry.title,
                   candidates=_described(known, near), kept=[])
    else:
        res.report("unresolved", name=entry.short_name or entry.title)


def extends_a_known_name(known: Known, name: str) -> bool:
    """A bare name in title case ("Stable Video Diffusion") that holds every word of a known paper's
    name ("Stable Diffusion") and more words of its own names a different paper: a title-only
    record of its own, reported next to the near name. Two-word bullets ("Semantic Segmentation"),
    lower-case words or names that add nothing to a known one never are."""
    words = name.split()
    if len(words) < 3 or not all(w[:1].isupper() or w[:1].isdigit() for w in words):
        return False
    own = significant_words(name)
    sets = known.word_sets
    shared = sorted(own & known.word_set_words)
    return len(own) >= 3 and any(
        frozenset(subset) in sets for size in range(2, len(own)) for subset in combinations(shared, size))


def _ambiguous(known: Known, res: Resolution, name: str, kind: str, ids: list[str]) -> None:
    res.candidates = ids
    res.report("ambiguous", name=name, by=kind, candidates=_described(known, ids))


def _described(known: Known, ids: list[str]) -> list[str]:
    return [f"{i} ({known.papers[i].title})" for i in ids]


def _new_title_record(known: Known, res: Resolution, near: list[str]) -> None:
    """A title no record has: a record of its own, kept apart from any near match (reported)."""
    entry = res.entry
    paper = Paper(id=paper_id_for(None, None, entry.title), title=entry.title,
                  provenance={"title": f"list:{entry.where}"})
    existing = known.papers.get(paper.id)
    if existing is not None and match_key(existing.title) == match_key(entry.title):
        res.paper_id = existing.id
        return
    if existing is not None:  # another title with the same slug: never the same paper
        paper.id = paper_id_for(None, None, entry.title, unique=True)
    known.add_paper(paper)
    res.paper_id = paper.id
    res.report("no_arxiv_id", id=paper.id, title=entry.title)
    near = [i for i in near if i != paper.id]
    if near:
        res.report("possible_duplicate", name=entry.title, candidates=_described(known, near),
                   kept=[paper.id])
