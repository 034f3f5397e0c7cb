"""The Admin role manages accounts within the three roles and nothing above them.

Through ``roles.py`` and ``services/accounts.py`` (the rules) and through the admin's real
URLs with a client logged in as an Admin-role user, judged by the database state left
behind."""

from __future__ import annotations

import pytest
from django.contrib.auth.models import Group, Permission, User
from django.core.exceptions import ValidationError

from commitments import roles
from commitments.services import accounts

pytestmark = pytest.mark.django_db

USERS = "/admin/auth/user"
GROUPS = "/admin/auth/group"


@pytest.fixture
def admin_role(role_client):
    return role_client(roles.ADMIN)


@pytest.fixture
def editor():
    return accounts.user_create(username="ed", role=roles.EDITOR, password="a long pass phrase 1")


@pytest.fixture
def superuser():
    return User.objects.create_superuser("root", "root@example.org", "a long pass phrase 2")


def form_data(user, **changes):
    """What the Admin's change form posts back for ``user``, unchanged, plus ``changes``."""
    data = {
        "username": user.username,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "email": user.email,
        "role": roles.user_role(user) or "",
    }
    if user.is_active:
        data["is_active"] = "on"
    data.update(changes)
    return {k: v for k, v in data.items() if v is not None}


def state(user):
    user.refresh_from_db()
    return {
        "is_superuser": user.is_superuser,
        "is_staff": user.is_staff,
        "is_active": user.is_active,
        "permissions": set(user.user_permissions.values_list("codename", flat=True)),
        "groups": set(user.groups.values_list("name", flat=True)),
        "password": user.password,
        "email": user.email,
    }


# --- The rules (roles.py) ---------------------------------------------------------------


def test_taking_every_role_away_takes_admin_access_away(editor, superuser):
    accounts.user_set_role(user=editor, role=None)
    assert state(editor)["groups"] == set() and not editor.is_staff
    accounts.user_set_role(user=superuser, role=roles.EDITOR)
    accounts.user_set_role(user=superuser, role=None)
    assert superuser.is_staff and superuser.is_superuser


def test_an_admin_cannot_give_a_superuser_a_role(admin_role, superuser):
    before = state(superuser)
    with pytest.raises(ValidationError) as exc:
        accounts.user_set_role(user=superuser, role=roles.EDITOR, by=admin_role.user)
    assert "role" in exc.value.message_dict
    assert "Ask a superuser" in exc.value.message_dict["role"][0]
    assert state(superuser) == before


def test_an_editor_cannot_change_anyones_role(role_client, editor):
    other = role_client(roles.EDITOR).user
    with pytest.raises(ValidationError, match="not an Admin"):
        accounts.user_set_role(user=editor, role=roles.ADMIN, by=other)
    assert state(editor)["groups"] == {roles.EDITOR}


def test_an_unknown_role_is_refused_naming_the_field(admin_role, editor):
    with pytest.raises(ValidationError) as exc:
        accounts.user_set_role(user=editor, role="Superuser", by=admin_role.user)
    assert "Unknown role" in exc.value.message_dict["role"][0]


def test_user_save_refuses_superuser_rights_from_an_admin_and_saves_nothing(admin_role, editor):
    before = state(editor)
    editor.is_superuser = True
    editor.email = "changed@example.org"
    with pytest.raises(ValidationError) as exc:
        accounts.user_save(user=editor, by=admin_role.user, role=roles.EDITOR)
    assert exc.value.message_dict == {"is_superuser": ["Only a superuser may change this field."]}
    assert state(editor) == before


def test_an_account_with_more_than_a_role_is_not_the_admins_to_manage(admin_role, editor):
    editor.user_permissions.add(Permission.objects.get(codename="delete_statusupdate"))
    assert not roles.user_can_manage(by=admin_role.user, user=editor)
    editor.user_permissions.clear()
    editor.groups.add(Group.objects.create(name="Special"))
    assert not roles.user_can_manage(by=admin_role.user, user=editor)
    assert admin_role.get(f"{USERS}/{editor.pk}/change/").status_code == 200  # view only
    admin_role.post(f"{USERS}/{editor.pk}/change/", form_data(editor, email="x@example.org"))
    assert state(editor)["email"] == ""


def test_the_admin_role_holds_only_account_permissions():
    admin = Group.objects.get(name=roles.ADMIN)
    names = {f"{p.content_type.app_label}.{p.codename}" for p in admin.permissions.all()}
    assert names == set(roles.ROLE_PERMISSIONS[roles.ADMIN])
    assert not {"auth.change_group", "auth.add_group", "auth.delete_group"} & names
    assert "auth.delete_user" not in names  # deactivated, never deleted


# --- Through the admin's real URLs ------------------------------------------------------


