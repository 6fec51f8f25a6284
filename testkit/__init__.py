"""Support shared by tests/ and benchmarks/ (never imported by kg/, kgapp/ or app.py, never installed).

    servers   loopback HTTP servers that speak arXiv's Atom and Semantic Scholar's JSON, over the
              synthetic records in fixtures/ (the real clients are pointed at them)
    appdata   a data directory for the app: the default corpus plus one hostile record, built
    live      the app served by `streamlit run` on a free loopback port, and Debian's Chromium
    encoders  `FakeEncoder`, a deterministic stand-in for the embedding model (feature hashing of words)

Helpers only the tests use stay in tests/; benchmarks never import from tests/.
"""
