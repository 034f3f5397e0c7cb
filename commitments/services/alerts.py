"""Email alerts, sent from the outbox: one mail per event and address ("each change"), the
daily digest, and the periodic sweep that catches whatever a lost task left behind.

Owns the alert mail (its templates, subject and headers: RFC 8058 one-click unsubscribe,
a Message-ID that is the per-recipient idempotency key), how due alerts are claimed and
sent, the retry backoff, and what the sweep does. It must not decide who follows an event
(``services/outbox.py``), build an event's payload (``events.py``), sign links
(``alert_links.py``) or post webhooks (``services/webhooks.py``); it hands work to the
worker through ``queueing.py`` only.

Nothing lost, nothing twice. A due alert is claimed with ``SELECT ... FOR UPDATE SKIP
LOCKED`` in a transaction of its own, marked sent in that transaction, and the transaction
commits the moment the SMTP server has accepted the mail: two workers never hold the same
row, and a worker killed mid-batch (its connection drops, PostgreSQL rolls its open
transaction back) leaves every mail it had not handed over still pending. The one mail in
flight at the kill may have been accepted without the commit; sent again, it carries the
same Message-ID, built from (event, subscriber), so receiving systems drop the repeat.
One transaction per message, rather than per group, because a group would be sent again
whole after a kill. The reads are per batch: one query fetches a batch's alerts with
their events and subscribers, however many there are.

A transient failure (nothing listening, a timeout, a 4xx) never gives up: the alert
stays pending, ``attempts`` + 1, retried after a doubling delay from
``ALERTS_RETRY_FIRST_SECONDS`` (30 s) capped at ``ALERTS_RETRY_MAX_SECONDS``. Only a
permanent refusal of the recipient (a 5xx reply to RCPT TO, or to the message itself)
marks that one alert failed, with the server's words.

Two languages (issue 13): each mail is in its reader's language (``Subscriber.language``):
rendered inside ``translation.override``, from the payload ``events.localized`` gives for
that language (the editors' words in it where they wrote them, else the English, marked),
with links to the pages in that language. An event's mail is rendered once per language
in a batch, not once per reader.
"""

from __future__ import annotations

import datetime
import logging
import re
import smtplib
import socket
import time
from collections import defaultdict
from dataclasses import dataclass, field
from urllib.parse import urlsplit

from django.conf import settings
from django.core.mail import EmailMultiAlternatives, get_connection
from django.db import transaction
from django.db.models import F, Q, QuerySet
from django.template.loader import render_to_string
from django.utils import formats, timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from .. import alert_links, events, queueing
from ..models import Alert, OutboxEvent, Subscriber, WebhookDelivery
from ..querysets import PENDING_DELIVERY
from . import outbox
from .subscriptions import email_language

logger = logging.getLogger(__name__)

SUBJECT_MAX = 150
#: Stand-ins for a subscriber's own links in a mail rendered once per event: signed links
#: are URL-safe text, so they survive escaping unchanged and are put in per recipient.
_MANAGE, _UNSUBSCRIBE = "@@manage-url@@", "@@unsubscribe-url@@"


@dataclass
class SendReport:
    sent: int = 0
    deferred: int = 0
    failed: int = 0
    #: The server could not be reached: the run stopped, the rest waits for the retry.
    stopped: bool = False
    errors: list[str] = field(default_factory=list)

    @property
    def handled(self) -> int:
        return self.sent + self.deferred + self.failed

    def __str__(self):
        text = f"{self.sent} sent, {self.deferred} deferred, {self.failed} failed"
        return text + (" (SMTP unreachable: stopped)" if self.stopped else "")


@dataclass
class SweepReport:
    fanned_out: int = 0
    queued: list[str] = field(default_factory=list)
    pruned: int = 0

    def __str__(self):
        queued = ", ".join(self.queued) or "nothing"
        return (
            f"{self.fanned_out} events fanned out; queued {queued}; {self.pruned} old alerts pruned"
        )


# --- The mail ---------------------------------------------------------------------------------


def site_domain() -> str:
    return urlsplit(settings.SITE_URL).hostname or "localhost"


def alert_message_id(event: OutboxEvent, subscriber_id: int) -> str:
    """The per-recipient idempotency key, as the receiving systems see it: the same
    whenever this event's mail to this address is sent again."""
    return f"<alert.{event.uuid.hex}.{subscriber_id}@{site_domain()}>"


def digest_message_id(subscriber_id: int, day: datetime.date) -> str:
    return f"<digest.{subscriber_id}.{day.isoformat()}@{site_domain()}>"


