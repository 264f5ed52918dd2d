"""Deleting an account (``/account/delete``, ``openplate user delete``) and an application
(``openplate app delete``), over HTTP on SQLite and PostgreSQL: what the page lists is what goes,
nothing of it is left in any table, every token ends, and the security log keeps the record."""

from __future__ import annotations

import re

import httpx

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.operator_cli import operator, operator_json
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer
from tests.support.tokens import me, refresh, tokens_for
from tests.support.two_factor import enrol
from tests.web.test_disabled_accounts import upload

#: Every table with a row that belongs to a user, and how to count that user's rows in it.
OWNED = {
    "users": "SELECT COUNT(*) FROM users WHERE id = :u",
    "clients": "SELECT COUNT(*) FROM clients WHERE owner_id = :u",
    "grants": "SELECT COUNT(*) FROM grants WHERE user_id = :u OR client_pk IN (:c)",
    "authorization_codes": "SELECT COUNT(*) FROM authorization_codes WHERE user_id = :u",
    "access_tokens": "SELECT COUNT(*) FROM access_tokens WHERE user_id = :u OR client_pk IN (:c)",
    "refresh_tokens": "SELECT COUNT(*) FROM refresh_tokens WHERE user_id = :u OR client_pk IN (:c)",
    "sessions": "SELECT COUNT(*) FROM sessions WHERE user_id = :u",
    "consents": "SELECT COUNT(*) FROM consents WHERE user_id = :u OR client_pk IN (:c)",
    "maps": "SELECT COUNT(*) FROM maps WHERE owner_id = :u",
    "map_files": "SELECT COUNT(*) FROM map_files WHERE map_id IN (SELECT id FROM maps"
                 " WHERE owner_id = :u)",
    "auth_requests": "SELECT COUNT(*) FROM auth_requests WHERE client_pk IN (:c)",
    "client_logos": "SELECT COUNT(*) FROM client_logos WHERE client_pk IN (:c)",
    "totp_authenticators": "SELECT COUNT(*) FROM totp_authenticators WHERE user_id = :u",
    "recovery_codes": "SELECT COUNT(*) FROM recovery_codes WHERE user_id = :u",
    "passkeys": "SELECT COUNT(*) FROM passkeys WHERE user_id = :u",
    "webauthn_challenges": "SELECT COUNT(*) FROM webauthn_challenges WHERE user_id = :u",
    "second_factor_waits": "SELECT COUNT(*) FROM second_factor_waits WHERE user_id = :u",
}


def counts(seeder: Seeder, user_id: int, client_pk: int) -> dict[str, int]:
    return {table: int(str(seeder.scalar(sql, u=user_id, c=client_pk)))
            for table, sql in OWNED.items()}


def client_pk(seeder: Seeder, client_id: str) -> int:
    return int(str(seeder.scalar("SELECT id FROM clients WHERE client_id = :c", c=client_id)))


def a_full_account(server: LiveServer, seeder: Seeder) -> tuple[Account, dict[str, str], dict[str, str]]:
    """An account with an application of its own (allowed by another user), two maps and
    tokens of its own for another application: (the account, its tokens, the other user's
    tokens for its application)."""
    owner = seeder.user("leaving")
    own_app = seeder.app(owner, name="Leaver's <Mapper>")
    elsewhere = seeder.app(seeder.user("dev"), name="Somewhere else")
    tokens = tokens_for(server.url, owner, elsewhere, scope="account maps")
    for title in ("First & best map", "Second map"):
        assert upload(server, tokens["access_token"], title).status_code == 201
    fan = tokens_for(server.url, seeder.user("fan"), own_app)
    return owner, tokens, fan


def test_the_page_lists_what_goes_and_deletes_nothing_without_the_password(
        server: LiveServer, seeder: Seeder) -> None:
    owner, tokens, _fan = a_full_account(server, seeder)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, owner).status_code == 303
        page = browser.get("/account/delete")
        assert page.status_code == 200
        text = page.text
        assert "Leaver&#39;s &lt;Mapper&gt;" in text  # its application, by name, escaped
        assert "First &amp; best map" in text and "Second map" in text
        assert "the 1 application you have allowed" in text
        assert 'href="/account/delete"' in browser.get("/account/apps").text  # reached from there

        fields = hidden_fields(text)
        wrong = browser.post("/account/delete", data={**fields, "password": "not my password"})
        assert wrong.status_code == 401
        assert 'aria-invalid="true" aria-describedby="delete-password-error"' in wrong.text
        assert re.search(r'id="delete-password-error"[^>]*>That password is not right', wrong.text)
        forged = browser.post("/account/delete", data={"csrf_token": "forged",
                                                       "password": owner.password})
        assert forged.status_code == 403
    assert me(server.url, tokens["access_token"]).status_code == 200
    assert int(str(seeder.scalar("SELECT COUNT(*) FROM users WHERE id = :u", u=owner.id))) == 1


