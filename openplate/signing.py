"""Signing-key lifecycle: create on first start, rotate on demand, load the ring to sign with.

A key is published in the JWKS as "next" before it ever signs, so clients that cache the JWKS
already know it when tokens signed with it arrive; after rotation the old key stays published as
"retired" until every token it signed has expired.
"""

from __future__ import annotations

from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from openplate.oauth.oidc import keys
from openplate.store.key_repos import KeyRecord, SqlSigningKeys


class KeysUnreadable(Exception):
    """The signing keys were sealed under another instance key than the one configured."""


class RotationRefused(Exception):
    """A rotation that would break clients (the next key is too new); the message says why."""


@dataclass(frozen=True)
class RotationResult:
    retired: str | None
    current: str
    next: str
    removed: tuple[str, ...]


async def _add(repo: SqlSigningKeys, alg: str, status: str, instance_key: bytes, now: int,
               new: keys.NewKey | None = None) -> str:
    new = new or keys.generate(alg)
    await repo.add(kid=new.kid, alg=alg, status=status, public_jwk=new.public_jwk,
                   private_encrypted=keys.seal(new.private_pem, instance_key), now=now)
    return new.kid


async def ensure_current(repo: SqlSigningKeys, *, alg: str, instance_key: bytes, now: int) -> bool:
    """Make sure there is a current key of ``alg``; True if no next key of ``alg`` is published
    yet (see ``publish_next``)."""
    await repo.lock()
    records = await repo.all()
    current = [r for r in records if r.status == "current"]
    if not current or current[-1].alg != alg:
        if current:  # the deployment switched algorithm: the old key retires
            await repo.set_status(kid=current[-1].kid, status="retired", now=now)
        await _add(repo, alg, "current", instance_key, now)
    return not any(r.status == "next" and r.alg == alg for r in records)


async def publish_next(repo: SqlSigningKeys, *, alg: str, instance_key: bytes, now: int,
                       new: keys.NewKey | None = None) -> bool:
    """Publish a next key of ``alg`` (``new``, made beforehand, or a fresh one) unless there is
    one already; a next key of another algorithm goes. True if it published one."""
    await repo.lock()
    records = await repo.all()
    if any(r.status == "next" and r.alg == alg for r in records):
        return False
    for stale in (r for r in records if r.status == "next"):
        await repo.remove(kid=stale.kid)
    await _add(repo, alg, "next", instance_key, now, new)
    return True


async def ensure_keys(repo: SqlSigningKeys, *, alg: str, instance_key: bytes, now: int) -> None:
    """Make sure there is a current key of ``alg`` and a published next one."""
    if await ensure_current(repo, alg=alg, instance_key=instance_key, now=now):
        await publish_next(repo, alg=alg, instance_key=instance_key, now=now)


async def rotate(
    repo: SqlSigningKeys, *, alg: str, instance_key: bytes, now: int, retention: int,
    min_next_age: int,
) -> RotationResult:
    """Retire the current key, promote the next, publish a new next, drop long-retired keys."""
    await ensure_keys(repo, alg=alg, instance_key=instance_key, now=now)
    records = await repo.all()
    current = next(r for r in records if r.status == "current")
    upcoming = next(r for r in records if r.status == "next")
    if now - upcoming.created_at < min_next_age:
        raise RotationRefused(
            f"the next key was published {now - upcoming.created_at}s ago; clients may not have "
            f"fetched it yet (wait until it is {min_next_age}s old, or pass --force)"
        )
    await repo.set_status(kid=current.kid, status="retired", now=now)
    await repo.set_status(kid=upcoming.kid, status="current", now=now)
    fresh = await _add(repo, alg, "next", instance_key, now)
    removed = tuple(
        r.kid for r in records
        if r.status == "retired" and r.retired_at is not None and r.retired_at + retention < now
    )
    for kid in removed:
        await repo.remove(kid=kid)
    return RotationResult(current.kid, upcoming.kid, fresh, removed)


def published(records: list[KeyRecord], *, now: int, retention: int) -> list[KeyRecord]:
    """Keys in the JWKS: next, current, and retired ones that may still have live tokens."""
    return [
        r for r in records
        if r.status in ("next", "current")
        or (r.retired_at is not None and r.retired_at + retention >= now)
    ]


async def load_ring(repo: SqlSigningKeys, *, instance_key: bytes, now: int,
                    retention: int) -> keys.KeyRing:
    records = await repo.all()
    current = next(r for r in reversed(records) if r.status == "current")
    try:
        private = keys.load_private(keys.unseal(current.private_encrypted, instance_key))
    except InvalidTag:
        raise KeysUnreadable(
            "the signing keys in the database were sealed with another secret key: set "
            "OPENPLATE_SECRET_KEY (or openplate-secret.key) to the one this database was made with"
        ) from None
    return keys.KeyRing.build(
        kid=current.kid, alg=current.alg, private=private,
        published=[r.public_jwk for r in published(records, now=now, retention=retention)],
    )
