"""E-mail verification over HTTP, on every engine: a link at sign-up, ``email_verified`` in the
ID token and UserInfo only once it is used, a change of address that takes effect only when the
new address's link is used (the old one told both times), the link sent again (throttled), and
OPENPLATE_REQUIRE_VERIFIED_EMAIL as a step of the authorisation (``interaction_required`` under
prompt=none)."""

from __future__ import annotations

import base64
import json
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.conftest import _backend_server
from tests.support.browser_flow import hidden_fields, redirect_params, sign_in
from tests.support.mailbox import link_in, mail_to, text_of
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import tokens_for

VERIFY_SUBJECT = "Confirm your e-mail address for Openplate"
CHANGED_SUBJECT = "Your Openplate account changed"


def sign_up(client: httpx.Client, name: str, *, next_path: str = "/") -> Account:
    page = client.get("/signup", params={"next": next_path})
    account = Account(0, name, f"{name}@example.org", "a good long password")
    done = client.post("/signup", data={**hidden_fields(page.text), "username": name,
                                        "email": account.email, "password": account.password})
    assert done.status_code == 303, done.text[:300]
    return account


def confirm(client: httpx.Client, path: str) -> httpx.Response:
    page = client.get(path)
    assert page.status_code == 200 and "Confirm my address" in page.text
    return client.post(path, data=hidden_fields(page.text))


def claims(server: LiveServer, account: Account,
           seeder: Seeder) -> tuple[dict[str, object], dict[str, object]]:
    """The ID token's claims and UserInfo's, for a fresh authorisation with scope email."""
    app = seeder.app(seeder.user("reader"), name="Claims Reader")
    body = tokens_for(server.url, account, app, scope="openid email")
    payload = body["id_token"].split(".")[1]
    id_claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    info = httpx.get(server.url + "/oauth/userinfo", timeout=30,
                     headers={"Authorization": f"Bearer {body['access_token']}"}).json()
    return id_claims, info


def test_sign_up_mails_a_link_and_only_its_use_makes_the_address_verified(
        server: LiveServer, seeder: Seeder) -> None:
    name = seeder.user("probe").username + "v"  # a fresh unique name
    with httpx.Client(base_url=server.url, timeout=30) as client:
        account = sign_up(client, name)
        [mail] = mail_to(server, account.email, subject=VERIFY_SUBJECT)
        id_claims, info = claims(server, account, seeder)
        assert id_claims["email_verified"] is False and info["email_verified"] is False
        page = client.get("/account/email")
        assert "not verified yet" in page.text and "Send the link again" in page.text
        path = link_in(mail)
        assert path.startswith("/account/email/verify/opev_")
        done = confirm(client, path)
        assert done.status_code == 303 and done.headers["location"] == "/account/email"
        assert "verified" in client.get("/account/email").text
        assert client.post(path, data=hidden_fields(client.get(path).text)).status_code == 410
    id_claims, info = claims(server, account, seeder)
    assert id_claims["email_verified"] is True and info["email_verified"] is True
    assert info["email"] == account.email
    assert path.rsplit("/", 1)[1] not in server.log()


