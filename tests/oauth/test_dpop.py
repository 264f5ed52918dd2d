"""RFC 9449 in the core alone: every §4.3 check of a proof (hostile proofs included), the
nonces of §8/§9, the replay ledger of §11.1, and the binding of tokens (§5, §6, §7, §10)."""

from __future__ import annotations

import json
import time
import warnings
from dataclasses import replace

import pytest
from joserfc import jwt
from joserfc.jwk import KeySet, RSAKey

from openplate.oauth import bearer
from openplate.oauth.authorize import ErrorRedirect, validate_request
from openplate.oauth.dpop import (
    MAX_PROOF_CHARS,
    DPoPProof,
    ProofPolicy,
    access_token_hash,
    check_proof,
    normalise_htu,
    one_proof,
    verify_proof,
)
from openplate.oauth.dpop_nonce import NonceMaker
from openplate.oauth.errors import (
    InvalidDPoPProof,
    InvalidGrant,
    InvalidToken,
    UseDPoPNonce,
)
from openplate.oauth.issuance import TokenPolicy
from openplate.oauth.models import AccessPrincipal, Client, IssuedTokens
from openplate.oauth.oidc.keys import AlgKey, KeyRing, generate, load_private
from openplate.oauth.params import Params
from openplate.oauth.pkce import s256
from openplate.store.dpop_ledger import MemoryLedger
from tests.oauth.memory_flows import DIGESTER, ISSUER, REDIRECT_URI, T0, Site
from tests.support.dpop import DPoPKey, b64url, unsigned

TOKEN_URL = ISSUER + "/oauth/token"
ME_URL = ISSUER + "/users/me"
POLICY = ProofPolicy()
KEY = DPoPKey("ES256")


def _verify(proof: str, *, method: str = "POST", url: str = TOKEN_URL, now: int | None = None,
            **more: object) -> DPoPProof:
    return verify_proof(proof, method=method, url=url, now=now or int(time.time()),
                        policy=POLICY, **more)  # type: ignore[arg-type]


def _refused(proof: str, fragment: str, **more: object) -> None:
    with pytest.raises(InvalidDPoPProof) as caught:
        _verify(proof, **more)
    assert fragment in caught.value.description, caught.value.description


# --- §4.3, one check at a time ----------------------------------------------------------------

@pytest.mark.parametrize("alg", ["ES256", "RS256", "PS256", "EdDSA", "Ed25519"])
def test_a_good_proof_of_each_algorithm_names_its_key(alg: str) -> None:
    key = DPoPKey(alg)
    checked = _verify(key.proof("POST", TOKEN_URL, jti="j-1"))
    assert checked.jkt == key.jkt and checked.jti == "j-1"


def test_step_1_not_more_than_one_dpop_header() -> None:
    proof = KEY.proof("POST", TOKEN_URL)
    assert one_proof([]) is None
    assert one_proof([proof]) == proof
    with pytest.raises(InvalidDPoPProof, match="exactly one"):
        one_proof([proof, proof])
    with pytest.raises(InvalidDPoPProof, match="single JWT"):
        one_proof([proof + ", " + proof])


def test_step_2_a_single_well_formed_jwt() -> None:
    for bad in ("", "a.b", "a.b.c.d", "!!.??.**", b64url(b"[1]") + "." + b64url(b"{}") + ".x",
                b64url(b"not json") + ".e30.x"):
        _refused(bad, "well-formed")
    _refused("a" * (MAX_PROOF_CHARS + 1), "too long")


def test_step_3_every_required_claim() -> None:
    for claim in ("jti", "htm", "htu", "iat"):
        _refused(KEY.proof("POST", TOKEN_URL, drop=(claim,)), f"'{claim}'")
    _refused(KEY.proof("POST", TOKEN_URL, claims={"iat": "1700000000"}), "'iat'")
    _refused(KEY.proof("POST", TOKEN_URL, claims={"iat": True}), "'iat'")
    _refused(KEY.proof("POST", TOKEN_URL, jti="j" * 257), "jti is too long")


def test_step_4_typ_is_dpop_jwt() -> None:
    _refused(KEY.proof("POST", TOKEN_URL, header={"typ": "JWT"}), "typ")
    _refused(KEY.proof("POST", TOKEN_URL, header={"typ": "at+jwt"}), "typ")


