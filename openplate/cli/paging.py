"""What ``user list`` and ``app list`` share: ``--search``, ``--limit`` and ``--offset``, and the
line that says which part of the list was shown."""

from __future__ import annotations

import argparse
from dataclasses import dataclass

from openplate.cli.common import bounded_int

MAX_LIMIT = 1000
DEFAULT_LIMIT = 50


@dataclass(frozen=True, slots=True)
class Page:
    search: str | None
    limit: int
    offset: int


def add_paging_flags(parser: argparse.ArgumentParser, *, matches: str) -> None:
    parser.add_argument("--search", metavar="TEXT",
                        help=f"only those whose {matches} contains TEXT (any case)")
    parser.add_argument("--limit", type=bounded_int(1, MAX_LIMIT), default=DEFAULT_LIMIT,
                        metavar="N", help=f"at most N (1-{MAX_LIMIT}, default {DEFAULT_LIMIT})")
    parser.add_argument("--offset", type=bounded_int(0, 10**9), default=0, metavar="N",
                        help="skip the first N (default 0)")


def page_of(args: argparse.Namespace) -> Page:
    search = (args.search or "").strip() or None
    return Page(search[:254] if search else None, args.limit, args.offset)


def summary(page: Page, shown: int, total: int, noun: str) -> str:
    """``showing 1-50 of 120 users (--offset 50 for more)``."""
    if shown == 0:
        where = f" matching '{page.search}'" if page.search else ""
        return f"no {noun}{where}" + (f" at offset {page.offset}" if page.offset else "")
    last = page.offset + shown
    line = f"showing {page.offset + 1}-{last} of {total} {noun}"
    return line + (f" (--offset {last} for more)" if last < total else "")
