"""Search documents: what the index knows about each paper, split into sentences and BM25 tokens.

A document is a paper's title, its summary (the arXiv abstract, once fetched) and the reading
lists' notes on it; a model release's document is its name, the notes on it and the sentences that
mention it. Every field is cleaned of Markdown and split into sentences; each sentence
keeps the field it came from ("title", "abstract", or the note's "file:line"), so a hit can show
the sentence that matched and where it was written. Aliases ("DDIM", "SDXL-Lightning") are added
to the BM25 text only: they are names, not sentences anyone wrote about the paper.

Everything here is deterministic: the same corpus gives the same documents, sentences, tokens and
fingerprints (`Document.fingerprint`), whose digests make the corpus hash (kg.search.inputs.corpus_hash)
by which a persisted index knows it is stale.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import Stemmer
from anyascii import anyascii

from kg.errors import BadInputError
from kg.text import markdown_to_text, squash_spaces, topic_matches
from kg.text import split_sentences as split_text_sentences

if TYPE_CHECKING:  # a query process reads documents from the index: the corpus's modules never load
    from kg.corpus import Corpus
    from kg.model import Paper, System

DOC_FORMAT = 3  # bump when documents, sentence splitting or tokenisation change: old indexes become stale

# Boilerplate of paper summaries ("This paper presents …", "The authors propose …"): words that
# say nothing about a paper's subject. Dropped by the BM25 tokenizer, for documents and queries alike.
SUMMARY_STOPWORDS = frozenset(
    "paper papers present presents presented propose proposes proposed introduce introduces "
    "introduced author authors".split()
)
# Lucene's English stop set
STOPWORDS_EN = frozenset(
    "a an and are as at be but by for if in into is it no not of on or such that the their then there "
    "these they this to was will with".split()
)
STOPWORDS = STOPWORDS_EN | SUMMARY_STOPWORDS | frozenset("which what how do does".split())

MIN_EVIDENCE_TOKENS = 3  # content words (after stop words) a note's sentence needs to be evidence
MAX_SENTENCE_CHARS = 400  # longer "sentences" (tables, run-on lists) are cut at clause boundaries

_CLAUSE = re.compile(r"(?<=[;:,])\s+")
_WORD = re.compile(r"[^\W_]+")
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]+")
_STEMMER = Stemmer.Stemmer("english")


@dataclass(frozen=True)
class Sentence:
    """One sentence of a document and the field it came from ("title", "abstract", "file:line")."""

    text: str
    field: str


@dataclass
class Document:
    """The searchable view of one paper."""

    id: str
    title: str
    year: int | None = None
    topics: list[str] = field(default_factory=list)
    categories: list[str] = field(default_factory=list)
    aliases: list[str] = field(default_factory=list)
    fields: list[tuple[str, str]] = field(default_factory=list)  # (field label, cleaned text)
    lineage: list[list[str]] = field(default_factory=list)  # each parent's names (data/lineage.csv)

    kind: str = "paper"  # "paper" or "system" (a model release)

    @cached_property
    def sentences(self) -> list[Sentence]:
        """The document's sentences in field order; the title is always the first when present. A note's
        sentence with fewer than MIN_EVIDENCE_TOKENS words that say something ("coming soon",
        "Alignment Loss:") is no sentence: it is never shown as evidence (BM25 still reads it), unless
        the document has nothing else. Computed on first use (a search touches only its hits')."""
        every = [Sentence(p, label) for label, text in self.fields
                 for p in ([text] if label == "title" else split_sentences(text))]
        kept = [s for s in every if s.field in ("title", "abstract") or informative(s.text)]
        return kept or every

    @property
    def bm25_text(self) -> str:
        return "\n".join([*self.aliases, *self.topics, *(n for names in self.lineage for n in names),
                          *(text for _, text in self.fields)])

    def fingerprint(self) -> dict[str, object]:
        """Everything about the document that the index depends on."""
        return {"id": self.id, "kind": self.kind, "title": self.title, "year": self.year,
                "topics": self.topics, "categories": self.categories, "aliases": self.aliases,
                "fields": self.fields, "lineage": self.lineage}


def informative(sentence: str) -> bool:
    """Whether a note's sentence says enough to be shown as the reason for a hit: enough words that are
    not stop words (CJK text counts as informative)."""
    if _CJK.search(sentence):
        return True
    words = [w for w in _WORD.findall(sentence.lower()) if len(w) > 1 and w not in STOPWORDS]
    return len(words) >= MIN_EVIDENCE_TOKENS


# ---- building documents -------------------------------------------------------------------
def build_document(paper: Paper) -> Document:
    """The document of one paper: title, summary when fetched, then each note as `file:line`."""
    fields: list[tuple[str, str]] = []
    title = squash_spaces(plain_text(paper.title))
    if title:
        fields.append(("title", title))
    if paper.summary and plain_text(paper.summary):
        fields.append(("abstract", plain_text(paper.summary)))
    for note in paper.notes:
        text = plain_text(note.text)
        if _WORD.search(text) and (f"{note.file}:{note.line}", text) not in fields:
            fields.append((f"{note.file}:{note.line}", text))
    categories = list(dict.fromkeys([c for c in [paper.primary_category, *paper.categories] if c]))
    return Document(id=paper.id, title=paper.title or paper.id, year=paper.year, topics=list(paper.topics),
                    categories=categories, aliases=list(paper.aliases), fields=fields)


def build_system_document(system: System) -> Document:
    """The document of a model release: its name, the notes on it, and the sentences that mention it
    (each as `file:line`)."""
    fields: list[tuple[str, str]] = [("title", squash_spaces(plain_text(system.name)))]
    texts = [(n.file, n.line, n.text) for n in system.notes] + [(m.file, m.line, m.sentence)
                                                                for m in system.mentions]
    for file, line, raw in texts:
        text = plain_text(raw)
        if _WORD.search(text) and (f"{file}:{line}", text) not in fields:
            fields.append((f"{file}:{line}", text))
    return Document(id=system.id, title=system.name, year=system.year, topics=list(system.topics),
                    aliases=list(system.aliases), fields=[f for f in fields if f[1]], kind="system")


def build_documents(corpus: Corpus, lineage: Iterable[tuple[str, str]] = ()) -> list[Document]:
    """Documents of the corpus's listed papers (not unlisted ones) and of its model releases, sorted
    by id. A record with no text at all is left out: there is nothing to match.

    `lineage`: (child id, parent id) pairs of the curated lineage; a child's document lists the names
    (title and short names) of each of its parents, for BM25 only, so "models derived from Stable
    Diffusion" finds the records that build on it. A parent the corpus does not hold adds nothing."""
    docs = [build_document(p) for p in corpus.listed_papers()]
    docs += [build_system_document(s) for s in corpus.systems.values()]
    parents: dict[str, list[list[str]]] = {}
    for child, parent in dict.fromkeys(lineage):
        if parent in corpus:
            parents.setdefault(child, []).append(_names(corpus, parent))
    for doc in docs:
        doc.lineage = parents.get(doc.id, [])
    return sorted((d for d in docs if d.fields), key=lambda d: d.id)


def _names(corpus: Corpus, record_id: str) -> list[str]:
    from kg.model import Paper

    record = corpus.get(record_id)
    name = record.title if isinstance(record, Paper) else record.name
    return list(dict.fromkeys(n for n in [name, *record.aliases] if n))


def inputs_digest(files_digest: str, model: str) -> str:
    """A hash of what documents are built from, computed without building them: the digest of the
    snapshot files (kg.store.digest_files), DOC_FORMAT and the model's name."""
    text = f"doc-format:{DOC_FORMAT}\nmodel:{model}\nfiles:{files_digest}\n"
    return hashlib.sha256(text.encode()).hexdigest()


def save_documents(path: Path, documents: Iterable[Document]) -> str:
    """Write the documents (their fingerprints) to `path` as a JSON array with exactly one document a line
    (`[`, then one line per document, then `]`), so a reader can find a document by its line
    (kg.search.doctable, the one reader); returns the bytes' SHA-256."""
    digest = hashlib.sha256()
    tmp = path.with_name(path.name + ".tmp")
    with tmp.open("wb") as fh:
        for chunk in _document_lines(documents):
            fh.write(chunk)
            digest.update(chunk)
    tmp.replace(path)
    return digest.hexdigest()


def _document_lines(documents: Iterable[Document], batch: int = 1_000) -> Iterator[bytes]:
    yield b"[\n"
    lines: list[str] = []
    for doc in documents:
        if lines and len(lines) % batch == 0:
            yield ",\n".join(lines).encode("utf-8") + b",\n"
            lines = []
        lines.append(json.dumps(doc.fingerprint(), ensure_ascii=False, separators=(",", ":")))
    yield (",\n".join(lines) + "\n]\n").encode("utf-8") if lines else b"]\n"


def document_from_fingerprint(data: dict[str, Any]) -> Document:
    """The document whose `fingerprint()` is `data` (what save_documents wrote); KeyError, TypeError or
    ValueError when `data` is not one."""
    return Document(id=data["id"], title=data["title"], year=data["year"], topics=data["topics"],
                    categories=data["categories"], aliases=data["aliases"],
                    fields=[(label, text) for label, text in data["fields"]], kind=data["kind"],
                    lineage=data["lineage"])


# ---- text -------------------------------------------------------------------------------------
def plain_text(text: str | None) -> str:
    """Readable plain text of a Markdown snippet (kg.text.markdown_to_text, the one rule)."""
    return markdown_to_text(text)


def split_sentences(text: str) -> list[str]:
    """Sentences for search evidence: kg.text.split_sentences (the one rule), spaces squashed, and
    overlong pieces cut at clauses."""
    out: list[str] = []
    for piece in map(squash_spaces, split_text_sentences(text)):
        out.extend(_cut_long(piece))
    return [p for p in out if _WORD.search(p)]


def _cut_long(sentence: str) -> list[str]:
    if len(sentence) <= MAX_SENTENCE_CHARS:
        return [sentence]
    parts: list[str] = []
    current = ""
    for clause in _CLAUSE.split(sentence):
        if current and len(current) + len(clause) + 1 > MAX_SENTENCE_CHARS:
            parts.append(current)
            current = clause
        else:
            current = f"{current} {clause}".strip()
    parts.append(current)
    return [p[i:i + MAX_SENTENCE_CHARS] for p in parts for i in range(0, len(p), MAX_SENTENCE_CHARS)]


def tokenize(text: str) -> list[str]:
    """BM25 tokens: lower-case ASCII-folded words, stop words dropped, English-stemmed; runs of
    CJK characters become overlapping character pairs (there are no spaces to split on)."""
    tokens: list[str] = []
    for run in _CJK.findall(text):
        tokens.extend(run if len(run) == 1 else [run[i:i + 2] for i in range(len(run) - 1)])
    rest = _CJK.sub(" ", text)
    if not rest.isascii():
        rest = anyascii(unicodedata.normalize("NFKC", rest))
    words = [w for w in _WORD.findall(rest.lower()) if len(w) > 1 and w not in STOPWORDS]
    tokens.extend(_STEMMER.stemWords(words))
    return tokens


# ---- filters --------------------------------------------------------------------------------
@dataclass(frozen=True)
class Filters:
    """Restrictions on hits: a year range (inclusive; papers without a year are then left out),
    topics (a reading-list section whose name contains the words) and arXiv categories ("cs.CV", or
    "cs" for all of cs.*). Several topics or categories: any of them; different kinds: all of them."""

    year_from: int | None = None
    year_to: int | None = None
    topics: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()

    @classmethod
    def from_options(cls, year: str | None = None, topics: Iterable[str] = (),
                     categories: Iterable[str] = ()) -> Filters:
        """Filters from CLI-style options: year "2021:2024", "2021:", ":2020" or "2022"."""
        lo, hi = None, None
        if year:
            from kg.corpus import parse_year_range  # only then: a query process need not load the corpus

            lo, hi = parse_year_range(year)
        return cls(lo, hi, tuple(t for t in topics if t.strip()), tuple(c for c in categories if c.strip()))

    @property
    def is_empty(self) -> bool:
        return self.year_from is None and self.year_to is None and not self.topics and not self.categories


class FilterIndex:
    """Per-document years, topics and categories, so a filter becomes a boolean mask quickly."""

    def __init__(self, documents: Sequence[Document]):
        """One pass over `documents` (a lazy table streams: no parsed document is kept)."""
        self.n = len(documents)
        self.years = np.zeros(self.n, dtype=np.int32)
        self.topics: dict[str, list[int]] = {}
        self.categories: dict[str, list[int]] = {}
        for i, d in enumerate(documents):
            self.years[i] = d.year or 0
            for t in dict.fromkeys(d.topics):
                self.topics.setdefault(t, []).append(i)
            for c in dict.fromkeys(c.lower() for c in d.categories):
                self.categories.setdefault(c, []).append(i)

    def mask(self, filters: Filters | None) -> np.ndarray | None:
        """Which documents pass; None when nothing is filtered."""
        if filters is None or filters.is_empty:
            return None
        keep = np.ones(self.n, dtype=bool)
        if filters.year_from is not None or filters.year_to is not None:
            keep &= self.years > 0
            keep &= self.years >= (filters.year_from or 0)
            keep &= self.years <= (filters.year_to or 9999)
        if filters.topics:
            keep &= self._any(self.topics, filters.topics, _topic_matches, "topic")
        if filters.categories:
            keep &= self._any(self.categories, filters.categories, _category_matches, "category")
        return keep

    def _any(self, table: dict[str, list[int]], wanted: Sequence[str], matches: Callable[[str, str], bool],
             kind: str) -> np.ndarray:
        out = np.zeros(self.n, dtype=bool)
        for want in wanted:
            names = [name for name in table if matches(want, name)]
            if not names:
                known = ", ".join(sorted(table)[:12]) or "none"
                raise BadInputError(f"no {kind} matches {want!r}; known: {known}")
            for name in names:
                out[table[name]] = True
        return out


def _topic_matches(want: str, topic: str) -> bool:
    return topic_matches(want, topic)


def _category_matches(want: str, category: str) -> bool:
    want = want.strip().lower()
    return category == want or category.startswith(want + ".")
