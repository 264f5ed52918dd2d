"""Two-factor sign-in driven over HTTP as a person with an authenticator app would: enrol from
the page (reading the key the page shows), and compute codes with our RFC 6238 implementation
(itself checked against the RFC's vectors in tests/accounts/test_totp.py)."""

from __future__ import annotations

import base64
import html
import re
import time
from dataclasses import dataclass, field

import httpx

from openplate.accounts import totp
from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.seed import Account
from tests.support.waiting import wait_until

_SECRET = re.compile(r'id="totp-secret">([A-Z2-7 ]+)<')
_CODE = re.compile(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>")


@dataclass
class Authenticator:
    """The app on the phone: the secret, and the steps whose codes it has shown (a code is
    accepted once, so each call gives the code of a step not used yet)."""

    secret: bytes
    used: set[int] = field(default_factory=set)

    def code(self) -> str:
        """A code the server takes for at least 15 s more: in the first half of a step, the
        previous step's (accepted until this step ends), this one's or the next one's; in the
        second half, this one's or the next one's (the previous one's would lapse in moments, and
        on a loaded machine the server checked it a moment too late: a stress run saw that).
        Each step is used once, in increasing order; when none is left, the next step's code
        once that step has begun."""
        while True:
            now = int(time.time())
            current = totp.step_at(now)
            early = now % totp.STEP < totp.STEP // 2
            for step in ((current - 1, current, current + 1) if early else (current, current + 1)):
                if all(step > used for used in self.used):
                    self.used.add(step)
                    return totp.hotp(self.secret, step)
            wait_until(lambda step=current: totp.step_at(int(time.time())) > step,
                       "the next TOTP step", patience=totp.STEP + 5)

    def wrong_code(self) -> str:
        right = {totp.hotp(self.secret, totp.step_at(int(time.time())) + d) for d in (-1, 0, 1, 2)}
        return next(c for c in ("000000", "111111", "222222", "333333", "444444") if c not in right)


def secret_on(page: str) -> bytes:
    found = _SECRET.search(page)
    assert found, page[:800]
    text = found.group(1).replace(" ", "")
    return base64.b32decode(text + "=" * (-len(text) % 8))


def recovery_codes_on(page: str) -> list[str]:
    return [html.unescape(code) for code in _CODE.findall(page)]


def enrol(browser: httpx.Client) -> tuple[Authenticator, list[str]]:
    """On a signed-in browser: set up two-factor sign-in; the app and the ten recovery codes."""
    page = browser.get("/account/two-factor")
    started = browser.post("/account/two-factor/setup", data=hidden_fields(page.text))
    assert started.status_code == 303, started.text[:300]
    page = browser.get("/account/two-factor")
    app = Authenticator(secret_on(page.text))
    done = browser.post("/account/two-factor/confirm",
                        data={**hidden_fields(page.text), "code": app.code()})
    assert done.status_code == 303, done.text[:500]
    shown = browser.get("/account/two-factor")
    codes = recovery_codes_on(shown.text)
    assert len(codes) == 10, shown.text[:800]
    return app, codes


def enrolled_account(base_url: str, account: Account) -> tuple[Authenticator, list[str]]:
    with httpx.Client(base_url=base_url, timeout=30) as browser:
        assert sign_in(browser, account).status_code == 303
        return enrol(browser)


def password_step(browser: httpx.Client, account: Account, *, next_path: str = "/") -> httpx.Response:
    """The password page of the sign-in; for an enrolled account, the redirect to the second step."""
    return sign_in(browser, account, next_path=next_path)


def code_step(browser: httpx.Client, code: str) -> httpx.Response:
    page = browser.get("/signin/two-factor")
    assert page.status_code == 200, (page.status_code, page.text[:300])
    return browser.post("/signin/two-factor", data={**hidden_fields(page.text), "code": code})
