"""Personal names split into parts once (with pybtex's BibTeX name grammar), for keys, CSL and RIS."""

from __future__ import annotations

from dataclasses import dataclass

from pybtex.database import Person
from pybtex.exceptions import PybtexError

from kg.text import squash_spaces


@dataclass(frozen=True)
class Name:
    """A person's name: given, particle ("von"), family, suffix ("Jr."); or one literal string."""

    given: str = ""
    family: str = ""
    particle: str = ""
    suffix: str = ""
    literal: str = ""
    text: str = ""  # the name as written in the record

    @property
    def sort_name(self) -> str:
        """The family name (or the literal), the part keys and sorting use."""
        return self.family or self.literal

    @property
    def inverted(self) -> str:
        """"von Platen, Patrick" (RIS's `Last, First`); the literal as it is."""
        if self.literal:
            return self.literal
        last = " ".join(x for x in (self.particle, self.family) if x)
        return ", ".join(x for x in (last, self.suffix, self.given) if x)


def split_name(text: str) -> Name:
    """Split "Patrick von Platen" or "Platen, Patrick von" the way BibTeX would.

    A name BibTeX cannot read (too many commas, unbalanced braces) stays one literal string.
    """
    text = squash_spaces(text)
    try:
        person = Person(text)
    except PybtexError:
        return Name(literal=text, text=text)
    family = " ".join(person.last_names)
    if not family:
        return Name(literal=text, text=text)
    return Name(
        given=" ".join(person.first_names + person.middle_names),
        family=family,
        particle=" ".join(person.prelast_names),
        suffix=" ".join(person.lineage_names),
        text=text,
    )
