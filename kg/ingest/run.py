"""`kg ingest`: reading lists -> resolved, merged records -> the corpus snapshot, with a report.

Everything is parsed and resolved in memory first; the snapshot is written (atomically) only when
every list was read without error, so bad input never touches what is stored.
"""

from __future__ import annotations

import gc
import logging
import os
from collections import defaultdict
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path

from kg.errors import BadInputError, RejectedEntriesError
from kg.ids import ArxivId, parse_arxiv_id
from kg.ingest.known import FETCHED_PREFIXES, Known, bibliographic_copy, load_known
from kg.ingest.markdown import parse_list_date
from kg.ingest.mentions import NameMatcher, sentence_around
from kg.ingest.parser import MAX_LIST_BYTES, NoteLink, ParsedList, parse_reading_list
from kg.ingest.report import IngestReport, Problem
from kg.ingest.resolve import Resolution, from_list, resolve_entry, titles_agree
from kg.model import Listing, Mention, Note, Paper, System
from kg.store import Store, write_json
from kg.text import compact_key, match_key

log = logging.getLogger(__name__)

LIST_SUFFIXES = (".md", ".markdown")
MAX_MENTIONS_PER_RECORD = 50


@dataclass
class IngestResult:
    papers: list[Paper]
    systems: list[System]
    report: IngestReport


@dataclass
class _Accumulator:
    """Per-record list-derived data gathered while walking the entries."""

    listings: dict[str, list[Listing]] = field(default_factory=lambda: defaultdict(list))
    notes: dict[str, list[Note]] = field(default_factory=lambda: defaultdict(list))
    mentions: dict[str, list[Mention]] = field(default_factory=lambda: defaultdict(list))
    aliases: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    urls: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    topics: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    versions: dict[str, list[str]] = field(default_factory=lambda: defaultdict(list))
    titles: dict[str, list[tuple[str, str]]] = field(default_factory=lambda: defaultdict(list))

    def move(self, source: str, target: str) -> None:
        """Everything gathered for record `source` now belongs to `target`."""
        self.listings[target].extend(self.listings.pop(source, []))
        self.notes[target].extend(self.notes.pop(source, []))
        self.mentions[target].extend(self.mentions.pop(source, []))
        for bucket in (self.aliases, self.urls, self.topics):
            bucket[target].extend(bucket.pop(source, []))


# ---- finding the lists ----------------------------------------------------------------------
def find_list_files(paths: list[Path]) -> list[Path]:
    """Markdown files named or found in the given paths; BadInputError when there are none."""
    files: list[Path] = []
    for path in paths:
        if not path.exists():
            raise BadInputError("no such file or directory", str(path))
        if path.is_dir():
            found = sorted(p for p in path.iterdir() if p.suffix.lower() in LIST_SUFFIXES and p.is_file())
            if not found:
                raise BadInputError("directory has no Markdown reading lists (*.md)", str(path))
            files.extend(found)
        else:
            files.append(path)
    return list(dict.fromkeys(files))


def display_path(path: Path, store: Store) -> str:
    """A list's path relative to the data directory when it lies inside it (stable across clones)."""
    try:
        return Path(os.path.relpath(path.resolve(), store.root.resolve())).as_posix() \
            if path.resolve().is_relative_to(store.root.resolve()) else str(path)
    except ValueError:
        return str(path)


# ---- the pipeline ---------------------------------------------------------------------------
def ingest(store: Store, paths: list[Path] | None = None, *, write: bool = True,
           max_bytes: int = MAX_LIST_BYTES, strict: bool = False) -> IngestResult:
    """Read the lists, resolve and merge their entries, and (with `write`) save the snapshot.

    A list that cannot be read at all raises BadInputError before anything is written. An entry that
    cannot be read (an invalid arXiv id) is skipped and reported with file:line; with `strict`, it
    raises `RejectedEntriesError` instead and nothing is written.
    """
    with collector_paused():
        return _ingest(store, paths, write=write, max_bytes=max_bytes, strict=strict)


