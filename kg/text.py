"""Text normalisation: repair of mis-encoded characters and ligatures, match keys and slugs."""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

from anyascii import anyascii

_NON_ASCII_RUN = re.compile(r"[^\x00-\x7f]+")
_NON_ALNUM = re.compile(r"[^0-9a-z]+")
_SPACES = re.compile(r"\s+")
_MD_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")  # [text](url) -> text; images keep their alt text
_URL = re.compile(r"https?://\S+")
_MARKUP = re.compile(r"(\*\*|__|`|~~|^#+\s*|^\s*[-*+]\s+|^\s*\d+[.)]\s+)", re.MULTILINE)
# *emphasis* and _emphasis_: a mark with a word character inside and none outside ("2 * 3", snake_case stay)
_EMPHASIS = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]+?)(?<=[^\s*])\*(?![\w*])"
                       r"|(?<![\w_])_(?=[^\s_])([^_\n]+?)(?<=[^\s_])_(?![\w_])")


def _repair_mac_roman(run: str) -> str:
    """Undo UTF-8 text that was decoded as Mac Roman ("512√ó512" -> "512×512").

    Four-byte characters (emoji) lose their lead byte 0xF0 on that path, so it is restored.
    A run that does not decode cleanly is left as it was.
    """
    try:
        raw = run.encode("mac_roman")
    except UnicodeEncodeError:
        return run
    for candidate in (raw, b"\xf0" + raw):
        try:
            return candidate.decode("utf-8")
        except UnicodeDecodeError:
            continue
    return run


def clean_text(text: str) -> str:
    """Readable text: mojibake repaired, PDF ligatures expanded ("Diﬀusion" -> "Diffusion"), NFC."""
    if text.isascii() and text.isprintable() and "&" not in text:
        return text  # nothing ftfy would change: no mojibake, ligature, entity or control character
    text = _NON_ASCII_RUN.sub(lambda m: _repair_mac_roman(m.group(0)), text)
    import ftfy  # here, not at the top: a query process never repairs text (its import costs ~0.1 s)

    text = ftfy.fix_text(text, normalization="NFC")
    return text


@lru_cache(maxsize=1 << 16)
def match_key(text: str) -> str:
    """A key for comparing names and titles: case, punctuation, accents and ligatures ignored."""
    text = unicodedata.normalize("NFKC", clean_text(text))
    text = anyascii(text).lower()
    return _NON_ALNUM.sub(" ", text).strip()


@lru_cache(maxsize=1 << 16)
def compact_key(text: str) -> str:
    """`match_key` without spaces, so "SD v1.5" == "SDv1.5" and "Stable Diffusion" == "StableDiffusion"."""
    return match_key(text).replace(" ", "")


def slugify(text: str, max_len: int = 60) -> str:
    """An ASCII, lower-case, hyphenated slug ("FLUX.1" -> "flux-1")."""
    slug = match_key(text).replace(" ", "-")
    return slug[:max_len].strip("-") or "untitled"


def squash_spaces(text: str) -> str:
    return _SPACES.sub(" ", text).strip()


def markdown_to_text(text: str | None) -> str:
    """Readable plain text of a Markdown snippet: links keep their words, URLs and markup go;
    line breaks stay (a list item is a sentence of its own), blank lines and runs of spaces go.

    The one Markdown-to-text rule: search documents and their sentences, the graph's extraction,
    the CLI and the app's evidence all read notes through it. HTML is left as it is (escaping
    belongs to whoever renders it)."""
    if not text:
        return ""
    if not text.isascii():  # mojibake and ligatures need non-ASCII characters: skip the costly repair
        text = clean_text(text)
    text = _MD_LINK.sub(r"\1", text)
    text = _URL.sub(" ", text)
    text = _MARKUP.sub("", text)
    text = _EMPHASIS.sub(lambda m: m.group(1) or m.group(2), text)
    return "\n".join(line for line in map(squash_spaces, text.splitlines()) if line)


def topic_matches(wanted: str, topic: str) -> bool:
    """Whether a reading-list section `topic` ("Image Generation > Series of Stable Diffusion Models")
    is one `wanted` names: its words appear in the section's name in order, whatever the case,
    punctuation or separators ("stable-diffusion", "Stable Diffusion", "stable diffusion" all match).

    The one topic rule: `kg list --topic`, `kg search --topic`, `kg export --topic` and the app."""
    key = match_key(wanted)
    return bool(key) and key in match_key(topic)


_SENTENCE_BOUNDARY = re.compile(r"(?<=[.!?])\s+(?=[\"'“(\[]?[A-Z0-9])|(?<=[。！？；])")
_ABBREVIATIONS = ("e.g.", "i.e.", "et al.", "vs.", "fig.", "eq.", "cf.", "approx.", "no.", "sec.")
_HAS_WORD = re.compile(r"[^\W_]+")


def split_sentences(text: str) -> list[str]:
    """The sentences of a plain text, each an exact (stripped) piece of it: every line apart; within a
    line, a break after . ! ? before a capital, a digit or an opening quote (not after "e.g.", "et al."
    and the like; "SDv1.2" and "2022.12" keep their dots), and after CJK full stops. Pieces with no
    word are dropped.

    The one sentence rule: mentions (kg.ingest), lineage extraction (kg.graph) and search evidence
    (kg.search, which also cuts overlong pieces at clauses) all split with it."""
    return [s for line in text.splitlines() for s in _split_line(line)]


def _split_line(line: str) -> list[str]:
    pieces: list[str] = []
    start = 0
    for m in _SENTENCE_BOUNDARY.finditer(line):
        head = line[start:m.start()].rstrip()
        if head.lower().endswith(_ABBREVIATIONS):
            continue
        pieces.append(head)
        start = m.end()
    pieces.append(line[start:])
    return [s for s in (p.strip() for p in pieces) if _HAS_WORD.search(s)]
