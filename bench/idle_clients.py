"""Can idle or slow clients starve the app server? Prints figures, asserts nothing.

For each candidate server (granian WSGI, uvicorn with Django's ASGI handler, gunicorn
gthread, and gunicorn's sync workers as the reference that starves), started on
127.0.0.1 against the embedded default (SQLite and the seed data in a throw-away VAR_DIR,
DEBUG off) and warmed up: wrk, as one more reader (one connection), measures p99 and req/s
on /robots.txt and on /, first with nothing else connected ("quiet"), then with 50 idle TCP
connections and 20 connections that trickle their headers one byte a second ("held").
A reader the server starves completes no request: its p99 shows as "starved". Servers run
in the order A B C D, A B C D, ... for three rounds; the table shows medians of three.

    .venv/bin/python bench/idle_clients.py              # all four, about 5 minutes
    .venv/bin/python bench/idle_clients.py --servers granian sync --rounds 1 --seconds 3

Needs wrk (Debian package `wrk`) and the dev dependencies (`make venv-dev`: gunicorn and
uvicorn are there for this comparison).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent
PATHS = ["/robots.txt", "/"]
WORKERS = "2"  # the machine has two cores; make run uses WEB_CONCURRENCY=2 too


def server_command(name: str, port: int) -> list[str]:
    bind = ["--bind", f"127.0.0.1:{port}"]
    if name == "granian":
        return [
            str(BIN / "granian"), "--interface", "wsgi", "--host", "127.0.0.1",
            "--port", str(port), "--workers", WORKERS, "--blocking-threads", "4",
            "--no-access-log", "accountability.wsgi:application",
        ]  # fmt: skip
    if name == "uvicorn":
        return [
            str(BIN / "uvicorn"), "accountability.asgi:application", "--host", "127.0.0.1",
            "--port", str(port), "--workers", WORKERS, "--no-access-log", "--log-level", "warning",
        ]  # fmt: skip
    if name == "gthread":
        return [
            str(BIN / "gunicorn"), "accountability.wsgi", *bind, "--workers", WORKERS,
            "--worker-class", "gthread", "--threads", "8",
        ]  # fmt: skip
    if name == "sync":
        return [str(BIN / "gunicorn"), "accountability.wsgi", *bind, "--workers", WORKERS]
    raise ValueError(name)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def prepare(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "CELERY_BROKER_URL", "REDIS_URL", "CACHE_URL"}
    }
    env |= {"VAR_DIR": str(var_dir), "DEBUG": "0", "SECRET_KEY": "bench-" + "k" * 50}
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    for args in (["migrate", "--noinput"], ["load_seeds"], ["collectstatic", "--noinput"]):
        subprocess.run(
            [sys.executable, "manage.py", *args, "--verbosity", "0"],
            cwd=ROOT, env=env, check=True, timeout=300, capture_output=True,
        )  # fmt: skip
    return env


def wait_ready(port: int, seconds: float = 30) -> None:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/robots.txt", timeout=2):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


class Holders:
    """``idle`` connections that send nothing and ``slow`` ones that send a request line and
    then one header byte a second, for as long as the block lasts."""

    def __init__(self, port: int, idle: int, slow: int):
        self.port, self.idle, self.slow = port, idle, slow
        self.sockets: list[socket.socket] = []
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._trickle, daemon=True)

    def __enter__(self):
        for _ in range(self.idle):
            self.sockets.append(socket.create_connection(("127.0.0.1", self.port), timeout=5))
        self.slow_sockets = []
        for _ in range(self.slow):
            sock = socket.create_connection(("127.0.0.1", self.port), timeout=5)
            sock.sendall(b"GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
            self.slow_sockets.append(sock)
        self.thread.start()
        time.sleep(0.5)
        return self

    def _trickle(self):
        while not self.stop.wait(1.0):
            for sock in self.slow_sockets:
                with contextlib.suppress(OSError):
                    sock.send(b"a")

    def __exit__(self, *exc):
        self.stop.set()
        self.thread.join(timeout=5)
        for sock in self.sockets + self.slow_sockets:
            sock.close()


UNITS = {"us": 1e-3, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def wrk(port: int, path: str, seconds: int) -> dict[str, float]:
    out = subprocess.run(
        ["wrk", "-t", "1", "-c", "1", "-d", f"{seconds}s", "--timeout", "5s", "--latency",
         f"http://127.0.0.1:{port}{path}"],
        capture_output=True, text=True, timeout=seconds + 30,
    ).stdout  # fmt: skip
    p99 = re.search(r"^\s+99%\s+([\d.]+)(us|ms|s|m)\s*$", out, re.M)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", out)
    done = re.search(r"(\d+) requests in", out)
    errors = re.search(r"Socket errors: .*timeout (\d+)", out)
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    completed = int(done.group(1)) if done else 0
    return {
        "p99_ms": float(p99.group(1)) * UNITS[p99.group(2)] if p99 and completed else float("nan"),
        "rps": float(rps.group(1)) if rps else 0.0,
        "timeouts": float(errors.group(1)) if errors else 0.0,
        "non2xx": float(non2xx.group(1)) if non2xx else 0.0,
    }


def run_one(name: str, env: dict[str, str], args) -> dict[tuple[str, str], dict[str, float]]:
    port = args.port or free_port()
    proc = subprocess.Popen(
        server_command(name, port), cwd=ROOT, env=env, start_new_session=True,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    results = {}
    try:
        wait_ready(port)
        for path in PATHS:  # warm-up: imports, templates, connections; not counted
            wrk(port, path, 2)
        for path in PATHS:
            results[("quiet", path)] = wrk(port, path, args.seconds)
        with Holders(port, args.idle, args.slow):
            for path in PATHS:
                results[("held", path)] = wrk(port, path, args.seconds)
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(timeout=5)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--servers", nargs="+", default=["granian", "uvicorn", "gthread", "sync"],
        choices=["granian", "uvicorn", "gthread", "sync"],
    )  # fmt: skip
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=int, default=5, help="each wrk run")
    parser.add_argument("--idle", type=int, default=50)
    parser.add_argument("--slow", type=int, default=20)
    parser.add_argument("--port", type=int, default=0, help="default: a free port")
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is missing: apt-get install wrk")
    with tempfile.TemporaryDirectory(prefix="idle-bench-") as tmp:
        env = prepare(Path(tmp) / "var")
        runs: dict[str, list] = {name: [] for name in args.servers}
        for round_no in range(args.rounds):
            for name in args.servers:  # A B C D, A B C D, ...
                runs[name].append(run_one(name, env, args))
                print(f"round {round_no + 1}: {name} done", file=sys.stderr, flush=True)
    print(
        f"wrk -t1 -c1 (one more reader), {args.seconds} s a run; held = {args.idle} idle"
        f" + {args.slow} slow-header connections open; medians of {args.rounds};"
        f" {WORKERS} workers each"
    )
    header = f"{'server':8} {'path':12} {'p99 quiet':>10} {'p99 held':>10} {'held/quiet':>10}"
    header += f" {'req/s quiet':>11} {'req/s held':>10} {'timeouts held':>13}"
    print(header)
    for name in args.servers:
        for path in PATHS:

            def med(cond, key, name=name, path=path):
                return statistics.median(run[(cond, path)][key] for run in runs[name])

            quiet, held = med("quiet", "p99_ms"), med("held", "p99_ms")
            held_text = "starved" if math.isnan(held) else f"{held:.1f}ms"
            ratio = "-" if math.isnan(held) else f"{held / quiet:.2f}"
            print(
                f"{name:8} {path:12} {quiet:8.1f}ms {held_text:>10} {ratio:>10}"
                f" {med('quiet', 'rps'):11.0f} {med('held', 'rps'):10.0f}"
                f" {med('held', 'timeouts'):13.0f}"
            )


if __name__ == "__main__":
    main()
