"""Starting the web server the way `make run` does (the Procfile's `web` line), for the tests
that need a real server process: the embedded default, idle and slow clients."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import threading
import time
import urllib.request

from tests.embedded import ROOT, manage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def procfile_command(name: str) -> str:
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return line.split(":", 1)[1].strip()
    raise LookupError(f"no {name!r} process in the Procfile")


def prepare_like_make_run(env: dict[str, str]) -> None:
    """What `make run` does before it starts the processes."""
    manage(env, "migrate", "--noinput")
    manage(env, "load_seeds")
    manage(env, "collectstatic", "--noinput", "--verbosity", "0")


def wait_for(url: str, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


@contextlib.contextmanager
def web_server(env: dict[str, str], command: str | None = None):
    """The Procfile's web process (or ``command``) on a free port; yields its base URL.
    Started in its own process group, which is ended, and waited for, afterwards."""
    port = free_port()
    env = dict(env, WEB_HOST="127.0.0.1", WEB_PORT=str(port), WEB_CONCURRENCY="2")
    process = subprocess.Popen(
        ["sh", "-c", f"exec {command or procfile_command('web')}"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        wait_for(f"{base}/robots.txt")
        yield base
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)


@contextlib.contextmanager
def idle_and_slow_clients(port: int, idle: int, slow: int):
    """``idle`` connections that never send a byte, and ``slow`` ones that send a request
    line and then one header byte a second, open for the duration of the block."""
    sockets = [socket.create_connection(("127.0.0.1", port), timeout=5) for _ in range(idle)]
    trickling = []
    for _ in range(slow):
        sock = socket.create_connection(("127.0.0.1", port), timeout=5)
        sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
        trickling.append(sock)
    stop = threading.Event()

    def trickle():
        while not stop.wait(1.0):
            for sock in trickling:
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    thread = threading.Thread(target=trickle, daemon=True)
    thread.start()
    time.sleep(0.5)  # let the server accept them all
    try:
        yield
    finally:
        stop.set()
        thread.join(timeout=5)
        for sock in sockets + trickling:
            sock.close()
