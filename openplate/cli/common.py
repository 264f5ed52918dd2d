"""What every ``openplate`` command shares: one-line failures, flags validated as their
environment variables are, the two ways of opening the database, and JSON or text output.

Heavy modules (SQLAlchemy, the store) are imported inside the functions that need them, so
``--help`` and a refused flag answer at once.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, NoReturn, TypeVar

if TYPE_CHECKING:
    from pathlib import Path

    from openplate.settings import Settings
    from openplate.store.unit import Database

T = TypeVar("T")

#: Settings a flag can set (the flag's ``dest`` is the setting's name), and the flag's name.
SETTING_FLAGS = {
    "database_url": "--database-url",
    "host": "--host",
    "port": "--port",
    "public_url": "--public-url",
    "purge_batch": "--batch",
    "security_log_routine_retention": "--security-log-routine-retention",
    "security_log_retention": "--security-log-retention",
    "refresh_reuse_window": "--refresh-reuse-window",
    "mail_retention": "--mail-retention",
}


class CommandError(Exception):
    """A failure to report in one line."""


class OneLineParser(argparse.ArgumentParser):
    """argparse, but a usage error is one line on stderr (argparse prints the whole usage first)
    and exit status 2. Sub-command parsers are made of this class too."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {one_line(message)} (see {self.prog} --help)\n")


def one_line(text: object, limit: int = 500) -> str:
    """``text`` on one line: the first line of a multi-line message (SQLAlchemy appends the SQL
    and its parameters on the following lines), whitespace collapsed, at most ``limit`` long."""
    lines = str(text).strip().splitlines()
    first = " ".join(lines[0].split()) if lines else ""
    return first if len(first) <= limit else first[: limit - 1] + "…"


def bounded_int(low: int, high: int) -> Callable[[str], int]:
    """An argparse ``type`` for a flag with no environment variable: a whole number in range."""

    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"must be a whole number from {low} to {high}, not {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"must be from {low} to {high}, not {value}")
        return value

    return parse


def add_database_flag(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", dest="database_url", metavar="URL",
                        help="database URL (env OPENPLATE_DATABASE_URL; default sqlite:///openplate.db)")


def add_json_flag(parser: argparse.ArgumentParser, *, help_text: str = "print JSON") -> None:
    parser.add_argument("--json", action="store_true", help=help_text)


# --- settings -----------------------------------------------------------------------------------

def settings_from(args: argparse.Namespace) -> Settings:
    """The settings, with the flags given in ``args`` over the environment. A flag goes through
    the very validation its environment variable does (it is handed over as the same text);
    a refusal names the flag, or the variable when the environment is wrong."""
    from pydantic import ValidationError
    from pydantic_settings import SettingsError

    from openplate.settings import Settings

    flags: dict[str, Any] = {
        name: str(getattr(args, name)) for name in SETTING_FLAGS if getattr(args, name, None) is not None
    }
    try:
        return Settings(**flags)
    except ValidationError as error:
        first = error.errors()[0]
        field = str(first["loc"][0]) if first["loc"] else ""
        where = SETTING_FLAGS[field] if field in flags else f"OPENPLATE_{field.upper()}"
        raise CommandError(f"{where}: {_explain(field, first)}") from None
    except SettingsError as error:
        raise CommandError(one_line(error)) from None


def _explain(field: str, error: Mapping[str, object]) -> str:
    """A validation error in plain words; a number's range from the setting's own bounds."""
    import annotated_types

    from openplate.settings import Settings

    info = Settings.model_fields.get(field)
    if info is not None and info.annotation is int and error["type"] in (
            "int_parsing", "int_from_float", "greater_than_equal", "less_than_equal"):
        low = next((m.ge for m in info.metadata if isinstance(m, annotated_types.Ge)), None)
        high = next((m.le for m in info.metadata if isinstance(m, annotated_types.Le)), None)
        rule = (f" from {low} to {high}" if low is not None and high is not None
                else f" of at least {low}" if low is not None
                else f" of at most {high}" if high is not None else "")
        return f"must be a whole number{rule}, not {error['input']}"
    message = str(error["msg"]).removeprefix("Value error, ")
    return message[:1].lower() + message[1:]


def check_folder(settings: Settings) -> None:
    path = settings.sqlite_path
    if path is not None and path.parent and not path.parent.exists():
        raise CommandError(f"the database folder {path.parent} does not exist")


