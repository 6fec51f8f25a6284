"""A deterministic stand-in for the embedding model, for tests and benchmarks that need no real one."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence

import numpy as np

from kg.search.encoders import BATCH_SIZE


class FakeEncoder:
    """A deterministic stand-in for tests: each word adds a hashed signed unit to a few dimensions,
    so texts that share words are close. Counts what it encodes in `encoded`."""

    def __init__(self, dimension: int = 32, name: str = "fake"):
        self.name = name
        self._dimension = dimension
        self.encoded: list[str] = []

    @property
    def dimension(self) -> int:
        return self._dimension

    def encode(self, texts: Sequence[str], *, batch_size: int = BATCH_SIZE,
               progress: bool = False) -> np.ndarray:
        self.encoded.extend(texts)
        out = np.zeros((len(texts), self._dimension), dtype=np.float32)
        for row, text in enumerate(texts):
            for word in re.findall(r"\w+", text.lower()) or [""]:
                digest = hashlib.blake2b(word.encode(), digest_size=8).digest()
                for j in range(0, 6, 2):
                    out[row, digest[j] % self._dimension] += 1.0 if digest[j + 1] % 2 else -1.0
            norm = np.linalg.norm(out[row])
            out[row] = out[row] / norm if norm else np.eye(self._dimension, dtype=np.float32)[0]
        return out
