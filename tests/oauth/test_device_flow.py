"""RFC 8628 through the core alone, over the in-memory store: device authorization → the user
types the code and decides → polling (authorization_pending, slow_down, access_denied,
expired_token) → tokens once."""

from __future__ import annotations

import warnings
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet

from openplate.oauth import device
from openplate.oauth.client_auth import ClientCall
from openplate.oauth.device import (
    DEVICE_GRANT,
    USER_CODE_ALPHABET,
    DeviceAuthorization,
    UserCodeRefused,
    authorize_device,
    normalize_user_code,
    show_user_code,
)
from openplate.oauth.errors import (
    AuthorizationPending,
    DeviceAccessDenied,
    ExpiredToken,
    InvalidClient,
    InvalidGrant,
    InvalidRequest,
    InvalidScope,
    OAuthError,
    SlowDown,
    UnauthorizedClient,
)
from openplate.oauth.issuance import TokenPolicy
from openplate.oauth.models import Client, IssuedTokens
from openplate.oauth.oidc.keys import AlgKey, KeyRing, generate, load_private
from openplate.oauth.params import Params
from openplate.oauth.tokens import DEVICE_CODE_PREFIX
from tests.oauth.memory_flows import DIGESTER, ISSUER, SECRET, T0, Site

DEVICE_GRANTS = ("authorization_code", "refresh_token", DEVICE_GRANT)


def _site(*, signer: KeyRing | None = None, policy: TokenPolicy | None = None) -> Site:
    site = Site.make(signer=signer, policy=policy)
    site.app = site.db.add_client(owner_id=site.alice.id, secret=SECRET,
                                  grant_types=DEVICE_GRANTS, name="Living-room TV")
    return site


async def _start(site: Site, form: dict[str, str] | None = None, *, now: int = T0,
                 client: Client | None = None,
                 secret: str | None = SECRET) -> DeviceAuthorization | OAuthError:
    call = site.call(form or {}, client=client, secret=secret)
    async with site.db.transaction() as store:
        try:
            return await authorize_device(call, store, site.context(now))
        except OAuthError as error:
            return error


async def _started(site: Site, form: dict[str, str] | None = None, **kw: object) -> DeviceAuthorization:
    started = await _start(site, form, **kw)  # type: ignore[arg-type]
    assert isinstance(started, DeviceAuthorization), started
    return started


async def _decide(site: Site, user_code: str, *, allow: bool, now: int = T0 + 1,
                  user_id: int | None = None) -> None:
    user_id = user_id or site.alice.id
    async with site.db.transaction() as store:
        record = await device.enter_user_code(store, DIGESTER, user_code, user_id=user_id, now=now)
        again = await device.claimed(store, record.id, user_id=user_id, now=now)
        await device.decide(store, again, user_id=user_id, allow=allow, now=now,
                            auth_time=now - 30, amr="pwd")


def _poll(started: DeviceAuthorization) -> dict[str, str]:
    return {"grant_type": DEVICE_GRANT, "device_code": started.device_code}


async def test_the_response_has_every_member_of_section_3_2() -> None:
    site = _site()
    started = await _started(site, {"scope": "openid account"})
    body = started.to_json()
    assert set(body) == {"device_code", "user_code", "verification_uri",
                         "verification_uri_complete", "expires_in", "interval"}
    assert started.device_code.startswith(DEVICE_CODE_PREFIX)
    assert body["verification_uri"] == ISSUER + "/device"
    assert body["verification_uri_complete"] == f"{ISSUER}/device?user_code={started.user_code}"
    assert (body["expires_in"], body["interval"]) == (600, 5)
    letters = started.user_code.replace("-", "")
    assert len(started.user_code) == 9 and started.user_code[4] == "-"
    assert len(letters) == 8 and set(letters) <= set(USER_CODE_ALPHABET)


async def test_codes_are_stored_only_as_digests() -> None:
    site = _site()
    started = await _started(site)
    rows = list(site.db._tables.devices.rows.values())
    assert len(rows) == 1
    stored = repr(rows[0])
    assert started.device_code not in stored
    assert started.user_code.replace("-", "") not in stored
    assert rows[0].device_digest == DIGESTER.digest(started.device_code)


