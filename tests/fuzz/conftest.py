"""Keep Hypothesis' failure reports readable while Schemathesis is installed.

Schemathesis (4.x) patches Hypothesis process-wide the first time its generation code is imported
(its pytest plugin does so at start-up): ``hypothesis.core.RepresentationPrinter`` becomes a class
whose ``pretty()`` prints nothing, so every failing property test in the suite reports
``Failing test case: test_x(x=, )`` with the values left out. Its own setup runs once per process
(guarded by a flag), so run it now and put Hypothesis' printer back: the failing examples of every
property test (ours and tests/library's) are printed again, and Schemathesis' output for our
three operations is unaffected (it only loses a speed-up for very large schemas).
"""

from __future__ import annotations

import pytest
from hypothesis import core as _hypothesis_core
from hypothesis.vendor import pretty as _pretty
from schemathesis.generation.hypothesis import setup as _schemathesis_setup

from tests.fuzz.helpers import Live
from tests.support.server import LiveServer

_schemathesis_setup()
_hypothesis_core.RepresentationPrinter = _pretty.RepresentationPrinter  # type: ignore[misc]


@pytest.fixture(scope="session")
def live(server: LiveServer) -> Live:
    return Live(server)
