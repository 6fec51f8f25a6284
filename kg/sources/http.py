"""The HTTP transport both sources share: one request at a time, spaced, retried with backoff.

What it does for every request:
- waits until `min_interval` seconds have passed since the previous request (arXiv asks for 3 s);
- on 429, 5xx, a connection reset, a timeout or an answer the caller's `check` rejects (an empty
  page, truncated XML, invalid JSON) it waits and tries again: exponential backoff with jitter,
  and never less than the server's `Retry-After`;
- when the very first request cannot connect at all (DNS failure, connection refused), it stops at
  once with `OfflineError` instead of retrying: there is no network, so retrying only wastes time;
- it counts requests, bytes and retries in a `SourceStats`.

All waiting goes through the module function `sleep`, the one place the sources sleep.
"""

from __future__ import annotations

import logging
import random
import socket
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Any
from urllib.parse import urlsplit

import requests
from urllib3.exceptions import ConnectTimeoutError, NameResolutionError, NewConnectionError

from kg.errors import BadInputError, OfflineError

logger = logging.getLogger(__name__)

RETRY_STATUSES = frozenset({429, 500, 502, 503, 504})
INVALID_URL = (requests.exceptions.InvalidURL, requests.exceptions.MissingSchema,
               requests.exceptions.InvalidSchema, requests.exceptions.URLRequired)


def sleep(seconds: float) -> None:
    """Wait `seconds`: every wait of the sources goes through here."""
    time.sleep(seconds)


def utc_now() -> str:
    """The current time as an ISO timestamp in UTC, to the second ("2024-08-15T09:30:00Z")."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


@dataclass
class RetryPolicy:
    """How a failing request is retried.

    retries: how many times a request is tried again after its first try.
    backoff_base: the first wait in seconds; each further retry doubles it, up to `backoff_max`.
    backoff_max: the longest wait between two tries, in seconds.
    max_retry_after: a `Retry-After` longer than this (seconds) ends the retries at once.
    """

    retries: int = 4
    backoff_base: float = 5.0
    backoff_max: float = 120.0
    max_retry_after: float = 600.0

    def backoff(self, attempt: int) -> float:
        """The wait before retry number `attempt` + 1: exponential, with "equal jitter".

        Half of the delay is fixed and half random, so clients that failed together spread out
        while the wait still grows with every failure.
        """
        delay = min(self.backoff_max, self.backoff_base * 2.0**attempt)
        return delay / 2 + random.uniform(0, delay / 2)


@dataclass
class SourceStats:
    """What one source did during a run."""

    requests: int = 0
    cache_hits: int = 0
    bytes: int = 0
    retries: int = 0

    def to_dict(self) -> dict[str, int]:
        return asdict(self)


class RequestFailed(Exception):
    """A request that did not succeed: retries exhausted, or an answer not worth retrying.

    `response` is the last response received, if any (callers may accept it, e.g. an empty
    search page that stayed empty after every retry).
    """

    def __init__(self, url: str, problem: str, response: requests.Response | None = None):
        self.url = url
        self.problem = problem
        self.response = response
        super().__init__(f"{problem} ({url})")


def parse_retry_after(value: str | None) -> float | None:
    """Seconds to wait from a `Retry-After` header: delta-seconds or an HTTP date; None if absent."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def connect_failure(exc: BaseException) -> str | None:
    """How no connection could be made at all ("name lookup failed", "connection refused", "connect
    timed out"), or None when the failure came later (a reset, a read timeout)."""
    seen: set[int] = set()
    todo: list[Any] = [exc]
    while todo:
        err = todo.pop()
        if err is None or id(err) in seen:
            continue
        seen.add(id(err))
        if isinstance(err, NameResolutionError | socket.gaierror):
            return "name lookup failed"
        if isinstance(err, ConnectTimeoutError | requests.ConnectTimeout) and not isinstance(
                err, NewConnectionError):
            return "connect timed out"
        if isinstance(err, NewConnectionError | ConnectionRefusedError):
            return "connection refused"
        todo.extend([getattr(err, "reason", None), err.__cause__, err.__context__])
        todo.extend(a for a in getattr(err, "args", ()) if isinstance(a, BaseException))
    return None


