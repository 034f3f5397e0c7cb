"""The editors' digest: one email to the publishers listing the flags raised and resolved
since the last digest. Nothing is sent when nothing is new.

Owns the digest's window, wording and record (``EditorsDigest``). It must not decide what
a flag is (``services/flags.py``) or who is a publisher (``roles.PUBLISHER``); it borrows
its lock from ``sql.py``.
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import EmailMessage
from django.db import transaction
from django.db.models import Q
from django.utils import timezone, translation
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from ..models import EditorsDigest, Flag
from ..roles import PUBLISHER
from ..sql import advisory_lock

logger = logging.getLogger(__name__)


def publisher_emails() -> list[str]:
    return sorted(
        set(
            get_user_model()
            .objects.filter(is_active=True, groups__name=PUBLISHER)
            .exclude(email="")
            .values_list("email", flat=True)
        )
    )


def _line(flag: Flag, *, resolved: bool) -> str:
    url = settings.SITE_URL + flag.commitment.get_absolute_url()
    text = f"- {flag.commitment.title}: {flag.plain_words()}"
    if resolved and flag.resolution_note:
        text += f". {flag.resolution_note}"
    return f"{text}\n  {url}"


def _when(moment) -> str:
    """A moment as the active language writes it: "01 July 2025 09:00", "01 juillet 2025 09:00"."""
    return date_format(timezone.localtime(moment), "d F Y H:i")


def digest_body(*, raised: list[Flag], resolved: list[Flag], covers_from, covers_until) -> str:
    """The digest's text, in the active language (``editors_digest_send`` picks it)."""
    if covers_from:
        intro = _("What the tracker's background jobs noticed since %(moment)s.") % {
            "moment": _when(covers_from)
        }
    else:
        intro = _("What the tracker's background jobs noticed so far (this is the first digest).")
    parts = [intro, ""]
    if raised:
        parts += [_("Flags raised (%(n)d):") % {"n": len(raised)}]
        parts += [_line(flag, resolved=False) for flag in raised]
        parts.append("")
    if resolved:
        parts += [_("Flags resolved (%(n)d):") % {"n": len(resolved)}]
        parts += [_line(flag, resolved=True) for flag in resolved]
        parts.append("")
    parts.append(_("Up to %(moment)s.") % {"moment": _when(covers_until)})
    return "\n".join(parts)


@transaction.atomic
def editors_digest_send(
    *, now: datetime.datetime | None = None, language: str | None = None
) -> EditorsDigest | None:
    """Send the digest covering everything since the last one (on published and draft
    commitments alike: publishers need both). Returns the digest recorded, or None when
    nothing is new or there is no publisher with an email address to send it to.
    ``language``: the digest's language (``EDITORS_DIGEST_LANGUAGE`` by default, the
    site's unless set; ``fr`` for a French newsroom's desk): its words, dates and flags'
    plain words."""
    now = now or timezone.now()
    with advisory_lock("commitments.editors_digest_send"):
        last = EditorsDigest.objects.order_by("-covers_until").first()
        covers_from = last.covers_until if last else None
        window = Q(raised_at__lte=now)
        closed = Q(resolved_at__lte=now)
        if covers_from:
            window &= Q(raised_at__gt=covers_from)
            closed &= Q(resolved_at__gt=covers_from)
        flags = Flag.objects.select_related("commitment").order_by("commitment__title", "reason")
        raised = list(flags.filter(window))
        resolved = list(flags.filter(closed))
        if not raised and not resolved:
            return None
        recipients = publisher_emails()
        if not recipients:
            logger.warning("Editors' digest not sent: no active publisher has an email address.")
            return None
        digest = EditorsDigest.objects.create(
            sent_at=now,
            covers_from=covers_from,
            covers_until=now,
            raised_count=len(raised),
            resolved_count=len(resolved),
            recipients=", ".join(recipients),
        )
        with translation.override(language or settings.EDITORS_DIGEST_LANGUAGE):
            subject = ngettext(
                "Tracker digest: %(raised)d flag raised, %(resolved)d resolved",
                "Tracker digest: %(raised)d flags raised, %(resolved)d resolved",
                len(raised),
            ) % {"raised": len(raised), "resolved": len(resolved)}
            body = digest_body(
                raised=raised, resolved=resolved, covers_from=covers_from, covers_until=now
            )
        # Sent inside the transaction: if sending fails, the digest is not recorded and the
        # next run covers the same period again.
        EmailMessage(subject=subject, body=body, to=recipients).send()
    return digest
