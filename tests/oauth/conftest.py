"""The protocol core's tests: no server, no database file; the in-memory store where storage is
needed. They are in the fast tier (``-m core``, see tests/conftest.py); ``async def`` tests run
on an event loop of their own."""

from __future__ import annotations

from tests.support.async_tests import pytest_pyfunc_call  # noqa: F401 - runs the async tests
