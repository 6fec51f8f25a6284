"""Venue strings from our data mapped onto bibliography fields, honestly."""

from __future__ import annotations

import pytest

from kg.export.venues import PMLR, parse_venue


@pytest.mark.parametrize("raw, kind, name, year", [
    ("CVPR 2022", "conference", "IEEE/CVF Conference on Computer Vision and Pattern Recognition (CVPR)",
     2022),
    ("NIPS 2014", "conference", "Advances in Neural Information Processing Systems (NIPS)", 2014),
    ("NeurIPS 2019", "conference", "Advances in Neural Information Processing Systems (NeurIPS)", 2019),
    ("ICLR", "conference", "International Conference on Learning Representations (ICLR)", None),
    ("SIGGRAPH", "conference", "ACM SIGGRAPH Conference Proceedings (SIGGRAPH)", None),
    ("IEEE TKDE 2024", "journal", "IEEE Transactions on Knowledge and Data Engineering (TKDE)", 2024),
    ("IEEE TPAMI", "journal", "IEEE Transactions on Pattern Analysis and Machine Intelligence (TPAMI)", None),
])
def test_known_venues(raw: str, kind: str, name: str, year: int | None) -> None:
    venue = parse_venue(raw)
    assert venue is not None
    assert (venue.kind, venue.name, venue.year) == (kind, name, year)
    assert (venue.volume, venue.pages, venue.note) == (None, None, None)


def test_pmlr_volume_and_pages_are_read_not_invented() -> None:
    venue = parse_venue("ICML 2024 (PMLR 235, pp. 9550-9575)")
    assert venue is not None
    assert (venue.series, venue.volume, venue.pages, venue.note) == (PMLR, "235", "9550-9575", None)
    assert (venue.first_page, venue.last_page) == ("9550", "9575")


def test_journal_volume_number_pages() -> None:
    venue = parse_venue("Science 2006, vol. 313, no. 5786, pp. 504-507")
    assert venue is not None
    assert (venue.kind, venue.name, venue.year) == ("journal", "Science", 2006)
    assert (venue.volume, venue.number, venue.pages) == ("313", "5786", "504-507")
    jmlr = parse_venue("JMLR 2020 (vol. 21, no. 140, pp. 1-67)")
    assert jmlr is not None and (jmlr.volume, jmlr.number, jmlr.pages) == ("21", "140", "1-67")


def test_neurips_proceedings_volume() -> None:
    venue = parse_venue("NeurIPS 2022 (Advances in NeurIPS 35, pp. 25278-25294)")
    assert venue is not None and (venue.volume, venue.pages, venue.note) == ("35", "25278-25294", None)


def test_workshop_keeps_its_own_name_and_the_qualifier_as_a_note() -> None:
    venue = parse_venue("NeurIPS 2021 Workshop on Deep Generative Models and Downstream Applications "
                        "(short version)")
    assert venue is not None
    assert venue.kind == "conference"
    assert venue.name == "NeurIPS 2021 Workshop on Deep Generative Models and Downstream Applications"
    assert (venue.year, venue.note) == (2021, "short version")


@pytest.mark.parametrize("raw", ["Nature Machine Intelligence 2022", "Some Unknown Venue 2024", "Blog post"])
def test_unknown_venues_are_not_guessed(raw: str) -> None:
    venue = parse_venue(raw)
    assert venue is not None
    assert (venue.kind, venue.name, venue.note) == ("unknown", "", raw)


@pytest.mark.parametrize("raw", [None, "", "  ", "arXiv preprint", "arXiv"])
def test_no_venue(raw: str | None) -> None:
    assert parse_venue(raw) is None
