"""MCP 2025-11-25 Authorization §"Access Token Usage" and RFC 6750 §3: every request to /mcp
carries an Openplate access token asked for /mcp (RFC 8707), checked by the API's own code
(oauth/bearer.py).

"MCP servers MUST validate access tokens as described in OAuth 2.1 Section 5.2" and answer a
missing or bad one with 401: the challenge is built in ``challenge`` alone. What the token
lets its caller do is decided per tool (library.py) from ``Caller``: the scopes the token
carries and whether a user granted it.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from starlette.datastructures import Headers
from starlette.types import ASGIApp, Receive, Scope, Send

from openplate.oauth import bearer
from openplate.oauth.errors import InvalidRequest, OAuthError
from openplate.oauth.models import AccessPrincipal
from openplate.oauth.scopes import covers
from openplate.web.context import AppContext, now
from openplate.web.errors import bearer_challenge, error_reply, method_not_allowed_reply
from openplate.web.replies import Reply, to_response

#: Where the endpoint leaves the caller in the ASGI scope for the tool handlers.
CALLER_KEY = "openplate.mcp.caller"


def challenge(ctx: AppContext, error: OAuthError, *, token_sent: bool) -> str:
    """The ``WWW-Authenticate`` value of a refused /mcp request (RFC 6750 §3), naming the MCP
    endpoint's metadata (RFC 9728 §5.1: "resource_metadata"), where a client learns which
    authorisation server to get a token from. The one place it is built."""
    return bearer_challenge(error, token_sent=token_sent,
                            resource_metadata=ctx.resource_metadata_url(ctx.resources.mcp))


def refusal(ctx: AppContext, error: OAuthError, *, token_sent: bool) -> Reply:
    return error_reply(error.status, error.error, error.description,
                       {"WWW-Authenticate": challenge(ctx, error, token_sent=token_sent)})


@dataclass(frozen=True, slots=True)
class Caller:
    """Who a request speaks for: the token's principal, and what its scopes open."""

    principal: AccessPrincipal

    @property
    def is_user(self) -> bool:
        """A user granted the token (not a client's own client-credentials token)."""
        return not self.principal.for_client

    def has(self, scope: str) -> bool:
        return covers(self.principal.scope, scope)

    @property
    def library_user(self) -> int | None:
        """The user whose private maps this caller may see and whose library it may change:
        a user's token with ``maps``; None otherwise (public and unlisted maps only)."""
        return self.principal.user_id if self.is_user and self.has("maps") else None


def _same_origin(origin: str, base_url: str) -> bool:
    mine = urlsplit(base_url)
    theirs = urlsplit(origin)
    return (theirs.scheme, theirs.netloc) == (mine.scheme, mine.netloc)


class McpEndpoint:
    """The ASGI endpoint at /mcp: POST only, a good token, a same-site or absent Origin; then
    the SDK's Streamable HTTP handler, with the ``Caller`` in the scope."""

    def __init__(self, ctx: AppContext, inner: ASGIApp) -> None:
        self.ctx = ctx
        self.inner = inner

    async def _answer(self, reply: Reply, scope: Scope, receive: Receive, send: Send) -> None:
        await to_response(reply)(scope, receive, send)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        headers = Headers(scope=scope)
        if scope["method"] != "POST":
            # Stateless: no server-sent event stream to GET and no session to DELETE (Streamable
            # HTTP: "or else return HTTP 405 Method Not Allowed").
            reply = method_not_allowed_reply(self.ctx, scope["method"], headers.get("accept", ""),
                                             "POST")
            await self._answer(reply, scope, receive, send)
            return
        origin = headers.get("origin")
        if origin is not None and not _same_origin(origin, self.ctx.settings.base_url):
            # Streamable HTTP: "If the Origin header is present and invalid, servers MUST
            # respond with HTTP 403 Forbidden."
            await self._answer(error_reply(403, "forbidden", "This Origin may not call /mcp."),
                               scope, receive, send)
            return
        authorizations = headers.getlist("authorization")
        authorization = authorizations[0] if authorizations else None
        sent = bool(authorization and authorization.strip())
        try:
            if len(authorizations) > 1:
                raise InvalidRequest("Send one Authorization header.")
            async with self.ctx.db.transaction(readonly=True) as store:
                # RFC 8707: a token asked for the API (or for no resource) does not open /mcp.
                principal = await bearer.authenticate(
                    authorization, store.tokens, self.ctx.digester, now=now(), scope=None,
                    resource=self.ctx.resources.mcp, resources=self.ctx.resources)
        except OAuthError as error:
            await self._answer(refusal(self.ctx, error, token_sent=sent), scope, receive, send)
            return
        await self.inner({**scope, CALLER_KEY: Caller(principal)}, receive, send)