@contextmanager
def collector_paused() -> Iterator[None]:
    """Ingest makes millions of small objects without cycles (tokens, spans, links, entries), freed
    by reference counting; the cycle collector would rescan the growing heap again and again (a
    third of the CPU time of a 50,000-entry list, for nothing: peak memory is the same without it)."""
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def _ingest(store: Store, paths: list[Path] | None, *, write: bool, max_bytes: int,
            strict: bool) -> IngestResult:
    files = find_list_files(paths or [store.reading_lists])
    parsed = [parse_reading_list(f, display_path(f, store), max_bytes) for f in files]
    known = load_known(store)
    report = IngestReport(files=[p.file for p in parsed])
    acc = _Accumulator()
    owners = {plist.file: _ingest_list(known, plist, acc, report) for plist in parsed}
    if strict and report.skipped:
        first = report.skipped[0]
        raise RejectedEntriesError(f"{first.where}: {first['reason']} ({len(report.skipped)} entries "
                                   "could not be read; --strict: nothing was written)")
    report.add_problems(conflicting_titles(acc.titles, known))
    _merge_title_records(known, acc)
    _extract_mentions(known, parsed, owners, acc)
    papers, systems = _build_records(known, acc, report)
    report.summarise(papers, systems, parsed)
    if write:
        store.save_papers(papers)
        store.save_systems(systems)
        write_json(store.report_path("ingest-report.json"), report.to_dict())
    return IngestResult(papers, systems, report)


def _ingest_list(known: Known, plist: ParsedList, acc: _Accumulator,
                 report: IngestReport) -> list[str | None]:
    """Resolve and record each entry of one list; the record id each entry resolved to."""
    owners: list[str | None] = []
    for entry in plist.entries:
        try:
            res = resolve_entry(known, entry)
        except BadInputError as exc:
            report.add_problems([Problem("skipped", entry.where, {"reason": exc.reason})])
            owners.append(None)
            continue
        report.add_problems(res.problems)
        _record_entry(res, acc, known)
        owners.append(res.paper_id or res.system_id)
    for linked in plist.linked_in_notes:
        for raw in linked.link.arxiv_raw_ids:
            owner = owners[linked.owner] if linked.owner >= 0 else None
            try:
                _record_linked_mention(plist.file, linked, raw, owner, acc)
            except BadInputError as exc:
                where = f"{plist.file}:{linked.line}"
                report.add_problems([Problem("skipped", where, {"reason": exc.reason})])
    return owners


def _record_entry(res: Resolution, acc: _Accumulator, known: Known) -> None:
    entry = res.entry
    for candidate in res.candidates:  # an ambiguous name: its candidates are kept, and say so
        if candidate in known.papers:
            acc.listings[candidate].append(Listing(file=entry.file, line=entry.line,
                                                   short_name=entry.short_name, section=entry.section,
                                                   how="ambiguous"))
    if res.arxiv and entry.title and res.paper_id == res.arxiv.id:
        acc.titles[res.arxiv.id].append((entry.title, entry.where))
    targets = [t for t in (res.paper_id, res.system_id) if t]
    for target in targets:
        acc.listings[target].append(Listing(
            file=entry.file, line=entry.line, title=entry.title, short_name=entry.short_name,
            section=entry.section, urls=entry.urls, date=entry.date, authors=entry.authors,
            venue=entry.venue, how=entry.how))
        acc.topics[target].append(entry.section)
        acc.urls[target].extend(entry.urls)
        acc.notes[target].extend(Note(n.text, entry.file, n.line, entry.section) for n in entry.notes)
    short = entry.short_name
    if res.paper_id and short and not (res.system_id and res.paper_id):
        acc.aliases[res.paper_id].append(short)
    if res.system_id and short:
        acc.aliases[res.system_id].append(short)
    if res.arxiv and res.arxiv.version and res.paper_id == res.arxiv.id:
        acc.versions[res.paper_id].append(res.arxiv.version)


