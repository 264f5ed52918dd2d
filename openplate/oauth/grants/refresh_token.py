"""RFC 6749 §6 and RFC 9700 §4.14.2: refreshing, with rotation and reuse detection."""

from __future__ import annotations

from openplate.oauth.errors import InvalidGrant, InvalidRequest, InvalidScope
from openplate.oauth.issuance import TokenContext, mint
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore
from openplate.oauth.scopes import format_scope, parse_scope
from openplate.oauth.tokens import REFRESH_TOKEN_PREFIX, plausible


def _narrowed(requested: str | None, granted: str) -> str:
    """§6: "The requested scope MUST NOT include any scope not originally granted"."""
    scopes = parse_scope(requested, lenient_plus=True)
    if scopes is None:
        return granted
    allowed = granted.split(" ")
    if any(s not in allowed for s in scopes):
        raise InvalidScope("The requested scope exceeds the scope originally granted.")
    return format_scope([s for s in allowed if s in scopes])


async def refresh(
    params: Params, client: Client, store: OAuthStore, ctx: TokenContext
) -> IssuedTokens:
    token = params.get("refresh_token")
    if token is None:
        raise InvalidRequest("refresh_token is required.")
    if not plausible(token, REFRESH_TOKEN_PREFIX):
        raise InvalidGrant("The refresh token is invalid.")
    record = await store.tokens.find_refresh(digest=ctx.digester.digest(token))
    if record is None or record.client_pk != client.pk:
        raise InvalidGrant("The refresh token is invalid.")
    if record.revoked or record.grant_revoked:
        raise InvalidGrant("The refresh token was revoked.")
    if record.expires_at <= ctx.now:
        raise InvalidGrant("The refresh token has expired.")
    if record.used:
        # RFC 9700 §4.14.2: a rotated token presented again means it leaked; end the whole grant.
        await store.grants.revoke(grant_id=record.grant_id, now=ctx.now)
        raise InvalidGrant("The refresh token was already used.", detail="refresh token reuse")
    scope = _narrowed(params.get("scope"), record.scope)
    if not await store.tokens.use_refresh(refresh_id=record.id, now=ctx.now):
        raise InvalidGrant("The refresh token was already used.", detail="concurrent refresh")
    return await mint(
        store, ctx, grant_id=record.grant_id, client_pk=client.pk, user_id=record.user_id,
        scope=scope,
    )
