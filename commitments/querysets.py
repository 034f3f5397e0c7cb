"""Chainable reads: ``Commitment.objects.public().flagged()``.

What the public may see is defined here, once: each model's ``public()``. A commitment is
public when it is published; everything else is public only through a published
commitment. Each ``public()`` is a filter on ``Exists(...)`` subqueries, so it returns no
duplicates, needs no DISTINCT, chains with any other filter and adds no query.
"""

from __future__ import annotations

from django.db import models
from django.db.models import Exists, OuterRef, Q


def _published_commitments():
    from .models import Commitment

    return Commitment.objects.public()


def _public_indicators():
    from .models import Indicator

    return Indicator.objects.public()


class CommitmentQuerySet(models.QuerySet):
    def public(self):
        """Published: the only commitments the public sees."""
        return self.filter(is_published=True)

    def published(self):
        return self.public()

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

    def needs_attention(self, *, today=None):
        """Flagged (an open flag), or quiet too long by the flag job's own rule
        (``quiet.quiet_too_long``: each commitment's own threshold, vague dates counted from
        the end of their period), drafts included."""
        from django.utils import timezone

        from .models import Flag
        from .quiet import quiet_too_long

        quiet = quiet_too_long(self.model.objects.all(), today=today or timezone.localdate())
        return self.filter(
            Exists(Flag.objects.open().filter(commitment=OuterRef("pk")))
            | Exists(quiet.filter(pk=OuterRef("pk")))
        )

    def with_status(self, *statuses):
        return self.filter(status__in=statuses)

    def involving(self, actor):
        return self.filter(roles__actor=actor).distinct()


class ActorQuerySet(models.QuerySet):
    def public(self):
        """Actors with a role on a published commitment, or who speak in a statement
        about one."""
        from .models import Statement

        return self.filter(
            Exists(_published_commitments().filter(roles__actor=OuterRef("pk")))
            | Exists(Statement.objects.public().filter(speaker=OuterRef("pk")))
        )


class TopicQuerySet(models.QuerySet):
    def public(self):
        """Topics of a published commitment (an indicator's topic alone is not enough)."""
        return self.filter(Exists(_published_commitments().filter(topics=OuterRef("pk"))))


class IndicatorQuerySet(models.QuerySet):
    def public(self):
        """Indicators attached to a published commitment."""
        return self.filter(Exists(_published_commitments().filter(indicators=OuterRef("pk"))))


class ObservationQuerySet(models.QuerySet):
    def public(self):
        """Observations of a public indicator."""
        return self.filter(Exists(_public_indicators().filter(pk=OuterRef("indicator_id"))))


class StatementQuerySet(models.QuerySet):
    def public(self):
        """Statements about a published commitment."""
        return self.filter(Exists(_published_commitments().filter(statements=OuterRef("pk"))))


class SourceQuerySet(models.QuerySet):
    def public(self):
        """Sources cited by something public: a published commitment (where it was made),
        a status update or a statement of one, an observation of a public indicator, or a
        public indicator's comparison."""
        from .models import Observation, Statement, StatusUpdate

        return self.filter(
            Exists(_published_commitments().filter(made_in=OuterRef("pk")))
            | Exists(StatusUpdate.objects.public().filter(sources=OuterRef("pk")))
            | Exists(Statement.objects.public().filter(source=OuterRef("pk")))
            | Exists(Observation.objects.public().filter(source=OuterRef("pk")))
            | Exists(_public_indicators().filter(comparison_source=OuterRef("pk")))
        )

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

    def public(self):
        """Steps on a published commitment."""
        return self.filter(Exists(_published_commitments().filter(pk=OuterRef("commitment_id"))))

    def on_published(self):
        return self.public()


class FlagQuerySet(models.QuerySet):
    def open(self):
        return self.filter(resolved_at__isnull=True)

    def resolved(self):
        return self.filter(resolved_at__isnull=False)

    def unacknowledged(self):
        return self.open().filter(acknowledged_at__isnull=True)

    def public(self):
        """Flags on a published commitment (open or resolved: chain ``open()``)."""
        return self.filter(Exists(_published_commitments().filter(pk=OuterRef("commitment_id"))))

    def on_published(self):
        return self.public()

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
            revision=OuterRef("pk"), commitment__in=Commitment.objects.public()
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
