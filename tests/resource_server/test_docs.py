"""The examples in docs/resource-servers.md run as written, against real Openplate servers."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.resource_server.support import Env, run

DOC = Path(__file__).resolve().parents[2] / "docs" / "resource-servers.md"
DOC_ISSUER = "https://accounts.example.org"


def _examples() -> list[str]:
    return re.findall(r"```python\n(.*?)```", DOC.read_text(), flags=re.DOTALL)


def test_every_example_compiles() -> None:
    examples = _examples()
    assert len(examples) == 3
    for number, source in enumerate(examples):
        compile(source, f"{DOC.name} example {number}", "exec")


def _load(source: str, env: Env) -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "doc_example"}
    exec(compile(source.replace(DOC_ISSUER, env.url), DOC.name, "exec"), namespace)  # noqa: S102
    return namespace


async def _get(namespace: dict[str, Any], path: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    transport = httpx.ASGITransport(app=namespace["app"])
    try:
        async with httpx.AsyncClient(transport=transport, base_url="http://api.test") as client:
            return await client.get(path, headers=headers)
    finally:
        await namespace["validator"].aclose()


def test_the_jwt_example(jwt_env: Env) -> None:
    example = _load(_examples()[0], jwt_env)
    response = run(_get(example, "/me", jwt_env.access_token("account maps")))
    assert response.status_code == 200, response.text
    assert response.json()["user_id"] == str(jwt_env.account.id)
    assert run(_get(_load(_examples()[0], jwt_env), "/me", None)).status_code == 401
    assert run(_get(_load(_examples()[0], jwt_env), "/health", None)).text == "ok"


def test_the_opaque_example(opaque_env: Env, monkeypatch: pytest.MonkeyPatch) -> None:
    assert opaque_env.app.client_secret is not None
    monkeypatch.setenv("OPENPLATE_CLIENT_ID", opaque_env.app.client_id)
    monkeypatch.setenv("OPENPLATE_CLIENT_SECRET", opaque_env.app.client_secret)
    example = _load(_examples()[1], opaque_env)
    response = run(_get(example, "/me", opaque_env.access_token("account")))
    assert response.status_code == 200, response.text
    assert response.json() == {"user_id": str(opaque_env.account.id),
                               "username": opaque_env.account.username}
    forbidden = run(_get(_load(_examples()[1], opaque_env), "/me", opaque_env.access_token("maps")))
    assert forbidden.status_code == 403


def test_the_plain_example(jwt_env: Env, capsys: pytest.CaptureFixture[str]) -> None:
    source = _examples()[2].replace('asyncio.run(main("eyJ…"))', "")
    example = _load(source, jwt_env)
    run(example["main"](jwt_env.access_token("account maps")))
    run(example["main"](jwt_env.access_token("account")))
    run(example["main"]("eyJ.eyJ.x"))
    printed = capsys.readouterr().out.splitlines()
    assert printed[0].startswith(f"{jwt_env.account.id} {jwt_env.app.client_id} ['account', 'maps']")
    assert printed[1] == "403: needs ('maps',)"
    assert printed[2].startswith("401: ")
