"""Venue strings as our data writes them ("ICML 2024 (PMLR 235, pp. 9550-9575)") parsed into parts.

Only what the string says is kept: the venue's full name comes from a table of well-known
conferences and journals keyed by their abbreviation; year, volume, number, pages and the PMLR
volume are read from the string; whatever is left over ("short version") becomes a note.
An abbreviation not in the table is not guessed at: `kind` is "unknown" and the string is kept as a note.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

CONFERENCES = {
    "CVPR": "IEEE/CVF Conference on Computer Vision and Pattern Recognition",
    "ICCV": "IEEE/CVF International Conference on Computer Vision",
    "WACV": "IEEE/CVF Winter Conference on Applications of Computer Vision",
    "ECCV": "European Conference on Computer Vision",
    "BMVC": "British Machine Vision Conference",
    "NEURIPS": "Advances in Neural Information Processing Systems",
    "NIPS": "Advances in Neural Information Processing Systems",
    "ICML": "International Conference on Machine Learning",
    "ICLR": "International Conference on Learning Representations",
    "AISTATS": "International Conference on Artificial Intelligence and Statistics",
    "UAI": "Conference on Uncertainty in Artificial Intelligence",
    "COLT": "Conference on Learning Theory",
    "AAAI": "AAAI Conference on Artificial Intelligence",
    "IJCAI": "International Joint Conference on Artificial Intelligence",
    "ACL": "Annual Meeting of the Association for Computational Linguistics",
    "EMNLP": "Conference on Empirical Methods in Natural Language Processing",
    "NAACL": "Conference of the North American Chapter of the Association for Computational Linguistics",
    "KDD": "ACM SIGKDD Conference on Knowledge Discovery and Data Mining",
    "SIGGRAPH": "ACM SIGGRAPH Conference Proceedings",
    "SIGGRAPH ASIA": "ACM SIGGRAPH Asia Conference Proceedings",
    "MICCAI": "International Conference on Medical Image Computing and Computer-Assisted Intervention",
    "ICASSP": "IEEE International Conference on Acoustics, Speech and Signal Processing",
    "CORL": "Conference on Robot Learning",
    "3DV": "International Conference on 3D Vision",
}
JOURNALS = {
    "JMLR": "Journal of Machine Learning Research",
    "TMLR": "Transactions on Machine Learning Research",
    "TPAMI": "IEEE Transactions on Pattern Analysis and Machine Intelligence",
    "TKDE": "IEEE Transactions on Knowledge and Data Engineering",
    "TIP": "IEEE Transactions on Image Processing",
    "TOG": "ACM Transactions on Graphics",
    "IJCV": "International Journal of Computer Vision",
    "CACM": "Communications of the ACM",
    "PNAS": "Proceedings of the National Academy of Sciences",
    "SCIENCE": "Science",
    "NATURE": "Nature",
}
PMLR = "Proceedings of Machine Learning Research"

_HEAD = re.compile(
    r"^\s*(?:(?:IEEE|ACM)\s+)?(?P<abbr>SIGGRAPH\s+Asia|[A-Za-z0-9]+)(?![\w.])\s*(?P<year>(?:19|20)\d\d)?\b(?P<rest>.*)$",
    re.IGNORECASE,
)
_DETAILS = [
    ("series_volume", re.compile(r"\bPMLR\s+(\d+)", re.I)),
    ("volume", re.compile(r"\bAdvances in (?:NeurIPS|NIPS|Neural Information Processing Systems)\s+(\d+)",
                          re.I)),
    ("volume", re.compile(r"\bvol(?:ume|\.)?\s*(\d+)", re.I)),
    ("number", re.compile(r"\bno\.?\s*(\d+)", re.I)),
    ("pages", re.compile(r"\bpp?\.?\s*(\d+\s*[-–]+\s*\d+|\d+)", re.I)),
]
_NOT_A_VENUE = re.compile(r"^\s*(arxiv|preprint|corr)\b", re.I)


@dataclass
class Venue:
    """Where a paper appeared, as far as the venue string tells."""

    raw: str
    kind: str  # conference | journal | unknown
    name: str = ""  # booktitle or journal title, e.g. "International Conference on Machine Learning (ICML)"
    year: int | None = None
    volume: str | None = None
    number: str | None = None
    pages: str | None = None  # "9550-9575"
    series: str | None = None  # "Proceedings of Machine Learning Research"
    note: str | None = None  # what the string says that fits no field ("short version")

    @property
    def first_page(self) -> str | None:
        return self.pages.split("-")[0] if self.pages else None

    @property
    def last_page(self) -> str | None:
        return self.pages.split("-")[-1] if self.pages and "-" in self.pages else None


def parse_venue(raw: str | None) -> Venue | None:
    """The venue a free-text string names; None for no venue (or "arXiv"/"preprint", which is none)."""
    if not raw or not raw.strip() or _NOT_A_VENUE.match(raw):
        return None
    m = _HEAD.match(raw.strip())
    abbr = re.sub(r"\s+", " ", m["abbr"]).upper() if m else ""
    known = abbr in CONFERENCES or abbr in JOURNALS
    # "Nature Machine Intelligence" is not "Nature": a known name followed by more words is another venue.
    if not m or not known or (not m["year"] and re.match(r"\s*(?!Workshop)[A-Za-z]", m["rest"])):
        return Venue(raw=raw.strip(), kind="unknown", note=raw.strip())
    kind = "conference" if abbr in CONFERENCES else "journal"
    venue = Venue(raw=raw.strip(), kind=kind, year=int(m["year"]) if m["year"] else None)
    rest = _read_details(venue, m["rest"])
    full = CONFERENCES.get(abbr) or JOURNALS[abbr]
    written = re.sub(r"\s+", " ", m["abbr"])
    workshop = re.match(r"\s*(Workshops?\b[^(,;]*)", rest)
    if workshop:
        venue.name = " ".join(x for x in (written, m["year"], workshop[1].strip()) if x)
        rest = rest[workshop.end():]
    else:
        venue.name = full if full.upper() == abbr else f"{full} ({written})"
    venue.note = _leftover(rest)
    return venue


def _read_details(venue: Venue, rest: str) -> str:
    """Fill volume/number/pages/series from `rest`; return `rest` with what was read taken out."""
    for field, pattern in _DETAILS:
        m = pattern.search(rest)
        if not m or (field != "series_volume" and getattr(venue, field) is not None):
            continue
        value = re.sub(r"\s*[-–]+\s*", "-", m[1])
        if field == "series_volume":
            venue.series, venue.volume = PMLR, value
        else:
            setattr(venue, field, value)
        rest = rest[: m.start()] + rest[m.end():]
    return rest


def _leftover(rest: str) -> str | None:
    """Text the parser did not use, without the brackets and commas that held the used parts."""
    text = re.sub(r"\(\s*[,;\s]*\)", " ", rest)
    text = re.sub(r"^[\s,;()]+|[\s,;()]+$", "", text)
    text = re.sub(r"\s*[,;]\s*(?=[,;)])", "", text)
    text = re.sub(r"\s+", " ", text).strip(" ,;")
    return text if re.search(r"[A-Za-z]", text) else None
