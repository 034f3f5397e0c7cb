"""Email alerts delivered by a real Celery worker (a subprocess) on Redis and the test's
PostgreSQL database, to a real SMTP server (aiosmtpd, in this process): an event recorded
in another process arrives once per follower; the mail server down, then up, loses
nothing and sends nothing twice; a worker SIGKILLed while a mail is not yet accepted
leaves a new worker to send the rest, none twice."""

from __future__ import annotations

import os
import secrets
import signal
import subprocess
import sys
import time
from collections import Counter

import pytest
from celery import Celery
from django.conf import settings
from django.utils import timezone

from commitments.models import Alert, OutboxEvent, Subscriber, Subscription
from tests.smtp import SMTPServer, free_port
from tests.workers import (
    ROOT,
    empty_redis,
    start_worker,
    stop_worker,
    wait_until,
    worker_environment,
)

pytestmark = pytest.mark.django_db(transaction=True)

BROKER = "redis://127.0.0.1:6379/13"  # this file's own Redis database, flushed per test
SITE = "https://tracker.example.org"


@pytest.fixture
def broker():
    with empty_redis(BROKER):
        sender = Celery("test-sender", broker=BROKER)
        yield sender
        sender.close()


@pytest.fixture
def smtp_port():
    return free_port()


@pytest.fixture
def worker_env(tmp_path, smtp_port):
    return worker_environment(
        broker=BROKER,
        var_dir=tmp_path / "var",
        # The project's settings, not the tests' (which keep mail in memory).
        DJANGO_SETTINGS_MODULE="accountability.settings",
        SECRET_KEY=settings.SECRET_KEY,
        SITE_URL=SITE,
        ARCHIVE_ON_CREATE="0",
        EMAIL_BACKEND="django.core.mail.backends.smtp.EmailBackend",
        EMAIL_HOST="127.0.0.1",
        EMAIL_PORT=str(smtp_port),
        EMAIL_TIMEOUT="3",
        ALERTS_RETRY_FIRST_SECONDS="1",
        ALERTS_RETRY_MAX_SECONDS="2",
    )





def followers(commitment, n):
    now = timezone.now()
    subscribers = Subscriber.objects.bulk_create(
        [Subscriber(email=f"w{n_}@example.org", key=secrets.token_hex(16)) for n_ in range(n)]
    )
    Subscription.objects.bulk_create(
        [Subscription(subscriber=s, commitment=commitment, confirmed_at=now) for s in subscribers]
    )
    return subscribers


def record_in_another_process(env, commitment, key="worker:1"):
    """An editor's change in another process: the event is written in its transaction,
    and its fan-out queued on commit to the broker."""
    code = (
        "from django.db import transaction\n"
        "from commitments.models import Commitment, EventType\n"
        "from commitments.services import outbox\n"
        f"c = Commitment.objects.get(pk={commitment.pk})\n"
        "with transaction.atomic():\n"
        "    outbox.event_record(type=EventType.STATUS_UPDATE, key=%r, commitment=c,\n"
        "        payload={'headline': 'Status changed to Stalled', 'summary': 'Frozen.',\n"
        "                 'url': %r, 'commitment': {'title': c.title, 'url': %r},\n"
        "                 'sources': [], 'changes': []})\n"
    ) % (key, f"{SITE}/commitments/{commitment.slug}/#update-1", f"{SITE}/c/")
    subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", code],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )
    return OutboxEvent.objects.get(key=key)


def assert_each_once(server, event, subscribers):
    ids = server.message_ids()
    expected = {f"<alert.{event.uuid.hex}.{s.pk}@tracker.example.org>" for s in subscribers}
    assert set(ids) == expected
    assert set(ids.values()) == {1}, ids.most_common(3)
    per_recipient = Counter((m["To"], m["Message-ID"].split(".")[1]) for m in server.messages)
    assert set(per_recipient.values()) == {1}
    assert sorted(m["To"] for m in server.messages) == sorted(s.email for s in subscribers)
    assert Alert.objects.filter(event=event, sent_at__isnull=False).count() == len(subscribers)


