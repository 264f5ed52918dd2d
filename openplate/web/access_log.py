"""Pure ASGI front middleware: request ids, security headers, the access log and request metrics,
in one wrapper (each extra ASGI layer costs every request a coroutine and a send hop).

The query string is logged with every value replaced except those of a few parameters known to
be harmless (``SHOWN``), whatever the others are called; no header is ever logged (so no
Authorization header, no cookie). The formatter (openplate/logs.py) then masks anything shaped
like a credential in every field: the path, the shown values, a caller's request id.
"""

from __future__ import annotations

import itertools
import logging
import re
import secrets
import time
from collections.abc import Callable
from urllib.parse import parse_qsl, urlencode

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from openplate.web.metrics import Metrics
from openplate.web.middleware import DOCS_CSP, PAGE_CSP, security_headers
from openplate.web.replies import Reply

log = logging.getLogger("openplate.access")

#: Query parameters whose values are logged: public identifiers and enumerations of OAuth and
#: OpenID Connect, and the site's own switches. Any other value is replaced (``code``, ``state``,
#: a token under a name nobody foresaw, an e-mail address in ``login_hint``...).
SHOWN = frozenset({
    "client_id", "response_type", "response_mode", "scope", "prompt", "max_age", "display",
    "ui_locales", "claims_locales", "acr_values", "code_challenge_method", "grant_type",
    "token_type_hint",
})
HIDDEN = "[redacted]"
_REQUEST_ID = re.compile(r"[A-Za-z0-9._\-]{1,64}")


#: Paths that end in a one-time secret (the token of a mailed link): the path is logged with
#: that segment replaced. (logs.py also masks the token's shape anywhere.)
SECRET_PATHS = ("/password/reset/", "/account/email/verify/")


def safe_path(path: str) -> str:
    """The path as logged: a mailed link's token replaced."""
    for prefix in SECRET_PATHS:
        if path.startswith(prefix) and len(path) > len(prefix):
            return prefix + HIDDEN
    return path


def safe_query(raw: bytes) -> str:
    """The query string as logged: names kept (up to 64 characters), values replaced unless the
    name is in ``SHOWN`` (those kept up to 200 characters)."""
    if not raw:
        return ""
    try:
        pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True)
    except ValueError:
        return "[unparsable]"
    return urlencode([(k[:64], v[:200] if k in SHOWN else HIDDEN) for k, v in pairs])


#: New request ids: a random prefix per process and a counter (unique without a system call
#: for randomness per request; a request id correlates log lines, it guards nothing). The
#: counter, offset by a random number, goes through a bijection of 32-bit numbers that scatters
#: neighbours (MurmurHash3's finaliser), so ids stay unique for 2³² requests per process
#: without showing how many were served. (An odd multiplier and a mask, used before, left
#: fewer than a thousand distinct steps between consecutive ids for about one mask in nine.)
_ID_PREFIX = secrets.token_hex(4)
_ID_OFFSET = secrets.randbits(32)
_ID_COUNTER = itertools.count(1)


def _scatter(x: int) -> int:
    x ^= x >> 16
    x = (x * 0x85EBCA6B) & 0xFFFFFFFF
    x ^= x >> 13
    x = (x * 0xC2B2AE35) & 0xFFFFFFFF
    return x ^ (x >> 16)


def new_request_id() -> str:
    return f"{_ID_PREFIX}{_scatter((next(_ID_COUNTER) + _ID_OFFSET) & 0xFFFFFFFF):08x}"


def request_id_from(incoming: bytes | None) -> str:
    """The caller's X-Request-ID if it is sane, else a new one."""
    if incoming:
        text = incoming.decode("latin-1")
        if _REQUEST_ID.fullmatch(text):
            return text
    return new_request_id()


def request_id_of(scope: Scope) -> str:
    """``request_id_from`` the scope's headers; kept in the scope's state."""
    incoming = None
    for name, value in scope.get("headers", ()):
        if name == b"x-request-id":
            incoming = value
            break
    request_id = request_id_from(incoming)
    scope.setdefault("state", {})["request_id"] = request_id
    return request_id


class AccessLog:
    """Logs each request and feeds the request metrics (by route template, not raw path)."""

    def __init__(self, app: ASGIApp, metrics: Metrics | None = None,
                 failure: Callable[[Scope, Exception], Reply] | None = None) -> None:
        self.app = app
        self.metrics = metrics
        #: What an exception that escaped the app is answered with (errors.failure_answer).
        self.failure = failure
        self.page_headers = security_headers(PAGE_CSP)
        self.docs_headers = security_headers(DOCS_CSP)
        #: The defaults a response of the given header names lacks (computed once per shape).
        self._missing: dict[tuple[object, ...], tuple[tuple[bytes, bytes], ...]] = {}

    def finish_headers(
        self, path: str, request_id: str, headers: list[tuple[bytes, bytes]]
    ) -> list[tuple[bytes, bytes]]:
        """The response's headers plus the security defaults it did not set, and the request id."""
        docs = path.startswith("/docs")
        key = (docs, *[name for name, _ in headers])
        missing = self._missing.get(key)
        if missing is None:
            present = {name.lower() for name, _ in headers}
            defaults = self.docs_headers if docs else self.page_headers
            missing = tuple(item for item in defaults if item[0] not in present)
            if len(self._missing) < 1024:  # responses come in a few shapes
                self._missing[key] = missing
        headers.extend(missing)
        headers.append((b"x-request-id", request_id.encode()))
        return headers

    def record(self, scope: Scope, route: str, request_id: str, status: int,
               started: float) -> None:
        """Metrics and the access-log line for one finished request."""
        elapsed = time.perf_counter() - started
        if self.metrics is not None:
            self.metrics.observe_request(route, scope["method"], status, elapsed)
        if log.isEnabledFor(logging.INFO):
            self._log(scope, request_id, status, elapsed)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        request_id = request_id_of(scope)
        status = 500
        path = scope["path"]

        started_response = False

        async def send_with_id(message: Message) -> None:
            nonlocal status, started_response
            if message["type"] == "http.response.start":
                status = message["status"]
                started_response = True
                headers = self.finish_headers(path, request_id, list(message.get("headers", [])))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception as exc:
            # Answered here, not by Starlette's outermost handler, which would send its answer
            # past this log (recording a 500 whatever was sent), then re-raise to uvicorn (a
            # traceback per request, and the keep-alive connection closed).
            if self.failure is None or started_response:
                raise  # half an answer is out: only closing the connection can end it
            reply = self.failure(scope, exc)
            await send_with_id({"type": "http.response.start", "status": reply.status, "headers": [
                (b"content-length", str(len(reply.body)).encode()), *reply.headers]})
            await send_with_id({"type": "http.response.body",
                                "body": b"" if scope["method"] == "HEAD" else reply.body})
        finally:
            template = getattr(scope.get("route"), "path", None) or "unmatched"
            self.record(scope, template, request_id, status, started)

    @staticmethod
    def _log(scope: Scope, request_id: str, status: int, elapsed: float) -> None:
        client = scope.get("client")
        path = safe_path(scope["path"])
        log.info(
            "%s %s %s", scope["method"], path, status,
            extra={"fields": {
                "request_id": request_id, "method": scope["method"], "path": path,
                "query": safe_query(scope.get("query_string", b"")), "status": status,
                "ms": round(elapsed * 1000, 2),
                "ip": client[0] if client else None,
            }},
        )
