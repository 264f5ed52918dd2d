"""``python -m openplate.cli``: the ``openplate`` command."""

from __future__ import annotations

import sys

from openplate.cli import main

sys.exit(main())
