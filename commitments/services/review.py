"""Editors' answers to the machine's flags: acknowledging one ("we've seen it") and
resolving one ("dealt with, and how"), each with a note and who and when.

Both need the ``commitments.resolve_flag`` permission (publishers).

Must not raise or resolve flags by rule: that is ``services/flags.py``'s job.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events
from ..caching import lock_public_version
from ..models import EventType, Flag
from ..roles import RESOLVE_PERMISSION
from .outbox import event_record


def _may_review(user) -> dict[str, str]:
    if user is None or not user.has_perm(RESOLVE_PERMISSION):
        return {"resolved_by": _("Only a publisher can acknowledge or resolve a flag.")}
    return {}


@transaction.atomic
def flag_acknowledge(*, flag: Flag, by, note: str = "") -> Flag:
    """Mark an open flag as seen. A second acknowledgement keeps the first one's who and
    when, and adds nothing."""
    errors = _may_review(by)
    if errors:
        raise ValidationError(errors)
    lock_public_version()
    locked = Flag.objects.select_for_update().get(pk=flag.pk)
    if locked.resolved_at is not None:
        raise ValidationError({"acknowledged_at": _("This flag is already resolved.")})
    if locked.acknowledged_at is None:
        locked.acknowledged_at = timezone.now()
        locked.acknowledged_by = by
        locked.acknowledgement_note = (note or "").strip()
        locked.save(update_fields=["acknowledged_at", "acknowledged_by", "acknowledgement_note"])
    return locked


@transaction.atomic
def flag_resolve(*, flag: Flag, by, note: str) -> Flag:
    """Close an open flag, saying how it was dealt with. On a published commitment its
    followers are told (``flag.resolved``), in the same transaction."""
    errors = _may_review(by)
    if not (note or "").strip():
        errors["resolution_note"] = _("Say how the flag was dealt with.")
    if errors:
        raise ValidationError(errors)
    lock_public_version()
    locked = Flag.objects.select_for_update().get(pk=flag.pk)
    if locked.resolved_at is not None:
        raise ValidationError({"resolved_at": _("This flag is already resolved.")})
    now = timezone.now()
    locked.resolved_at = max(now, locked.raised_at)
    locked.resolved_by = by
    locked.resolution_note = note.strip()
    if locked.acknowledged_at is None:
        locked.acknowledged_at = locked.resolved_at
        locked.acknowledged_by = by
    locked.full_clean()
    locked.save(
        update_fields=[
            "resolved_at",
            "resolved_by",
            "resolution_note",
            "acknowledged_at",
            "acknowledged_by",
        ]
    )
    commitment = locked.commitment
    if commitment.is_published:
        event_record(
            type=EventType.FLAG_RESOLVED,
            key=f"flag:{locked.pk}:resolved",
            payload=events.flag_payload(locked, resolved=True),
            commitment=commitment,
        )
    return locked
