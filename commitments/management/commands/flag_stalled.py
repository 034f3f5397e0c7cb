"""``python manage.py flag_stalled``: the old name of ``refresh_flags``, kept for one
release. It says on stderr that it is deprecated, then runs ``refresh_flags`` unchanged."""

from __future__ import annotations

from . import refresh_flags


class Command(refresh_flags.Command):
    help = f"Deprecated: use refresh_flags. {refresh_flags.Command.help}"

    def handle(self, *args, **options):
        self.stderr.write(
            "flag_stalled is deprecated and will be removed in the next release: "
            "use `manage.py refresh_flags`."
        )
        super().handle(*args, **options)
