"""RFC 6750 bearer tokens on the JSON API's routes: the header, the check, the refusal."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends
from fastapi.security import APIKeyHeader

from openplate.oauth import bearer
from openplate.oauth.errors import OAuthError
from openplate.oauth.models import AccessPrincipal
from openplate.store.unit import Store
from openplate.web.context import AppContext, now
from openplate.web.errors import bearer_error_reply
from openplate.web.replies import Refusal

authorization_header = APIKeyHeader(
    name="Authorization",
    auto_error=False,
    description="`Bearer <access token>` (RFC 6750), or the bare token as the original clients sent.",
)

Authorization = Annotated[str | None, Depends(authorization_header)]


class BearerRejected(Refusal):
    """The API call's token was missing, bad or too narrow; answered per RFC 6750 §3, with
    RFC 9728's ``resource_metadata`` when the caller names it."""

    def __init__(self, error: OAuthError, *, token_sent: bool,
                 resource_metadata: str | None = None) -> None:
        super().__init__(bearer_error_reply(error, token_sent=token_sent,
                                            resource_metadata=resource_metadata))


async def check_bearer(
    ctx: AppContext, store: Store, authorization: str | None, *, scope: str,
    user_only: bool = False, resource: str | None = None,
) -> AccessPrincipal:
    """The token's principal, inside the caller's transaction; BearerRejected otherwise.
    ``user_only`` refuses a client's own (client-credentials) token; ``resource`` is the
    resource being called (RFC 8707; the API unless named)."""
    called = resource or ctx.resources.api
    try:
        return await bearer.authenticate(
            authorization, store.tokens, ctx.digester, now=now(), scope=scope,
            user_only=user_only, resource=called, resources=ctx.resources,
        )
    except OAuthError as error:
        sent = bool(authorization and authorization.strip())
        raise BearerRejected(error, token_sent=sent,
                             resource_metadata=ctx.resource_metadata_url(called)) from None


async def optional_bearer(
    ctx: AppContext, store: Store, authorization: str | None, *, scope: str,
) -> AccessPrincipal | None:
    """For calls that need no token: None when none is sent; a token that is sent must be
    good and carry ``scope`` (else BearerRejected, as ``check_bearer``)."""
    if authorization is None or not authorization.strip():
        return None
    return await check_bearer(ctx, store, authorization, scope=scope)