def _record_linked_mention(file: str, linked: NoteLink, raw: str, owner: str | None,
                           acc: _Accumulator) -> None:
    """An arXiv link inside a note ("[v-predict](https://arxiv.org/abs/2202.00512)"): a mention by
    the link's words, on the line it stands on, with that line as the evidence."""
    url = linked.link.url
    try:
        aid = parse_arxiv_id(raw)
    except BadInputError as exc:
        raise BadInputError(f"{exc.reason} in link {url}", file, linked.line) from exc
    acc.listings[aid.id].append(Listing(file=file, line=linked.line, urls=[url], how="mentioned"))
    acc.urls[aid.id].append(url)
    if aid.version:
        acc.versions[aid.id].append(aid.version)
    name = linked.link.text.strip() or url
    start = linked.text.find(name)
    sentence = sentence_around(linked.text, start, start + len(name)) if start >= 0 else linked.text
    acc.mentions[aid.id].append(Mention(file, linked.line, name, sentence, by=owner))


def _extract_mentions(known: Known, parsed: list[ParsedList], owners: dict[str, list[str | None]],
                      acc: _Accumulator) -> None:
    matcher = NameMatcher([*known.papers.values(), *known.systems.values()])
    for plist in parsed:
        for entry, owner in zip(plist.entries, owners[plist.file], strict=True):
            for note in entry.notes:
                _scan(matcher, note.text, plist.file, note.line, owner, acc)
        for prose in plist.prose:
            _scan(matcher, prose.text, plist.file, prose.line, None, acc)


def _scan(matcher: NameMatcher, text: str, file: str, line: int, owner: str | None,
          acc: _Accumulator) -> None:
    for found in matcher.find(text):
        if found.record_id == owner:
            continue
        bucket = acc.mentions[found.record_id]
        if any(m.file == file and m.line == line for m in bucket[-3:]):
            continue  # one mention a line: "Stable Diffusion (LDM, 2022)" names it once
        if len(bucket) < MAX_MENTIONS_PER_RECORD:
            bucket.append(Mention(file, line, found.name, sentence_around(text, found.start, found.end),
                                  by=owner))


def _merge_title_records(known: Known, acc: _Accumulator) -> None:
    """A title-only entry read before the arXiv-linked entry of the same (normalised) title: one
    record, under the arXiv id (the same normalised title is a merge, never a guess)."""
    by_title = {match_key(p.title): p.id for p in known.papers.values() if p.arxiv_id and p.title}
    for tid in [i for i in acc.listings if i.startswith("title:")]:
        paper = known.papers.get(tid)
        target = by_title.get(match_key(paper.title)) if paper is not None else None
        if target is None or target == tid:
            continue
        acc.move(tid, target)
        known.papers.pop(tid, None)


# ---- building the records -------------------------------------------------------------------
def _build_records(known: Known, acc: _Accumulator, report: IngestReport) -> tuple[list[Paper], list[System]]:
    ids = set(acc.listings) | set(acc.mentions)
    papers: dict[str, Paper] = {}
    for pid in sorted(i for i in ids if not i.startswith("system:")):
        base = known.papers.get(pid) or Paper(id=pid, arxiv_id=pid)
        papers[pid] = _with_list_data(bibliographic_copy(base), pid, acc, known)
        _check_dates(papers[pid], acc.listings[pid], report)
    for pid, paper in known.papers.items():  # fetched data of a paper no list names any more: kept
        if pid not in papers and _has_fetched_data(paper):
            papers[pid] = replace(bibliographic_copy(paper), status="unlisted")
    report.facts_unmatched = sorted(
        p.id for p in known.papers.values() if p.provenance.get("title", "").startswith("facts:")
        and p.id not in ids)
    systems = [_system_with_list_data(s, acc) for s in known.systems.values()]
    return list(papers.values()), systems


def _has_fetched_data(paper: Paper) -> bool:
    return bool(paper.fetched_at) or any(v.startswith(FETCHED_PREFIXES) for v in paper.provenance.values())


