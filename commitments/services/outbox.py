"""The outbox: events written in the same transaction as the change that causes them, and
their recipients written from them, one set-based insert per kind of recipient.

Owns the rule of who follows an event (``followers_of``): the confirmed subscribers of its
commitment, of any actor or topic of that commitment, of its own actor or topic, and of
everything; and the active webhook endpoints following the same, for its type. It must not
build an event's payload (``events.py``) nor send anything (``services/alerts.py`` sends
email, ``services/webhooks.py`` posts webhooks); it hands work to the worker through
``queueing.py`` only.

Nothing lost: the event row commits with the change or not at all. Its recipients are
written by ``event_fan_out`` (a task queued on commit, and the periodic sweep for anything
the broker never got), in one transaction that also stamps ``fanned_out_at``. Nothing twice:
an event's ``key`` is unique (one event per change), and each recipient row is unique per
event and recipient (``alert_once_per_subscriber``, ``webhook_delivery_once_per_endpoint``):
that pair is the per-recipient idempotency key. An event's recipients are written once,
under its row lock, with the stamp that says so; the unique pair is the last line of
defence, so the alerts' insert needs no ``ON CONFLICT`` (which costs a speculative
insertion per row: 0.6 s of a 100,000-row fan-out).
"""

from __future__ import annotations

import datetime
import uuid

from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import BooleanField, Case, IntegerField, Max, Q, QuerySet, Value, When
from django.utils import timezone

from .. import queueing
from ..models import (
    Alert,
    Commitment,
    CommitmentActor,
    EventType,
    OutboxEvent,
    Subscription,
    WebhookDelivery,
    WebhookEndpoint,
)


def event_errors(*, type: str, key: str, payload) -> dict[str, str]:
    errors: dict[str, str] = {}
    if type not in EventType.values:
        known = ", ".join(EventType.values)
        errors["type"] = f"Unknown event type “{type}”. Known types: {known}."
    if not (key or "").strip():
        errors["key"] = "An event needs the key of the change that caused it."
    if not isinstance(payload, dict):
        errors["payload"] = "An event's payload must be a JSON object."
    return errors


def event_record(
    *,
    type: str,
    key: str,
    payload: dict,
    commitment: Commitment | None = None,
    actor=None,
    topic=None,
    endpoint: WebhookEndpoint | None = None,
    occurred_at: datetime.datetime | None = None,
) -> tuple[OutboxEvent, bool]:
    """Write one event in the caller's transaction, and queue its fan-out for when that
    transaction commits. ``(event, True)``; or, when this change was already told (its
    ``key`` is taken), ``(that event, False)`` and nothing new is written."""
    errors = event_errors(type=type, key=key, payload=payload)
    if errors:
        raise ValidationError(errors)
    existing = OutboxEvent.objects.filter(key=key).first()
    if existing is not None:
        return existing, False
    event = OutboxEvent(
        uuid=uuid.uuid4(),
        type=type,
        key=key,
        payload=payload,
        commitment=commitment,
        actor=actor,
        topic=topic,
        endpoint=endpoint,
        occurred_at=occurred_at or timezone.now(),
    )
    try:
        with transaction.atomic():
            event.save()
    except IntegrityError:
        # The same change told at the same moment by another transaction: theirs stands.
        existing = OutboxEvent.objects.filter(key=key).first()
        if existing is None:
            raise
        return existing, False
    fan_out_enqueue(event.pk)
    return event, True


def fan_out_enqueue(event_id: int) -> None:
    queueing.enqueue_on_commit(
        queueing.FAN_OUT_EVENT,
        event_id,
        what=f"the fan-out of event {event_id}",
        fallback="the outbox sweep will fan it out",
    )


# --- Who follows an event --------------------------------------------------------------------


def _following(model_objects: QuerySet, event: OutboxEvent) -> QuerySet:
    """Rows of ``model_objects`` (subscriptions or endpoints, each about one commitment,
    actor or topic, or everything) that follow ``event``."""
    everything = Q(commitment__isnull=True, actor__isnull=True, topic__isnull=True)
    match = everything
    if event.commitment_id:
        match |= Q(commitment_id=event.commitment_id)
        match |= Q(
            actor_id__in=CommitmentActor.objects.filter(
                commitment_id=event.commitment_id
            ).values("actor_id")
        )
        match |= Q(
            topic_id__in=Commitment.topics.through.objects.filter(
                commitment_id=event.commitment_id
            ).values("topic_id")
        )
    # An event about an actor or a topic (a revision of its name or description) is also
    # news to the followers of the commitments that show it.
    if event.actor_id:
        match |= Q(actor_id=event.actor_id)
        match |= Q(
            commitment_id__in=CommitmentActor.objects.filter(actor_id=event.actor_id).values(
                "commitment_id"
            )
        )
    if event.topic_id:
        match |= Q(topic_id=event.topic_id)
        match |= Q(
            commitment_id__in=Commitment.topics.through.objects.filter(
                topic_id=event.topic_id
            ).values("commitment_id")
        )
    return model_objects.filter(match)


