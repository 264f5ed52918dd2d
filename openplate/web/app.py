"""The application factory: settings in, an ASGI app out; no import-time state."""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import TYPE_CHECKING, Any

import swagger_ui_bundle
from fastapi import FastAPI
from starlette.exceptions import HTTPException
from starlette.responses import HTMLResponse
from starlette.routing import Route
from starlette.staticfiles import StaticFiles
from starlette.types import Receive, Scope, Send

if TYPE_CHECKING:
    from redis.asyncio import Redis

from openplate import __version__, signing
from openplate.backchannel import BackchannelWorker
from openplate.housekeeping import purge_forever, retention_of
from openplate.mail.transport import transport_for
from openplate.mail.worker import MailWorker
from openplate.oauth.issuance import TokenPolicy
from openplate.oauth.oidc import keys
from openplate.oauth.resources import MCP_PATH
from openplate.oauth.tokens import Digester
from openplate.settings import Settings
from openplate.store.activity import last_refresh_activity
from openplate.store.engine import create_engine
from openplate.store.unit import Database
from openplate.throttling import ThrottlePolicy
from openplate.web import errors, hot_endpoints
from openplate.web.access_log import AccessLog
from openplate.web.context import TEMPLATES, AppContext, LiveKeys, now
from openplate.web.hot import HotRoutes
from openplate.web.mcp_server import McpService
from openplate.web.metrics import Metrics
from openplate.web.middleware import BodyLimit, HeadAsGet
from openplate.web.replies import Refusal
from openplate.web.routes import (
    account,
    account_delete,
    account_maps,
    account_profile,
    account_security,
    account_sessions,
    account_settings,
    api,
    app_logo,
    developer,
    device,
    email_settings,
    library,
    library_search,
    logout,
    map_upload_page,
    oauth,
    oidc,
    operations,
    passkeys,
    recovery,
    registration,
    signin_two_factor,
    two_factor,
)

STATIC = TEMPLATES.with_name("static")
log = logging.getLogger("openplate.web")
FORM_LIMIT = 256 * 1024
APP_FORM_LIMIT = 64 * 1024 * 1024


async def load_keys(ctx: AppContext, *, create: bool = False) -> list[str]:
    """Load the signing key ring into memory (creating a current key of each algorithm on a new
    database).

    With ``create``, returns the algorithms whose next key is still to be published: the caller
    does it in the background (``publish_next_keys``), so a first start answers without waiting
    for a second RSA key (14-130 ms to generate).
    """
    instance_key = ctx.digester.key
    missing_next: list[str] = []
    if create:
        async with ctx.db.transaction() as store:
            missing_next = await signing.ensure_current(
                store.signing_keys, instance_key=instance_key, now=now())
    async with ctx.db.transaction(readonly=True) as store:
        ctx.keys.ring = await signing.load_ring(
            store.signing_keys, instance_key=instance_key, now=now(),
            retention=ctx.settings.key_retention, default_alg=ctx.settings.signing_alg,
        )
    return missing_next


async def publish_next_keys(ctx: AppContext, algs: list[str]) -> None:
    """Generate the next key of each of ``algs`` on a worker thread while the server answers,
    publish them in the JWKS, and reload the ring. Another node may have published one
    meanwhile: then ours is dropped. If it fails, the next start (or `openplate keys rotate`)
    publishes them."""
    try:
        made = await asyncio.to_thread(lambda: [keys.generate(alg) for alg in algs])
        async with ctx.db.transaction() as store:
            for new in made:
                await signing.publish_next(store.signing_keys, alg=new.alg,
                                           instance_key=ctx.digester.key, now=now(), new=new)
        await load_keys(ctx)
    except Exception:  # noqa: BLE001 - serving goes on with the current keys alone
        log.warning("could not publish the next signing keys", exc_info=True)


async def reload_keys_forever(ctx: AppContext) -> None:
    """Pick up a rotation made by `openplate keys rotate` or another node, every
    ``OPENPLATE_KEY_RELOAD_INTERVAL`` seconds."""
    while True:
        await asyncio.sleep(ctx.settings.key_reload_interval)
        try:
            await load_keys(ctx)
        except Exception:  # noqa: BLE001 - keep serving with the ring we have; try again later
            log.warning("could not reload signing keys", exc_info=True)