# --- the database -------------------------------------------------------------------------------

def for_writing(settings: Settings) -> Settings:
    """For commands that write: the key file and the database are created if they are not there
    yet, and the schema is brought up to date. Returns the settings with the secret key set."""
    from openplate.store.migrate import ensure_current

    check_folder(settings)
    settings = settings.with_secret_key()
    try:
        ensure_current(settings)
    except Exception as error:  # noqa: BLE001 - reported in one line
        raise CommandError(f"migration failed: {type(error).__name__}: {one_line(error)}") from None
    return settings


def existing(settings: Settings) -> Settings:
    """For commands that only read (or only delete what has expired): the database and the
    secret key must be there already, and nothing is created. Returns the settings with the
    secret key set; ``run`` then checks that the schema is current."""
    from openplate.settings import read_key

    path = settings.sqlite_path
    if path is not None and not path.is_file():
        raise CommandError(f"no database at {path} (openplate serve or openplate migrate creates it)")
    if path is not None and not _openplate_sqlite(path):
        raise CommandError(f"{path} is not an Openplate database")
    if settings.secret_key:
        return settings
    try:
        key = read_key(settings.key_file)
    except (OSError, UnicodeDecodeError) as error:
        raise CommandError(f"cannot read {settings.key_file}: {one_line(error)}") from None
    if key is None:
        raise CommandError(f"no secret key: {settings.key_file} is missing and "
                           "OPENPLATE_SECRET_KEY is unset")
    return settings.model_copy(update={"secret_key": key})


def _openplate_sqlite(path: Path) -> bool:
    """Whether ``path`` is an SQLite database in WAL mode, as every Openplate database is. Read
    from its header: opening anything else would write to it (the engine sets WAL mode)."""
    try:
        with path.open("rb") as handle:
            header = handle.read(100)
    except OSError as error:
        raise CommandError(f"cannot read {path}: {one_line(error)}") from None
    return len(header) == 100 and header.startswith(b"SQLite format 3\0") and header[18:20] == b"\2\2"


async def _require_current(db: Database) -> None:
    from sqlalchemy import text

    from openplate.store.migrate import current_revision, head_revision

    try:
        async with db.transaction(readonly=True) as store:
            await store.conn.execute(text("SELECT 1"))
    except Exception as error:  # noqa: BLE001 - reported in one line
        raise CommandError(f"cannot open the database: {one_line(error)}") from None
    revision, head = await current_revision(db.engine), head_revision()
    if revision is None:
        raise CommandError("the database has no Openplate schema (openplate migrate creates it)")
    if revision != head:
        raise CommandError(f"the database schema is at revision {revision}, this release needs "
                           f"{head}: run openplate migrate")


def run(settings: Settings, work: Callable[[Database], Awaitable[T]], *,
        readonly_checks: bool = False) -> T:
    """``work`` on a database opened with ``settings`` (whose secret key is set); with
    ``readonly_checks``, only once the schema has been found current (see ``existing``)."""
    from openplate.oauth.tokens import Digester
    from openplate.store.engine import create_engine
    from openplate.store.unit import Database

    assert settings.secret_key is not None
    digester = Digester(settings.secret_key.encode("utf-8"))

    async def main() -> T:
        db = Database(create_engine(settings), digester)
        try:
            if readonly_checks:
                await _require_current(db)
            return await work(db)
        finally:
            await db.dispose()

    return asyncio.run(main())


# --- output -------------------------------------------------------------------------------------

def print_json(value: object) -> None:
    print(json.dumps(value))


def text_value(value: object) -> str:
    """One value as a person reads it: no Python repr (None, True, ['a'])."""
    if value is None:
        return "none"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list | tuple):
        return ", ".join(text_value(item) for item in value) if value else "none"
    return str(value)


def print_fields(fields: Mapping[str, object]) -> None:
    """``name: value`` lines, the values aligned."""
    width = max((len(name) for name in fields), default=0)
    for name, value in fields.items():
        print(f"{name + ':':<{width + 1}} {text_value(value)}")


def print_table(headers: list[str], rows: Iterable[list[object]]) -> None:
    cells = [headers, *([text_value(cell) for cell in row] for row in rows)]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    for row in cells:
        print("  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)).rstrip())


def timestamp(seconds: object) -> str:
    """A Unix time as UTC date and time; ``none`` when there is none."""
    if not isinstance(seconds, int):
        return text_value(seconds)
    return time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime(seconds))
