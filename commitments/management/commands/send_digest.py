"""Send the editors' digest now, as the daily job does.

Owns the command line only; who gets what is ``services/digest.py``'s.
"""

from __future__ import annotations

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from commitments.services import editors_digest_send


class Command(BaseCommand):
    help = "Email the publishers the flags raised and resolved since the last digest."

    def add_arguments(self, parser):
        parser.add_argument(
            "--language",
            default=settings.EDITORS_DIGEST_LANGUAGE,
            help="The digest's language, en-gb or fr (default: EDITORS_DIGEST_LANGUAGE).",
        )

    def handle(self, *args, **options):
        language = options["language"]
        if language not in dict(settings.LANGUAGES):
            known = ", ".join(code for code, _name in settings.LANGUAGES)
            raise CommandError(f"--language: “{language}” is not one of {known}.")
        digest = editors_digest_send(language=language)
        if digest is None:
            self.stdout.write("Nothing sent: nothing new, or no publisher with an email address.")
        else:
            self.stdout.write(
                f"Sent to {digest.recipients}: {digest.raised_count} raised, "
                f"{digest.resolved_count} resolved."
            )
