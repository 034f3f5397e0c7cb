"""Signed webhooks for newsrooms: the endpoints an Admin registers, and the delivery of
each event to them as JSON signed per the Standard Webhooks specification.

Owns the rules for an endpoint (an https address that resolves only to public addresses,
unless ``WEBHOOKS_ALLOW_HTTP`` and ``WEBHOOKS_ALLOWED_NETWORKS`` say otherwise; no
credentials in it; known event types; at most one subject), its secret, the body and
signature of a webhook, and the posting of due deliveries with retries and their log. It
must not decide who receives an event (``services/outbox.py`` writes the deliveries) nor
build an event's payload beyond the test event's; it queues work through ``queueing.py``.

Nothing lost, nothing twice (as far as HTTP allows): a delivery is claimed in a short
transaction that moves its ``next_attempt_at`` past the longest a post can take, so no
other worker posts it meanwhile; the post is made outside any transaction; its outcome
and the delivery's new state are committed together. A worker killed after posting and
before recording leaves the delivery due again when its claim runs out: the receiver may
then get the same message twice, always with the same ``webhook-id`` (the event's), which
is how Standard Webhooks tells a receiver to drop a repeat. No event is ever sent under
two ids, and none is dropped until its retries run out.

Each connection goes to an address resolved and checked just before it is made (the
address is pinned: the URL's host goes in the ``Host`` header and in TLS's server name),
so a name that resolves to a public address when registered and to a private one later
(DNS rebinding) reaches nothing private. Redirects are not followed.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import hmac
import ipaddress
import json
import secrets
import socket
import ssl
import threading
import time
import uuid
from dataclasses import dataclass, field
from urllib.parse import urlsplit, urlunsplit

import httpx
from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, QuerySet
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from .. import queueing
from ..http import describe_error
from ..models import (
    FOLLOWED_EVENT_TYPES,
    EventType,
    OutboxEvent,
    WebhookAttempt,
    WebhookDelivery,
    WebhookEndpoint,
)
from .outbox import event_record

SECRET_PREFIX = "whsec_"
#: Random bytes in a secret: Standard Webhooks asks for 24 to 64.
SECRET_BYTES = 32
#: How much of an endpoint's answer the log keeps.
RESPONSE_EXCERPT_LENGTH = 500
#: How long a host name may take to resolve.
DNS_TIMEOUT_SECONDS = 5
#: Deliveries posted by one call of ``webhooks_deliver_due`` unless told otherwise.
DELIVER_BATCH = 20


# --- Addresses ---------------------------------------------------------------------------


def resolve_host(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (``socket.getaddrinfo``), within
    ``DNS_TIMEOUT_SECONDS``. Raises ``OSError`` when it does not resolve in time.

    The resolver has no timeout of its own, so it runs in a daemon thread that is left
    behind if it hangs."""
    outcome: dict[str, object] = {}

    def run():
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="webhook-dns", daemon=True)
    thread.start()
    thread.join(DNS_TIMEOUT_SECONDS)
    if thread.is_alive():
        raise OSError(f"no answer from DNS within {DNS_TIMEOUT_SECONDS} seconds")
    if "error" in outcome:
        raise outcome["error"]  # type: ignore[misc]
    return list(dict.fromkeys(info[4][0] for info in outcome["infos"]))  # type: ignore[union-attr]


def _allowed_networks() -> list[ipaddress.IPv4Network | ipaddress.IPv6Network]:
    return [ipaddress.ip_network(n, strict=False) for n in settings.WEBHOOKS_ALLOWED_NETWORKS]


