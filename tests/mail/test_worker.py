"""The mail queue and its worker against a real SMTP server (aiosmtpd on a loopback port):
plain, STARTTLS and implicit TLS with AUTH; credentials never over plain text; an outage
delays mail and loses none; two workers on one database never send a message twice; with no
SMTP server, mail becomes .eml files. On SQLite and PostgreSQL. The worker runs with a clock
the test sets, so a retry's delay is moved past, never waited for."""

from __future__ import annotations

import asyncio
import logging
import stat
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from openplate.mail import letters
from openplate.mail.queue import send_later
from openplate.mail.smtp_url import parse_smtp_url
from openplate.mail.transport import FolderTransport, SmtpTransport, Transport
from openplate.mail.worker import FIRST_RETRY, MAX_RETRY, MailWorker, retry_delay
from openplate.store.unit import Database
from tests.mail.conftest import open_database
from tests.support.smtp import PASSWORD, USER, SmtpServer

NOW = 2_000_000_000
LINK = "https://id.example.com/password/reset/opr_secret-link"


class Clock:
    def __init__(self) -> None:
        self.now = NOW

    def __call__(self) -> int:
        return self.now


def smtp(server: SmtpServer) -> SmtpTransport:
    return SmtpTransport(parse_smtp_url(server.url), timeout=30, ca_file=server.ca)


def worker(db: Database, transport: Transport, clock: Clock) -> MailWorker:
    return MailWorker(db, transport, sender="Openplate <openplate@id.example.com>",
                      base_url="https://id.example.com", poll_interval=60, clock=clock)


async def queue(db: Database, to: str, *, now: int = NOW) -> int:
    async with db.transaction() as store:
        return await send_later(store, letters.password_reset(
            to=to, username="alice", url=LINK, minutes=30), now=now)


async def states(db: Database) -> dict[int, str]:
    async with db.transaction(readonly=True) as store:
        return {m.id: m.state for m in await store.outbox.listing()}


@pytest.mark.parametrize(("kind", "auth"), [("plain", False), ("starttls", True), ("tls", True),
                                            ("starttls", False)])
async def test_sends_through_each_kind_of_server(
        database_url: str, tmp_path: Path, kind: str, auth: bool) -> None:
    server = SmtpServer(kind, tmp_path, auth=auth)  # type: ignore[arg-type]
    server.start()
    db = open_database(database_url)
    try:
        message_id = await queue(db, "alice@example.org")
        assert await worker(db, smtp(server), Clock()).send_due() == 1
    finally:
        server.stop()
        await db.dispose()
    [mail] = server.inbox.messages
    assert server.inbox.logins == [USER if auth else None]
    assert mail["To"] == "alice@example.org" and mail["From"] == "Openplate <openplate@id.example.com>"
    assert mail["Subject"] == "Reset your Openplate password"
    assert mail["Message-ID"] == f"<openplate.{message_id}.{NOW}@id.example.com>"
    text = mail.get_body(("plain",))
    html = mail.get_body(("html",))
    assert text is not None and LINK in text.get_content()
    assert html is not None and f'href="{LINK}"' in html.get_content()
    db = open_database(database_url)
    try:
        async with db.transaction(readonly=True) as store:
            [row] = await store.outbox.listing()
    finally:
        await db.dispose()
    # Sent: kept for `openplate mail list` until the purge, with its link gone.
    assert row.state == "sent" and row.sent_at == NOW and row.attempts == 1
    assert row.text_body is None and row.html_body is None


