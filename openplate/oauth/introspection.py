"""RFC 7662: token introspection, for the client the token was issued to and no other.

§2.1: the caller must authenticate, so a public client (which has no secret) gets
``invalid_client``; its tokens are for it to use, not to ask about.

§2.2: a token that is unknown, expired, revoked, or another client's is reported as
``{"active": false}`` and nothing more.
"""

from __future__ import annotations

from openplate.oauth.client_auth import ClientCall, client_and_token
from openplate.oauth.issuance import TokenContext
from openplate.oauth.jwt_access import looks_like_access_token
from openplate.oauth.oidc.claims import subject
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import REFRESH_TOKEN_PREFIX, plausible

INACTIVE: dict[str, object] = {"active": False}


async def introspect(call: ClientCall, store: OAuthStore, ctx: TokenContext) -> dict[str, object]:
    client, token = await client_and_token(call, store.clients, ctx.digester,
                                           secret_required=True)
    if plausible(token, REFRESH_TOKEN_PREFIX):
        record = await store.tokens.find_refresh(digest=ctx.digester.digest(token))
        if (record is None or record.client_pk != client.pk or record.used or record.revoked
                or record.grant_revoked or record.expires_at <= ctx.now):
            return INACTIVE
        user_id, scope, exp, iat, kind = (record.user_id, record.scope, record.expires_at, None,
                                          "refresh_token")
        resource = record.resource
        profile = await store.users.profile(user_id)
    else:
        if not looks_like_access_token(token):
            return INACTIVE
        found = await store.tokens.find_access(digest=ctx.digester.digest(token), now=ctx.now)
        if found is None or found.client_pk != client.pk:
            return INACTIVE
        if found.for_client:  # client credentials: no user; the client is the subject
            return _answer(client.client_id, client.client_id, found.scope, found.expires_at,
                           found.issued_at, "Bearer", ctx, found.resource)
        user_id, scope, exp, iat, kind = (found.user_id, found.scope, found.expires_at,
                                          found.issued_at, "Bearer")
        resource = found.resource
        profile = found.user or await store.users.profile(user_id)
    answer = _answer(subject(user_id), client.client_id, scope, exp, iat, kind, ctx, resource)
    if profile is not None:
        answer["username"] = profile.username
    return answer


def _answer(sub: str, client_id: str, scope: str, exp: int, iat: int | None, kind: str,
            ctx: TokenContext, resource: str | None) -> dict[str, object]:
    """RFC 7662 §2.2; ``aud`` is the resources the token is for (RFC 8707), one string when
    there is one, as before."""
    audience = ctx.known_resources.audience(resource)
    aud: str | list[str] = audience[0] if len(audience) == 1 else list(audience)
    answer: dict[str, object] = {
        "active": True, "scope": scope, "client_id": client_id, "token_type": kind, "exp": exp,
        "sub": sub, "iss": ctx.issuer, "aud": aud,
    }
    if iat is not None:
        answer["iat"] = iat
    return answer
