"""store/client_cache.py: records kept for their time to live, bounded, and forgotten on demand."""

from __future__ import annotations

from openplate.oauth.models import Client
from openplate.store.client_cache import ClientCache


def _client(client_id: str, pk: int = 1) -> Client:
    return Client(pk=pk, client_id=client_id, name="n", owner_id=1,
                  redirect_uris=("https://a.example/cb",), secret_digest="d" * 64)


class Clock:
    """Seconds that pass only when the test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def test_a_record_is_kept_for_its_time_to_live_and_no_longer() -> None:
    clock = Clock()
    cache = ClientCache(clock=clock)  # the server's: a second (docs/deploy.md)
    client = _client("opc_a")
    assert cache.get("opc_a") is None
    cache.put(client)
    assert cache.get("opc_a") is client
    assert cache.get("opc_b") is None
    clock.now += 0.75
    assert cache.get("opc_a") is client  # read again within the second: still the record read
    clock.now += 0.25
    assert cache.get("opc_a") is None  # a second after it was read: read it afresh
    cache.put(client)
    clock.now += 0.5
    assert cache.get("opc_a") is client  # its second counts from when it was read again


def test_clear_forgets_everything_and_the_size_is_bounded() -> None:
    cache = ClientCache(ttl=60, size=3)
    for n in range(3):
        cache.put(_client(f"opc_{n}", n))
    assert all(cache.get(f"opc_{n}") is not None for n in range(3))
    cache.put(_client("opc_3", 3))  # over the bound: the old ones go
    assert cache.get("opc_0") is None and cache.get("opc_3") is not None
    cache.clear()
    assert cache.get("opc_3") is None