def followers_of(event: OutboxEvent) -> QuerySet:
    """One row per confirmed address following ``event``: ``subscriber_id`` and
    ``digest`` (true only if every matching subscription of that address is a daily
    digest: an address following a commitment each change and its topic daily hears of
    the change at once, once)."""
    if event.endpoint_id or event.type == EventType.TEST:
        return Subscription.objects.none().values("subscriber_id")
    return (
        _following(Subscription.objects.filter(confirmed_at__isnull=False), event)
        .order_by()
        .values("subscriber_id")
        .annotate(
            each=Max(
                Case(
                    When(frequency=Subscription.Frequency.EACH, then=Value(1)),
                    default=Value(0),
                    output_field=IntegerField(),
                )
            )
        )
    )


def endpoints_following(event: OutboxEvent) -> list[WebhookEndpoint]:
    """The active endpoints that receive ``event``: a test event its one endpoint; any
    other the endpoints following its subject whose chosen types include it (none chosen:
    every type). Endpoints are few (an Admin registers each), so the type filter runs
    here rather than in a JSON query that SQLite lacks."""
    if event.endpoint_id:
        return list(WebhookEndpoint.objects.filter(pk=event.endpoint_id))
    endpoints = _following(WebhookEndpoint.objects.filter(is_active=True), event)
    return [e for e in endpoints if not e.event_types or event.type in e.event_types]


ALERT_COLUMNS = (
    "event_id",
    "subscriber_id",
    "digest",
    "created_at",
    "next_attempt_at",
    "attempts",
    "last_error",
)


def _alerts_insert(event: OutboxEvent, now: datetime.datetime) -> int:
    """``INSERT INTO alert ... SELECT`` the event's followers: one statement, whatever
    their number. Returns how many alerts were written."""
    if event.endpoint_id or event.type == EventType.TEST:
        return 0  # a test event goes to its endpoint only (``followers_of`` is empty)
    rows = followers_of(event).annotate(
        a_event=Value(event.pk, output_field=IntegerField()),
        a_digest=Case(
            When(each=1, then=Value(False)), default=Value(True), output_field=BooleanField()
        ),
        a_now=Value(now, output_field=Alert._meta.get_field("created_at")),
        a_zero=Value(0, output_field=IntegerField()),
        a_blank=Value(""),
    ).values_list("a_event", "subscriber_id", "a_digest", "a_now", "a_now", "a_zero", "a_blank")
    select_sql, params = rows.query.sql_with_params()
    quote = connection.ops.quote_name
    columns = ", ".join(quote(c) for c in ALERT_COLUMNS)
    sql = (
        f"INSERT INTO {quote(Alert._meta.db_table)} ({columns}) "
        f"SELECT * FROM ({select_sql}) AS followers"
    )
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return max(cursor.rowcount, 0)


@transaction.atomic
def event_fan_out(*, event_id: int, now: datetime.datetime | None = None) -> tuple[int, int] | None:
    """Write the recipients of one event: its email alerts (one ``INSERT ... SELECT``) and
    its webhook deliveries, then stamp it fanned out, in one transaction. Returns
    ``(alerts, deliveries)`` written, or None when the event is gone or already fanned out
    (a second run, or the sweep and the task at once: the row lock queues one behind the
    other, and the second finds the stamp). Queues the sending on commit."""
    now = now or timezone.now()
    event = OutboxEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None or event.fanned_out_at is not None:
        return None
    alerts = _alerts_insert(event, now)
    deliveries = WebhookDelivery.objects.bulk_create(
        [
            WebhookDelivery(event=event, endpoint=endpoint, created_at=now, next_attempt_at=now)
            for endpoint in endpoints_following(event)
        ],
        ignore_conflicts=True,
    )
    OutboxEvent.objects.filter(pk=event.pk).update(fanned_out_at=now)
    if alerts:
        queueing.enqueue_on_commit(
            queueing.SEND_ALERTS,
            what="the sending of email alerts",
            fallback="the outbox sweep will send them",
        )
    if deliveries:
        queueing.enqueue_on_commit(
            queueing.DELIVER_WEBHOOKS,
            what="the delivery of webhooks",
            fallback="the outbox sweep will deliver them",
        )
    return alerts, len(deliveries)


def events_pending_fan_out(*, older_than: datetime.timedelta, limit: int = 1000) -> list[int]:
    """Events whose recipients were never written (their task was lost), oldest first."""
    cutoff = timezone.now() - older_than
    return list(
        OutboxEvent.objects.filter(fanned_out_at__isnull=True, occurred_at__lte=cutoff)
        .order_by("occurred_at")
        .values_list("pk", flat=True)[:limit]
    )
