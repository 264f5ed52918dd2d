"""RFC 6749 §4.1.3: redeeming an authorisation code, once, for the client it was issued to."""

from __future__ import annotations

from openplate.oauth import pkce, resources
from openplate.oauth.errors import InvalidDPoPProof, InvalidGrant, InvalidRequest
from openplate.oauth.issuance import TokenContext, mint, refresh_binding
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import AUTHORIZATION_CODE_PREFIX, plausible


async def redeem_code(
    params: Params, client: Client, store: OAuthStore, ctx: TokenContext
) -> IssuedTokens:
    code = params.get("code")
    if code is None:
        raise InvalidRequest("code is required.")
    if not plausible(code, AUTHORIZATION_CODE_PREFIX):
        raise InvalidGrant("The authorization code is invalid.")
    digest = ctx.digester.digest(code)
    record = await store.codes.consume(digest=digest, now=ctx.now)
    if record is None:
        earlier = await store.codes.find(digest=digest)
        if earlier is not None and earlier.used and earlier.client_pk == client.pk:
            # RFC 6749 §4.1.2: "If an authorization code is used more than once, the
            # authorization server MUST deny the request and SHOULD revoke (when possible) all
            # tokens previously issued based on that authorization code."
            await store.grants.revoke(grant_id=earlier.grant_id, now=ctx.now)
            await store.events.append(
                kind="code.replayed", now=ctx.now, user_id=earlier.user_id,
                client_id=client.client_id, detail={"grant_id": earlier.grant_id},
            )
            raise InvalidGrant("The authorization code was already used.", detail="code replay")
        raise InvalidGrant("The authorization code is invalid.")
    if record.client_pk != client.pk:
        raise InvalidGrant("The authorization code is invalid.", detail="issued to another client")
    if record.expires_at <= ctx.now:
        raise InvalidGrant("The authorization code has expired.")
    # §4.1.3: "ensure that the "redirect_uri" parameter is present if [it] was included in the
    # initial authorization request ... and if included ensure that their values are identical."
    redirect_uri = params.get("redirect_uri")
    if redirect_uri is None:
        raise InvalidRequest("redirect_uri is required.")
    if redirect_uri != record.redirect_uri:
        raise InvalidGrant("redirect_uri does not match the authorization request.")
    pkce.verify(params.get("code_verifier"), record.code_challenge)
    resource = resources.narrowed(resources.requested(params, ctx.known_resources),
                                  record.resource)
    if record.dpop_jkt is not None:
        # RFC 9449 §10: the code is bound to the key the authorisation request's dpop_jkt named;
        # only a proof signed with that key redeems it.
        if ctx.proof is None:
            raise InvalidDPoPProof("This code is bound to a DPoP key: send a DPoP proof.")
        if ctx.proof.jkt != record.dpop_jkt:
            raise InvalidGrant("The DPoP proof's key is not the one the code is bound to.",
                               detail="dpop_jkt mismatch")
    issued = await mint(
        store, ctx, grant_id=record.grant_id, client=client, user_id=record.user_id,
        scope=record.scope, auth_time=record.auth_time, nonce=record.nonce, amr=record.amr,
        # A refresh token only for a client that may use one (RFC 7591 §2 grant_types).
        with_refresh="refresh_token" in client.grant_types,
        resource=resource, refresh_jkt=refresh_binding(client, ctx), sid=record.sid,
    )
    await store.events.append(
        kind="token.issued", now=ctx.now, user_id=record.user_id, client_id=client.client_id,
        detail={"grant_id": record.grant_id, "scope": record.scope},
    )
    return issued
