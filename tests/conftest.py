"""Shared fixtures. Factories are plain functions behind fixtures; they write through the
services where a service owns the rule."""

from __future__ import annotations

import datetime
import itertools

import pytest
from django.utils import timezone

from commitments import services
from commitments.models import Actor, ActorRole, Commitment, CommitmentActor, Topic

_counter = itertools.count(1)


def _flush_past_the_evidence_triggers():
    """Transactional tests (``transactional_db``, ``live_server``) empty the database with
    TRUNCATE, which migration 0006 refuses for the timeline's tables. The flush runs as
    migration 0006 tells an operator to purge on purpose: in one transaction, with
    ``session_replication_role = replica`` so that ordinary triggers do not fire."""
    from django.db import transaction
    from django.db.backends.postgresql.operations import DatabaseOperations

    execute_sql_flush = DatabaseOperations.execute_sql_flush

    def flush(self, sql_list):
        with transaction.atomic(using=self.connection.alias):
            with self.connection.cursor() as cursor:
                cursor.execute("SET LOCAL session_replication_role = replica")
            execute_sql_flush(self, sql_list)

    DatabaseOperations.execute_sql_flush = flush


_flush_past_the_evidence_triggers()


@pytest.fixture
def make_actor(db):
    def make(**kwargs):
        n = next(_counter)
        values = {
            "name": f"Actor {n}",
            "slug": f"actor-{n}",
            "kind": Actor.Kind.PERSON,
            "country": "GB",
        }
        values.update(kwargs)
        return Actor.objects.create(**values)

    return make


@pytest.fixture
def make_topic(db):
    def make(**kwargs):
        n = next(_counter)
        values = {"name": f"Topic {n}", "slug": f"topic-{n}"}
        values.update(kwargs)
        return Topic.objects.create(**values)

    return make


@pytest.fixture
def make_source(db):
    def make(**kwargs):
        n = next(_counter)
        values = {
            "url": f"https://news.example.org/story-{n}",
            "title": f"Story {n}",
            "outlet": "Example News",
            "published_on": datetime.date(2025, 7, 1),
        }
        values.update(kwargs)
        source, _created = services.source_get_or_create(**values)
        return source

    return make


@pytest.fixture
def make_commitment(db, make_actor):
    def make(*, actor=None, published=True, **kwargs):
        n = next(_counter)
        values = {
            "title": f"Commitment {n}",
            "slug": f"commitment-{n}",
            "summary": f"What was promised, number {n}.",
            "made_on": datetime.date(2025, 7, 10),
            "is_published": published,
            "published_at": timezone.now() if published else None,
        }
        values.update(kwargs)
        commitment = Commitment.objects.create(**values)
        CommitmentActor.objects.create(
            commitment=commitment, actor=actor or make_actor(), role=ActorRole.MADE_BY
        )
        return commitment

    return make


@pytest.fixture
def log_update(db):
    """Log a status update through the service, with sensible defaults."""

    def log(commitment, *, sources, status="in_progress", effective_on=None, **kwargs):
        return services.status_update_create(
            commitment=commitment,
            status=status,
            effective_on=effective_on or datetime.date(2025, 8, 1),
            description=kwargs.pop("description", "Something happened."),
            sources=sources,
            **kwargs,
        )

    return log


@pytest.fixture
def seeded(db):
    from commitments.seeding import load_seeds

    return load_seeds()


@pytest.fixture
def editor_client(client, django_user_model):
    user = django_user_model.objects.create_superuser(
        "editor", "editor@example.org", "pw-for-tests"
    )
    client.force_login(user)
    client.user = user
    return client


@pytest.fixture
def role_client(db):
    """``role_client("Editor")``: a test client logged in as a new user with that role
    (made through ``services.accounts.user_create``, as the ``create_user`` command does)."""
    from django.test import Client

    from commitments.services.accounts import user_create

    def make(role):
        user = user_create(
            username=f"{role.lower()}-{next(_counter)}",
            role=role,
            password="a long pass phrase for tests",
        )
        client = Client()
        client.force_login(user)
        client.user = user
        return client

    return make


