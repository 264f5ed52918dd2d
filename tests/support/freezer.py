"""A TCP proxy between a server under test and a real service (PostgreSQL, Redis) that can freeze.

``freeze()`` stops forwarding bytes in both directions without closing anything: connections
stay open and new ones are accepted, but no answer comes, as from a database whose host hangs
(not one that stopped: that refuses or resets connections, which clients notice at once).
``thaw()`` forwards everything held back and carries on. The shared service is never touched.
"""

from __future__ import annotations

import select
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from tests.support.waiting import PATIENCE, NeverHappened


class FreezingProxy:
    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target = (target_host, target_port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self._listener.getsockname()[1])
        self._flowing = threading.Event()
        self._flowing.set()
        self._closed = threading.Event()
        self._sockets: list[socket.socket] = []
        self._lock = threading.Lock()
        #: Connections accepted so far (a frozen proxy still accepts them).
        self.accepted = 0
        self._thread = threading.Thread(target=self._accept, daemon=True, name="freezer-accept")
        self._thread.start()

    def freeze(self) -> None:
        self._flowing.clear()

    def thaw(self) -> None:
        self._flowing.set()

    @contextmanager
    def frozen(self) -> Iterator[None]:
        self.freeze()
        try:
            yield
        finally:
            self.thaw()

    def close(self) -> None:
        self._closed.set()
        self._flowing.set()
        try:
            # Wakes the thread blocked in accept() (closing the socket alone does not, on Linux).
            self._listener.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self._listener.close()
        with self._lock:
            for sock in self._sockets:
                try:
                    sock.close()
                except OSError:
                    pass
        self._thread.join(timeout=PATIENCE)
        if self._thread.is_alive():
            raise NeverHappened(f"gave up after {PATIENCE:g} s waiting for the freezing proxy "
                                f"on port {self.port} (to {self.target}) to stop accepting")

    def _accept(self) -> None:
        while not self._closed.is_set():
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            try:
                upstream = socket.create_connection(self.target, timeout=PATIENCE)
            except OSError:
                client.close()
                continue
            upstream.settimeout(None)
            with self._lock:
                self.accepted += 1
                self._sockets += [client, upstream]
            for source, sink in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pump, args=(source, sink), daemon=True,
                                 name="freezer-pump").start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        """Copy source to sink; while frozen, read nothing and hold what was read."""
        try:
            while not self._closed.is_set():
                readable, _, _ = select.select([source], [], [], 0.2)
                if not readable:
                    continue
                self._flowing.wait()
                data = source.recv(65536)
                if not data:
                    break
                self._flowing.wait()  # a freeze that came while reading holds this chunk back
                sink.sendall(data)
        except OSError:
            pass
        finally:
            for sock in (source, sink):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
