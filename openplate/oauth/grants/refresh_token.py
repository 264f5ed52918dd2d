"""RFC 6749 §6 and RFC 9700 §4.14.2: refreshing, with rotation, reuse detection and a grace window.

Each refresh retires the presented token and issues a successor. A retry inside the grace window
(a lost answer, or two racing requests) gets the same successor instead of an error: never two
live token families, never a revoked grant for the honest client. Outside the window, or once
the successor has been used, a retired token presented again revokes the whole grant.

The retry finds the successor through what the rotation stored, never by rebuilding the first
answer and looking it up (a JWT re-signed after a key rotation, on any node, has other bytes):

- the successor refresh token is derived from the presented one with the instance key and the
  stamp stored at rotation (``_successors``), so the retry gets the very same refresh token;
- that token's row holds the digest of the access token minted with it (``access_digest``), and
  the retry reads that access token's row: still live, its scope and times.

The retry's access token is that same token: for an opaque one, the same derived secret; for a
JWT, the same claims (``jti``, ``iat``, ``exp``, scope) signed with the key that signs now. With
the same key that is byte for byte the first answer (the signatures are deterministic); after a
rotation it is the same token re-signed, stored beside the first as another form of it (same
grant, same expiry), so either works with the bearer check and introspection until it expires or
the grant ends. The ID token, if any, is made anew (OIDC Core §12.2).
"""

from __future__ import annotations

from openplate.oauth import resources
from openplate.oauth.errors import InvalidDPoPProof, InvalidGrant, InvalidRequest, InvalidScope
from openplate.oauth.issuance import (
    TokenContext,
    TokenPolicy,
    access_token_for,
    id_token_for,
    mint,
    refresh_binding,
    token_type,
)
from openplate.oauth.models import LAST_USED_EVERY, Client, IssuedTokens, RefreshRecord
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore
from openplate.oauth.scopes import format_scope, parse_scope
from openplate.oauth.tokens import ACCESS_TOKEN_PREFIX, REFRESH_TOKEN_PREFIX, plausible


def _narrowed(requested: str | None, granted: str) -> str:
    """§6: "The requested scope MUST NOT include any scope not originally granted"."""
    scopes = parse_scope(requested, lenient_plus=True)
    if scopes is None:
        return granted
    allowed = granted.split(" ")
    if any(s not in allowed for s in scopes):
        raise InvalidScope("The requested scope exceeds the scope originally granted.")
    return format_scope([s for s in allowed if s in scopes])


def _successors(token: str, stamp: str | None, ctx: TokenContext) -> tuple[str, str]:
    derive = ctx.digester.derive
    access = derive(token, purpose="refresh-access", prefix=ACCESS_TOKEN_PREFIX, stamp=stamp)
    refresh = derive(token, purpose="refresh-refresh", prefix=REFRESH_TOKEN_PREFIX, stamp=stamp)
    return access, refresh


def retry_in_time(policy: TokenPolicy, rotated_at: int, now: int) -> bool:
    """Whether a retry of a rotation made at ``rotated_at`` gets its successors at ``now``.

    Within ``refresh_grace`` seconds of the rotation; and time when no server was answering
    does not count: a rotation among the last ones before this server started, no more than
    ``refresh_grace`` seconds before the newest (its answer may have been lost in a crash), gets
    the window again from when this server began answering, however long the outage. Every
    other rotated token presented again is reuse. Times are the server's clock, as the
    rotation's own ``used_at``.
    """
    if now - rotated_at <= policy.refresh_grace:
        return True
    last = policy.restart.last_activity
    return (last - policy.refresh_grace <= rotated_at <= last
            and now - policy.restart.serving_since <= policy.refresh_grace)


async def _replay_successors(
    record: RefreshRecord, token: str, client: Client, store: OAuthStore, ctx: TokenContext
) -> IssuedTokens | None:
    """The tokens this refresh already produced, if the retry is in time and they are untouched
    (see the module's docstring)."""
    if record.used_at is None or not retry_in_time(ctx.policy, record.used_at, ctx.now):
        return None
    access, refresh = _successors(token, record.successor_stamp, ctx)
    successor = await store.tokens.find_refresh(digest=ctx.digester.digest(refresh))
    if successor is None or successor.used or successor.revoked or successor.grant_revoked:
        return None
    first_digest = successor.access_digest or _digest_before_links(access, client, successor, ctx)
    first = await store.tokens.find_access(digest=first_digest, now=ctx.now)
    if first is None:  # revoked on its own, or expired: not a retry to answer
        return None
    answer = access_token_for(ctx, secret=access, client=client, user_id=first.user_id,
                              scope=first.scope, iat=first.issued_at, exp=first.expires_at,
                              resource=first.resource, jkt=first.jkt)
    answer_digest = ctx.digester.digest(answer)
    if answer_digest != first_digest:
        # A JWT, and the signing key changed since the rotation: the same token re-signed.
        await store.tokens.copy_access(source_digest=first_digest, digest=answer_digest)
        if await store.tokens.find_access(digest=answer_digest, now=ctx.now) is None:
            return None  # that copy was made by an earlier retry and revoked since
    id_token = await id_token_for(ctx, store, client=client, user_id=first.user_id,
                                  scope=first.scope, access_token=answer,
                                  auth_time=record.auth_time, nonce=None, amr=record.amr,
                                  sid=record.sid)
    return IssuedTokens(
        access_token=answer, expires=first.expires_at, expires_in=first.expires_at - ctx.now,
        refresh_token=refresh, scope=successor.scope, id_token=id_token,
        token_type=token_type(first.jkt),
    )


