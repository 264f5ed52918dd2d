"""Bringing a database's schema up to date with Alembic (``openplate migrate``)."""

from __future__ import annotations

from pathlib import Path

from alembic import command
from alembic.config import Config

from openplate.settings import Settings

MIGRATIONS = Path(__file__).with_name("migrations")


def alembic_config(settings: Settings) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["settings"] = settings
    return config


def upgrade(settings: Settings, revision: str = "head") -> None:
    """Apply every migration up to ``revision``. Safe to run again: it is a no-op when current."""
    command.upgrade(alembic_config(settings), revision)
