"""Loopback stand-ins for the arXiv API and Semantic Scholar's batch endpoint.

Each server runs `http.server` on 127.0.0.1 (a free port) in a thread, answers in the real wire
format from a small table, counts and records every request, and can misbehave on demand: queue
fault names in `server.faults` and the next requests get them, one each:

    "503"        503 with Retry-After: 7        "429"       429 without Retry-After
    "500"        500                            "empty"     200 with a valid feed and no entries
    "truncated"  200 with the body cut in half  "reset"     the connection reset (RST), no answer
    "slow"       the answer only after `slow_seconds` (longer than the client's timeout)

`FakeArxiv.partial_pages = n`: the next n answers hold only 60% of their entries while
`opensearch:totalResults` still counts all of them (a one-off partial page).
`hold_from = n` makes request n and every later one wait until `release` is set (to kill a client
while it waits). The servers never call `time.sleep` (tests patch it): waiting uses `Event.wait`.
"""

from __future__ import annotations

import json
import re
import socket
import struct
import threading
import zlib
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit
from xml.etree import ElementTree as ET

FIXTURES = Path(__file__).parent / "fixtures"
ATOM = "http://www.w3.org/2005/Atom"
OPENSEARCH = "http://a9.com/-/spec/opensearch/1.1/"
ARXIV = "http://arxiv.org/schemas/atom"
for _prefix, _uri in (("", ATOM), ("opensearch", OPENSEARCH), ("arxiv", ARXIV)):
    ET.register_namespace(_prefix, _uri)


@dataclass
class Received:
    """One request as the server saw it."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    body: bytes


class _Handler(BaseHTTPRequestHandler):
    server_version = "FakeSource/1.0"

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence the default log
        pass

    def do_GET(self) -> None:  # noqa: N802
        self.server.owner.dispatch(self, "GET")  # type: ignore[attr-defined]

    def do_POST(self) -> None:  # noqa: N802
        self.server.owner.dispatch(self, "POST")  # type: ignore[attr-defined]

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass


class FakeServer:
    """The shared machinery: a threaded loopback server, a request log, faults and holds."""

    def __init__(self) -> None:
        self.received: list[Received] = []
        self.faults: deque[str] = deque()
        self.slow_seconds = 3.0
        self.retry_after = "7"
        self.hold_from: int | None = None
        self.release = threading.Event()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self._httpd.owner = self  # type: ignore[attr-defined]
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)

    def __enter__(self) -> FakeServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self.release.set()
        self._httpd.shutdown()
        self._httpd.server_close()

    @property
    def base_url(self) -> str:
        host, port = self._httpd.server_address[:2]
        return f"http://{host}:{port}"

    @property
    def count(self) -> int:
        return len(self.received)

    def dispatch(self, handler: _Handler, method: str) -> None:
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length) if length else b""
        parts = urlsplit(handler.path)
        with self._lock:
            seen = Received(method, parts.path, parse_qs(parts.query), dict(handler.headers), body)
            self.received.append(seen)
            number = len(self.received)
            fault = self.faults.popleft() if self.faults else None
        if self.hold_from is not None and number >= self.hold_from:
            self.release.wait(60)
        status, headers, payload = self.answer(method, parts.path, parse_qs(parts.query), body)
        self._send(handler, fault, status, headers, payload)

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        raise NotImplementedError

    def empty_answer(self) -> bytes:
        raise NotImplementedError

    def _send(self, handler: _Handler, fault: str | None, status: int, headers: dict[str, str],
              payload: bytes) -> None:
        if fault == "reset":
            handler.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            handler.connection.close()
            handler.close_connection = True
            return
        if fault == "slow":
            self._stop.wait(self.slow_seconds)
        if fault in ("503", "429", "500"):
            status, payload = int(fault), b"fault injected by the test"
            headers = {"Content-Type": "text/plain"}
            if fault == "503":
                headers["Retry-After"] = self.retry_after
        elif fault == "empty":
            status, payload = 200, self.empty_answer()
        elif fault == "truncated":
            payload = payload[: len(payload) // 2]
        try:
            handler.send_response(status)
            for name, value in headers.items():
                handler.send_header(name, value)
            handler.send_header("Content-Length", str(len(payload)))
            handler.end_headers()
            handler.wfile.write(payload)
        except OSError:
            pass  # the client gave up (a "slow" answer after its timeout)


# ---- arXiv -------------------------------------------------------------------------------------
def load_arxiv_table() -> list[dict[str, Any]]:
    return json.loads((FIXTURES / "arxiv_papers.json").read_text(encoding="utf-8"))["papers"]


def synthetic_arxiv_table(n: int, start: int = 1) -> list[dict[str, Any]]:
    """`n` made-up papers with ids 2301.00001… and titles "Synthetic Study Number 7 of …"."""
    words = ["Diffusion", "Sampling", "Guidance", "Distillation", "Editing", "Transformers", "Latents"]
    table = []
    for i in range(start, start + n):
        topic = f"{words[i % len(words)]} and {words[(i * 3 + 1) % len(words)]}"
        table.append({"id": f"2301.{i:05d}", "version": 1 + i % 3,
                      "title": f"Synthetic Study Number {i} of {topic}",
                      "authors": [{"name": f"Author {i} One", "affiliations": ["Fixture Lab"]},
                                  {"name": f"Author {i} Two", "affiliations": []}],
                      "published": "2023-01-02T03:04:05Z", "updated": "2023-02-03T04:05:06Z",
                      "summary": f"Synthetic summary number {i}, written for the tests.",
                      "comment": None, "journal_ref": None, "doi": None,
                      "primary_category": "cs.LG", "categories": ["cs.LG", "cs.CV"]})
    return table


def table_for_papers(papers: list[Any]) -> list[dict[str, Any]]:
    """Made-up arXiv records for `kg.model.Paper`s with an arXiv id: their own titles and authors,
    synthetic everything else (for the default corpus in tests and the benchmark)."""
    return [{"id": p.arxiv_id, "version": 1, "title": p.title or f"Untitled {p.arxiv_id}",
             "authors": [{"name": a, "affiliations": []} for a in p.authors]
             or [{"name": "Unknown Author", "affiliations": []}],
             "published": "2020-01-01T00:00:00Z", "updated": "2020-01-02T00:00:00Z",
             "summary": f"Synthetic summary for {p.arxiv_id}, written for the tests.", "comment": None,
             "journal_ref": None, "doi": None, "primary_category": "cs.CV", "categories": ["cs.CV"]}
            for p in papers if p.arxiv_id]


def _words(text: str) -> str:
    """The fake's own tokenisation: lower case, runs of non-alphanumerics as one space."""
    return " " + re.sub(r"[^0-9a-z]+", " ", text.lower()).strip() + " "


