"""Following by email without an account (issue 12): asking to follow something,
confirming, changing how often, unsubscribing, and forgetting what was never confirmed.

Owns the rules of a subscription request: which addresses can receive mail
(``ALERTS_REFUSED_DOMAINS``), what may be followed (public things only), the abuse limits
(requests per address and per client an hour, counted in Django's cache; at most one
confirmation email a day to an address with unconfirmed subscriptions, kept in the
database), the honeypot, and the confirmation email. We keep only the address and what it
follows: removing its last subscription deletes the address.

It must not send alerts (``services/alerts.py``) nor sign links (``alert_links.py``; it only
asks for them), and it hands the sending of a confirmation to the worker through
``queueing.py``, after the request's transaction commits.

Nothing lost: the request is written first, in its own transaction, and the confirmation
is sent afterwards by a task (``send_subscription_confirmation``) that stamps
``confirmation_sent_at`` only in the transaction in which the mail went out. When SMTP is
down the task fails without a stamp and retries; when the broker is down (or the retries
ran out) the sweep (``confirmations_pending``, every ``ALERTS_CONFIRMATION_SWEEP_MINUTES``)
sends it. The reader's request stands either way.

Two languages (issue 13): an address gets its emails in ``Subscriber.language``, the
language of the page where it asked to follow (a French page posts to ``/fr/alerts/...``),
and changes it from its manage page. A later request from the other language's page does
not change it once the address has confirmed something (only its owner may, from the
manage page); before that, the latest request's language stands, as its frequency does.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ValidationError
from django.core.mail import EmailMultiAlternatives, get_connection
from django.core.validators import EmailValidator
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef, Q
from django.template.loader import render_to_string
from django.utils import timezone, translation
from django.utils.translation import gettext as _

from .. import alert_links, languages, queueing
from ..models import Actor, Alert, Commitment, Subscriber, Subscription, Topic

logger = logging.getLogger(__name__)

#: At most one confirmation email to an address with unconfirmed subscriptions in this long.
CONFIRMATION_INTERVAL = datetime.timedelta(hours=24)


class SubscriptionThrottled(Exception):
    """Too many requests from one address or one client this hour; the sentence to show."""


@dataclass(frozen=True)
class SubscriptionRequestResult:
    """What a request did. ``outcome`` is one of ``SENT`` (a confirmation email is on its
    way), ``ALREADY_SENT`` (one went to this address in the last day: its link confirms this
    request too), ``ALREADY_CONFIRMED`` (the address already follows this; nothing sent).
    A request caught by the honeypot answers ``SENT`` and saved nothing (``saved`` False)."""

    SENT = "confirmation_sent"
    ALREADY_SENT = "confirmation_already_sent"
    ALREADY_CONFIRMED = "already_confirmed"

    outcome: str
    subscription: Subscription | None = None
    saved: bool = True


# --- Addresses ------------------------------------------------------------------------------

_EMAIL_SYNTAX = EmailValidator()


def _refused_domain(domain: str) -> str | None:
    for refused in settings.ALERTS_REFUSED_DOMAINS:
        refused = refused.strip(".").lower()
        if refused and (domain == refused or domain.endswith("." + refused)):
            return refused
    return None


def address_clean(email: str) -> str:
    """The address as kept (trimmed, its domain in lower case), or ``ValidationError``
    keyed by ``email`` saying why mail could not reach it."""
    email = (email or "").strip()
    if not email:
        raise ValidationError({"email": _("Enter your email address.")})
    if len(email) > 254:
        raise ValidationError({"email": _("This address is too long to be an email address.")})
    try:
        _EMAIL_SYNTAX(email)
    except ValidationError:
        raise ValidationError(
            {"email": _("Enter a complete email address, like name@newsroom.org.")}
        ) from None
    local, _at, domain = email.rpartition("@")
    domain = domain.lower()
    if domain.startswith("["):
        raise ValidationError(
            {
                "email": _(
                    "Use an address with a domain name (like newsroom.org), not an IP address."
                )
            }
        )
    if "." not in domain.strip("."):
        raise ValidationError(
            {
                "email": _(
                    "“%(domain)s” is not a full domain (like newsroom.org): mail cannot reach it."
                )
                % {"domain": domain}
            }
        )
    refused = _refused_domain(domain)
    if refused:
        raise ValidationError(
            {
                "email": _(
                    "Addresses at “%(domain)s” cannot receive mail (%(refused)s is reserved): "
                    "use your own address."
                )
                % {"domain": domain, "refused": refused}
            }
        )
    return f"{local}@{domain}"


# --- What may be followed ---------------------------------------------------------------------


def _subject_errors(commitment, actor, topic) -> dict[str, str]:
    given = [thing for thing in (commitment, actor, topic) if thing is not None]
    if len(given) > 1:
        return {"subject": _("Follow one commitment, actor or topic at a time.")}
    if commitment is not None and not Commitment.objects.public().filter(pk=commitment.pk).exists():
        return {"subject": _("This commitment is not published, so it cannot be followed.")}
    if actor is not None and not Actor.objects.public().filter(pk=actor.pk).exists():
        return {"subject": _("This actor has no published commitments, so it cannot be followed.")}
    if topic is not None and not Topic.objects.public().filter(pk=topic.pk).exists():
        return {"subject": _("This topic has no published commitments, so it cannot be followed.")}
    return {}


def _frequency_errors(frequency: str) -> dict[str, str]:
    if frequency not in Subscription.Frequency.values:
        return {"frequency": _("Choose “each change” or “daily digest”.")}
    return {}


# --- Abuse limits ---------------------------------------------------------------------------


def _within_hourly_limit(kind: str, value: str, limit: int, now: datetime.datetime) -> bool:
    """Count one request for ``value`` in this clock hour; False past ``limit``. The key
    holds a hash, not the address. When the cache is down the request passes: the daily
    limit on confirmation emails (in the database) still holds."""
    hour = int(now.timestamp() // 3600)
    digest = hashlib.sha256(f"{kind}:{value}".encode()).hexdigest()[:40]
    key = f"alerts.requests.{kind}.{digest}.{hour}"
    cache.add(key, 0, timeout=3600 + 60)
    try:
        count = cache.incr(key)
    except ValueError:  # the key vanished, or the cache is unavailable
        return True
    return count <= limit


def _throttle(*, email: str | None, client_ip: str | None, now: datetime.datetime) -> None:
    if email is None:
        if not _within_hourly_limit(
            "client", client_ip or "unknown", settings.ALERTS_REQUESTS_PER_CLIENT_PER_HOUR, now
        ):
            raise SubscriptionThrottled(
                _(
                    "Too many subscription requests from your connection this hour. "
                    "Try again in an hour."
                )
            )
        return
    if not _within_hourly_limit(
        "address", email.lower(), settings.ALERTS_REQUESTS_PER_ADDRESS_PER_HOUR, now
    ):
        raise SubscriptionThrottled(
            _("Too many subscription requests for this address this hour. Try again in an hour.")
        )


# --- Requests -------------------------------------------------------------------------------


def email_language(language: str | None) -> str:
    """An interface language the emails can be in (``fr``, ``en-gb``); else the site's."""
    codes = {code for code, _name in settings.LANGUAGES}
    return language if language in codes else settings.LANGUAGE_CODE


