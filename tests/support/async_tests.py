"""``async def`` tests, each run in an event loop of its own (``asyncio.run``), without a plugin.

A folder's conftest imports ``pytest_pyfunc_call`` from here to run its coroutine tests. A test
argument with an ``aclose`` coroutine method (a backend whose connections belong to the test's
loop) is closed in that loop once the test has finished.
"""

from __future__ import annotations

import asyncio
import inspect
from typing import Any

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    test = pyfuncitem.obj
    if not inspect.iscoroutinefunction(test):
        return None
    names = pyfuncitem._fixtureinfo.argnames
    arguments = {name: pyfuncitem.funcargs[name] for name in names}

    async def main() -> None:
        try:
            await test(**arguments)
        finally:
            for value in arguments.values():
                close: Any = getattr(value, "aclose", None)
                if close is not None and inspect.iscoroutinefunction(close):
                    await close()

    asyncio.run(main())
    return True
