"""Behind an https public URL the session and form cookies are Secure and host-locked; docs are
local."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from openplate.settings import Settings
from openplate.store.migrate import upgrade
from openplate.web.app import create_app


def _get(settings: Settings, path: str) -> httpx.Response:
    return _visit(settings, [("GET", path, None)])[-1]


def _visit(settings: Settings, steps: list[tuple[str, str, dict[str, str] | None]]
           ) -> list[httpx.Response]:
    """Requests in one browser-like client (cookies kept); a form's fields may name the
    previous page's CSRF token as "{csrf}"."""
    async def main() -> list[httpx.Response]:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        answers: list[httpx.Response] = []
        async with httpx.AsyncClient(transport=transport, base_url="https://accounts.example") as c:
            for method, path, form in steps:
                if form is not None:
                    token = answers[-1].text.split('name="csrf_token" value="')[1].split('"')[0]
                    form = {k: v.replace("{csrf}", token) for k, v in form.items()}
                answers.append(await c.request(method, path, data=form))
        await app.state.ctx.db.dispose()
        return answers

    return asyncio.run(main())


def _assert_host_cookie(header: str, name: str) -> None:
    assert header.startswith(name + "="), header
    for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute.lower() in header.lower()
    assert "domain=" not in header.lower()


def test_secure_cookies_behind_https(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}",
                        public_url="https://accounts.example", secret_key="k" * 40)
    upgrade(settings)
    page, signed_up = _visit(settings, [
        ("GET", "/signup", None),
        ("POST", "/signup", {"csrf_token": "{csrf}", "username": "secure", "password": "x" * 12,
                             "email": "secure@example.org"}),
    ])
    # The sign-up form's CSRF cookie, then the session cookie once signed up: both host-locked.
    _assert_host_cookie(page.headers["set-cookie"], "__Host-openplate-form")
    assert signed_up.status_code == 303, signed_up.text
    _assert_host_cookie(signed_up.headers["set-cookie"], "__Host-openplate")
    assert signed_up.headers["set-cookie"].startswith("__Host-openplate=opss_")


def test_interactive_docs_are_served_locally(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}", secret_key="k" * 40)
    upgrade(settings)
    page = _get(settings, "/docs")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert _get(settings, "/docs/assets/swagger-ui-bundle.js").status_code == 200
    spec = _get(settings, "/openapi.json").json()
    assert {"/users/me", "/maps", "/oauth/token"} <= set(spec["paths"])