def _apply_list_data(record: Paper | System, acc: _Accumulator, aliases: list[str]) -> None:
    """What the lists say about a record: where it is listed, notes, mentions, topics, links, names."""
    rid = record.id
    record.listings = acc.listings.get(rid, [])
    record.notes = _unique_notes(acc.notes.get(rid, []))
    record.mentions = acc.mentions.get(rid, [])
    record.topics = list(dict.fromkeys(t for t in acc.topics.get(rid, []) if t))
    record.urls = list(dict.fromkeys(acc.urls.get(rid, [])))
    record.aliases = _unique_names([*record.aliases, *aliases])
    named = next((x for x in record.listings if x.short_name), None)
    if named and "aliases" not in record.provenance:
        record.provenance["aliases"] = f"list:{named.file}:{named.line}"
    listed = any(x.how in ("listed", "named") for x in record.listings)
    mentioned = any(x.how == "mentioned" for x in record.listings) or bool(record.mentions)
    record.status = "listed" if listed else "mentioned" if mentioned else "unlisted"


def _with_list_data(paper: Paper, pid: str, acc: _Accumulator, known: Known) -> Paper:
    claimed = known.system_alias_keys()
    _apply_list_data(paper, acc, [a for a in acc.aliases.get(pid, []) if compact_key(a) not in claimed])
    paper.version = _newest_version([paper.version, *acc.versions.get(pid, [])])
    if not paper.title:
        paper.title = next((x.title for x in paper.listings if x.title), "")
        if paper.title:
            paper.provenance["title"] = f"list:{paper.listings[0].file}:{paper.listings[0].line}"
    return paper


def _system_with_list_data(system: System, acc: _Accumulator) -> System:
    _apply_list_data(system, acc, acc.aliases.get(system.id, []))
    return system


def _unique_notes(notes: list[Note]) -> list[Note]:
    seen, out = set(), []
    for note in notes:
        key = (note.file, note.line, note.text)
        if key not in seen:
            seen.add(key)
            out.append(note)
    return out


def _unique_names(names: list[str]) -> list[str]:
    seen: dict[str, str] = {}
    for name in names:
        if name and compact_key(name) not in seen:
            seen[compact_key(name)] = name
    return list(seen.values())


def _newest_version(versions: list[str | None]) -> str | None:
    nums = [int(v[1:]) for v in versions if v and v[1:].isdigit()]
    return f"v{max(nums)}" if nums else None


def _check_dates(paper: Paper, listings: list[Listing], report: IngestReport) -> None:
    """A listed date earlier than the month the arXiv id implies cannot be the paper's."""
    if not paper.arxiv_id or "/" in paper.arxiv_id:
        return
    first = ArxivId(paper.arxiv_id).month  # the known first-submission day, when we have it, is finer
    if paper.published and paper.published_precision == "day":
        first = paper.published
    for listing in listings:
        parsed = parse_list_date(listing.date) if listing.date else None
        if parsed is None:
            continue
        listed, precision = parsed
        if listed[: len(first)] < first[: len(listed)]:
            report.add_problems([Problem("date_before_id", f"{listing.file}:{listing.line}", {
                "id": paper.id, "listed_date": listing.date, "first_submitted": first,
                "precision": precision})])


def conflicting_titles(titles: dict[str, list[tuple[str, str]]], known: Known) -> list[Problem]:
    """An arXiv id the lists link under titles that disagree, for ids we know no title of yet (a
    known title is checked entry by entry): reported at the entries whose title is the odd one out."""
    problems = []
    for aid, rows in sorted(titles.items()):
        paper = known.papers.get(aid)
        if paper is not None and paper.title and not from_list(paper):
            continue
        groups: dict[str, list[tuple[str, str]]] = defaultdict(list)
        for title, where in rows:
            groups[match_key(title)].append((title, where))
        if len(groups) < 2:
            continue
        ranked = sorted(groups.values(), key=lambda g: (-len(g), g[0][1]))
        main = ranked[0][0][0]
        odd = [g for g in ranked[1:] if not titles_agree(g[0][0], main)]
        if odd:
            shown = [(g[0][0], [w for _, w in g]) for g in [ranked[0], *odd]]
            problems += [Problem("id_title_conflict", where, {"id": aid, "titles": shown})
                         for g in odd for _, where in g]
    return problems