# --- Background jobs: a local stand-in for the web and the Wayback Machine ---------------


class FakeWeb:
    """A local HTTP server the jobs' tests talk to instead of the internet.

    ``/ok`` 200, ``/missing`` 404, ``/broken`` 500, ``/slow`` answers after ``slow_seconds``,
    ``/moved`` redirects to ``/ok``, ``/loop`` redirects to itself, ``/no-head`` refuses
    HEAD (405) and answers GET, ``/save/<url>`` is Save Page Now: ``spn_mode`` "ok" answers
    with a Content-Location, "redirect" redirects to the snapshot, "429" asks to slow down,
    "403" refuses, "500" fails, "content-location:<address>" answers 200 naming that address.
    """

    def __init__(self):
        import http.server
        import threading

        self.requests: list[tuple[str, str, str]] = []
        self.spn_mode = "ok"
        self.slow_seconds = 3.0
        self.in_flight = 0
        self.max_in_flight = 0
        self._lock = threading.Lock()
        web = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):
                pass

            def _answer(self, status, headers=(), body=b""):
                self.send_response(status)
                for name, value in headers:
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(body)

            def _route(self):
                import time

                with web._lock:
                    web.requests.append(
                        (self.command, self.path, self.headers.get("User-Agent", ""))
                    )
                    web.in_flight += 1
                    web.max_in_flight = max(web.max_in_flight, web.in_flight)
                try:
                    path = self.path
                    if path.startswith("/save/"):
                        return self._save(path.removeprefix("/save/"))
                    if path.startswith("/web/"):
                        return self._answer(200, body=b"snapshot")
                    if path.startswith("/ok"):
                        return self._answer(200, body=b"online")
                    if path == "/missing":
                        return self._answer(404)
                    if path == "/broken":
                        return self._answer(500)
                    if path == "/slow":
                        time.sleep(web.slow_seconds)
                        return self._answer(200)
                    if path == "/moved":
                        return self._answer(301, [("Location", "/ok/new-home")])
                    if path == "/loop":
                        return self._answer(302, [("Location", "/loop")])
                    if path == "/no-head":
                        if self.command == "HEAD":
                            return self._answer(405)
                        return self._answer(200, body=b"online")
                    if path.startswith("/pause"):
                        time.sleep(0.3)
                        return self._answer(200)
                    return self._answer(404)
                finally:
                    with web._lock:
                        web.in_flight -= 1

            def _save(self, target):
                snapshot = f"/web/20251024120000/{target}"
                if web.spn_mode == "ok":
                    return self._answer(200, [("Content-Location", snapshot)], b"saved")
                if web.spn_mode == "redirect":
                    return self._answer(302, [("Location", snapshot)])
                if web.spn_mode == "429":
                    return self._answer(429, [("Retry-After", "7")])
                if web.spn_mode.startswith("content-location:"):  # an answer to distrust
                    location = web.spn_mode.removeprefix("content-location:")
                    return self._answer(200, [("Content-Location", location)], b"saved")
                return self._answer(int(web.spn_mode))

            do_GET = do_HEAD = _route

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.base = f"http://127.0.0.1:{self.server.server_address[1]}"
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    def url(self, path: str) -> str:
        return self.base + path

    @property
    def save_url(self) -> str:
        return self.base + "/save/"

    def close(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def fake_web(settings):
    """A local web (see ``FakeWeb``) with the Save Page Now setting pointed at it."""
    web = FakeWeb()
    settings.WAYBACK_SAVE_URL = web.save_url
    settings.LINK_CHECK_TIMEOUT_SECONDS = 1
    yield web
    web.close()


@pytest.fixture(autouse=True)
def _no_archiving_on_commit(settings):
    """Saving a source enqueues its archiving after commit; in tests that commit (browser,
    transactional) that would leave messages in the development broker. Tests of archiving
    turn it back on."""
    settings.ARCHIVE_ON_CREATE = False
