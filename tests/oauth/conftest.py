"""The protocol core's tests: no server, no database file; the in-memory store where storage is
needed. Every test here is in the fast tier (``-m core``); ``async def`` tests run on their own
event loop."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.async_tests import pytest_pyfunc_call  # noqa: F401 - runs the async tests

HERE = Path(__file__).parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.path.is_relative_to(HERE):
            item.add_marker(pytest.mark.core)