#: IPv6 ranges that carry an IPv4 address inside: the NAT64 well-known prefix (RFC 6052).
NAT64 = ipaddress.ip_network("64:ff9b::/96")


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    """The IPv4 address inside an IPv4-mapped, 6to4, Teredo or NAT64 IPv6 address."""
    if ip.ipv4_mapped:
        return ip.ipv4_mapped
    if ip.sixtofour:
        return ip.sixtofour
    if ip.teredo:
        return ip.teredo[1]
    if ip in NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(address: str) -> str | None:
    """Why a webhook may not be posted to ``address`` (an IP address, as text), or None.
    Allowed: a public (globally routable, unicast) address, or any address inside
    ``WEBHOOKS_ALLOWED_NETWORKS``. An IPv6 address that carries an IPv4 one is judged by
    both."""
    try:
        ip = ipaddress.ip_address(address.split("%", 1)[0])  # a zone index is not part of it
    except ValueError:
        return f"“{address}” is not an IP address."
    if any(ip.version == net.version and ip in net for net in _allowed_networks()):
        return None
    if ip.version == 6 and ip.ipv4_mapped:
        return address_refusal(str(ip.ipv4_mapped))  # the IPv4 address it is
    kind = None
    if ip.is_unspecified:
        kind = "an unspecified address"
    elif ip.is_loopback:
        kind = "a loopback address"
    elif ip.is_link_local:
        kind = "a link-local address"
    elif ip.is_multicast:
        kind = "a multicast address"
    elif ip.is_private:
        kind = "a private address"
    elif ip.is_reserved:
        kind = "a reserved address"
    elif ip.version == 6 and ip.is_site_local:
        kind = "a site-local address"
    elif not ip.is_global:
        # 100.64.0.0/10 (carrier-grade NAT) and other special-purpose ranges.
        kind = "a shared or special-purpose address"
    if kind is None and ip.version == 6:
        inner = _embedded_ipv4(ip)
        if inner is not None and address_refusal(str(inner)) is not None:
            kind = f"an IPv6 address carrying {inner}, which is not public"
    if kind is None:
        return None
    return f"it resolves to {ip}, {kind}; webhooks go only to public addresses"


@dataclass(frozen=True)
class Target:
    """Where a webhook is posted: the URL as registered, and the checked address to
    connect to."""

    url: str
    scheme: str
    host: str
    port: int
    address: str

    @property
    def pinned_url(self) -> str:
        """The URL with its host replaced by the checked address."""
        parts = urlsplit(self.url)
        host = f"[{self.address}]" if ":" in self.address else self.address
        return urlunsplit((self.scheme, f"{host}:{self.port}", parts.path or "/", parts.query, ""))

    @property
    def host_header(self) -> str:
        default = 443 if self.scheme == "https" else 80
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port == default else f"{host}:{self.port}"


def url_errors(url: str) -> str | None:
    """What is wrong with ``url`` as an address to post to, before resolving it."""
    url = (url or "").strip()
    if not url:
        return _("Enter the address that receives the webhooks.")
    if any(ord(char) <= 32 or ord(char) == 127 for char in url):
        return _("The address may not contain spaces or control characters.")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return _("This is not a valid web address.")
    scheme = parts.scheme.lower()
    if scheme == "http" and not settings.WEBHOOKS_ALLOW_HTTP:
        return _("The address must start with https:// so that webhooks are encrypted.")
    if scheme not in ("http", "https"):
        return _("The address must start with https://.")
    if not parts.hostname:
        return _("The address has no host name.")
    if parts.username is not None or parts.password is not None:
        return _(
            "Remove the user name and password from the address: the receiver checks the "
            "signature instead."
        )
    if port == 0:
        return _("The address's port must be between 1 and 65535.")
    return None