def _sub(parent: ET.Element, ns: str, tag: str, text: str | None = None, **attrs: str) -> ET.Element:
    el = ET.SubElement(parent, f"{{{ns}}}{tag}", attrs)
    el.text = text
    return el


def _wrap(text: str) -> str:
    """Break a title onto two lines as arXiv's feed does for long titles."""
    words = text.split(" ")
    return text if len(words) < 6 else " ".join(words[:4]) + "\n  " + " ".join(words[4:])


def render_entry(feed: ET.Element, p: dict[str, Any]) -> None:
    vid = f"{p['id']}v{p['version']}"
    entry = _sub(feed, ATOM, "entry")
    _sub(entry, ATOM, "id", f"http://arxiv.org/abs/{vid}")
    _sub(entry, ATOM, "updated", p["updated"])
    _sub(entry, ATOM, "published", p["published"])
    _sub(entry, ATOM, "title", _wrap(p["title"]))
    _sub(entry, ATOM, "summary", "  " + p["summary"] + "\n")
    for author in p["authors"]:
        a = _sub(entry, ATOM, "author")
        _sub(a, ATOM, "name", author["name"])
        for affiliation in author["affiliations"]:
            _sub(a, ARXIV, "affiliation", affiliation)
    if p.get("doi"):
        _sub(entry, ARXIV, "doi", p["doi"])
        _sub(entry, ATOM, "link", title="doi", href=f"http://dx.doi.org/{p['doi']}", rel="related")
    for tag in ("comment", "journal_ref"):
        if p.get(tag):
            _sub(entry, ARXIV, tag, p[tag])
    _sub(entry, ATOM, "link", href=f"http://arxiv.org/abs/{vid}", rel="alternate", type="text/html")
    _sub(entry, ATOM, "link", title="pdf", href=f"http://arxiv.org/pdf/{vid}", rel="related",
         type="application/pdf")
    _sub(entry, ARXIV, "primary_category", term=p["primary_category"], scheme=ARXIV)
    for cat in p["categories"]:
        _sub(entry, ATOM, "category", term=cat, scheme=ARXIV)


def render_feed(entries: list[dict[str, Any]], total: int, start: int, per_page: int, query: str) -> bytes:
    feed = ET.Element(f"{{{ATOM}}}feed")
    _sub(feed, ATOM, "link", href=f"http://arxiv.org/api/query?{query}", rel="self",
         type="application/atom+xml")
    _sub(feed, ATOM, "title", f"ArXiv Query: {query}", type="html")
    _sub(feed, ATOM, "id", "http://arxiv.org/api/fixture")
    _sub(feed, ATOM, "updated", "2024-09-01T00:00:00-04:00")
    _sub(feed, OPENSEARCH, "totalResults", str(total))
    _sub(feed, OPENSEARCH, "startIndex", str(start))
    _sub(feed, OPENSEARCH, "itemsPerPage", str(per_page))
    for p in entries:
        render_entry(feed, p)
    ET.indent(feed)
    return b'<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(feed, encoding="utf-8")