def _digest_before_links(
    access: str, client: Client, successor: RefreshRecord, ctx: TokenContext
) -> str:
    """The access token's digest for a successor minted before refresh tokens kept it (a
    rotation by an earlier release, in the grace window around an upgrade): what that release
    stored, found the way it looked it up."""
    value = access_token_for(ctx, secret=access, client=client, user_id=successor.user_id,
                             scope=successor.scope, iat=successor.issued_at,
                             exp=successor.issued_at + ctx.policy.access_ttl)
    return ctx.digester.digest(value)


async def _reuse(record: RefreshRecord, store: OAuthStore, ctx: TokenContext) -> InvalidGrant:
    # RFC 9700 §4.14.2: a rotated token presented again means it leaked; end the whole grant.
    await store.grants.revoke(grant_id=record.grant_id, now=ctx.now)
    await store.events.append(
        kind="refresh.reused", now=ctx.now, user_id=record.user_id,
        detail={"grant_id": record.grant_id},
    )
    return InvalidGrant("The refresh token was already used.", detail="refresh token reuse")


def _check_binding(record: RefreshRecord, ctx: TokenContext) -> None:
    """RFC 9449 §5: a refresh token bound to a DPoP key (a public client's) is used only with a
    proof of that key; checked before anything else is looked at, so that a stolen token,
    presented without the key, changes nothing (not even a reuse revocation)."""
    if record.jkt is None:
        return
    if ctx.proof is None:
        raise InvalidDPoPProof("This refresh token is bound to a DPoP key: send a DPoP proof.")
    if ctx.proof.jkt != record.jkt:
        raise InvalidGrant("The refresh token is bound to another DPoP key.",
                           detail="refresh token dpop key mismatch")


async def refresh(
    params: Params, client: Client, store: OAuthStore, ctx: TokenContext
) -> IssuedTokens:
    token = params.get("refresh_token")
    if token is None:
        raise InvalidRequest("refresh_token is required.")
    if not plausible(token, REFRESH_TOKEN_PREFIX):
        raise InvalidGrant("The refresh token is invalid.")
    digest = ctx.digester.digest(token)
    record = await store.tokens.find_refresh(digest=digest)
    if record is None or record.client_pk != client.pk:
        raise InvalidGrant("The refresh token is invalid.")
    if record.revoked or record.grant_revoked:
        raise InvalidGrant("The refresh token was revoked.")
    if record.expires_at <= ctx.now:
        raise InvalidGrant("The refresh token has expired.")
    _check_binding(record, ctx)
    if record.used:
        again = await _replay_successors(record, token, client, store, ctx)
        if again is not None:
            return again
        raise await _reuse(record, store, ctx)
    scope = _narrowed(params.get("scope"), record.scope)
    # RFC 8707 §2.2: a refresh may ask for some of the grant's resources.
    resource = resources.narrowed(resources.requested(params, ctx.known_resources),
                                  record.resource)
    stamp = ctx.digester.successor_stamp()
    if not await store.tokens.use_refresh(refresh_id=record.id, now=ctx.now, successor_stamp=stamp):
        # Another request rotated it between our read and our update (it has committed by now).
        raced = await store.tokens.find_refresh(digest=digest)
        again = await _replay_successors(raced, token, client, store, ctx) if raced else None
        if again is not None:
            return again
        raise InvalidGrant("The refresh token was already used.", detail="concurrent refresh")
    access, successor = _successors(token, stamp, ctx)
    # "Last used" is kept to the minute: a client refreshing often writes its grant's row once a
    # minute, not on every rotation (each write dirties a page of the grants table).
    last_used = record.grant_used_at
    issued = await mint(
        store, ctx, grant_id=record.grant_id, client=client, user_id=record.user_id,
        scope=scope, access_secret=access, refresh_token=successor, auth_time=record.auth_time,
        amr=record.amr, refresh_jkt=refresh_binding(client, ctx, record.jkt), sid=record.sid,
        touch=last_used is None or ctx.now - last_used >= LAST_USED_EVERY,
        resource=resource,
    )
    await store.events.append(
        kind="token.refreshed", now=ctx.now, user_id=record.user_id, client_id=client.client_id,
        detail={"grant_id": record.grant_id, "scope": scope},
    )
    return issued