def target_resolve(url: str) -> Target:
    """Check ``url`` and resolve its host to an address that may be posted to. Raises
    ``ValidationError`` keyed ``url`` with the reason when it may not."""
    message = url_errors(url)
    if message:
        raise ValidationError({"url": message})
    parts = urlsplit(url.strip())
    scheme = parts.scheme.lower()
    host = parts.hostname
    port = parts.port or (443 if scheme == "https" else 80)
    try:
        addresses = [str(ipaddress.ip_address(host))]
    except ValueError:
        try:
            addresses = resolve_host(host, port)
        except OSError as exc:
            raise ValidationError(
                {
                    "url": _("The host “%(host)s” could not be found (%(error)s).")
                    % {"host": host, "error": exc}
                }
            ) from exc
    if not addresses:
        raise ValidationError(
            {"url": _("The host “%(host)s” could not be found.") % {"host": host}}
        )
    for address in addresses:
        refusal = address_refusal(address)
        if refusal:
            raise ValidationError(
                {
                    "url": _("Refused: “%(host)s” is not public: %(refusal)s.")
                    % {"host": host, "refusal": refusal}
                }
            )
    return Target(url=url.strip(), scheme=scheme, host=host, port=port, address=addresses[0])


# --- Endpoints ---------------------------------------------------------------------------


def secret_new() -> str:
    """A Standard Webhooks secret: ``whsec_`` and the base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()


def event_types_clean(event_types) -> tuple[list[str], str | None]:
    """The chosen types in a stable order, and what is wrong with them (or None)."""
    if event_types is None:
        return [], None
    if isinstance(event_types, str) or not all(isinstance(t, str) for t in event_types):
        return [], _("Event types must be a list of type names.")
    unknown = [t for t in event_types if t not in FOLLOWED_EVENT_TYPES]
    if unknown:
        known = ", ".join(FOLLOWED_EVENT_TYPES)
        names = ", ".join(f"“{t}”" for t in unknown)
        return [], _("Unknown event type %(names)s. Known types: %(known)s.") % {
            "names": names,
            "known": known,
        }
    return [t for t in FOLLOWED_EVENT_TYPES if t in set(event_types)], None


def webhook_endpoint_errors(
    *, url: str, event_types=(), description: str = "", commitment=None, actor=None, topic=None
) -> dict[str, str]:
    """What is wrong with an endpoint, by field; empty when it may be saved. Resolves the
    URL's host (see ``target_resolve``)."""
    errors: dict[str, str] = {}
    try:
        target_resolve(url)
    except ValidationError as exc:
        errors["url"] = exc.message_dict["url"][0]
    if len((url or "").strip()) > WebhookEndpoint._meta.get_field("url").max_length:
        errors["url"] = _("The address is too long (500 characters at most).")
    _types, message = event_types_clean(event_types)
    if message:
        errors["event_types"] = message
    if len(description or "") > WebhookEndpoint._meta.get_field("description").max_length:
        errors["description"] = _("The description is too long (200 characters at most).")
    subjects = [
        name
        for name, value in (("commitment", commitment), ("actor", actor), ("topic", topic))
        if value
    ]
    for name in subjects[1:]:
        errors[name] = _(
            "An endpoint follows one commitment, actor or topic, or (none chosen) everything: "
            "choose at most one."
        )
    return errors


def _endpoint_fill(
    endpoint, *, url, event_types, description, commitment, actor, topic, is_active
) -> WebhookEndpoint:
    errors = webhook_endpoint_errors(
        url=url,
        event_types=event_types,
        description=description,
        commitment=commitment,
        actor=actor,
        topic=topic,
    )
    if errors:
        raise ValidationError(errors)
    endpoint.url = url.strip()
    endpoint.event_types = event_types_clean(event_types)[0]
    endpoint.description = (description or "").strip()
    endpoint.commitment, endpoint.actor, endpoint.topic = commitment, actor, topic
    endpoint.is_active = is_active
    endpoint.full_clean(exclude=["secret", "created_by"])
    endpoint.save()
    return endpoint