def _redis(url: str | None, timeout: float) -> Redis | None:
    """The Redis client, every call time-limited: connecting and each command take at most
    ``timeout`` seconds. Its pool never makes a caller wait: it opens a connection, or past 100
    refuses at once (the counters then use the database)."""
    if not url:
        return None
    from redis.asyncio import Redis  # only when configured
    from redis.asyncio.retry import Retry
    from redis.backoff import NoBackoff

    # No retries: the counters fall back to the database at once. (redis-py does not retry a
    # timed-out command by default, but retries a failed connection ten times with backoff,
    # up to about four seconds against a Redis that resets connections.)
    return Redis.from_url(url, socket_timeout=timeout, socket_connect_timeout=timeout,
                          retry=Retry(NoBackoff(), 0))


def _without_validation_errors(document: dict[str, Any]) -> None:
    """Take out the ``422 Validation Error`` FastAPI adds to every route with parameters. No
    route of ours lets FastAPI validate a request (each reads its parameters itself and answers
    a bad one with a 400 that names it), so that answer never comes; a 422 a route declares
    itself (a damaged map on ``POST /maps``) stays."""
    for path_item in document.get("paths", {}).values():
        for operation in path_item.values():
            responses = operation.get("responses", {})
            if responses.get("422", {}).get("description") == "Validation Error":
                del responses["422"]
    schemas = document.get("components", {}).get("schemas", {})
    for name in ("HTTPValidationError", "ValidationError"):
        schemas.pop(name, None)


class OpenplateApp(FastAPI):
    """FastAPI, with the hot endpoints answered before its middleware stack is entered.

    Both come from one registry (hot_endpoints.HOT_ENDPOINTS): ``hot`` serves them, and the
    OpenAPI document describes them beside FastAPI's own routes.
    """

    hot: HotRoutes | None = None

    def openapi(self) -> dict[str, Any]:
        if self.openapi_schema is None:
            document = super().openapi()  # FastAPI's routes; it keeps the document
            _without_validation_errors(document)
            hot_endpoints.describe(document)
        return self.openapi_schema or {}

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.hot is not None:
            handler = self.hot.match(scope)
            if handler is not None:
                await self.hot.serve(scope, receive, send, handler)
                return
        await super().__call__(scope, receive, send)


