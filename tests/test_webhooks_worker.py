"""Webhooks through the real pipeline: events recorded by another process (as an editor's
save records them), fanned out and delivered by a real Celery worker on Redis (this file's
own database, 12) and the test's PostgreSQL, posted to a local receiver that verifies every
signature. The endpoint down then up; the worker SIGKILLed with a post in flight.

What is guaranteed, and asserted: every event reaches the endpoint; an event is only ever
sent under one ``webhook-id`` (its own); a repeat happens only when a worker died between
posting and recording the answer, and carries that same id, so the receiver drops it as
Standard Webhooks tells it to. (No sender can promise more over HTTP: the receiver may have
acted on a post whose answer never came back.)"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections import defaultdict

import pytest

from commitments import services
from commitments.models import OutboxEvent, WebhookDelivery

from .webhooks import Receiver
from .workers import ROOT, empty_redis, start_worker, stop_worker, wait_until, worker_environment

pytestmark = pytest.mark.django_db(transaction=True)

BROKER = "redis://127.0.0.1:6379/12"  # this file's own Redis database, emptied per test
#: How long a worker waits for an answer; a claim lasts 3 x this + 5 s (14 s here).
TIMEOUT_SECONDS = 3


@pytest.fixture
def broker():
    with empty_redis(BROKER) as client:
        yield client


@pytest.fixture
def receiver():
    server = Receiver()
    yield server
    server.close()


@pytest.fixture
def worker_env(tmp_path, broker):
    def env(name="worker"):
        return worker_environment(
            broker=BROKER,
            var_dir=tmp_path / name,
            ARCHIVE_ON_CREATE="0",
            WEBHOOKS_TIMEOUT_SECONDS=str(TIMEOUT_SECONDS),
            WEBHOOKS_RETRY_SCHEDULE_SECONDS="1,1,1,1,1,1,1",
            WEBHOOKS_SWEEP_EVERY_SECONDS="1",
        )

    return env





def record_events(env, commitment, count):
    """Record ``count`` events in another process, each in its own transaction, as an
    editor's saves would: each queues its fan-out on commit, through Redis."""
    script = (
        "from django.db import transaction\n"
        "from commitments.models import Commitment\n"
        "from commitments.services import outbox\n"
        "from tests.webhooks import contract_payload\n"
        f"c = Commitment.objects.get(pk={commitment.pk})\n"
        f"for n in range({count}):\n"
        "    with transaction.atomic():\n"
        "        outbox.event_record(type='status_update.created', key=f'worker:{n}',\n"
        "            payload=contract_payload(headline=f'Event {n}', commitment=c), commitment=c)\n"
    )
    subprocess.run(
        [sys.executable, "manage.py", "shell", "--no-imports", "-c", script],
        cwd=ROOT, env=env, check=True, capture_output=True, timeout=120,
    )
    return list(OutboxEvent.objects.order_by("key"))


def ids_by_event(receiver, secret):
    """For each event (its headline), the ``webhook-id`` of every post it came in, after
    checking each post's signature."""
    seen = defaultdict(list)
    for got in receiver.requests:
        message = got.verify(secret)
        assert message["data"]["id"] == got.webhook_id
        seen[message["data"]["headline"]].append(got.webhook_id)
    return seen


def test_an_event_recorded_is_fanned_out_and_delivered_once_by_the_worker(
    worker_env, receiver, make_commitment
):
    hook = services.webhook_endpoint_create(url=receiver.url())
    commitment = make_commitment()
    worker = start_worker(worker_env(), concurrency=2)
    try:
        (event,) = record_events(worker_env(), commitment, 1)
        wait_until(
            lambda: WebhookDelivery.objects.filter(sent_at__isnull=False).exists(),
            what="the delivery", worker=worker,
        )
        time.sleep(1)  # anything more would come now
    finally:
        log = stop_worker(worker)
    assert ids_by_event(receiver, hook.secret) == {"Event 0": [event.webhook_id]}
    delivery = WebhookDelivery.objects.get()
    assert delivery.attempts == 1 and delivery.attempt_log.get().status_code == 200
    assert "commitments.tasks.fan_out_event" in log
    assert "commitments.tasks.deliver_webhooks" in log and "succeeded" in log


