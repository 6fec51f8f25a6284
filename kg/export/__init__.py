"""Bibliography export: BibTeX, BibLaTeX, RIS, CSL-JSON and Markdown, with keys that never change.

    text = export_records(corpus.records(), "bibtex", store=store)

Every format is built from the same citable view of a record (`kg.export.citable`), so they agree
on what kind of work each record is. Export is a pure function of the records and the keys: keys come
from the registry in `store.keys_path`, which `kg ingest` and `kg fetch` keep up to date
(`kg.export.keys.record_new_keys`); exporting never writes it. A record the registry lacks gets a key
in memory, given to every record of the store's corpus at once in a fixed order, so keys do not
depend on which selection happened to be exported first. See docs/export.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kg.errors import BadInputError
from kg.export.bibtex import render_bibtex
from kg.export.citable import Citable, build_citable
from kg.export.csl import render_csl_json, render_markdown
from kg.export.keys import KeyRegistry, load_keys, record_new_keys
from kg.export.ris import render_ris
from kg.model import Paper, System
from kg.store import Store

Record = Paper | System

FORMATS = ("bibtex", "biblatex", "ris", "csl-json", "markdown")
EXTENSIONS = {"bibtex": ".bib", "biblatex": ".bib", "ris": ".ris", "csl-json": ".json", "markdown": ".md"}


@dataclass
class Export:
    """An export's text and the keys it used (record id -> key); `new_keys`: records the registry has no
    key for yet (keyed in memory; `kg ingest` or `kg fetch` records them)."""

    text: str
    fmt: str
    keys: dict[str, str] = field(default_factory=dict)
    new_keys: list[str] = field(default_factory=list)
    left_out: dict[str, str] = field(default_factory=dict)  # record id -> why it has no entry


def why_not_citable(record: Record) -> str | None:
    """Why a record gets no entry, or None when it gets one.

    A model release needs a year and an organisation or a link: "FLUX.1" alone, with neither
    date nor source, would be an entry that points nowhere. Papers are always exported.
    """
    if not isinstance(record, System):
        return None
    if not record.year:
        return "a model release with no date to cite"
    if not (record.organisation or record.urls):
        return "a model release with neither organisation nor link to cite"
    return None


def assign_keys(records: Iterable[Record], registry: KeyRegistry | None = None,
                corpus: Iterable[Record] = ()) -> tuple[KeyRegistry, list[str]]:
    """A copy of `registry` (default: empty) with a key for every record of `corpus` and `records`,
    and the ids keyed just now. Pure: nothing is read or written."""
    keyed = registry.copy() if registry is not None else KeyRegistry()
    return keyed, keyed.assign([*corpus, *records])


def stored_keys(records: Iterable[Record], store: Store | None) -> tuple[KeyRegistry, list[str]]:
    """The keys of `records` from the store's registry (read only); `assign_keys` without a store."""
    if store is None:
        return assign_keys(records)
    return assign_keys(records, load_keys(store), [*store.load_papers(), *store.load_systems()])


def build_citables(records: Iterable[Record], registry: KeyRegistry) -> list[Citable]:
    """The citable views of the records, sorted by key (the order of every format's output)."""
    citables = [build_citable(r, registry.key_of(r.id)) for r in {r.id: r for r in records}.values()]
    return sorted(citables, key=lambda c: c.key)


def build_export(records: Iterable[Record], fmt: str, *, style: str | None = None,
                 store: Store | None = None) -> Export:
    """Render `records` in `fmt` (one of FORMATS); `style` is the CSL style of markdown."""
    if fmt not in FORMATS:
        raise BadInputError(f"unknown export format {fmt!r}; choose one of {', '.join(FORMATS)}")
    if style and fmt != "markdown":
        raise BadInputError("a citation style applies to the markdown format only")
    records = list(records)
    left_out = {r.id: why for r in records if (why := why_not_citable(r))}
    records = [r for r in records if r.id not in left_out]
    registry, new = stored_keys(records, store)
    citables = build_citables(records, registry)
    text = render_citables(citables, fmt, style=style)
    return Export(text=text, fmt=fmt, keys={c.record_id: c.key for c in citables}, new_keys=new,
                  left_out=left_out)


def render_citables(citables: list[Citable], fmt: str, *, style: str | None = None) -> str:
    """The text of one format for citables already keyed and ordered."""
    if fmt in ("bibtex", "biblatex"):
        return render_bibtex(citables, biblatex=fmt == "biblatex")
    if fmt == "ris":
        return render_ris(citables)
    if fmt == "csl-json":
        return render_csl_json(citables)
    return render_markdown(citables, style)


def export_records(records: Iterable[Record], fmt: str, style: str | None = None,
                   store: Store | None = None) -> str:
    """The bibliography of `records` in `fmt`, with keys from the store's registry."""
    return build_export(records, fmt, style=style, store=store).text


__all__ = ["EXTENSIONS", "FORMATS", "Export", "assign_keys", "build_export", "export_records",
           "record_new_keys", "stored_keys", "why_not_citable"]
