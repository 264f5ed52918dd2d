"""RFC 9126 through the core alone, over the in-memory store: a request is pushed (checked by the
authorisation endpoint's own sequence), used once at /oauth/auth by its own client, and a client
that requires PAR cannot send a plain request."""

from __future__ import annotations

import asyncio
import json
from dataclasses import replace
from functools import partial

import pytest

from openplate.oauth import authorize, par
from openplate.oauth.client_auth import ClientCall
from openplate.oauth.errors import (
    InvalidClient,
    InvalidRedirectUri,
    InvalidRequest,
    InvalidRequestUri,
    MalformedPushedUse,
    OAuthError,
    RequestNotSupported,
    RequestUriNotSupported,
    UnsupportedResponseType,
)
from openplate.oauth.models import AuthorizationRequest, Client
from openplate.oauth.params import Params
from openplate.oauth.pkce import s256
from tests.oauth.memory_flows import DIGESTER, ISSUER, REDIRECT_URI, SECRET, T0, Site

TTL = 60
VERIFIER = "v" * 43


def _request(**extra: str) -> dict[str, str]:
    return {"response_type": "code", "redirect_uri": REDIRECT_URI, "scope": "openid account",
            "state": "st-par", "code_challenge": s256(VERIFIER), "code_challenge_method": "S256",
            **extra}


async def _push(site: Site, form: dict[str, str], *, now: int = T0, client: Client | None = None,
                secret: str | None = SECRET, call: ClientCall | None = None,
                ) -> par.Pushed | OAuthError:
    call = call or site.call(form, client=client, secret=secret)
    async with site.db.transaction() as store:
        try:
            return await par.push(call, store, site.context(now), ttl=TTL)
        except OAuthError as error:
            return error


async def _pushed(site: Site, form: dict[str, str] | None = None, **kw: object) -> str:
    answer = await _push(site, form or _request(), **kw)  # type: ignore[arg-type]
    assert isinstance(answer, par.Pushed), answer
    return answer.request_uri


async def _authorize(site: Site, query: dict[str, str], *, now: int = T0 + 1,
                     require_pushed: bool = False) -> AuthorizationRequest | Exception:
    """/oauth/auth's validation, with pushed requests, in a unit of work of its own."""
    async with site.db.transaction() as store:
        load = partial(par.load, store=store.pushed_requests, digester=DIGESTER, now=now)
        try:
            return await authorize.validate_request(Params(query), store.clients, issuer=ISSUER,
                                                    load_pushed=load,
                                                    require_pushed=require_pushed)
        except (OAuthError, authorize.ErrorRedirect) as error:
            return error


async def test_a_pushed_request_answers_a_request_uri_that_works_once() -> None:
    site = Site.make()
    answer = await _push(site, _request())
    assert isinstance(answer, par.Pushed)
    assert answer.to_json() == {"request_uri": answer.request_uri, "expires_in": TTL}
    assert answer.request_uri.startswith("urn:ietf:params:oauth:request_uri:")
    assert len(answer.request_uri) == len(par.REQUEST_URI_PREFIX) + 43
    first = await _authorize(site, {"client_id": site.app.client_id,
                                    "request_uri": answer.request_uri})
    assert isinstance(first, AuthorizationRequest), first
    assert first.redirect_uri == REDIRECT_URI and first.state == "st-par"
    assert first.scope == ("openid", "account") and first.code_challenge == s256(VERIFIER)
    again = await _authorize(site, {"client_id": site.app.client_id,
                                    "request_uri": answer.request_uri})
    assert isinstance(again, InvalidRequestUri) and "already used" in again.description


async def test_only_the_digest_is_stored_and_never_the_client_secret() -> None:
    site = Site.make()
    request_uri = await _pushed(site, call=ClientCall(Params(
        {**_request(), "client_id": site.app.client_id, "client_secret": SECRET}), None))
    async with site.db.transaction(readonly=True) as store:
        assert await store.pushed_requests.find(digest=request_uri) is None
        record = await store.pushed_requests.find(digest=DIGESTER.digest(request_uri))
    assert record is not None and record.client_pk == site.app.pk and not record.used
    assert record.expires_at == T0 + TTL
    stored = json.loads(record.params)
    assert SECRET not in record.params and "client_secret" not in stored
    assert stored["client_id"] == site.app.client_id  # with Basic, the body had none


async def test_parameters_beside_request_uri_are_ignored() -> None:
    """RFC 9126 §4: only the pushed parameters count; a browser cannot change the request."""
    site = Site.make()
    request_uri = await _pushed(site)
    found = await _authorize(site, {
        "client_id": site.app.client_id, "request_uri": request_uri,
        "redirect_uri": "https://evil.example/cb", "scope": "maps", "state": "forged",
        "code_challenge": s256("w" * 43), "prompt": "none"})
    assert isinstance(found, AuthorizationRequest), found
    assert (found.redirect_uri, found.scope, found.state) == (REDIRECT_URI,
                                                              ("openid", "account"), "st-par")
    assert found.code_challenge == s256(VERIFIER) and found.prompt == ()