def test_deleting_an_account_leaves_nothing_behind(server: LiveServer, seeder: Seeder) -> None:
    owner, tokens, fan = a_full_account(server, seeder)
    bystander = seeder.user("stays")
    kept = tokens_for(server.url, bystander, seeder.app(seeder.user("dev")))
    own_pk = client_pk(seeder, own_client_id(seeder, owner))
    before = counts(seeder, owner.id, own_pk)
    assert all(before[t] > 0 for t in ("users", "clients", "grants", "access_tokens",
                                       "refresh_tokens", "consents", "maps", "map_files"))
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, owner).status_code == 303
        fields = hidden_fields(browser.get("/account/delete").text)
        done = browser.post("/account/delete", data={**fields, "password": owner.password})
        assert done.status_code == 303 and done.headers["location"] == "/"
        home = browser.get("/")
        assert "Your account was deleted" in home.text
        assert "Sign in" in home.text and browser.get("/account/apps").status_code == 303
        assert "Your account was deleted" not in browser.get("/").text  # shown once

    assert counts(seeder, owner.id, own_pk) == dict.fromkeys(OWNED, 0)
    assert me(server.url, tokens["access_token"]).status_code == 401
    assert me(server.url, fan["access_token"]).status_code == 401  # its app's tokens ended
    assert me(server.url, kept["access_token"]).status_code == 200  # nobody else's
    events = seeder.scalar("SELECT COUNT(*) FROM security_events WHERE user_id = :u"
                           " AND kind = 'account.deleted'", u=owner.id)
    assert int(str(events)) == 1


def own_client_id(seeder: Seeder, owner: Account) -> str:
    return str(seeder.scalar("SELECT client_id FROM clients WHERE owner_id = :u", u=owner.id))


def test_the_operator_deletes_an_account_only_with_yes(server: LiveServer, seeder: Seeder) -> None:
    owner, tokens, _fan = a_full_account(server, seeder)
    own_pk = client_pk(seeder, own_client_id(seeder, owner))
    refused = operator(server, "user", "delete", owner.username)
    assert refused.returncode == 1 and len(refused.stderr.strip().splitlines()) == 1
    assert "add --yes" in refused.stderr and "1 applications and 2 maps" in refused.stderr
    assert counts(seeder, owner.id, own_pk)["users"] == 1
    done = operator_json(server, "user", "delete", owner.email, "--yes")
    assert done["apps"] == ["Leaver's <Mapper>"] and done["maps"] == ["First & best map",
                                                                       "Second map"]
    assert counts(seeder, owner.id, own_pk) == dict.fromkeys(OWNED, 0)
    assert me(server.url, tokens["access_token"]).status_code == 401


def test_the_operator_deletes_an_application_and_every_token_of_it_ends(
        server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    app = seeder.app(developer, name="Doomed")
    user = seeder.user("u")
    tokens = tokens_for(server.url, user, app)
    assert upload(server, tokens["access_token"], "Made with Doomed").status_code == 201
    pk = client_pk(seeder, app.client_id)
    refused = operator(server, "app", "delete", app.client_id)
    assert refused.returncode == 1 and "add --yes" in refused.stderr
    assert me(server.url, tokens["access_token"]).status_code == 200
    assert operator_json(server, "app", "delete", app.client_id, "--yes")["deleted"] is True
    assert me(server.url, tokens["access_token"]).status_code == 401
    assert refresh(server.url, app, tokens["refresh_token"]).status_code in (400, 401)
    left = {t: int(str(seeder.scalar(f"SELECT COUNT(*) FROM {t} WHERE client_pk = :c", c=pk)))
            for t in ("grants", "access_tokens", "refresh_tokens", "consents")}
    assert left == dict.fromkeys(left, 0)
    # The map the user shared through it stays theirs.
    assert int(str(seeder.scalar("SELECT COUNT(*) FROM maps WHERE owner_id = :u", u=user.id))) == 1


def test_with_two_factor_on_deleting_also_needs_a_code(server: LiveServer, seeder: Seeder) -> None:
    owner, tokens, _fan = a_full_account(server, seeder)
    own_pk = client_pk(seeder, own_client_id(seeder, owner))
    with httpx.Client(base_url=server.url, timeout=30) as browser:
        assert sign_in(browser, owner).status_code == 303
        app, _codes = enrol(browser)
        page = browser.get("/account/delete")
        assert 'name="code"' in page.text
        fields = hidden_fields(page.text)
        # The password alone deletes nothing; the field that is missing says so.
        bare = browser.post("/account/delete", data={**fields, "password": owner.password})
        assert bare.status_code == 400
        assert 'aria-invalid="true" aria-describedby="delete-code-error"' in bare.text
        wrong = browser.post("/account/delete", data={**fields, "password": owner.password,
                                                      "code": app.wrong_code()})
        assert wrong.status_code == 401 and "That code is not right" in wrong.text
        assert counts(seeder, owner.id, own_pk)["users"] == 1
        assert counts(seeder, owner.id, own_pk)["totp_authenticators"] == 1
        done = browser.post("/account/delete", data={**fields, "password": owner.password,
                                                     "code": app.code()})
        assert done.status_code == 303 and done.headers["location"] == "/"
    assert counts(seeder, owner.id, own_pk) == dict.fromkeys(OWNED, 0)
    assert me(server.url, tokens["access_token"]).status_code == 401
