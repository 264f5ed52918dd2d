"""Error answers: JSON in the RFC's shape for the API and the OAuth endpoints, never a traceback."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from openplate.oauth.errors import InsufficientScope, OAuthError
from openplate.web.context import context_of
from openplate.web.middleware import BodyTooLarge
from openplate.web.pages import error_page

log = logging.getLogger("openplate.web")

NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}
REALM = 'realm="openplate"'


def error_json(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> JSONResponse:
    return JSONResponse(
        {"error": error, "error_description": description},
        status_code=status,
        headers={**NO_STORE, **(headers or {})},
    )


def too_many_requests(retry_after: int) -> JSONResponse:
    """429 for a throttled key: when to try again, and nothing about why (no account oracle)."""
    return error_json(
        429, "too_many_requests", "Too many failed attempts; try again later.",
        {"Retry-After": str(retry_after)},
    )


def oauth_error_response(error: OAuthError) -> JSONResponse:
    """RFC 6749 §5.2 for the token endpoint; 401 invalid_client carries a Basic challenge."""
    headers = {"WWW-Authenticate": f"Basic {REALM}"} if error.status == 401 else None
    if error.detail:
        log.info("oauth error %s: %s", error.error, error.detail)
    return error_json(error.status, error.error, error.description, headers)


def _quoted(text: str) -> str:
    """RFC 9110 §5.6.4 quoted-string content: escape backslash and double quote, drop controls."""
    clean = "".join(c for c in text if c >= " " and c != "\x7f")
    return clean.replace("\\", "\\\\").replace('"', '\\"')


def bearer_error_response(error: OAuthError, *, token_sent: bool) -> JSONResponse:
    """RFC 6750 §3: a challenge that names the error only when a token was actually sent."""
    challenge = f"Bearer {REALM}"
    if token_sent:
        challenge += f', error="{error.error}", error_description="{_quoted(error.description)}"'
        if isinstance(error, InsufficientScope):
            challenge += f', scope="{error.scope}"'
    return error_json(error.status, error.error, error.description, {"WWW-Authenticate": challenge})


def wants_html(request: Request) -> bool:
    """A browser navigating (Accept names text/html) gets a page; API clients get JSON."""
    return "text/html" in request.headers.get("accept", "")


async def http_exception(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    names = {404: "not_found", 405: "method_not_allowed", 413: "request_too_large"}
    error = names.get(exc.status_code, "invalid_request")
    if wants_html(request) and request.method in ("GET", "HEAD"):
        title = "Page not found" if exc.status_code == 404 else "This request cannot be served"
        message = (
            "There is nothing at this address." if exc.status_code == 404 else str(exc.detail)
        )
        page = error_page(context_of(request), None, status=exc.status_code, title=title,
                          message=message, error_code=error)
        page.headers.update(dict(exc.headers or {}))  # e.g. Allow on a 405 (RFC 9110 §15.5.6)
        return page
    return error_json(exc.status_code, error, str(exc.detail), dict(exc.headers or {}))


async def unexpected(request: Request, exc: Exception) -> Response:
    if isinstance(exc, BodyTooLarge):
        return error_json(413, "request_too_large", "The request body is too large.")
    if isinstance(exc, OperationalError | PoolTimeout | DBAPIError | ConnectionError | OSError):
        log.error("database unavailable on %s %s: %s", request.method, request.url.path,
                  type(exc).__name__)
        return error_json(
            503, "temporarily_unavailable", "The service is briefly unavailable; try again.",
            {"Retry-After": "1"},
        )
    log.exception("unhandled error on %s %s", request.method, request.url.path)
    return error_json(500, "server_error", "An unexpected error occurred.")
