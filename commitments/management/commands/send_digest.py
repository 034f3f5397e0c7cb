"""Send the editors' digest now, as the daily job does.

Owns the command line only; who gets what is ``services/digest.py``'s.
"""

from __future__ import annotations

from django.core.management.base import BaseCommand

from commitments.services import editors_digest_send


class Command(BaseCommand):
    help = "Email the publishers the flags raised and resolved since the last digest."

    def handle(self, *args, **options):
        digest = editors_digest_send()
        if digest is None:
            self.stdout.write("Nothing sent: nothing new, or no publisher with an email address.")
        else:
            self.stdout.write(
                f"Sent to {digest.recipients}: {digest.raised_count} raised, "
                f"{digest.resolved_count} resolved."
            )
