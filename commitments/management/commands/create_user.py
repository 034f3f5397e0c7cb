"""``python manage.py create_user``: make a newsroom account with one role (Editor,
Publisher or Admin), asking for the password when it is not given.

Owns the command line only; the account rules are ``services/accounts.py``'s.
"""

import getpass
import secrets
import sys

from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError

from commitments.roles import ROLES
from commitments.services.accounts import user_create


class Command(BaseCommand):
    help = (
        "Create a newsroom account with a role (editor, publisher or admin) and access to "
        "the admin. Without --password: asks for one at a terminal, otherwise generates "
        "one and prints it once."
    )

    def add_arguments(self, parser):
        parser.add_argument("username")
        parser.add_argument(
            "--role", required=True, type=str.lower, choices=[r.lower() for r in ROLES]
        )
        parser.add_argument("--email", default="")
        parser.add_argument(
            "--password",
            help="Visible in the shell history and process list: prefer the prompt.",
        )

    def handle(self, *args, username, role, email, password, **options):
        generated = False
        if password is None:
            if sys.stdin.isatty():
                password = getpass.getpass("Password: ")
                if password != getpass.getpass("Password (again): "):
                    raise CommandError("password: the two passwords differ.")
            else:
                password = secrets.token_urlsafe(15)
                generated = True
        role_name = {r.lower(): r for r in ROLES}[role]
        try:
            user = user_create(username=username, role=role_name, email=email, password=password)
        except ValidationError as exc:
            raise CommandError(
                "; ".join(f"{field}: {' '.join(msgs)}" for field, msgs in exc.message_dict.items())
            ) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"Created {user.username} ({role_name}); they can log in at /admin/."
            )
        )
        if generated:
            self.stdout.write(f"Password (shown once): {password}")
