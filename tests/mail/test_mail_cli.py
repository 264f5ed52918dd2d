"""``openplate mail list`` and ``openplate mail retry`` as an operator runs them, and the mail
settings refused in one line that names them and never repeats the SMTP password."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from openplate.mail import letters
from openplate.mail.queue import send_later
from openplate.mail.smtp_url import parse_smtp_url
from openplate.mail.transport import SmtpTransport
from openplate.mail.worker import MailWorker
from openplate.settings import Settings
from openplate.store.migrate import upgrade
from tests.mail.conftest import KEY, open_database

NOW = 2_000_000_000


def openplate(tmp_path: Path, *args: str, env: dict[str, str] | None = None
              ) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "OPENPLATE_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
           "OPENPLATE_SECRET_KEY": KEY, **(env or {})}
    return subprocess.run([sys.executable, "-m", "openplate.cli", *args], capture_output=True,
                          text=True, env=env, cwd=tmp_path, timeout=60)


def one_line_error(result: subprocess.CompletedProcess[str]) -> str:
    assert result.returncode != 0 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    return lines[0]


def seed(tmp_path: Path) -> None:
    """Three messages: one sent, one failed (its server was down), one queued."""
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    upgrade(Settings(database_url=url, secret_key=KEY))

    async def main() -> None:
        db = open_database(url)
        try:
            for name in ("ann", "ben"):
                async with db.transaction() as store:
                    await send_later(store, letters.password_reset(
                        to=f"{name}@example.org", username=name,
                        url="https://id.example.com/password/reset/opr_x", minutes=30), now=NOW)
            down = SmtpTransport(parse_smtp_url("smtp://127.0.0.1:9"), timeout=5)
            mailer = MailWorker(db, down, sender="o@example.com", base_url="https://example.com",
                                poll_interval=60, clock=lambda: NOW)
            assert await mailer.send_due() == 0  # both failed
            async with db.transaction() as store:
                await store.outbox.sent(message_id=1, now=NOW + 5)
                await send_later(store, letters.password_reset(
                    to="cat@example.org", username="cat", url="https://x/y", minutes=30),
                    now=NOW + 10)
        finally:
            await db.dispose()

    asyncio.run(main())


def test_list_shows_each_state_without_bodies(tmp_path: Path) -> None:
    seed(tmp_path)
    listed = openplate(tmp_path, "mail", "list", "--json")
    assert listed.returncode == 0, listed.stderr
    messages = json.loads(listed.stdout)
    assert [(m["id"], m["state"], m["recipient"]) for m in messages] == [
        (3, "queued", "cat@example.org"), (2, "failed", "ben@example.org"),
        (1, "sent", "ann@example.org")]
    assert messages[1]["attempts"] == 1 and "127.0.0.1:9" in messages[1]["last_error"]
    assert messages[1]["next_attempt_at"] > NOW and messages[2]["sent_at"] == NOW + 5
    assert "opr_x" not in listed.stdout and "body" not in listed.stdout
    failed = openplate(tmp_path, "mail", "list", "--state", "failed", "--json")
    assert [m["id"] for m in json.loads(failed.stdout)] == [2]
    text = openplate(tmp_path, "mail", "list")
    assert text.returncode == 0 and "ben@example.org" in text.stdout and "failed" in text.stdout


def test_retry_makes_waiting_mail_due_now(tmp_path: Path) -> None:
    seed(tmp_path)
    retried = openplate(tmp_path, "mail", "retry", "2", "--json")
    assert retried.returncode == 0, retried.stderr
    assert json.loads(retried.stdout) == {"retried": [2], "not_waiting": []}
    listed = json.loads(openplate(tmp_path, "mail", "list", "--state", "failed", "--json").stdout)
    assert listed[0]["next_attempt_at"] < NOW + 30  # due now (the test's NOW is in the future)
    everything = openplate(tmp_path, "mail", "retry", "--all", "--json")
    assert json.loads(everything.stdout)["retried"] == [2, 3]
    # A sent message, or one that does not exist, is not waiting: said so, in one line.
    assert "no unsent message with id 1, 99" in one_line_error(
        openplate(tmp_path, "mail", "retry", "1", "99"))
    assert "--all" in one_line_error(openplate(tmp_path, "mail", "retry"))


@pytest.mark.parametrize(("variable", "value", "words"), [
    ("OPENPLATE_SMTP_URL", "ftp://mailer:Hunter2-secret@mail.example.com", "use smtp://"),
    ("OPENPLATE_SMTP_URL", "smtp://mailer:Hunter2-secret@mail.example.com:99999", "port"),
    ("OPENPLATE_SMTP_URL", "smtp://mailer@mail.example.com:587", "both a user name and a password"),
    ("OPENPLATE_MAIL_FROM", "not an address", "e-mail address"),
    ("OPENPLATE_SMTP_CA_FILE", "/nonexistent/ca.pem", "no such file"),
    ("OPENPLATE_SMTP_TIMEOUT", "0", "greater than 0"),
])
def test_mail_settings_are_refused_by_name(tmp_path: Path, variable: str, value: str,
                                           words: str) -> None:
    line = one_line_error(openplate(tmp_path, "mail", "list", env={variable: value}))
    assert variable in line and words in line, line
    assert "Hunter2" not in line


def test_smtp_urls_choose_tls_and_never_plain_credentials() -> None:
    assert parse_smtp_url("smtp://relay.internal").security == "plain"
    assert parse_smtp_url("smtp://relay.internal").port == 25
    with_credentials = parse_smtp_url("smtp://u:p%40ss@mail.example.com")
    assert (with_credentials.security, with_credentials.port) == ("starttls", 587)
    assert with_credentials.password == "p@ss" and "p@ss" not in repr(with_credentials)
    assert "p@ss" not in with_credentials.describe()
    assert parse_smtp_url("smtps://u:p@mail.example.com").port == 465
    assert parse_smtp_url("smtp+starttls://mail.example.com:2525").security == "starttls"
    assert "Hunter2" not in repr(Settings(smtp_url="smtp://u:Hunter2@mail.example.com"))
