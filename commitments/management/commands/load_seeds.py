"""``python manage.py load_seeds``: load the seed data in ``seeds/`` (idempotent): create
what is missing; on records that exist, fill translated fields (the French) that are still
blank, never one that has text.

Owns the command line only; what is created and how is ``seeding.py``'s.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from commitments.seeding import SEEDS_DIR, SeedError, load_seeds


class Command(BaseCommand):
    help = (
        "Load the seed data in seeds/: creates what is missing and fills French still blank "
        "on what exists (never overwrites it); a second run changes nothing."
    )

    def add_arguments(self, parser):
        parser.add_argument("--directory", type=Path, default=SEEDS_DIR)

    def handle(self, *args, directory: Path, **options):
        try:
            report = load_seeds(directory)
        except SeedError as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS(f"Seeds: {report}"))
