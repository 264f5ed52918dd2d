"""Signing-key lifecycle: create on first start, rotate on demand, load the ring to sign with.

Every algorithm Openplate offers (RS256, ES256, EdDSA) has its own current key and its own next
key, so each client can have its ID tokens signed with the algorithm it registered, and RS256 is
always there (OpenID Connect's default). A key is published in the JWKS as "next" before it ever
signs, so clients that cache the JWKS already know it when tokens signed with it arrive; after
rotation the old key stays published as "retired" until every token it signed has expired.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag

from openplate.oauth.oidc import keys
from openplate.oauth.oidc.jws import ALGORITHMS
from openplate.store.key_repos import KeyRecord, SqlSigningKeys


class KeysUnreadable(Exception):
    """The signing keys were sealed under another instance key than the one configured."""


class RotationRefused(Exception):
    """A rotation that would break clients (the next key is too new); the message says why."""


@dataclass(frozen=True)
class RotationResult:
    """One algorithm's rotation: the key retired, the one that signs now, the new next key."""

    alg: str
    retired: str | None
    current: str
    next: str


@dataclass(frozen=True)
class Rotation:
    rotated: tuple[RotationResult, ...]
    removed: tuple[str, ...]  # long-retired keys deleted


async def _add(repo: SqlSigningKeys, alg: str, status: str, instance_key: bytes, now: int,
               new: keys.NewKey | None = None) -> str:
    new = new or keys.generate(alg)
    await repo.add(kid=new.kid, alg=alg, status=status, public_jwk=new.public_jwk,
                   private_encrypted=keys.seal(new.private_pem, instance_key), now=now)
    return new.kid


async def ensure_current(
    repo: SqlSigningKeys, *, instance_key: bytes, now: int, algs: Sequence[str] = ALGORITHMS
) -> list[str]:
    """Make sure each algorithm of ``algs`` has a current key; return those that have no next
    key published yet (see ``publish_next``)."""
    await repo.lock()
    records = await repo.all()
    for alg in algs:
        if not any(r.status == "current" and r.alg == alg for r in records):
            await _add(repo, alg, "current", instance_key, now)
    return [alg for alg in algs if not any(r.status == "next" and r.alg == alg for r in records)]


async def publish_next(repo: SqlSigningKeys, *, alg: str, instance_key: bytes, now: int,
                       new: keys.NewKey | None = None) -> bool:
    """Publish a next key of ``alg`` (``new``, made beforehand, or a fresh one) unless there is
    one already. True if it published one."""
    await repo.lock()
    records = await repo.all()
    if any(r.status == "next" and r.alg == alg for r in records):
        return False
    await _add(repo, alg, "next", instance_key, now, new)
    return True


async def ensure_keys(
    repo: SqlSigningKeys, *, instance_key: bytes, now: int, algs: Sequence[str] = ALGORITHMS
) -> None:
    """Make sure each algorithm of ``algs`` has a current key and a published next one."""
    for alg in await ensure_current(repo, instance_key=instance_key, now=now, algs=algs):
        await publish_next(repo, alg=alg, instance_key=instance_key, now=now)


async def rotate(
    repo: SqlSigningKeys, *, algs: Sequence[str], instance_key: bytes, now: int, retention: int,
    min_next_age: int,
) -> Rotation:
    """For each algorithm of ``algs``: retire the current key, promote the next, publish a new
    next; then drop long-retired keys. Refused as a whole if any next key is too new."""
    await ensure_keys(repo, instance_key=instance_key, now=now, algs=algs)
    records = await repo.all()
    pairs = []
    for alg in algs:
        current = next(r for r in records if r.status == "current" and r.alg == alg)
        upcoming = next(r for r in records if r.status == "next" and r.alg == alg)
        if now - upcoming.created_at < min_next_age:
            raise RotationRefused(
                f"the next {alg} key was published {now - upcoming.created_at}s ago; clients may "
                f"not have fetched it yet (wait until it is {min_next_age}s old, or pass --force)"
            )
        pairs.append((alg, current, upcoming))
    removed = tuple(
        r.kid for r in records
        if r.status == "retired" and r.retired_at is not None and r.retired_at + retention < now
    )
    results = []
    for alg, current, upcoming in pairs:
        await repo.set_status(kid=current.kid, status="retired", now=now)
        await repo.set_status(kid=upcoming.kid, status="current", now=now)
        fresh = await _add(repo, alg, "next", instance_key, now)
        results.append(RotationResult(alg, current.kid, upcoming.kid, fresh))
    for kid in removed:
        await repo.remove(kid=kid)
    return Rotation(tuple(results), removed)


def published(records: list[KeyRecord], *, now: int, retention: int) -> list[KeyRecord]:
    """Keys in the JWKS: next, current, and retired ones that may still have live tokens."""
    return [
        r for r in records
        if r.status in ("next", "current")
        or (r.retired_at is not None and r.retired_at + retention >= now)
    ]


async def load_ring(repo: SqlSigningKeys, *, instance_key: bytes, now: int, retention: int,
                    default_alg: str = "RS256") -> keys.KeyRing:
    """The current key of each algorithm, unsealed, and the published set. ``default_alg``
    (``OPENPLATE_SIGNING_ALG``) signs JWT access tokens and the ID tokens of clients that chose
    no algorithm."""
    records = await repo.all()
    signing: dict[str, keys.AlgKey] = {}
    for record in records:  # oldest first: a later current key of one algorithm wins
        if record.status != "current":
            continue
        try:
            private = keys.load_private(keys.unseal(record.private_encrypted, instance_key))
        except InvalidTag:
            raise KeysUnreadable(
                "the signing keys in the database were sealed with another secret key: set "
                "OPENPLATE_SECRET_KEY (or openplate-secret.key) to the one this database was "
                "made with"
            ) from None
        signing[record.alg] = keys.AlgKey(record.kid, record.alg, private)
    if not signing:
        raise LookupError("the database has no current signing key")
    return keys.KeyRing.build(
        signing=signing, default_alg=default_alg,
        published=[r.public_jwk for r in published(records, now=now, retention=retention)],
    )
