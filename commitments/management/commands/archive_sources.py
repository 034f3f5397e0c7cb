"""Ask the Wayback Machine to archive sources that have no archive yet (here and now, or
through the worker). The rules are ``services/archiving.py``'s."""

from __future__ import annotations

from django.core.management.base import BaseCommand

from commitments.services.archiving import (
    source_archive,
    source_archive_queue,
    sources_pending_archive,
)


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
            queued = sum(source_archive_queue(source_id) for source_id in ids)
            self.stdout.write(f"{sources(queued)} handed to the worker.")
            return
        for source_id in ids:
            outcome = source_archive(source_id=source_id)
            if outcome is not None:
                self.stdout.write(f"source {source_id}: {outcome.archive_url or outcome.error}")
        self.stdout.write(f"{sources(len(ids))} tried.")


def sources(count: int) -> str:
    """1 -> "1 source", 2 -> "2 sources"."""
    return f"{count} source" if count == 1 else f"{count} sources"
