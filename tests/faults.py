"""Stand-ins for broken servers, for the fault-tolerance tests (issue 9). Nothing here
touches the shared PostgreSQL or Redis: the tests point the app at these instead.

- ``FrozenServer``: accepts TCP connections and never answers (a frozen Redis or
  PostgreSQL); ``stop()`` closes it, so connections are refused (a stopped one).
- ``FreezableProxy``: forwards to a real server until ``freeze()``: then the connections
  it carried are cut and new ones are accepted and never answered, until ``unfreeze()``.
- ``serve()``: the project's WSGI application in a subprocess (Django's threaded
  development server, without runserver's start-up checks, which need the database).

Ports come from 8900-8949.
"""

from __future__ import annotations

import contextlib
import os
import selectors
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
PORTS = range(8900, 8950)


_handed_out: set[int] = set()


def listen_on_a_free_port() -> socket.socket:
    """A listening socket on a port of the range, not one handed out before in this run
    (a stopped fake server's port must stay dead, not become the next test server's)."""
    if len(_handed_out) >= len(PORTS) - 5:
        _handed_out.clear()
    for port in PORTS:
        if port in _handed_out:
            continue
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        sock.listen(64)
        _handed_out.add(port)
        return sock
    raise RuntimeError("no free port in 8900-8949")


def free_port() -> int:
    sock = listen_on_a_free_port()
    port = sock.getsockname()[1]
    sock.close()
    return port


class FrozenServer:
    """Accepts connections, reads and discards what it is sent, never answers."""

    def __init__(self):
        self.listener = listen_on_a_free_port()
        self.port = self.listener.getsockname()[1]
        self.accepted: list[socket.socket] = []
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()

    def _run(self):
        self.listener.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                conn, _addr = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            self.accepted.append(conn)  # held open, never read, never answered

    def stop(self):
        """Close everything: from now on connections to the port are refused."""
        self._stopped.set()
        self.thread.join(2)
        self.listener.close()
        for conn in self.accepted:
            with contextlib.suppress(OSError):
                conn.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


class FreezableProxy:
    """A TCP proxy to ``target`` that the test can freeze and unfreeze."""

    def __init__(self, target: tuple[str, int]):
        self.target = target
        self.listener = listen_on_a_free_port()
        self.port = self.listener.getsockname()[1]
        self.frozen = False
        self.holding = False
        self._pairs: list[tuple[socket.socket, socket.socket]] = []
        self._held: list[socket.socket] = []
        self._lock = threading.Lock()
        self._stopped = threading.Event()
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        self.listener.settimeout(0.2)
        while not self._stopped.is_set():
            try:
                client, _addr = self.listener.accept()
            except (TimeoutError, OSError):
                continue
            with self._lock:
                if self.frozen:
                    self._held.append(client)
                    continue
            try:
                upstream = socket.create_connection(self.target, timeout=5)
            except OSError:
                client.close()
                continue
            with self._lock:
                self._pairs.append((client, upstream))
            threading.Thread(target=self._pipe, args=(client, upstream), daemon=True).start()

    def _pipe(self, client: socket.socket, upstream: socket.socket):
        selector = selectors.DefaultSelector()
        selector.register(client, selectors.EVENT_READ, upstream)
        selector.register(upstream, selectors.EVENT_READ, client)
        try:
            while not self._stopped.is_set():
                if self.holding:  # a server frozen under an open connection: silence
                    time.sleep(0.05)
                    continue
                for key, _events in selector.select(timeout=0.2):
                    data = key.fileobj.recv(65536)
                    if not data:
                        return
                    key.data.sendall(data)
        except OSError:
            return
        finally:
            selector.close()
            for sock in (client, upstream):
                with contextlib.suppress(OSError):
                    sock.close()

    def freeze(self):
        """Cut the connections carried so far; new ones are accepted and never answered."""
        with self._lock:
            self.frozen = True
            pairs, self._pairs = self._pairs, []
        for pair in pairs:
            for sock in pair:
                with contextlib.suppress(OSError):
                    sock.shutdown(socket.SHUT_RDWR)

    def hold(self):
        """Freeze without cutting: the connections carried so far stay open and are never
        answered (what a stopped server looks like to a pooled connection); new ones are
        accepted and never answered."""
        with self._lock:
            self.frozen = True
            self.holding = True

    def unfreeze(self):
        with self._lock:
            self.frozen = False
            self.holding = False
            held, self._held = self._held, []
        for sock in held:
            with contextlib.suppress(OSError):
                sock.close()

    def stop(self):
        self.freeze()
        self.unfreeze()
        self._stopped.set()
        self.thread.join(2)
        self.listener.close()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.stop()


SERVER = """
import sys
sys.path.insert(0, {root!r})
from django.core.servers.basehttp import run
from django.core.wsgi import get_wsgi_application
run("127.0.0.1", {port}, get_wsgi_application(), threading={threading})
"""


_static_collected = False


def _collect_static_once() -> None:
    """The server serves static files from the hashed manifest (as ``make run`` does):
    collect them first, with the test run's own settings (no database needed)."""
    global _static_collected
    if not _static_collected:
        subprocess.run(
            [sys.executable, "manage.py", "collectstatic", "--noinput", "--verbosity", "0"],
            cwd=ROOT,
            env={**os.environ, "DJANGO_SETTINGS_MODULE": "accountability.settings_test"},
            check=True,
            timeout=120,
        )
        _static_collected = True


@contextlib.contextmanager
def serve(
    env: dict[str, str],
    *,
    ready_path: str = "/static/css/site.css",
    timeout=30,
    threading: bool = True,
):
    """The app in a subprocess on a free port, with ``env`` added; yields its base URL.
    Ready when ``ready_path`` answers (a static file: no database needed). With
    ``threading=False`` one thread answers every request, so its database connection is
    kept from one request to the next (``CONN_MAX_AGE``), as a production worker's is."""
    _collect_static_once()
    port = free_port()
    environment = {**os.environ, "DJANGO_SETTINGS_MODULE": "accountability.settings_test", **env}
    log = tempfile.TemporaryFile()
    process = subprocess.Popen(
        [sys.executable, "-c", SERVER.format(root=str(ROOT), port=port, threading=threading)],
        env=environment,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + timeout
        while True:
            if process.poll() is not None:
                log.seek(0)
                raise RuntimeError(f"server exited: {log.read().decode()[-2000:]}")
            try:
                if httpx.get(base + ready_path, timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("server did not start")
            time.sleep(0.2)
        yield base
    finally:
        process.terminate()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        log.close()


def database_url(connection, *, via_port: int | None = None) -> str:
    """The address of the test database the current test writes to; with ``via_port``,
    through a local proxy on that port."""
    settings = connection.settings_dict
    user = settings["USER"] or "postgres"
    password = f":{settings['PASSWORD']}" if settings["PASSWORD"] else ""
    host = "127.0.0.1" if via_port else settings["HOST"] or "127.0.0.1"
    port = via_port or settings["PORT"] or 5432
    return f"postgres://{user}{password}@{host}:{port}/{settings['NAME']}"
