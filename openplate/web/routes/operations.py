"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from fastapi import APIRouter
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.web.context import AppContext, context_of

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up and answering."""
    return JSONResponse({"status": "ok"})


async def _database(ctx: AppContext) -> str:
    async with ctx.db.transaction(readonly=True) as store:
        await store.conn.execute(text("SELECT 1"))
    return "ok"


async def _redis(ctx: AppContext) -> str:
    assert ctx.redis is not None
    await ctx.redis.ping()
    return "ok"


async def _checked(checks: dict[str, Callable[[AppContext], Awaitable[str]]], ctx: AppContext,
                   limit: float) -> dict[str, str]:
    """Run the checks side by side and report each within ``limit`` seconds: one still running
    then is reported as timed out and left to finish (or fail) in the background, so a frozen
    database cannot hold the answer (cancelling it would wait for its connection's cleanup)."""
    tasks = {name: asyncio.ensure_future(check(ctx)) for name, check in checks.items()}
    await asyncio.wait(tasks.values(), timeout=limit)
    results: dict[str, str] = {}
    for name, task in tasks.items():
        if not task.done():
            task.add_done_callback(_ignore_outcome)
            task.cancel()
            results[name] = "TimeoutError"
        elif task.cancelled():
            results[name] = "CancelledError"
        elif (error := task.exception()) is not None:
            results[name] = type(error).__name__  # any failure means "not ready", by type
        else:
            results[name] = task.result()
    return results


def _ignore_outcome(task: asyncio.Future[str]) -> None:
    if not task.cancelled():
        task.exception()  # retrieved, so asyncio does not log it as never retrieved


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Ready for traffic: the database answers and the signing keys are loaded. Answers within
    ``OPENPLATE_READYZ_TIMEOUT`` seconds whatever the database and Redis do."""
    ctx = context_of(request)
    wanted: dict[str, Callable[[AppContext], Awaitable[str]]] = {"database": _database}
    if ctx.redis is not None:
        wanted["redis"] = _redis
    found = await _checked(wanted, ctx, ctx.settings.readyz_timeout)
    checks = {"database": found["database"],
              "keys": "ok" if ctx.keys.ring is not None else "not loaded"}
    if "redis" in found:  # degraded, not down: the throttling counters use the database
        checks["redis"] = (
            "ok" if found["redis"] == "ok"
            else f"degraded ({found['redis']}); throttling on the database")
    ready = checks["database"] == "ok" and checks["keys"] == "ok"
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    body, content_type = context_of(request).metrics.render()
    return Response(body, media_type=content_type)
