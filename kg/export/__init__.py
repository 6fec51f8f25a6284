"""Bibliography export: BibTeX, BibLaTeX, RIS, CSL-JSON and Markdown, with keys that never change.

    text = export_records(corpus.records(), "bibtex", store=store)

Every format is built from the same citable view of a record (`kg.export.citable`), so they agree
on what kind of work each record is. Keys come from the registry in `store.keys_path`; new keys
are given to every record of the store's corpus at once, in a fixed order, so they do not depend
on which selection happened to be exported first. See docs/export.md.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from kg.errors import BadInputError
from kg.export.bibtex import render_bibtex
from kg.export.citable import Citable, build_citable
from kg.export.csl import render_csl_json, render_markdown
from kg.export.keys import KeyRegistry, load_keys, save_keys
from kg.export.ris import render_ris
from kg.model import Paper, System
from kg.store import Store

Record = Paper | System

FORMATS = ("bibtex", "biblatex", "ris", "csl-json", "markdown")
EXTENSIONS = {"bibtex": ".bib", "biblatex": ".bib", "ris": ".ris", "csl-json": ".json", "markdown": ".md"}


@dataclass
class Export:
    """An export's text and the keys it used (record id -> key); `new_keys` were given out just now."""

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


def assign_keys(records: Iterable[Record], store: Store | None = None) -> tuple[KeyRegistry, list[str]]:
    """The key registry with a key for every record (and, with a store, every record it holds).

    With a store the registry is read from and written back to `store.keys_path`.
    """
    records = list(records)
    if store is None:
        registry = KeyRegistry()
        return registry, registry.assign(records)
    registry = load_keys(store)
    new = registry.assign([*store.load_papers(), *store.load_systems(), *records])
    save_keys(store, registry)
    return registry, new


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
    registry, new = assign_keys(records, store)
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
    """The bibliography of `records` in `fmt`, with keys from (and recorded in) the store's registry."""
    return build_export(records, fmt, style=style, store=store).text


__all__ = ["EXTENSIONS", "FORMATS", "Export", "assign_keys", "build_export", "export_records",
           "why_not_citable"]
