"""The hot endpoints, answered straight from ASGI ahead of FastAPI.

The token, introspection and revocation endpoints, the bearer-protected ``/users/me`` and
userinfo, JWKS and the two metadata documents do little work each: a form or a header in, one
unit of work, JSON out. Through FastAPI they also paid for about ten ASGI layers (error and
exception middleware, an exit stack, body limits, HEAD handling, routing), a ``Request`` and a
``Response`` object; on our benchmark machine that was more than the work itself. Here one
function reads the request, calls the handler and writes its ``Reply``, doing what those
layers did for these paths: the access log, metrics, request id and security headers (shared
with ``AccessLog``), a body limit, HEAD as GET, 405 for another method, and a JSON 500/503 for
anything unexpected.

Which endpoints these are, and how the OpenAPI document describes them, is declared once, in
hot_endpoints.py (``HotEndpoint``); FastAPI has no route for them.
"""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.types import Receive, Scope, Send

from openplate.oauth.errors import RequestTooLarge
from openplate.web.access_log import AccessLog, request_id_from
from openplate.web.context import AppContext, scope_ip
from openplate.web.errors import failure_reply, method_not_allowed_reply, oauth_error_reply
from openplate.web.replies import Refusal, Reply

#: Every hot POST carries a small form; anything bigger is refused before it is read in full
#: (the same cap as the other form endpoints; the token endpoint's own is smaller).
BODY_LIMIT = 256 * 1024


@dataclass(slots=True)
class HotRequest:
    """What a hot handler may read of a request."""

    method: str
    path: str
    query: bytes
    headers: dict[bytes, bytes]  # lower-case names; the first of repeated headers
    body: bytes
    ip: str
    #: Every ``DPoP`` header (RFC 9449 §4.3 refuses more than one), latin-1 as the others.
    dpop: tuple[str, ...] = ()

    def header(self, name: bytes) -> str | None:
        value = self.headers.get(name)
        return value.decode("latin-1") if value is not None else None


HotHandler = Callable[[AppContext, HotRequest], Awaitable[Reply]]


@dataclass(frozen=True, slots=True)
class HotEndpoint:
    """One hot endpoint: where, which method (HEAD is answered wherever GET is), the handler,
    and its OpenAPI operation object."""

    method: str
    path: str
    handler: HotHandler
    operation: dict[str, Any]


def _not_allowed(allow: str) -> HotHandler:
    """The handler of a known path asked with another method (RFC 9110 §15.5.6)."""

    async def handler(ctx: AppContext, request: HotRequest) -> Reply:
        return method_not_allowed_reply(ctx, request.method, request.header(b"accept") or "",
                                        allow)

    return handler


def _headers(scope: Scope) -> dict[bytes, bytes]:
    headers: dict[bytes, bytes] = {}
    for name, value in scope["headers"]:
        headers.setdefault(name, value)
    return headers


def _dpop_headers(scope: Scope, headers: dict[bytes, bytes]) -> tuple[str, ...]:
    """All of the request's DPoP headers (none, in almost every request: one lookup)."""
    if b"dpop" not in headers:
        return ()
    return tuple(value.decode("latin-1") for name, value in scope["headers"] if name == b"dpop")


class _TooLarge(Exception):
    pass


class _Disconnected(Exception):
    pass


async def _read_body(receive: Receive, headers: dict[bytes, bytes]) -> bytes:
    declared = headers.get(b"content-length")
    if declared is not None and declared.isdigit() and int(declared) > BODY_LIMIT:
        raise _TooLarge
    chunks: list[bytes] = []
    size = 0
    more = True
    while more:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise _Disconnected
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > BODY_LIMIT:
            raise _TooLarge
        chunks.append(chunk)
        more = message.get("more_body", False)
    return b"".join(chunks)


class HotRoutes:
    """Path → method → handler, built from the endpoints, and the one function that serves a
    match."""

    def __init__(self, ctx: AppContext, front: AccessLog,
                 endpoints: tuple[HotEndpoint, ...]) -> None:
        self.ctx = ctx
        self.front = front
        self.routes: dict[str, dict[str, HotHandler]] = {}
        for endpoint in endpoints:
            self.routes.setdefault(endpoint.path, {})[endpoint.method] = endpoint.handler
        self._refusals: dict[str, HotHandler] = {}
        for path, methods in self.routes.items():
            allowed = sorted({*methods, *(("HEAD",) if "GET" in methods else ())})
            self._refusals[path] = _not_allowed(", ".join(allowed))

    def match(self, scope: Scope) -> HotHandler | None:
        """The handler for the request; a 405 for a hot path asked with another method; None
        for any other path (FastAPI's)."""
        path = scope["path"]
        methods = self.routes.get(path)
        if methods is None:
            return None
        method = scope["method"]
        return methods.get("GET" if method == "HEAD" else method) or self._refusals[path]

    async def serve(self, scope: Scope, receive: Receive, send: Send, handler: HotHandler) -> None:
        started = time.perf_counter()
        method, path = scope["method"], scope["path"]
        headers = _headers(scope)
        request_id = request_id_from(headers.get(b"x-request-id"))
        try:
            body = await _read_body(receive, headers) if method == "POST" else b""
            request = HotRequest(method, path, scope["query_string"], headers, body,
                                 scope_ip(scope), _dpop_headers(scope, headers))
            reply = await handler(self.ctx, request)
        except Refusal as refusal:
            reply = refusal.reply
        except _Disconnected:
            self.front.record(scope, path, request_id, 499, started)
            return
        except _TooLarge:
            # The rest of the body is never read, so the connection cannot carry another request.
            refused = oauth_error_reply(RequestTooLarge("The request body is too large."))
            reply = refused._replace(headers=(*refused.headers, (b"connection", b"close")))
        except Exception as exc:  # noqa: BLE001 - answered as JSON, never a traceback
            reply = failure_reply(exc, method, path)
        out = [(b"content-length", str(len(reply.body)).encode()), *reply.headers]
        await send({
            "type": "http.response.start", "status": reply.status,
            "headers": self.front.finish_headers(path, request_id, out),
        })
        await send({"type": "http.response.body",
                    "body": b"" if method == "HEAD" else reply.body})
        self.front.record(scope, path, request_id, reply.status, started)

