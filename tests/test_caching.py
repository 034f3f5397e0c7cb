"""HTTP caching that is always right (commitments/caching.py, migration 0009), on PostgreSQL.

Every public answer is cacheable and revalidates with a 304; a write through any service,
the stall job's raw SQL included, changes the ETag and the content at once; two server
processes sharing a Redis cache both serve fresh pages after a write; staff and answers
that set cookies are never cached; HTMX fragments and pages are kept apart."""

from __future__ import annotations

import datetime
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from django.apps import apps
from django.db import connection
from django.http import HttpResponse
from django.test import Client
from django.urls import path
from django.utils.http import http_date

from commitments import services
from commitments.api import api
from commitments.models import Flag, PublicVersion, Revision, Statement
from commitments.services.accounts import user_create

pytestmark = pytest.mark.django_db

ROOT = Path(__file__).resolve().parent.parent
HTMX = {"HTTP_HX_REQUEST": "true"}
#: Tables the public never reads (simple-history's copies are written with their rows).
NOT_PUBLIC = {
    "commitments_editorsdigest",
    "commitments_publicversion",
    # Following a promise (issue 12): readers' addresses, the outbox and its deliveries are
    # never shown, and a subscription must not empty the public pages' cache.
    "commitments_outboxevent",
    "commitments_subscriber",
    "commitments_subscription",
    "commitments_alert",
    "commitments_webhookendpoint",
    "commitments_webhookdelivery",
    "commitments_webhookattempt",
}


@pytest.fixture
def world(make_commitment, make_source, make_actor, make_topic, log_update):
    source = make_source(title="The original report")
    actor = make_actor(name="Jane Minister", slug="jane-minister")
    topic = make_topic(name="Returns", slug="returns")
    commitment = make_commitment(
        actor=actor, made_in=source, slug="stop-the-boats", title="Stop the boats"
    )
    commitment.topics.add(topic)
    log_update(commitment, sources=[source])
    statement = Statement.objects.create(
        text="We will stop the boats.",
        speaker=actor,
        said_on=datetime.date(2025, 7, 10),
        source=source,
    )
    statement.commitments.add(commitment)
    return {
        "commitment": commitment,
        "source": source,
        "actor": actor,
        "topic": topic,
        "statement": statement,
    }


def api_urls(world) -> list[str]:
    """Every GET operation of the API, its path parameters filled from the world."""
    values = {
        "/commitments/{slug}": world["commitment"].slug,
        "/actors/{slug}": world["actor"].slug,
        "/sources/{source_id}": str(world["source"].pk),
    }
    urls = []
    for template in api.get_openapi_schema()["paths"]:
        relative = template.removeprefix("/api")
        for prefix, value in values.items():
            relative = relative.replace(prefix, prefix.split("/{")[0] + "/" + value)
        assert "{" not in relative, f"no value for {template}"
        urls.append("/api" + relative)
    return urls + ["/api/openapi.json"]


def public_urls(world) -> list[str]:
    slug = world["commitment"].slug
    return [
        "/",
        "/commitments/",
        "/commitments/?status=in_progress",
        f"/commitments/{slug}/",
        f"/commitments/{slug}/embed/",
        f"/commitments/{slug}/changes/",
        f"/actors/{world['actor'].slug}/",
        f"/topics/{world['topic'].slug}/",
        "/corrections/",
        "/feeds/changes/",
        f"/feeds/commitments/{slug}/",
        "/sitemap.xml",
        "/robots.txt",
        "/commitments.csv",
        "/commitments.json",
        *api_urls(world),
    ]


