"""Paper KG: a local-first knowledge graph and semantic search over research reading lists."""

__version__ = "0.1.0"
