"""RFC 6749 §4.4: a confidential client asking for a token for itself.

The token acts as the application's owner in the library (uploads are theirs), carries only the
scopes that make sense without a user signing in, and comes without a refresh token (§4.4.3:
"A refresh token SHOULD NOT be included").
"""

from __future__ import annotations

from openplate.oauth.errors import InvalidScope, UnauthorizedClient
from openplate.oauth.issuance import TokenContext, mint
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore
from openplate.oauth.scopes import CLIENT_SCOPES, format_scope, parse_scope


async def client_token(
    params: Params, client: Client, store: OAuthStore, ctx: TokenContext
) -> IssuedTokens:
    if client.is_public:
        raise UnauthorizedClient("A public client cannot use the client_credentials grant.")
    scopes = parse_scope(params.get("scope")) or CLIENT_SCOPES
    outside = [s for s in scopes if s not in CLIENT_SCOPES]
    if outside:
        raise InvalidScope(f"Scope '{outside[0]}' needs a user; client tokens may have: "
                           + format_scope(list(CLIENT_SCOPES)) + ".")
    scope = format_scope(scopes)
    grant_id = await store.grants.for_client(
        user_id=client.owner_id, client_pk=client.pk, scope=scope, now=ctx.now
    )
    return await mint(store, ctx, grant_id=grant_id, client=client, user_id=client.owner_id,
                      scope=scope, with_refresh=False, touch=False)
