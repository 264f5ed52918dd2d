"""Second factors and passkeys in SQL (SQLite and PostgreSQL): a TOTP step is accepted once, a
recovery code is used once, a half-signed-in state ends once, a WebAuthn challenge is taken once
(by its own browser, for its own purpose, before it expires), a passkey's counter only grows;
each also when many units try at once. And the amr of a code and a grant, on every backend."""

from __future__ import annotations

import asyncio

import pytest

from openplate.store.unit import Store
from tests.contract.backends import NOW, Backend, SqlBackend, code_digest, grant, user_and_client

RACERS = 8


@pytest.fixture(params=["sqlite", "postgresql"])
def sql(request: pytest.FixtureRequest) -> SqlBackend:
    backend: SqlBackend = request.getfixturevalue(request.param)
    return backend


async def _user(sql: SqlBackend) -> int:
    return (await sql.add_user()).id


async def _at_once(sql: SqlBackend, work: object, count: int = RACERS) -> list[bool]:
    async def one() -> bool:
        async with sql.db.transaction() as store:
            result: bool = await work(store)  # type: ignore[operator]
            return result

    return list(await asyncio.gather(*(one() for _ in range(count))))


async def test_enrolment_is_confirmed_once_and_a_step_is_used_once(sql: SqlBackend) -> None:
    user_id = await _user(sql)
    async with sql.db.transaction() as store:
        assert await store.second_factors.begin_totp(user_id=user_id, secret_sealed="t1.a", now=NOW)
        # Starting again before confirming replaces the secret.
        assert await store.second_factors.begin_totp(user_id=user_id, secret_sealed="t1.b", now=NOW)
        record = await store.second_factors.totp(user_id=user_id)
        assert record is not None and record.secret_sealed == "t1.b" and not record.confirmed
        # An unconfirmed authenticator accepts no code.
        assert not await store.second_factors.use_totp_step(user_id=user_id, step=10)
        assert await store.second_factors.confirm_totp(user_id=user_id, step=10, now=NOW)
        assert not await store.second_factors.confirm_totp(user_id=user_id, step=11, now=NOW)
        assert not await store.second_factors.begin_totp(user_id=user_id, secret_sealed="t1.c",
                                                         now=NOW)
    results = await _at_once(sql, lambda s: s.second_factors.use_totp_step(user_id=user_id, step=11))
    assert sorted(results) == [False] * (RACERS - 1) + [True]
    async with sql.db.transaction() as store:
        assert not await store.second_factors.use_totp_step(user_id=user_id, step=10)  # earlier
        assert await store.second_factors.use_totp_step(user_id=user_id, step=12)
        record = await store.second_factors.totp(user_id=user_id)
        assert record is not None and record.last_step == 12


async def test_a_recovery_code_is_used_once_by_its_owner(sql: SqlBackend) -> None:
    owner, other = await _user(sql), await _user(sql)
    digests = [code_digest() for _ in range(3)]
    async with sql.db.transaction() as store:
        await store.second_factors.replace_recovery_codes(user_id=owner, digests=digests, now=NOW)
        assert not await store.second_factors.use_recovery_code(user_id=other, digest=digests[0],
                                                                now=NOW)
    results = await _at_once(sql, lambda s: s.second_factors.use_recovery_code(
        user_id=owner, digest=digests[0], now=NOW))
    assert sorted(results) == [False] * (RACERS - 1) + [True]
    async with sql.db.transaction() as store:
        assert await store.second_factors.recovery_codes_left(user_id=owner) == 2
        await store.second_factors.replace_recovery_codes(user_id=owner, digests=[code_digest()],
                                                          now=NOW)
        assert not await store.second_factors.use_recovery_code(user_id=owner, digest=digests[1],
                                                                now=NOW)
        assert await store.second_factors.remove_totp(user_id=owner) is False  # none enrolled
        assert await store.second_factors.recovery_codes_left(user_id=owner) == 0


async def test_a_half_signed_in_state_ends_once_and_expires(sql: SqlBackend) -> None:
    user_id = await _user(sql)
    live, old = code_digest(), code_digest()
    async with sql.db.transaction() as store:
        await store.second_factors.start_wait(digest=live, user_id=user_id, next_path="/x",
                                              browser_digest="b", now=NOW, expires_at=NOW + 300)
        await store.second_factors.start_wait(digest=old, user_id=user_id, next_path="/",
                                              browser_digest=None, now=NOW, expires_at=NOW + 1)
        found = await store.second_factors.find_wait(digest=live, now=NOW + 299)
        assert found is not None and (found.next_path, found.browser_digest) == ("/x", "b")
        assert await store.second_factors.find_wait(digest=old, now=NOW + 1) is None
        assert await store.second_factors.end_wait(digest=old, now=NOW + 1) is None

    async def end(store: Store) -> bool:
        return await store.second_factors.end_wait(digest=live, now=NOW + 2) is not None

    assert sorted(await _at_once(sql, end)) == [False] * (RACERS - 1) + [True]


