"""``openplate serve`` and ``openplate migrate``."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING, Any

from openplate.cli.common import (
    CommandError,
    add_database_flag,
    add_json_flag,
    bounded_int,
    check_folder,
    one_line,
    print_json,
    settings_from,
)

if TYPE_CHECKING:
    from openplate.settings import Settings
    from openplate.store.unit import Database

LOG_LEVELS = ["critical", "error", "warning", "info", "debug"]


def uvicorn_options(settings: Settings, log_level: str) -> dict[str, object]:
    """What ``serve`` hands uvicorn, besides the app: the settings that reach the HTTP server."""
    from openplate.web.server import OneWriteHttpProtocol

    return {
        "host": settings.host, "port": settings.port, "log_level": log_level,
        "log_config": None, "access_log": False, "server_header": False, "ws": "none",
        "timeout_graceful_shutdown": 10, "timeout_keep_alive": settings.keepalive_timeout,
        "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips, "http": OneWriteHttpProtocol,
    }


def cmd_serve(args: argparse.Namespace) -> None:
    import gc
    import os

    # Start-up makes some 180,000 objects the collector tracks, nearly all of them living as
    # long as the process (modules, classes, routes, tables); collecting while they are made
    # only walks them again and again. The collector stays off until the app has frozen them
    # (the lifespan in web/app.py turns it back on).
    gc.disable()

    settings = settings_from(args)  # every flag checked before anything is made
    _check_listen(settings.host, settings.port)

    import uvicorn

    from openplate.logs import configure
    settings = settings.with_secret_key()
    _prepare(settings)
    configure(args.log_level)
    options = uvicorn_options(settings, args.log_level)
    if args.workers <= 1:
        from openplate.web.app import create_app

        uvicorn.run(create_app(settings), **options)  # type: ignore[arg-type]
        return
    gc.enable()  # this process only supervises; each worker's own lifespan freezes its start-up
    # Several processes: each builds its app from the environment, which carries our settings.
    for name in ("database_url", "public_url", "host", "port", "secret_key"):
        value = getattr(settings, name)
        if value is not None:
            os.environ[f"OPENPLATE_{name.upper()}"] = str(value)
    os.environ["OPENPLATE_LOG_LEVEL"] = args.log_level
    if "PROMETHEUS_MULTIPROC_DIR" not in os.environ:
        import tempfile

        os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="openplate-metrics-")
    uvicorn.run("openplate.web.asgi:app_from_env", factory=True, workers=args.workers,
                **options)  # type: ignore[arg-type]


def _check_listen(host: str, port: int) -> None:
    """Bind the address as uvicorn will, and let it go: a name that does not resolve, a port in
    use or one this user may not open fails here in one line, before a file is made."""
    import socket

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    try:
        with socket.socket(family, socket.SOCK_STREAM) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((host, port))
    except OSError as error:
        raise CommandError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def _prepare(settings: Settings) -> None:
    """What ``serve`` checks before it listens, on one engine: the schema is current (created at
    once on a new database, else migrated if it must be), and the signing keys can be unsealed
    with the configured secret key. Each failure is one line."""
    from openplate import signing
    from openplate.cli.common import run
    from openplate.store.migrate import current_without_alembic, upgrade

    assert settings.secret_key is not None
    instance_key = settings.secret_key.encode("utf-8")

    async def keys_readable(db: Database) -> None:
        async with db.transaction(readonly=True) as store:
            if await store.signing_keys.all():
                await signing.load_ring(store.signing_keys, instance_key=instance_key, now=0,
                                        retention=settings.key_retention)

    async def work(db: Database) -> bool:
        current = await current_without_alembic(db.engine)
        if current:
            await keys_readable(db)
        return current

    check_folder(settings)
    try:
        if not run(settings, work):
            upgrade(settings)  # Alembic, then the keys on a fresh engine
            run(settings, keys_readable)
    except signing.KeysUnreadable as error:
        raise CommandError(str(error)) from None
    except Exception as error:  # noqa: BLE001 - reported in one line
        raise CommandError(f"migration failed: {type(error).__name__}: {one_line(error)}") from None


def cmd_migrate(args: argparse.Namespace) -> None:
    from openplate.store.migrate import head_revision, upgrade

    settings = settings_from(args)
    check_folder(settings)
    try:
        upgrade(settings)
    except Exception as error:  # noqa: BLE001 - reported in one line
        raise CommandError(f"migration failed: {type(error).__name__}: {one_line(error)}") from None
    revision = head_revision()
    if args.json:
        print_json({"revision": revision})
    else:
        print(f"database schema is up to date (revision {revision})")


def register(commands: Any) -> None:
    serve = commands.add_parser("serve", help="start the server (migrating the database first)")
    add_database_flag(serve)
    serve.add_argument("--host", help="address to listen on (env OPENPLATE_HOST; default 127.0.0.1)")
    serve.add_argument("--port", help="port to listen on, 1-65535 (env OPENPLATE_PORT; default 8000)")
    serve.add_argument("--public-url", dest="public_url", metavar="URL",
                       help="externally visible absolute http(s) base URL (env OPENPLATE_PUBLIC_URL)")
    serve.add_argument("--workers", type=bounded_int(1, 256), default=1,
                       help="worker processes, 1-256 (default 1; about one per core)")
    serve.add_argument("--log-level", default="info", choices=LOG_LEVELS)
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    add_database_flag(migrate)
    add_json_flag(migrate, help_text='print {"revision": …} as JSON')
    migrate.set_defaults(func=cmd_migrate)