async def test_credentials_never_cross_plain_text(database_url: str, tmp_path: Path,
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """A server without STARTTLS gets no password: nothing is sent, the message waits."""
    server = SmtpServer("plain", tmp_path, auth=False)
    server.start()
    transport = SmtpTransport(parse_smtp_url(
        f"smtp://{USER}:x-{PASSWORD.replace('/', '%2F').replace('@', '%40')}@127.0.0.1:{server.port}"),
        timeout=30)
    db = open_database(database_url)
    try:
        await queue(db, "bob@example.org")
        with caplog.at_level(logging.INFO, logger="openplate.mail"):
            assert await worker(db, transport, Clock()).send_due() == 0
        async with db.transaction(readonly=True) as store:
            [row] = await store.outbox.listing()
    finally:
        server.stop()
        await db.dispose()
    assert server.inbox.count() == 0
    assert row.state == "failed" and row.next_attempt_at == NOW + FIRST_RETRY
    assert row.last_error is not None and "does not offer STARTTLS" in row.last_error
    assert "x-s3cret" not in caplog.text and "s3cret" not in (row.last_error or "")


async def test_a_wrong_password_is_reported_without_it(database_url: str, tmp_path: Path) -> None:
    server = SmtpServer("tls", tmp_path, auth=True)
    server.start()
    wrong = "wrong-Pa55word-value"
    transport = SmtpTransport(parse_smtp_url(f"smtps://{USER}:{wrong}@127.0.0.1:{server.port}"),
                              timeout=30, ca_file=server.ca)
    db = open_database(database_url)
    try:
        await queue(db, "carol@example.org")
        assert await worker(db, transport, Clock()).send_due() == 0
        async with db.transaction(readonly=True) as store:
            [row] = await store.outbox.listing()
    finally:
        server.stop()
        await db.dispose()
    assert row.state == "failed" and row.last_error is not None and "535" in row.last_error
    assert wrong not in row.last_error


async def test_an_unknown_certificate_authority_is_refused(database_url: str, tmp_path: Path) -> None:
    """Without OPENPLATE_SMTP_CA_FILE the private CA is not trusted: TLS fails, nothing is sent."""
    server = SmtpServer("starttls", tmp_path, auth=True)
    server.start()
    db = open_database(database_url)
    try:
        await queue(db, "dave@example.org")
        transport = SmtpTransport(parse_smtp_url(server.url), timeout=30)
        assert await worker(db, transport, Clock()).send_due() == 0
    finally:
        server.stop()
        await db.dispose()
    assert server.inbox.count() == 0


async def test_an_outage_delays_mail_and_loses_none(database_url: str, tmp_path: Path) -> None:
    server = SmtpServer("starttls", tmp_path, auth=True)  # not started: the server is down
    clock = Clock()
    db = open_database(database_url)
    try:
        ids = [await queue(db, f"user{i}@example.org") for i in range(3)]
        mailer = worker(db, smtp(server), clock)
        assert await mailer.send_due() == 0
        assert set((await states(db)).values()) == {"failed"}
        clock.now += FIRST_RETRY - 1  # not yet due again
        assert await mailer.send_due() == 0
        clock.now += 1  # due again, still down: the next wait is twice as long
        assert await mailer.send_due() == 0
        async with db.transaction(readonly=True) as store:
            waiting = await store.outbox.listing()
        assert {m.next_attempt_at for m in waiting} == {clock.now + 2 * FIRST_RETRY}
        assert {m.attempts for m in waiting} == {2}
        server.start()
        clock.now += 2 * FIRST_RETRY
        assert await mailer.send_due() == 3
    finally:
        server.stop()
        await db.dispose()
    assert sorted(m["To"] for m in server.inbox.messages) == [
        "user0@example.org", "user1@example.org", "user2@example.org"]
    assert (await _states_of(database_url)) == {i: "sent" for i in ids}


async def _states_of(url: str) -> dict[int, str]:
    db = open_database(url)
    try:
        return await states(db)
    finally:
        await db.dispose()


def test_retries_come_within_a_minute_then_later_and_later_up_to_an_hour() -> None:
    delays = [retry_delay(n) for n in range(1, 12)]
    assert delays[0] <= 60
    assert all(a < b for a, b in zip(delays, delays[1:], strict=False) if b < MAX_RETRY)
    assert delays[-1] == MAX_RETRY == 3600 and retry_delay(10_000) == MAX_RETRY


async def test_two_workers_never_send_a_message_twice(database_url: str, tmp_path: Path) -> None:
    """Two workers with databases of their own (two nodes) drain one queue at once."""
    server = SmtpServer("plain", tmp_path, auth=False)
    server.start()
    setup, node_a, node_b = (open_database(database_url) for _ in range(3))
    try:
        for i in range(40):
            await queue(setup, f"user{i}@example.org")
        clock = Clock()
        sent = await asyncio.gather(worker(node_a, smtp(server), clock).send_due(),
                                    worker(node_b, smtp(server), clock).send_due())
        assert sum(sent) == 40
        assert set((await states(setup)).values()) == {"sent"}
    finally:
        server.stop()
        for db in (setup, node_a, node_b):
            await db.dispose()
    ids = [m["Message-ID"] for m in server.inbox.messages]
    assert len(ids) == len(set(ids)) == 40


async def test_a_claimed_message_is_not_taken_again_until_its_lease_ends(database_url: str) -> None:
    db = open_database(database_url)
    try:
        message_id = await queue(db, "erin@example.org")
        async with db.transaction() as store:
            [claimed] = await store.outbox.claim(now=NOW, lease=900, limit=10)
        async with db.transaction() as store:
            assert await store.outbox.claim(now=NOW + 899, lease=900, limit=10) == []
            # `openplate mail retry` makes it due, but leaves it to the worker holding it.
            assert await store.outbox.retry(now=NOW + 1) == [message_id]
            assert await store.outbox.claim(now=NOW + 2, lease=900, limit=10) == []
        async with db.transaction() as store:  # that worker died: another takes it after the lease
            [again] = await store.outbox.claim(now=NOW + 900, lease=900, limit=10)
    finally:
        await db.dispose()
    assert claimed.id == again.id == message_id and again.attempts == 2


async def test_without_smtp_mail_becomes_files(database_url: str, tmp_path: Path,
                                                caplog: pytest.LogCaptureFixture) -> None:
    folder = tmp_path / "openplate-mail"
    db = open_database(database_url)
    try:
        message_id = await queue(db, "frank@example.org")
        with caplog.at_level(logging.INFO, logger="openplate.mail"):
            assert await worker(db, FolderTransport(folder), Clock()).send_due() == 1
    finally:
        await db.dispose()
    path = folder / f"{message_id:08d}.eml"
    assert [p.name for p in folder.iterdir()] == [path.name]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    mail = message_from_bytes(path.read_bytes(), policy=policy.default)
    assert mail["To"] == "frank@example.org"
    body = mail.get_body(("plain",))
    assert body is not None and LINK in body.get_content()  # type: ignore[union-attr]
    assert str(path) in caplog.text and LINK not in caplog.text