def _subscriber_for(email: str, now: datetime.datetime, language: str) -> Subscriber:
    """The address's row, made if new (in ``language``), locked for the rest of the
    transaction (two requests at once queue one behind the other). An address that follows
    nothing confirmed yet takes the language of the latest request."""
    subscriber = Subscriber.objects.select_for_update().filter(email__iexact=email).first()
    if subscriber is None:
        try:
            with transaction.atomic():
                Subscriber.objects.create(
                    email=email,
                    key=secrets.token_urlsafe(24),
                    created_at=now,
                    language=language,
                )
        except IntegrityError:
            pass  # made by a request at the same moment: use theirs
        subscriber = Subscriber.objects.select_for_update().get(email__iexact=email)
    if (
        subscriber.language != language
        and not subscriber.subscriptions.filter(confirmed_at__isnull=False).exists()
    ):
        subscriber.language = language
        subscriber.save(update_fields=["language"])
    return subscriber


def _subscription_for(subscriber, *, commitment, actor, topic, frequency, now) -> Subscription:
    match = {"subscriber": subscriber, "commitment": commitment, "actor": actor, "topic": topic}
    subscription = Subscription.objects.filter(**match).first()
    if subscription is None:
        subscription = Subscription(**match, frequency=frequency, created_at=now)
        subscription.full_clean()
        subscription.save()
    elif subscription.confirmed_at is None and subscription.frequency != frequency:
        # A second request before confirming: the latest choice stands. A confirmed
        # subscription is changed only from its manage page (a link in every email), never
        # by whoever types the address into the form.
        subscription.frequency = frequency
        subscription.save(update_fields=["frequency"])
    return subscription


