"""Check the sources' web addresses now, as the weekly job does.

Owns the command line and its report; the checking is ``services/links.py``'s.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from commitments.services import sources_check_links


class Command(BaseCommand):
    help = (
        "Request each source's address (HEAD, then GET), record whether it is online, mark "
        "sources failing three checks in a row unavailable, and flag commitments whose "
        "current sources are all unavailable."
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--source", type=int, action="append", dest="source_ids", help="Only this source id."
        )

    def handle(self, *args, source_ids=None, **options):
        report = sources_check_links(source_ids=source_ids)
        self.stdout.write(str(report))
