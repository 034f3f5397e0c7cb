"""Link checks and Save Page Now archiving, against a local HTTP server the test starts
(``fake_web`` in conftest): no test reaches the internet."""

from __future__ import annotations

import datetime

import pytest
from celery import current_app
from django.db import transaction
from django.utils import timezone

from commitments import services
from commitments.models import Flag, FlagReason, Source
from commitments.services.archiving import source_archive
from commitments.services.links import link_check, links_check
from commitments.tasks import MAX_COUNTDOWN, _backoff, archive_source

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def client_for(fake_web, settings):
    from commitments.http import web_client

    with web_client(timeout=settings.LINK_CHECK_TIMEOUT_SECONDS) as client:
        yield client


# --- One address -----------------------------------------------------------------------


def test_an_online_page_is_ok_and_the_request_says_who_we_are(fake_web, client_for, settings):
    result = link_check(fake_web.url("/ok"), client=client_for)
    assert result.ok and result.status == 200 and result.error == ""
    method, path, agent = fake_web.requests[-1]
    assert (method, path) == ("HEAD", "/ok")
    assert agent == settings.LINK_CHECK_USER_AGENT


@pytest.mark.parametrize(
    ("path", "status"), [("/missing", 404), ("/broken", 500)], ids=["404", "500"]
)
def test_an_error_answer_is_a_failure_after_trying_get(fake_web, client_for, path, status):
    result = link_check(fake_web.url(path), client=client_for)
    assert not result.ok
    assert result.status == status
    assert result.error == f"The site answered HTTP {status}."
    assert [r[0] for r in fake_web.requests] == ["HEAD", "GET"]


def test_a_page_that_never_answers_times_out(fake_web, client_for):
    result = link_check(fake_web.url("/slow"), client=client_for)
    assert not result.ok and result.status is None
    assert result.error == "No answer within 1 seconds."


def test_redirects_are_followed_and_the_final_address_recorded(fake_web, client_for):
    result = link_check(fake_web.url("/moved"), client=client_for)
    assert result.ok
    assert result.final_url == fake_web.url("/ok/new-home")


def test_a_redirect_loop_fails_clearly(fake_web, client_for):
    result = link_check(fake_web.url("/loop"), client=client_for)
    assert not result.ok and result.error == "Too many redirects."


def test_head_refused_falls_back_to_get(fake_web, client_for):
    result = link_check(fake_web.url("/no-head"), client=client_for)
    assert result.ok and result.status == 200
    assert [r[:2] for r in fake_web.requests] == [("HEAD", "/no-head"), ("GET", "/no-head")]


def test_nothing_listening_is_a_failure_not_a_crash(client_for):
    result = link_check("http://127.0.0.1:9/gone", client=client_for)
    assert not result.ok and result.error.startswith("Could not connect")


def test_concurrency_is_bounded(fake_web, settings):
    urls = [fake_web.url(f"/pause/{n}") for n in range(6)]
    results = links_check(urls, concurrency=2)
    assert all(result.ok for result in results.values())
    assert fake_web.max_in_flight == 2


# --- Checking sources ------------------------------------------------------------------


def test_three_failed_checks_in_a_row_make_a_source_unavailable_and_flag_its_commitment(
    fake_web, make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=D(2025, 1, 1), stall_after_days=3650)
    gone = make_source(url=fake_web.url("/missing"))
    fine = make_source(url=fake_web.url("/ok/1"))
    log_update(commitment, sources=[gone], effective_on=D(2025, 2, 1))
    ids = [gone.pk, fine.pk]

    first = services.sources_check_links(source_ids=ids)
    assert (first.checked, first.ok, first.failing, first.unavailable) == (2, 1, 1, 0)
    gone.refresh_from_db()
    assert (gone.link_status, gone.consecutive_failures, gone.last_http_status) == (
        "failing",
        1,
        404,
    )
    assert gone.last_checked_at is not None and gone.last_check_error
    fine.refresh_from_db()
    assert (fine.link_status, fine.last_http_status, fine.final_url) == ("ok", 200, fine.url)

    services.sources_check_links(source_ids=ids)
    assert not Flag.objects.filter(commitment=commitment).exists()
    third = services.sources_check_links(source_ids=ids)
    gone.refresh_from_db()
    assert (gone.link_status, gone.consecutive_failures) == ("unavailable", 3)
    assert third.flags_raised == 1
    assert Flag.objects.open().get(commitment=commitment).reason == FlagReason.SOURCES_UNAVAILABLE


def test_one_success_brings_a_source_back_and_resolves_the_flag(
    fake_web, make_commitment, make_source, log_update
):
    commitment = make_commitment(made_on=D(2025, 1, 1), stall_after_days=3650)
    source = make_source(url=fake_web.url("/ok/back"))
    log_update(commitment, sources=[source], effective_on=D(2025, 2, 1))
    Source.objects.filter(pk=source.pk).update(link_status="unavailable", consecutive_failures=5)
    services.flags_refresh(reasons=[FlagReason.SOURCES_UNAVAILABLE])
    assert Flag.objects.open().filter(commitment=commitment).exists()

    report = services.sources_check_links(source_ids=[source.pk])
    source.refresh_from_db()
    assert (source.link_status, source.consecutive_failures) == ("ok", 0)
    assert report.flags_resolved == 1
    assert not Flag.objects.open().filter(commitment=commitment).exists()