def test_step_5_alg_none_symmetric_and_unlisted_algorithms_are_refused() -> None:
    claims = {"jti": "x", "htm": "POST", "htu": TOKEN_URL, "iat": int(time.time())}
    none = {"typ": "dpop+jwt", "alg": "none", "jwk": KEY.jwk}
    _refused(unsigned(none, claims), "well-formed")  # no signature at all
    _refused(unsigned(none, claims, b"anything"), "alg")
    # HS256 with the public key's bytes as the secret: the classic confusion attack.
    secret = json.dumps(KEY.jwk).encode()
    hs = DPoPKey("HS256", key=__import__("joserfc.jwk", fromlist=["OctKey"]).OctKey.import_key(
        secret))
    _refused(hs.proof("POST", TOKEN_URL, header={"jwk": KEY.jwk}), "alg")
    _refused(KEY.proof("POST", TOKEN_URL, header={"alg": "ES384"}), "alg")
    # An RSA key under ES256: the key does not fit the algorithm.
    _refused(DPoPKey("RS256").proof("POST", TOKEN_URL, header={"alg": "ES256"}), "not a key for")
    _refused(KEY.proof("POST", TOKEN_URL, header={"crit": ["exp"]}), "critical")


def test_step_6_the_signature_verifies_with_the_jwk() -> None:
    other = DPoPKey("ES256")
    # Signed by one key, claiming another's jwk: key substitution.
    _refused(KEY.proof("POST", TOKEN_URL, header={"jwk": other.jwk}), "signature")
    head, body, _ = KEY.proof("POST", TOKEN_URL).split(".")
    _refused(f"{head}.{body}.{b64url(b'x' * 64)}", "signature")
    tampered = KEY.proof("POST", TOKEN_URL)
    forged_body = b64url(json.dumps({"jti": "y", "htm": "POST", "htu": TOKEN_URL,
                                     "iat": int(time.time())}).encode())
    _refused(".".join((tampered.split(".")[0], forged_body, tampered.split(".")[2])), "signature")


def test_step_7_no_private_key_in_the_jwk() -> None:
    private = dict(KEY.key.as_dict(private=True))
    _refused(KEY.proof("POST", TOKEN_URL, header={"jwk": private}), "private key")
    _refused(KEY.proof("POST", TOKEN_URL, header={"jwk": "not an object"}), "JSON object")
    _refused(KEY.proof("POST", TOKEN_URL, header={"jwk": {**KEY.jwk, "x": "AAAA"}}), "jwk")
    with warnings.catch_warnings():  # joserfc warns about keys this small: that is the point
        warnings.simplefilter("ignore")
        small = DPoPKey("RS256", key=RSAKey.generate_key(1024))
    _refused(small.proof("POST", TOKEN_URL), "2048")


def test_step_8_htm_is_the_method() -> None:
    _refused(KEY.proof("GET", TOKEN_URL), "htm")
    _refused(KEY.proof("post", TOKEN_URL), "htm")


def test_step_9_htu_is_the_url_without_query_and_fragment() -> None:
    _refused(KEY.proof("POST", ISSUER + "/oauth/revoke"), "htu")
    _refused(KEY.proof("POST", "https://evil.example/oauth/token"), "htu")
    _refused(KEY.proof("POST", "http://openplate.example/oauth/token"), "htu")
    _refused(KEY.proof("POST", "https://openplate.example:8443/oauth/token"), "htu")
    _refused(KEY.proof("POST", "not a url"), "htu")
    # RFC 3986 §6.2.2 and §6.2.3 normalisation; query and fragment are not compared.
    for same in ("HTTPS://OpenPlate.Example:443/oauth/token", TOKEN_URL + "?a=1#frag",
                 "https://openplate.example/oauth/%74oken"):
        assert _verify(KEY.proof("POST", same)).jkt == KEY.jkt
    assert normalise_htu("https://h.example") == "https://h.example/"
    assert normalise_htu("https://user@h.example/") is None


