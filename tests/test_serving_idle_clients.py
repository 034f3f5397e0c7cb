"""Slow or idle clients cannot starve the server `make run` and production use: with 50
idle connections and 20 that trickle their headers open, another reader is served at once.
The real server (the Procfile's web process) on the embedded default, started here.

With gunicorn's sync workers in the Procfile this fails: every request times out."""

from __future__ import annotations

import time
import urllib.parse
import urllib.request

import pytest

from tests.embedded import embedded_environment
from tests.serving import idle_and_slow_clients, prepare_like_make_run, web_server

IDLE, SLOW = 50, 20
REQUESTS, BOUND_SECONDS = 20, 2.0


@pytest.fixture(scope="module")
def served(tmp_path_factory):
    env = embedded_environment(tmp_path_factory.mktemp("serving") / "var")
    prepare_like_make_run(env)
    with web_server(env) as base:
        yield base


def timed_get(url: str) -> tuple[int, float]:
    started = time.monotonic()
    with urllib.request.urlopen(url, timeout=BOUND_SECONDS + 3) as response:
        response.read()
        return response.status, time.monotonic() - started


@pytest.mark.parametrize("path", ["/", "/robots.txt", "/commitments/intercept-taxi-boats/"])
def test_other_readers_are_served_while_idle_and_slow_clients_hold_connections(served, path):
    port = urllib.parse.urlsplit(served).port
    with idle_and_slow_clients(port, idle=IDLE, slow=SLOW):
        answers = [timed_get(served + path) for _ in range(REQUESTS)]
    assert [status for status, _ in answers] == [200] * REQUESTS
    slowest = max(seconds for _, seconds in answers)
    assert slowest < BOUND_SECONDS, f"slowest of {REQUESTS}: {slowest:.2f} s"
