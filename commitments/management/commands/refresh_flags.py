"""Raise and resolve flags now, as the daily job does: ``python manage.py refresh_flags``.

Owns the command line (``--today``) and its report; every rule is ``services/flags.py``'s.
"""

from __future__ import annotations

import datetime

from django.core.management.base import BaseCommand, CommandError

from commitments.services import flags_refresh


class Command(BaseCommand):
    help = (
        "Flag published commitments with no recent progress or a passed deadline (and "
        "those whose current sources are all unavailable); resolve flags that no longer hold."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--today",
            help="Judge as of this date (YYYY-MM-DD) instead of today, e.g. to preview.",
        )

    def handle(self, *args, today=None, **options):
        if today:
            try:
                today = datetime.date.fromisoformat(today)
            except ValueError as exc:
                raise CommandError(
                    f"--today must be a date like 2025-10-31, not {today!r}"
                ) from exc
        report = flags_refresh(today=today)
        self.stdout.write(str(report))
