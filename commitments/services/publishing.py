"""Drafts and publishing: who may make a commitment public, and what must be true first.

A commitment starts as a draft, invisible to the public. Only a publisher (the
``commitments.publish_commitment`` permission) publishes or unpublishes it, and a
commitment is published only with a source for where it was made. Publishing records who
and when; django-simple-history keeps every change with its user.

What is public may not be deleted, and neither is a source the timeline cites:
``deletion_refusals`` says why, object by object, and the admin asks it before every
delete, single or bulk. What is public is the models' ``public()`` (``querysets.py``).

Must not render or redirect: the admin shows what these services answer.
"""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events
from ..caching import lock_public_version
from ..models import (
    Actor,
    Commitment,
    EventType,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)
from ..roles import PUBLISH_PERMISSION
from .outbox import event_record


def _only_publishers(user) -> dict[str, str]:
    if user is None or not user.has_perm(PUBLISH_PERMISSION):
        return {"is_published": _("Only a publisher can publish or unpublish a commitment.")}
    return {}


def commitment_publish_errors(*, commitment: Commitment) -> dict[str, str]:
    """What stops this commitment from being public (also asked when a published one is
    edited: it may not lose its source)."""
    if not commitment.made_in_id:
        return {
            "made_in": _("A commitment cannot be published without a source for where it was made.")
        }
    return {}


@transaction.atomic
def commitment_publish(*, commitment: Commitment, published_by) -> Commitment:
    """Make a draft public, recording who and when, and tell the followers of its actors
    and topics and of everything (``commitment.published``, in the same transaction; a
    publication after an unpublication is told again). Publishing a published commitment
    changes nothing."""
    errors = _only_publishers(published_by)
    if errors:
        raise ValidationError(errors)
    lock_public_version()
    locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if locked.is_published:
        return locked
    errors = commitment_publish_errors(commitment=locked)
    if errors:
        raise ValidationError(errors)
    locked.is_published = True
    locked.published_at = timezone.now()
    locked.published_by = published_by
    locked._history_user = published_by
    locked.save(update_fields=["is_published", "published_at", "published_by", "updated_at"])
    event_record(
        type=EventType.PUBLISHED,
        key=f"commitment:{locked.pk}:published:{events.iso_timestamp(locked.published_at)}",
        payload=events.commitment_published_payload(locked, sources=[locked.made_in]),
        commitment=locked,
    )
    _copy_publishing(locked, commitment)
    return locked


@transaction.atomic
def commitment_unpublish(*, commitment: Commitment, unpublished_by) -> Commitment:
    """Take a commitment off the public pages. When and by whom it was last published
    stays; the history records who unpublished it."""
    errors = _only_publishers(unpublished_by)
    if errors:
        raise ValidationError(errors)
    lock_public_version()
    locked = Commitment.objects.select_for_update().get(pk=commitment.pk)
    if not locked.is_published:
        return locked
    locked.is_published = False
    locked._history_user = unpublished_by
    locked.save(update_fields=["is_published", "updated_at"])
    _copy_publishing(locked, commitment)
    return locked


def _copy_publishing(source: Commitment, target: Commitment) -> None:
    for field in ("is_published", "published_at", "published_by_id", "updated_at"):
        setattr(target, field, getattr(source, field))


# --- Deleting: nothing public disappears -------------------------------------------------

#: The models whose rows can be part of the public record (each has ``public()``).
PUBLIC_MODELS = (Commitment, Source, Statement, Actor, Topic, Indicator, Observation)


def deletion_refusals(*, queryset, user) -> list[str]:
    """One sentence per object in ``queryset`` that ``user`` may not delete, or none.

    - Status updates are never deleted: a mistake gets a correction.
    - A source that a status update cites (draft or published) is never deleted: it is
      the timeline's evidence.
    - Nothing public is deleted: a published commitment, or anything shown with one.
    - An editor cannot delete a commitment that was ever published, even once a
      publisher has unpublished it; a publisher can.
    """
    model = queryset.model
    if model is StatusUpdate:
        return [
            _("“%(entry)s” is part of the timeline; correct it with a new entry instead.")
            % {"entry": entry}
            for entry in queryset
        ]
    refusals = []
    if model is Source:
        cites = StatusUpdate.sources.through.objects.values("source_id")
        refusals += [
            _("“%(obj)s” is cited by a status update; the timeline keeps its evidence.")
            % {"obj": obj}
            for obj in queryset.filter(pk__in=cites)
        ]
        queryset = queryset.exclude(pk__in=cites)
    if model in PUBLIC_MODELS:
        public = queryset.filter(pk__in=model.objects.public().values("pk"))
        refusals += [
            _("“%(obj)s” is public; a publisher must unpublish what shows it first.") % {"obj": obj}
            for obj in public
        ]
    if model is Commitment and not (user and user.has_perm(PUBLISH_PERMISSION)):
        once = queryset.filter(is_published=False, published_at__isnull=False)
        refusals += [
            _("“%(obj)s” has been published; only a publisher can delete it.") % {"obj": obj}
            for obj in once
        ]
    return refusals