async def test_another_clients_request_uri_is_unknown_and_not_used_up() -> None:
    site = Site.make()
    other = site.db.add_client(owner_id=site.alice.id, secret="opcs_other",
                               redirect_uris=[REDIRECT_URI])
    request_uri = await _pushed(site)
    swapped = await _authorize(site, {"client_id": other.client_id, "request_uri": request_uri})
    assert isinstance(swapped, InvalidRequestUri) and "unknown" in swapped.description
    mine = await _authorize(site, {"client_id": site.app.client_id, "request_uri": request_uri})
    assert isinstance(mine, AuthorizationRequest) and mine.client_pk == site.app.pk


async def test_an_expired_or_made_up_request_uri_is_refused() -> None:
    site = Site.make()
    request_uri = await _pushed(site)
    late = await _authorize(site, {"client_id": site.app.client_id, "request_uri": request_uri},
                            now=T0 + TTL)
    assert isinstance(late, InvalidRequestUri) and "expired" in late.description
    guessed = par.REQUEST_URI_PREFIX + "A" * 43
    unknown = await _authorize(site, {"client_id": site.app.client_id, "request_uri": guessed})
    assert isinstance(unknown, InvalidRequestUri) and "unknown" in unknown.description
    for bad in (par.REQUEST_URI_PREFIX, par.REQUEST_URI_PREFIX + "x" * 44,
                par.REQUEST_URI_PREFIX + "%" * 43):
        answer = await _authorize(site, {"client_id": site.app.client_id, "request_uri": bad})
        assert isinstance(answer, InvalidRequestUri), bad
    assert not InvalidRequestUri.redirectable  # a page: no redirect URI is known yet


async def test_a_request_uri_of_another_kind_is_still_not_supported() -> None:
    """OIDC Core §6.2 request objects by reference stay unsupported (redirected, as before)."""
    site = Site.make()
    answer = await _authorize(site, {"client_id": site.app.client_id,
                                     "request_uri": "https://app.example/request.jwt",
                                     **_request()})
    assert isinstance(answer, authorize.ErrorRedirect)
    assert isinstance(answer.error, RequestUriNotSupported)


async def test_a_malformed_use_is_a_page_and_leaves_the_request_unused() -> None:
    site = Site.make()
    request_uri = await _pushed(site)
    both = await _authorize(site, {"client_id": site.app.client_id, "request_uri": request_uri,
                                   "request": "eyJhbGciOiJub25lIn0.e30."})
    assert isinstance(both, MalformedPushedUse) and not both.redirectable
    async with site.db.transaction() as store:
        with pytest.raises(MalformedPushedUse):
            await par.load(Params({"client_id": site.app.client_id, "request_uri": request_uri},
                                  frozenset({"request_uri"})), site.app,
                           store=store.pushed_requests, digester=DIGESTER, now=T0)
    found = await _authorize(site, {"client_id": site.app.client_id, "request_uri": request_uri})
    assert isinstance(found, AuthorizationRequest), found


@pytest.mark.parametrize(("extra", "error", "words"), [
    ({"request_uri": par.REQUEST_URI_PREFIX + "A" * 43}, InvalidRequest, "request_uri"),
    ({"request": "eyJhbGciOiJub25lIn0.e30."}, RequestNotSupported, "request"),
    ({"response_type": "token"}, UnsupportedResponseType, "response_type"),
    ({"redirect_uri": "https://evil.example/cb"}, InvalidRedirectUri, "redirect_uri"),
    ({"code_challenge_method": "plain"}, InvalidRequest, "S256"),
    ({"prompt": "none login"}, InvalidRequest, "prompt"),
])
async def test_a_bad_pushed_request_is_an_error_answer_never_a_redirect(
    extra: dict[str, str], error: type[OAuthError], words: str,
) -> None:
    site = Site.make()
    answer = await _push(site, _request(**extra))
    assert isinstance(answer, error), answer
    assert words in answer.description and answer.status == 400
    assert not site.db._tables.pushed.rows  # nothing was kept


async def test_duplicates_and_wrong_credentials_are_refused() -> None:
    site = Site.make()
    duplicated = site.call(_request())
    duplicated = ClientCall(Params(duplicated.params.values, frozenset({"scope"})),
                            duplicated.authorization)
    answer = await _push(site, {}, call=duplicated)
    assert isinstance(answer, InvalidRequest) and "scope" in answer.description
    wrong = await _push(site, _request(), secret="opcs_wrong")
    assert isinstance(wrong, InvalidClient) and wrong.status == 401
    mismatched = await _push(site, {}, call=ClientCall(
        Params({**_request(), "client_id": "opc_someone-else"}),
        site.call({}).authorization))
    assert isinstance(mismatched, InvalidRequest) and "client_id" in mismatched.description
    site.db.set_disabled(client_pk=site.app.pk, at=T0 - 1)
    disabled = await _push(site, _request())
    assert isinstance(disabled, InvalidClient) and "disabled" in disabled.description