def test_a_run_skips_sources_checked_recently_and_those_without_an_address(fake_web, make_source):
    checked = make_source(url=fake_web.url("/ok/a"))
    due = make_source(url=fake_web.url("/ok/b"))
    make_source(url=None, title="Radio item", outlet="BBC Radio 4")
    Source.objects.filter(pk=checked.pk).update(last_checked_at=timezone.now())
    Source.objects.filter(pk=due.pk).update(
        last_checked_at=timezone.now() - datetime.timedelta(days=7)
    )
    report = services.sources_check_links()
    assert report.checked == 1
    assert [r[1] for r in fake_web.requests] == ["/ok/b"]


# --- Archiving -------------------------------------------------------------------------


def test_save_page_now_success_stores_the_archive_address(fake_web, make_source):
    source = make_source(url=fake_web.url("/ok/story"))
    outcome = source_archive(source_id=source.pk)
    assert outcome.archived
    source.refresh_from_db()
    assert source.archive_url == fake_web.url(f"/web/20251024120000/{source.url}")
    assert source.archived_at is not None and source.archive_requested_at is not None
    assert (source.archive_attempts, source.archive_error) == (1, "")
    assert fake_web.requests[-1][1] == f"/save/{source.url}"

    # Archived: nothing more to do, no second request.
    assert source_archive(source_id=source.pk) is None
    assert len(fake_web.requests) == 1


def test_save_page_now_redirect_to_the_snapshot_is_understood(fake_web, make_source):
    fake_web.spn_mode = "redirect"
    source = make_source(url=fake_web.url("/ok/other"))
    assert source_archive(source_id=source.pk).archived
    source.refresh_from_db()
    assert "/web/20251024120000/" in source.archive_url


def test_rate_limited_is_recorded_and_retried_no_sooner_than_asked(fake_web, make_source):
    fake_web.spn_mode = "429"
    source = make_source(url=fake_web.url("/ok/busy"))
    outcome = source_archive(source_id=source.pk)
    assert not outcome.archived and outcome.retry_after == 7
    source.refresh_from_db()
    assert source.archive_url == ""
    assert source.archive_attempts == 1
    assert "slow down (HTTP 429)" in source.archive_error

    # The task retries (run in-process here, where Celery retries at once) up to its limit,
    # then gives up with the error recorded on the source.
    result = archive_source.apply(args=[source.pk])
    assert "slow down" in result.get()
    source.refresh_from_db()
    assert source.archive_attempts == 1 + 1 + archive_source.max_retries
    # The countdown between attempts: at least what the service asked for, doubling.
    assert _backoff(0, 7) >= 60
    assert _backoff(0, 900) >= 900
    assert _backoff(3, 7) >= 480
    assert _backoff(10, 7) == _backoff(0, 99999) == MAX_COUNTDOWN  # within the visibility


def test_a_refusal_is_recorded_and_not_retried(fake_web, make_source):
    fake_web.spn_mode = "403"
    source = make_source(url=fake_web.url("/ok/blocked"))
    outcome = source_archive(source_id=source.pk)
    assert outcome.retry_after is None
    assert archive_source.apply(args=[source.pk]).state == "SUCCESS"
    source.refresh_from_db()
    assert source.archive_attempts == 2
    assert source.archive_error == "The Wayback Machine refused to archive this address (HTTP 403)."


def test_a_server_error_is_retried(fake_web, make_source):
    fake_web.spn_mode = "500"
    source = make_source(url=fake_web.url("/ok/wobbly"))
    assert source_archive(source_id=source.pk).retry_after is not None
    assert archive_source.apply(args=[source.pk]).get() == (
        "The Wayback Machine had a problem (HTTP 500)."
    )
    source.refresh_from_db()
    assert source.archive_attempts == 1 + 1 + archive_source.max_retries

    fake_web.spn_mode = "ok"  # the service recovers: the next attempt archives
    assert archive_source.apply(args=[source.pk]).get().startswith(fake_web.base + "/web/")


def test_the_task_returns_early_for_a_source_that_is_gone(fake_web):
    assert archive_source.apply(args=[987654321]).get() == "nothing to do"
    assert fake_web.requests == []


# --- Enqueued on commit, never failing the editor's save ------------------------------


def test_a_new_source_with_an_address_is_archived_after_commit(
    django_capture_on_commit_callbacks, settings
):
    settings.ARCHIVE_ON_CREATE = True
    with django_capture_on_commit_callbacks() as callbacks:
        services.source_get_or_create(url="https://news.example.org/a", title="A", outlet="X")
        services.source_get_or_create(url=None, title="Radio", outlet="BBC Radio 4")
        services.source_get_or_create(url="https://news.example.org/a", title="A", outlet="X")
    assert len(callbacks) == 1  # only the new source with an address


@pytest.fixture
def dead_broker():
    """Point this process's Celery app at a port where no broker listens."""
    app = current_app
    # The producer pool is kept apart from the connection pool once a message was sent
    # (an earlier test's): both are set aside, or the send would use the live broker.
    saved = (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app._pool,
        app.amqp._producer_pool,
    )
    app.conf.broker_url = "redis://127.0.0.1:1/0"
    app.conf.broker_transport_options = {}
    app._pool = None
    app.amqp._producer_pool = None
    yield
    app.pool.force_close_all()
    (
        app.conf.broker_url,
        app.conf.broker_transport_options,
        app._pool,
        app.amqp._producer_pool,
    ) = saved


def test_a_broker_that_is_down_never_fails_the_editors_save(
    django_capture_on_commit_callbacks, dead_broker, settings, caplog
):
    settings.ARCHIVE_ON_CREATE = True
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            source, created = services.source_get_or_create(
                url="https://news.example.org/b", title="B", outlet="X"
            )
    assert created
    assert Source.objects.filter(pk=source.pk).exists()
    assert "Could not queue archiving" in caplog.text and "127.0.0.1:1" in caplog.text