#: Any run of white space but the no-break ones French puts before ":" (issue 13).
_BREAKING_SPACE = re.compile(r"[^\S\u00a0\u202f]+")


def one_line(text, limit: int = SUBJECT_MAX) -> str:
    """Plain text on one line (header injection is refused by Django anyway), trimmed; a
    no-break space stays one."""
    text = _BREAKING_SPACE.sub(" ", str(text or "")).strip()
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def subject_name(payload: dict) -> str:
    """What the event is about, in words: the commitment's title, else the actor's or the
    topic's name, else the site's."""
    for key, name in (("commitment", "title"), ("actor", "name"), ("topic", "name")):
        value = payload.get(key)
        if isinstance(value, dict) and value.get(name):
            return str(value[name])
    return settings.SITE_NAME


def alert_subject(payload: dict) -> str:
    headline = payload.get("headline") or _("Something changed")
    return one_line(
        _("%(subject)s: %(headline)s") % {"subject": subject_name(payload), "headline": headline}
    )


def _event_context(event: OutboxEvent, language: str | None = None) -> dict:
    """The event's mail context in ``language`` (the active one by default)."""
    payload = event.payload if isinstance(event.payload, dict) else {}
    payload = events.localized(payload, language or translation.get_language())
    return {
        "event": event,
        "p": payload,
        "about": subject_name(payload),
        "sources": [s for s in payload.get("sources") or [] if isinstance(s, dict)],
        "changes": [c for c in payload.get("changes") or [] if isinstance(c, dict)],
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "manage_url": _MANAGE,
        "unsubscribe_url": _UNSUBSCRIBE,
    }


@dataclass(frozen=True)
class Rendered:
    subject: str
    text: str
    html: str


def event_render(event: OutboxEvent, language: str | None = None) -> Rendered:
    """The event's mail in ``language`` (the site's by default) with stand-ins for the
    reader's links: rendered once per event, language and batch, whatever the number of
    readers."""
    with translation.override(email_language(language)):
        context = _event_context(event)
        return Rendered(
            subject=alert_subject(context["p"]),
            text=render_to_string("alerts/mail/event.txt", context),
            html=render_to_string("alerts/mail/event.html", context),
        )


def _links(subscriber: Subscriber) -> tuple[str, str]:
    """The reader's own links, to the pages in their language."""
    with translation.override(email_language(subscriber.language)):
        return alert_links.manage_url(subscriber), alert_links.unsubscribe_url(subscriber)


def _personal(text: str, manage: str, unsubscribe: str) -> str:
    return text.replace(_MANAGE, manage).replace(_UNSUBSCRIBE, unsubscribe)


def _message(
    *, subscriber: Subscriber, rendered: Rendered, message_id: str, connection
) -> EmailMultiAlternatives:
    manage, unsubscribe = _links(subscriber)
    message = EmailMultiAlternatives(
        subject=rendered.subject,
        body=_personal(rendered.text, manage, unsubscribe),
        to=[subscriber.email],
        connection=connection,
        headers={
            "Message-ID": message_id,
            # RFC 8058: a mail client's "unsubscribe" button POSTs
            # List-Unsubscribe=One-Click to this address, no page in between.
            "List-Unsubscribe": f"<{unsubscribe}>",
            "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
            "Auto-Submitted": "auto-generated",
            "Content-Language": email_language(subscriber.language),
        },
    )
    message.attach_alternative(_personal(rendered.html, manage, unsubscribe), "text/html")
    return message


def alert_message(alert: Alert, *, connection=None) -> EmailMultiAlternatives:
    """One alert's mail (the event and subscriber already fetched with it)."""
    return _message(
        subscriber=alert.subscriber,
        rendered=event_render(alert.event, alert.subscriber.language),
        message_id=alert_message_id(alert.event, alert.subscriber_id),
        connection=connection,
    )


# --- Sending ----------------------------------------------------------------------------------


def retry_delay(attempts: int) -> datetime.timedelta:
    """``ALERTS_RETRY_FIRST_SECONDS`` after the first failure, doubling, at most
    ``ALERTS_RETRY_MAX_SECONDS``."""
    seconds = settings.ALERTS_RETRY_FIRST_SECONDS * 2 ** max(min(attempts, 30) - 1, 0)
    return datetime.timedelta(seconds=min(seconds, settings.ALERTS_RETRY_MAX_SECONDS))


def _smtp_text(code, message) -> str:
    if isinstance(message, bytes):
        message = message.decode("utf-8", "replace")
    return f"{code} {message}".strip()