def test_an_admin_gives_and_takes_roles_in_the_admin(admin_role, editor):
    response = admin_role.post(
        f"{USERS}/{editor.pk}/change/", form_data(editor, role=roles.PUBLISHER)
    )
    assert response.status_code == 302
    assert state(editor)["groups"] == {roles.PUBLISHER} and editor.is_staff
    admin_role.post(f"{USERS}/{editor.pk}/change/", form_data(editor, role=""))
    assert state(editor)["groups"] == set() and not editor.is_staff


def test_an_admin_deactivates_an_account(admin_role, editor):
    admin_role.post(f"{USERS}/{editor.pk}/change/", form_data(editor, is_active=None))
    assert state(editor)["is_active"] is False


@pytest.mark.parametrize("target", ["self", "editor"])
def test_extra_fields_posted_by_an_admin_change_nothing(admin_role, editor, target):
    user = admin_role.user if target == "self" else editor
    special = Group.objects.create(name="Special")
    special.permissions.add(Permission.objects.get(codename="delete_statusupdate"))
    before = state(user)
    response = admin_role.post(
        f"{USERS}/{user.pk}/change/",
        form_data(
            user,
            is_superuser="on",
            is_staff="on",
            user_permissions=[Permission.objects.get(codename="delete_user").pk],
            groups=[special.pk, Group.objects.get(name=roles.PUBLISHER).pk],
            password="md5$x$y",
        ),
    )
    assert response.status_code == 302  # saved what it may, ignored the rest
    assert state(user) == before
    assert not user.has_perm("commitments.delete_statusupdate")


def test_an_admin_cannot_create_a_superuser(admin_role):
    response = admin_role.post(
        f"{USERS}/add/",
        {
            "username": "newcomer",
            "usable_password": "true",
            "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
            "role": roles.EDITOR,
            "is_superuser": "on",
            "groups": [Group.objects.get(name=roles.ADMIN).pk],
            "user_permissions": [Permission.objects.get(codename="delete_user").pk],
        },
    )
    assert response.status_code == 302
    user = User.objects.get(username="newcomer")
    assert state(user) | {"password": None} == {
        "is_superuser": False,
        "is_staff": True,
        "is_active": True,
        "permissions": set(),
        "groups": {roles.EDITOR},
        "password": None,
        "email": "",
    }


def test_an_admin_cannot_edit_a_superusers_account(admin_role, superuser):
    before = state(superuser)
    page = admin_role.get(f"{USERS}/{superuser.pk}/change/")
    assert page.status_code == 200 and 'name="email"' not in page.content.decode()
    admin_role.post(
        f"{USERS}/{superuser.pk}/change/",
        form_data(superuser, email="taken@example.org", is_active=None, role=roles.EDITOR),
    )
    password_page = f"{USERS}/{superuser.pk}/password/"
    assert admin_role.get(password_page).status_code == 403
    admin_role.post(
        password_page,
        {"password1": "an attacker's phrase 7", "password2": "an attacker's phrase 7"},
    )
    assert state(superuser) == before


def test_an_admin_resets_an_editors_password(admin_role, editor):
    response = admin_role.post(
        f"{USERS}/{editor.pk}/password/",
        {
            "usable_password": "true",
            "password1": "a brand new phrase 9",
            "password2": "a brand new phrase 9",
        },
    )
    assert response.status_code == 302
    editor.refresh_from_db()
    assert editor.check_password("a brand new phrase 9")


def test_the_admin_form_offers_exactly_the_three_roles(admin_role, editor):
    form = admin_role.get(f"{USERS}/{editor.pk}/change/").context["adminform"].form
    assert [value for value, _label in form.fields["role"].choices] == ["", *roles.ROLES]
    assert {"is_superuser", "user_permissions", "groups"}.isdisjoint(form.fields)


def test_groups_are_view_only_for_an_admin(admin_role):
    group = Group.objects.get(name=roles.EDITOR)
    before = set(group.permissions.all())
    assert admin_role.get(f"{GROUPS}/{group.pk}/change/").status_code == 200
    admin_role.post(
        f"{GROUPS}/{group.pk}/change/",
        {"name": roles.EDITOR, "permissions": [p.pk for p in Permission.objects.all()]},
    )
    admin_role.post(f"{GROUPS}/{group.pk}/delete/", {"post": "yes"})
    admin_role.post(f"{GROUPS}/add/", {"name": "Owners"})
    assert set(group.permissions.all()) == before
    assert not Group.objects.filter(name="Owners").exists()


def test_a_superuser_keeps_djangos_full_user_form(admin_client, editor):
    form = admin_client.get(f"{USERS}/{editor.pk}/change/").context["adminform"].form
    assert {"is_superuser", "user_permissions", "groups"} <= set(form.fields)
