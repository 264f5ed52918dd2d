"""Keep Hypothesis as it is for the whole suite while Schemathesis is installed.

Schemathesis (4.x) patches Hypothesis process-wide the first time its generation code is imported
(its pytest plugin does so at start-up, in every pytest run of this venv):

- ``hypothesis.core.RepresentationPrinter`` becomes a class whose ``pretty()`` prints nothing, so
  every failing property test in the suite reports ``Failing test case: test_x(x=, )`` with the
  values left out;
- Hypothesis' ``BUFFER_SIZE`` goes from 8 KiB to 32 KiB (bigger generated data everywhere).

Its setup runs once per process (guarded by a flag), so run it now and undo it: the failing
examples of every property test (ours and tests/library's) are printed again. The buffer size can
only be put back when the plugin has not already changed it at start-up (run with
``-p no:schemathesis``, which our tests do not need); Schemathesis then generates somewhat smaller
payloads for our operations, which is plenty.
"""

from __future__ import annotations

import pytest
from hypothesis import core as _hypothesis_core
from hypothesis.internal.conjecture import engine as _engine
from hypothesis.strategies._internal import collections as _collections
from hypothesis.vendor import pretty as _pretty
from schemathesis.generation.hypothesis import setup as _schemathesis_setup

from tests.fuzz.helpers import Live
from tests.support.server import LiveServer

_buffer_sizes = (_hypothesis_core.BUFFER_SIZE, _engine.BUFFER_SIZE, _collections.BUFFER_SIZE)
_schemathesis_setup()
_hypothesis_core.RepresentationPrinter = _pretty.RepresentationPrinter  # type: ignore[misc]
_hypothesis_core.BUFFER_SIZE, _engine.BUFFER_SIZE, _collections.BUFFER_SIZE = _buffer_sizes


@pytest.fixture(scope="session")
def live(server: LiveServer) -> Live:
    return Live(server)