def classify(exc: BaseException) -> tuple[str, str]:
    """("permanent" | "message" | "connection", the error in words). Permanent: the server
    refused this recipient or this message for good (5xx). Message: a 4xx for this
    message; try it later, carry on with the others. Connection: the server is unreachable
    or went away; stop the run."""
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        code, message = next(iter(exc.recipients.values()), (0, b""))
        kind = "permanent" if 500 <= int(code) < 600 else "message"
        return kind, _smtp_text(code, message)
    if isinstance(exc, smtplib.SMTPResponseException):
        text = _smtp_text(exc.smtp_code, exc.smtp_error)
        if exc.smtp_code == 421:  # "service not available, closing channel"
            return "connection", text
        if isinstance(exc, (smtplib.SMTPDataError, smtplib.SMTPSenderRefused)):
            return ("permanent" if 500 <= exc.smtp_code < 600 else "message"), text
        return "connection", text
    return "connection", f"{type(exc).__name__}: {exc}".strip()


#: What the SMTP backend raises when the server cannot be reached or talked to.
SMTP_ERRORS = (smtplib.SMTPException, OSError, socket.timeout)


def _due(now: datetime.datetime, *, digest: bool) -> Q:
    return Q(PENDING_DELIVERY, digest=digest, next_attempt_at__lte=now)


def _defer(alerts, error: str, now: datetime.datetime) -> int:
    """Put alerts back for a later try (``alerts``: ids, or a queryset of them): attempts
    + 1, the next try after the backoff. One UPDATE per attempt count among them (rows
    tried more often wait longer), however many rows: a whole day's digest is deferred
    in a few statements. A row another sender holds is waited for, then left if sent."""
    if not isinstance(alerts, QuerySet):
        alerts = Alert.objects.filter(pk__in=list(alerts))
    pending = alerts.pending().order_by()
    deferred = 0
    for attempts in sorted(set(pending.values_list("attempts", flat=True))):
        tries = attempts + 1
        deferred += pending.filter(attempts=attempts).update(
            attempts=tries, next_attempt_at=now + retry_delay(tries), last_error=error[:2000]
        )
    return deferred


def _fail(alert_ids, error: str, now: datetime.datetime) -> int:
    return (
        Alert.objects.pending()
        .filter(pk__in=alert_ids)
        .update(attempts=F("attempts") + 1, failed_at=now, last_error=error[:2000])
    )


def _claim(alert_ids, now: datetime.datetime) -> list[int]:
    """Inside the caller's transaction: lock the still-pending rows among ``alert_ids``
    that no other worker holds (``SELECT ... FOR UPDATE SKIP LOCKED``), and mark them
    sent. The caller commits once the server has accepted the mail, or rolls back. One
    alert (each-change mail): one ``UPDATE ... WHERE id IN (SELECT ... FOR UPDATE SKIP
    LOCKED)``; several (a digest): the select, then the update."""
    pending = (
        Alert.objects.select_for_update(skip_locked=True)
        .pending()
        .filter(pk__in=alert_ids)
        .order_by()
    )
    mark = {"sent_at": now, "attempts": F("attempts") + 1, "last_error": ""}
    if len(alert_ids) == 1:
        claimed = Alert.objects.filter(pk__in=pending.values("pk")).update(**mark)
        return list(alert_ids) if claimed else []
    claimed = list(pending.values_list("pk", flat=True))
    if claimed:
        Alert.objects.filter(pk__in=claimed).update(**mark)
    return claimed


class _Unreachable(Exception):
    pass


def _send_claimed(alert_ids, build, now, report: SendReport, *, connection) -> bool:
    """Claim ``alert_ids``, build their one mail with ``build(claimed_ids)``, send it and
    commit. Updates ``report``; returns False when the server is unreachable (stop)."""
    try:
        with transaction.atomic():
            # Marked with the clock's time, not the batch's: when this mail went.
            claimed = _claim(alert_ids, timezone.now())
            if not claimed:
                return True
            message = build(claimed)
            if not connection.send_messages([message]):
                raise _Unreachable("the SMTP backend sent nothing")
            # Leaving the block commits: the server has the mail, the rows say so.
    except (_Unreachable, *SMTP_ERRORS) as exc:
        if isinstance(exc, _Unreachable):
            kind, error = "connection", str(exc)
        else:
            kind, error = classify(exc)
        report.errors.append(error)
        if kind == "permanent":
            report.failed += _fail(alert_ids, error, now)
            logger.warning("Alert mail refused for good (%s): %s", alert_ids, error)
            return True
        report.deferred += _defer(alert_ids, error, now)
        if kind == "connection":
            report.stopped = True
            return False
        return True
    report.sent += len(claimed)
    return True


