"""arXiv identifiers: parsing from text and URLs, validation, version handling, implied dates."""

from __future__ import annotations

import re
from dataclasses import dataclass

from kg.errors import InvalidIdError

# New-style ids: YYMM.NNNN (2007-2014) or YYMM.NNNNN (2015 on), optional vN.
_NEW = re.compile(r"^(?P<yymm>\d{4})\.(?P<num>\d{4,5})(?:v(?P<v>\d+))?$")
# Old-style ids: archive(.SUBJ)/YYMMNNN, optional vN.
_OLD = re.compile(r"^(?P<arch>[a-z\-]+(?:\.[A-Z]{2})?)/(?P<yymm>\d{4})(?P<num>\d{3})(?:v(?P<v>\d+))?$")
# An arXiv URL: abs, pdf or html page, with the malformed "pdf/arXiv:ID" form accepted; an URL glued
# to the next one ("…07888https://github…") ends there.
ARXIV_URL = re.compile(
    r"arxiv\.org/(?:abs|pdf|html)/+(?:arXiv:)?(?P<id>[a-z\-]+(?:\.[A-Z]{2})?/\d{7}(?:v\d+)?|[^\s/?#)\]]+?)"
    r"(?:\.pdf)?(?=$|[\s/?#)\]]|https?:)",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class ArxivId:
    """An arXiv identifier split into the version-less id (the paper's key) and the version seen."""

    id: str
    version: str | None = None

    def __str__(self) -> str:
        return self.id + (self.version or "")

    @property
    def month(self) -> str:
        """The month the id implies ("2106.15282" -> "2021-06"): the first submission's month."""
        yymm = self.id.split("/")[-1][:4]
        yy, mm = int(yymm[:2]), yymm[2:]
        century = 1900 if yy >= 91 else 2000
        return f"{century + yy}-{mm}"


def _valid_yymm(yymm: str, new_style: bool) -> bool:
    yy, mm = int(yymm[:2]), int(yymm[2:])
    if not 1 <= mm <= 12:
        return False
    if new_style:
        return yy >= 7 and not (yy == 7 and mm < 4)
    return True


def parse_arxiv_id(text: str) -> ArxivId:
    """Parse "2106.15282v3", "arXiv:2106.15282" or "hep-th/9901001"; raise InvalidIdError otherwise."""
    raw = text.strip()
    s = raw[6:] if raw.lower().startswith("arxiv:") else raw
    m = _NEW.match(s)
    if m and _valid_yymm(m["yymm"], True):
        four_digit_era = int(m["yymm"]) < 1501
        if len(m["num"]) == (4 if four_digit_era else 5):
            return ArxivId(f"{m['yymm']}.{m['num']}", f"v{m['v']}" if m["v"] else None)
    m = _OLD.match(s)
    if m and _valid_yymm(m["yymm"], False):
        return ArxivId(f"{m['arch']}/{m['yymm']}{m['num']}", f"v{m['v']}" if m["v"] else None)
    raise InvalidIdError(f"invalid arXiv id {raw!r}")


def looks_like_arxiv_id(text: str) -> bool:
    """True when `text` has the shape of an arXiv id (valid or not): "2301.999999", "2106.15282v3"."""
    s = text.strip()
    s = s[6:] if s.lower().startswith("arxiv:") else s
    return bool(re.fullmatch(r"\d{4}\.\d{3,6}(v\d+)?|[a-z\-]+(\.[A-Z]{2})?/\d{5,8}(v\d+)?", s))


def arxiv_ids_in_url(url: str) -> list[str]:
    """The raw id strings of arXiv pages an URL points to (validated later by `parse_arxiv_id`)."""
    return [m["id"] for m in ARXIV_URL.finditer(url)]
