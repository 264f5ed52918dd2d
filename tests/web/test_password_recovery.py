"""Forgotten passwords over HTTP, on every engine: the link on the sign-in page, the same answer
whether or not an account matches, a one-time link by mail (read from the server's outbox
folder) that ends every session and grant, used once even by two submissions at once, never
logged, and an authorisation request that carries on after it."""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from urllib.parse import parse_qs, quote, urlsplit

import httpx
import pytest

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.burst import Post, fresh_forms, post_together, statuses
from tests.support.mailbox import folder_of, link_in, mail_to, read_all, text_of
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.tokens import me, tokens_for

RESET_SUBJECT = "Reset your Openplate password"
CHANGED_SUBJECT = "Your Openplate account changed"
NEW_PASSWORD = "a brand new passphrase"


def browser(server: LiveServer) -> httpx.Client:
    return httpx.Client(base_url=server.url, timeout=30)


def ask_for_link(client: httpx.Client, login: str, *, next_path: str = "/") -> httpx.Response:
    page = client.get("/password/forgot", params={"next": next_path})
    assert page.status_code == 200, page.text[:300]
    return client.post("/password/forgot", data={**hidden_fields(page.text), "login": login})


def reset_link_for(server: LiveServer, account: Account, *, count: int = 1) -> str:
    return link_in(mail_to(server, account.email, subject=RESET_SUBJECT, count=count)[-1])


def next_of_link(page: str, path: str) -> str:
    """The ``next`` that the page's link to ``path`` carries."""
    found = re.search(f'href="({re.escape(path)}[^"]*)"', page)
    assert found is not None, f"no link to {path}"
    return parse_qs(urlsplit(html.unescape(found[1])).query)["next"][0]


def test_the_sign_in_page_links_to_recovery_keeping_where_it_goes(server: LiveServer) -> None:
    with browser(server) as client:
        page = client.get("/signin", params={"next": "/account/apps"})
    assert next_of_link(page.text, "/password/forgot?") == "/account/apps"


