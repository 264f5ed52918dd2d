"""Dynamic client registration with strict clients nobody here wrote: npm openid-client 6
(`dynamicClientRegistration`) and oauth4webapi 3 (`dynamicClientRegistrationRequest`, then an
RFC 7592 read). Each registered app then signs a person in through the real pages."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.interop.support import REDIRECT_URI, NodeClient, Site, browser_callback
from tests.support.seed import App, Seeder
from tests.support.server import start_server


@pytest.fixture(scope="module")
def open_site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    folder = tmp_path_factory.mktemp("interop-registration")
    live = start_server(folder, extra_env={"OPENPLATE_REGISTRATION": "open"})
    try:
        yield Site(live, Seeder(live), "RS256", "opaque")
    finally:
        live.stop()


def _sign_in_with(js: NodeClient, site: Site, app: App, *, auth: str) -> dict[str, object]:
    creds = site.creds(app, auth)
    person = site.seeder.user("dcr")
    request = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope="openid profile account",
                    extra={})
    callback = browser_callback(site, person, request["url"])
    grant = js.ok("code_grant", **creds, callback_url=callback, state=request["state"],
                  nonce=request["nonce"], code_verifier=request["code_verifier"], max_age=None,
                  id_token_expected=True)
    claims: dict[str, object] = grant["claims"]
    assert claims["preferred_username"] == person.username
    return claims


def test_openid_client_registers_a_public_app_and_signs_in(js: NodeClient, open_site: Site) -> None:
    registered = js.ok("oc_register", issuer=open_site.url, metadata={
        "client_name": "openid-client CLI", "redirect_uris": [REDIRECT_URI],
        "token_endpoint_auth_method": "none", "application_type": "native",
        "grant_types": ["authorization_code", "refresh_token"]})
    metadata = registered["metadata"]
    assert metadata["client_id"].startswith("opc_") and "client_secret" not in metadata
    assert metadata["registration_client_uri"].endswith(metadata["client_id"])
    app = App(metadata["client_id"], None, (REDIRECT_URI,), "openid-client CLI")
    _sign_in_with(js, open_site, app, auth="none")


def test_oauth4webapi_registers_a_confidential_app_reads_it_back_and_signs_in(
        js: NodeClient, open_site: Site) -> None:
    registered = js.ok("o4w_register", issuer=open_site.url, metadata={
        "client_name": "oauth4webapi web", "redirect_uris": [REDIRECT_URI],
        "application_type": "native", "token_endpoint_auth_method": "client_secret_basic"})
    metadata = registered["metadata"]
    assert metadata["client_secret"].startswith("opcs_")
    assert registered["read_status"] == 200
    assert registered["read"]["client_name"] == "oauth4webapi web"
    assert "client_secret" not in registered["read"]
    app = App(metadata["client_id"], metadata["client_secret"], (REDIRECT_URI,), "web")
    _sign_in_with(js, open_site, app, auth="basic")


def test_a_refusal_reaches_the_client_library_as_the_rfc_error(js: NodeClient,
                                                               open_site: Site) -> None:
    refused = js.run("o4w_register", issuer=open_site.url, metadata={
        "redirect_uris": ["https://app.example/cb#fragment"]})
    assert refused["ok"] is False, refused
    error = refused["error"]
    assert "invalid_redirect_uri" in str(error), error