def test_step_10_the_servers_nonce_when_it_requires_one() -> None:
    nonces = NonceMaker(b"k" * 32, lifetime=300)
    now = T0
    current = nonces.issue(now)
    accepts = lambda nonce: nonces.accepts(nonce, now)  # noqa: E731
    assert _verify(KEY.proof("POST", TOKEN_URL, iat=now, nonce=current), now=now,
                   nonce_ok=accepts).nonce == current
    with pytest.raises(UseDPoPNonce):
        _verify(KEY.proof("POST", TOKEN_URL, iat=now), now=now, nonce_ok=accepts)
    stale = nonces.issue(now - 600)
    with pytest.raises(UseDPoPNonce):
        _verify(KEY.proof("POST", TOKEN_URL, iat=now, nonce=stale), now=now, nonce_ok=accepts)
    with pytest.raises(UseDPoPNonce):  # another deployment's nonce
        _verify(KEY.proof("POST", TOKEN_URL, iat=now,
                          nonce=NonceMaker(b"o" * 32, lifetime=300).issue(now)),
                now=now, nonce_ok=accepts)
    _refused(KEY.proof("POST", TOKEN_URL, claims={"nonce": 5}), "nonce")


def test_nonces_last_their_window_and_the_next_on_every_node() -> None:
    first, second = NonceMaker(b"k" * 32, lifetime=300), NonceMaker(b"k" * 32, lifetime=300)
    start = 300 * 6_000_000
    nonce = first.issue(start)
    assert second.accepts(nonce, start) and second.accepts(nonce, start + 599)
    assert not second.accepts(nonce, start + 600)
    assert not second.accepts(nonce, start - 1)
    assert first.issue(start + 300) != nonce
    assert not second.accepts(None, start) and not second.accepts("x" * 43, start)


def test_step_11_iat_within_the_window() -> None:
    now = int(time.time())
    assert _verify(KEY.proof("POST", TOKEN_URL, iat=now - 60), now=now)
    assert _verify(KEY.proof("POST", TOKEN_URL, iat=now + 5), now=now)
    _refused(KEY.proof("POST", TOKEN_URL, iat=now - 61), "too old", now=now)
    _refused(KEY.proof("POST", TOKEN_URL, iat=now + 6), "future", now=now)


def test_step_12_ath_is_the_hash_of_the_access_token() -> None:
    token = "opat_some-access-token"
    good = KEY.proof("GET", ME_URL, access_token=token)
    assert _verify(good, method="GET", url=ME_URL, access_token=token)
    _refused(KEY.proof("GET", ME_URL), "ath", method="GET", url=ME_URL, access_token=token)
    _refused(KEY.proof("GET", ME_URL, access_token="opat_another"), "ath", method="GET",
             url=ME_URL, access_token=token)
    # RFC 9449 §4.2's example: this token hashes to this ath.
    assert access_token_hash("Kz~8mXK1EalYznwH-LC-1fBAo.4Ljp~zsPE_NeO.gxU") == (
        "fUHyO2r2Z3DZ53EsNrWBb0xWXoaNy59IiKCAqksmQEo")


async def test_each_jti_is_taken_once_per_key() -> None:
    ledger, now = MemoryLedger(), int(time.time())

    async def check(proof: str, at: int = now) -> DPoPProof:
        return await check_proof(proof, method="POST", url=TOKEN_URL, now=at, policy=POLICY,
                                 ledger=ledger, digest=DIGESTER.digest)

    proof = KEY.proof("POST", TOKEN_URL, jti="once", iat=now)
    await check(proof)
    with pytest.raises(InvalidDPoPProof, match="used before"):
        await check(proof)
    with pytest.raises(InvalidDPoPProof, match="used before"):  # a new proof, the same jti
        await check(KEY.proof("POST", TOKEN_URL, jti="once", iat=now))
    await check(DPoPKey().proof("POST", TOKEN_URL, jti="once", iat=now))  # another key's


# --- Binding tokens (§5, §6, §7, §10) ------------------------------------------------------------

def _code_form(code: str, **extra: str) -> dict[str, str]:
    return {"grant_type": "authorization_code", "code": code, "redirect_uri": REDIRECT_URI,
            **extra}


def _refresh_form(token: str | None) -> dict[str, str]:
    assert token is not None
    return {"grant_type": "refresh_token", "refresh_token": token}


