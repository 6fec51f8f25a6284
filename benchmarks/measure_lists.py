"""How much of a real reading list `kg ingest` reads: arXiv ids in the file, listed, with the list's own
title, and the authors / dates / venues / sections captured, skipped entries, time.

Usage: python benchmarks/measure_lists.py LIST.md [LIST.md …]   (nothing is written anywhere)

"in file" counts the distinct valid arXiv ids the raw text links; "listed" those that became a
listed record; "titled" those listed with a title the list wrote; authors/dates/venues/sections count
the listed ids whose entry carries that field (a list that never states a field shows 0 there).
"entries" counts the entries the parser made and "no_link" those with no link at all (title-only
records: a real title-only paper, or a category or heading taken for one, worth a look).
"""

from __future__ import annotations

import re
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from kg.errors import BadInputError  # noqa: E402
from kg.ids import parse_arxiv_id  # noqa: E402
from kg.ingest.parser import parse_reading_list  # noqa: E402
from kg.ingest.run import ingest  # noqa: E402
from kg.model import Listing  # noqa: E402
from kg.store import Store  # noqa: E402

_ID = re.compile(r"arxiv\.org/(?:abs|pdf|html)/+(?:arXiv:)?(\d{4}\.\d{4,5}(?:v\d+)?)", re.IGNORECASE)
FIELDS = ("title", "authors", "date", "venue", "section")


def ids_in_text(text: str) -> set[str]:
    ids = set()
    for m in _ID.finditer(text):
        try:
            ids.add(parse_arxiv_id(m[1]).id)
        except BadInputError:
            continue
    return ids


def measure(path: Path) -> dict[str, object]:
    in_file = ids_in_text(path.read_text(encoding="utf-8", errors="replace"))
    with tempfile.TemporaryDirectory() as tmp:
        store = Store(Path(tmp))
        start = time.perf_counter()
        result = ingest(store, [path], write=False)
        seconds = time.perf_counter() - start
    listed: dict[str, list[Listing]] = {}
    for paper in result.papers:
        if paper.status == "listed" and paper.id in in_file:
            listed[paper.id] = [x for x in paper.listings if x.how == "listed"]
    row: dict[str, object] = {"list": path.name, "in_file": len(in_file), "listed": len(listed)}
    for name in FIELDS:
        row[name] = sum(1 for rows in listed.values() if any(getattr(x, name) for x in rows))
    entries = parse_reading_list(path).entries
    row["entries"] = len(entries)
    row["no_link"] = sum(1 for e in entries if not e.urls)
    row["skipped"] = len(result.report.skipped)
    row["seconds"] = round(seconds, 2)
    return row


def main(paths: list[str]) -> None:
    if not paths:
        sys.exit(__doc__)
    header = ["list", "in_file", "listed", *FIELDS, "entries", "no_link", "skipped", "seconds"]
    print(" | ".join(header))
    for path in paths:
        row = measure(Path(path))
        print(" | ".join(str(row[h]) for h in header))


if __name__ == "__main__":
    main(sys.argv[1:])
