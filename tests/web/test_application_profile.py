"""Registering an app with a homepage, description, privacy policy and logo, over HTTP, on each
engine: every field is checked and named when refused, hostile text stays text, a logo is a
bounded PNG (never a bomb, never another format) served with headers of its own, and the
consent page tells a person who is asking and exactly what they get."""

from __future__ import annotations

import hashlib
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from PIL import Image

from openplate.accounts.app_logos import LOGO_MAX_BYTES
from tests.support.browser_flow import hidden_fields, redirect_params, sign_in
from tests.support.pngs import broken_crc, jpeg, noisy_png, png, png_bomb
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer

REDIRECT = "http://localhost:13524/cb"
HOMEPAGE = "https://mapper.example/start"
PRIVACY = "https://mapper.example/privacy"


@contextmanager
def _signed_in(server: LiveServer, account: Account) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        assert sign_in(browser, account).status_code == 303
        yield browser


def _unique(prefix: str) -> str:
    return f"{prefix} {time.time_ns() % 10**9}"


def _create(browser: httpx.Client, fields: dict[str, str],
            logo: bytes | None = None) -> httpx.Response:
    csrf = hidden_fields(browser.get("/applications").text)
    files = {"logo": ("logo.png", logo, "image/png")} if logo is not None else None
    if files is None:  # a browser sends the form as multipart even with no file chosen
        files = {"logo": ("", b"", "application/octet-stream")}
    return browser.post("/applications/new", data={**csrf, **fields}, files=files)


def _client_id(created: httpx.Response) -> str:
    assert created.status_code == 303, created.text[:2000]
    return created.headers["location"].rsplit("/", 1)[1]


def _error_of(page: httpx.Response, field: str) -> str:
    """The message shown beside ``field``; the field points at it and is marked invalid."""
    found = re.search(rf'<p class="error" id="error-{field}" role="alert">([^<]*)</p>', page.text)
    assert found, page.text[:4000]
    tag = re.search(rf'<(?:input|textarea|select)[^>]*name="{field}"[^>]*>', page.text)
    assert tag and 'aria-invalid="true"' in tag.group(0), tag
    assert f"error-{field}" in tag.group(0)
    return found.group(1)


def _apps_of(seeder: Seeder, account: Account) -> int:
    count = seeder.scalar("SELECT count(*) FROM clients WHERE owner_id = :o", o=account.id)
    assert isinstance(count, int)
    return count


@pytest.mark.parametrize(("fields", "field", "words"), [
    ({"name": ""}, "name", "Enter a client name"),
    ({"name": "x" * 101}, "name", "at most 100 characters"),
    ({"name": "bad\u202ename"}, "name", "control characters"),
    ({"homepage": ""}, "homepage", "Homepage: enter the address"),
    ({"homepage": "mapper.example"}, "homepage", "Homepage: enter an absolute URL"),
    ({"homepage": "javascript:alert(1)"}, "homepage", "Homepage: enter an absolute URL"),
    ({"homepage": "data:text/html,<b>x</b>"}, "homepage", "Homepage"),
    ({"homepage": "ftp://mapper.example/"}, "homepage", "Homepage: enter an absolute URL"),
    ({"homepage": "http://mapper.example/"}, "homepage", "use https"),
    ({"homepage": "https://user:pw@mapper.example/"}, "homepage", "user name or password"),
    ({"homepage": "https://mapper.example/a b"}, "homepage", "spaces"),
    ({"homepage": "https://mapper.example/\u0001"}, "homepage", "control characters"),
    ({"homepage": "https://xn--80ak6aa92e.com:99999/"}, "homepage", "not a valid URL"),
    ({"homepage": "https://" + "a" * 500 + ".example/"}, "homepage", "at most 500"),
    ({"homepage": "https://мапс.example/"}, "homepage", "percent-encode"),
    ({"description": "d" * 301}, "description", "Description: at most 300"),
    ({"description": "bell\x07"}, "description", "Description: plain text only"),
    ({"privacy_url": "http://evil.example/privacy"}, "privacy_url", "Privacy policy: use https"),
    ({"privacy_url": "javascript:alert(1)"}, "privacy_url", "Privacy policy: enter an absolute"),
])
def test_registration_refuses_each_bad_field_by_name(
    server: LiveServer, seeder: Seeder, fields: dict[str, str], field: str, words: str
) -> None:
    developer = seeder.user("dev")
    good = {"name": _unique("Mapper"), "homepage": HOMEPAGE, "description": "Maps.",
            "privacy_url": PRIVACY}
    with _signed_in(server, developer) as browser:
        page = _create(browser, {**good, **fields})
    assert page.status_code == 400
    assert words in _error_of(page, field)
    assert _apps_of(seeder, developer) == 0
    # What was typed is shown again (escaped), so it can be corrected.
    if field == "description" and "\x07" not in fields["description"]:
        assert "d" * 301 in page.text


