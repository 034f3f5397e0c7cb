"""Writes to newsroom accounts: keeping the role groups in step with ``roles.py``,
creating an account, giving it a role, saving what an Admin edited, and confirming an
authenticator app. Atomic and validating, like every service; the ``create_user``
command, the admin (``admin_accounts.py``) and the sign-in pages (``sign_in.py``) call
these. Must not decide what a role may do (``roles.py`` does) or render anything.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils.translation import gettext_lazy as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from ..roles import ROLE_PERMISSIONS, ROLES, user_can_manage

#: What a non-superuser may change on an account; the role goes through ``user_set_role``.
MANAGED_FIELDS = ("username", "first_name", "last_name", "email", "is_active", "password")


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


def _unknown_role(role) -> str:
    return _("Unknown role “%(role)s”. Choose one of: %(roles)s.") % {
        "role": role,
        "roles": ", ".join(ROLES),
    }


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
                raise ValidationError({name: _("Only a superuser may change this field.")})
    user.full_clean(exclude=["password"])
    user.save()
    return user_set_role(user=user, role=role, by=by)


@transaction.atomic
def user_create(*, username: str, role: str, email: str = "", password: str):
    """A newsroom account with one role. Refuses a taken username or a weak password."""
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


# --- Two-factor devices (django-otp) ----------------------------------------------------


def device_for_enrolment(*, user) -> TOTPDevice:
    """The user's unconfirmed device, made if there is none: shown until confirmed."""
    device = TOTPDevice.objects.filter(user=user, confirmed=False).order_by("pk").first()
    return device or TOTPDevice.objects.create(
        user=user, name=str(_("Authenticator app")), confirmed=False
    )


@transaction.atomic
def device_confirm(*, device: TOTPDevice, token: str) -> TOTPDevice:
    """Confirm an enrolment with a code from the app. Replaces the user's older devices."""
    token = (token or "").strip()
    if not (token.isdigit() and len(token) == device.digits):
        raise ValidationError(
            {"token": _("Enter the %(digits)d-digit code your app shows.") % {
                "digits": device.digits
            }}
        )
    if not device.verify_token(token):
        raise ValidationError(
            {"token": _("This code does not match. Check your device's clock and try again.")}
        )
    TOTPDevice.objects.filter(user=device.user).exclude(pk=device.pk).delete()
    device.confirmed = True
    device.save(update_fields=["confirmed"])
    return device
