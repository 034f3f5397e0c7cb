"""Celery tasks: thin wrappers that take ids, re-fetch, and call a service.

Owns the tasks' names, time limits, retries and acknowledgement. It imports services and
nothing imports it back: services queue work through ``queueing.py`` by task name. No rule
lives here.

Time limits are explicit. ``acks_late`` is set only where running twice is harmless (the
flag job and the checks are idempotent, archiving skips an archived source), and the
broker's visibility timeout (one hour, ``CELERY_BROKER_TRANSPORT_OPTIONS``) is longer than
each of those tasks' hard limit, so a message is redelivered only when its worker died.
"""

from __future__ import annotations

import logging
import random
import smtplib
import time

from celery import shared_task
from django.conf import settings

from . import queueing
from .services import (
    alerts,
    archiving,
    digest,
    flags,
    links,
    outbox,
    snapshots,
    subscriptions,
    webhooks,
)

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True, soft_time_limit=20, time_limit=30)
def ping(message: str = "ping") -> str:
    """A health check for the worker and its broker: logs and returns the message."""
    logger.warning("pong: %s", message)
    return message


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=9 * 60, time_limit=10 * 60)
def refresh_flags() -> str:
    """Raise and resolve flags (no recent progress, deadline passed, sources unavailable).
    One transaction: a worker killed halfway leaves nothing, and the next run does it all."""
    report = flags.flags_refresh()
    logger.info("refresh_flags: %s", report)
    return str(report)


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=9 * 60, time_limit=10 * 60)
def flag_stalled() -> str:
    """Deprecated name of ``refresh_flags``, kept for one release so that messages queued
    (or a beat schedule written) under the old name still run."""
    logger.warning("commitments.tasks.flag_stalled is deprecated: use refresh_flags.")
    return refresh_flags()


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=45 * 60, time_limit=50 * 60)
def check_sources() -> str:
    """Check every source due for a check, in committed batches (a rerun resumes)."""
    report = links.sources_check_links()
    logger.info("check_sources: %s", report)
    return str(report)


#: A countdown longer than the broker's visibility timeout (one hour on Redis) gets the
#: message delivered again while it waits; past this, the weekly sweep tries again.
MAX_COUNTDOWN = 45 * 60


def _backoff(retries: int, retry_after: float) -> int:
    """At least what the service asked for; doubling from a minute; at most 45 minutes."""
    wait = max(retry_after, 60 * 2**retries) + random.uniform(0, 15)
    return int(min(wait, MAX_COUNTDOWN))


@shared_task(
    name=queueing.ARCHIVE_SOURCE,
    bind=True,
    ignore_result=True,
    acks_late=True,
    rate_limit=settings.WAYBACK_RATE_LIMIT,
    max_retries=settings.WAYBACK_MAX_ATTEMPTS,
    soft_time_limit=settings.WAYBACK_TIMEOUT_SECONDS + 30,
    time_limit=settings.WAYBACK_TIMEOUT_SECONDS + 60,
)
def archive_source(self, source_id: int) -> str:
    """Ask the Wayback Machine to archive one source; retry with backoff when rate limited
    or the service fails. Returns early if the source is gone or already archived."""
    outcome = archiving.source_archive(source_id=source_id)
    if outcome is None:
        return "nothing to do"
    if outcome.archived:
        return outcome.archive_url
    if outcome.retry_after is not None and self.request.retries < self.max_retries:
        raise self.retry(countdown=_backoff(self.request.retries, outcome.retry_after))
    logger.warning("archive_source %s gave up: %s", source_id, outcome.error)
    return outcome.error


@shared_task(ignore_result=True, soft_time_limit=60, time_limit=90)
def archive_pending_sources() -> int:
    """Enqueue archiving for sources never archived (or not asked about for a day)."""
    ids = archiving.sources_pending_archive()
    for source_id in ids:
        archive_source.delay(source_id)
    return len(ids)


# Not acks_late: an email sent twice is worse than one a day late (the next digest covers
# everything since the last one recorded).
@shared_task(ignore_result=True, soft_time_limit=4 * 60, time_limit=5 * 60)
def send_editors_digest() -> str:
    sent = digest.editors_digest_send()
    return f"sent to {sent.recipients}" if sent else "nothing new"


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=25 * 60, time_limit=30 * 60)
def write_data_snapshot() -> str:
    """Write today's dated snapshot of the public data (kept if already written) and
    prune the old ones. Safe to run twice."""
    report = snapshots.snapshot_write()
    logger.info("write_data_snapshot: %s", report)
    return str(report)


# --- Following a promise (issue 12) ----------------------------------------------------------


@shared_task(
    name=queueing.FAN_OUT_EVENT, ignore_result=True, acks_late=True,
    soft_time_limit=4 * 60, time_limit=5 * 60,
)
def fan_out_event(event_id: int) -> str:
    """Write one event's recipients (safe twice: the second run finds it fanned out)."""
    written = outbox.event_fan_out(event_id=event_id)
    return "nothing to do" if written is None else f"{written[0]} alerts, {written[1]} webhooks"


#: How long one ``deliver_webhooks`` run keeps taking due deliveries before it stops and
#: leaves the rest to the next run (the sweep, every ``WEBHOOKS_SWEEP_EVERY_SECONDS``).
WEBHOOKS_TASK_BUDGET_SECONDS = 120