@transaction.atomic
def webhook_endpoint_create(
    *,
    url: str,
    event_types=(),
    description: str = "",
    commitment=None,
    actor=None,
    topic=None,
    is_active: bool = True,
    created_by=None,
) -> WebhookEndpoint:
    """Register an endpoint, with a new secret. ``event_types`` empty: every type."""
    endpoint = WebhookEndpoint(secret=secret_new(), created_by=created_by)
    return _endpoint_fill(
        endpoint,
        url=url,
        event_types=event_types,
        description=description,
        commitment=commitment,
        actor=actor,
        topic=topic,
        is_active=is_active,
    )


@transaction.atomic
def webhook_endpoint_save(
    *,
    endpoint: WebhookEndpoint,
    url: str,
    event_types=(),
    description: str = "",
    commitment=None,
    actor=None,
    topic=None,
    is_active: bool = True,
) -> WebhookEndpoint:
    """Change an endpoint (not its secret: ``webhook_endpoint_rotate_secret``). Deliveries
    already written keep going to it; what it follows from now on is what counts."""
    stored = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    return _endpoint_fill(
        stored,
        url=url,
        event_types=event_types,
        description=description,
        commitment=commitment,
        actor=actor,
        topic=topic,
        is_active=is_active,
    )


@transaction.atomic
def webhook_endpoint_rotate_secret(*, endpoint: WebhookEndpoint, by=None) -> WebhookEndpoint:
    """Give the endpoint a new secret. Every attempt from now on, retries of older events
    included, is signed with it."""
    stored = WebhookEndpoint.objects.select_for_update().get(pk=endpoint.pk)
    stored.secret = secret_new()
    stored.save(update_fields=["secret"])
    return stored


@transaction.atomic
def webhook_test_event_send(*, endpoint: WebhookEndpoint, by=None) -> OutboxEvent:
    """Record a ``webhook.test`` event for this endpoint only; it is delivered like any
    other (signed, retried, logged). Each press is a new event."""
    if not endpoint.is_active:
        raise ValidationError(
            {"endpoint": _("This endpoint is switched off: switch it on to send a test event.")}
        )
    now = timezone.now()
    today = timezone.localdate(now)

    def words() -> dict:
        return {
            "headline": _("Test event"),
            "summary": _(
                "A test sent from the tracker's admin to check that this endpoint "
                "receives and verifies our webhooks."
            ),
            "url": settings.SITE_URL + reverse("commitments:home"),
            "occurred_label": date_format(today, "j F Y"),
        }

    # In English, with the same words in French (``events``: ``translations``), whatever the
    # language of the admin page that sent it.
    with translation.override(settings.LANGUAGE_CODE):
        english = words()
    with translation.override("fr"):
        french = {**words(), "commitment": None, "actor": None, "topic": None}
    payload = {
        "headline": english["headline"],
        "summary": english["summary"],
        "url": english["url"],
        "occurred_on": today.isoformat(),
        "occurred_precision": "day",
        "occurred_label": english["occurred_label"],
        "commitment": None,
        "actor": None,
        "topic": None,
        "sources": [],
        "changes": [],
        "translations": {"fr": french},
    }
    event, _created = event_record(
        type=EventType.TEST,
        key=f"webhook.test:{endpoint.pk}:{uuid.uuid4().hex}",
        payload=payload,
        endpoint=endpoint,
        occurred_at=now,
    )
    return event


# --- Signing (https://www.standardwebhooks.com/) -----------------------------------------


