"""With no variables set the app runs on one machine with no servers: SQLite in a file and
kombu's filesystem broker. Started here the way `make run` starts it."""

from __future__ import annotations

import re
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from tests.embedded import BIN, ROOT, embedded_environment, manage
from tests.serving import prepare_like_make_run, web_server


@pytest.fixture
def embedded_env(tmp_path):
    return embedded_environment(tmp_path / "var")


def test_embedded_default_migrates_seeds_and_serves_commitments(embedded_env, tmp_path):
    """`make run` with no variables: SQLite, the filesystem broker, DEBUG off, a secret key
    made in var/, hashed static files, granian from the Procfile, the product's 404 page."""
    prepare_like_make_run(embedded_env)
    out = manage(
        embedded_env,
        "shell",
        "--no-imports",
        "-c",
        "from django.db import connection; from django.conf import settings; "
        "print(connection.vendor, settings.CELERY_BROKER_URL, settings.DEBUG)",
    )
    assert out.split() == ["sqlite", "filesystem://", "False"]
    assert (tmp_path / "var" / "db.sqlite3").exists()
    assert stat.S_IMODE((tmp_path / "var" / "secret_key").stat().st_mode) == 0o600

    with web_server(embedded_env) as base:
        html = fetch(f"{base}/commitments/").decode()
        assert "one in, one out" in html
        assert "Intercept the &quot;taxi boats&quot;" in html
        detail = fetch(f"{base}/commitments/intercept-taxi-boats/").decode()
        assert "Timeline" in detail
        stylesheet = re.search(r'href="(/static/css/site\.[0-9a-f]{12}\.css)"', detail)
        assert stylesheet, "static files are not the hashed manifest names"
        assert b".badge" in fetch(base + stylesheet.group(1))

        with pytest.raises(urllib.error.HTTPError) as missing:
            fetch(f"{base}/no-such-page/")
        assert missing.value.code == 404
        page = missing.value.read().decode()
        assert "There is no page at this address" in page  # templates/404.html
        assert "URLconf" not in page and "DEBUG = True" not in page  # not Django's debug page
        assert "unsafe-inline" not in missing.value.headers["Content-Security-Policy"]


def fetch(url: str) -> bytes:
    with urllib.request.urlopen(url, timeout=10) as response:
        return response.read()


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
    env["SITE_URL"] = "https://tracker.example.org"  # production is https
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


def test_secret_key_is_made_on_first_run_kept_in_var_and_reused(embedded_env, tmp_path):
    show = "from django.conf import settings; print('KEY', settings.SECRET_KEY)"

    def key(env):
        out = manage(env, "shell", "--no-imports", "-c", show)
        return next(line for line in out.splitlines() if line.startswith("KEY ")).split()[1]

    env = {name: value for name, value in embedded_env.items() if name != "SECRET_KEY"}
    kept = tmp_path / "var" / "secret_key"
    assert not kept.exists()
    first = key(env)
    assert len(first) >= 50
    assert kept.read_text().strip() == first
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert key(env) == first  # the same key on the next run
    assert key(dict(env, DEBUG="0")) == first
    assert key(dict(env, SECRET_KEY="given-" + "k" * 50)) == "given-" + "k" * 50
    assert kept.read_text().strip() == first
