"""The fixed words of the domain: the statuses editors give, which of them are final, why
a flag is raised and the roles an actor plays in a commitment; and what each status and
each flag means, for the methodology page (``STATUS_DEFINITIONS``, ``FLAG_DEFINITIONS``:
``commitments.checks`` refuses to start when one is missing).

Owns these choices and nothing else: no models, no queries, no imports from the app, so
that the models, their QuerySets and the services can all name them without importing
each other. ``commitments.models`` re-exports them (``from commitments.models import
Status`` keeps working); they are defined only here.
"""

from __future__ import annotations

from typing import NamedTuple

from django.db import models
from django.utils.translation import gettext_lazy as _


class Status(models.TextChoices):
    NOT_STARTED = "not_started", _("Not started")
    IN_PROGRESS = "in_progress", _("In progress")
    STALLED = "stalled", _("Stalled")
    PARTIALLY_KEPT = "partially_kept", _("Partly kept")
    KEPT = "kept", _("Kept")
    BROKEN = "broken", _("Broken")
    UNCLEAR = "unclear", _("Unclear")


#: Statuses after which nothing more is expected: the stall job leaves these alone.
FINAL_STATUSES = (Status.KEPT, Status.BROKEN)


class FlagReason(models.TextChoices):
    NO_RECENT_PROGRESS = "no_recent_progress", _("No recent progress")
    DEADLINE_PASSED = "deadline_passed", _("Deadline passed")
    SOURCES_UNAVAILABLE = "sources_unavailable", _("Sources unavailable")


class ActorRole(models.TextChoices):
    MADE_BY = "made_by", _("Made the promise")
    RESPONSIBLE = "responsible", _("Responsible for delivering it")
    PARTNER = "partner", _("Partner")


class Meaning(NamedTuple):
    """What a word of the vocabulary means, said once for the methodology page: its
    ``definition``, and an ``example`` drawn from the tracker's subject (Channel crossings)."""

    definition: str
    example: str


#: What each status means, keyed by status: the methodology page reads it from here, and a
#: system check (``commitments.checks``) fails when a status has no entry.
STATUS_DEFINITIONS: dict[str, Meaning] = {
    Status.NOT_STARTED: Meaning(
        _(
            "The promise was announced, but no action towards it has been recorded yet. "
            "This is where every commitment starts."
        ),
        _(
            "A new patrol arrangement announced at a summit, before any boat, officer or "
            "budget for it has been reported."
        ),
    ),
    Status.IN_PROGRESS: Meaning(
        _(
            "Concrete steps towards the promise are recorded: a law passed, a deal signed, "
            "money spent, people or boats deployed. It is not yet delivered."
        ),
        _(
            "The UK-France \"one in, one out\" returns deal: the agreement is in force and "
            "the first people have been returned to France, but far fewer than crossed."
        ),
    ),
    Status.STALLED: Meaning(
        _(
            "The editors judge that progress has stopped: steps were taken or announced, "
            "then nothing more happened, or the people responsible say it is on hold. "
            "It is a verdict, backed by a cited source, not a count of days."
        ),
        _(
            "France's maritime doctrine letting officers intervene at sea: announced, then "
            "reported by sources in France to be on hold amid political turmoil."
        ),
    ),
    Status.PARTIALLY_KEPT: Meaning(
        _(
            "Delivered, but in a weaker, smaller or partial form than promised: some of it "
            "happened, not all of it."
        ),
        _(
            "Interceptions at sea carried out in some places but not along the whole coast "
            "the promise covered."
        ),
    ),
    Status.KEPT: Meaning(
        _("Delivered as promised, in full, shown by a cited source."),
        _("A returns agreement signed and in force, with the numbers it promised returned."),
    ),
    Status.BROKEN: Meaning(
        _(
            "Abandoned, reversed, or impossible now (its deadline passed with nothing "
            "delivered and no way left to deliver it)."
        ),
        _(
            "A government formally dropping a pledge to intercept boats at sea, or "
            "leaving office with it undelivered."
        ),
    ),
    Status.UNCLEAR: Meaning(
        _(
            "Too vague to measure, or the evidence is disputed, so the editors do not rate "
            "it either way. We say what would settle it."
        ),
        _(
            "Keir Starmer's \"smash the gangs\" policy: no measure or date says when it "
            "would be done."
        ),
    ),
}


#: What each flag rule watches, keyed by flag reason, for the methodology page. The
#: definitions hold the rule's numbers as named placeholders (``%(stall_after_days)s``,
#: ``%(unavailable_after)s``, ...), filled from the settings when the page is shown.
FLAG_DEFINITIONS: dict[str, Meaning] = {
    FlagReason.NO_RECENT_PROGRESS: Meaning(
        _(
            "Raised when a commitment that is not kept or broken has had no recorded "
            "progress (no new status) for more than %(stall_after_days)s days, or for the "
            "number of days the editors set for that commitment when it is expected to "
            "move faster or slower. A date known only to the month or the year is counted "
            "from the end of its period: a status of \"July 2025\" counts from 31 July 2025. "
            "An editor's check (\"checked, nothing new\") does not clear it: only progress "
            "does."
        ),
        _(
            "France's maritime doctrine, Stalled since October 2025, is flagged \"No "
            "recorded progress\" once %(stall_after_days)s days have passed after the end "
            "of October 2025."
        ),
    ),
    FlagReason.DEADLINE_PASSED: Meaning(
        _(
            "Raised when a commitment's deadline is behind us and it is neither kept nor "
            "broken. A vague deadline passes after its last possible day: a deadline of "
            "\"2025\" passes on 1 January 2026."
        ),
        _(
            "A deal promised \"by the summer\" that is still in progress in September."
        ),
    ),
    FlagReason.SOURCES_UNAVAILABLE: Meaning(
        _(
            "Raised when every source cited for a commitment's current status no longer "
            "answers: the link check, every %(check_sources_every_days)s days, has failed "
            "%(unavailable_after)s times in a row for each of them. Archived copies stay "
            "linked beside each source."
        ),
        _("A government press release taken down after a reshuffle."),
    ),
}
