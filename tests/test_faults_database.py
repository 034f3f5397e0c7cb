"""A frozen or stopped PostgreSQL gives a fast, plain 503 (static files still served), and
the site recovers by itself. The shared PostgreSQL is never touched: the app, in a
subprocess, is pointed at a local server that never answers or refuses, or at a proxy to
the real one that the test freezes and unfreezes."""

from __future__ import annotations

import time

import httpx
import pytest
from django.db import connection

from tests.faults import FreezableProxy, FrozenServer, database_url, serve

CONNECT_TIMEOUT = 2
#: Connect timeout plus a margin for a busy two-core machine.
FAST = CONNECT_TIMEOUT + 3


def timed_get(url: str) -> tuple[httpx.Response, float]:
    started = time.monotonic()
    response = httpx.get(url, timeout=30)
    return response, time.monotonic() - started


def assert_plain_503(response: httpx.Response, took: float):
    assert response.status_code == 503, response.text[:500]
    assert took < FAST, f"took {took:.1f} s"
    assert response.headers["retry-after"] == "30"
    assert "no-store" in response.headers["cache-control"]
    assert "Temporarily unavailable" in response.text
    assert "Traceback" not in response.text


def dead_database_env(port: int) -> dict[str, str]:
    return {
        "DATABASE_URL": f"postgres://postgres@127.0.0.1:{port}/x",
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
    }


def test_a_frozen_database_gives_a_fast_plain_503_and_static_files_still_load():
    with FrozenServer() as postgres, serve(dead_database_env(postgres.port)) as base:
        for path in ("/", "/commitments/"):
            assert_plain_503(*timed_get(base + path))
        api, took = timed_get(base + "/api/commitments")
        assert api.status_code == 503 and took < FAST
        assert api.headers["content-type"].startswith("application/json")
        static, took = timed_get(base + "/static/css/site.css")
        assert static.status_code == 200 and took < 1
        assert postgres.accepted, "the app never tried the database"


def test_a_stopped_database_gives_a_503_at_once():
    postgres = FrozenServer()
    postgres.stop()  # nothing listens: connections are refused
    with serve(dead_database_env(postgres.port)) as base:
        assert_plain_503(*timed_get(base + "/commitments/"))
        response, took = timed_get(base + "/")
        assert_plain_503(response, took)
        assert took < 1.5  # refused: no wait for a timeout


def proxied_database_env(proxy: FreezableProxy, **extra: str) -> dict[str, str]:
    """The app pointed at the test database through ``proxy``, which the test freezes."""
    return {
        "DATABASE_URL": database_url(connection, via_port=proxy.port),
        "DB_CONNECT_TIMEOUT": str(CONNECT_TIMEOUT),
        **extra,
    }


@pytest.mark.django_db(transaction=True)
def test_the_site_recovers_by_itself_when_the_database_comes_back(make_commitment):
    commitment = make_commitment(title="Recovered promise")
    real = connection.settings_dict
    with FreezableProxy((real["HOST"] or "127.0.0.1", int(real["PORT"] or 5432))) as proxy:
        with serve(proxied_database_env(proxy)) as base:
            page = base + commitment.get_absolute_url()
            response, _took = timed_get(page)
            assert response.status_code == 200 and "Recovered promise" in response.text

            proxy.freeze()
            for path in (commitment.get_absolute_url(), "/commitments/"):
                assert_plain_503(*timed_get(base + path))
            static, took = timed_get(base + "/static/css/site.css")
            assert static.status_code == 200 and took < 1

            proxy.unfreeze()  # no restart of the app
            response, _took = timed_get(page)
            assert response.status_code == 200 and "Recovered promise" in response.text
            assert timed_get(base + "/commitments/")[0].status_code == 200


@pytest.mark.django_db(transaction=True)
def test_a_database_frozen_under_an_open_connection_gives_a_503_and_recovers(make_commitment):
    """The server stops answering on the connection a worker keeps between requests: no
    timeout of the driver fires (the kernel still acknowledges), so the request's own
    deadline cuts the connection and the reader gets the plain 503, not a hung page."""
    commitment = make_commitment(title="Pooled promise")
    real = connection.settings_dict
    with FreezableProxy((real["HOST"] or "127.0.0.1", int(real["PORT"] or 5432))) as proxy:
        env = proxied_database_env(proxy, CONN_MAX_AGE="600", DB_REQUEST_DEADLINE_SECONDS="1.5")
        with serve(env, threading=False) as base:
            page = base + commitment.get_absolute_url()
            response, _took = timed_get(page)
            assert response.status_code == 200 and "Pooled promise" in response.text

            proxy.hold()  # the pooled connection stays open and silent
            assert_plain_503(*timed_get(base + "/commitments/"))

            proxy.unfreeze()
            response, _took = timed_get(page)
            assert response.status_code == 200 and "Pooled promise" in response.text
