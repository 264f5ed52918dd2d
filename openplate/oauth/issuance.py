"""RFC 6749 §5.1: minting an access token (opaque or RFC 9068 JWT), a refresh token and, for
OpenID Connect, an ID token."""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.oauth.jwt_access import build_access_jwt, jti_for
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.oidc.claims import subject, user_claims
from openplate.oauth.oidc.id_token import Signers, build_id_token
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import (
    ACCESS_TOKEN_PREFIX,
    REFRESH_TOKEN_PREFIX,
    Digester,
)


@dataclass(slots=True)
class RestartMarks:
    """What the server knew when it began answering (set once at start, then read only): that
    moment, and the newest refresh-token rotation or issue in the database then (the last
    activity before this process: if it crashed, its answers of the last moments may be lost).
    Zero until set: no rotation gets a window from a restart."""

    serving_since: int = 0
    last_activity: int = 0


@dataclass(frozen=True, slots=True)
class TokenPolicy:
    access_ttl: int = 3600
    refresh_ttl: int = 60 * 86_400
    code_ttl: int = 60
    #: A refresh token presented again this soon after its rotation gets the same successor
    #: (a client retrying after a lost answer, or two racing requests) instead of revoking.
    refresh_grace: int = 10
    #: "opaque" (the default) or "jwt" (RFC 9068).
    access_format: str = "opaque"
    id_token_ttl: int = 3600
    restart: RestartMarks = field(default_factory=RestartMarks)


@dataclass(frozen=True, slots=True)
class TokenContext:
    """What a grant handler needs besides the store: keys, the clock, the policy, who we are."""

    digester: Digester
    now: int
    policy: TokenPolicy
    issuer: str = "http://localhost"
    audience: str = "http://localhost"
    #: The key ring: it signs JWT access tokens with the default algorithm, and each client's ID
    #: tokens with the algorithm the client chose (``Client.id_token_alg``).
    signer: Signers | None = None


def access_token_for(
    ctx: TokenContext, *, secret: str, client: Client, user_id: int, scope: str, iat: int,
    exp: int, for_client: bool = False,
) -> str:
    """The access token handed out for a stored ``secret``: the secret itself, or a JWT.

    A client's own token (``for_client``, client credentials) has the client as its ``sub``
    (RFC 9068 §2.2: "an identifier the authorization server uses to indicate the client
    application"); any other has the user's.
    """
    if ctx.policy.access_format != "jwt" or ctx.signer is None:
        return secret
    return build_access_jwt(
        ctx.signer, issuer=ctx.issuer, audience=ctx.audience, jti=jti_for(secret),
        subject=client.client_id if for_client else subject(user_id), client_id=client.client_id,
        scope=scope, iat=iat, exp=exp,
    )


async def mint(
    store: OAuthStore,
    ctx: TokenContext,
    *,
    grant_id: int,
    client: Client,
    user_id: int,
    scope: str,
    with_refresh: bool = True,
    access_secret: str | None = None,
    refresh_token: str | None = None,
    auth_time: int | None = None,
    nonce: str | None = None,
    amr: str | None = None,
    sid: str | None = None,
    touch: bool = True,
    for_client: bool = False,
) -> IssuedTokens:
    """Store the digests of new tokens for the grant and return the tokens themselves.

    ``access_secret``/``refresh_token`` supply derived values instead of fresh random ones;
    ``for_client`` marks a client's own token (client credentials; see ``access_token_for``).
    """
    secret = access_secret or ctx.digester.mint(ACCESS_TOKEN_PREFIX)
    expires = ctx.now + ctx.policy.access_ttl
    access = access_token_for(ctx, secret=secret, client=client, user_id=user_id, scope=scope,
                              iat=ctx.now, exp=expires, for_client=for_client)
    access_digest = ctx.digester.digest(access)
    await store.tokens.create_access(
        digest=access_digest, grant_id=grant_id, client_pk=client.pk,
        user_id=user_id, scope=scope, now=ctx.now, expires_at=expires,
    )
    refresh: str | None = None
    if with_refresh:
        refresh = refresh_token or ctx.digester.mint(REFRESH_TOKEN_PREFIX)
        await store.tokens.create_refresh(
            digest=ctx.digester.digest(refresh), grant_id=grant_id, client_pk=client.pk,
            user_id=user_id, scope=scope, now=ctx.now, expires_at=ctx.now + ctx.policy.refresh_ttl,
            access_digest=access_digest,
        )
    if touch:  # "last used" on /account/apps; a grant created just now already says so
        await store.grants.touch(grant_id=grant_id, now=ctx.now)
    id_token = await id_token_for(ctx, store, client=client, user_id=user_id, scope=scope,
                                  access_token=access, auth_time=auth_time, nonce=nonce, amr=amr,
                                  sid=sid)
    return IssuedTokens(
        access_token=access,
        expires=expires,
        expires_in=ctx.policy.access_ttl,
        refresh_token=refresh,
        scope=scope,
        id_token=id_token,
    )


async def id_token_for(
    ctx: TokenContext, store: OAuthStore, *, client: Client, user_id: int, scope: str,
    access_token: str, auth_time: int | None, nonce: str | None, amr: str | None = None,
    sid: str | None = None,
) -> str | None:
    """An ID token when the grant has the openid scope (OIDC Core §3.1.3.3), else None; signed
    with the client's ``id_token_signed_response_alg`` (the deployment's default if it chose none)."""
    scopes = scope.split()
    if "openid" not in scopes or ctx.signer is None:
        return None
    profile = await store.users.profile(user_id)
    if profile is None:
        return None
    return build_id_token(
        ctx.signer.for_alg(client.id_token_alg), issuer=ctx.issuer, client_id=client.client_id,
        claims=user_claims(profile, scopes), now=ctx.now, ttl=ctx.policy.id_token_ttl,
        auth_time=auth_time, nonce=nonce, access_token=access_token, amr=amr, sid=sid,
    )
