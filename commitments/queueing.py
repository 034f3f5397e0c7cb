"""The one seam through which code outside ``tasks.py`` hands work to the Celery worker:
by task name, so no service imports ``tasks.py`` (which imports the services).

Owns how a task is queued: after the current transaction commits, with the broker's short
publish timeouts (``CELERY_BROKER_SOCKET_TIMEOUT``), and never failing the caller: an
editor's save never waits on or fails for the broker. A task that could not be queued is
logged, and the periodic sweep that owns that work queues it later. It must not hold a
rule of what to queue or when; the caller decides.
"""

from __future__ import annotations

import logging

from celery import current_app
from django.db import transaction

logger = logging.getLogger(__name__)

#: Task names, the contract between the seam's callers and ``tasks.py``.
ARCHIVE_SOURCE = "commitments.tasks.archive_source"
FAN_OUT_EVENT = "commitments.tasks.fan_out_event"
FAN_OUT_EVENTS = "commitments.tasks.fan_out_events"
SEND_ALERTS = "commitments.tasks.send_alerts"
SEND_ALERT_DIGESTS = "commitments.tasks.send_alert_digests"
DELIVER_WEBHOOKS = "commitments.tasks.deliver_webhooks"
SEND_CONFIRMATION = "commitments.tasks.send_subscription_confirmation"


def enqueue_now(task_name: str, *args, what: str, fallback: str) -> bool:
    """Queue ``task_name(*args)`` now. On a broker failure, log "Could not queue <what>
    (...); <fallback>." and return False; never raise."""
    try:
        # A registered task is sent as ``.apply_async()`` (eager mode included); by name
        # otherwise, so this module never imports the tasks.
        current_app.signature(task_name, args=args).apply_async()
    except Exception as exc:  # noqa: BLE001 - kombu and redis-py raise many kinds
        logger.warning("Could not queue %s (%s: %s); %s.", what, type(exc).__name__, exc, fallback)
        return False
    return True


def enqueue_on_commit(task_name: str, *args, what: str, fallback: str) -> None:
    """``enqueue_now`` once the current transaction commits (at once outside one)."""
    transaction.on_commit(
        lambda: enqueue_now(task_name, *args, what=what, fallback=fallback), robust=True
    )
