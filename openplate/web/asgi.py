"""The ASGI entry point for worker processes (`openplate serve --workers N`).

Each worker builds its own app from the environment, which the `serve` command filled in from
its flags before starting the workers.
"""

from __future__ import annotations

import os

from fastapi import FastAPI

from openplate.logs import configure
from openplate.settings import Settings
from openplate.web.app import create_app


def app_from_env() -> FastAPI:
    configure(os.environ.get("OPENPLATE_LOG_LEVEL", "info"))
    return create_app(Settings())
