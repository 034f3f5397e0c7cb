"""Chainable reads: ``Commitment.objects.public().flagged()``, and the few conditions the
models' constraints and indexes share with them.

Owns what the public may see, defined here once: each model's ``public()``. A commitment
is public when it is published; everything else is public only through something public,
declared per model in ``public_through``. Each ``public()`` is a filter on ``Exists(...)``
subqueries, so it returns no duplicates, needs no DISTINCT, chains with any other filter
and adds no query. Also owns the named orderings (newest first, oldest first, ...).

Must not import ``models.py`` (it imports this module): other models are reached through
the app registry (``_model``), the vocabulary through ``vocabulary.py``. No writes here.
"""

from __future__ import annotations

import datetime
import operator
from functools import reduce

from django.db import models
from django.db.models import Exists, F, OuterRef, Q, Subquery, lookups

from .quiet import quiet_too_long
from .sql import EndOfPeriod
from .vocabulary import FINAL_STATUSES


class NotIn(lookups.In):
    """``column NOT IN (...)``: the same rows as ``~Q(column__in=...)`` for a column that
    is never NULL, written the way PostgreSQL stores it in an index predicate (``<> ALL``;
    ``NOT (... IN ...)`` is stored as another definition)."""

    lookup_name = "not_in"

    def get_rhs_op(self, connection, rhs):
        return f"NOT IN {rhs}"


#: A published commitment: the only commitments the public sees.
PUBLISHED = Q(is_published=True)
#: A commitment in no final status: something may still happen.
NOT_FINAL = Q(NotIn(F("status"), list(FINAL_STATUSES)))
#: A flag not yet resolved (the constraint "one open flag per commitment and reason" and
#: the flag job's index use it too).
OPEN_FLAG = Q(resolved_at__isnull=True)
#: An email alert or webhook delivery not yet delivered nor given up (the partial indexes
#: the senders read through use it too).
PENDING_DELIVERY = Q(sent_at__isnull=True, failed_at__isnull=True)


def _through(condition: Q, relation: str) -> Q:
    """``condition`` (a plain AND of lookups) seen from another model through ``relation``."""
    return Q(*[(f"{relation}__{lookup}", value) for lookup, value in condition.children])


def open_flag_through(relation: str) -> Q:
    """``OPEN_FLAG`` seen from another model through ``relation`` (e.g. ``"flags"`` from a
    commitment, for an annotation's ``filter``)."""
    return _through(OPEN_FLAG, relation)


def published_through(relation: str) -> Q:
    """``PUBLISHED`` seen from another model through ``relation`` (e.g. ``"commitment"``
    from an actor's role, to count an actor's public commitments in one query)."""
    return _through(PUBLISHED, relation)


class AppQuerySet(models.QuerySet):
    def _model(self, name: str) -> type[models.Model]:
        """Another model of this app, through the app registry rather than an import."""
        meta = self.model._meta
        return meta.apps.get_model(meta.app_label, name)

    def dated_within(
        self,
        field: str,
        *,
        start: datetime.date | None = None,
        end: datetime.date | None = None,
    ):
        """Rows whose vague date ``field`` may fall between ``start`` and ``end`` (both
        included, either left open): its period overlaps the range. "2025" (2025-01-01..
        2025-12-31) is within "from 1 March 2025" and within "up to 30 June 2025"; a date
        known to the day is compared as it is. The one rule for every date filter.

        A vague date is stored at the start of its period (``VagueDateMixin``), so the
        period starts on the stored date; it ends on ``sql.EndOfPeriod`` (the end the
        stall rule uses too). The end is a computed expression, so the filter on it comes
        with a plain condition on the column that it implies (a period ending on or after
        ``start`` starts no earlier than 1 January of ``start``'s year): the column's
        indexes still narrow the rows."""
        precision = dict(self.model.vague_dates)[field]
        queryset = self
        if start is not None:
            queryset = queryset.alias(
                **{f"{field}_period_end": EndOfPeriod(F(field), F(precision))}
            ).filter(
                **{
                    f"{field}__gte": start.replace(month=1, day=1),
                    f"{field}_period_end__gte": start,
                }
            )
        if end is not None:
            queryset = queryset.filter(**{f"{field}__lte": end})
        return queryset


class PublicThroughQuerySet(AppQuerySet):
    """For a model that is public only through something public: a row is public when a
    public row of another model is linked to it. ``public_through`` lists those links as
    ``(model, lookup, outer)``: a public ``model`` whose ``lookup`` equals this row's
    ``outer`` column. Any one link is enough."""

    public_through: tuple[tuple[str, str, str], ...] = ()

    def public(self):
        return self.filter(
            reduce(
                operator.or_,
                (
                    Exists(self._model(model).objects.public().filter(**{lookup: OuterRef(outer)}))
                    for model, lookup, outer in self.public_through
                ),
            )
        )


