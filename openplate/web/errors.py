"""Error answers: JSON in the RFC's shape for the API and the OAuth endpoints, never a traceback."""

from __future__ import annotations

import html
import logging

from sqlalchemy.exc import DBAPIError, DisconnectionError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from starlette.exceptions import HTTPException
from starlette.requests import ClientDisconnect, Request
from starlette.responses import Response
from starlette.types import Scope

from openplate.oauth.errors import InsufficientScope, OAuthError
from openplate.store.engine import DatabaseUnavailable, UnstorableText
from openplate.web import replies
from openplate.web.context import AppContext, context_of
from openplate.web.middleware import BodyTooLarge
from openplate.web.pages import error_page
from openplate.web.replies import Refusal, Reply, json_reply, text_headers, to_response

log = logging.getLogger("openplate.web")

REALM = 'realm="openplate"'


def error_reply(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Reply:
    return json_reply({"error": error, "error_description": description}, status=status,
                      headers=replies.NO_STORE + text_headers(headers))


def error_json(
    status: int, error: str, description: str, headers: dict[str, str] | None = None
) -> Response:
    return to_response(error_reply(status, error, description, headers))


def throttled_reply(retry_after: int) -> Reply:
    """429 for a throttled key: when to try again, and nothing about why (no account oracle)."""
    return error_reply(
        429, "too_many_requests", "Too many failed attempts; try again later.",
        {"Retry-After": str(retry_after)},
    )


def too_many_requests(retry_after: int) -> Response:
    return to_response(throttled_reply(retry_after))


def oauth_error_reply(error: OAuthError) -> Reply:
    """RFC 6749 §5.2 for the token endpoint; 401 invalid_client carries a Basic challenge."""
    headers = {"WWW-Authenticate": f"Basic {REALM}"} if error.status == 401 else None
    if error.detail:
        log.info("oauth error %s: %s", error.error, error.detail)
    return error_reply(error.status, error.error, error.description, headers)


def _quoted(text: str) -> str:
    """RFC 9110 §5.6.4 quoted-string content: escape backslash and double quote, drop controls."""
    clean = "".join(c for c in text if c >= " " and c != "\x7f")
    return clean.replace("\\", "\\\\").replace('"', '\\"')


def bearer_challenge(error: OAuthError, *, token_sent: bool,
                     resource_metadata: str | None = None) -> str:
    """RFC 6750 §3: the ``WWW-Authenticate`` value; it names the error only when a token was
    actually sent; and RFC 9728 §5.1's ``resource_metadata``, where a client learns how to get
    a token."""
    challenge = f"Bearer {REALM}"
    if resource_metadata is not None:
        challenge += f', resource_metadata="{_quoted(resource_metadata)}"'
    if token_sent:
        challenge += f', error="{error.error}", error_description="{_quoted(error.description)}"'
        if isinstance(error, InsufficientScope):
            challenge += f', scope="{error.scope}"'
    return challenge


def bearer_error_reply(error: OAuthError, *, token_sent: bool,
                       resource_metadata: str | None = None) -> Reply:
    """RFC 6750 §3: the refusal of a bearer-protected call, with its challenge."""
    challenge = bearer_challenge(error, token_sent=token_sent, resource_metadata=resource_metadata)
    return error_reply(error.status, error.error, error.description,
                       {"WWW-Authenticate": challenge})


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


def database_unavailable(exc: BaseException) -> bool:
    """Whether ``exc`` says the database could not be reached or answer in time (a 503).

    Only errors the store raises count: SQLAlchemy's operational, interface, pool-timeout and
    disconnection errors, and ``DatabaseUnavailable`` (the store's name for a driver's time
    limit or broken connection). A bare ``OSError`` or ``TimeoutError`` raised anywhere else
    (a missing file, a bug) is not an outage, and is answered as the 500 it is.
    """
    if isinstance(exc, DatabaseUnavailable | OperationalError | InterfaceError | PoolTimeout
                  | DisconnectionError):
        return True
    return isinstance(exc, DBAPIError) and exc.connection_invalidated


UNAVAILABLE = "The service is briefly unavailable; try again."
UNSTORABLE = "The request contains a NUL character or invalid Unicode."


def method_not_allowed_reply(ctx: AppContext, method: str, accept: str, allow: str) -> Reply:
    """The 405 of a hot endpoint asked with another method, as ``http_exception`` answers one of
    FastAPI's: a page for a browser's GET, else JSON; ``Allow`` either way (RFC 9110 §15.5.6)."""
    if "text/html" in accept and method in ("GET", "HEAD"):
        page = error_page(ctx, None, status=405, title="This request cannot be served",
                          message="Method Not Allowed", error_code="method_not_allowed")
        headers = [(name, value) for name, value in page.raw_headers if name != b"content-length"]
        return Reply(405, bytes(page.body), (*headers, (b"allow", allow.encode("latin-1"))))
    return error_reply(405, "method_not_allowed", "Method Not Allowed", {"Allow": allow})


def failure_reply(exc: Exception, method: str, path: str) -> Reply:
    """What an exception no handler caught becomes, logged in one line named for what it is:
    400 for text the database cannot hold, 503 if the database failed (no traceback: an outage
    would log one per request), else a 500 with its traceback (a bug)."""
    if isinstance(exc, BodyTooLarge):
        return error_reply(413, "request_too_large", "The request body is too large.")
    if isinstance(exc, ClientDisconnect):
        # The client gave up (its own timeout) before its body was read: nobody will read this
        # answer, and it is not our failure, so one line and no traceback.
        log.info("client went away on %s %s before its request was read", method, path)
        return error_reply(400, "invalid_request", "The request was not received in full.")
    if isinstance(exc, UnstorableText):
        log.info("bad input on %s %s: %s", method, path, exc)
        return error_reply(400, "invalid_request", UNSTORABLE)
    if database_unavailable(exc):
        cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) and exc.__cause__ else exc
        log.warning("database unavailable on %s %s: %s", method, path, type(cause).__name__)
        return error_reply(503, "temporarily_unavailable", UNAVAILABLE, {"Retry-After": "1"})
    log.error("unhandled error on %s %s: %s", method, path, type(exc).__name__, exc_info=exc)
    return error_reply(500, "server_error", "An unexpected error occurred.")