def test_an_endpoint_down_then_up_gets_the_event_exactly_once(
    worker_env, receiver, make_commitment
):
    hook = services.webhook_endpoint_create(url=receiver.url())
    commitment = make_commitment()
    receiver.answers = [500, 500]
    worker = start_worker(worker_env(), beat=True, concurrency=2)
    try:
        (event,) = record_events(worker_env(), commitment, 1)
        wait_until(
            lambda: WebhookDelivery.objects.filter(sent_at__isnull=False).exists(),
            what="the delivery after the endpoint came back", worker=worker,
        )
        time.sleep(3)  # three more sweeps: none may post it again
    finally:
        stop_worker(worker)
    assert [r.status for r in receiver.requests] == [500, 500, 200]
    assert ids_by_event(receiver, hook.secret) == {"Event 0": [event.webhook_id] * 3}
    delivery = WebhookDelivery.objects.get()
    assert delivery.state == "delivered" and delivery.attempts == 3
    assert [a.status_code for a in delivery.attempt_log.order_by("attempted_at")] == [
        500, 500, 200,
    ]


def test_a_worker_killed_with_a_post_in_flight_loses_nothing_and_repeats_only_the_same_id(
    worker_env, receiver, make_commitment
):
    """The receiver holds the first post for a while; the worker is SIGKILLed meanwhile,
    before it can record the answer. A new worker (with the sweep) delivers everything:
    the held event again, once its claim runs out, under the same id."""
    hook = services.webhook_endpoint_create(url=receiver.url())
    commitment = make_commitment()
    receiver.pause, receiver.pause_count = 2.0, 1
    worker = start_worker(worker_env("first"), beat=True, concurrency=1)
    try:
        events = record_events(worker_env("first"), commitment, 3)
        wait_until(lambda: receiver.in_flight == 1, what="a post in flight", worker=worker)
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait(timeout=10)
    finally:
        if worker.poll() is None:
            os.killpg(worker.pid, signal.SIGKILL)
        worker.communicate(timeout=10)

    (held,) = receiver.requests
    claimed = WebhookDelivery.objects.get(event__uuid=held.webhook_id.removeprefix("msg_"))
    # Posted, never recorded: still pending, claimed (due again when the claim runs out).
    assert claimed.sent_at is None and claimed.attempts == 0
    assert WebhookDelivery.objects.filter(sent_at__isnull=False).count() == 0

    worker = start_worker(worker_env("second"), beat=True, concurrency=2)
    try:
        wait_until(
            lambda: WebhookDelivery.objects.filter(sent_at__isnull=True).count() == 0,
            seconds=120, what="every delivery", worker=worker,
        )
        time.sleep(2)
    finally:
        stop_worker(worker)

    seen = ids_by_event(receiver, hook.secret)
    expected = {f"Event {n}": events[n].webhook_id for n in range(3)}
    # Every event arrived, each only ever under its own id.
    assert {headline: set(ids) for headline, ids in seen.items()} == {
        headline: {webhook_id} for headline, webhook_id in expected.items()
    }
    # Only the post in flight at the kill came again; the others came once.
    repeats = {headline: len(ids) for headline, ids in seen.items() if len(ids) > 1}
    held_headline = held.message["data"]["headline"]
    assert repeats == {held_headline: 2}
    assert all(d.attempts == 1 for d in WebhookDelivery.objects.all())


def test_two_senders_at_once_post_each_delivery_once(receiver, make_commitment):
    """Two processes' worth of senders (threads, each with its own database connection)
    take due deliveries side by side: SKIP LOCKED and the claim give each delivery to one
    of them."""
    from concurrent.futures import ThreadPoolExecutor

    from django.db import connections

    from commitments.services import outbox

    from .webhooks import contract_payload

    hook = services.webhook_endpoint_create(url=receiver.url())
    commitment = make_commitment()
    for n in range(12):
        event, _ = outbox.event_record(
            type="status_update.created", key=f"side-by-side:{n}",
            payload=contract_payload(headline=f"Event {n}", commitment=commitment),
            commitment=commitment,
        )
        outbox.event_fan_out(event_id=event.pk)
    receiver.pause = 0.1

    def send(_):
        try:
            return services.webhooks_deliver_due(limit=12).delivered
        finally:
            connections.close_all()

    with ThreadPoolExecutor(max_workers=2) as pool:
        delivered = list(pool.map(send, range(2)))

    assert sum(delivered) == 12 and all(delivered)  # both took a share
    seen = ids_by_event(receiver, hook.secret)
    assert sorted(len(ids) for ids in seen.values()) == [1] * 12
    assert not WebhookDelivery.objects.filter(sent_at__isnull=True).exists()
