"""The token endpoint's story through the core alone, over the in-memory store: code → tokens →
refresh → reuse detection → revocation, introspection and the bearer check; no server."""

from __future__ import annotations

import secrets
import warnings

from joserfc import jwt
from joserfc.jwk import KeySet

from openplate.oauth.errors import InvalidClient, InvalidGrant, InvalidToken, UnauthorizedClient
from openplate.oauth.issuance import TokenPolicy
from openplate.oauth.models import AccessPrincipal, IssuedTokens
from openplate.oauth.oidc.keys import AlgKey, KeyRing, generate, load_private
from openplate.oauth.pkce import s256
from tests.oauth.memory_flows import REDIRECT_URI, T0, Site


def _code_form(code: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            **extra}


def _refresh_form(token: str | None) -> dict[str, str]:
    assert token is not None
    return {"grant_type": "refresh_token", "refresh_token": token}


async def test_code_refresh_reuse_detection_and_the_grant_ends() -> None:
    site = Site.make(policy=TokenPolicy(refresh_grace=10))
    code = await site.authorize(extra={"scope": "account maps"})
    first = await site.tokens(_code_form(code), now=T0 + 1)
    assert first.scope == "account maps" and first.refresh_token and first.expires_in == 3600
    principal = await site.bearer(first.access_token, now=T0 + 2)
    assert isinstance(principal, AccessPrincipal) and principal.user == site.alice
    answer = await site.introspect(first.access_token, now=T0 + 2)
    assert answer["active"] is True and answer["username"] == "alice"
    assert answer["client_id"] == site.app.client_id and answer["scope"] == "account maps"

    # Rotation: a new pair; the old refresh token is spent.
    second = await site.tokens(_refresh_form(first.refresh_token), now=T0 + 100)
    assert {second.access_token, second.refresh_token}.isdisjoint(
        {first.access_token, first.refresh_token})
    assert isinstance(await site.bearer(second.access_token, now=T0 + 101), AccessPrincipal)
    assert first.refresh_token is not None
    assert await site.introspect(first.refresh_token, now=T0 + 101) == {"active": False}

    # A retry within the grace window (a lost answer) gets the very same successors.
    retry = await site.tokens(_refresh_form(first.refresh_token), now=T0 + 105)
    assert (retry.access_token, retry.refresh_token, retry.expires) == (
        second.access_token, second.refresh_token, second.expires)
    assert retry.expires_in == second.expires_in - 5

    # Presented again after the window: it leaked. Refused, and the whole grant ends.
    reuse = await site.token(_refresh_form(first.refresh_token), now=T0 + 200)
    assert isinstance(reuse, InvalidGrant) and "already used" in reuse.description
    for token in (first.access_token, second.access_token):
        assert isinstance(await site.bearer(token, now=T0 + 201), InvalidToken)
    after = await site.token(_refresh_form(second.refresh_token), now=T0 + 202)
    assert isinstance(after, InvalidGrant) and "revoked" in after.description
    assert await site.events() == ["token.issued", "token.refreshed", "refresh.reused"]


async def test_a_replayed_code_is_refused_and_ends_what_it_gave() -> None:
    site = Site.make()
    code = await site.authorize()
    first = await site.tokens(_code_form(code), now=T0 + 1)
    replay = await site.token(_code_form(code), now=T0 + 2)
    assert isinstance(replay, InvalidGrant) and "already used" in replay.description
    assert isinstance(await site.bearer(first.access_token, now=T0 + 3), InvalidToken)
    refreshed = await site.token(_refresh_form(first.refresh_token), now=T0 + 3)
    assert isinstance(refreshed, InvalidGrant)
    assert await site.events() == ["token.issued", "code.replayed"]


async def test_a_code_is_refused_when_expired_or_for_another_uri_or_client() -> None:
    site = Site.make(policy=TokenPolicy(code_ttl=60))
    other = site.db.add_client(owner_id=site.alice.id, secret="opcs_other",
                               redirect_uris=[REDIRECT_URI])
    expired = await site.token(_code_form(await site.authorize()), now=T0 + 60)
    assert isinstance(expired, InvalidGrant) and "expired" in expired.description
    wrong_uri = await site.token(
        _code_form(await site.authorize(), redirect_uri="https://app.example/other"), now=T0 + 1)
    assert isinstance(wrong_uri, InvalidGrant) and "redirect_uri" in wrong_uri.description
    stolen = await site.token(_code_form(await site.authorize()), now=T0 + 1, client=other,
                              secret="opcs_other")
    assert isinstance(stolen, InvalidGrant)
    assert await site.events() == []  # no tokens issued; nothing replayed by its own client


async def test_revoking_an_access_token_ends_it_and_a_refresh_token_ends_the_grant() -> None:
    site = Site.make()
    first = await site.tokens(_code_form(await site.authorize()), now=T0 + 1)
    await site.revoke(first.access_token, now=T0 + 2)
    assert isinstance(await site.bearer(first.access_token, now=T0 + 3), InvalidToken)
    second = await site.tokens(_refresh_form(first.refresh_token), now=T0 + 4)  # grant lives
    assert second.refresh_token is not None
    await site.revoke(second.refresh_token, now=T0 + 5)
    assert isinstance(await site.bearer(second.access_token, now=T0 + 6), InvalidToken)
    assert await site.introspect(second.refresh_token, now=T0 + 6) == {"active": False}
    refused = await site.token(_refresh_form(second.refresh_token), now=T0 + 7)
    assert isinstance(refused, InvalidGrant) and "revoked" in refused.description


