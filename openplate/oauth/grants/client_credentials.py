"""RFC 6749 §4.4: a confidential client asking for a token for itself.

The token speaks for the client: as a JWT its ``sub`` is the client's id (RFC 9068 §2.2), and
introspection says the same; the API never takes it for a user (``/users/me`` and UserInfo
refuse it). In the library it acts for the application's owner (uploads are theirs). It carries
only the scopes that make sense without a user signing in, and comes without a refresh token
(§4.4.3: "A refresh token SHOULD NOT be included").
"""

from __future__ import annotations

from openplate.oauth import resources
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
    owner = client.owner_id
    if owner is None:  # registered itself with no owner: its tokens would speak for nobody
        raise UnauthorizedClient("An application without an owner cannot use the "
                                 "client_credentials grant.")
    scopes = parse_scope(params.get("scope")) or CLIENT_SCOPES
    outside = [s for s in scopes if s not in CLIENT_SCOPES]
    if outside:
        raise InvalidScope(f"Scope '{outside[0]}' needs a user; client tokens may have: "
                           + format_scope(list(CLIENT_SCOPES)) + ".")
    scope = format_scope(scopes)
    resource = " ".join(resources.requested(params, ctx.known_resources)) or None
    grant_id = await store.grants.for_client(
        user_id=owner, client_pk=client.pk, scope=scope, now=ctx.now
    )
    return await mint(store, ctx, grant_id=grant_id, client=client, user_id=owner,
                      scope=scope, with_refresh=False, touch=False, for_client=True,
                      resource=resource)
