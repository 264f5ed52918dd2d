"""Bringing a database's schema up to date with Alembic (``openplate migrate``, and ``serve``)."""

from __future__ import annotations

import asyncio
import re
from pathlib import Path
from typing import TYPE_CHECKING

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError

from openplate.settings import Settings
from openplate.store.engine import create_engine, dispose, unit_of_work

if TYPE_CHECKING:
    from alembic.config import Config

MIGRATIONS = Path(__file__).with_name("migrations")
_REVISION_FILE = re.compile(r"(\d{4})_\w+\.py")


def head_revision() -> str:
    """The newest revision id; our revision files are named ``NNNN_what.py`` with id ``NNNN``."""
    ids = [m.group(1) for p in (MIGRATIONS / "versions").iterdir()
           if (m := _REVISION_FILE.fullmatch(p.name))]
    return max(ids)


def alembic_config(settings: Settings) -> Config:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["settings"] = settings
    return config


async def _current_revision(settings: Settings) -> str | None:
    engine = create_engine(settings)
    try:
        async with unit_of_work(engine, readonly=True, lock=asyncio.Lock()) as conn:
            row = (await conn.execute(text("SELECT version_num FROM alembic_version"))).first()
            return str(row[0]) if row else None
    except DBAPIError:
        return None  # no alembic_version table yet
    finally:
        await dispose(engine)


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply every migration up to ``revision``. Safe to run again: it is a no-op when current."""
    from alembic import command

    command.upgrade(alembic_config(settings), revision)


def ensure_current(settings: Settings) -> None:
    """Migrate only if needed: a current database costs one query, not an Alembic start-up."""
    if asyncio.run(_current_revision(settings)) != head_revision():
        upgrade(settings)