def test_http_homepage_is_allowed_for_localhost_only(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    with _signed_in(server, developer) as browser:
        for homepage in ("http://localhost:8080/", "http://127.0.0.1/", "http://[::1]:3000/x"):
            assert _create(browser, {"name": _unique("Local"), "homepage": homepage}).status_code == 303
        refused = _create(browser, {"name": _unique("Local"), "homepage": "http://localhost.evil/"})
        assert "use https" in _error_of(refused, "homepage")


def _logo_error(server: LiveServer, seeder: Seeder, logo: bytes) -> tuple[int, str]:
    developer = seeder.user("dev")
    with _signed_in(server, developer) as browser:
        page = _create(browser, {"name": _unique("Logo"), "homepage": HOMEPAGE}, logo)
    assert _apps_of(seeder, developer) == 0
    return page.status_code, _error_of(page, "logo")


@pytest.mark.parametrize(("logo", "words"), [
    (jpeg(), "not a PNG"),
    (b"GIF89a" + b"\x00" * 40, "not a PNG"),
    (b"<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>", "not a PNG"),
    (b"\x89PNG\r\n\x1a\n<html><script>alert(1)</script>", "could not be read"),
    (png(513, 10), "513×10 pixels"),
    (png(10, 4000), "10×4000 pixels"),
    (png_bomb(), "100000×100000 pixels"),
    (png_bomb(5000), "5000×5000 pixels"),
    (broken_crc(png(40, 40)), "could not be read"),
    (png(64, 64)[:-30], "could not be read"),
])
def test_a_logo_that_is_not_a_small_whole_png_is_refused(
    server: LiveServer, seeder: Seeder, logo: bytes, words: str
) -> None:
    status, message = _logo_error(server, seeder, logo)
    assert status == 400 and message.startswith("Logo: ") and words in message
    assert "512×512 pixels and 256 KiB" in message


def test_an_oversized_logo_is_refused(server: LiveServer, seeder: Seeder) -> None:
    """Just over the logo's bound, the logo check says so; far over the form's bound, the
    request is refused by its Content-Length, before its body is read."""
    big = noisy_png(300, 300)
    assert LOGO_MAX_BYTES < len(big) < LOGO_MAX_BYTES + 32 * 1024
    status, message = _logo_error(server, seeder, big)
    assert status == 400 and "this file is" in message and "KiB" in message
    status, message = _logo_error(server, seeder, b"\x89PNG\r\n\x1a\n" + b"\x00" * (3 * 1024 * 1024))
    assert status == 413 and "too large" in message


def test_a_huge_upload_is_refused_before_it_is_read(server: LiveServer, seeder: Seeder) -> None:
    """A declared body far past the bound is answered at once, with nothing sent but headers."""
    developer = seeder.user("dev")
    with _signed_in(server, developer) as browser:
        csrf = hidden_fields(browser.get("/applications").text)["csrf_token"]
        boundary = "b0undary"
        head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n"
                f"{csrf}\r\n--{boundary}\r\nContent-Disposition: form-data; name=\"logo\"; "
                "filename=\"l.png\"\r\nContent-Type: image/png\r\n\r\n").encode()
        sent = {"bytes": 0}

        def body() -> Iterator[bytes]:
            yield head
            for _ in range(1024):  # 64 MiB, if anyone read it
                sent["bytes"] += 65536
                yield b"\x00" * 65536

        answer = browser.post(
            "/applications/new", content=body(),
            headers={"Content-Type": f"multipart/form-data; boundary={boundary}",
                     "Content-Length": str(len(head) + 1024 * 65536)})
    assert answer.status_code == 413 and "too large" in answer.text
    assert _apps_of(seeder, developer) == 0