async def test_a_client_revokes_and_introspects_only_its_own_tokens() -> None:
    site = Site.make()
    other = site.db.add_client(owner_id=site.alice.id, secret="opcs_other",
                               redirect_uris=[REDIRECT_URI])
    issued = await site.tokens(_code_form(await site.authorize()), now=T0 + 1)
    assert issued.refresh_token is not None
    for token in (issued.access_token, issued.refresh_token):
        assert await site.introspect(token, now=T0 + 2, client=other,
                                     secret="opcs_other") == {"active": False}
        await site.revoke(token, now=T0 + 2, client=other, secret="opcs_other")  # a no-op
    assert isinstance(await site.bearer(issued.access_token, now=T0 + 3), AccessPrincipal)
    assert (await site.introspect(issued.refresh_token, now=T0 + 3))["active"] is True


async def test_a_public_client_proves_its_code_with_pkce() -> None:
    site = Site.make()
    public = site.db.add_client(owner_id=site.alice.id, redirect_uris=[REDIRECT_URI])
    verifier = secrets.token_urlsafe(48)
    pkce = {"code_challenge": s256(verifier), "code_challenge_method": "S256"}
    code = await site.authorize(client=public, extra=pkce)
    missing = await site.token(_code_form(code), now=T0 + 1, client=public, secret=None)
    assert isinstance(missing, InvalidGrant) and "code_verifier" in missing.description
    code = await site.authorize(client=public, extra=pkce)
    issued = await site.tokens(_code_form(code, code_verifier=verifier), now=T0 + 1,
                               client=public, secret=None)
    principal = await site.bearer(issued.access_token, now=T0 + 2)
    assert isinstance(principal, AccessPrincipal) and principal.client_pk == public.pk


async def test_client_credentials_hang_on_one_grant_and_have_no_refresh_token() -> None:
    site = Site.make()
    form = {"grant_type": "client_credentials", "scope": "maps"}
    first = await site.tokens(form, now=T0)
    second = await site.tokens(form, now=T0 + 1)
    assert first.refresh_token is None and second.refresh_token is None
    one = await site.bearer(first.access_token, now=T0 + 2, scope="maps")
    two = await site.bearer(second.access_token, now=T0 + 2, scope="maps")
    assert isinstance(one, AccessPrincipal) and isinstance(two, AccessPrincipal)
    assert one.grant_id == two.grant_id and one.user_id == site.alice.id  # the app's owner
    await site.revoke(first.access_token, now=T0 + 3)
    assert isinstance(await site.bearer(second.access_token, now=T0 + 4, scope="maps"),
                      AccessPrincipal)


async def test_client_authentication_and_the_grants_a_client_may_use() -> None:
    site = Site.make()
    code = await site.authorize()
    wrong = await site.token(_code_form(code), now=T0 + 1, secret="opcs_wrong")
    assert isinstance(wrong, InvalidClient)
    assert isinstance(await site.tokens(_code_form(code), now=T0 + 1), IssuedTokens)  # unspent
    narrow = site.db.add_client(owner_id=site.alice.id, secret="opcs_narrow",
                                grant_types=("client_credentials",))
    refused = await site.token({"grant_type": "authorization_code", "code": code}, now=T0 + 2,
                               client=narrow, secret="opcs_narrow")
    assert isinstance(refused, UnauthorizedClient)


async def test_an_openid_code_gives_a_signed_id_token_again_on_refresh() -> None:
    key = generate("ES256")
    ring = KeyRing.build(signing={"ES256": AlgKey(key.kid, "ES256", load_private(key.private_pem))},
                         default_alg="ES256", published=[key.public_jwk])
    site = Site.make(signer=ring)
    code = await site.authorize(extra={"scope": "openid account", "nonce": "n-0S6"})
    issued = await site.tokens(_code_form(code), now=T0 + 1)
    refreshed = await site.tokens(_refresh_form(issued.refresh_token), now=T0 + 50)
    keys = KeySet.import_key_set({"keys": [key.public_jwk]})
    claims = []
    for token in (issued.id_token, refreshed.id_token):
        assert token is not None
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            claims.append(dict(jwt.decode(token, keys, algorithms=["ES256"]).claims))
    first, second = claims
    assert (first["sub"], first["aud"], first["nonce"]) == (str(site.alice.id),
                                                            site.app.client_id, "n-0S6")
    assert first["auth_time"] == second["auth_time"] == T0 - 5
    assert "nonce" not in second and second["iat"] == T0 + 50


async def test_a_code_whose_grant_ended_before_redemption_gives_nothing() -> None:
    """A new password or a revoked app between approval and redemption: the code is refused
    rather than answered with tokens that are already dead."""
    site = Site.make()
    code = await site.authorize()
    async with site.db.transaction() as store:
        record = await store.codes.find(digest=site.db.digester.digest(code))
        assert record is not None
        await store.grants.revoke(grant_id=record.grant_id, now=T0 + 1)
    refused = await site.token(_code_form(code), now=T0 + 2)
    assert isinstance(refused, InvalidGrant) and "invalid" in refused.description