def test_user_codes_are_compared_without_case_dashes_or_spaces() -> None:
    assert normalize_user_code("bcdf-ghjk") == "BCDFGHJK"
    assert normalize_user_code(" BCDF GHJK ") == "BCDFGHJK"
    assert normalize_user_code("bc-df-gh-jk") == "BCDFGHJK"
    for wrong in ("BCDFGHJ", "BCDFGHJKL", "ABCDEFGH", "BCDF-GHJ1", "", None, "B" * 100):
        assert normalize_user_code(wrong) is None
    assert show_user_code("BCDFGHJK") == "BCDF-GHJK"


async def test_pending_then_allowed_gives_tokens_once() -> None:
    site = _site()
    started = await _started(site)
    pending = await site.token(_poll(started), now=T0 + 5)
    assert isinstance(pending, AuthorizationPending)
    await _decide(site, started.user_code.lower(), allow=True, now=T0 + 6)
    issued = await site.tokens(_poll(started), now=T0 + 10)
    assert issued.scope == "account maps" and issued.refresh_token is not None
    assert issued.id_token is None
    principal = await site.bearer(issued.access_token, now=T0 + 11)
    assert not isinstance(principal, OAuthError) and principal.user_id == site.alice.id
    again = await site.token(_poll(started), now=T0 + 20)
    assert isinstance(again, InvalidGrant) and "already used" in again.description
    refreshed = await site.tokens({"grant_type": "refresh_token",
                                   "refresh_token": issued.refresh_token}, now=T0 + 30)
    assert refreshed.scope == "account maps"


async def test_polling_faster_than_the_interval_slows_down_by_five_seconds() -> None:
    site = _site()
    started = await _started(site)
    assert isinstance(await site.token(_poll(started), now=T0 + 1), AuthorizationPending)
    fast = await site.token(_poll(started), now=T0 + 3)
    assert isinstance(fast, SlowDown) and "10 seconds" in fast.description
    # §3.5: "for this and all subsequent requests": 5 s after is now too early too.
    assert isinstance(await site.token(_poll(started), now=T0 + 8), SlowDown)
    interval = (await _record(site, started)).interval
    assert interval == 15
    assert isinstance(await site.token(_poll(started), now=T0 + 8 + interval),
                      AuthorizationPending)
    await _decide(site, started.user_code, allow=True, now=T0 + 30)
    # Approval does not lift the pace: a fast poll after it is slowed down, not served.
    assert isinstance(await site.token(_poll(started), now=T0 + 31), SlowDown)
    assert isinstance(await site.token(_poll(started), now=T0 + 31 + 20), IssuedTokens)


async def _record(site: Site, started: DeviceAuthorization):  # type: ignore[no-untyped-def]
    async with site.db.transaction(readonly=True) as store:
        record = await store.device_codes.by_device_code(digest=DIGESTER.digest(started.device_code))
    assert record is not None
    return record


async def test_denied_and_expired() -> None:
    site = _site()
    denied = await _started(site)
    await _decide(site, denied.user_code, allow=False)
    refused = await site.token(_poll(denied), now=T0 + 5)
    assert isinstance(refused, DeviceAccessDenied)
    assert refused.error == "access_denied" and refused.status == 400
    late = await _started(site)
    expired = await site.token(_poll(late), now=T0 + 600)
    assert isinstance(expired, ExpiredToken) and expired.error == "expired_token"
    async with site.db.transaction() as store:
        with pytest.raises(UserCodeRefused, match="expired"):
            await device.enter_user_code(store, DIGESTER, late.user_code, user_id=site.alice.id,
                                         now=T0 + 600)


async def test_the_user_side_refuses_wrong_used_and_unclaimed_codes() -> None:
    site = _site()
    bob = site.db.add_user("bob")
    started = await _started(site)
    async with site.db.transaction() as store:
        with pytest.raises(UserCodeRefused, match="not right"):
            await device.enter_user_code(store, DIGESTER, "BCDF-GHJK"
                                         if started.user_code != "BCDF-GHJK" else "ZZZZ-ZZZZ",
                                         user_id=site.alice.id, now=T0 + 1)
        record = await device.enter_user_code(store, DIGESTER, started.user_code,
                                              user_id=site.alice.id, now=T0 + 1)
        # Bob never typed the code: he can neither see nor decide alice's confirmation.
        with pytest.raises(UserCodeRefused):
            await device.claimed(store, record.id, user_id=bob.id, now=T0 + 2)
        assert not await store.device_codes.decide(device_id=record.id, user_id=bob.id,
                                                   allow=True, now=T0 + 2, auth_time=None,
                                                   amr=None)
    await _decide(site, started.user_code, allow=True, now=T0 + 3)
    async with site.db.transaction() as store:
        with pytest.raises(UserCodeRefused, match="already used"):
            await device.enter_user_code(store, DIGESTER, started.user_code,
                                         user_id=site.alice.id, now=T0 + 4)
        with pytest.raises(UserCodeRefused, match="already used"):
            await device.decide(store, replace(record, status="pending"), user_id=site.alice.id,
                                allow=False, now=T0 + 4, auth_time=None, amr=None)


