"""Running ``manage.py`` the way the embedded default runs: no database, broker or cache
server named, in a throw-away ``VAR_DIR``. Shared by the tests that start it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from django.conf import settings

ROOT = Path(settings.BASE_DIR)
BIN = Path(sys.executable).parent

# What the embedded default must run without, and what the test process sets for itself
# only (the browser tests allow async-unsafe calls; a real server never does).
LEFT_OUT_OF_EMBEDDED_RUNS = {
    "DATABASE_URL",
    "CELERY_BROKER_URL",
    "REDIS_URL",
    "CACHE_URL",
    "DJANGO_ALLOW_ASYNC_UNSAFE",
    "DJANGO_SETTINGS_MODULE",
}


def embedded_environment(var_dir: Path) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in LEFT_OUT_OF_EMBEDDED_RUNS and not key.startswith("PYTEST_")
    }
    env["VAR_DIR"] = str(var_dir)
    env["PATH"] = f"{BIN}:{env.get('PATH', '')}"
    return env


def manage(env: dict[str, str], *args: str, timeout: int = 180) -> str:
    """Run a management command in ``env``; its standard output (raises if it fails)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=True,
    ).stdout
