"""The ``openplate`` command: serve, migrate, user create, app create.

Every failure is one clear line on stderr and a non-zero exit, never a traceback.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING

from openplate import __version__

if TYPE_CHECKING:
    from openplate.settings import Settings
    from openplate.store.unit import Database

# Heavy modules are imported inside the commands that need them, so `serve` starts fast and
# `--help` answers at once.


class CommandError(Exception):
    """A failure to report in one line."""


def _settings(args: argparse.Namespace) -> Settings:
    from pydantic import ValidationError

    from openplate.settings import Settings

    overrides = {
        key: getattr(args, key)
        for key in ("host", "port", "database_url", "public_url")
        if getattr(args, key, None) is not None
    }
    try:
        return Settings(**overrides)
    except ValidationError as error:
        first = error.errors()[0]
        raise CommandError(f"invalid setting {'.'.join(map(str, first['loc']))}: {first['msg']}") from None


def _check_folder(settings: Settings) -> None:
    path = settings.sqlite_path
    if path is not None and path.parent and not path.parent.exists():
        raise CommandError(f"the database folder {path.parent} does not exist")


def _migrate(settings: Settings, *, always: bool = False) -> None:
    from openplate.store.migrate import ensure_current, upgrade

    _check_folder(settings)
    try:
        upgrade(settings) if always else ensure_current(settings)
    except Exception as error:  # noqa: BLE001 - reported in one line
        raise CommandError(f"migration failed: {type(error).__name__}: {error}") from None


def cmd_serve(args: argparse.Namespace) -> None:
    import gc
    import os

    # Start-up makes some 180,000 objects the collector tracks, nearly all of them living as
    # long as the process (modules, classes, routes, tables); collecting while they are made
    # only walks them again and again. The collector stays off until the app has frozen them
    # (the lifespan in web/app.py turns it back on).
    gc.disable()

    import uvicorn

    from openplate.logs import configure
    from openplate.web.server import OneWriteHttpProtocol

    settings = _settings(args).with_secret_key()
    _prepare(settings)
    configure(args.log_level)
    options: dict[str, object] = {
        "host": settings.host, "port": settings.port, "log_level": args.log_level,
        "log_config": None, "access_log": False, "server_header": False, "ws": "none",
        "timeout_graceful_shutdown": 10, "proxy_headers": bool(settings.forwarded_allow_ips),
        "forwarded_allow_ips": settings.forwarded_allow_ips, "http": OneWriteHttpProtocol,
    }
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


def _prepare(settings: Settings) -> None:
    """What ``serve`` checks before it listens, on one engine: the schema is current (created at
    once on a new database, else migrated if it must be), and the signing keys can be unsealed
    with the configured secret key. Each failure is one line."""
    from openplate import signing
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

    _check_folder(settings)
    try:
        if not asyncio.run(_with_db(settings, work)):
            upgrade(settings)  # Alembic, then the keys on a fresh engine
            asyncio.run(_with_db(settings, keys_readable))
    except signing.KeysUnreadable as error:
        raise CommandError(str(error)) from None
    except Exception as error:  # noqa: BLE001 - reported in one line
        raise CommandError(f"migration failed: {type(error).__name__}: {error}") from None


def cmd_migrate(args: argparse.Namespace) -> None:
    _migrate(_settings(args), always=True)
    print("database schema is up to date")


async def _with_db(settings: Settings, work):  # type: ignore[no-untyped-def]
    from openplate.oauth.tokens import Digester
    from openplate.store.engine import create_engine
    from openplate.store.unit import Database

    settings = settings.with_secret_key()
    assert settings.secret_key is not None
    db = Database(create_engine(settings), Digester(settings.secret_key.encode("utf-8")))
    try:
        return await work(db)
    finally:
        await db.dispose()


def cmd_user_create(args: argparse.Namespace) -> None:
    from openplate.accounts.service import prepare_account
    from openplate.accounts.validation import InvalidAccountInput
    from openplate.store.account_repos import DuplicateUser

    settings = _settings(args)
    if not args.password_stdin:
        raise CommandError("give the password on standard input with --password-stdin")
    password = sys.stdin.readline().rstrip("\r\n")
    _migrate(settings)

    async def work(db: Database) -> dict[str, object]:
        account = await prepare_account(username=args.username, email=args.email, password=password)
        async with db.transaction() as store:
            user = await store.users.create(
                username=account.username, email=account.email,
                password_hash=account.password_hash, now=int(time.time()),
            )
        return user.public_json()

    try:
        print(json.dumps(asyncio.run(_with_db(settings, work))))
    except InvalidAccountInput as error:
        raise CommandError(f"invalid {error.field}: {error}") from None
    except DuplicateUser as error:
        raise CommandError(f"a user with that {error.field} already exists") from None


def cmd_app_create(args: argparse.Namespace) -> None:
    from openplate.accounts import applications
    from openplate.accounts.applications import InvalidApplication
    from openplate.oauth.tokens import Digester

    settings = _settings(args).with_secret_key()
    assert settings.secret_key is not None
    digester = Digester(settings.secret_key.encode("utf-8"))
    _migrate(settings)

    async def work(db: Database) -> dict[str, object]:
        async with db.transaction() as store:
            owner = await store.users.by_login(args.owner)
            if owner is None:
                raise CommandError(f"no user with username or e-mail '{args.owner}'")
            grant_types = applications.check_grant_types(
                args.grant_type or list(applications.CONFIDENTIAL_GRANTS), public=args.public
            )
            needs_uri = "authorization_code" in grant_types
            uris = applications.check_redirect_uris(args.redirect_uri or [], require_one=needs_uri)
            client, secret = await applications.register(
                store, digester, owner_id=owner.id, name=args.name, redirect_uris=uris,
                public=args.public, now=int(time.time()), grant_types=grant_types,
                id_token_alg=args.id_token_alg or settings.signing_alg,
            )
        return {
            "client_id": client.client_id,
            "client_secret": secret,
            "name": client.name,
            "owner": owner.username,
            "redirect_uris": list(client.redirect_uris),
            "grant_types": list(client.grant_types),
            "public": client.is_public,
            "id_token_alg": client.id_token_alg,
        }

    try:
        result = asyncio.run(_with_db(settings, work))
    except InvalidApplication as error:
        raise CommandError(str(error)) from None
    if args.json:
        print(json.dumps(result))
    else:
        for key, value in result.items():
            print(f"{key}: {value}")


def cmd_security_log(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _migrate(settings)

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.transaction(readonly=True) as store:
            user_id = None
            if args.user:
                user = await store.users.by_login(args.user)
                if user is None:
                    raise CommandError(f"no user with username or e-mail '{args.user}'")
                user_id = user.id
            events = await store.events.recent(user_id=user_id, limit=args.limit)
        return [event.to_json() for event in events]

    for event in asyncio.run(_with_db(settings, work)):
        print(json.dumps(event))


def cmd_keys_rotate(args: argparse.Namespace) -> None:
    from openplate import signing

    settings = _settings(args).with_secret_key()
    assert settings.secret_key is not None
    instance_key = settings.secret_key.encode("utf-8")
    _migrate(settings)

    from openplate.oauth.oidc.jws import ALGORITHMS

    # Every algorithm, the default first (its keys are the top-level fields), or the one named.
    algs = [args.alg] if args.alg else [settings.signing_alg] + [
        a for a in ALGORITHMS if a != settings.signing_alg]

    async def work(db: Database) -> signing.Rotation:
        async with db.transaction() as store:
            rotation = await signing.rotate(
                store.signing_keys, algs=algs, instance_key=instance_key,
                now=int(time.time()), retention=settings.key_retention,
                min_next_age=0 if args.force else args.min_age,
            )
            for result in rotation.rotated:
                await store.events.append(kind="keys.rotated", now=int(time.time()), detail={
                    "alg": result.alg, "current": result.current, "next": result.next})
            return rotation

    try:
        rotation = asyncio.run(_with_db(settings, work))
    except signing.RotationRefused as error:
        raise CommandError(str(error)) from None
    first = rotation.rotated[0]
    print(json.dumps({
        "alg": first.alg, "retired": first.retired, "current": first.current, "next": first.next,
        "removed": list(rotation.removed),
        "rotated": [{"alg": r.alg, "retired": r.retired, "current": r.current, "next": r.next}
                    for r in rotation.rotated],
    }))


def cmd_keys_list(args: argparse.Namespace) -> None:
    settings = _settings(args)
    _migrate(settings)

    async def work(db: Database) -> list[dict[str, object]]:
        async with db.transaction(readonly=True) as store:
            return [
                {"kid": k.kid, "alg": k.alg, "status": k.status, "created_at": k.created_at,
                 "activated_at": k.activated_at, "retired_at": k.retired_at}
                for k in await store.signing_keys.all()
            ]

    for key in asyncio.run(_with_db(settings, work)):
        print(json.dumps(key))


def cmd_purge(args: argparse.Namespace) -> None:
    from openplate.housekeeping import purge

    settings = _settings(args)
    _migrate(settings)

    async def work(db: Database) -> dict[str, int]:
        return await purge(db, batch=args.batch)

    print(json.dumps(asyncio.run(_with_db(settings, work))))


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--database-url", dest="database_url",
                        help="database URL (env OPENPLATE_DATABASE_URL; default sqlite:///openplate.db)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="openplate", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"openplate {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    serve = commands.add_parser("serve", help="start the server (migrating the database first)")
    _common(serve)
    serve.add_argument("--host", help="address to listen on (default 127.0.0.1)")
    serve.add_argument("--port", type=int, help="port to listen on (default 8000)")
    serve.add_argument("--public-url", dest="public_url",
                       help="externally visible base URL (env OPENPLATE_PUBLIC_URL)")
    serve.add_argument("--workers", type=int, default=1,
                       help="worker processes (default 1; about one per core)")
    serve.add_argument("--log-level", default="info",
                       choices=["critical", "error", "warning", "info", "debug"])
    serve.set_defaults(func=cmd_serve)

    migrate = commands.add_parser("migrate", help="bring the database schema up to date")
    _common(migrate)
    migrate.set_defaults(func=cmd_migrate)

    user = commands.add_parser("user", help="manage user accounts").add_subparsers(
        dest="user_command", required=True, metavar="ACTION")
    user_create = user.add_parser("create", help="create an account; prints it as JSON")
    _common(user_create)
    user_create.add_argument("--email", required=True)
    user_create.add_argument("--username", required=True)
    user_create.add_argument("--password-stdin", action="store_true",
                             help="read the password from the first line of standard input")
    user_create.set_defaults(func=cmd_user_create)

    app = commands.add_parser("app", help="manage OAuth applications").add_subparsers(
        dest="app_command", required=True, metavar="ACTION")
    app_create = app.add_parser("create", help="register an application")
    _common(app_create)
    app_create.add_argument("--owner", required=True, help="username or e-mail of the owner")
    app_create.add_argument("--name", required=True)
    app_create.add_argument("--redirect-uri", action="append", dest="redirect_uri",
                            help="a redirect URI (repeat for several)")
    app_create.add_argument("--public", action="store_true",
                            help="a public client: no secret, PKCE required")
    app_create.add_argument(
        "--grant-type", action="append", dest="grant_type",
        choices=["authorization_code", "refresh_token", "client_credentials"],
        help="a grant the app may use (repeat for several; default: authorization_code and "
             "refresh_token)")
    app_create.add_argument(
        "--id-token-alg", dest="id_token_alg", choices=["RS256", "ES256", "EdDSA"],
        help="the signature of the app's ID tokens (default: OPENPLATE_SIGNING_ALG)")
    app_create.add_argument("--json", action="store_true", help="print JSON")
    app_create.set_defaults(func=cmd_app_create)

    keys = commands.add_parser("keys", help="manage token-signing keys").add_subparsers(
        dest="keys_command", required=True, metavar="ACTION")
    rotate = keys.add_parser(
        "rotate", help="retire the current key, sign with the published next one, publish a new next")
    _common(rotate)
    rotate.add_argument("--min-age", type=int, default=3600,
                        help="refuse if the next key was published less than this many seconds "
                             "ago (default 3600), so caching clients already know it")
    rotate.add_argument("--force", action="store_true", help="rotate even if the next key is new")
    rotate.add_argument("--alg", choices=["RS256", "ES256", "EdDSA"],
                        help="rotate only this algorithm's keys (default: every algorithm's)")
    rotate.set_defaults(func=cmd_keys_rotate)
    keys_list = keys.add_parser("list", help="print the signing keys (never their private halves)")
    _common(keys_list)
    keys_list.set_defaults(func=cmd_keys_list)

    purge_cmd = commands.add_parser(
        "purge", help="delete expired codes, tokens, sessions and parked requests; prints counts")
    _common(purge_cmd)
    purge_cmd.add_argument("--batch", type=int, default=1000,
                           help="rows per delete statement (default 1000)")
    purge_cmd.set_defaults(func=cmd_purge)

    security = commands.add_parser(
        "security-log", help="print the append-only security log, newest first, as JSON lines")
    _common(security)
    security.add_argument("--user", help="only this user's events (username or e-mail)")
    security.add_argument("--limit", type=int, default=100, help="at most this many (default 100)")
    security.set_defaults(func=cmd_security_log)
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
    return 0


if __name__ == "__main__":
    sys.exit(main())
