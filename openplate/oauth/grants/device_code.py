"""RFC 8628 §3.4–3.5: the device polls the token endpoint with its device code until the user
decides; the code gives tokens once."""

from __future__ import annotations

from openplate.oauth.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidGrant,
    InvalidRequest,
    SlowDown,
)
from openplate.oauth.issuance import TokenContext, mint
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.params import Params
from openplate.oauth.ports import OAuthStore
from openplate.oauth.tokens import DEVICE_CODE_PREFIX, plausible


async def redeem_device_code(
    params: Params, client: Client, store: OAuthStore, ctx: TokenContext
) -> IssuedTokens:
    code = params.get("device_code")
    if code is None:
        raise InvalidRequest("device_code is required.")
    if not plausible(code, DEVICE_CODE_PREFIX):
        raise InvalidGrant("The device code is invalid.")
    record = await store.device_codes.by_device_code(digest=ctx.digester.digest(code))
    if record is None or record.client_pk != client.pk:
        raise InvalidGrant("The device code is invalid.",
                           detail=None if record is None else "issued to another client")
    if record.used:
        raise InvalidGrant("The device code was already used.", detail="device code replay")
    if record.expires_at <= ctx.now:
        raise ExpiredToken("The device code has expired. Start again.")
    # §3.5 slow_down: "the interval MUST be increased by 5 seconds for this and all subsequent
    # requests". One statement decides, so of a parallel burst only one poll goes on.
    slower = await store.device_codes.pace(device_id=record.id, now=ctx.now)
    if slower is not None:
        raise SlowDown(f"Poll at most every {slower} seconds.")
    if record.status == "denied":
        raise DeviceAccessDenied("The user denied the request.")
    if record.status != "allowed":
        raise AuthorizationPending("The user has not decided yet.")
    consumed = await store.device_codes.consume(device_id=record.id, now=ctx.now)
    if consumed is None or consumed.user_id is None:
        # Spent by a racing poll, or its user or application was disabled meanwhile.
        raise InvalidGrant("The device code was already used.", detail="device code consumed")
    grant_id = await store.grants.create(
        user_id=consumed.user_id, client_pk=client.pk, scope=consumed.scope, now=ctx.now,
        auth_time=consumed.auth_time, used=True, amr=consumed.amr)
    issued = await mint(
        store, ctx, grant_id=grant_id, client=client, user_id=consumed.user_id,
        scope=consumed.scope, with_refresh="refresh_token" in client.grant_types,
        auth_time=consumed.auth_time, amr=consumed.amr, touch=False,
    )
    await store.events.append(
        kind="token.issued", now=ctx.now, user_id=consumed.user_id, client_id=client.client_id,
        detail={"grant_id": grant_id, "scope": consumed.scope, "grant_type": "device_code"},
    )
    return issued
