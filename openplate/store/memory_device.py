"""RFC 8628 device authorisations in memory, with ``SqlDeviceCodes``' semantics (device_repos.py).

Units of work run one at a time (memory.py), so each method is as atomic as its one SQL statement.
"""

from __future__ import annotations

from dataclasses import replace

from openplate.oauth.models import DeviceRecord
from openplate.store.device_repos import SLOW_DOWN_STEP
from openplate.store.memory_tables import DeviceRow, Unit


class MemoryDeviceCodes:
    def __init__(self, unit: Unit) -> None:
        self._unit = unit

    async def create(
        self, *, device_digest: str, user_digest: str, client_pk: int, scope: str, now: int,
        expires_at: int, interval: int,
    ) -> int:
        devices = self._unit.tables.devices
        row = DeviceRow(id=devices.next_id(), device_digest=device_digest, user_digest=user_digest,
                        client_pk=client_pk, scope=scope, created_at=now, expires_at=expires_at,
                        poll_interval=interval)
        self._unit.insert(devices, row)
        return row.id

    def _read(self, row: DeviceRow | None) -> DeviceRecord | None:
        if row is None:
            return None
        client = self._unit.tables.clients.get(row.client_pk)
        return row.record(client.client.client_id if client is not None else "")

    def _with_user_code(self, user_digest: str) -> list[DeviceRow]:
        rows = self._unit.tables.devices.rows.values()
        return sorted((r for r in rows if r.user_digest == user_digest), key=lambda r: -r.id)

    async def user_code_live(self, *, user_digest: str, now: int) -> bool:
        return any(r.expires_at > now for r in self._with_user_code(user_digest))

    async def by_device_code(self, *, digest: str) -> DeviceRecord | None:
        return self._read(self._unit.tables.devices.find(digest))

    async def by_user_code(self, *, user_digest: str) -> DeviceRecord | None:
        rows = self._with_user_code(user_digest)
        return self._read(rows[0]) if rows else None

    async def by_id(self, *, device_id: int) -> DeviceRecord | None:
        return self._read(self._unit.tables.devices.get(device_id))

    async def pace(self, *, device_id: int, now: int) -> int | None:
        devices = self._unit.tables.devices
        row = devices.get(device_id)
        if row is None:
            return SLOW_DOWN_STEP
        if row.last_polled_at is None or row.last_polled_at + row.poll_interval <= now:
            self._unit.update(devices, replace(row, last_polled_at=now))
            return None
        slower = replace(row, poll_interval=row.poll_interval + SLOW_DOWN_STEP)
        self._unit.update(devices, slower)
        return slower.poll_interval

    async def claim(self, *, device_id: int, user_id: int) -> None:
        devices = self._unit.tables.devices
        row = devices.get(device_id)
        if row is not None:
            self._unit.update(devices, replace(row, claimed_by=user_id))

    async def decide(
        self, *, device_id: int, user_id: int, allow: bool, now: int, auth_time: int | None,
        amr: str | None,
    ) -> bool:
        devices = self._unit.tables.devices
        row = devices.get(device_id)
        if (row is None or row.status != "pending" or row.claimed_by != user_id
                or row.expires_at <= now):
            return False
        self._unit.update(devices, replace(
            row, status="allowed" if allow else "denied", user_id=user_id, decided_at=now,
            auth_time=auth_time, amr=amr))
        return True

    async def consume(self, *, device_id: int, now: int) -> DeviceRecord | None:
        tables = self._unit.tables
        row = tables.devices.get(device_id)
        if row is None or row.used_at is not None or row.status != "allowed":
            return None
        user = tables.users.get(row.user_id) if row.user_id is not None else None
        client = tables.clients.get(row.client_pk)
        if (user is None or user.disabled_at is not None or client is None
                or client.client.disabled):
            return None
        self._unit.update(tables.devices, replace(row, used_at=now))
        return row.record()
