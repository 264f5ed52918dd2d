"""RFC 6749 §3.2 and §5: the token endpoint — authenticate the client, dispatch on grant_type."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from openplate.oauth.client_auth import ClientCall, authenticate
from openplate.oauth.device import DEVICE_GRANT
from openplate.oauth.errors import (
    InvalidClient,
    InvalidRequest,
    UnauthorizedClient,
    UnsupportedGrantType,
)
from openplate.oauth.grants.authorization_code import redeem_code
from openplate.oauth.grants.client_credentials import client_token
from openplate.oauth.grants.device_code import redeem_device_code
from openplate.oauth.grants.refresh_token import refresh
from openplate.oauth.issuance import TokenContext
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore

GrantHandler = Callable[[Params, Client, OAuthStore, TokenContext], Awaitable[IssuedTokens]]

GRANTS: dict[str, GrantHandler] = {
    "authorization_code": redeem_code,
    "refresh_token": refresh,
    "client_credentials": client_token,
    DEVICE_GRANT: redeem_device_code,
}


def grant_type_of(params: Params) -> str:
    """The grant type, including the Biggerplate page's literal form.

    The page's table lists ``response_type=token`` and omits ``grant_type``; a client that
    followed it sends a code without a grant type, and it must succeed.
    """
    grant_type = params.get("grant_type")
    if grant_type is not None:
        return grant_type
    if params.get("code") is not None and params.get("response_type") in (None, "token"):
        return "authorization_code"
    raise InvalidRequest("grant_type is required.")


async def token_request(
    call: ClientCall, store: OAuthStore, ctx: TokenContext
) -> tuple[str, IssuedTokens]:
    """The grant type (for metrics) and the tokens issued."""
    params = call.params
    params.reject_duplicates()
    grant_type = grant_type_of(params)
    handler = GRANTS.get(grant_type)
    if handler is None:
        raise UnsupportedGrantType(f"grant_type '{grant_type[:40]}' is not supported.")
    client = await authenticate(call.credentials(), store.clients, ctx.digester)
    if client.disabled:  # after the secret was checked: only its holder learns this
        raise InvalidClient("This application is disabled.", detail="disabled application")
    if grant_type not in client.grant_types:
        raise UnauthorizedClient(f"This application may not use the {grant_type} grant.")
    return grant_type, await handler(params, client, store, ctx)
