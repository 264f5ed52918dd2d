"""Helpers for the interoperability tests: the Node runner, live sites and the browser half."""

from __future__ import annotations

import base64
import hashlib
import json
import select
import shutil
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NoReturn
from urllib.parse import parse_qsl, urlsplit

import httpx
import pytest

from tests.support.browser_flow import authorize
from tests.support.seed import Account, App, Seeder
from tests.support.server import LiveServer, start_server

JS_DIR = Path(__file__).resolve().parent / "js"
SCRIPT = JS_DIR / "client.mjs"
NPM_FLAGS = ("--no-audit", "--no-fund", "--loglevel=error")
REDIRECT_URI = "http://localhost:13524/"
MIN_NODE = 20  # openid-client 6 needs Web Crypto Ed25519 and global fetch
CALL_TIMEOUT = 90  # seconds for one library operation (openid-client times out HTTP at 30)


# --- Node: openid-client, oauth4webapi, jose -------------------------------------------------


def _installed_matches_pins() -> bool:
    """True when node_modules holds exactly the versions package.json pins."""
    pinned: dict[str, str] = json.loads((JS_DIR / "package.json").read_text())["dependencies"]
    for name, version in pinned.items():
        manifest = JS_DIR / "node_modules" / name / "package.json"
        if not manifest.is_file() or json.loads(manifest.read_text()).get("version") != version:
            return False
    return True


def ensure_node_project() -> None:
    """Install the pinned Node packages once (``npm ci`` from the lock file), or fail clearly."""
    node, npm = shutil.which("node"), shutil.which("npm")
    if node is None or npm is None:
        pytest.fail(
            "The interoperability tests need Node.js (>= 20) and npm on PATH to run openid-client; "
            f"found node={node!r}, npm={npm!r}. Install Node.js 20+ and re-run.",
            pytrace=False,
        )
    version = subprocess.run([node, "--version"], capture_output=True, text=True, timeout=30).stdout
    major = int(version.strip().lstrip("v").split(".")[0] or 0)
    if major < MIN_NODE:
        pytest.fail(f"The interoperability tests need Node.js >= {MIN_NODE}; {node} is {version.strip()}.",
                    pytrace=False)
    if _installed_matches_pins():
        return
    command = "ci" if (JS_DIR / "package-lock.json").is_file() else "install"
    result = subprocess.run([npm, command, *NPM_FLAGS], cwd=JS_DIR, capture_output=True, text=True,
                            timeout=600)
    if result.returncode != 0 or not _installed_matches_pins():
        pytest.fail(f"`npm {command}` in {JS_DIR} failed (exit {result.returncode}):\n"
                    f"{result.stdout[-3000:]}\n{result.stderr[-3000:]}", pytrace=False)


class NodeClient:
    """``js/client.mjs --serve``: one long-lived Node process, a JSON request per line in, a JSON
    answer per line out (no Node start-up and module loading per call)."""

    def __init__(self, node: str, stderr_path: Path) -> None:
        self.stderr_path = stderr_path
        self._stderr = stderr_path.open("wb")
        self.process = subprocess.Popen(
            [node, str(SCRIPT), "--serve"], cwd=JS_DIR, stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=self._stderr, text=True, encoding="utf-8",
        )

    def _died(self, why: str) -> NoReturn:
        self.close()
        pytest.fail(f"node client.mjs {why}:\n{self.stderr_path.read_text(errors='replace')[-3000:]}")

    def run(self, op: str, **payload: Any) -> dict[str, Any]:
        stdin, stdout = self.process.stdin, self.process.stdout
        assert stdin is not None and stdout is not None
        if self.process.poll() is not None:
            self._died(f"is not running (exit {self.process.returncode})")
        stdin.write(json.dumps({"op": op, **payload}) + "\n")
        stdin.flush()
        ready, _, _ = select.select([stdout], [], [], CALL_TIMEOUT)
        if not ready:
            self._died(f"gave no answer to {op} within {CALL_TIMEOUT}s")
        line = stdout.readline()
        if not line:
            self._died(f"exited during {op} (exit {self.process.wait(5)})")
        answer: dict[str, Any] = json.loads(line)
        return answer

    def ok(self, op: str, **payload: Any) -> Any:
        """The result of an operation the library must accept."""
        answer = self.run(op, **payload)
        assert answer["ok"], f"{op} refused by the library: {json.dumps(answer['error'], indent=1)}"
        return answer["result"]

    def refused(self, op: str, **payload: Any) -> dict[str, Any]:
        """The library's error for an operation it must refuse."""
        answer = self.run(op, **payload)
        assert not answer["ok"], f"{op} unexpectedly succeeded: {answer['result']}"
        error: dict[str, Any] = answer["error"]
        return error

    def close(self) -> None:
        if self.process.poll() is None:
            assert self.process.stdin is not None
            self.process.stdin.close()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for stream in (self.process.stdout, self.process.stdin):
            if stream is not None and not stream.closed:
                stream.close()
        self._stderr.close()


# --- Live servers ----------------------------------------------------------------------------


