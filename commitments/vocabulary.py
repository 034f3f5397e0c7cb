"""The fixed words of the domain: the statuses editors give, which of them are final, why
a flag is raised and the roles an actor plays in a commitment.

Owns these choices and nothing else: no models, no queries, no imports from the app, so
that the models, their QuerySets and the services can all name them without importing
each other. ``commitments.models`` re-exports them (``from commitments.models import
Status`` keeps working); they are defined only here.
"""

from __future__ import annotations

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