def test_every_public_answer_is_cacheable_and_revalidates_with_a_304(client, world, settings):
    settings.PUBLIC_MAX_AGE, settings.PUBLIC_STALE_WHILE_REVALIDATE = 60, 30
    urls = public_urls(world)
    # Last-Modified is never in the future: wait out the second of the last change.
    time.sleep(max(0.0, PublicVersion.objects.get().changed_at.timestamp() + 1 - time.time()))
    assert len([url for url in urls if url.startswith("/api/")]) >= 8
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        directives = {d.strip() for d in response["Cache-Control"].split(",")}
        assert {"public", "max-age=60", "stale-while-revalidate=30"} <= directives, url
        assert response["ETag"].startswith('W/"'), url
        assert response["Last-Modified"], url
        assert {"HX-Request", "HX-History-Restore-Request"} <= {
            v.strip() for v in response["Vary"].split(",")
        }, url

        again = client.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
        assert again.status_code == 304, url
        assert again.content == b""
        assert again["ETag"] == response["ETag"]
        assert "public" in again["Cache-Control"]
        assert client.head(url, HTTP_IF_NONE_MATCH=response["ETag"]).status_code == 304, url
        since = client.get(url, HTTP_IF_MODIFIED_SINCE=response["Last-Modified"])
        assert since.status_code == 304, url
        # Another address's ETag, or a date before the last change, is not a match.
        assert client.get(url, HTTP_IF_NONE_MATCH='W/"1-0"').status_code == 200, url
        earlier = http_date(PublicVersion.objects.get().changed_at.timestamp() - 1)
        assert client.get(url, HTTP_IF_MODIFIED_SINCE=earlier).status_code == 200, url


def test_pages_are_kept_in_the_server_cache_and_exports_are_not(client, world):
    page = f"/commitments/{world['commitment'].slug}/"
    assert client.get(page)["X-Cache"] == "miss"
    assert client.get(page)["X-Cache"] == "hit"
    assert client.get("/api/commitments")["X-Cache"] == "miss"
    assert client.get("/api/commitments")["X-Cache"] == "hit"
    for export in ("/commitments.csv", "/commitments.json"):
        assert client.get(export)["X-Cache"] == "miss"
        assert client.get(export)["X-Cache"] == "miss"


def test_a_version_number_that_comes_round_again_never_serves_an_old_page(client, world):
    """A database restored from a backup (or emptied and filled again, as each test run
    does) can repeat a version number with other content: the cache and the ETags are
    keyed by the number and the moment it was bumped, so the old page is not served."""
    page = f"/commitments/{world['commitment'].slug}/"
    first = client.get(page)
    assert "Stop the boats" in first.content.decode() and client.get(page)["X-Cache"] == "hit"
    old_version = PublicVersion.objects.get(pk=1).version
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE commitments_commitment SET title = 'Restored title' WHERE slug = %s",
            [world["commitment"].slug],
        )
        # The restore: the same number as when the page was cached, bumped at another time.
        cursor.execute(
            "UPDATE commitments_publicversion SET version = %s, changed_at = changed_at"
            " + interval '1 hour' WHERE id = 1",
            [old_version],
        )
    again = client.get(page, HTTP_IF_NONE_MATCH=first["ETag"])
    assert again.status_code == 200 and again["X-Cache"] == "miss"
    assert "Restored title" in again.content.decode()


def test_every_public_table_bumps_the_version_from_the_database_itself(world):
    tables = {
        model._meta.db_table
        for model in apps.get_app_config("commitments").get_models(include_auto_created=True)
        if not model._meta.db_table.startswith("commitments_historical")
    } - NOT_PUBLIC
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT tgrelid::regclass::text FROM pg_trigger WHERE tgname LIKE '%_public_version'"
        )
        with_trigger = {row[0] for row in cursor.fetchall()}
    assert tables - with_trigger == set()
    assert len(tables) == 19

    before = PublicVersion.objects.get().version
    with connection.cursor() as cursor:  # raw SQL, as the jobs write: no signal sees it
        cursor.execute("UPDATE commitments_topic SET name = name WHERE false")
    assert PublicVersion.objects.get().version > before