async def test_a_challenge_is_taken_once_by_its_browser_for_its_purpose(sql: SqlBackend) -> None:
    user_id = await _user(sql)
    async with sql.db.transaction() as store:
        for name in ("c-live", "c-old"):
            await store.passkeys.new_challenge(
                challenge=name + str(user_id), purpose="signin", binding="browser-a",
                user_id=None, now=NOW, expires_at=NOW + (300 if name == "c-live" else 1))
        live = "c-live" + str(user_id)
        assert await store.passkeys.take_challenge(challenge=live, purpose="signin",
                                                   binding="browser-b", now=NOW) is None
        assert await store.passkeys.take_challenge(challenge=live, purpose="register",
                                                   binding="browser-a", now=NOW) is None
        assert await store.passkeys.take_challenge(challenge="c-old" + str(user_id),
                                                   purpose="signin", binding="browser-a",
                                                   now=NOW + 1) is None

    async def take(store: Store) -> bool:
        return await store.passkeys.take_challenge(challenge=live, purpose="signin",
                                                   binding="browser-a", now=NOW) is not None

    assert sorted(await _at_once(sql, take)) == [False] * (RACERS - 1) + [True]


async def test_passkeys_are_an_accounts_own_and_their_counter_only_grows(sql: SqlBackend) -> None:
    owner, other = await _user(sql), await _user(sql)
    credential = f"cred-{owner}"
    async with sql.db.transaction() as store:
        key_id = await store.passkeys.add(user_id=owner, credential_id=credential,
                                          public_key=b"\x01\x02", sign_count=5, name="Laptop",
                                          multi_device=False, now=NOW)
        assert key_id is not None
        assert await store.passkeys.add(user_id=other, credential_id=credential,
                                        public_key=b"", sign_count=0, name="x",
                                        multi_device=False, now=NOW) is None
        assert not await store.passkeys.rename(user_id=other, passkey_id=key_id, name="Mine")
        assert not await store.passkeys.remove(user_id=other, passkey_id=key_id)
        assert await store.passkeys.rename(user_id=owner, passkey_id=key_id, name="Work")
        assert not await store.passkeys.used(passkey_id=key_id, sign_count=5, now=NOW)
    results = await _at_once(sql, lambda s: s.passkeys.used(passkey_id=key_id, sign_count=6,
                                                            now=NOW + 1))
    assert sorted(results) == [False] * (RACERS - 1) + [True]
    async with sql.db.transaction() as store:
        found = await store.passkeys.by_credential_id(credential_id=credential)
        assert found is not None
        assert (found.name, found.sign_count, found.public_key, found.last_used_at) == (
            "Work", 6, b"\x01\x02", NOW + 1)
        assert await store.passkeys.count(user_id=owner) == 1
        assert await store.passkeys.remove(user_id=owner, passkey_id=key_id)
        assert await store.passkeys.of_user(user_id=owner) == []


async def test_a_code_and_a_grant_keep_how_the_user_signed_in(backend: Backend) -> None:
    """The amr a code and its grant were made with comes back with them (for the ID token)."""
    user, client = await user_and_client(backend)
    async with backend.transaction() as store:
        grant_id = await store.grants.create(user_id=user.id, client_pk=client.pk, scope="openid",
                                             now=NOW, auth_time=NOW - 5, amr="pwd otp mfa")
        digest = code_digest()
        await store.codes.create(
            digest=digest, grant_id=grant_id, client_pk=client.pk, user_id=user.id,
            redirect_uri="https://app.example/cb", scope="openid", code_challenge=None,
            nonce=None, auth_time=NOW - 5, now=NOW, expires_at=NOW + 60, amr="pwd otp mfa")
        found = await store.codes.find(digest=digest)
        consumed = await store.codes.consume(digest=digest, now=NOW + 1)
    assert found is not None and found.amr == "pwd otp mfa"
    assert consumed is not None and consumed.amr == "pwd otp mfa"
    plain = await grant(backend, user, client)
    async with backend.transaction() as store:
        await store.tokens.create_refresh(digest=(refresh := code_digest()), grant_id=grant_id,
                                          client_pk=client.pk, user_id=user.id, scope="openid",
                                          now=NOW, expires_at=NOW + 3600)
        record = await store.tokens.find_refresh(digest=refresh)
    assert record is not None and record.amr == "pwd otp mfa"
    assert plain  # a grant made without one still works (amr None)