def _open(connection, report: SendReport, pending, now) -> bool:
    try:
        connection.open()
    except SMTP_ERRORS as exc:
        _kind, error = classify(exc)
        report.errors.append(error)
        deferred = _defer(pending, error, now)
        report.deferred += deferred
        report.stopped = True
        logger.warning("SMTP unreachable, %s alerts deferred: %s", deferred, error)
        return False
    return True


def _close(connection) -> None:
    try:
        connection.close()
    except SMTP_ERRORS:  # the server already went away; nothing to tidy
        pass


def alerts_send_due(*, limit: int = 200, now: datetime.datetime | None = None) -> SendReport:
    """Send one batch of due each-change alerts (at most ``limit``) over one SMTP
    connection. Reads the batch, its events and subscribers in one query; each mail is
    then claimed, sent and committed on its own (see the module's docstring)."""
    now = now or timezone.now()
    report = SendReport()
    batch = list(
        Alert.objects.filter(_due(now, digest=False))
        .select_related("event", "subscriber")
        .order_by("next_attempt_at", "pk")[:limit]
    )
    if not batch:
        return report
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    if not _open(connection, report, [a.pk for a in batch], now):
        return report
    rendered: dict[tuple[int, str], Rendered] = {}
    try:
        for index, alert in enumerate(batch):
            key = (alert.event_id, email_language(alert.subscriber.language))
            if key not in rendered:
                rendered[key] = event_render(alert.event, key[1])

            # Built once claimed: a row another sender took costs one statement, no mail.
            def build(_claimed, alert=alert, key=key):
                return _message(
                    subscriber=alert.subscriber,
                    rendered=rendered[key],
                    message_id=alert_message_id(alert.event, alert.subscriber_id),
                    connection=connection,
                )

            if not _send_claimed([alert.pk], build, now, report, connection=connection):
                # The server went away: what this run had not tried waits for the retry.
                rest = [a.pk for a in batch[index + 1 :]]
                report.deferred += _defer(rest, report.errors[-1], now)
                break
    finally:
        _close(connection)
    if report.handled:
        logger.info("alerts_send_due: %s", report)
    return report


# --- The daily digest -------------------------------------------------------------------------


def digest_render(subscriber: Subscriber, alerts: list[Alert], day: datetime.date) -> Rendered:
    """One mail listing ``alerts`` (with their events), grouped by what they are about,
    in the subscriber's language."""
    with translation.override(email_language(subscriber.language)):
        return _digest_render(alerts, day)


def _digest_render(alerts: list[Alert], day: datetime.date) -> Rendered:
    groups: dict[str, list[dict]] = defaultdict(list)
    for alert in sorted(alerts, key=lambda a: (a.event.occurred_at, a.event_id)):
        context = _event_context(alert.event)
        groups[context["about"]].append(context)
    count = len(alerts)
    context = {
        "groups": sorted(groups.items(), key=lambda item: item[0].lower()),
        "count": count,
        "day": day,
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
        "manage_url": _MANAGE,
        "unsubscribe_url": _UNSUBSCRIBE,
    }
    subject = ngettext(
        "%(site)s: %(count)s change you follow, %(day)s",
        "%(site)s: %(count)s changes you follow, %(day)s",
        count,
    ) % {"site": settings.SITE_NAME, "count": count, "day": formats.date_format(day, "j F Y")}
    return Rendered(
        subject=one_line(subject),
        text=render_to_string("alerts/mail/digest.txt", context),
        html=render_to_string("alerts/mail/digest.html", context),
    )


def _digest_subscribers(now, after: int, limit: int, retries_only: bool) -> list[int]:
    due = Alert.objects.filter(_due(now, digest=True), subscriber_id__gt=after)
    if retries_only:
        due = due.filter(attempts__gt=0)
    return list(
        due.order_by("subscriber_id").values_list("subscriber_id", flat=True).distinct()[:limit]
    )


