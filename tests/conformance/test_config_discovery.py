"""Config OP: the discovery document (OpenID Connect Discovery 1.0 §3-4, RFC 8414 §2-3).

The "Config OP" plan (OIDCCConfigTestPlan) has one module, oidcc-discovery-endpoint-verification.
It insists on https for the issuer and every endpoint, so it runs against a deployment whose
public URL is https (OPENPLATE_PUBLIC_URL, TLS ended by a proxy in front, as docs/deploy.md
describes); the test reaches each advertised URL through the server's loopback port, as that
proxy would.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from joserfc.jwk import import_key

from openplate.settings import Settings
from openplate.web.routes.oidc import metadata
from tests.conformance.oidf import content_type
from tests.support.server import LiveServer, start_server

PUBLIC = "https://op.example.test"
WELL_KNOWN = "/.well-known/openid-configuration"
#: OIDCCCheckDiscEndpointResponseTypesSupported: the response types OpenID Connect defines.
OIDC_RESPONSE_TYPES = {"code", "code id_token", "id_token", "token id_token", "code id_token token",
                       "code token"}
#: OpenID Connect Discovery §3: REQUIRED (token_endpoint too, unless only implicit is offered).
REQUIRED_METADATA = {"issuer", "authorization_endpoint", "token_endpoint", "jwks_uri",
                     "response_types_supported", "subject_types_supported",
                     "id_token_signing_alg_values_supported"}
#: RFC 8414 §2, OpenID Connect Discovery §3, RFC 9207, RFC 7009/7662 metadata: name -> type.
URI, STRINGS, BOOLEAN = "uri", "strings", "boolean"
KNOWN_METADATA: dict[str, str] = {
    "issuer": URI, "authorization_endpoint": URI, "token_endpoint": URI, "userinfo_endpoint": URI,
    "jwks_uri": URI, "registration_endpoint": URI, "revocation_endpoint": URI,
    "introspection_endpoint": URI, "device_authorization_endpoint": URI,
    "end_session_endpoint": URI, "service_documentation": URI,
    "op_policy_uri": URI, "op_tos_uri": URI, "check_session_iframe": URI,
    "scopes_supported": STRINGS, "response_types_supported": STRINGS,
    "response_modes_supported": STRINGS, "grant_types_supported": STRINGS,
    "acr_values_supported": STRINGS, "subject_types_supported": STRINGS,
    "id_token_signing_alg_values_supported": STRINGS,
    "id_token_encryption_alg_values_supported": STRINGS,
    "id_token_encryption_enc_values_supported": STRINGS,
    "userinfo_signing_alg_values_supported": STRINGS,
    "request_object_signing_alg_values_supported": STRINGS,
    "token_endpoint_auth_methods_supported": STRINGS,
    "token_endpoint_auth_signing_alg_values_supported": STRINGS,
    "revocation_endpoint_auth_methods_supported": STRINGS,
    "introspection_endpoint_auth_methods_supported": STRINGS,
    "code_challenge_methods_supported": STRINGS, "display_values_supported": STRINGS,
    "claim_types_supported": STRINGS, "claims_supported": STRINGS,
    "claims_locales_supported": STRINGS, "ui_locales_supported": STRINGS,
    "prompt_values_supported": STRINGS,
    "claims_parameter_supported": BOOLEAN, "request_parameter_supported": BOOLEAN,
    "request_uri_parameter_supported": BOOLEAN, "require_request_uri_registration": BOOLEAN,
    "authorization_response_iss_parameter_supported": BOOLEAN,
    # RFC 9449 §5.1 (registered in IANA's OAuth Authorization Server Metadata registry).
    "dpop_signing_alg_values_supported": STRINGS,
    # Front-Channel Logout §3 and Back-Channel Logout §2.1 (the suite knows them too).
    "frontchannel_logout_supported": BOOLEAN, "frontchannel_logout_session_supported": BOOLEAN,
    "backchannel_logout_supported": BOOLEAN, "backchannel_logout_session_supported": BOOLEAN,
    # RFC 9126 §5 (registered in IANA's OAuth Authorization Server Metadata registry).
    "pushed_authorization_request_endpoint": URI,
    "require_pushed_authorization_requests": BOOLEAN,
    # OAuth Client ID Metadata Document (the draft's IANA registration).
    "client_id_metadata_document_supported": BOOLEAN,
}
_SCOPE_TOKEN = re.compile(r"[\x21\x23-\x5b\x5d-\x7e]+")  # RFC 6749 Appendix A.4
_B64URL = re.compile(r"[A-Za-z0-9_-]+")
#: ValidateJwksStructure: the members each key type needs (RFC 7518 §6, RFC 8037 §2).
KEY_MEMBERS = {"RSA": ("n", "e"), "EC": ("crv", "x", "y"), "OKP": ("crv", "x")}
#: EnsureJwksHasNoPrivateOrSymmetricKeyMaterial.
PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@pytest.fixture(scope="module")
def https_deployment(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("oidf-https"),
                        extra_env={"OPENPLATE_PUBLIC_URL": PUBLIC})
    try:
        yield live
    finally:
        live.stop()


def _through_proxy(live: LiveServer, url: str) -> str:
    assert url.startswith(PUBLIC + "/"), url
    return live.url + url[len(PUBLIC):]


def _https_url(name: str, value: object) -> str:
    """AbstractJsonUriIsValidAndHttps and CheckDiscEndpointIssuerIsValidUrl's rules."""
    assert isinstance(value, str), (name, value)
    parts = urlsplit(value)
    assert parts.scheme == "https" and parts.hostname, (name, value)
    assert "@" not in parts.netloc and not parts.fragment, (name, value)
    assert parts.port is None or 0 < parts.port < 65536, (name, value)
    return value


