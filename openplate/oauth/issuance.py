"""RFC 6749 §5.1: minting an access token (and a refresh token) for a grant."""

from __future__ import annotations

from dataclasses import dataclass

from openplate.oauth.models import IssuedTokens
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    Digester,
    new_secret,
)


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    access_ttl: int = 3600
    refresh_ttl: int = 60 * 86_400
    code_ttl: int = 60
    #: A refresh token presented again this soon after its rotation gets the same successor
    #: (a client retrying after a lost answer, or two racing requests) instead of revoking.
    refresh_grace: int = 10


@dataclass(frozen=True, slots=True)
class TokenContext:
    """What a grant handler needs besides the store: the digester, the clock and the policy."""

    digester: Digester
    now: int
    policy: TokenPolicy


async def mint(
    store: OAuthStore,
    ctx: TokenContext,
    *,
    grant_id: int,
    client_pk: int,
    user_id: int,
    scope: str,
    with_refresh: bool = True,
    access_token: str | None = None,
    refresh_token: str | None = None,
) -> IssuedTokens:
    """Store the digests of new tokens for the grant and return the tokens themselves.

    ``access_token``/``refresh_token`` supply derived values instead of fresh random ones.
    """
    access = access_token or new_secret(ACCESS_TOKEN_PREFIX)
    expires = ctx.now + ctx.policy.access_ttl
    await store.tokens.create_access(
        digest=ctx.digester.digest(access), grant_id=grant_id, client_pk=client_pk,
        user_id=user_id, scope=scope, now=ctx.now, expires_at=expires,
    )
    refresh: str | None = None
    if with_refresh:
        refresh = refresh_token or new_secret(REFRESH_TOKEN_PREFIX)
        await store.tokens.create_refresh(
            digest=ctx.digester.digest(refresh), grant_id=grant_id, client_pk=client_pk,
            user_id=user_id, scope=scope, now=ctx.now, expires_at=ctx.now + ctx.policy.refresh_ttl,
        )
    await store.grants.touch(grant_id=grant_id, now=ctx.now)
    return IssuedTokens(
        access_token=access,
        expires=expires,
        expires_in=ctx.policy.access_ttl,
        refresh_token=refresh,
        scope=scope,
    )
