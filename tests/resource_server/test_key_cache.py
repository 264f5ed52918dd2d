"""The JWKS cache and key parsing in isolation: what is trusted, when it is fetched again."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from joserfc.jwk import ECKey

from openplate.oauth.oidc import keys
from openplate.oauth.oidc.jws import b64url
from openplate.resource_server import InvalidTokenError, TokenValidator, ValidationUnavailableError
from openplate.resource_server.jwks import parse_key
from tests.resource_server.support import claims_for, mint, run

ISSUER = "https://accounts.example"


def test_what_parse_key_trusts() -> None:
    rs, es, ed = (keys.generate(alg) for alg in ("RS256", "ES256", "EdDSA"))
    for new in (rs, es, ed):
        parsed = parse_key(new.public_jwk)
        assert parsed is not None and parsed.alg == new.alg and parsed.kid == new.kid
    assert parse_key({**rs.public_jwk, "alg": "RS384"}) is None
    assert parse_key({**rs.public_jwk, "alg": "HS256"}) is None
    assert parse_key({**rs.public_jwk, "use": "enc"}) is None
    assert parse_key({**rs.public_jwk, "key_ops": ["encrypt"]}) is None
    assert parse_key({**rs.public_jwk, "kid": 7}) is None
    assert parse_key({"kty": "oct", "k": "c2VjcmV0", "alg": "HS256"}) is None
    assert parse_key({**rs.public_jwk, "n": "AQAB"}) is None
    assert parse_key("not a key") is None
    small = rsa.generate_private_key(65537, 1024).public_key().public_numbers()  # noqa: S505
    assert parse_key({"kty": "RSA", "n": b64url(small.n.to_bytes(128, "big")), "e": "AQAB"}) is None
    p384 = ECKey.import_key(ec.generate_private_key(ec.SECP384R1())).as_dict(private=False)
    assert parse_key(p384) is None
    assert parse_key({**es.public_jwk, "alg": "ES384"}) is None


class Jwks:
    """A JWKS endpoint whose answer and health the test controls; counts requests."""

    def __init__(self, *documents: dict[str, Any]) -> None:
        self.document: dict[str, Any] = documents[0] if documents else {"keys": []}
        self.failing = False
        self.requests = 0
        #: While set, every request is held until the test opens it.
        self.gate: asyncio.Event | None = None

    async def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests += 1
        if self.gate is not None:
            await self.gate.wait()
        if self.failing:
            return httpx.Response(503, json={"error": "temporarily_unavailable"})
        return httpx.Response(200, json=self.document)


def _validator(client: httpx.AsyncClient, **options: Any) -> TokenValidator:
    return TokenValidator(ISSUER, http_client=client, **options)


def test_stale_keys_serve_through_an_outage_for_a_while() -> None:
    key = keys.generate("ES256")
    endpoint = Jwks({"keys": [key.public_jwk]})
    now = [time.time()]
    token = mint(key, claims_for(ISSUER, exp=int(now[0]) + 86_400))

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            validator = _validator(client, jwks_cache_ttl=300, jwks_max_stale=600,
                                   jwks_min_refetch_interval=10, clock=lambda: now[0])
            await validator.validate(token)
            endpoint.failing = True
            now[0] += 301  # cache expired, refresh fails: the keys held still serve
            await validator.validate(token)
            assert endpoint.requests == 2
            await validator.validate(token)  # and the failing endpoint is not hammered
            assert endpoint.requests == 2
            now[0] += 700  # past ttl + max_stale: refuse to guess
            with pytest.raises(ValidationUnavailableError):
                await validator.validate(token)
            endpoint.failing = False
            now[0] += 11
            await validator.validate(token)

    run(main())


def test_first_fetch_failing_is_unavailable_not_invalid() -> None:
    key = keys.generate("RS256")
    endpoint = Jwks()
    endpoint.failing = True

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            with pytest.raises(ValidationUnavailableError):
                await _validator(client).validate(mint(key, claims_for(ISSUER)))

    run(main())


def test_concurrent_requests_share_one_fetch() -> None:
    key = keys.generate("EdDSA")
    endpoint = Jwks({"keys": [key.public_jwk]})
    token = mint(key, claims_for(ISSUER))

    async def main() -> None:
        endpoint.gate = asyncio.Event()  # the fetch stays in flight until every check waits
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            validator = _validator(client)
            checks = [asyncio.ensure_future(validator.validate(token)) for _ in range(20)]
            # Every check runs until it waits: on the fetch in flight, or on a fetch of its own.
            # Nothing here takes time, so a number of loop passes is enough whatever the load.
            for _ in range(100):
                await asyncio.sleep(0)
            assert not any(check.done() for check in checks)
            assert endpoint.requests == 1  # the others wait for the one fetch
            endpoint.gate.set()
            results = await asyncio.gather(*checks)
        assert {r.subject for r in results} == {"42"}
        assert endpoint.requests == 1

    run(main())


def test_unknown_kid_while_the_endpoint_is_down_is_unavailable() -> None:
    key, newer = keys.generate("RS256"), keys.generate("RS256")
    endpoint = Jwks({"keys": [key.public_jwk]})
    now = [time.time()]

    async def main() -> None:
        async with httpx.AsyncClient(transport=httpx.MockTransport(endpoint)) as client:
            validator = _validator(client, jwks_min_refetch_interval=5,
                                   clock=lambda: now[0])
            await validator.validate(mint(key, claims_for(ISSUER)))
            endpoint.failing = True
            now[0] += 6
            with pytest.raises(ValidationUnavailableError):
                await validator.validate(mint(newer, claims_for(ISSUER)))
            endpoint.failing = False
            endpoint.document = {"keys": [key.public_jwk, newer.public_jwk]}
            now[0] += 6
            assert (await validator.validate(mint(newer, claims_for(ISSUER)))).subject == "42"

    run(main())


@pytest.mark.parametrize("document", [{"keys": "nope"}, ["keys"], {"nokeys": []}])
def test_a_broken_key_set_is_unavailable(document: Any) -> None:
    key = keys.generate("RS256")
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(ValidationUnavailableError):
                await TokenValidator(ISSUER, http_client=client).validate(mint(key, claims_for(ISSUER)))

    run(main())


def test_redirects_are_not_followed() -> None:
    key = keys.generate("RS256")
    transport = httpx.MockTransport(
        lambda request: httpx.Response(302, headers={"Location": "https://evil.example/jwks"}))

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport, follow_redirects=True) as client:
            with pytest.raises(ValidationUnavailableError, match="HTTP 302"):
                await TokenValidator(ISSUER, http_client=client).validate(mint(key, claims_for(ISSUER)))

    run(main())


def test_only_signature_keys_of_the_tokens_algorithm() -> None:
    key = keys.generate("RS256")
    token = mint(key, claims_for(ISSUER))
    document = {"keys": [{**key.public_jwk, "use": "enc"}, keys.generate("ES256").public_jwk]}
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json=document))

    async def main() -> None:
        async with httpx.AsyncClient(transport=transport) as client:
            with pytest.raises(InvalidTokenError, match="does not publish"):
                await TokenValidator(ISSUER, http_client=client).validate(token)

    run(main())