def _change_status(world, publisher):
    services.status_update_create(
        commitment=world["commitment"],
        status="broken",
        effective_on=datetime.date(2025, 9, 1),
        description="Abandoned.",
        sources=[world["source"]],
    )
    return f"/commitments/{world['commitment'].slug}/", "Broken"


def _apply_revision(world, publisher):
    revision = services.revision_submit(
        obj=world["statement"],
        after={"text": "We will stop the small boats tomorrow."},
        kind="correction",
        reason="Misheard.",
        by=publisher,
    )
    assert revision.state == Revision.State.APPLIED
    return f"/commitments/{world['commitment'].slug}/", "stop the small boats tomorrow"


def _publish(world, publisher, make_commitment):
    draft = make_commitment(
        published=False, made_in=world["source"], slug="new-one", title="A brand new promise"
    )
    services.commitment_publish(commitment=draft, published_by=publisher)
    return "/commitments/", "A brand new promise"


def _flag_job(world, publisher):
    report = services.flags_refresh(today=datetime.date(2027, 1, 1))
    assert Flag.objects.filter(commitment=world["commitment"]).exists(), report
    return f"/commitments/{world['commitment'].slug}/", "No recorded progress"


@pytest.mark.parametrize("write", [_change_status, _apply_revision, _publish, _flag_job])
def test_a_write_through_a_service_changes_the_etag_and_the_content(
    client, world, write, make_commitment
):
    publisher = user_create(username="pub", role="Publisher", password="a long pass phrase")
    page_and_text = {
        _change_status: (f"/commitments/{world['commitment'].slug}/", "Broken"),
        _apply_revision: (
            f"/commitments/{world['commitment'].slug}/",
            "stop the small boats tomorrow",
        ),
        _publish: ("/commitments/", "A brand new promise"),
        _flag_job: (f"/commitments/{world['commitment'].slug}/", "No recorded progress"),
    }
    url, text = page_and_text[write]
    urls = [url, "/api/commitments", "/feeds/changes/"]
    before = {u: client.get(u) for u in urls}
    assert text not in before[url].content.decode()
    assert client.get(url)["X-Cache"] == "hit"

    args = (world, publisher, make_commitment) if write is _publish else (world, publisher)
    assert write(*args) == (url, text)

    for u in urls:
        after = client.get(u, HTTP_IF_NONE_MATCH=before[u]["ETag"])
        assert after.status_code == 200, u
        assert after["ETag"] != before[u]["ETag"], u
        assert after["X-Cache"] == "miss", u
    assert text in client.get(url).content.decode()


def test_staff_never_get_a_cached_page_and_never_fill_the_cache(editor_client, world):
    client = Client()  # anonymous (editor_client is the signed-in ``client`` fixture)
    url = f"/commitments/{world['commitment'].slug}/"
    assert client.get(url)["X-Cache"] == "miss"
    assert client.get(url)["X-Cache"] == "hit"

    staff = editor_client.get(url)
    assert staff.status_code == 200
    assert staff["Cache-Control"] == "private, no-store"
    assert "X-Cache" not in staff and "ETag" not in staff and "Last-Modified" not in staff
    # A conditional request from staff is answered in full.
    assert editor_client.get(url, HTTP_IF_NONE_MATCH=client.get(url)["ETag"]).status_code == 200

    # At a new version, a staff render is not stored: the next reader misses.
    world["actor"].save()
    assert editor_client.get(url)["Cache-Control"] == "private, no-store"
    assert client.get(url)["X-Cache"] == "miss"


def test_a_draft_preview_is_never_cached(editor_client, make_commitment):
    draft = make_commitment(published=False, slug="secret-draft", title="Secret draft")
    for _ in range(2):
        response = editor_client.get(f"/commitments/{draft.slug}/")
        assert "Secret draft" in response.content.decode()
        assert response["Cache-Control"] == "private, no-store"
        assert "X-Cache" not in response