class CommitmentQuerySet(AppQuerySet):
    def public(self):
        """Published: the only commitments the public sees."""
        return self.filter(PUBLISHED)

    def _open_flag_exists(self):
        return Exists(self._model("Flag").objects.open().filter(commitment=OuterRef("pk")))

    def flagged(self):
        return self.filter(self._open_flag_exists())

    def not_flagged(self):
        return self.exclude(self._open_flag_exists())

    def open(self):
        """Not in a final status: something may still happen."""
        return self.filter(NOT_FINAL)

    def needs_attention(self, *, today=None):
        """Flagged (an open flag), or quiet too long by the flag job's own rule
        (``quiet.quiet_too_long``: each commitment's own threshold, vague dates counted from
        the end of their period), drafts included."""
        from django.utils import timezone

        Flag = self._model("Flag")

        quiet = quiet_too_long(self.model.objects.all(), today=today or timezone.localdate())
        return self.filter(
            Exists(Flag.objects.open().filter(commitment=OuterRef("pk")))
            | Exists(quiet.filter(pk=OuterRef("pk")))
        )

    def with_last_checked(self):
        """Each commitment with ``last_checked``: the date of its editors' newest check
        (None if never checked), as a subquery of the same query (no query per row)."""
        checks = self._model("Check").objects.filter(commitment=OuterRef("pk"))
        return self.annotate(
            last_checked=Subquery(checks.order_by("-checked_on").values("checked_on")[:1])
        )

    # The public pages' sort orders. Each ends in a unique column, so a page is a range;
    # the partial indexes in ``Commitment.Meta.indexes`` hold exactly these.

    def recently_changed_first(self):
        """The list's default: latest status change first, never-changed last."""
        return self.order_by(F("status_since").desc(nulls_last=True), "title", "pk")

    def newest_made_first(self):
        """Date made, newest first (the actor and topic pages)."""
        return self.order_by("-made_on", "title", "pk")

    def soonest_deadline_first(self):
        """Deadline, soonest first, those without one last."""
        return self.order_by(F("deadline").asc(nulls_last=True), "title", "pk")


class ActorQuerySet(PublicThroughQuerySet):
    """Public: actors with a role on a published commitment, or who speak in a public
    statement."""

    public_through = (("Commitment", "roles__actor", "pk"), ("Statement", "speaker", "pk"))


class TopicQuerySet(PublicThroughQuerySet):
    """Public: topics of a published commitment (an indicator's topic alone is not
    enough)."""

    public_through = (("Commitment", "topics", "pk"),)


class IndicatorQuerySet(PublicThroughQuerySet):
    """Public: indicators attached to a published commitment."""

    public_through = (("Commitment", "indicators", "pk"),)


class ObservationQuerySet(PublicThroughQuerySet):
    """Public: observations of a public indicator."""

    public_through = (("Indicator", "pk", "indicator_id"),)


class StatementQuerySet(PublicThroughQuerySet):
    """Public: statements about a published commitment."""

    public_through = (("Commitment", "statements", "pk"),)


class SourceQuerySet(PublicThroughQuerySet):
    """Public: sources cited by something public: a published commitment (where it was
    made), a public status update or statement, an observation of a public indicator, or a
    public indicator's comparison."""

    public_through = (
        ("Commitment", "made_in", "pk"),
        ("StatusUpdate", "sources", "pk"),
        ("Statement", "source", "pk"),
        ("Observation", "source", "pk"),
        ("Indicator", "comparison_source", "pk"),
    )

    def with_url(self):
        return self.filter(url__isnull=False)

    def by_date_published(self):
        """Oldest first, as a timeline entry lists its sources."""
        return self.order_by("published_on", "title", "pk")


class StatusUpdateQuerySet(PublicThroughQuerySet):
    """Public: steps on a published commitment."""

    public_through = (("Commitment", "pk", "commitment_id"),)

    #: The timeline's order, oldest first: by the date it took effect, then by when it was
    #: recorded (``Meta.ordering`` and ``get_latest_by``).
    TIMELINE = ("effective_on", "recorded_at", "id")

    def corrections(self):
        return self.filter(corrects__isnull=False)

    def standing(self):
        """Entries no later entry corrects: the ones that count for the current status."""
        return self.filter(corrections__isnull=True)

    def latest_first(self):
        """The timeline's order reversed: the entry that sets the current status first."""
        return self.order_by(*(f"-{field}" for field in self.TIMELINE))

    def recorded_newest_first(self):
        """As they were recorded, newest first (the feeds and the API's recent changes)."""
        return self.order_by("-recorded_at", "-pk")

    def recorded_oldest_first(self):
        return self.order_by("recorded_at", "pk")


class CheckQuerySet(PublicThroughQuerySet):
    """Public: editors' checks of a published commitment."""

    public_through = (("Commitment", "pk", "commitment_id"),)


class FlagQuerySet(PublicThroughQuerySet):
    """Public: flags on a published commitment (open or resolved: chain ``open()``).
    ``Meta.ordering`` is newest first."""

    public_through = (("Commitment", "pk", "commitment_id"),)

    def open(self):
        return self.filter(OPEN_FLAG)

    def resolved(self):
        return self.exclude(OPEN_FLAG)

    def unacknowledged(self):
        return self.open().filter(acknowledged_at__isnull=True)

    def oldest_first(self):
        """Raised longest ago first, as a commitment lists its open flags."""
        return self.order_by("raised_at", "pk")


class RevisionQuerySet(AppQuerySet):
    def proposed(self):
        return self.filter(state="proposed")

    def applied(self):
        return self.filter(state="applied")

    def public(self):
        """Applied revisions shown by at least one published commitment."""
        shown = self.model.commitments.through.objects.filter(
            revision=OuterRef("pk"), commitment__in=self._model("Commitment").objects.public()
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


class DeliveryQuerySet(models.QuerySet):
    """Email alerts and webhook deliveries by state: the one definition of each."""

    def pending(self):
        return self.filter(PENDING_DELIVERY)

    def due(self, now):
        """Pending, and their next attempt is not after ``now``."""
        return self.pending().filter(next_attempt_at__lte=now)

    def delivered(self):
        return self.filter(sent_at__isnull=False)

    def given_up(self):
        return self.filter(sent_at__isnull=True, failed_at__isnull=False)
