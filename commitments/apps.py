"""The app's configuration, and the one signal it wires: after every ``migrate`` the
Editor, Publisher and Admin groups hold exactly the permissions ``roles.py`` gives them
(``services.accounts.roles_sync``). Must hold no rules of its own."""

from django.apps import AppConfig
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs):
    """post_migrate receiver: runs once the permissions of every app exist."""
    if app_config is None or app_config.label != "commitments":
        return
    from .services.accounts import roles_sync

    roles_sync()


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = _("Commitments")  # the admin's app name, in French under /fr/admin/
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import checks  # noqa: F401 (registers the system checks)

        post_migrate.connect(
            sync_roles_after_migrate, sender=self, dispatch_uid="commitments.roles_sync"
        )
