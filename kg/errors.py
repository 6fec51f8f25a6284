"""The small family of errors raised by `kg`; the CLI and the app turn them into user messages."""

from __future__ import annotations


class KGError(Exception):
    """Base class for every error `kg` raises on purpose."""

    exit_code = 2


class BadInputError(KGError):
    """Input that cannot be used: a missing path, an unreadable file, a malformed id.

    Carries the file and line when there is one, so the message can name them.
    """

    def __init__(self, message: str, path: str | None = None, line: int | None = None):
        self.path = path
        self.line = line
        self.reason = message
        where = f"{path}:{line}: " if path and line else f"{path}: " if path else ""
        super().__init__(f"{where}{message}")


class InvalidIdError(BadInputError):
    """A string that claims to be an arXiv id but is not a valid one."""


class RejectedEntriesError(BadInputError):
    """`kg ingest --strict` met entries it could not read: nothing was written (exit status 1)."""

    exit_code = 1


class NotFoundError(KGError):
    """No paper or system matches a name; carries the closest suggestions."""

    def __init__(self, query: str, suggestions: list[str] | None = None):
        self.query = query
        self.suggestions = list(suggestions or [])
        msg = f"no paper or system matches {query!r}"
        if self.suggestions:
            msg += "; closest: " + ", ".join(self.suggestions)
        super().__init__(msg)


class AmbiguousError(KGError):
    """A name matches several papers equally well; we report instead of guessing."""

    def __init__(self, query: str, candidates: list[str]):
        self.query = query
        self.candidates = list(candidates)
        super().__init__(f"{query!r} is ambiguous: " + ", ".join(self.candidates))


class StaleIndexError(KGError):
    """The persisted index does not match the corpus or the model; run `kg build`."""


class DimensionMismatchError(StaleIndexError):
    """Vectors of one dimension met an index of another."""


class SourceError(KGError):
    """A remote source (arXiv, Semantic Scholar) failed after every retry.

    `ids` names what was not fetched, so a rerun can resume.
    """

    def __init__(self, message: str, ids: list[str] | None = None, url: str | None = None):
        self.ids = list(ids or [])
        self.url = url
        self.reason = message
        if self.ids:
            shown = ", ".join(self.ids[:20]) + (" …" if len(self.ids) > 20 else "")
            message = f"{message} (not fetched: {shown})"
        super().__init__(message)


class OfflineError(SourceError):
    """The network cannot be reached at all."""


class LockedError(KGError):
    """Another writer holds the data directory (`kg ingest`, `kg fetch`, `kg build` at work)."""