def test_chunked_upload_past_the_bound_is_cut_off(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    with _signed_in(server, developer) as browser:
        csrf = hidden_fields(browser.get("/applications").text)["csrf_token"]

        def body() -> Iterator[bytes]:  # no Content-Length: sent chunked
            yield (f"--b\r\nContent-Disposition: form-data; name=\"csrf_token\"\r\n\r\n{csrf}\r\n"
                   "--b\r\nContent-Disposition: form-data; name=\"logo\"; filename=\"l.png\"\r\n"
                   "\r\n").encode()
            for _ in range(16):
                yield b"\x00" * 65536

        answer = browser.post("/applications/new", content=body(),
                              headers={"Content-Type": "multipart/form-data; boundary=b"})
    assert answer.status_code == 413 and "too large" in answer.text


def test_registration_with_everything_and_the_logo_route(server: LiveServer,
                                                           seeder: Seeder) -> None:
    developer = seeder.user("dev")
    name = _unique("Mapper")
    logo = png(128, 96, text="secret metadata from the uploader")
    with _signed_in(server, developer) as browser:
        created = _create(browser, {"name": name, "homepage": HOMEPAGE, "privacy_url": PRIVACY,
                                    "description": "Draws maps.\r\nShares them."}, logo)
        client_id = _client_id(created)
        page = browser.get(created.headers["location"])
        assert "Application created." in page.text
        assert f'value="{HOMEPAGE}"' in page.text and f'value="{PRIVACY}"' in page.text
        assert "Draws maps.\nShares them.</textarea>" in page.text
        assert f'src="/applications/{client_id}/logo.png?v=' in page.text
    stored = seeder.scalar("SELECT description FROM clients WHERE client_id = :c", c=client_id)
    assert stored == "Draws maps.\nShares them."

    with httpx.Client(base_url=server.url, timeout=20) as anyone:  # no session needed
        got = anyone.get(f"/applications/{client_id}/logo.png")
        assert got.status_code == 200
        assert got.headers["content-type"] == "image/png"
        assert got.headers["x-content-type-options"] == "nosniff"
        csp = got.headers["content-security-policy"]
        assert "default-src 'none'" in csp and "sandbox" in csp and "frame-ancestors 'none'" in csp
        assert "script-src" not in csp
        etag = got.headers["etag"]
        assert etag == f'"{hashlib.sha256(got.content).hexdigest()}"'
        assert "public" in got.headers["cache-control"]
        # Re-encoded: the same pixels, without the uploader's metadata.
        assert got.content != logo and b"secret metadata" not in got.content
        import io
        with Image.open(io.BytesIO(got.content)) as image:
            assert image.size == (128, 96) and image.format == "PNG"
            pixel = image.convert("RGB").getpixel((5, 5))
            assert pixel == (37, 87, 214)
        again = anyone.get(f"/applications/{client_id}/logo.png", headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert anyone.head(f"/applications/{client_id}/logo.png").status_code == 200
        for missing in (f"/applications/{client_id[:-1]}x/logo.png", "/applications/x/logo.png"):
            gone = anyone.get(missing)
            assert gone.status_code == 404 and gone.headers["content-type"].startswith("text/html")


def test_editing_the_profile_and_removing_the_logo(server: LiveServer, seeder: Seeder) -> None:
    developer = seeder.user("dev")
    with _signed_in(server, developer) as browser:
        client_id = _client_id(_create(browser, {"name": _unique("Edit"), "homepage": HOMEPAGE},
                                       png(32, 32)))
        path = f"/applications/{client_id}"
        first = browser.get(f"{path}/logo.png").content
        fields = {**hidden_fields(browser.get(path).text), "name": "Edited",
                  "redirect_uris": REDIRECT, "homepage": "https://edited.example/",
                  "description": "New words.", "privacy_url": ""}
        new_logo = png(48, 48, colour=(1, 2, 3))
        saved = browser.post(path, data=fields, files={"logo": ("l.png", new_logo, "image/png")})
        assert saved.status_code == 303 and saved.headers["location"] == path
        page = browser.get(path)
        assert "Saved, with the new logo." in page.text
        assert 'value="https://edited.example/"' in page.text and "New words." in page.text
        assert browser.get(f"{path}/logo.png").content != first
        assert seeder.scalar("SELECT privacy_url FROM clients WHERE client_id = :c",
                             c=client_id) is None
        # The homepage, once given, cannot be emptied; the error names it and nothing changes.
        refused = browser.post(path, data={**fields, "homepage": ""},
                               files={"logo": ("", b"", "application/octet-stream")})
        assert refused.status_code == 400 and "Homepage" in _error_of(refused, "homepage")
        # A bad logo on the page refuses the whole save.
        refused = browser.post(path, data={**fields, "name": "Not saved"},
                               files={"logo": ("l.png", jpeg(), "image/jpeg")})
        assert refused.status_code == 400 and "not a PNG" in _error_of(refused, "logo")
        assert seeder.scalar("SELECT name FROM clients WHERE client_id = :c", c=client_id) == "Edited"
        # Removing asks first, then answers with a redirect and a notice.
        confirm = browser.get(f"{path}/logo/remove")
        assert confirm.status_code == 200 and "Remove the logo of Edited?" in confirm.text
        removed = browser.post(f"{path}/logo/remove", data=hidden_fields(confirm.text))
        assert removed.status_code == 303 and removed.headers["location"] == path
        assert "Logo removed." in browser.get(path).text
        assert browser.get(f"{path}/logo.png").status_code == 404
        assert seeder.scalar("SELECT count(*) FROM client_logos l JOIN clients c ON "
                             "c.id = l.client_pk WHERE c.client_id = :c", c=client_id) == 0
        assert browser.get(f"{path}/logo/remove").status_code == 404
    # Someone else can neither remove it nor see the confirmation.
    with _signed_in(server, seeder.user("other")) as other:
        confirm = other.get(f"/applications/{client_id}/logo/remove")
        assert confirm.status_code == 404
        csrf = hidden_fields(other.get("/applications").text)
        assert other.post(f"/applications/{client_id}/logo/remove", data=csrf).status_code == 404


def test_an_app_without_a_homepage_keeps_working_and_is_asked_for_one(
    server: LiveServer, seeder: Seeder
) -> None:
    """Apps registered before homepages were asked for (as the seeder's are)."""
    developer = seeder.user("dev")
    app = seeder.app(developer, redirect_uris=(REDIRECT,), by_operator=False)
    with _signed_in(server, developer) as browser:
        path = f"/applications/{app.client_id}"
        page = browser.get(path)
        assert 'id="homepage-missing"' in page.text and "no homepage yet" in page.text
        saved = browser.post(path, data={**hidden_fields(page.text), "name": app.name,
                                         "redirect_uris": REDIRECT})
        assert saved.status_code == 303
        assert "Saved." in browser.get(path).text
    user = seeder.user("u")
    with _signed_in(server, user) as browser:
        consent = browser.get("/oauth/auth", params=_params(app.client_id))
        assert consent.status_code == 200 and "Homepage:" not in consent.text
        assert f"Made by <strong>{developer.username}</strong>" in consent.text


def _params(client_id: str, scope: str = "account maps") -> dict[str, str]:
    return {"client_id": client_id, "redirect_uri": REDIRECT, "response_type": "code",
            "state": "st", "scope": scope}


def _registered(server: LiveServer, developer: Account, *, name: str, description: str,
                logo: bytes | None = png(64, 64)) -> str:
    """An app registered through the form, with a redirect URI set on its page."""
    with _signed_in(server, developer) as browser:
        client_id = _client_id(_create(browser, {
            "name": name, "homepage": HOMEPAGE, "privacy_url": PRIVACY,
            "description": description}, logo))
        path = f"/applications/{client_id}"
        fields = {**hidden_fields(browser.get(path).text), "name": name, "redirect_uris": REDIRECT,
                  "homepage": HOMEPAGE, "privacy_url": PRIVACY, "description": description}
        assert browser.post(path, data=fields).status_code == 303
    return client_id


def test_the_consent_page_tells_who_asks_and_what_they_get(server: LiveServer,
                                                            seeder: Seeder) -> None:
    developer = seeder.user("dev")
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)> ' + "w" * 200
    name = "<b>Evil & Co</b> " + _unique("")
    client_id = _registered(server, developer, name=name, description=hostile)
    with _signed_in(server, seeder.user("u")) as browser:
        consent = browser.get("/oauth/auth", params=_params(
            client_id, scope="openid profile email account maps"))
        assert consent.status_code == 200
        text = consent.text
        # Who asks: logo, name, homepage host as a link, description, privacy policy, developer.
        logo = rf'<img class="app-logo" src="/applications/{client_id}/logo.png\?v=[0-9a-f]{{16}}"'
        assert re.search(logo, text)
        assert "&lt;b&gt;Evil &amp; Co&lt;/b&gt;" in text and "<b>Evil" not in text
        assert (f'<a class="app-homepage" href="{HOMEPAGE}" rel="noopener noreferrer nofollow" '
                'target="_blank">mapper.example</a>') in text
        assert f'<a class="app-privacy" href="{PRIVACY}"' in text
        assert f"Made by <strong>{developer.username}</strong>" in text
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in text and "<script>" not in text
        assert "<img src=x" not in text
        # What they get, scope by scope.
        assert "<strong>account</strong>: See your account details: your user ID, username, " \
               "e-mail address and when you joined</li>" in text
        assert "(the sub claim)" in text
        assert "(the preferred_username and name claims)" in text
        assert "(the email and email_verified claims)" in text
        assert "<strong>maps</strong>: Upload mind maps" in text
        # Its anti-framing headers are the site's.
        assert consent.headers["x-frame-options"] == "DENY"
        assert "frame-ancestors 'none'" in consent.headers["content-security-policy"]
        done = browser.post("/oauth/auth/decision",
                            data={**hidden_fields(text), "decision": "allow"})
        assert "code" in redirect_params(done)


def test_sign_up_from_the_sign_in_page_continues_the_authorisation(
    server: LiveServer, seeder: Seeder
) -> None:
    """A visitor with no account: /oauth/auth, the sign-in page, "Sign up", and back into the
    same request; the sign-up page names the app from the request parked for this browser."""
    developer = seeder.user("dev")
    name = _unique("Continue")
    client_id = _registered(server, developer, name=name, description="Maps.", logo=None)
    with httpx.Client(base_url=server.url, timeout=20) as browser:
        first = browser.get("/oauth/auth", params=_params(client_id))
        assert first.status_code == 303 and first.headers["location"].startswith("/signin?next=")
        signin = browser.get(first.headers["location"])
        assert (f"Sign in to continue to <strong class=\"app-name\" dir=\"auto\">{name}</strong>"
                in signin.text)
        link = re.search(r'<a href="(/signup\?next=[^"]+)">Sign up</a> and continue to', signin.text)
        assert link, signin.text
        signup_url = link.group(1).replace("&amp;", "&")
        # The header's Sign up link keeps the request too.
        assert signin.text.count(f'href="{link.group(1)}"') == 2, signin.text
        resume = parse_qs(urlsplit(signup_url).query)["next"][0]
        assert resume.startswith("/oauth/auth/resume?request=")
        signup = browser.get(signup_url)
        assert f'continue to <strong class="app-name" dir="auto">{name}</strong>' in signup.text
        username = f"new{time.time_ns() % 10**9}"
        short = browser.post("/signup", data={**hidden_fields(signup.text), "username": username,
                                              "email": f"{username}@example.org", "password": "x"})
        assert short.status_code == 400  # shown again, still saying where it goes on to
        assert f'continue to <strong class="app-name" dir="auto">{name}</strong>' in short.text
        made = browser.post("/signup", data={**hidden_fields(signup.text), "username": username,
                                             "email": f"{username}@example.org",
                                             "password": "a long enough password"})
        assert made.status_code == 303 and made.headers["location"] == resume
        consent = browser.get(resume)
        assert consent.status_code == 200 and f"{name}</span> wants to use" in consent.text
        done = browser.post("/oauth/auth/decision",
                            data={**hidden_fields(consent.text), "decision": "allow"})
        got = redirect_params(done)
        assert got["state"] == "st" and got["code"]
    # Another browser given the same link learns nothing and cannot continue it.
    with httpx.Client(base_url=server.url, timeout=20) as stranger:
        page = stranger.get(signup_url)
        assert name not in page.text
        assert stranger.get(resume).status_code == 400
