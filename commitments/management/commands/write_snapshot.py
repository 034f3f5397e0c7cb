"""Write today's dated snapshot of the public data now, as the nightly job does:
``python manage.py write_snapshot``.

Owns the command line only; what a snapshot holds is ``services/snapshots.py``'s.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from commitments.services import snapshot_write


class Command(BaseCommand):
    help = (
        "Write today's full snapshot of the public data (CSV, JSON and a manifest with "
        "checksums) under SNAPSHOT_ROOT, unless it exists, and prune the oldest."
    )

    def handle(self, *args, **options):
        self.stdout.write(str(snapshot_write()))
