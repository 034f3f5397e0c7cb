"""Chainable reads: ``Commitment.objects.published().flagged()``."""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q


class CommitmentQuerySet(models.QuerySet):
    def published(self):
        return self.filter(is_published=True)

    def drafts(self):
        return self.filter(is_published=False)

    def flagged(self):
        from .models import Flag

        return self.filter(Exists(Flag.objects.open().filter(commitment=OuterRef("pk"))))

    def not_flagged(self):
        from .models import Flag

        return self.exclude(Exists(Flag.objects.open().filter(commitment=OuterRef("pk"))))

    def open(self):
        """Not in a final status: something may still happen."""
        from .models import FINAL_STATUSES

        return self.exclude(status__in=FINAL_STATUSES)

    def needs_attention(self, *, quiet_days: int):
        """Flagged, or still open with no status change for ``quiet_days`` days (counted
        from the current status's date, or from when it was made if nothing is logged)."""
        import datetime

        from django.utils import timezone

        from .models import FINAL_STATUSES, Flag

        cutoff = timezone.localdate() - datetime.timedelta(days=quiet_days)
        quiet = ~Q(status__in=FINAL_STATUSES) & (
            Q(status_since__lt=cutoff) | Q(status_since__isnull=True, made_on__lt=cutoff)
        )
        return self.filter(Exists(Flag.objects.open().filter(commitment=OuterRef("pk"))) | quiet)

    def with_status(self, *statuses):
        return self.filter(status__in=statuses)

    def involving(self, actor):
        return self.filter(roles__actor=actor).distinct()


class SourceQuerySet(models.QuerySet):
    def with_url(self):
        return self.filter(url__isnull=False)

    def unavailable(self):
        return self.filter(link_status="unavailable")


class StatusUpdateQuerySet(models.QuerySet):
    def corrections(self):
        return self.filter(corrects__isnull=False)

    def standing(self):
        """Entries no later entry corrects: the ones that count for the current status."""
        return self.filter(corrections__isnull=True)

    def on_published(self):
        return self.filter(commitment__is_published=True)


class FlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def resolved(self):
        return self.filter(resolved_at__isnull=False)

    def unacknowledged(self):
        return self.open().filter(acknowledged_at__isnull=True)

    def on_published(self):
        return self.filter(commitment__is_published=True)

    def for_reason(self, reason):
        return self.filter(Q(reason=reason))


class RevisionQuerySet(models.QuerySet):
    def proposed(self):
        return self.filter(state="proposed")

    def applied(self):
        return self.filter(state="applied")

    def public(self):
        """Applied revisions shown by at least one published commitment."""
        from .models import Commitment

        shown = Commitment.revisions.through.objects.filter(
            revision=OuterRef("pk"), commitment__in=Commitment.objects.published()
        )
        return self.applied().filter(Exists(shown))

    def corrections(self):
        """Substantive revisions: the public record said something wrong."""
        return self.filter(kind="correction")

    def for_object(self, obj):
        from django.contrib.contenttypes.models import ContentType

        return self.filter(
            content_type=ContentType.objects.get_for_model(type(obj)), object_id=obj.pk
        )