def verify_discovery(meta: dict[str, Any], discovery_url: str) -> list[str]:
    """OIDCCDiscoveryEndpointVerification's conditions on the document; returns the warnings."""
    warnings: list[str] = []
    missing = REQUIRED_METADATA - set(meta)  # OpenID Connect Discovery §3's REQUIRED fields
    assert not missing, f"discovery lacks {sorted(missing)}"
    # CheckDiscEndpointDiscoveryUrl and CheckDiscEndpointIssuer (slashes at the end aside).
    assert discovery_url.startswith("https://") and discovery_url.endswith(WELL_KNOWN)
    assert meta["issuer"].rstrip("/") == discovery_url[: -len(WELL_KNOWN)].rstrip("/")
    _https_url("issuer", meta["issuer"])  # CheckDiscEndpointIssuerIsValidUrl
    assert not urlsplit(meta["issuer"]).query
    # ValidateServerMetadataAgainstSchema (the types of what is there) and
    # CheckForUnexpectedParametersInServerMetadata (a warning).
    for name, value in meta.items():
        kind = KNOWN_METADATA.get(name)
        if kind is None:
            warnings.append(f"CheckForUnexpectedParametersInServerMetadata: {name}")
        elif kind == URI:
            assert isinstance(value, str) and urlsplit(value).scheme, (name, value)
        elif kind == STRINGS:
            assert isinstance(value, list) and all(isinstance(v, str) for v in value), (name, value)
        else:
            assert isinstance(value, bool), (name, value)
    assert set(meta["response_types_supported"]) & OIDC_RESPONSE_TYPES
    assert set(meta["subject_types_supported"]) & {"public", "pairwise"}
    assert "RS256" in meta["id_token_signing_alg_values_supported"]
    for name in ("authorization_endpoint", "token_endpoint", "jwks_uri"):
        _https_url(name, meta[name])
    if "userinfo_endpoint" in meta:
        _https_url("userinfo_endpoint", meta["userinfo_endpoint"])
    else:  # recommended: a warning when absent
        warnings.append("CheckDiscEndpointUserinfoEndpoint: no userinfo_endpoint")
    if "registration_endpoint" in meta:
        _https_url("registration_endpoint", meta["registration_endpoint"])
    if "request_object_signing_alg_values_supported" in meta and \
            "RS256" not in meta["request_object_signing_alg_values_supported"]:
        warnings.append("CheckDiscEndpointRequestObjectSigningAlgValuesSupportedIncludesRS256")
    if "claims_supported" not in meta:
        warnings.append("OIDCCCheckDiscEndpointClaimsSupported: no claims_supported")
    if "grant_types_supported" in meta:
        assert meta["grant_types_supported"], "grant_types_supported is empty"
    if "scopes_supported" in meta:
        assert "openid" in meta["scopes_supported"]  # CheckDiscEndpointScopesSupportedContainsOpenId
        for scope in meta["scopes_supported"]:  # CheckDiscEndpointScopesSupportedSyntax
            assert _SCOPE_TOKEN.fullmatch(scope), scope
    else:
        warnings.append("CheckDiscEndpointScopesSupportedContainsOpenId: no scopes_supported")
    for name in ("ui_locales_supported", "claims_locales_supported"):  # CheckDiscEndpointLocalesSyntax
        for tag in meta.get(name, []):
            assert re.fullmatch(r"[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8})*", tag), (name, tag)
    for name, value in meta.items():  # CheckDiscEndpointAllEndpointsAreHttps
        if name.endswith("_endpoint"):
            _https_url(name, value)
    methods = meta.get("code_challenge_methods_supported")
    if methods:  # EnsureServerConfigurationCodeChallengeMethodsSupportedIsAnArray
        assert set(methods) & {"S256", "plain"}, methods
    return warnings