def _proof(key: DPoPKey, url: str = TOKEN_URL, method: str = "POST",
           token: str | None = None) -> DPoPProof:
    return _verify(key.proof(method, url, access_token=token), method=method, url=url,
                   access_token=token)


def _public(site: Site) -> Client:
    return site.db.add_client(owner_id=site.alice.id, redirect_uris=[REDIRECT_URI])


async def _public_code(site: Site, client: Client, **extra: str) -> tuple[str, str]:
    verifier = "v" * 50
    code = await site.authorize(client=client, extra={
        "code_challenge": s256(verifier), "code_challenge_method": "S256", **extra})
    return code, verifier


async def test_a_proof_binds_the_access_token_and_the_api_holds_it_to_the_key() -> None:
    site = Site.make()
    code = await site.authorize(extra={"scope": "account"})
    issued = await site.tokens(_code_form(code), now=T0 + 1, proof=_proof(KEY))
    assert issued.token_type == "DPoP" and issued.to_json()["token_type"] == "DPoP"
    token = issued.access_token
    answer = await site.introspect(token, now=T0 + 2)
    assert answer["token_type"] == "DPoP" and answer["cnf"] == {"jkt": KEY.jkt}
    # §7.2: sent as a bearer token (or bare), it opens nothing: the thief has no key.
    for scheme in ("Bearer", ""):
        refused = await site.bearer(token, now=T0 + 2, scheme=scheme)
        assert isinstance(refused, bearer.BoundTokenAsBearer), refused
    good = await site.bearer(token, now=T0 + 2, scheme="DPoP",
                             proof=_proof(KEY, ME_URL, "GET", token))
    assert isinstance(good, AccessPrincipal) and good.jkt == KEY.jkt
    other = await site.bearer(token, now=T0 + 2, scheme="DPoP",
                              proof=_proof(DPoPKey(), ME_URL, "GET", token))
    assert isinstance(other, InvalidDPoPProof), other


async def test_a_bearer_token_is_not_taken_with_the_dpop_scheme() -> None:
    site = Site.make()
    code = await site.authorize(extra={"scope": "account"})
    issued = await site.tokens(_code_form(code), now=T0 + 1)
    assert issued.token_type == "Bearer"
    assert "cnf" not in await site.introspect(issued.access_token, now=T0 + 2)
    refused = await site.bearer(issued.access_token, now=T0 + 2, scheme="DPoP",
                                proof=_proof(KEY, ME_URL, "GET", issued.access_token))
    assert isinstance(refused, InvalidToken) and "not DPoP-bound" in refused.description
    assert isinstance(await site.bearer(issued.access_token, now=T0 + 2), AccessPrincipal)


async def test_a_public_clients_refresh_token_is_bound_to_its_key() -> None:
    site = Site.make()
    client = _public(site)
    code, verifier = await _public_code(site, client, scope="account")
    first = await site.tokens(_code_form(code, code_verifier=verifier), now=T0 + 1,
                              client=client, secret=None, proof=_proof(KEY))
    assert first.token_type == "DPoP"
    refresh = _refresh_form(first.refresh_token)
    # Stolen refresh token: without a proof, or with the thief's key, it gives nothing, and
    # the token stays usable by its owner (no reuse revocation was triggered).
    missing = await site.token(refresh, now=T0 + 2, client=client, secret=None)
    assert isinstance(missing, InvalidDPoPProof), missing
    thief = await site.token(refresh, now=T0 + 2, client=client, secret=None,
                             proof=_proof(DPoPKey()))
    assert isinstance(thief, InvalidGrant) and "another DPoP key" in thief.description
    second = await site.tokens(refresh, now=T0 + 3, client=client, secret=None,
                               proof=_proof(KEY))
    assert second.token_type == "DPoP" and second.refresh_token
    answer = await site.introspect(second.access_token, now=T0 + 4)
    assert answer["active"] is False  # a public client cannot introspect; the binding shows:
    async with site.db.transaction(readonly=True) as store:
        successor = await store.tokens.find_refresh(digest=DIGESTER.digest(second.refresh_token))
    assert successor is not None and successor.jkt == KEY.jkt
    # A retry inside the grace window gets the same, still DPoP-bound, answer.
    again = await site.tokens(refresh, now=T0 + 4, client=client, secret=None,
                              proof=_proof(KEY))
    assert (again.access_token, again.token_type) == (second.access_token, "DPoP")


