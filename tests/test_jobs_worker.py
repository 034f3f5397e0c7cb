"""The real tasks on a real Celery worker (a subprocess) with Redis as the broker and the
test's PostgreSQL database, including a worker killed with SIGKILL in the middle of the
stall job."""

from __future__ import annotations

import datetime
import os
import signal
import subprocess
import sys

import psycopg
import pytest
from celery import Celery
from django.db import connection

from commitments.models import Flag, FlagReason, Source
from commitments.services import flags_refresh
from tests.workers import (
    ROOT,
    empty_redis,
    start_worker,
    stop_worker,
    wait_until,
    worker_environment,
)

pytestmark = pytest.mark.django_db(transaction=True)

BROKER = "redis://127.0.0.1:6379/5"  # this file's own Redis database, flushed per test
D = datetime.date


@pytest.fixture
def broker():
    with empty_redis(BROKER):
        sender = Celery("test-sender", broker=BROKER)
        yield sender
        sender.close()


@pytest.fixture
def worker_env(tmp_path, fake_web):
    return worker_environment(
        broker=BROKER,
        var_dir=tmp_path / "var",
        WAYBACK_SAVE_URL=fake_web.save_url,
        LINK_CHECK_TIMEOUT_SECONDS="2",
        ARCHIVE_ON_CREATE="1",
    )


def snapshot():
    return sorted(
        (f.commitment_id, f.reason, f.since, f.since_precision, f.details, f.resolved_at is None)
        for f in Flag.objects.all()
    )


def test_real_worker_runs_the_real_tasks_on_redis_and_postgres(
    broker, worker_env, fake_web, make_commitment, make_source, log_update
):
    stalled = make_commitment(made_on=D(2025, 1, 1))
    overdue = make_commitment(made_on=D(2025, 1, 1), deadline=D(2025, 3, 1))
    draft = make_commitment(made_on=D(2025, 1, 1), published=False)
    cited = make_source(url=fake_web.url("/missing"))
    log_update(overdue, sources=[cited], effective_on=D(2025, 2, 1))

    worker = start_worker(worker_env, concurrency=2)
    try:
        broker.send_task("commitments.tasks.refresh_flags")
        broker.send_task("commitments.tasks.check_sources")
        # An editor adds a source in another process: archiving is enqueued on commit.
        subprocess.run(
            [
                sys.executable,
                "manage.py",
                "shell",
                "--no-imports",
                "-c",
                "from commitments import services; services.source_get_or_create("
                f"url={fake_web.url('/ok/new-report')!r}, title='New report', outlet='Example')",
            ],
            cwd=ROOT,
            env=worker_env,
            check=True,
            capture_output=True,
            timeout=120,
        )
        wait_until(
            lambda: (
                Source.objects.filter(url=fake_web.url("/ok/new-report"))
                .exclude(archive_url="")
                .exists()
            ),
            what="archiving",
            worker=worker,
        )
        wait_until(
            lambda: Flag.objects.filter(commitment=overdue).count() == 2,
            what="the stall job",
            worker=worker,
        )
        wait_until(
            lambda: Source.objects.filter(pk=cited.pk, last_checked_at__isnull=False).exists(),
            what="the link check",
            worker=worker,
        )
    finally:
        log = stop_worker(worker)

    assert {f.reason for f in Flag.objects.open().filter(commitment=overdue)} == {
        FlagReason.NO_RECENT_PROGRESS,
        FlagReason.DEADLINE_PASSED,
    }
    assert Flag.objects.open().get(commitment=stalled).reason == FlagReason.NO_RECENT_PROGRESS
    assert not Flag.objects.filter(commitment=draft).exists()
    cited.refresh_from_db()
    assert (cited.link_status, cited.consecutive_failures, cited.last_http_status) == (
        "failing",
        1,
        404,
    )
    archived = Source.objects.get(url=fake_web.url("/ok/new-report"))
    assert archived.archive_url == fake_web.url(f"/web/20251024120000/{archived.url}")
    assert "commitments.tasks.refresh_flags" in log and "succeeded" in log


def test_a_worker_killed_during_the_stall_job_leaves_nothing_and_a_rerun_equals_one_clean_run(
    broker, worker_env, make_commitment
):
    """SIGKILL the worker while its stall job is halfway: flags for one rule written (not
    committed), blocked on the next. Nothing half done survives; running the job again gives
    exactly the flags one clean run gives."""
    for n in range(40):
        make_commitment(
            made_on=D(2025, 1, 1),
            deadline=D(2025, 2, 1) if n % 4 == 0 else None,
            stall_after_days=None if n % 5 else 3650,
        )
    # A deadline flag the job must resolve (its deadline moved): the test holds its row,
    # so the job stops there, after raising the no-progress flags.
    moved = make_commitment(made_on=D(2025, 1, 1), deadline=D(2099, 1, 1))
    pinned = Flag.objects.create(
        commitment=moved,
        reason=FlagReason.DEADLINE_PASSED,
        raised_at=datetime.datetime(2025, 3, 1, tzinfo=datetime.UTC),
        since=D(2025, 2, 1),
    )
    name = connection.settings_dict["NAME"]
    watcher = psycopg.connect(dbname=name, user="postgres", host="127.0.0.1", autocommit=True)
    holder = psycopg.connect(dbname=name, user="postgres", host="127.0.0.1")
    holder.execute("SELECT 1 FROM commitments_flag WHERE id = %s FOR UPDATE", [pinned.pk])

    def job_blocked():
        return watcher.execute(
            "SELECT pid FROM pg_stat_activity WHERE datname = %s AND wait_event_type = 'Lock' "
            "AND query LIKE 'UPDATE \"commitments_flag\"%%'",
            [name],
        ).fetchone()

    def job_holds_its_lock():
        return watcher.execute(
            "SELECT count(*) FROM pg_locks l JOIN pg_database d ON d.oid = l.database "
            "WHERE l.locktype = 'advisory' AND d.datname = %s",
            [name],
        ).fetchone()[0]

    worker = start_worker(worker_env)
    try:
        broker.send_task("commitments.tasks.refresh_flags")
        (backend_pid,) = wait_until(
            job_blocked, what="the job to reach the held row", worker=worker
        )
        # Halfway: the job holds its lock and has raised the no-progress flags (the rule
        # before this one) inside its open transaction.
        assert job_holds_its_lock()
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        holder.rollback()
        holder.close()

    # The orphaned backend finds its client gone and rolls back: nothing it did survives.
    wait_until(lambda: not job_holds_its_lock(), what="the killed job's transaction to end")
    watcher.close()
    assert list(Flag.objects.values_list("pk", flat=True)) == [pinned.pk]
    assert Flag.objects.get(pk=pinned.pk).resolved_at is None
    assert backend_pid

    worker = start_worker(worker_env)
    try:
        broker.send_task("commitments.tasks.refresh_flags")
        wait_until(
            lambda: Flag.objects.filter(pk=pinned.pk, resolved_at__isnull=False).exists(),
            what="the rerun",
            worker=worker,
        )
    finally:
        stop_worker(worker)
    after_rerun = snapshot()

    # One clean run from the same starting point.
    Flag.objects.exclude(pk=pinned.pk).delete()
    Flag.objects.filter(pk=pinned.pk).update(resolved_at=None, resolution_note="")
    flags_refresh()
    clean = snapshot()

    assert after_rerun == clean
    reasons = [row[1] for row in clean if row[5]]
    assert reasons.count(FlagReason.NO_RECENT_PROGRESS) == 33
    assert reasons.count(FlagReason.DEADLINE_PASSED) == 10
