"""The ``openplate`` command: serve, migrate, user, app, keys, mail, category, demo, purge, security-log.

Every failure is one line on stderr and a non-zero exit (2 for a usage error), never a
traceback; every flag is validated as its environment variable is, before anything is made.
Commands print JSON with ``--json`` and plain text without it, except ``user create`` and
``security-log``, which print JSON either way (the README promised it; scripts read it).

One module per command group: server.py (serve, migrate), users.py (user create) and
user_admin.py (user list, show, set-password, disable, enable, delete), apps.py (app create) and
app_admin.py (app list, show, disable, enable, delete), keys.py (keys rotate, keys list),
mail.py (mail list, mail retry), categories.py (category add, list, remove), demo.py (demo),
maintenance.py (purge, security-log); common.py and paging.py hold what they share.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

from openplate import __version__
from openplate.cli import apps, categories, demo, keys, mail, maintenance, server, users
from openplate.cli.common import CommandError, OneLineParser, one_line

__all__ = ["CommandError", "build_parser", "main"]


def build_parser() -> OneLineParser:
    parser = OneLineParser(prog="openplate", description=__doc__.splitlines()[0].replace("``", ""))
    parser.add_argument("--version", action="version", version=f"openplate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for group in (server, users, apps, keys, mail, categories, demo, maintenance):
        group.register(commands)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        args.func(args)
    except CommandError as error:
        print(f"openplate: error: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130
    except Exception as error:  # noqa: BLE001 - a bug, still reported in one line
        print(f"openplate: error: unexpected {type(error).__name__}: {one_line(error)}",
              file=sys.stderr)
        return 1
    return 0