async def test_the_client_must_authenticate_and_have_opted_in() -> None:
    site = _site()
    assert isinstance(await _start(site, secret="opcs_wrong"), InvalidClient)
    plain = site.db.add_client(owner_id=site.alice.id, secret="opcs_plain",
                               redirect_uris=["https://app.example/cb"])
    refused = await _start(site, client=plain, secret="opcs_plain")
    assert isinstance(refused, UnauthorizedClient) and "device" in refused.description
    assert isinstance(await _start(site, {"scope": "nothing-known"}), InvalidScope)
    duplicated = site.call({}, secret=SECRET)
    duplicated = ClientCall(Params({"scope": "account"}, frozenset({"scope"})),
                            duplicated.authorization)
    async with site.db.transaction() as store:
        with pytest.raises(InvalidRequest):
            await authorize_device(duplicated, store, site.context(T0))
    # Another client's device code is no good to this one, nor a code of the wrong shape.
    started = await _started(site)
    other = site.db.add_client(owner_id=site.alice.id, secret="opcs_other",
                               grant_types=DEVICE_GRANTS)
    stolen = await site.token(_poll(started), now=T0 + 1, client=other, secret="opcs_other")
    assert isinstance(stolen, InvalidGrant)
    for bad in ({"grant_type": DEVICE_GRANT}, {"grant_type": DEVICE_GRANT, "device_code": "x"}):
        answer = await site.token(bad, now=T0 + 1)
        assert isinstance(answer, InvalidRequest if "device_code" not in bad else InvalidGrant)


async def test_a_public_client_without_refresh_gets_an_id_token_and_no_refresh_token() -> None:
    key = generate("RS256")
    ring = KeyRing.build(signing={"RS256": AlgKey(key.kid, "RS256", load_private(key.private_pem))},
                         default_alg="RS256", published=[key.public_jwk])
    site = _site(signer=ring, policy=TokenPolicy(device_interval=1, device_code_ttl=120))
    tv = site.db.add_client(owner_id=site.alice.id, grant_types=(DEVICE_GRANT,))
    started = await _started(site, {"scope": "openid profile"}, client=tv, secret=None)
    assert (started.interval, started.expires_in) == (1, 120)
    await _decide(site, started.user_code, allow=True, now=T0 + 2)
    issued = await site.tokens(_poll(started), now=T0 + 3, client=tv, secret=None)
    assert issued.refresh_token is None and issued.scope == "openid profile"
    assert issued.id_token is not None
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        claims = jwt.decode(issued.id_token, KeySet.import_key_set({"keys": [key.public_jwk]}),
                            algorithms=["RS256"]).claims
    assert (claims["sub"], claims["aud"], claims["auth_time"]) == (
        str(site.alice.id), tv.client_id, T0 + 2 - 30)
    assert claims["amr"] == ["pwd"]


async def test_a_disabled_user_or_app_gets_nothing_after_approval() -> None:
    site = _site()
    started = await _started(site)
    await _decide(site, started.user_code, allow=True)
    site.db.set_disabled(user_id=site.alice.id, at=T0 + 2)
    refused = await site.token(_poll(started), now=T0 + 3)
    assert isinstance(refused, InvalidGrant)
    assert "token.issued" not in await site.events()


async def test_consume_is_once_however_often_it_is_asked() -> None:
    site = _site()
    started = await _started(site)
    await _decide(site, started.user_code, allow=True)
    record = await _record(site, started)
    results = []
    for _ in range(5):
        async with site.db.transaction() as store:
            results.append(await store.device_codes.consume(device_id=record.id, now=T0 + 4))
    assert sum(r is not None for r in results) == 1