def test_the_answer_is_the_same_whether_or_not_an_account_matches(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("forgetful")
    before = len(read_all(folder_of(server)))
    answers = []
    with browser(server) as client:
        for login in ("nobody-" + account.username, account.username):
            response = ask_for_link(client, login)
            page = client.get(response.headers["location"])
            answers.append((response.status_code, response.headers["location"], page.status_code,
                            page.text))
    assert answers[0] == answers[1]
    assert answers[0][0] == 303 and answers[0][1].startswith("/password/forgot/sent")
    assert "If an account has that username or e-mail address" in answers[0][3]
    [mail] = mail_to(server, account.email, subject=RESET_SUBJECT)
    # Only the account's address got a message.
    assert [m["To"] for m in read_all(folder_of(server))[before:]] == [account.email]
    assert "/password/reset/oppr_" in text_of(mail) and account.username in text_of(mail)


def test_a_bad_request_is_told_at_its_field(server: LiveServer) -> None:
    with browser(server) as client:
        refused = ask_for_link(client, "   ")
    assert refused.status_code == 400
    assert 'aria-invalid="true"' in refused.text and 'id="login-error"' in refused.text
    assert 'aria-describedby="login-error login-help"' in refused.text


def test_a_reset_link_sets_the_password_once_and_ends_every_session_and_grant(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("resetter")
    app = seeder.app(account)
    tokens = tokens_for(server.url, account, app)
    assert me(server.url, tokens["access_token"]).status_code == 200
    with browser(server) as elsewhere:  # signed in in another browser
        assert sign_in(elsewhere, account).status_code == 303
        assert elsewhere.get("/account/apps").status_code == 200
        with browser(server) as client:
            assert ask_for_link(client, account.email).status_code == 303
            path = reset_link_for(server, account)
            page = client.get(path)
            assert page.status_code == 200 and account.username in page.text
            assert page.headers["referrer-policy"] == "no-referrer"
            weak = client.post(path, data={**hidden_fields(page.text), "new_password": "short"})
            assert weak.status_code == 400 and 'aria-invalid="true"' in weak.text
            done = client.post(path, data={**hidden_fields(page.text),
                                           "new_password": NEW_PASSWORD})
            assert done.status_code == 303, done.text[:300]
            assert done.headers["location"].startswith("/password/reset-done")
            again = client.post(path, data={**hidden_fields(page.text), "new_password": "another one!"})
            assert again.status_code == 410 and "no longer works" in again.text
            assert client.get(path).status_code == 410
        # Every session of the account ended, and every grant with it.
        assert elsewhere.get("/account/apps").headers.get("location", "").startswith("/signin")
    assert me(server.url, tokens["access_token"]).status_code == 401
    with browser(server) as client:
        assert sign_in(client, account).status_code == 401  # the old password
        assert sign_in(client, Account(account.id, account.username, account.email,
                                       NEW_PASSWORD)).status_code == 303
    [notice] = mail_to(server, account.email, subject=CHANGED_SUBJECT)
    assert "password was reset" in text_of(notice)
    # The token never reaches the log; the path is logged with it replaced.
    token = path.rsplit("/", 1)[1]
    assert token not in server.log() and token[5:25] not in server.log()
    assert "/password/reset/[redacted]" in server.log()


def test_two_submissions_at_once_set_one_password(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("racer")
    with browser(server) as client:
        assert ask_for_link(client, account.username).status_code == 303
        path = reset_link_for(server, account)
        page = client.get(path)
        fields, cookies = hidden_fields(page.text), dict(client.cookies)
    passwords = ["first racing password", "second racing password"]
    answers = post_together([Post(server.url + path, {**fields, "new_password": p},
                                  cookies=cookies) for p in passwords])
    assert statuses(answers) == {303: 1, 410: 1}
    winner = passwords[[a.status_code for a in answers].index(303)]
    loser = passwords[1 - passwords.index(winner)]
    with browser(server) as client:
        assert sign_in(client, Account(account.id, account.username, account.email,
                                       loser)).status_code == 401
        assert sign_in(client, Account(account.id, account.username, account.email,
                                       winner)).status_code == 303


def test_requests_are_throttled_per_account_name_known_or_not(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("throttled")
    for login in (account.username, "ghost-" + account.username):
        with browser(server) as client:
            answers = [ask_for_link(client, login).status_code for _ in range(4)]
        assert answers == [303, 303, 303, 429], login
    assert len(mail_to(server, account.email, subject=RESET_SUBJECT, count=3)) == 3


def test_a_link_that_does_not_exist_says_so(server: LiveServer) -> None:
    with browser(server) as client:
        for path in ("/password/reset/oppr_" + "A" * 57, "/password/reset/nonsense"):
            page = client.get(path)
            assert page.status_code == 410 and "Ask for a new link" in page.text
            posted = client.post(path, data={"csrf_token": "x", "new_password": NEW_PASSWORD})
            assert posted.status_code in (403, 410)


def test_an_authorisation_request_carries_on_after_the_reset(
        server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("midflow")
    app = seeder.app(account, name="Demo Mapper")
    params = {"client_id": app.client_id, "redirect_uri": app.redirect_uris[0],
              "response_type": "code", "state": "st"}
    with browser(server) as client:
        started = client.get("/oauth/auth", params=params)
        assert started.status_code == 303
        next_path = parse_qs(urlsplit(started.headers["location"]).query)["next"][0]
        signin = client.get(started.headers["location"])
        assert next_of_link(signin.text, "/password/forgot?") == next_path
        forgot = client.get("/password/forgot", params={"next": next_path})
        assert "Demo Mapper" in forgot.text
        sent = client.post("/password/forgot", data={**hidden_fields(forgot.text),
                                                     "login": account.username})
        assert sent.status_code == 303
        path = reset_link_for(server, account)
        page = client.get(path)
        done = client.post(path, data={**hidden_fields(page.text), "new_password": NEW_PASSWORD})
        assert done.status_code == 303
        finished = client.get(done.headers["location"])
        assert next_of_link(finished.text, "/signin?") == next_path
        again = client.get(f"/signin?next={quote(next_path, safe='')}")
        assert "Demo Mapper" in again.text
        signed = client.post("/signin", data={**hidden_fields(again.text),
                                              "login": account.username, "password": NEW_PASSWORD})
        assert signed.status_code == 303 and signed.headers["location"] == next_path
        consent = client.get(next_path)
        assert consent.status_code == 200 and "Demo Mapper" in consent.text
        assert 'name="decision"' in consent.text


def test_changing_the_password_mails_a_notice(server: LiveServer, seeder: Seeder) -> None:
    account = seeder.user("changer")
    with browser(server) as client:
        assert sign_in(client, account).status_code == 303
        page = client.get("/account/password")
        changed = client.post("/account/password", data={
            **hidden_fields(page.text), "current_password": account.password,
            "new_password": NEW_PASSWORD})
        assert changed.status_code == 303
    [notice] = mail_to(server, account.email, subject=CHANGED_SUBJECT)
    assert "Your password was changed" in text_of(notice)
    assert "/account/security" in text_of(notice)


def test_a_parallel_burst_for_one_name_gets_three_links(server: LiveServer, seeder: Seeder) -> None:
    """The per-name budget (3 an hour) holds when ten requests arrive at once."""
    account = seeder.user("burst")
    forms = fresh_forms(server.url + "/password/forgot", 10, source="127.0.0.1")
    answers = post_together([Post(server.url + "/password/forgot",
                                  {"csrf_token": token, "next": "/", "login": account.username},
                                  cookies=cookies) for cookies, token in forms])
    assert statuses(answers) == {303: 3, 429: 7}
    assert all(a.headers.get("retry-after") for a in answers if a.status_code == 429)
    assert len(mail_to(server, account.email, subject=RESET_SUBJECT, count=3)) == 3


@pytest.fixture(scope="module")
def tight_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LiveServer]:
    live = start_server(tmp_path_factory.mktemp("tight"),
                        extra_env={"OPENPLATE_LINK_MAILS_PER_IP": "5"})
    yield live
    live.stop()


def test_requests_are_throttled_per_address(tight_server: LiveServer) -> None:
    """Many names from one address: the address's budget holds under a burst; another address
    has its own."""
    url = tight_server.url + "/password/forgot"
    forms = fresh_forms(url, 12, source="127.0.0.7")
    answers = post_together([Post(url, {"csrf_token": token, "next": "/", "login": f"name{i}"},
                                  source="127.0.0.7", cookies=cookies)
                             for i, (cookies, token) in enumerate(forms)])
    assert statuses(answers) == {303: 5, 429: 7}
    [(cookies, token)] = fresh_forms(url, 1, source="127.0.0.8")
    [other] = post_together([Post(url, {"csrf_token": token, "next": "/", "login": "name0"},
                                  source="127.0.0.8", cookies=cookies)])
    assert other.status_code == 303