def test_the_same_address_gives_the_fragment_to_htmx_and_the_page_to_others(client, world):
    url = "/commitments/?status=in_progress"
    page = client.get(url)
    fragment = client.get(url, **HTMX)
    assert page["X-Cache"] == fragment["X-Cache"] == "miss"
    assert "<html" in page.content.decode()
    assert "<html" not in fragment.content.decode()
    assert page["ETag"] != fragment["ETag"]
    # Each from the cache, still apart.
    page_again, fragment_again = client.get(url), client.get(url, **HTMX)
    assert page_again["X-Cache"] == fragment_again["X-Cache"] == "hit"
    assert page_again.content == page.content
    assert fragment_again.content == fragment.content
    # A history restore is a whole page, like a cold load.
    restore = client.get(url, HTTP_HX_REQUEST="true", HTTP_HX_HISTORY_RESTORE_REQUEST="true")
    assert "<html" in restore.content.decode()
    # The page's ETag does not validate the fragment.
    assert client.get(url, HTTP_IF_NONE_MATCH=page["ETag"], **HTMX).status_code == 200


# --- An answer that sets a cookie ---------------------------------------------------------

calls: list[str] = []


def sets_a_cookie(request):
    calls.append(request.path)
    response = HttpResponse(f"hello {len(calls)}")
    response.set_cookie("seen", "yes")
    return response


urlpatterns = [path("with-cookie/", sets_a_cookie)]


@pytest.mark.urls("tests.test_caching")
def test_an_answer_that_sets_a_cookie_is_not_cached(client):
    calls.clear()
    first, second = client.get("/with-cookie/"), client.get("/with-cookie/")
    assert len(calls) == 2
    assert (first.content, second.content) == (b"hello 1", b"hello 2")
    for response in (first, second):
        assert response["Cache-Control"] == "private, no-store"
        assert "X-Cache" not in response and "ETag" not in response
        assert response.cookies["seen"].value == "yes"


# --- Two server processes ----------------------------------------------------------------

CACHE_REDIS = "redis://127.0.0.1:6379/11"  # this test's own Redis database


def free_port() -> int:
    for port in range(8850, 8900):
        with socket.socket() as sock:
            try:
                sock.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError("no free port in 8850-8899")


def fetch(base: str, url: str, **headers) -> tuple[int, dict, str]:
    """Both processes are asked under one name, as behind a proxy (the address is part of
    the cache key)."""
    request = urllib.request.Request(base + url, headers={"Host": "127.0.0.1", **headers})
    try:
        with urllib.request.urlopen(request, timeout=20) as response:
            return response.status, dict(response.headers), response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), ""


@pytest.fixture
def two_servers(transactional_db):
    import redis

    redis.Redis.from_url(CACHE_REDIS).flushdb()
    db = connection.settings_dict
    env = {
        **os.environ,
        "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        "REDIS_URL": CACHE_REDIS,
        "CACHE_URL": "",
        "CONN_MAX_AGE": "0",
        "DEBUG": "1",
    }
    processes, bases = [], []
    try:
        for _ in range(2):
            port = free_port()
            processes.append(
                subprocess.Popen(
                    [sys.executable, "manage.py", "runserver", "--noreload", "--skip-checks",
                     f"127.0.0.1:{port}"],
                    cwd=ROOT,
                    env=env,
                    stdout=subprocess.DEVNULL,
                    stderr=subprocess.DEVNULL,
                )
            )
            bases.append(f"http://127.0.0.1:{port}")
            deadline = time.monotonic() + 30
            while True:
                try:
                    fetch(bases[-1], "/robots.txt")
                    break
                except OSError:
                    if time.monotonic() > deadline:
                        raise
                    time.sleep(0.2)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)
        redis.Redis.from_url(CACHE_REDIS).flushdb()