def alerts_digest_send(
    *, now: datetime.datetime | None = None, subscribers: int = 200, retries_only: bool = False
) -> SendReport:
    """Send every address with due digest alerts one mail listing them; the included
    alerts are marked sent when the server accepted it. Batches of ``subscribers``
    addresses: one query for the addresses, one for all their due alerts with events.
    The same retry rules as each-change alerts; the Message-ID is (address, day).
    ``retries_only``: only the addresses whose digest failed before (what the sweep
    queues between two daily runs)."""
    now = now or timezone.now()
    day = timezone.localdate(now)
    report = SendReport()
    ids = _digest_subscribers(now, 0, subscribers, retries_only)
    if not ids:
        return report
    connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
    # Unreachable: the whole day's digest waits for the retry (the sweep queues it).
    if not _open(connection, report, Alert.objects.filter(_due(now, digest=True)), now):
        return report
    try:
        while ids:
            due = defaultdict(list)
            for alert in (
                Alert.objects.filter(_due(now, digest=True), subscriber_id__in=ids)
                .select_related("event", "subscriber")
                .order_by("pk")
            ):
                due[alert.subscriber_id].append(alert)
            for subscriber_id in ids:
                alerts = due.get(subscriber_id)
                if not alerts:
                    continue

                def build(claimed, alerts=alerts, subscriber_id=subscriber_id):
                    included = [a for a in alerts if a.pk in set(claimed)]
                    return _message(
                        subscriber=included[0].subscriber,
                        rendered=digest_render(included[0].subscriber, included, day),
                        message_id=digest_message_id(subscriber_id, day),
                        connection=connection,
                    )

                if not _send_claimed(
                    [a.pk for a in alerts], build, now, report, connection=connection
                ):
                    # The server went away: every digest not yet sent waits for the retry.
                    rest = Alert.objects.filter(_due(now, digest=True))
                    report.deferred += _defer(rest, report.errors[-1], now)
                    return report
            ids = _digest_subscribers(now, ids[-1], subscribers, retries_only)
    finally:
        _close(connection)
    if report.handled:
        logger.info("alerts_digest_send: %s", report)
    return report


# --- The sweep --------------------------------------------------------------------------------


def due_alerts_exist(now: datetime.datetime) -> bool:
    return Alert.objects.filter(_due(now, digest=False)).exists()


def digest_retries_due(now: datetime.datetime) -> bool:
    """Digest alerts whose digest failed (``attempts`` > 0) and whose retry time came:
    the daily run is a day away, so the sweep queues them. Untried digest alerts wait for
    the daily run."""
    return Alert.objects.filter(_due(now, digest=True), attempts__gt=0).exists()


def alerts_prune(*, now: datetime.datetime | None = None) -> int:
    """Delete alerts delivered or given up more than ``ALERTS_KEEP_DAYS`` ago: one
    statement. Pending alerts are never pruned."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(days=settings.ALERTS_KEEP_DAYS)
    deleted, _ = Alert.objects.filter(Q(sent_at__lt=cutoff) | Q(failed_at__lt=cutoff)).delete()
    return deleted


def outbox_sweep(*, now: datetime.datetime | None = None) -> SweepReport:
    """What the beat runs every ``OUTBOX_SWEEP_EVERY_SECONDS``: fan out events left
    un-fanned for over a minute (their task was lost), queue the sending of due alerts,
    digest retries and webhook deliveries, and prune old delivered alerts. Safe to run
    twice, and at once with the tasks it stands in for."""
    now = now or timezone.now()
    report = SweepReport()
    for event_id in outbox.events_pending_fan_out(older_than=datetime.timedelta(minutes=1)):
        if outbox.event_fan_out(event_id=event_id, now=now) is not None:
            report.fanned_out += 1
    if due_alerts_exist(now):
        queueing.enqueue_now(
            queueing.SEND_ALERTS, what="the sending of email alerts", fallback="the next sweep will"
        )
        report.queued.append("alerts")
    if digest_retries_due(now):
        queueing.enqueue_now(
            queueing.SEND_ALERT_DIGESTS,
            True,
            what="the retry of alert digests",
            fallback="the next sweep will",
        )
        report.queued.append("digests")
    if WebhookDelivery.objects.due(now).exists():
        queueing.enqueue_now(
            queueing.DELIVER_WEBHOOKS,
            what="the delivery of webhooks",
            fallback="the next sweep will",
        )
        report.queued.append("webhooks")
    report.pruned = alerts_prune(now=now)
    return report


def alerts_send_for(*, seconds: float, limit: int = 200) -> SendReport:
    """Send batches until nothing is due, the server is unreachable, or ``seconds`` have
    passed (what the task runs; whatever is left, the sweep queues again)."""
    total = SendReport()
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        report = alerts_send_due(limit=limit)
        total.sent += report.sent
        total.deferred += report.deferred
        total.failed += report.failed
        total.errors += report.errors[-3:]
        if report.stopped:
            total.stopped = True
            break
        if not report.handled:
            break
    return total