@shared_task(
    name=queueing.DELIVER_WEBHOOKS, ignore_result=True, acks_late=True,
    soft_time_limit=9 * 60, time_limit=10 * 60,
)
def deliver_webhooks() -> str:
    """Post due webhook deliveries, a few at a time, until none is due or the budget is
    spent. Safe twice and side by side: each delivery is claimed by one worker, and one
    whose worker died is due again when its claim runs out."""
    started = time.monotonic()
    total = webhooks.DeliveryReport()
    while time.monotonic() - started < WEBHOOKS_TASK_BUDGET_SECONDS:
        report = webhooks.webhooks_deliver_due(limit=5)
        for name in ("attempted", "delivered", "retrying", "failed"):
            setattr(total, name, getattr(total, name) + getattr(report, name))
        if report.attempted < 5:
            break
    if total.attempted:
        logger.info("deliver_webhooks: %s", total)
    return str(total)


@shared_task(
    name=queueing.FAN_OUT_EVENTS, ignore_result=True, acks_late=True,
    soft_time_limit=9 * 60, time_limit=10 * 60,
)
def fan_out_events(event_ids: list[int]) -> str:
    """Write the recipients of several events, one transaction each (the flag job's events,
    queued in chunks rather than one message per flag). Safe twice, like ``fan_out_event``;
    whatever a killed run leaves, the outbox sweep fans out."""
    done = sum(outbox.event_fan_out(event_id=event_id) is not None for event_id in event_ids)
    return f"{done} of {len(event_ids)} events fanned out"


# --- Subscriptions by email (issue 12) ---------------------------------------------------


# Not acks_late: a worker killed after the mail went out and before the stamp committed
# would send it again; a lost message is caught by the confirmations sweep instead.
@shared_task(
    name=queueing.SEND_CONFIRMATION,
    ignore_result=True,
    autoretry_for=(OSError, smtplib.SMTPException),
    retry_backoff=60,
    retry_backoff_max=30 * 60,
    max_retries=6,
    soft_time_limit=settings.EMAIL_TIMEOUT * 3 + 30,
    time_limit=settings.EMAIL_TIMEOUT * 3 + 60,
)
def send_subscription_confirmation(subscriber_id: int) -> str:
    """Send one address its confirmation email, if still due. SMTP down: retried with
    backoff, and after that the sweep below tries again."""
    sent = subscriptions.subscription_confirmation_send(subscriber_id=subscriber_id)
    return "sent" if sent else "nothing to do"


@shared_task(ignore_result=True, soft_time_limit=9 * 60, time_limit=10 * 60)
def send_pending_confirmations() -> str:
    """The sweep: confirmation emails due but never sent (the broker was down when they
    were asked for, or SMTP stayed down past the retries). Stops at the first SMTP
    failure; the next run resumes."""
    sent = 0
    for subscriber_id in subscriptions.confirmations_pending():
        try:
            sent += subscriptions.subscription_confirmation_send(subscriber_id=subscriber_id)
        except smtplib.SMTPRecipientsRefused as exc:
            logger.warning("Confirmation email refused for subscriber %s: %s", subscriber_id, exc)
        except (OSError, smtplib.SMTPException) as exc:
            logger.warning("Confirmation emails paused: %s: %s", type(exc).__name__, exc)
            break
    return f"{sent} sent"


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=4 * 60, time_limit=5 * 60)
def purge_unconfirmed_subscriptions() -> str:
    """Delete subscriptions never confirmed in time, and addresses left with none (safe
    twice: the second run finds nothing)."""
    subs, addresses = subscriptions.subscriptions_purge_unconfirmed()
    return f"{subs} subscriptions, {addresses} addresses deleted"


@shared_task(
    name=queueing.SEND_ALERTS, ignore_result=True, acks_late=True,
    soft_time_limit=settings.ALERTS_SEND_BUDGET_SECONDS + 60,
    time_limit=settings.ALERTS_SEND_BUDGET_SECONDS + 90,
)
def send_alerts() -> str:
    """Send due each-change alerts, batch after batch, for at most
    ``ALERTS_SEND_BUDGET_SECONDS``. Safe twice and at once: each mail is claimed and
    committed on its own (``services.alerts``); what is left, the sweep queues again."""
    report = alerts.alerts_send_for(seconds=settings.ALERTS_SEND_BUDGET_SECONDS)
    return str(report)


@shared_task(
    name=queueing.SEND_ALERT_DIGESTS, ignore_result=True, acks_late=True,
    soft_time_limit=25 * 60, time_limit=30 * 60,
)
def send_alert_digests(retries_only: bool = False) -> str:
    """The readers' daily digest; with ``retries_only`` (queued by the sweep), the retry of
    those that failed. Safe twice: each address's mail is claimed and committed on its own."""
    return str(alerts.alerts_digest_send(retries_only=retries_only))


@shared_task(ignore_result=True, acks_late=True, soft_time_limit=50, time_limit=55)
def sweep_outbox() -> str:
    """Every minute: fan out events whose task was lost; queue due alerts and webhooks."""
    return str(alerts.outbox_sweep())
