"""The signed links sent to a subscriber: confirm, manage, unsubscribe. Each carries the
subscriber's id and its ``key`` under Django's signing (``SECRET_KEY``, a salt per purpose),
so a link can be neither forged nor moved to another address, and it dies with the address
(unsubscribing deletes the row; a new subscription of the same address gets a new key).

Owns the tokens' shape, their salts and how long a confirmation link lives
(``ALERTS_CONFIRM_MAX_AGE_HOURS``). Manage and unsubscribe links do not expire: RFC 8058
asks that an unsubscribe link keep working, and an old email's link must still let its
reader stop the mails. Must not read or write anything but the subscriber row it is given
or looks up.

A link is made in the active language (``/fr/alerts/...`` when the mail is French: the
senders render each mail inside ``translation.override(subscriber.language)``), and every
link works in either language: the token is the same.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.core import signing
from django.urls import reverse
from django.utils.translation import gettext as _

from .schemas import absolute_url

CONFIRM, MANAGE, UNSUBSCRIBE = "confirm", "manage", "unsubscribe"
_SALT = "commitments.alerts.{purpose}"


class LinkError(Exception):
    """A link that cannot be used, with the sentence to show its reader."""


@dataclass(frozen=True)
class LinkTarget:
    subscriber_id: int
    key: str
    subscription_id: int | None = None


def make_token(purpose: str, subscriber, subscription=None) -> str:
    data = {"s": subscriber.pk, "k": subscriber.key}
    if subscription is not None:
        data["f"] = subscription.pk
    return signing.dumps(data, salt=_SALT.format(purpose=purpose), compress=True)


def read_token(purpose: str, token: str) -> LinkTarget:
    """What a link points at, or ``LinkError`` saying why it cannot be used: tampered with
    or cut short, or (a confirmation link only) older than ``ALERTS_CONFIRM_MAX_AGE_HOURS``."""
    max_age = settings.ALERTS_CONFIRM_MAX_AGE_HOURS * 3600 if purpose == CONFIRM else None
    try:
        data = signing.loads(token, salt=_SALT.format(purpose=purpose), max_age=max_age)
    except signing.SignatureExpired as exc:
        raise LinkError(
            _("This confirmation link has expired. Subscribe again to get a new one.")
        ) from exc
    except signing.BadSignature as exc:
        raise LinkError(
            _("This link is damaged or was changed: copy the whole link from the email.")
        ) from exc
    if not isinstance(data, dict) or not isinstance(data.get("s"), int):
        raise LinkError(_("This link is damaged: copy the whole link from the email."))
    return LinkTarget(
        subscriber_id=data["s"], key=str(data.get("k", "")), subscription_id=data.get("f")
    )


def _link(name: str, token: str) -> str:
    return absolute_url(reverse(f"commitments:{name}", kwargs={"token": token}))


def confirm_url(subscriber) -> str:
    return _link("alerts_confirm", make_token(CONFIRM, subscriber))


def manage_url(subscriber) -> str:
    return _link("alerts_manage", make_token(MANAGE, subscriber))


def unsubscribe_url(subscriber, subscription=None) -> str:
    """One click stops everything this address follows, or only ``subscription``."""
    return _link("alerts_unsubscribe", make_token(UNSUBSCRIBE, subscriber, subscription))
