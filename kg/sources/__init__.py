"""Online sources: arXiv metadata and Semantic Scholar citations.

`kg fetch` is the only step of the pipeline that uses the network, and it does so only through this
package. Every request goes through `kg.sources.http.Transport` (rate limit, backoff with jitter,
`Retry-After`, offline detection) and every raw response is kept in `kg.sources.cache.ResponseCache`
(atomic writes under the store's cache directory), so a re-run makes no requests and a killed run
resumes where it stopped.

    arxiv.py             `ArxivClient` (our client; `arxiv.Result` is the public type it builds),
                         id batches (partial pages asked again), title queries,
                         `record_from_result` (the one mapping of `arxiv.Result` to our fields)
    titles.py            title queries (`ti:"…" OR ti:"…"`) and fuzzy matching of their answers
    semantic_scholar.py  `S2Client`: POST /graph/v1/paper/batch, counts and `cites` edges
    http.py              the transport shared by both clients
    cache.py             raw responses on disk, keyed by request
"""