class FakeArxiv(FakeServer):
    """GET /api/query with `id_list`, `search_query` (`ti:"…"`, `ti:word`, OR), `start`, `max_results`."""

    def __init__(self, table: list[dict[str, Any]] | None = None):
        super().__init__()
        self.table = {p["id"]: p for p in (table if table is not None else load_arxiv_table())}
        self.partial_pages = 0

    @property
    def endpoint(self) -> str:
        return f"{self.base_url}/api/query"

    @property
    def url_format(self) -> str:
        return self.endpoint + "?{}"

    def queries(self) -> list[dict[str, str]]:
        return [{k: v[0] for k, v in r.query.items()} for r in self.received]

    def empty_answer(self) -> bytes:
        return render_feed([], 0, 0, 0, "")

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != "GET" or path != "/api/query":
            return 404, {"Content-Type": "text/plain"}, b"not found"
        q = {k: v[0] for k, v in query.items()}
        found = self._find(q.get("id_list", ""), q.get("search_query", ""))
        start, n = int(q.get("start", 0)), int(q.get("max_results", 10))
        page = found[start:start + n]
        with self._lock:
            partial, self.partial_pages = self.partial_pages > 0, max(0, self.partial_pages - 1)
        if partial:
            page = page[: len(page) * 6 // 10]
        raw_query = "&".join(f"{k}={v}" for k, v in q.items())
        return 200, {"Content-Type": "application/atom+xml; charset=utf-8"}, render_feed(
            page, len(found), start, len(page), raw_query)

    def _find(self, id_list: str, search_query: str) -> list[dict[str, Any]]:
        if id_list:
            ids = [re.sub(r"v\d+$", "", i.strip()) for i in id_list.split(",") if i.strip()]
            return [self.table[i] for i in ids if i in self.table]
        clauses = [c.strip() for c in search_query.split(" OR ") if c.strip()]
        scored = []
        for p in self.table.values():
            title = _words(p["title"])
            hits = sum(1 for c in clauses if _clause_matches(c, title))
            if hits:
                scored.append((-hits, p["id"], p))
        return [p for _, _, p in sorted(scored, key=lambda t: t[:2])]


def _clause_matches(clause: str, title_words: str) -> bool:
    m = re.fullmatch(r'ti:"(.*)"', clause) or re.fullmatch(r"ti:(\S+)", clause)
    return bool(m) and _words(m.group(1)) in title_words


# ---- Semantic Scholar --------------------------------------------------------------------------
def load_s2_table() -> dict[str, dict[str, Any]]:
    return json.loads((FIXTURES / "s2_papers.json").read_text(encoding="utf-8"))["papers"]


def _external_ids(ref: str) -> dict[str, Any] | None:
    kind, _, value = ref.partition(":")
    corpus_id = zlib.crc32(value.encode()) % 10**8
    if kind == "ARXIV":
        return {"ArXiv": value, "DOI": f"10.48550/arXiv.{value}", "CorpusId": corpus_id}
    if kind == "DOI":
        return {"DOI": value, "CorpusId": corpus_id}
    return None


class FakeSemanticScholar(FakeServer):
    """POST /graph/v1/paper/batch?fields=… with {"ids": [...]}: a list aligned with ids, null if unknown."""

    max_ids = 500

    def __init__(self, table: dict[str, dict[str, Any]] | None = None):
        super().__init__()
        self.table = table if table is not None else load_s2_table()

    def empty_answer(self) -> bytes:
        return b"[]"

    def batch_ids(self) -> list[list[str]]:
        return [json.loads(r.body)["ids"] for r in self.received]

    def answer(self, method: str, path: str, query: dict[str, list[str]],
               body: bytes) -> tuple[int, dict[str, str], bytes]:
        if method != "POST" or path != "/graph/v1/paper/batch":
            return 404, {"Content-Type": "application/json"}, b'{"error": "not found"}'
        ids = json.loads(body or b"{}").get("ids")
        if not isinstance(ids, list) or len(ids) > self.max_ids:
            return 400, {"Content-Type": "application/json"}, b'{"error": "ids: at most 500"}'
        fields = set((query.get("fields") or [""])[0].split(","))
        out = [self._paper(i, fields) for i in ids]
        return 200, {"Content-Type": "application/json"}, json.dumps(out).encode()

    def _paper(self, request_id: str, fields: set[str]) -> dict[str, Any] | None:
        key = request_id.removeprefix("ARXIV:")
        data = self.table.get(key)
        if data is None:
            return None
        out: dict[str, Any] = {"paperId": f"s2-{key}"}
        if "externalIds" in fields:
            out["externalIds"] = _external_ids(request_id if ":" in request_id else f"ARXIV:{key}")
        for name in ("citationCount", "influentialCitationCount"):
            if name in fields:
                out[name] = data[name]
        if "references.externalIds" in fields:
            out["references"] = [{"paperId": f"s2-{r}", "externalIds": _external_ids(r)}
                                 for r in data["references"]]
        return out