def test_an_event_recorded_in_another_process_reaches_each_follower_once(
    broker, worker_env, smtp_port, make_commitment
):
    server = SMTPServer(port=smtp_port).start()
    commitment = make_commitment()
    subscribers = followers(commitment, 5)
    worker = start_worker(worker_env, heartbeat=False)
    try:
        event = record_in_another_process(worker_env, commitment)
        wait_until(lambda: server.count() >= 5, what="the alerts", worker=worker)
        time.sleep(1)  # anything sent twice would arrive by now
    finally:
        log = stop_worker(worker)
        server.stop()
    assert_each_once(server, event, subscribers)
    assert "commitments.tasks.fan_out_event" in log and "commitments.tasks.send_alerts" in log


def test_smtp_down_then_up_every_mail_arrives_once(
    broker, worker_env, smtp_port, make_commitment
):
    commitment = make_commitment()
    subscribers = followers(commitment, 4)
    server = SMTPServer(port=smtp_port)  # not started: nothing listens on the port
    worker = start_worker(worker_env, heartbeat=False)
    try:
        event = record_in_another_process(worker_env, commitment)
        wait_until(
            lambda: Alert.objects.filter(attempts__gte=1).count() == 4,
            what="the first, failed, try",
            worker=worker,
        )
        deferred = list(Alert.objects.all())
        assert all(a.sent_at is None and a.failed_at is None and a.last_error for a in deferred)

        server.start()

        def sweep():
            broker.send_task("commitments.tasks.sweep_outbox")

        wait_until(
            lambda: Alert.objects.filter(sent_at__isnull=False).count() == 4,
            what="the retry",
            worker=worker,
            every=(1.0, sweep),
        )
        sweep()
        time.sleep(2)  # another sweep, and anything sent twice, would arrive by now
    finally:
        stop_worker(worker)
        server.stop()
    assert_each_once(server, event, subscribers)
    assert not Alert.objects.filter(failed_at__isnull=False).exists()


def test_a_worker_killed_mid_batch_sends_no_duplicate_and_a_new_one_sends_the_rest(
    broker, worker_env, smtp_port, make_commitment
):
    """The SMTP server answers RCPT TO slowly, so most of the worker's time is spent with a
    mail not yet accepted: it is killed there, after some mails arrived. The killed
    worker's open transaction (its claim of that mail) is rolled back by PostgreSQL; a
    new worker, its sending queued by the sweep, sends every mail that did not arrive,
    and none that did."""
    server = SMTPServer(port=smtp_port).start()
    server.handler.rcpt_delay = 0.5
    commitment = make_commitment()
    subscribers = followers(commitment, 12)
    worker = start_worker(worker_env, heartbeat=False)
    try:
        event = record_in_another_process(worker_env, commitment)
        # Killed with a good part of the wait in RCPT TO still ahead: the mail cannot
        # have been accepted (and the claim committed) by the time SIGKILL lands.
        wait_until(
            lambda: server.count() >= 4 and server.holding_rcpt(at_least=0.25),
            what="some mails, and the next one in RCPT TO",
            worker=worker,
        )
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
    arrived = server.count()
    assert 4 <= arrived < 12
    # The killed worker's backend notices its client gone and rolls the claim back: the
    # rows say exactly what arrived.
    wait_until(
        lambda: Alert.objects.filter(sent_at__isnull=False).count() == arrived,
        what="the killed worker's claim to be rolled back",
    )

    server.handler.rcpt_delay = 0
    worker = start_worker(worker_env, heartbeat=False)
    try:
        wait_until(
            lambda: Alert.objects.filter(sent_at__isnull=False).count() == 12,
            what="the new worker to send the rest",
            worker=worker,
            every=(1.0, lambda: broker.send_task("commitments.tasks.sweep_outbox")),
        )
        time.sleep(1)
    finally:
        stop_worker(worker)
        server.stop()
    assert_each_once(server, event, subscribers)
