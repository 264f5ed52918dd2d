"""How uvicorn serves the app: its httptools protocol, with each response sent in one write.

uvicorn writes a response's status line and headers when the app sends
``http.response.start``, and the body in a second write. On a socket whose buffer is empty each
write is a system call of its own, and on loopback a send also does the receiver's TCP work: for
a small JSON reply the first write was the costliest line of the whole request (a quarter of the
CPU of ``GET /users/me``). Here the protocol's transport holds what is written during one pass
of the event loop and hands it to the socket at the end of that pass, in one call: header and
body of a response leave together, as Node's and Go's servers send them.
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


class OneWritePerPass:
    """A transport's stand-in that joins the writes of one loop pass into one ``writelines``.

    Everything a protocol may ask of a transport besides writing goes to the real one; closing
    sends what is held first, aborting drops it (as the real transport's abort drops its buffer).
    """

    __slots__ = ("_transport", "_loop", "_held")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not data:
            return
        chunk = bytes(data) if not isinstance(data, bytes) else data
        if self._held is None:
            self._held = [chunk]
            self._loop.call_soon(self.flush)
        else:
            self._held.append(chunk)

    def writelines(self, chunks: Any) -> None:
        for chunk in chunks:
            self.write(chunk)

    def flush(self) -> None:
        held, self._held = self._held, None
        if not held or self._transport.is_closing():
            return
        if len(held) == 1:
            self._transport.write(held[0])
        else:
            self._transport.writelines(held)

    def get_write_buffer_size(self) -> int:
        pending = sum(len(chunk) for chunk in self._held) if self._held else 0
        return self._transport.get_write_buffer_size() + pending

    def write_eof(self) -> None:
        self.flush()
        self._transport.write_eof()

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def abort(self) -> None:
        self._held = None
        self._transport.abort()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class OneWriteHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol writing through :class:`OneWritePerPass`."""

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        # uvloop's transports are not registered as asyncio.Transport subclasses: no isinstance.
        super().connection_made(OneWritePerPass(transport, self.loop))  # type: ignore[arg-type]