def confirmation_due(subscriber: Subscriber, now: datetime.datetime) -> bool:
    """May this address be sent a confirmation email now? Only once a day."""
    sent = subscriber.confirmation_sent_at
    return sent is None or sent <= now - CONFIRMATION_INTERVAL


@transaction.atomic
def subscription_request(
    *,
    email: str,
    commitment: Commitment | None = None,
    actor: Actor | None = None,
    topic: Topic | None = None,
    frequency: str,
    client_ip: str | None,
    honeypot: str = "",
    language: str | None = None,
    now: datetime.datetime | None = None,
) -> SubscriptionRequestResult:
    """Ask to follow a commitment, an actor or a topic (none: everything) by email.

    Writes the address and a pending subscription (once, however often it is asked; a new
    frequency replaces a pending one's) and queues the confirmation email for after commit,
    unless this address was sent one in the last day. Raises ``ValidationError`` keyed by
    ``email``, ``subject`` or ``frequency``, or ``SubscriptionThrottled`` past the hourly
    limits. The honeypot filled: nothing saved, nothing sent, and the answer of a success.
    ``language``: the emails' language (the page's; the site's when not given)."""
    now = now or timezone.now()
    if (honeypot or "").strip():
        logger.info("Subscription request caught by the honeypot; nothing saved.")
        return SubscriptionRequestResult(SubscriptionRequestResult.SENT, saved=False)
    _throttle(email=None, client_ip=client_ip, now=now)
    errors: dict[str, str] = {}
    try:
        email = address_clean(email)
    except ValidationError as exc:
        errors.update({key: value[0] for key, value in exc.message_dict.items()})
    errors.update(_subject_errors(commitment, actor, topic))
    errors.update(_frequency_errors(frequency))
    if errors:
        raise ValidationError(errors)
    _throttle(email=email, client_ip=client_ip, now=now)

    subscriber = _subscriber_for(email, now, email_language(language))
    subscription = _subscription_for(
        subscriber, commitment=commitment, actor=actor, topic=topic, frequency=frequency, now=now
    )
    if subscription.confirmed_at is not None:
        return SubscriptionRequestResult(SubscriptionRequestResult.ALREADY_CONFIRMED, subscription)
    if not confirmation_due(subscriber, now):
        return SubscriptionRequestResult(SubscriptionRequestResult.ALREADY_SENT, subscription)
    queueing.enqueue_on_commit(
        queueing.SEND_CONFIRMATION,
        subscriber.pk,
        what=f"the confirmation email of subscriber {subscriber.pk}",
        fallback="the confirmations sweep will send it",
    )
    return SubscriptionRequestResult(SubscriptionRequestResult.SENT, subscription)


# --- The confirmation email -------------------------------------------------------------------


def subject_label(subscription: Subscription, language: str | None = None) -> str:
    """What a subscription follows, in words, in ``language`` (the active one by default):
    the commitment's title, the actor's name (and post) or the topic's name, in that
    language where it has one, else in the other."""
    subject = subscription.subject
    if subject is None:
        with translation.override(language or translation.get_language()):
            return _("every change on the tracker")
    if isinstance(subject, Commitment):
        return languages.translated(subject, "title", language)
    name = languages.translated(subject, "name", language)
    if isinstance(subject, Actor):
        role = languages.translated(subject, "role", language)
        return f"{name} ({role})" if role else name
    return name