def test_a_new_address_counts_only_once_its_link_is_used(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("mover")
    other = seeder.user("occupant")
    new_email = f"new-{account.username}@example.net"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, account).status_code == 303
        page = client.get("/account/email")

        def change(email: str, password: str) -> httpx.Response:
            return client.post("/account/email", data={
                **hidden_fields(page.text), "new_email": email, "current_password": password})

        wrong = change(new_email, "not the password")
        assert wrong.status_code == 401 and 'aria-describedby="password-error"' in wrong.text
        bad = change("not an address", account.password)
        assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
        assert "email-error" in bad.text
        taken = change(other.email.upper(), account.password)
        assert taken.status_code == 409 and "another account" in taken.text
        asked = change(new_email, account.password)
        assert asked.status_code == 303
        assert new_email in client.get("/account/email").text
        [told] = mail_to(server, account.email, subject=CHANGED_SUBJECT)
        assert new_email in text_of(told) and "Nothing changes unless" in text_of(told)
        [link_mail] = mail_to(server, new_email, subject=VERIFY_SUBJECT)
    # Until the link is used, the account is still the old address's.
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert sign_in(client, Account(0, account.email, "", account.password)).status_code == 303
    with httpx.Client(base_url=server.url, timeout=30) as stranger:  # another browser opens it
        done = confirm(stranger, link_in(link_mail))
        assert done.status_code == 303 and done.headers["location"] == "/account/email/verified"
    for login, status in ((new_email, 303), (account.email, 401)):
        with httpx.Client(base_url=server.url, timeout=30) as client:
            assert sign_in(client, Account(0, login, "", account.password)).status_code == status
    told_again = mail_to(server, account.email, subject=CHANGED_SUBJECT, count=2)
    assert any(f"changed to {new_email}" in text_of(m) for m in told_again)


def test_the_link_is_sent_again_older_ones_end_and_it_is_throttled(
        server: LiveServer, seeder: Seeder) -> None:
    name = seeder.user("probe").username + "r"
    with httpx.Client(base_url=server.url, timeout=30) as client:
        account = sign_up(client, name)
        [first] = mail_to(server, account.email, subject=VERIFY_SUBJECT)
        notices = []
        for _ in range(4):
            page = client.get("/account/email")
            sent = client.post("/account/email/resend", data=hidden_fields(page.text))
            assert sent.status_code == 303
            notices.append(client.get(sent.headers["location"]).text)
        assert all("We sent a new link" in n for n in notices[:3])
        assert "Wait an hour" in notices[3]
        mails = mail_to(server, account.email, subject=VERIFY_SUBJECT, count=4)
        assert len(mails) == 4
        assert confirm(client, link_in(first)).status_code == 410
        assert confirm(client, link_in(mails[-1])).status_code == 303


@pytest.fixture(scope="module", params=["sqlite", "postgresql+redis"])
def strict_server(request: pytest.FixtureRequest,
                  tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    yield from _backend_server(request.param, tmp_path_factory,
                               extra_env={"OPENPLATE_REQUIRE_VERIFIED_EMAIL": "true"})


def test_apps_can_require_a_verified_address(strict_server: LiveServer) -> None:
    server = strict_server
    seeder = Seeder(server)
    owner = seeder.user("owner")
    app = seeder.app(owner, name="Strict Mapper")
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
              "response_type": "code", "state": "st", "scope": "openid email"}
    with httpx.Client(base_url=server.url, timeout=30) as client:
        account = sign_up(client, "strict" + owner.username)
        silent = client.get("/oauth/auth", params={**params, "prompt": "none"})
        assert redirect_params(silent)["error"] == "interaction_required"
        page = client.get("/oauth/auth", params=params)
        assert page.status_code == 200 and "Verify your e-mail address" in page.text
        assert "Strict Mapper" in page.text and account.email in page.text
        resume = page.text.split('class="button" href="')[1].split('"')[0].replace("&amp;", "&")
        resent = client.post("/account/email/resend", data=hidden_fields(page.text))
        assert resent.status_code == 303 and resent.headers["location"] == resume
        mails = mail_to(server, account.email, subject=VERIFY_SUBJECT, count=2)
        assert confirm(client, link_in(mails[-1])).status_code == 303
        consent = client.get(resume)
        assert consent.status_code == 200 and 'name="decision"' in consent.text
        allowed = client.post("/oauth/auth/decision", data={**hidden_fields(consent.text),
                                                            "decision": "allow"})
        assert "code" in redirect_params(allowed)
    assert "Traceback" not in server.log()


def test_the_strict_step_is_documented(tmp_path: Path) -> None:
    text = (Path(__file__).parents[2] / "docs" / "architecture.md").read_text()
    assert "| verified e-mail |" in text
