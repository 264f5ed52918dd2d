"""The mail worker inside ``openplate serve``, sending through a real SMTP server (aiosmtpd,
STARTTLS with AUTH, its certificate from a private CA named by OPENPLATE_SMTP_CA_FILE): mail
queued while the SMTP server is down waits, is listed as failed, and goes out once the server is
back (``openplate mail retry`` makes it due at once); the SMTP password appears in no log, no
error and not in /metrics."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote

import httpx
import pytest

from tests.support.browser_flow import hidden_fields, sign_in
from tests.support.seed import Account, Seeder
from tests.support.server import LiveServer, start_server
from tests.support.smtp import PASSWORD, SmtpServer
from tests.support.waiting import exited, wait_until

SUBJECT = "Reset your Openplate password"


@pytest.fixture()
def smtp(tmp_path: Path) -> Iterator[SmtpServer]:
    server = SmtpServer("starttls", tmp_path, auth=True)
    yield server
    server.stop()


@pytest.fixture()
def live(tmp_path: Path, smtp: SmtpServer) -> Iterator[LiveServer]:
    folder = tmp_path / "node"
    folder.mkdir()
    server = start_server(folder, extra_env={
        "OPENPLATE_SMTP_URL": smtp.url, "OPENPLATE_SMTP_CA_FILE": str(smtp.ca),
        "OPENPLATE_MAIL_FROM": "Openplate <id@example.com>", "OPENPLATE_MAIL_POLL_INTERVAL": "1"})
    yield server
    server.stop()


def mail_cli(server: LiveServer, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "openplate.cli", "mail", *args],
                          capture_output=True, text=True, env=server.env, cwd=server.folder,
                          timeout=60)


def listed(server: LiveServer) -> list[dict[str, object]]:
    result = mail_cli(server, "list", "--json")
    assert result.returncode == 0, result.stderr
    messages: list[dict[str, object]] = json.loads(result.stdout)
    return messages


def test_an_smtp_outage_delays_mail_and_loses_none(live: LiveServer, smtp: SmtpServer) -> None:
    account = Seeder(live).user("outage")
    with httpx.Client(base_url=live.url, timeout=30) as client:
        page = client.get("/password/forgot")
        assert client.post("/password/forgot", data={
            **hidden_fields(page.text), "login": account.username}).status_code == 303
        # The SMTP server is down: the message waits, failed, with its next attempt set.
        wait_until(lambda: [m["state"] for m in listed(live)] == ["failed"],
                   "the reset mail to be listed as failed while the SMTP server is down",
                   log=live.log, gone=exited(live.process), seen=lambda: listed(live))
        smtp.start()
        retried = mail_cli(live, "retry", "--all", "--json")
        assert retried.returncode == 0 and json.loads(retried.stdout)["retried"] == [1]
        wait_until(lambda: smtp.inbox.count() == 1, "the reset mail to reach the SMTP server",
                   log=live.log, gone=exited(live.process), seen=lambda: listed(live))
        [mail] = smtp.inbox.messages
        assert mail["To"] == account.email and mail["Subject"] == SUBJECT
        assert mail["From"] == "Openplate <id@example.com>" and smtp.inbox.logins == ["mailer"]
        body = mail.get_body(("plain",))
        assert body is not None
        path = "/password/reset/" + body.get_content().split("/password/reset/")[1].split()[0]
        form = client.get(path)
        assert form.status_code == 200
        done = client.post(path, data={**hidden_fields(form.text), "new_password": "fresh password 1"})
        assert done.status_code == 303
    with httpx.Client(base_url=live.url, timeout=30) as client:
        assert sign_in(client, Account(account.id, account.username, account.email,
                                       "fresh password 1")).status_code == 303
    wait_until(lambda: smtp.inbox.count() == 2, "the notice of the new password",
               log=live.log, gone=exited(live.process), seen=lambda: listed(live))
    [first, second] = listed(live)[::-1]
    assert first["state"] == "sent" and first["attempts"] >= 2 and second["state"] == "sent"
    metrics = httpx.get(live.url + "/metrics", timeout=30).text
    for text in (live.log(), metrics, json.dumps(listed(live))):
        assert PASSWORD not in text and quote(PASSWORD, safe="") not in text
