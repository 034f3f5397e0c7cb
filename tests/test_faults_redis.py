"""A frozen Redis (a local server that accepts connections and never answers) costs an
editor nothing: logging a status update returns at once, the update is saved once, and
the archive sweep queues the source whose archiving could not be enqueued. The Redis
cache degrades to no cache."""

from __future__ import annotations

import re
import time

import httpx
import pytest
from django.db import connection

from commitments.cache import ForgivingRedisCache
from commitments.models import Source, StatusUpdate
from commitments.services import archiving
from commitments.services.accounts import user_create
from tests.faults import FrozenServer, database_url, serve

PASSWORD = "a long pass phrase for tests"


def hidden(page: str, name: str) -> str:
    match = re.search(rf'name="{name}" value="([^"]+)"', page)
    assert match, f"no {name} on the page"
    return match.group(1)


def signed_in(base: str, username: str) -> httpx.Client:
    client = httpx.Client(base_url=base, timeout=30)
    page = client.get("/admin/login/").text
    response = client.post(
        "/admin/login/?next=/admin/",
        data={
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "username": username,
            "password": PASSWORD,
            "next": "/admin/",
        },
    )
    assert response.status_code == 302, response.text[:500]
    return client


@pytest.mark.django_db(transaction=True)
def test_an_editors_save_does_not_wait_on_a_frozen_broker(make_commitment):
    user_create(username="editor-frozen", role="Editor", password=PASSWORD)
    commitment = make_commitment()
    with (
        FrozenServer() as redis,
        serve(
            {
                "DATABASE_URL": database_url(connection),
                "CELERY_BROKER_URL": f"redis://127.0.0.1:{redis.port}/0",
                "ARCHIVE_ON_CREATE": "1",
            }
        ) as base,
    ):
        editor = signed_in(base, "editor-frozen")
        add = f"/admin/commitments/statusupdate/add/?commitment={commitment.pk}"
        page = editor.get(add).text
        data = {
            "csrfmiddlewaretoken": hidden(page, "csrfmiddlewaretoken"),
            "form_token": hidden(page, "form_token"),
            "commitment": commitment.pk,
            "status": "stalled",
            "effective_on": "2025-10-01",
            "effective_precision": "month",
            "description": "Still being studied.",
            "new_source_url": "https://example.org/frozen-broker",
            "new_source_title": "Saved while Redis was frozen",
            "new_source_outlet": "Example Daily",
            "new_source_published_precision": "day",
            "new_source_kind": "news_report",
        }
        started = time.monotonic()
        response = editor.post(add, data=data)
        took = time.monotonic() - started
        assert response.status_code == 302, response.text[:1000]
        assert response.headers["location"] == (
            f"/admin/commitments/commitment/{commitment.pk}/change/"
        )
        assert took < 6, f"the save waited {took:.1f} s on the broker"
        assert redis.accepted, "the app never tried the broker"

        # The editor, unsure, sends it again: nothing more is recorded.
        again = editor.post(add, data=data)
        assert again.status_code == 302
        editor.close()

    assert StatusUpdate.objects.filter(commitment=commitment).count() == 1
    source = Source.objects.get(url="https://example.org/frozen-broker")
    assert source.archive_requested_at is None and source.archive_url == ""
    # The sweep (beat's archive_pending_sources) queues it.
    assert source.pk in archiving.sources_pending_archive()


def test_a_frozen_redis_cache_is_no_cache():
    with FrozenServer() as redis:
        cache = ForgivingRedisCache(
            f"redis://127.0.0.1:{redis.port}/1",
            {"OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3, "retry_after": 30}},
        )
        started = time.monotonic()
        assert cache.get("page", "miss") == "miss"
        first = time.monotonic() - started
        assert first < 2
        assert redis.accepted
        # Paused after the failure: the next calls do not wait on Redis at all.
        started = time.monotonic()
        cache.set("page", "content")
        assert cache.get("page") is None
        assert cache.get_or_set("page", "computed") == "computed"
        assert cache.add("page", "x") is False
        assert cache.get_many(["a", "b"]) == {}
        with pytest.raises(ValueError):
            cache.incr("counter")
        assert time.monotonic() - started < 0.1


def test_a_stopped_redis_cache_is_no_cache():
    redis = FrozenServer()
    redis.stop()  # connections refused
    cache = ForgivingRedisCache(
        f"redis://127.0.0.1:{redis.port}/1",
        {"OPTIONS": {"socket_timeout": 0.3, "socket_connect_timeout": 0.3}},
    )
    cache.set("page", "content")
    assert cache.get("page", "miss") == "miss"


def test_a_working_redis_cache_still_caches():
    cache = ForgivingRedisCache(
        "redis://127.0.0.1:6379/12",
        {"KEY_PREFIX": "wt9-faults-test", "OPTIONS": {"socket_timeout": 1}},
    )
    cache.set("page", "content", 30)
    try:
        assert cache.get("page") == "content"
    finally:
        cache.delete("page")
