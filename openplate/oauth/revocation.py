"""RFC 7009: token revocation. A client may revoke only its own tokens; anything else is a no-op.

§2.2: "The authorization server responds with HTTP status code 200 if the token has been revoked
successfully or if the client submitted an invalid token."
"""

from __future__ import annotations

from openplate.oauth.client_auth import ClientCall, client_and_token
from openplate.oauth.issuance import TokenContext
from openplate.oauth.jwt_access import looks_like_access_token
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import REFRESH_TOKEN_PREFIX, plausible


async def revoke(call: ClientCall, store: OAuthStore, ctx: TokenContext) -> None:
    client, token = await client_and_token(call, store.clients, ctx.digester)
    # The token_type_hint only speeds the search up (§2.1); the prefix tells us the type anyway.
    if plausible(token, REFRESH_TOKEN_PREFIX):
        record = await store.tokens.find_refresh(digest=ctx.digester.digest(token))
        if record is not None and record.client_pk == client.pk:
            # §2.1: revoking a refresh token "SHOULD also invalidate all access tokens based on
            # the same authorization grant".
            await store.grants.revoke(grant_id=record.grant_id, now=ctx.now)
            await store.events.append(kind="token.revoked", now=ctx.now, user_id=record.user_id,
                                      client_id=client.client_id, detail={"type": "refresh_token"})
        return
    if not looks_like_access_token(token):
        return
    principal = await store.tokens.find_access(digest=ctx.digester.digest(token), now=ctx.now)
    if principal is not None and principal.client_pk == client.pk:
        await store.tokens.revoke_access(token_id=principal.token_id, now=ctx.now)
        await store.events.append(kind="token.revoked", now=ctx.now, user_id=principal.user_id,
                                  client_id=client.client_id, detail={"type": "access_token"})
