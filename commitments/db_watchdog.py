"""A deadline on each web request's use of the database, for a PostgreSQL that stops
answering on a connection already open.

The connect timeout covers a new connection and the statement timeout a slow query, but
neither helps when the server freezes (stopped process, hung host) under a connection
kept open between requests (``CONN_MAX_AGE``): the kernel still acknowledges what is sent,
the server never replies, and the request waits for ever, its worker with it. So each
request is armed on entry with a deadline (``DB_REQUEST_DEADLINE_SECONDS``); one thread
per process watches the deadlines and, for a request still running past its own, shuts
down the socket of that request's database connection. The blocked read then fails at
once, psycopg raises ``OperationalError``, and ``DatabaseUnavailableMiddleware`` answers
the plain 503; the broken connection is dropped before it is used again
(``CONN_HEALTH_CHECKS``), so the site recovers by itself.

It owns only the deadline: what a failed request answers lives in ``middleware.py``.
It must not be used by jobs (their statements may rightly run long): only the web
middleware arms it. A streamed body (the exports) runs after the middleware has
returned, so it is not covered; its server-side cursor still has the statement timeout.
"""

from __future__ import annotations

import itertools
import logging
import os
import socket
import threading
import time

logger = logging.getLogger(__name__)

#: How often the watching thread looks at the deadlines (seconds).
TICK_SECONDS = 0.25


class Watchdog:
    def __init__(self, seconds: float):
        self.seconds = seconds
        self._armed: dict[int, tuple[float, object]] = {}
        self._lock = threading.Lock()
        self._tokens = itertools.count()
        self._thread: threading.Thread | None = None

    def arm(self, database) -> int:
        """Start the deadline of one request using ``database`` (a Django connection,
        the calling thread's own)."""
        token = next(self._tokens)
        with self._lock:
            self._armed[token] = (time.monotonic() + self.seconds, database)
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._watch, name="db-request-deadline", daemon=True
                )
                self._thread.start()
        return token

    def disarm(self, token: int) -> None:
        with self._lock:
            self._armed.pop(token, None)

    def _expired(self) -> list[object]:
        now = time.monotonic()
        with self._lock:
            late = [token for token, (deadline, _db) in self._armed.items() if deadline <= now]
            return [self._armed.pop(token)[1] for token in late]

    def _watch(self) -> None:
        while True:
            time.sleep(TICK_SECONDS)
            for database in self._expired():
                cut_connection(database)


def cut_connection(database) -> bool:
    """Shut down the socket under ``database``'s open connection, if it has one, so that
    whatever waits on it fails now. True if a socket was shut down."""
    raw = getattr(database, "connection", None)
    if raw is None:
        return False
    try:
        fd = raw.fileno()
    except Exception:  # noqa: BLE001 (closed already: nothing waits on it)
        return False
    try:
        # A duplicate descriptor of the same socket: shutting it down ends the socket for
        # every descriptor, and closing the duplicate leaves the original to psycopg.
        with socket.socket(fileno=os.dup(fd)) as sock:
            sock.shutdown(socket.SHUT_RDWR)
    except OSError:
        return False
    logger.error(
        "Database request deadline passed: connection cut (%s s)",
        getattr(database, "settings_dict", {}).get("NAME", "?"),
    )
    return True