def describe_exception(exc: BaseException) -> str:
    if isinstance(exc, requests.Timeout):
        return "timed out"
    text = str(exc)
    if "reset" in text.lower():
        return "connection reset"
    return f"connection failed ({type(exc).__name__})"


class Transport:
    """Sends requests for one source through a `requests.Session`, spaced and retried.

    `check(response)` judges a 200 answer: it returns None when the answer is usable, else a short
    description of what is wrong ("empty page", "truncated XML"), and the request is retried.
    """

    def __init__(self, session: requests.Session, *, name: str, policy: RetryPolicy,
                 min_interval: float, timeout: float, stats: SourceStats | None = None):
        self.session = session
        self.name = name
        self.policy = policy
        self.min_interval = min_interval
        self.timeout = timeout
        self.stats = stats if stats is not None else SourceStats()
        self._next_at = 0.0  # time.monotonic() before which no request may start
        self._reached = False  # has any request of this transport reached the server?

    def send(self, method: str, url: str, *, check: Callable[[requests.Response], str | None],
             **kwargs: Any) -> requests.Response:
        """The first usable response to `method url`; `RequestFailed` when every try failed."""
        last: requests.Response | None = None
        for attempt in range(self.policy.retries + 1):
            self._wait_turn()
            problem, retry_after, last = self._try_once(method, url, check, attempt, last, **kwargs)
            if problem is None and last is not None:
                return last
            if attempt == self.policy.retries:
                break
            self._schedule_retry(url, problem or "failed", attempt, retry_after, last)
        raise RequestFailed(url, f"{self.name}: {problem} after {self.policy.retries + 1} tries", last)

    def _try_once(self, method: str, url: str, check: Callable[[requests.Response], str | None],
                  attempt: int, last: requests.Response | None, **kwargs: Any
                  ) -> tuple[str | None, float | None, requests.Response | None]:
        """One try: (problem or None, Retry-After seconds, the response if one came back)."""
        logger.debug("%s %s %s (try %d)", self.name, method, url, attempt + 1)
        self.stats.requests += 1
        self.stats.retries += 1 if attempt else 0
        try:
            resp = self.session.request(method, url, timeout=(min(10.0, self.timeout), self.timeout),
                                        **kwargs)
        except INVALID_URL as exc:  # no retry can mend the URL
            raise BadInputError(f"{self.name}: not a usable URL ({type(exc).__name__})", url) from exc
        except requests.RequestException as exc:
            self._after_request()
            how = connect_failure(exc)
            if not self._reached and attempt == 0 and how:
                host = urlsplit(url).netloc
                raise OfflineError(f"cannot reach {self.name} at {host} ({how}); is the network down? "
                                   "Only `kg fetch` needs it") from exc
            return describe_exception(exc), None, last
        self._after_request()
        self._reached = True
        self.stats.bytes += len(resp.content)
        if resp.status_code == 200:
            return check(resp), None, resp
        if resp.status_code in RETRY_STATUSES:
            return f"HTTP {resp.status_code}", parse_retry_after(resp.headers.get("Retry-After")), resp
        raise RequestFailed(url, f"{self.name}: HTTP {resp.status_code} (not retried)", resp)

    def _after_request(self) -> None:
        self._next_at = time.monotonic() + self.min_interval

    def _wait_turn(self) -> None:
        remaining = self._next_at - time.monotonic()
        if remaining > 0:
            logger.debug("%s: waiting %.2f s", self.name, remaining)
            sleep(remaining)

    def _schedule_retry(self, url: str, problem: str, attempt: int, retry_after: float | None,
                        last: requests.Response | None) -> None:
        if retry_after is not None and retry_after > self.policy.max_retry_after:
            raise RequestFailed(url, f"{self.name}: {problem}, asked to wait {retry_after:.0f} s "
                                f"(more than {self.policy.max_retry_after:.0f} s); try again later", last)
        wait = self.policy.backoff(attempt)
        if retry_after is not None:
            wait = max(wait, retry_after)
        logger.warning("%s: %s; retrying in %.1f s (retry %d of %d)", self.name, problem, wait,
                       attempt + 1, self.policy.retries)
        self._next_at = max(self._next_at, time.monotonic() + wait)