def labelled(subscriptions) -> list[Subscription]:
    """``subscriptions`` as a list, each with ``label`` (``subject_label``, the active
    language) and ``url`` (its page in the active language) for the pages and mails."""
    out = list(subscriptions)
    for subscription in out:
        subscription.label = subject_label(subscription)
        subscription.url = subscription.subject_url
    return out


def confirmation_message(
    subscriber: Subscriber, pending: list[Subscription]
) -> EmailMultiAlternatives:
    """The confirmation email, in the address's language: what will be confirmed, the link
    that confirms it, and the link to manage the address's subscriptions (pages in that
    language). Plain text and HTML, from templates."""
    with translation.override(email_language(subscriber.language)):
        return _confirmation_message(subscriber, labelled(pending))


def _confirmation_message(
    subscriber: Subscriber, pending: list[Subscription]
) -> EmailMultiAlternatives:
    context = {
        "subscriber": subscriber,
        "pending": pending,
        "confirm_url": alert_links.confirm_url(subscriber),
        "manage_url": alert_links.manage_url(subscriber),
        "max_age_hours": int(settings.ALERTS_CONFIRM_MAX_AGE_HOURS),
        "site_name": settings.SITE_NAME,
        "site_url": settings.SITE_URL,
    }
    count = len(pending)
    subject = (
        _("Confirm: follow %(subject)s") % {"subject": pending[0].label}
        if count == 1
        else _("Confirm: follow %(count)s things on %(site)s")
        % {"count": count, "site": settings.SITE_NAME}
    )
    message = EmailMultiAlternatives(
        subject=subject.replace("\n", " ")[:200],
        body=render_to_string("alerts/mail/confirm_email.txt", context),
        to=[subscriber.email],
        headers={"Content-Language": translation.get_language()},
    )
    message.attach_alternative(
        render_to_string("alerts/mail/confirm_email.html", context), "text/html"
    )
    return message


def subscription_confirmation_send(
    *, subscriber_id: int, now: datetime.datetime | None = None
) -> bool:
    """Send one address its confirmation email if it is due (unconfirmed subscriptions, and
    none sent in the last day), and stamp ``confirmation_sent_at``; True when sent.

    The row stays locked while the mail goes out, so two senders at once send one email;
    the stamp commits only if the SMTP server took the mail. An SMTP error propagates (the
    task retries; nothing is stamped). The connection has ``EMAIL_TIMEOUT``."""
    now = now or timezone.now()
    with transaction.atomic():
        subscriber = Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
        if subscriber is None or not confirmation_due(subscriber, now):
            return False
        pending = list(
            subscriber.subscriptions.filter(confirmed_at__isnull=True)
            .select_related("commitment", "actor", "topic")
            .order_by("created_at", "pk")
        )
        if not pending:
            return False
        message = confirmation_message(subscriber, pending)
        message.connection = get_connection(timeout=settings.EMAIL_TIMEOUT)
        message.send()
        Subscriber.objects.filter(pk=subscriber.pk).update(confirmation_sent_at=now)
    return True


def confirmations_pending(*, now: datetime.datetime | None = None, limit: int = 500) -> list[int]:
    """Addresses whose confirmation email is due but was never sent: an unconfirmed
    subscription asked for since the last email (or none sent yet), still young enough to
    be confirmed, and no email in the last day. For the sweep."""
    now = now or timezone.now()
    max_age = datetime.timedelta(hours=settings.ALERTS_CONFIRM_MAX_AGE_HOURS)
    asked_since_last = Subscription.objects.filter(
        subscriber=OuterRef("pk"),
        confirmed_at__isnull=True,
        created_at__gt=now - max_age,
    ).filter(
        Q(subscriber__confirmation_sent_at__isnull=True)
        | Q(created_at__gt=OuterRef("confirmation_sent_at"))
    )
    return list(
        Subscriber.objects.filter(Exists(asked_since_last))
        .filter(
            Q(confirmation_sent_at__isnull=True)
            | Q(confirmation_sent_at__lte=now - CONFIRMATION_INTERVAL)
        )
        .order_by("pk")
        .values_list("pk", flat=True)[:limit]
    )


