"""With no variables set the app runs on one machine with no servers: SQLite in a file and
kombu's filesystem broker. Started here the way `make run` starts it."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
import urllib.request

import pytest

from tests.embedded import BIN, ROOT, embedded_environment, manage


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def embedded_env(tmp_path):
    return embedded_environment(tmp_path / "var")


def wait_for(url: str, seconds: float = 30) -> bytes:
    deadline = time.monotonic() + seconds
    while True:
        try:
            with urllib.request.urlopen(url, timeout=5) as response:
                return response.read()
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.3)


def test_embedded_default_migrates_seeds_and_serves_commitments(embedded_env, tmp_path):
    manage(embedded_env, "migrate", "--noinput")
    manage(embedded_env, "load_seeds")
    out = manage(
        embedded_env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; from django.conf import settings; "
        "print(connection.vendor, settings.CELERY_BROKER_URL)",
    )
    assert out.split() == ["sqlite", "filesystem://"]
    assert (tmp_path / "var" / "db.sqlite3").exists()

    port = free_port()
    web = subprocess.Popen(
        [
            str(BIN / "gunicorn"),
            "accountability.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "1",
        ],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        html = wait_for(f"http://127.0.0.1:{port}/commitments/").decode()
        assert "one in, one out" in html
        assert "Intercept the &quot;taxi boats&quot;" in html
        detail = wait_for(f"http://127.0.0.1:{port}/commitments/intercept-taxi-boats/").decode()
        assert "Timeline" in detail
        css = wait_for(f"http://127.0.0.1:{port}/static/css/site.css")
        assert b".badge" in css
    finally:
        web.terminate()
        web.wait(timeout=10)


def test_embedded_worker_runs_tasks_on_the_filesystem_broker(embedded_env, tmp_path):
    """A worker and a producer that share only a folder: the task runs and writes its mark."""
    manage(embedded_env, "migrate", "--noinput")
    worker = subprocess.Popen(
        [
            str(BIN / "celery"),
            "--app",
            "accountability",
            "worker",
            "--pool",
            "solo",
            "--loglevel",
            "INFO",
        ],
        cwd=ROOT,
        env=embedded_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        manage(
            embedded_env,
            "shell",
            "--no-imports",
            "-c",
            "from commitments.tasks import ping; ping.delay('embedded-check')",
        )
        deadline = time.monotonic() + 60
        seen = []
        while time.monotonic() < deadline:
            line = worker.stdout.readline()
            seen.append(line)
            if "pong: embedded-check" in line:
                break
        else:
            pytest.fail("the worker never ran the task:\n" + "".join(seen[-40:]))
    finally:
        worker.terminate()
        worker.wait(timeout=20)


def test_production_checklist_is_clean_when_debug_is_off(embedded_env):
    env = dict(
        embedded_env, DEBUG="0", SECRET_KEY="x" * 20 + "-a-long-random-production-key-" + "y" * 20
    )
    env["ALLOWED_HOSTS"] = "tracker.example.org"
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_debug_off_refuses_to_start_without_a_secret_key(embedded_env):
    env = {key: value for key, value in embedded_env.items() if key != "SECRET_KEY"}
    env["DEBUG"] = "0"
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode != 0
    assert "SECRET_KEY must be set when DEBUG is off" in result.stderr
