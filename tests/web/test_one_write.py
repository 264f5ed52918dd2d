"""openplate/web/server.py: what one event-loop pass writes reaches the socket in one call, and
nothing is lost, reordered or sent after a close. On real sockets, with uvloop as in serving."""

from __future__ import annotations

import asyncio
import socket
from typing import Any

import uvloop

from openplate.web.app import STATIC
from openplate.web.server import OneWritePerPass
from tests.support.server import LiveServer
from tests.support.waiting import within


class CountingTransport:
    """Forwards to a real transport and counts the calls that reach it."""

    def __init__(self, transport: Any) -> None:
        self.transport = transport
        self.writes: list[int] = []

    def write(self, data: bytes) -> None:
        self.writes.append(1)
        self.transport.write(data)

    def writelines(self, chunks: list[bytes]) -> None:
        self.writes.append(len(chunks))
        self.transport.writelines(chunks)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.transport, name)


def _run(test: Any) -> Any:
    async def main() -> Any:
        ours, theirs = socket.socketpair()
        loop = asyncio.get_running_loop()
        transport, _ = await loop.connect_accepted_socket(asyncio.Protocol, ours)
        counting = CountingTransport(transport)
        theirs.setblocking(False)
        try:
            return await test(loop, OneWritePerPass(counting, loop), counting, theirs)
        finally:
            transport.abort()
            theirs.close()

    return uvloop.run(main())


async def _read(loop: asyncio.AbstractEventLoop, sock: socket.socket, size: int) -> bytes:
    data = b""
    while len(data) < size:
        chunk = await within(loop.sock_recv(sock, 65536),
                             f"byte {len(data) + 1} of the {size} written to the peer")
        if not chunk:
            break
        data += chunk
    return data


def test_writes_of_one_pass_reach_the_socket_in_one_call_in_order() -> None:
    async def test(loop: Any, held: OneWritePerPass, counting: CountingTransport,
                   peer: socket.socket) -> None:
        held.write(b"HTTP/1.1 200 OK\r\n\r\n")
        held.write(bytearray(b"body-1;"))
        held.write(b"")
        held.writelines([memoryview(b"body-2;"), b"body-3"])
        assert counting.writes == []  # nothing sent before the pass ends
        assert held.get_write_buffer_size() == 19 + 7 + 7 + 6
        await asyncio.sleep(0)
        assert counting.writes == [4]
        assert await _read(loop, peer, 39) == b"HTTP/1.1 200 OK\r\n\r\nbody-1;body-2;body-3"
        held.write(b"next")  # a later pass: a call of its own
        await asyncio.sleep(0)
        assert counting.writes == [4, 1]
        assert await _read(loop, peer, 4) == b"next"

    _run(test)


def test_close_sends_what_is_held_first_and_abort_drops_it() -> None:
    async def closing(loop: Any, held: OneWritePerPass, counting: CountingTransport,
                      peer: socket.socket) -> None:
        held.write(b"last words")
        held.close()
        assert await _read(loop, peer, 100) == b"last words"  # then end of stream
        await asyncio.sleep(0)
        assert counting.writes == [1]  # the scheduled flush found nothing more to send

    async def aborting(loop: Any, held: OneWritePerPass, counting: CountingTransport,
                       peer: socket.socket) -> None:
        held.write(b"never sent")
        held.abort()
        await asyncio.sleep(0)
        assert counting.writes == []
        assert await _read(loop, peer, 100) == b""

    _run(closing)
    _run(aborting)


def test_pipelined_and_streamed_answers_arrive_whole_and_in_order(server: LiveServer) -> None:
    """Two GETs in one packet, the second a file streamed in chunks, then Connection: close."""
    host, port = server.url.removeprefix("http://").split(":")
    with socket.create_connection((host, int(port)), timeout=10) as sock:
        sock.sendall(b"GET /.well-known/openid-configuration HTTP/1.1\r\nHost: x\r\n\r\n"
                     b"GET /static/site.css HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := sock.recv(65536):
            data += chunk
    first, _, rest = data.partition(b"\r\n\r\n")
    assert first.startswith(b"HTTP/1.1 200 ")
    length = int(next(line.split(b":")[1] for line in first.split(b"\r\n")
                      if line.lower().startswith(b"content-length:")))
    assert rest[:length].startswith(b"{") and rest[:length].endswith(b"}")
    second_head, _, second_body = rest[length:].partition(b"\r\n\r\n")
    assert second_head.startswith(b"HTTP/1.1 200 ")
    assert b"connection: close" in second_head.lower()
    assert second_body == (STATIC / "site.css").read_bytes()
