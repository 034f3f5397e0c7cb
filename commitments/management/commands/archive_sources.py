"""Ask the Wayback Machine to archive sources that have no archive yet."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from commitments.services.links import source_archive, sources_pending_archive


class Command(BaseCommand):
    help = (
        "Archive sources with an address and no archive (not asked about in the last day), "
        "here and now; or, with --enqueue, hand them to the Celery worker."
    )

    def add_arguments(self, parser):
        parser.add_argument("--limit", type=int, default=20)
        parser.add_argument("--enqueue", action="store_true", help="Let the worker do it.")

    def handle(self, *args, limit, enqueue, **options):
        ids = sources_pending_archive(limit=limit)
        if enqueue:
            from commitments.tasks import archive_source

            for source_id in ids:
                archive_source.delay(source_id)
            self.stdout.write(f"{len(ids)} sources handed to the worker.")
            return
        for source_id in ids:
            outcome = source_archive(source_id=source_id)
            if outcome is not None:
                self.stdout.write(f"source {source_id}: {outcome.archive_url or outcome.error}")
        self.stdout.write(f"{len(ids)} sources tried.")