def create_app(settings: Settings) -> OpenplateApp:
    settings = settings.with_secret_key()
    assert settings.secret_key is not None
    digester = Digester(settings.secret_key.encode("utf-8"), stamps=settings.stamped_secrets)
    engine = create_engine(settings)

    def pool_stats() -> tuple[int, int]:
        pool = engine.pool
        return (int(getattr(pool, "checkedout", lambda: 0)()),
                int(getattr(pool, "checkedin", lambda: 0)()))

    db = Database(engine, digester)
    live_keys = LiveKeys()
    ctx = AppContext(
        settings=settings,
        db=db,
        digester=digester,
        policy=TokenPolicy(
            access_ttl=settings.access_token_ttl,
            refresh_ttl=settings.refresh_token_ttl,
            code_ttl=settings.code_ttl,
            refresh_grace=settings.refresh_grace,
            access_format=settings.access_token_format,
            id_token_ttl=settings.access_token_ttl,
            device_code_ttl=settings.device_code_ttl,
            device_interval=settings.device_poll_interval,
        ),
        parse_slots=asyncio.Semaphore(settings.upload_parse_concurrency),
        keys=live_keys,
        metadata_json=oidc.metadata_json(settings),
        metrics=Metrics(pool_stats),
        mail=MailWorker(
            db, transport_for(smtp_url=settings.smtp_url, folder=settings.mail_folder,
                              timeout=settings.smtp_timeout, ca_file=settings.smtp_ca_file),
            sender=settings.mail_sender, base_url=settings.base_url,
            poll_interval=settings.mail_poll_interval),
        redis=_redis(settings.redis_url, settings.redis_timeout),
        backchannel=BackchannelWorker(
            db, ring=lambda: live_keys.ring, issuer=settings.base_url,
            allow_private=settings.allow_private_client_urls,
            timeout=settings.backchannel_logout_timeout,
            give_up=settings.backchannel_logout_give_up,
            poll_interval=settings.mail_poll_interval, ca_file=settings.client_urls_ca_file),
        throttle=ThrottlePolicy.of(
            signin_account=settings.signin_failures_per_account,
            signin_ip=settings.signin_failures_per_ip,
            token_client=settings.token_failures_per_client,
            token_ip=settings.token_failures_per_ip,
            signup_ip=settings.signups_per_ip,
            link_mail_account=settings.link_mails_per_account,
            link_mail_ip=settings.link_mails_per_ip,
            device_code_user=settings.device_codes_per_user,
            device_code_ip=settings.device_codes_per_ip,
        ),
    )

    upload_limit = settings.max_upload_bytes + 1024 * 1024
    #: The MCP server (docs/mcp.md): its request bodies are bounded as POST /maps's are.
    mcp = McpService(ctx, max_body=upload_limit)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        missing_next = await load_keys(ctx, create=True)
        async with ctx.db.transaction(readonly=True) as store:  # see refresh_token.retry_in_time
            ctx.policy.restart.last_activity = await last_refresh_activity(store.conn)
        tasks = [asyncio.create_task(reload_keys_forever(ctx)),
                 asyncio.create_task(ctx.mail.run_forever())]
        if ctx.backchannel is not None:
            tasks.append(asyncio.create_task(ctx.backchannel.run_forever()))
        if missing_next:
            tasks.append(asyncio.create_task(publish_next_keys(ctx, missing_next)))
        if settings.purge_interval:
            tasks.append(asyncio.create_task(purge_forever(
                ctx.db, interval=settings.purge_interval, batch=settings.purge_batch,
                retention=retention_of(settings))))
        # Everything built so far (the app, its routes, SQLAlchemy's tables, the modules) lives
        # as long as the process: out of the collector's sight, a full collection no longer
        # walks it. Those collections had stopped the loop for about 50 ms each under load.
        gc.freeze()
        gc.enable()  # `serve` keeps the collector off while it starts (see cli.py)
        ctx.policy.restart.serving_since = now()
        try:
            async with mcp.running():  # the MCP session manager's task group
                yield
        finally:
            for task in tasks:
                task.cancel()
            if ctx.redis is not None:
                await ctx.redis.aclose()
            await ctx.db.dispose()

    app = OpenplateApp(
        title="Openplate API",
        version=__version__,
        description=(
            "The mind-map library API and OAuth 2.0 token endpoint. Get an access token with the "
            "authorisation-code flow at `/oauth/auth` and `/oauth/token`, then send it as "
            "`Authorization: Bearer <token>`."
        ),
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.include_router(library.router)
    app.include_router(library_search.router)
    app.include_router(map_upload_page.router)
    app.include_router(account_maps.router)
    app.include_router(account.router)
    app.include_router(app_logo.router)
    app.include_router(developer.router)
    app.include_router(account_settings.router)
    app.include_router(account_delete.router)
    app.include_router(two_factor.router)
    app.include_router(signin_two_factor.router)
    app.include_router(passkeys.router)
    app.include_router(recovery.router)
    app.include_router(email_settings.router)
    app.include_router(account_profile.router)
    app.include_router(account_sessions.router)
    app.include_router(account_security.router)
    app.include_router(oauth.router)
    app.include_router(registration.router)
    app.include_router(device.router)
    app.include_router(logout.router)
    app.include_router(operations.router)
    app.include_router(api.router)
    app.mount("/static", StaticFiles(directory=STATIC), name="static")
    app.mount("/docs/assets", StaticFiles(directory=swagger_ui_bundle.swagger_ui_path), name="docs")

    @app.get("/docs", include_in_schema=False)
    async def docs() -> HTMLResponse:
        # Swagger UI from the bundled assets (never a CDN), started by /static/docs.js, with
        # colour fixes (/static/docs.css) so that the page passes axe-core like the others.
        return HTMLResponse(ctx.templates.get_template("api_docs.html").render())

    # /mcp is no FastAPI route with a schema: the SDK reads the JSON-RPC body (docs/mcp.md).
    app.router.routes.append(Route(MCP_PATH, mcp.endpoint, include_in_schema=False))

    app.add_exception_handler(HTTPException, errors.http_exception)
    app.add_exception_handler(Refusal, errors.refused)
    app.add_exception_handler(Exception, errors.unexpected)
    def limit_for(method: str, path: str) -> int:
        if path in ("/maps", MCP_PATH):
            return upload_limit
        if path == map_upload_page.PATH:
            # The site's upload form refuses past upload_limit itself (by Content-Length, or
            # while streaming), with the form and a message beside the file field.
            return upload_limit + APP_FORM_LIMIT
        if path.startswith("/applications/") and path.count("/") == 2:
            # An application's form may carry a logo: the route refuses it past its own bound
            # (by Content-Length, or while streaming) with the form and a message beside the
            # logo field, not a bare 413.
            return APP_FORM_LIMIT
        return FORM_LIMIT

    app.add_middleware(BodyLimit, limit_for=limit_for)
    app.add_middleware(HeadAsGet)
    app.add_middleware(AccessLog, metrics=ctx.metrics, failure=errors.failure_answer)
    app.hot = HotRoutes(ctx, AccessLog(app, metrics=ctx.metrics), hot_endpoints.HOT_ENDPOINTS)
    return app
