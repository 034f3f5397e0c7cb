from django.apps import AppConfig


class CommitmentsConfig(AppConfig):
    name = "commitments"
    verbose_name = "Commitments"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from .roles import connect_signals

        # After every migrate: the Editor, Publisher and Admin groups exist with exactly
        # the permissions roles.py gives them.
        connect_signals(self)
