"""Behind an https public URL the session cookie is Secure and host-locked; docs are local."""

from __future__ import annotations

import asyncio
from pathlib import Path

import httpx

from openplate.settings import Settings
from openplate.store.migrate import upgrade
from openplate.web.app import create_app


def _get(settings: Settings, path: str) -> httpx.Response:
    async def main() -> httpx.Response:
        app = create_app(settings)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="https://accounts.example") as c:
            response = await c.get(path)
        await app.state.ctx.db.dispose()
        return response

    return asyncio.run(main())


def test_secure_cookie_behind_https(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'h.db'}",
                        public_url="https://accounts.example", secret_key="k" * 40)
    upgrade(settings)
    response = _get(settings, "/signin")
    cookie = response.headers["set-cookie"]
    assert cookie.startswith("__Host-openplate=opss_")
    for attribute in ("Secure", "HttpOnly", "SameSite=lax", "Path=/"):
        assert attribute.lower() in cookie.lower()
    assert "domain=" not in cookie.lower()


def test_interactive_docs_are_served_locally(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path / 'd.db'}", secret_key="k" * 40)
    upgrade(settings)
    page = _get(settings, "/docs")
    assert page.status_code == 200 and "/docs/assets/swagger-ui-bundle.js" in page.text
    assert "cdn" not in page.text.lower()
    assert _get(settings, "/docs/assets/swagger-ui-bundle.js").status_code == 200
    spec = _get(settings, "/openapi.json").json()
    assert {"/users/me", "/maps", "/oauth/token"} <= set(spec["paths"])