# --- Confirming, changing, unsubscribing -------------------------------------------------------


@transaction.atomic
def subscriptions_confirm(*, subscriber: Subscriber, now: datetime.datetime | None = None) -> int:
    """Confirm every pending subscription of this address (what its confirmation page
    listed); returns how many. Confirming twice changes nothing."""
    now = now or timezone.now()
    return Subscription.objects.filter(subscriber=subscriber, confirmed_at__isnull=True).update(
        confirmed_at=now
    )


@transaction.atomic
def subscription_set_frequency(*, subscription: Subscription, frequency: str) -> Subscription:
    errors = _frequency_errors(frequency)
    if errors:
        raise ValidationError(errors)
    Subscription.objects.filter(pk=subscription.pk).update(frequency=frequency)
    subscription.frequency = frequency
    return subscription


@transaction.atomic
def subscriber_set_language(*, subscriber: Subscriber, language: str) -> Subscriber:
    """The language of this address's emails, from its manage page: ``ValidationError``
    keyed by ``language`` for one the site does not have."""
    codes = [code for code, _name in settings.LANGUAGES]
    if language not in codes:
        raise ValidationError({"language": _("Choose English or French.")})
    Subscriber.objects.filter(pk=subscriber.pk).update(language=language)
    subscriber.language = language
    return subscriber


@transaction.atomic
def subscription_delete(*, subscription: Subscription) -> bool:
    """Stop following one thing. When it was the address's last, the address goes too
    (we keep only the address and what it follows). Returns whether the address went."""
    subscriber_id = subscription.subscriber_id
    Subscriber.objects.select_for_update().filter(pk=subscriber_id).first()
    Subscription.objects.filter(pk=subscription.pk).delete()
    if Subscription.objects.filter(subscriber_id=subscriber_id).exists():
        return False
    Subscriber.objects.filter(pk=subscriber_id).delete()
    return True


@transaction.atomic
def subscriber_delete(*, subscriber: Subscriber) -> None:
    """Forget an address: it, everything it follows and its alerts not yet sent."""
    Subscriber.objects.filter(pk=subscriber.pk).delete()


@transaction.atomic
def subscriptions_purge_unconfirmed(*, now: datetime.datetime | None = None) -> tuple[int, int]:
    """Delete subscriptions never confirmed within ``ALERTS_CONFIRM_MAX_AGE_HOURS`` (their
    link has expired), then the addresses left following nothing: one ``DELETE`` each.
    Returns ``(subscriptions, addresses)`` deleted; a second run deletes nothing."""
    now = now or timezone.now()
    cutoff = now - datetime.timedelta(hours=settings.ALERTS_CONFIRM_MAX_AGE_HOURS)
    # A subscription has nothing pointing at it, so Django deletes these in one statement.
    subscriptions, _ = Subscription.objects.filter(
        confirmed_at__isnull=True, created_at__lt=cutoff
    ).delete()
    # An address is deleted with its last subscription elsewhere; here the ones left by the
    # statement above. One statement: Django's delete() would first read the rows to follow
    # their alerts, and an address following nothing has none (alerts go to confirmed ones).
    quote = connection.ops.quote_name
    subscriber_table = quote(Subscriber._meta.db_table)
    subscription_table = quote(Subscription._meta.db_table)
    alert_table = quote(Alert._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"DELETE FROM {subscriber_table} WHERE NOT EXISTS ("
            f"SELECT 1 FROM {subscription_table} WHERE {subscription_table}.subscriber_id = "
            f"{subscriber_table}.id) AND NOT EXISTS (SELECT 1 FROM {alert_table} "
            f"WHERE {alert_table}.subscriber_id = {subscriber_table}.id)"
        )
        addresses = max(cursor.rowcount, 0)
    return subscriptions, addresses
