"""Operations endpoints: liveness, readiness and Prometheus metrics."""

from __future__ import annotations

from fastapi import APIRouter
from sqlalchemy import text
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.web.context import context_of

router = APIRouter(include_in_schema=False)


@router.get("/healthz")
async def healthz() -> Response:
    """The process is up and answering."""
    return JSONResponse({"status": "ok"})


@router.get("/readyz")
async def readyz(request: Request) -> Response:
    """Ready for traffic: the database answers and the signing keys are loaded."""
    ctx = context_of(request)
    checks: dict[str, str] = {}
    try:
        async with ctx.db.transaction(readonly=True) as store:
            await store.conn.execute(text("SELECT 1"))
        checks["database"] = "ok"
    except Exception as error:  # noqa: BLE001 - any failure means "not ready", reported by type
        checks["database"] = type(error).__name__
    checks["keys"] = "ok" if ctx.keys.ring is not None else "not loaded"
    if ctx.redis is not None:
        try:
            await ctx.redis.ping()
            checks["redis"] = "ok"
        except Exception as error:  # noqa: BLE001 - degraded, not down: limits use the database
            checks["redis"] = f"degraded ({type(error).__name__}); throttling on the database"
    ready = checks["database"] == "ok" and checks["keys"] == "ok"
    return JSONResponse({"status": "ready" if ready else "not ready", "checks": checks},
                        status_code=200 if ready else 503)


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    body, content_type = context_of(request).metrics.render()
    return Response(body, media_type=content_type)
