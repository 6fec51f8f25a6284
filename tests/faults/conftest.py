"""Fixtures shared by the fault matrices."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .helpers import patch_encoders


@pytest.fixture(scope="module")
def mp() -> Iterator[pytest.MonkeyPatch]:
    """The fake encoders in place of the real model, for every `kg` run of a module (in-process)."""
    with pytest.MonkeyPatch.context() as patch:
        patch_encoders(patch)
        yield patch
