"""Newsroom roles as Django groups with permissions.

- **Editor**: creates and edits draft commitments, actors, topics, sources, statements,
  indicators and observations; logs status updates. Cannot publish, and cannot delete
  anything that is public (the admin refuses that object by object).
- **Publisher**: everything an editor does, plus publishing and unpublishing commitments
  and acknowledging and resolving flags.
- **Admin**: manages users and their roles.

Every role also needs ``is_staff`` to enter the admin; ``user_create`` sets it. The groups
are kept in step with this file after every ``migrate`` (see ``apps.py``), so changing a
role here and migrating is all it takes.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.db.models.signals import post_migrate
from django.utils.translation import gettext_lazy as _

EDITOR = "Editor"
PUBLISHER = "Publisher"
ADMIN = "Admin"
ROLES = (EDITOR, PUBLISHER, ADMIN)

_EDITED = ["actor", "topic", "source", "statement", "indicator", "observation", "commitment"]
_INLINES = ["commitmentactor", "commitmentrelation"]

_EDITOR_PERMISSIONS = (
    [f"commitments.{action}_{model}" for model in _EDITED for action in ("view", "add", "change")]
    # Deleting is refused object by object for anything public (see admin.py).
    + [f"commitments.delete_{model}" for model in _EDITED]
    + [
        f"commitments.{action}_{model}"
        for model in _INLINES
        for action in ("view", "add", "change", "delete")
    ]
    # The timeline is append-only: adding and reading, never changing or deleting.
    + ["commitments.view_statusupdate", "commitments.add_statusupdate", "commitments.view_flag"]
    # Changes to public material are proposed as revisions; a publisher applies them.
    + ["commitments.view_revision"]
)

ROLE_PERMISSIONS: dict[str, list[str]] = {
    EDITOR: _EDITOR_PERMISSIONS,
    PUBLISHER: _EDITOR_PERMISSIONS + ["commitments.publish_commitment", "commitments.resolve_flag"],
    ADMIN: [
        f"auth.{action}_{model}"
        for model in ("user", "group")
        for action in ("view", "add", "change", "delete")
    ],
}


def _permissions(names: list[str]) -> list[Permission]:
    query = Q()
    for name in names:
        app_label, codename = name.split(".")
        query |= Q(content_type__app_label=app_label, codename=codename)
    found = list(Permission.objects.filter(query).select_related("content_type"))
    missing = set(names) - {f"{p.content_type.app_label}.{p.codename}" for p in found}
    if missing:
        raise LookupError(f"Permissions not found (run migrate first): {sorted(missing)}")
    return found


@transaction.atomic
def roles_sync() -> dict[str, int]:
    """Create the groups and set exactly their permissions. Safe to run any number of times."""
    counts = {}
    for role, names in ROLE_PERMISSIONS.items():
        group, _created = Group.objects.get_or_create(name=role)
        permissions = _permissions(names)
        group.permissions.set(permissions)
        counts[role] = len(permissions)
    return counts


def sync_roles_after_migrate(sender, app_config=None, using="default", **kwargs):
    """post_migrate receiver: runs once the permissions of every app exist."""
    if app_config is None or app_config.label != "commitments":
        return
    roles_sync()


def connect_signals(app_config) -> None:
    post_migrate.connect(
        sync_roles_after_migrate, sender=app_config, dispatch_uid="commitments.roles_sync"
    )


@transaction.atomic
def user_set_role(*, user, role: str):
    """Give the user exactly this role (replacing any other) and access to the admin."""
    if role not in ROLES:
        raise ValidationError(
            {
                "role": _("Unknown role “%(role)s”. Choose one of: %(roles)s.")
                % {"role": role, "roles": ", ".join(ROLES)}
            }
        )
    roles_sync()
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role))
    user.groups.add(Group.objects.get(name=role))
    if not user.is_staff:
        user.is_staff = True
        user.save(update_fields=["is_staff"])
    return user


@transaction.atomic
def user_create(*, username: str, role: str, email: str = "", password: str):
    """A newsroom account with one role. Refuses a taken username or a weak password."""
    from django.contrib.auth.password_validation import validate_password

    User = get_user_model()
    username = (username or "").strip()
    errors = {}
    if not username:
        errors["username"] = _("Give a username.")
    elif User.objects.filter(username__iexact=username).exists():
        errors["username"] = _("The username “%(name)s” is taken.") % {"name": username}
    if role not in ROLES:
        errors["role"] = _("Unknown role “%(role)s”. Choose one of: %(roles)s.") % {
            "role": role,
            "roles": ", ".join(ROLES),
        }
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(username=username, email=email, password=password)
    return user_set_role(user=user, role=role)