def webhook_body(event: OutboxEvent) -> str:
    """The JSON posted for ``event``: its type, when it happened, and its payload with the
    message id."""
    occurred = event.occurred_at.astimezone(datetime.UTC).isoformat().replace("+00:00", "Z")
    return json.dumps(
        {
            "type": event.type,
            "timestamp": occurred,
            "data": {"id": event.webhook_id, **event.payload},
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def webhook_signature(*, secret: str, msg_id: str, timestamp: int, body: str) -> str:
    """``v1,`` and the base64 HMAC-SHA256 of ``{id}.{timestamp}.{body}`` keyed with the
    secret's bytes (the base64 after ``whsec_``)."""
    key = base64.b64decode(secret.removeprefix(SECRET_PREFIX))
    signed = f"{msg_id}.{timestamp}.{body}".encode()
    digest = hmac.new(key, signed, hashlib.sha256).digest()
    return "v1," + base64.b64encode(digest).decode()


def webhook_headers(*, secret: str, msg_id: str, timestamp: int, body: str) -> dict[str, str]:
    return {
        "webhook-id": msg_id,
        "webhook-timestamp": str(timestamp),
        "webhook-signature": webhook_signature(
            secret=secret, msg_id=msg_id, timestamp=timestamp, body=body
        ),
        "Content-Type": "application/json",
        "User-Agent": settings.WEBHOOKS_USER_AGENT,
    }


# --- Delivery ----------------------------------------------------------------------------


@dataclass
class DeliveryReport:
    attempted: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0
    errors: list[str] = field(default_factory=list)

    def __str__(self):
        return (
            f"{self.attempted} attempted: {self.delivered} delivered, "
            f"{self.retrying} to retry, {self.failed} given up"
        )


@dataclass(frozen=True)
class PostOutcome:
    status: int | None
    duration_ms: int
    error: str = ""
    excerpt: str = ""

    @property
    def ok(self) -> bool:
        return self.status is not None and 200 <= self.status < 300


def claim_seconds() -> float:
    """How far a claim moves a delivery's next attempt: longer than a post can take
    (connecting, sending and reading, each within the timeout), so no other worker posts
    it meanwhile; if the worker dies, the delivery is due again after this."""
    return 3 * settings.WEBHOOKS_TIMEOUT_SECONDS + 5


def due_deliveries(now: datetime.datetime) -> QuerySet:
    return WebhookDelivery.objects.due(now).filter(endpoint__is_active=True)


def _delivery_claim(now: datetime.datetime) -> WebhookDelivery | None:
    """Take one due delivery for this worker: locked with SKIP LOCKED (another worker
    takes another), its next attempt moved past the claim, committed at once."""
    with transaction.atomic():
        delivery = (
            due_deliveries(now)
            .select_related("event", "endpoint")
            .select_for_update(skip_locked=True, of=("self",))
            .order_by("next_attempt_at", "id")
            .first()
        )
        if delivery is None:
            return None
        WebhookDelivery.objects.filter(pk=delivery.pk).update(
            next_attempt_at=now + datetime.timedelta(seconds=claim_seconds())
        )
    return delivery


def webhook_post(*, url: str, body: str, headers: dict[str, str]) -> PostOutcome:
    """POST ``body`` to ``url`` at an address resolved and checked now, without following
    redirects; what came back, in how long."""
    started = time.monotonic()

    def took() -> int:
        return int((time.monotonic() - started) * 1000)

    try:
        target = target_resolve(url)
    except ValidationError as exc:
        return PostOutcome(None, took(), "Not sent: " + exc.message_dict["url"][0])
    timeout = settings.WEBHOOKS_TIMEOUT_SECONDS
    # TLS is checked against the URL's host name, not the address connected to.
    extensions = {"sni_hostname": target.host} if target.scheme == "https" else {}
    verify = (
        ssl.create_default_context(cafile=settings.WEBHOOKS_CA_BUNDLE)
        if settings.WEBHOOKS_CA_BUNDLE
        else True
    )
    try:
        with httpx.Client(
            timeout=httpx.Timeout(timeout), follow_redirects=False, trust_env=False, verify=verify
        ) as client:
            request = client.build_request(
                "POST",
                target.pinned_url,
                content=body.encode(),
                headers={**headers, "Host": target.host_header},
                extensions=extensions,
            )
            response = client.send(request, stream=True)
            try:
                # Only the start of the answer is read: a huge or endless body costs nothing.
                excerpt = b""
                for chunk in response.iter_bytes():
                    excerpt += chunk
                    if len(excerpt) >= RESPONSE_EXCERPT_LENGTH * 4:
                        break
            finally:
                response.close()
            text = excerpt.decode("utf-8", "replace")[:RESPONSE_EXCERPT_LENGTH]
            status = response.status_code
    except httpx.TimeoutException:
        return PostOutcome(None, took(), f"No answer within {timeout:g} seconds.")
    except httpx.HTTPError as exc:
        return PostOutcome(None, took(), describe_error(exc))
    error = ""
    if not 200 <= status < 300:
        error = f"The endpoint answered HTTP {status}."
        if 300 <= status < 400:
            error += " Redirects are not followed: register the final address."
    return PostOutcome(status, took(), error, text)


def _outcome_record(
    delivery_id: int,
    outcome: PostOutcome,
    attempted_at: datetime.datetime,
    report: DeliveryReport,
) -> None:
    """Log the attempt and move the delivery on, in one transaction."""
    schedule = settings.WEBHOOKS_RETRY_SCHEDULE_SECONDS
    with transaction.atomic():
        delivery = WebhookDelivery.objects.select_for_update().filter(pk=delivery_id).first()
        if delivery is None:
            return
        WebhookAttempt.objects.create(
            delivery=delivery,
            attempted_at=attempted_at,
            status_code=outcome.status,
            duration_ms=outcome.duration_ms,
            error=outcome.error,
            response_excerpt=outcome.excerpt,
        )
        done_at = attempted_at + datetime.timedelta(milliseconds=outcome.duration_ms)
        attempts = delivery.attempts + 1
        changes: dict = {"attempts": F("attempts") + 1}
        if delivery.sent_at is not None:
            pass  # delivered meanwhile by another worker whose claim outlived ours
        elif outcome.ok:
            changes.update(sent_at=done_at, last_error="")
            report.delivered += 1
        elif attempts <= len(schedule):
            changes.update(
                next_attempt_at=done_at + datetime.timedelta(seconds=schedule[attempts - 1]),
                last_error=outcome.error,
                failed_at=None,
            )
            report.retrying += 1
        else:
            changes.update(failed_at=done_at, last_error=outcome.error)
            report.failed += 1
        if outcome.error:
            report.errors.append(outcome.error)
        WebhookDelivery.objects.filter(pk=delivery.pk).update(**changes)


def webhooks_deliver_due(
    *, limit: int = DELIVER_BATCH, now: datetime.datetime | None = None
) -> DeliveryReport:
    """Post up to ``limit`` due deliveries, one at a time: claim, post, record. ``now``
    (tests) stands for the clock throughout."""
    report = DeliveryReport()
    for _turn in range(limit):
        moment = now or timezone.now()
        delivery = _delivery_claim(moment)
        if delivery is None:
            break
        event, endpoint = delivery.event, delivery.endpoint
        body = webhook_body(event)
        headers = webhook_headers(
            secret=endpoint.secret,
            msg_id=event.webhook_id,
            timestamp=int(moment.timestamp()),
            body=body,
        )
        outcome = webhook_post(url=endpoint.url, body=body, headers=headers)
        report.attempted += 1
        _outcome_record(delivery.pk, outcome, moment, report)
    return report


@transaction.atomic
def webhook_deliveries_retry(
    *, deliveries: QuerySet, by=None, now: datetime.datetime | None = None
) -> int:
    """Make failed or pending deliveries due now (a failed one gets one more attempt;
    if that fails too it is given up again). Delivered ones are left alone. Returns how
    many were made due, and queues their delivery on commit."""
    now = now or timezone.now()
    count = deliveries.filter(sent_at__isnull=True).update(next_attempt_at=now, failed_at=None)
    if count:
        queueing.enqueue_on_commit(
            queueing.DELIVER_WEBHOOKS,
            what="the delivery of webhooks",
            fallback="the webhook sweep will deliver them within a minute",
        )
    return count
