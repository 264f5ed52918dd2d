"""RFC 6749 §5.1: minting an access token (opaque or RFC 9068 JWT), a refresh token and, for
OpenID Connect, an ID token."""

from __future__ import annotations

from dataclasses import dataclass, field

from openplate.oauth.dpop import DPoPProof
from openplate.oauth.jwt_access import build_access_jwt, jti_for
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.oidc.claims import subject, user_claims
from openplate.oauth.oidc.id_token import Signers, build_id_token
from openplate.oauth.ports import OAuthStore
from openplate.oauth.resources import Resources
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
    #: RFC 8628 §3.2: the device code's lifetime (expires_in) and the polling interval.
    device_code_ttl: int = 600
    device_interval: int = 5
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
    #: RFC 8707: the resources tokens may be asked for (None: only the API, ``audience``).
    resources: Resources | None = None
    #: The request's DPoP proof (RFC 9449), checked by the web layer before the unit of work
    #: (signature, method, URL, time, nonce, replay); None when the request carried none.
    proof: DPoPProof | None = None

    @property
    def known_resources(self) -> Resources:
        return self.resources or Resources(api=self.audience)


def token_type(jkt: str | None) -> str:
    """RFC 9449 §5: "DPoP" for a token bound to a key, else RFC 6750's "Bearer"."""
    return "DPoP" if jkt is not None else "Bearer"


def access_token_for(
    ctx: TokenContext, *, secret: str, client: Client, user_id: int, scope: str, iat: int,
    exp: int, for_client: bool = False, resource: str | None = None, jkt: str | None = None,
) -> str:
    """The access token handed out for a stored ``secret``: the secret itself, or a JWT.

    A client's own token (``for_client``, client credentials) has the client as its ``sub``
    (RFC 9068 §2.2: "an identifier the authorization server uses to indicate the client
    application"); any other has the user's. A DPoP-bound JWT names its key (``cnf.jkt``).
    """
    if ctx.policy.access_format != "jwt" or ctx.signer is None:
        return secret
    audience = list(ctx.known_resources.audience(resource))
    return build_access_jwt(
        ctx.signer, issuer=ctx.issuer, audience=audience[0] if len(audience) == 1 else audience,
        jti=jti_for(secret),
        subject=client.client_id if for_client else subject(user_id), client_id=client.client_id,
        scope=scope, iat=iat, exp=exp, jkt=jkt,
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
    resource: str | None = None,
    refresh_jkt: str | None = None,
) -> IssuedTokens:
    """Store the digests of new tokens for the grant and return the tokens themselves.

    ``access_secret``/``refresh_token`` supply derived values instead of fresh random ones;
    ``for_client`` marks a client's own token (client credentials; see ``access_token_for``);
    ``resource``: the RFC 8707 resources the access token is for (None: the API).
    The access token is bound to the request's DPoP key, if it sent a proof (RFC 9449 §5);
    the refresh token to ``refresh_jkt`` (a public client's key; see ``refresh_binding``).
    """
    jkt = ctx.proof.jkt if ctx.proof is not None else None
    secret = access_secret or ctx.digester.mint(ACCESS_TOKEN_PREFIX)
    expires = ctx.now + ctx.policy.access_ttl
    access = access_token_for(ctx, secret=secret, client=client, user_id=user_id, scope=scope,
                              iat=ctx.now, exp=expires, for_client=for_client,
                              resource=resource, jkt=jkt)
    access_digest = ctx.digester.digest(access)
    await store.tokens.create_access(
        digest=access_digest, grant_id=grant_id, client_pk=client.pk,
        user_id=user_id, scope=scope, now=ctx.now, expires_at=expires, resource=resource,
        jkt=jkt,
    )
    refresh: str | None = None
    if with_refresh:
        refresh = refresh_token or ctx.digester.mint(REFRESH_TOKEN_PREFIX)
        await store.tokens.create_refresh(
            digest=ctx.digester.digest(refresh), grant_id=grant_id, client_pk=client.pk,
            user_id=user_id, scope=scope, now=ctx.now, expires_at=ctx.now + ctx.policy.refresh_ttl,
            access_digest=access_digest, jkt=refresh_jkt,
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
        token_type=token_type(jkt),
    )


def refresh_binding(client: Client, ctx: TokenContext, bound: str | None = None) -> str | None:
    """The DPoP key a new refresh token is bound to: the one its predecessor was bound to, else
    a public client's proof key. RFC 9449 §5: "When an authorization server supporting DPoP
    issues a refresh token to a public client that presents a valid DPoP proof at the token
    endpoint, the refresh token MUST be bound to the respective public key." A confidential
    client's is not ("already sender-constrained" by its authentication)."""
    if bound is not None:
        return bound
    if client.is_public and ctx.proof is not None:
        return ctx.proof.jkt
    return None


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
