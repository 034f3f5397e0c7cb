"""A real Celery worker for the tests that need one: its environment (the test database,
a Redis broker of the test file's own), starting and stopping it in its own process group
(so SIGKILL reaches every child), and waiting for what it does. Shared by the worker tests
of the jobs, the outbox, email alerts and webhooks."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

import pytest
import redis
from django.conf import settings
from django.db import connection

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent


@contextmanager
def empty_redis(url: str):
    """The Redis database at ``url``, emptied before and after (one per test file)."""
    client = redis.Redis.from_url(url)
    client.flushdb()
    try:
        yield client
    finally:
        client.flushdb()
        client.close()


def worker_environment(*, broker: str, var_dir: Path, **variables: str) -> dict[str, str]:
    """This process's environment, pointed at the test database and ``broker``, with its
    own ``VAR_DIR`` and the settings ``variables`` (environment variables, as strings)."""
    db = connection.settings_dict
    env = {key: value for key, value in os.environ.items() if not key.startswith("PYTEST_")}
    env.update(
        DATABASE_URL=(
            f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}"
            f"/{db['NAME']}"
        ),
        CONN_MAX_AGE="0",
        CELERY_BROKER_URL=broker,
        VAR_DIR=str(var_dir),
        DJANGO_SETTINGS_MODULE="accountability.settings_test",
        PATH=f"{BIN}:{os.environ.get('PATH', '')}",
    )
    env.update(variables)
    return env


def start_worker(env, *, concurrency: int = 1, beat: bool = False, heartbeat: bool = True):
    """A worker process; with ``beat``, the beat scheduler inside it."""
    return subprocess.Popen(
        [
            str(BIN / "celery"), "--app", "accountability", "worker",
            "--concurrency", str(concurrency), "--loglevel", "INFO",
            "--without-gossip", "--without-mingle",
            *([] if heartbeat else ["--without-heartbeat"]),
            *(["--beat"] if beat else []),
        ],  # fmt: skip
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group: SIGKILL reaches every child
    )


def stop_worker(worker, sig=signal.SIGTERM) -> str:
    """Stop the worker (``sig`` to its whole group) and return what it printed."""
    if worker.poll() is None:
        os.killpg(worker.pid, sig)
    try:
        output, _ = worker.communicate(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(worker.pid, signal.SIGKILL)
        output, _ = worker.communicate(timeout=10)
    return output


def wait_until(
    predicate, *, seconds=90, what="the worker", worker=None, poll=0.2, every=None
):
    """Poll ``predicate`` until it is true (returned) or ``seconds`` pass (the test fails
    with the worker's output). ``every``: (seconds, callable) run between polls, as the
    beat would run a sweep."""
    deadline = time.monotonic() + seconds
    last_tick = 0.0
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        if worker is not None and worker.poll() is not None:
            pytest.fail(f"the worker exited early:\n{worker.stdout.read()[-3000:]}")
        if every and time.monotonic() - last_tick >= every[0]:
            every[1]()
            last_tick = time.monotonic()
        time.sleep(poll)
    output = stop_worker(worker) if worker is not None else ""
    pytest.fail(f"timed out waiting for {what}\n{output[-3000:]}")