async def test_a_confidential_clients_refresh_token_is_not_bound_but_new_tokens_follow_the_proof(
) -> None:
    site = Site.make()
    code = await site.authorize(extra={"scope": "account"})
    first = await site.tokens(_code_form(code), now=T0 + 1, proof=_proof(KEY))
    async with site.db.transaction(readonly=True) as store:
        assert first.refresh_token is not None
        record = await store.tokens.find_refresh(digest=DIGESTER.digest(first.refresh_token))
    assert record is not None and record.jkt is None
    # §5: refreshed with a new key, the new access token is bound to that key.
    new_key = DPoPKey("EdDSA")
    second = await site.tokens(_refresh_form(first.refresh_token), now=T0 + 20,
                               proof=_proof(new_key))
    assert (await site.introspect(second.access_token, now=T0 + 21))["cnf"] == {
        "jkt": new_key.jkt}
    third = await site.tokens(_refresh_form(second.refresh_token), now=T0 + 40)
    assert third.token_type == "Bearer"


async def test_dpop_jkt_binds_the_code_to_one_key() -> None:
    site = Site.make()
    code = await site.authorize(extra={"scope": "account", "dpop_jkt": KEY.jkt})
    missing = await site.token(_code_form(code), now=T0 + 1)
    assert isinstance(missing, InvalidDPoPProof), missing
    code = await site.authorize(extra={"scope": "account", "dpop_jkt": KEY.jkt})
    wrong = await site.token(_code_form(code), now=T0 + 1, proof=_proof(DPoPKey()))
    assert isinstance(wrong, InvalidGrant) and "bound to" in wrong.description
    code = await site.authorize(extra={"scope": "account", "dpop_jkt": KEY.jkt})
    good = await site.tokens(_code_form(code), now=T0 + 1, proof=_proof(KEY))
    assert good.token_type == "DPoP"


async def test_a_malformed_dpop_jkt_is_an_error_redirect() -> None:
    site = Site.make()
    params = Params({"client_id": site.app.client_id, "redirect_uri": REDIRECT_URI,
                     "response_type": "code", "dpop_jkt": "short"})
    async with site.db.transaction(readonly=True) as store:
        with pytest.raises(ErrorRedirect) as caught:
            await validate_request(params, store.clients, issuer=ISSUER)
    assert caught.value.error.error == "invalid_request"


async def test_a_client_that_requires_dpop_gets_no_token_without_a_proof() -> None:
    site = Site.make()
    strict = replace(site.app, dpop_bound_access_tokens=True)
    site.db = type(site.db)(DIGESTER, users=[site.alice], clients=[strict])
    form = {"grant_type": "client_credentials", "scope": "maps"}
    refused = await site.token(form, now=T0, client=strict)
    assert isinstance(refused, InvalidDPoPProof) and "must send a DPoP proof" in refused.description
    issued = await site.tokens(form, now=T0, client=strict, proof=_proof(KEY))
    assert issued.token_type == "DPoP" and issued.refresh_token is None


async def test_a_jwt_access_token_names_its_key_in_cnf() -> None:
    key = generate("ES256")
    ring = KeyRing.build(signing={"ES256": AlgKey(key.kid, "ES256", load_private(key.private_pem))},
                         default_alg="ES256", published=[key.public_jwk])
    site = Site.make(policy=TokenPolicy(access_format="jwt"), signer=ring)
    code = await site.authorize(extra={"scope": "account"})
    issued = await site.tokens(_code_form(code), now=T0 + 1, proof=_proof(KEY))
    keys = KeySet.import_key_set({"keys": [key.public_jwk]})
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        claims = jwt.decode(issued.access_token, keys, algorithms=["ES256"]).claims
    assert claims["cnf"] == {"jkt": KEY.jkt}
    assert isinstance(await site.bearer(issued.access_token, now=T0 + 2),
                      bearer.BoundTokenAsBearer)


def test_the_issued_answer_names_the_token_type() -> None:
    plain = IssuedTokens("a", 1, 1, None, "s")
    assert plain.to_json()["token_type"] == "Bearer"
    assert replace(plain, token_type="DPoP").to_json()["token_type"] == "DPoP"