def verify_jwks(jwks: dict[str, Any]) -> None:
    """ValidateJwksSequence, CheckForKeyIdInServerJWKs and CheckDistinctKeyIdValueInServerJWKs."""
    keys = jwks.get("keys")
    assert isinstance(keys, list) and keys, jwks
    kids = []
    for key in keys:
        assert isinstance(key, dict)
        assert not PRIVATE_MEMBERS & set(key), f"private or symmetric material in {key.get('kid')}"
        members = KEY_MEMBERS.get(key.get("kty", ""))
        assert members is not None, f"unknown key type {key.get('kty')}"
        for member in members:
            value = key.get(member)
            assert isinstance(value, str) and value, (key.get("kid"), member)
            if member != "crv":
                assert _B64URL.fullmatch(value), (key.get("kid"), member)  # unpadded base64url
        import_key(key)  # ParseUsableJwksKeys
        assert key.get("use", "sig") == "sig"
        assert isinstance(key.get("kid"), str) and key["kid"].strip(), key
        kids.append(key["kid"])
    assert len(kids) == len(set(kids)), kids


def _answers(live: LiveServer, meta: dict[str, Any]) -> None:
    """Every URL in the document answers, each as what it claims to be (our addition)."""
    def url(name: str) -> str:
        return _through_proxy(live, meta[name])

    with httpx.Client(timeout=20, follow_redirects=False) as http:
        auth = http.get(url("authorization_endpoint"))  # no client_id: our error page
        assert auth.status_code == 400 and "text/html" in auth.headers["content-type"]
        token = http.post(url("token_endpoint"), data={})
        assert token.status_code in (400, 401) and "error" in token.json()
        info = http.get(url("userinfo_endpoint"))
        assert info.status_code == 401 and info.headers["www-authenticate"].startswith("Bearer")
        keys = http.get(url("jwks_uri"))
        assert keys.status_code == 200 and keys.json()["keys"]
        verify_jwks(keys.json())
        for name in ("revocation_endpoint", "introspection_endpoint",
                     "device_authorization_endpoint", "pushed_authorization_request_endpoint"):
            answer = http.post(url(name), data={"token": "x"})
            assert answer.status_code in (400, 401) and "error" in answer.json(), name
        docs = http.get(url("service_documentation"))
        assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
        # RP-Initiated Logout: a browser signed in nowhere goes on at once to our own page.
        logout = http.get(url("end_session_endpoint"))
        assert logout.status_code == 303 and logout.headers["location"] == "/oauth/logout/done"
        for name in ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
                     "revocation_endpoint", "introspection_endpoint", "service_documentation",
                     "device_authorization_endpoint", "end_session_endpoint",
                     "pushed_authorization_request_endpoint"):
            assert name in meta, name  # each one above was reached
        assert not {n for n in meta if n.endswith(("_endpoint", "_uri", "_documentation"))} - {
            "authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri",
            "revocation_endpoint", "introspection_endpoint", "service_documentation",
            "device_authorization_endpoint", "end_session_endpoint",
            "pushed_authorization_request_endpoint"}, \
            "a URL in the document that this test does not reach"


def test_oidcc_discovery_endpoint_verification(https_deployment: LiveServer) -> None:
    """oidcc-discovery-endpoint-verification: /.well-known/openid-configuration answers 200
    JSON; its issuer is where it was fetched from, a valid https URL; every field has its type
    and a known name; it offers an OpenID response type, a subject type, RS256 ID tokens, openid
    among well-formed scopes and a non-empty grant list; every endpoint is https; the JWKS has
    public keys only, each well formed, with distinct kids. Beyond the module: RFC 8414's
    document is the same, and every URL in it answers as what it claims to be."""
    live = https_deployment
    answer = httpx.get(live.url + WELL_KNOWN, timeout=20)
    assert answer.status_code == 200 and content_type(answer) == "application/json"
    meta: dict[str, Any] = answer.json()
    assert meta["issuer"] == PUBLIC
    assert verify_discovery(meta, PUBLIC + WELL_KNOWN) == []
    oauth = httpx.get(live.url + "/.well-known/oauth-authorization-server", timeout=20)
    assert oauth.status_code == 200 and oauth.json() == meta
    _answers(live, meta)
    log = live.log()  # (the autouse check watches the shared server, not this one)
    assert "Traceback" not in log and "unhandled error" not in log, log[-3000:]


def test_oidcc_discovery_endpoint_verification_rs256_whatever_the_default() -> None:
    """oidcc-discovery-endpoint-verification's OIDCCCheckDiscEndpointIdTokenSigningAlgValuesSupported
    on a deployment whose default signature is ES256 (OPENPLATE_SIGNING_ALG): RS256 must still be
    offered (OIDC Core §15.1), since any client may register it. Checked on the document the
    server builds (web/routes/oidc.metadata) for that configuration."""
    settings = Settings(database_url="sqlite://", public_url=PUBLIC, signing_alg="ES256",
                        secret_key="k" * 40)
    meta = metadata(settings)
    assert "ES256" in meta["id_token_signing_alg_values_supported"]
    assert verify_discovery(meta, PUBLIC + WELL_KNOWN) == []
