"""The data-quality report of an ingest: what was merged, what looks wrong, what is unresolved."""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from kg.model import Paper, System

# Problem kinds, in the order the report shows them, with a heading for each.
SECTIONS = {
    "skipped": "Entries skipped (the rest of each list was read)",
    "id_title_mismatch": "Links whose arXiv id belongs to another paper than the entry's title",
    "id_title_conflict": "arXiv ids listed under different titles (one of the links is likely wrong)",
    "title_differs": "Listed titles that differ from the linked paper's title",
    "date_before_id": "Dates earlier than the paper's arXiv id or first arXiv submission",
    "non_arxiv_link": "Non-arXiv links where an arXiv version exists",
    "ambiguous": "Ambiguous names (reported, not guessed)",
    "possible_duplicate": "Possible duplicates (kept apart: only the same id or normalised title merges)",
    "unresolved": "Names not resolved to any paper or system",
    "no_arxiv_id": "Entries without an arXiv id (kept by title; `kg fetch` may resolve them)",
}


@dataclass(frozen=True)
class Problem:
    """One finding of the report: its kind, the file:line it concerns and what it says."""

    kind: str
    where: str
    details: dict[str, Any] = field(default_factory=dict)

    def __getitem__(self, key: str) -> Any:
        return self.to_dict()[key]

    def get(self, key: str, default: Any = None) -> Any:
        return self.to_dict().get(key, default)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "where": self.where, **self.details}


@dataclass
class IngestReport:
    files: list[str]
    problems: list[Problem] = field(default_factory=list)
    counts: dict[str, int] = field(default_factory=dict)
    duplicates: list[dict[str, Any]] = field(default_factory=list)
    merged_across_lists: list[dict[str, Any]] = field(default_factory=list)
    facts_unmatched: list[str] = field(default_factory=list)

    def add_problems(self, problems: list[Problem]) -> None:
        self.problems.extend(problems)

    @property
    def skipped(self) -> list[Problem]:
        """Entries (or links) that could not be read: each cost itself, not its list."""
        return self.by_kind("skipped")

    def summarise(self, papers: list[Paper], systems: list[System], parsed: list[Any]) -> None:
        status = Counter(p.status for p in papers)
        linked = {i for plist in parsed for i in plist.linked_arxiv_ids()}
        self.counts = {
            "lists": len(self.files),
            "entries": sum(len(p.entries) for p in parsed),
            "papers": len(papers),
            "papers_listed": status["listed"],
            "papers_mentioned": status["mentioned"],
            "papers_unlisted": status["unlisted"],
            "arxiv_ids_linked": len(linked),
            "papers_without_arxiv_id": sum(1 for p in papers if not p.arxiv_id and p.status != "unlisted"),
            "systems": sum(1 for s in systems if s.status != "unlisted"),
            "missing_abstracts": sum(1 for p in papers if p.status != "unlisted" and not p.summary),
        }
        self._find_duplicates([*papers, *systems])

    def _find_duplicates(self, records: list[Paper | System]) -> None:
        for record in records:
            per_file: dict[str, list[int]] = defaultdict(list)
            for listing in record.listings:
                if listing.how in ("listed", "named"):
                    per_file[listing.file].append(listing.line)
            for file, lines in per_file.items():
                if len(lines) > 1:
                    self.duplicates.append({"id": record.id, "label": record.label, "file": file,
                                            "lines": lines})
            if len(per_file) > 1:
                self.merged_across_lists.append({"id": record.id, "label": record.label,
                                                 "lists": sorted(per_file)})

    def by_kind(self, kind: str) -> list[Problem]:
        return [p for p in self.problems if p.kind == kind]

    def to_dict(self) -> dict[str, Any]:
        return {"files": self.files, "counts": self.counts, "duplicates": self.duplicates,
                "merged_across_lists": self.merged_across_lists,
                "problems": [p.to_dict() for p in self.problems], "facts_unmatched": self.facts_unmatched}

    def summary_line(self) -> str:
        """One line for the end of a run that skipped something (empty when nothing was skipped)."""
        skipped = self.skipped
        if not skipped:
            return ""
        first = skipped[0]
        return (f"skipped {len(skipped)} entr{'y' if len(skipped) == 1 else 'ies'}, first {first.where}: "
                f"{first['reason']}; everything else was ingested")

    def render(self) -> str:
        """The report as text for a terminal."""
        c = self.counts
        lines = [
            f"{c.get('lists', 0)} lists, {c.get('entries', 0)} entries -> {c.get('papers_listed', 0)} papers "
            f"listed, {c.get('papers_mentioned', 0)} only mentioned, {c.get('systems', 0)} model releases; "
            f"{c.get('arxiv_ids_linked', 0)} arXiv ids linked; {c.get('papers_without_arxiv_id', 0)} "
            f"without an arXiv id; abstracts missing for {c.get('missing_abstracts', 0)} (run `kg fetch`).",
        ]
        if self.duplicates:
            lines.append("\nDuplicates merged (listed twice in one list):")
            lines += [f"  {d['id']} ({d['label']}): {d['file']} lines {', '.join(map(str, d['lines']))}"
                      for d in self.duplicates]
        if self.merged_across_lists:
            lines.append(f"\nMerged across lists: {len(self.merged_across_lists)} records appear in "
                         "more than one list.")
        for kind, heading in SECTIONS.items():
            rows = self.by_kind(kind)
            if rows:
                lines.append(f"\n{heading}:")
                lines += [f"  {_describe(r)}" for r in rows]
        return "\n".join(lines)


def _describe(problem: Problem) -> str:
    """One line for one finding: where, then what."""
    describe = _DESCRIBE.get(problem.kind)
    what = describe(problem) if describe is not None else repr(problem.get("name", ""))
    return f"{problem.where}: {what}"


def _conflict(p: Problem) -> str:
    return f"{p['id']} is listed as " + "; ".join(f"{t!r} ({', '.join(places)})" for t, places in p["titles"])


def _possible_duplicate(p: Problem) -> str:
    kept = f"; kept as {p['kept'][0]}" if p["kept"] else "; not merged"
    return f"{p['name']!r} is close to " + "; ".join(p["candidates"]) + kept


def _date_before_id(p: Problem) -> str:
    first = p["first_submitted"]
    if len(first) == len("2021-06"):  # only the id's month: arXiv numbers a paper when it announces it
        return (f"{p['id']} dated {p['listed_date']!r}, but its arXiv id is from {first} (a date before it "
                "holds only for a submission held back before announcement)")
    return f"{p['id']} dated {p['listed_date']!r}, but it was first submitted to arXiv on {first}"


_DESCRIBE: dict[str, Callable[[Problem], str]] = {
    "skipped": lambda p: str(p["reason"]),
    "id_title_conflict": _conflict,
    "possible_duplicate": _possible_duplicate,
    "id_title_mismatch": lambda p: (f"{p['listed_title']!r} links {p['linked_id']} ({p['linked_title']!r}); "
                                    f"resolved by title to {p['resolved_to']}"),
    "title_differs": lambda p: f"{p['id']} listed as {p['listed_title']!r}, known as {p['known_title']!r}",
    "date_before_id": _date_before_id,
    "non_arxiv_link": lambda p: f"{p['id']} is on arXiv; the list links {', '.join(p['urls'])}",
    "ambiguous": lambda p: f"{p['name']!r} could be " + "; ".join(p["candidates"]),
    "no_arxiv_id": lambda p: f"{p['title']!r} kept as {p['id']}",
}
