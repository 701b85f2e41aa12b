"""A TCP proxy in front of PostgreSQL that misbehaves on demand, for the fault tests.

`FaultyProxy` forwards bytes between clients and the server, each connection on
two threads. Faults:

- `blackhole()`: stop forwarding in both directions, sockets left open (a
  half-open TCP path or a stalled proxy: nothing errors, nothing answers). A
  connection opened meanwhile never hears anything, even after `heal()` (as a
  dropped SYN: only a new attempt gets through). `heal()` ends it.
- `reset()`: close every connection now (as a proxy restart does).
- `refuse()`: close each new connection at once (a server restarting), until `accept()`.
- `lose_reply_to(marker)`: the next query whose bytes hold *marker* reaches the
  server and runs; its reply is dropped and the client's connection closed (the
  reply lost after the server committed).
- `reset_after_reply_to(marker)`: the same query's reply is delivered, then the
  client's connection is reset (TCP RST, so the client's socket reports an error
  with the reply still to read).

It also counts the protocol messages it forwards, by type (`messages`: ``Z`` is the
server's ReadyForQuery, one per round trip; ``S`` the client's Sync, ``H`` Flush,
``Q`` a simple query). Connect with ``sslmode=disable`` (the default `url()`):
an SSL request would be counted as the startup message.
"""

from __future__ import annotations

import contextlib
import select
import socket
import struct
import threading
import time
from collections import Counter
from types import TracebackType

from psycopg.conninfo import conninfo_to_dict

__all__ = ["FaultyProxy"]

_CHUNK = 65536


class _Frames:
    """Splits one direction's bytes into protocol messages and counts them by type."""

    def __init__(self, counts: Counter[str], lock: threading.Lock, startup: bool) -> None:
        self._counts = counts
        self._lock = lock
        self._buffer = b""
        self._untyped = startup  # the client's first message (StartupMessage) has no type byte

    def feed(self, data: bytes) -> None:
        buffer = self._buffer + data
        while True:
            if self._untyped:
                if len(buffer) < 4:
                    break
                size = int.from_bytes(buffer[:4], "big")
                if len(buffer) < size:
                    break
                buffer, self._untyped = buffer[size:], False
                continue
            if len(buffer) < 5:
                break
            size = int.from_bytes(buffer[1:5], "big")
            if len(buffer) < 1 + size:
                break
            kind, buffer = chr(buffer[0]), buffer[1 + size :]
            with self._lock:
                self._counts[kind] += 1
        self._buffer = buffer


class _Pair:
    """One client connection and its server connection."""

    def __init__(self, client: socket.socket, server: socket.socket) -> None:
        self.client = client
        self.server = server
        self.frames: dict[bool, _Frames] = {}
        self.lose_next_reply = False
        self.reset_after_next_reply = False
        self.closed = False
        self.doomed = False

    def reset(self) -> None:
        """Close with a TCP RST to the client (SO_LINGER 0), not an orderly FIN."""
        with contextlib.suppress(OSError):
            self.client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            self.client.close()
        self.close()

    def close(self) -> None:
        self.closed = True
        for sock in (self.client, self.server):
            with contextlib.suppress(OSError):
                sock.shutdown(socket.SHUT_RDWR)
            with contextlib.suppress(OSError):
                sock.close()


class FaultyProxy:
    """Listens on 127.0.0.1 (a free port) and forwards to the server of *url*.

    The server may listen on TCP or on a Unix socket (the embedded server).
    """

    def __init__(self, url: str) -> None:
        info = conninfo_to_dict(url)
        host, port = str(info.get("host") or "127.0.0.1"), int(info.get("port") or 5432)
        self.dbname = str(info.get("dbname") or "postgres")
        self._unix = f"{host}/.s.PGSQL.{port}" if host.startswith("/") else None
        self.target = (host, port)
        self._listener = socket.create_server(("127.0.0.1", 0))
        self.port: int = self._listener.getsockname()[1]
        self._pairs: list[_Pair] = []
        self._lock = threading.Lock()
        self._holed = threading.Event()
        self._marker: bytes | None = None
        self._reset = False
        self._stopped = False
        self._refusing = False
        self.replies_lost = 0
        #: Messages forwarded, by type: ``"Z"`` from the server, ``"S"``, ``"H"``, ``"Q"``...
        #: from clients (see the module docstring). Clear it before what you measure.
        self.messages: Counter[str] = Counter()
        threading.Thread(target=self._accept, daemon=True, name="proxy-accept").start()

    def __enter__(self) -> FaultyProxy:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def url(self, **params: str) -> str:
        """The URL of the database through the proxy, with libpq *params*."""
        params = {"sslmode": "disable", **params}
        query = "&".join(f"{k}={v}" for k, v in params.items())
        base = f"postgresql://postgres@127.0.0.1:{self.port}/{self.dbname}"
        return base + (f"?{query}" if query else "")

    def blackhole(self) -> None:
        self._holed.set()

    def heal(self) -> None:
        self._holed.clear()

    def refuse(self) -> None:
        self._refusing = True

    def accept(self) -> None:
        self._refusing = False

    def reset(self) -> None:
        with self._lock:
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            pair.close()

    def lose_reply_to(self, marker: bytes) -> None:
        self._marker, self._reset = marker, False

    def reset_after_reply_to(self, marker: bytes) -> None:
        self._marker, self._reset = marker, True

    def close(self) -> None:
        self._stopped = True
        with contextlib.suppress(OSError):
            self._listener.close()
        self.reset()

    def _accept(self) -> None:
        while not self._stopped:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                client.close()
                continue
            try:
                server = self._connect()
            except OSError:
                client.close()
                continue
            server.settimeout(None)
            pair = _Pair(client, server)
            pair.doomed = self._holed.is_set()
            pair.frames = {
                up: _Frames(self.messages, self._lock, startup=up) for up in (True, False)
            }
            with self._lock:
                self._pairs.append(pair)
            threading.Thread(target=self._pump, args=(pair, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(pair, False), daemon=True).start()

    def _connect(self) -> socket.socket:
        if self._unix is None:
            return socket.create_connection(self.target, timeout=5)
        server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        server.connect(self._unix)
        return server

    def _pump(self, pair: _Pair, upstream: bool) -> None:
        src, dst = (pair.client, pair.server) if upstream else (pair.server, pair.client)
        while not pair.closed:
            if self._holed.is_set() or pair.doomed:
                time.sleep(0.01)  # hold the bytes: nothing is read, nothing is sent
                continue
            try:
                ready, _, _ = select.select([src], [], [], 0.05)
                if not ready or self._holed.is_set():  # holed while waiting: the bytes stay
                    continue
                data = src.recv(_CHUNK)
            except (OSError, ValueError):
                data = b""
            if not data:
                pair.close()
                return
            if not upstream and pair.lose_next_reply:
                self.replies_lost += 1
                pair.close()
                return
            marker = self._marker
            if upstream and marker is not None and marker in data:
                self._marker = None
                if self._reset:
                    pair.reset_after_next_reply = True
                else:
                    pair.lose_next_reply = True
            pair.frames[upstream].feed(data)
            try:
                dst.sendall(data)
            except OSError:
                pair.close()
                return
            if not upstream and pair.reset_after_next_reply:
                pair.reset()
                return