def test_two_processes_both_serve_fresh_pages_after_a_write(two_servers, world):
    one, two = two_servers
    page = f"/commitments/{world['commitment'].slug}/"
    for url in (page, "/api/commitments"):
        status, headers, body = fetch(one, url)
        assert (status, headers["X-Cache"]) == (200, "miss")
        status, headers_two, body_two = fetch(two, url)
        # The cache is shared: the second process serves the first one's render.
        assert (status, headers_two["X-Cache"], body_two) == (200, "hit", body)
        assert headers_two["ETag"] == headers["ETag"]
        assert "Broken" not in body

    etag = fetch(one, page)[1]["ETag"]
    services.status_update_create(
        commitment=world["commitment"],
        status="broken",
        effective_on=datetime.date(2025, 9, 1),
        description="Abandoned.",
        sources=[world["source"]],
    )
    for base in (two, one):
        for url in (page, "/api/commitments"):
            status, headers, body = fetch(base, url)
            assert status == 200, (base, url)
            assert "Broken" in body or "broken" in body, (base, url)
        assert fetch(base, page)[1]["ETag"] != etag

    # And a conditional repeat of the old ETag is answered in full by both.
    for base in (one, two):
        assert fetch(base, page, **{"If-None-Match": etag})[0] == 200
        fresh = fetch(base, page)[1]["ETag"]
        assert fetch(base, page, **{"If-None-Match": fresh})[0] == 304


# --- Writers wait for each other, never deadlock -----------------------------------------


def test_a_save_waits_for_a_job_holding_the_version_instead_of_deadlocking(
    transactional_db, make_commitment, make_source
):
    """The stall job's shape: a transaction that has written (so holds the version) and
    then needs a key-share lock on a commitment (a new flag's reference to it). An
    editor's status update meanwhile locks that commitment. Without the version taken
    first by the service, this is a deadlock (PostgreSQL aborts one of them)."""
    import threading

    import psycopg
    from django.db import connection as django_connection

    source = make_source()
    commitment = make_commitment(made_in=source)
    db = django_connection.settings_dict
    job = psycopg.connect(
        host=db["HOST"], port=db["PORT"], user=db["USER"], dbname=db["NAME"], autocommit=False
    )
    outcome = {}

    def editor_saves():
        from django.db import connection as thread_connection

        try:
            services.status_update_create(
                commitment=commitment,
                status="broken",
                effective_on=datetime.date(2025, 9, 1),
                description="Abandoned.",
                sources=[source],
            )
            outcome["editor"] = "saved"
        except Exception as error:  # noqa: BLE001
            outcome["editor"] = repr(error)
        finally:
            thread_connection.close()

    try:
        job.execute("SET lock_timeout = '10s'")
        job.execute("UPDATE commitments_topic SET name = name")  # the job has written
        editor = threading.Thread(target=editor_saves)
        editor.start()
        time.sleep(1.5)  # the editor is now waiting for the version, holding nothing
        assert editor.is_alive()
        job.execute(
            "SELECT 1 FROM commitments_commitment WHERE id = %s FOR KEY SHARE", [commitment.pk]
        )
        job.commit()
        editor.join(timeout=20)
    finally:
        job.close()
    assert outcome == {"editor": "saved"}


def test_public_cache_off_renders_every_time_but_keeps_validators(client, settings, seeded):
    settings.PUBLIC_CACHE = False
    first = client.get("/commitments/")
    second = client.get("/commitments/")
    assert first["X-Cache"] == second["X-Cache"] == "miss"
    assert first["ETag"] == second["ETag"]
    assert client.get("/commitments/", HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 304


def test_a_cached_answer_is_handed_to_the_server_in_one_piece(client, seeded):
    """A feed is written in thousands of small pieces; a hit must not hand the server each
    piece on its own (under wrk that cost a cached feed 90% of its speed)."""
    first = client.get("/feeds/changes/")
    hit = client.get("/feeds/changes/")
    assert (first["X-Cache"], hit["X-Cache"]) == ("miss", "hit")
    assert len(list(iter(hit))) == 1
    assert hit.content == first.content