@dataclass
class Site:
    """A running Openplate with one signing algorithm and access-token format."""

    server: LiveServer
    seeder: Seeder
    alg: str
    access_format: str

    @property
    def url(self) -> str:
        return self.server.url

    def account_and_app(self, prefix: str, *, public: bool = False) -> tuple[Account, App]:
        owner = self.seeder.user(prefix + "dev")
        app = self.seeder.app(owner, redirect_uris=(REDIRECT_URI,), public=public,
                              name=f"Interop {prefix}")
        return self.seeder.user(prefix), app

    def creds(self, app: App | dict[str, Any], auth: str | None = None) -> dict[str, Any]:
        """The discovery + client-authentication part of every client.mjs call."""
        client_id = app.client_id if isinstance(app, App) else app["client_id"]
        secret = app.client_secret if isinstance(app, App) else app["client_secret"]
        chosen = auth or ("basic" if secret else "none")
        return {"issuer": self.url, "client_id": client_id, "client_secret": secret, "auth": chosen}

    def jwks(self) -> dict[str, dict[str, Any]]:
        keys = httpx.get(self.url + "/oauth/jwks", timeout=20).json()["keys"]
        return {key["kid"]: key for key in keys}

    def machine_app(self, owner: Account) -> dict[str, Any]:
        """A client_credentials application, made with the CLI as an administrator would."""
        result = subprocess.run(
            [sys.executable, "-m", "openplate.cli", "app", "create", "--owner", owner.username,
             "--name", "M2M", "--grant-type", "client_credentials", "--json"],
            env=self.server.env, cwd=self.server.folder, capture_output=True, text=True, timeout=60,
        )
        assert result.returncode == 0, result.stderr
        created: dict[str, Any] = json.loads(result.stdout)
        assert created["grant_types"] == ["client_credentials"], created
        return created


@dataclass
class Sites:
    """Servers started on demand, one per (signing algorithm, access-token format), kept for the
    session (each costs seconds to start, so tests share them and make their own accounts)."""

    factory: pytest.TempPathFactory
    started: dict[tuple[str, str], Site] = field(default_factory=dict)

    def get(self, alg: str = "RS256", access_format: str = "opaque") -> Site:
        key = (alg, access_format)
        if key not in self.started:
            folder = self.factory.mktemp(f"interop-{alg}-{access_format}")
            live = start_server(folder, extra_env={"OPENPLATE_SIGNING_ALG": alg,
                                                   "OPENPLATE_ACCESS_TOKEN_FORMAT": access_format})
            self.started[key] = Site(live, Seeder(live), alg, access_format)
        return self.started[key]

    def stop_all(self) -> None:
        for site in self.started.values():
            site.server.stop()


# --- The browser half ------------------------------------------------------------------------


def browser_callback(
    site: Site, account: Account | None, authorization_url: str, *, decision: str = "allow",
    browser: httpx.Client | None = None,
) -> str:
    """Sign in and answer the consent page for a client-built URL; return the callback URL."""
    parts = urlsplit(authorization_url)
    assert f"{parts.scheme}://{parts.netloc}{parts.path}" == site.url + "/oauth/auth"
    params = dict(parse_qsl(parts.query, keep_blank_values=True))
    if browser is not None:
        response = authorize(browser, account, params, decision=decision)
    else:
        with httpx.Client(base_url=site.url, timeout=20) as fresh:
            response = authorize(fresh, account, params, decision=decision)
    assert response.status_code in (302, 303), (response.status_code, response.text[:500])
    location = response.headers["location"]
    assert location.startswith(REDIRECT_URI), location
    return location


def callback_params(callback_url: str) -> dict[str, str]:
    return dict(parse_qsl(urlsplit(callback_url).query))


@dataclass
class Login:
    """One completed authorisation-code flow through openid-client."""

    request: dict[str, Any]  # url, state, nonce, code_verifier
    callback: str
    grant: dict[str, Any]  # tokens, claims, id_token_header, expires_in

    @property
    def tokens(self) -> dict[str, Any]:
        tokens: dict[str, Any] = self.grant["tokens"]
        return tokens

    @property
    def claims(self) -> dict[str, Any]:
        claims: dict[str, Any] = self.grant["claims"]
        return claims


def openid_client_login(
    js: NodeClient, site: Site, account: Account, app: App, *, scope: str, auth: str | None = None,
    max_age: int | None = None, extra: dict[str, str] | None = None,
    browser: httpx.Client | None = None,
) -> Login:
    creds = site.creds(app, auth)
    extra = dict(extra or {})
    if max_age is not None:
        extra["max_age"] = str(max_age)
    request = js.ok("authorization_url", **creds, redirect_uri=REDIRECT_URI, scope=scope, extra=extra)
    callback = browser_callback(site, account, request["url"], browser=browser)
    grant = js.ok("code_grant", **creds, callback_url=callback, state=request["state"],
                  nonce=request["nonce"] if "openid" in scope.split() else None,
                  code_verifier=request["code_verifier"], max_age=max_age,
                  id_token_expected="openid" in scope.split())
    return Login(request, callback, grant)


# --- Token arithmetic ------------------------------------------------------------------------


def b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def expected_at_hash(access_token: str, alg: str) -> str:
    """OIDC Core §3.1.3.6: left half of the hash of the token; SHA-512 for EdDSA/Ed25519."""
    digest = (hashlib.sha512 if alg == "EdDSA" else hashlib.sha256)(access_token.encode()).digest()
    return b64url(digest[: len(digest) // 2])


def jwt_parts(token: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Header and payload of a compact JWS, unverified (the libraries verify)."""
    def decode(part: str) -> dict[str, Any]:
        value: dict[str, Any] = json.loads(base64.urlsafe_b64decode(part + "=" * (-len(part) % 4)))
        return value

    header, payload, _ = token.split(".")
    return decode(header), decode(payload)