_PAGE_TITLES = {
    400: "This request cannot be served", 413: "This request is too large",
    503: "Openplate is briefly unavailable", 500: "Something went wrong",
}
_PAGE_MESSAGES = {
    400: UNSTORABLE, 413: "The request body is too large.",
    503: "The service is briefly unavailable. Try again in a moment.",
    500: "An unexpected error occurred. It has been logged.",
}
_PAGE_CODES = {400: "invalid_request", 413: "request_too_large", 503: "temporarily_unavailable"}
_HTML = (b"content-type", b"text/html; charset=utf-8")


def failure_answer(scope: Scope, exc: Exception) -> Reply:
    """``failure_reply`` for any route: the JSON reply for API clients, or the same status as
    an HTML page for a browser (Accept names text/html). If the page cannot be rendered (the
    failure may be in the templates), a plain built-in page."""
    method, path = scope["method"], scope["path"]
    reply = failure_reply(exc, method, path)
    accept = next((value for name, value in scope.get("headers", ()) if name == b"accept"), b"")
    if b"text/html" not in accept:
        return reply
    title, message = _PAGE_TITLES[reply.status], _PAGE_MESSAGES[reply.status]
    extra = tuple(item for item in reply.headers if item[0] in (b"retry-after",))
    headers = (_HTML, *replies.NO_STORE, *extra)
    try:
        ctx: AppContext = scope["app"].state.ctx
        page = ctx.templates.get_template("error.html").render(
            user=None, csrf_token="", title=title, message=message,
            error_code=_PAGE_CODES.get(reply.status))
        return Reply(reply.status, page.encode(), headers)
    except Exception:  # noqa: BLE001 - the templates are what failed: answer without them
        log.warning("error page could not be rendered; answered with the built-in one")
        body = (f"<!doctype html><title>{html.escape(title)}</title><h1>{html.escape(title)}</h1>"
                f"<p>{html.escape(message)}</p>")
        return Reply(reply.status, body.encode(), headers)


async def refused(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, Refusal)
    return to_response(exc.reply)


async def unexpected(request: Request, exc: Exception) -> Response:
    """The last resort: what ``AccessLog`` could not answer itself (it answers the rest)."""
    return to_response(failure_answer(request.scope, exc))
