"""Newsroom roles as Django groups with permissions.

- **Editor**: creates and edits draft commitments, actors, topics, sources, statements,
  indicators and observations; logs status updates. Cannot publish, and cannot delete
  anything that is public (the admin refuses that object by object).
- **Publisher**: everything an editor does, plus publishing and unpublishing commitments
  and acknowledging and resolving flags.
- **Admin**: manages accounts within these three roles: creates them, gives one of the
  roles, deactivates them, resets passwords, and unlocks sign-ins throttled by
  django-axes. Nothing above the roles: only a superuser grants superuser or staff
  rights or single permissions, changes what a role may do (the groups' permissions), or
  edits a superuser's account (see ``user_can_manage``).

Staff access follows the role: ``user_set_role`` sets ``is_staff``, and taking every role
away from a non-superuser takes it away. The groups are kept in step with this file after
every ``migrate`` (see ``apps.py``), so changing a role here and migrating is all it takes.
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
    # Accounts are deactivated, never deleted (what they recorded keeps its author), and
    # the groups are read-only: what a role may do is decided here, by a superuser's deploy.
    ADMIN: [
        "auth.view_user",
        "auth.add_user",
        "auth.change_user",
        "auth.view_group",
        # Unlocking a throttled sign-in is deleting its attempt record.
        "axes.view_accessattempt",
        "axes.delete_accessattempt",
        "axes.view_accesslog",
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


def _unknown_role(role) -> str:
    return _("Unknown role “%(role)s”. Choose one of: %(roles)s.") % {
        "role": role,
        "roles": ", ".join(ROLES),
    }


def user_role(user) -> str | None:
    """The user's role, or None."""
    names = [g.name for g in user.groups.all() if g.name in ROLES]
    return next((role for role in reversed(ROLES) if role in names), None)


def user_can_manage(*, by, user) -> bool:
    """May ``by`` change ``user``'s account (role, details, active, password)?

    A superuser may change anyone. Anyone else needs ``auth.change_user`` (the Admin role)
    and a target that holds nothing above the roles: not a superuser, no single
    permissions, no group other than the three roles. ``user`` is judged as stored."""
    if by.is_superuser:
        return True
    if not (by.is_active and by.has_perm("auth.change_user")):
        return False
    if user.pk is None:
        return by.has_perm("auth.add_user")
    stored = type(user).objects.get(pk=user.pk)
    return not (
        stored.is_superuser
        or stored.user_permissions.exists()
        or stored.groups.exclude(name__in=ROLES).exists()
    )


def _refuse_unless_manageable(*, by, user, field: str) -> None:
    if by is not None and not user_can_manage(by=by, user=user):
        raise ValidationError(
            {
                field: _(
                    "You may not change the account “%(name)s”: it holds more than the "
                    "newsroom roles, or you are not an Admin. Ask a superuser."
                )
                % {"name": user.get_username()}
            }
        )


@transaction.atomic
def user_set_role(*, user, role: str | None, by=None):
    """Give the user exactly this role (replacing any other) and access to the admin.

    ``role=None`` takes every role away, and with it admin access unless the user is a
    superuser. ``by`` is the account making the change (None: the system, e.g. the
    ``create_user`` command); a non-superuser may only change accounts they can manage.
    """
    if role is not None and role not in ROLES:
        raise ValidationError({"role": _unknown_role(role)})
    _refuse_unless_manageable(by=by, user=user, field="role")
    roles_sync()
    user.groups.remove(*Group.objects.filter(name__in=ROLES).exclude(name=role or ""))
    if role is not None:
        user.groups.add(Group.objects.get(name=role))
    is_staff = role is not None or user.is_superuser
    if user.is_staff != is_staff:
        user.is_staff = is_staff
        user.save(update_fields=["is_staff"])
    return user


#: What a non-superuser may change on an account; the role goes through ``user_set_role``.
MANAGED_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "password")


@transaction.atomic
def user_save(*, user, by, role: str | None):
    """Save an account edited (or created) by ``by`` in the admin, then set its role.

    A non-superuser ``by`` may change only ``MANAGED_FIELDS`` of an account they can
    manage; any other difference from the stored row (``is_superuser``, ``is_staff``, ...)
    is refused, naming the field, and nothing is saved."""
    if role is not None and role not in ROLES:
        raise ValidationError({"role": _unknown_role(role)})
    if not by.is_superuser:
        _refuse_unless_manageable(by=by, user=user, field="username")
        User = type(user)
        stored = User.objects.filter(pk=user.pk).first() if user.pk else User()
        for field in User._meta.concrete_fields:
            name = field.attname
            if name in MANAGED_FIELDS or name in {"id", "last_login", "date_joined"}:
                continue
            if name == "is_staff":
                continue  # follows the role, set by user_set_role below
            if getattr(user, name) != getattr(stored, name):
                raise ValidationError(
                    {name: _("Only a superuser may change this field.")}
                )
    user.full_clean(exclude=["password"])
    user.save()
    return user_set_role(user=user, role=role, by=by)


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
        errors["role"] = _unknown_role(role)
    try:
        validate_password(password, User(username=username, email=email))
    except ValidationError as exc:
        errors["password"] = " ".join(exc.messages)
    if errors:
        raise ValidationError(errors)
    user = User.objects.create_user(username=username, email=email, password=password)
    return user_set_role(user=user, role=role)