async def test_a_public_client_pushes_by_client_id_and_must_use_pkce() -> None:
    site = Site.make()
    public = site.db.add_client(owner_id=site.alice.id, redirect_uris=[REDIRECT_URI],
                                require_pkce=True)
    ok = await _push(site, _request(), client=public, secret=None)
    assert isinstance(ok, par.Pushed), ok
    form = {k: v for k, v in _request().items() if not k.startswith("code_challenge")}
    no_pkce = await _push(site, form, client=public, secret=None)
    assert isinstance(no_pkce, InvalidRequest) and "PKCE" in no_pkce.description


async def test_a_client_that_requires_par_cannot_send_a_plain_request() -> None:
    site = Site.make()
    strict = site.db.add_client(owner_id=site.alice.id, secret="opcs_strict",
                                redirect_uris=[REDIRECT_URI],
                                require_pushed_authorization_requests=True)
    plain = await _authorize(site, {"client_id": strict.client_id, **_request()})
    assert isinstance(plain, authorize.ErrorRedirect)  # after the redirect URI was checked
    assert isinstance(plain.error, InvalidRequest) and "/oauth/par" in plain.error.description
    request_uri = await _pushed(site, client=strict, secret="opcs_strict")
    pushed = await _authorize(site, {"client_id": strict.client_id, "request_uri": request_uri})
    assert isinstance(pushed, AuthorizationRequest) and pushed.client_pk == strict.pk
    # Everyone else goes on as before, unless the server requires PAR of every client.
    assert isinstance(await _authorize(site, {"client_id": site.app.client_id, **_request()}),
                      AuthorizationRequest)
    everywhere = await _authorize(site, {"client_id": site.app.client_id, **_request()},
                                  require_pushed=True)
    assert isinstance(everywhere, authorize.ErrorRedirect)


async def test_a_request_checked_at_push_is_checked_again_when_used() -> None:
    """§4: a pushed request is validated as any other when used: a redirect URI removed from
    the app meanwhile is refused with a page."""
    site = Site.make()
    request_uri = await _pushed(site)
    clients = site.db._tables.clients  # as the developer saving other redirect URIs
    row = clients.rows[site.app.pk]
    clients.put(replace(row, client=replace(row.client,
                                            redirect_uris=("https://app.example/other",))))
    answer = await _authorize(site, {"client_id": site.app.client_id, "request_uri": request_uri})
    assert isinstance(answer, InvalidRedirectUri)


async def test_of_many_uses_at_once_exactly_one_goes_on() -> None:
    site = Site.make()
    request_uri = await _pushed(site)
    query = {"client_id": site.app.client_id, "request_uri": request_uri}
    answers = await asyncio.gather(*(_authorize(site, query) for _ in range(20)))
    assert sum(isinstance(a, AuthorizationRequest) for a in answers) == 1
    assert all(isinstance(a, (AuthorizationRequest, InvalidRequestUri)) for a in answers)


async def test_every_resource_value_pushed_is_kept() -> None:
    """RFC 8707 ``resource`` may be sent more than once: a pushed request keeps every value."""
    from openplate.oauth.issuance import TokenContext
    from openplate.oauth.params import parse_params
    from openplate.oauth.resources import Resources

    site = Site.make()
    resources = Resources.of(api=ISSUER, base_url=ISSUER)
    both = (ISSUER, resources.mcp)
    body = "&".join(f"{k}={v}" for k, v in _request().items()) + "".join(
        f"&resource={r}" for r in both)
    call = site.call({})
    call = ClientCall(parse_params(body.replace(":", "%3A").replace("/", "%2F")),
                      call.authorization)
    context = TokenContext(digester=DIGESTER, now=T0, policy=site.policy, issuer=ISSUER,
                           audience=ISSUER, resources=resources)
    async with site.db.transaction() as store:
        pushed = await par.push(call, store, context, ttl=TTL)
    async with site.db.transaction() as store:
        load = partial(par.load, store=store.pushed_requests, digester=DIGESTER, now=T0 + 1)
        found = await authorize.validate_request(
            Params({"client_id": site.app.client_id, "request_uri": pushed.request_uri}),
            store.clients, issuer=ISSUER, resources=resources, load_pushed=load)
    assert found.resource == both
    unknown = ClientCall(parse_params(
        "&".join(f"{k}={v}" for k, v in _request().items()).replace(":", "%3A")
        .replace("/", "%2F") + "&resource=https%3A%2F%2Felsewhere.example%2F"),
        call.authorization)
    async with site.db.transaction() as store:
        with pytest.raises(OAuthError) as refused:
            await par.push(unknown, store, context, ttl=TTL)
    assert refused.value.error == "invalid_target"
