"""The one definition of "quiet too long", a commitment with no recent progress.

A commitment is quiet too long when it is open (not in a final status) and its last
recorded progress (its current status's date, ``status_since``; ``made_on`` when nothing
is logged) is older than its threshold (its own ``stall_after_days``, else the site's
``STALL_AFTER_DAYS``). A vague date is given the benefit of the doubt: "July 2025" counts
from 31 July 2025, so nothing is called quiet that may have moved within the threshold.

The flag job (``services/flags.py``: the public *no recent progress* flag) and the admin's
Needs attention filter (``CommitmentQuerySet.needs_attention``) both read it from here.
Owns this rule only; it imports no model (it filters the queryset it is given) and writes
nothing.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db.models import Case, CharField, DateField, F, IntegerField, QuerySet, Value, When
from django.db.models.functions import Coalesce, Least

from .sql import AddDays, EndOfPeriod

#: The longest threshold the rule computes with. ``stall_after_days`` is held to 1..3650 by
#: a constraint (migration 0009); the rule clamps as well, so one extreme value (a row
#: written before the constraint, a site setting gone wrong) cannot overflow date
#: arithmetic and stop the flag job for every other commitment.
THRESHOLD_CEILING_DAYS = 36500


def last_progress():
    """(start of the period, its precision) of a commitment's last recorded progress."""
    since = Coalesce(F("status_since"), F("made_on"), output_field=DateField())
    precision = Case(
        When(status_since__isnull=True, then=F("made_precision")),
        default=F("status_since_precision"),
        output_field=CharField(),
    )
    return since, precision


def quiet_threshold():
    """Days of quiet allowed: the commitment's own ``stall_after_days``, else the site's."""
    return Least(
        Coalesce(
            F("stall_after_days"), Value(settings.STALL_AFTER_DAYS), output_field=IntegerField()
        ),
        Value(THRESHOLD_CEILING_DAYS),
        output_field=IntegerField(),
    )


def quiet_too_long(commitments: QuerySet, *, today: datetime.date) -> QuerySet:
    """The commitments of ``commitments`` that are open and quiet too long on ``today``."""
    since, precision = last_progress()
    return (
        commitments.open()
        .alias(quiet_until=AddDays(EndOfPeriod(since, precision), quiet_threshold()))
        .filter(quiet_until__lt=today)
    )
