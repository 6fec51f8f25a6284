"""The app tests' fake encoder does not depend on import order.

This module imports `kgapp.state` (and with it `from kg.search.encoders import load_encoder`) at the top,
before any fixture runs: a patch of `kg.search.encoders.load_encoder` alone would then miss the app's
copy, the app would load the real model, and the search tests' expected hits would change.
"""

from __future__ import annotations

import kgapp.state
from kg.search.encoders import DEFAULT_MODEL
from testkit.encoders import FakeEncoder
from tests.app.test_app import SAMPLING, assert_clean, hit_ids


def test_the_app_searches_with_the_fake_whatever_was_imported_first(run_app):
    at = run_app()
    at.text_input(key="q").set_value(SAMPLING).run()
    assert_clean(at)
    assert len(hit_ids(at)) == 10
    assert isinstance(kgapp.state.get_encoder(DEFAULT_MODEL), FakeEncoder)
