"""Roles against actions, through the admin's real URLs with logged-in clients.

Each action is judged by the database state it leaves, not by the status code alone."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group, User
from django.core.management import call_command
from django.core.management.base import CommandError
from django.test import Client
from django.utils import timezone

from commitments import roles
from commitments.models import Commitment, Flag, FlagReason, StatusUpdate
from commitments.services import accounts

pytestmark = pytest.mark.django_db

ADMIN = "/admin/commitments"


def payload(response) -> dict:
    """The data an editor's browser would post back from an admin change form, unchanged."""
    data: dict = {}

    def put(prefix, form):
        for name in form.fields:
            key = f"{prefix}{name}"
            value = form[name].value()
            if value is None or value is False:
                continue
            if value is True:
                value = "on"
            elif isinstance(value, list | tuple):
                value = [str(getattr(v, "pk", v)) for v in value]
            elif isinstance(value, datetime.date):
                value = value.isoformat()
            else:
                value = str(getattr(value, "pk", value))
            data[key] = value

    put("", response.context["adminform"].form)
    for inline in response.context["inline_admin_formsets"]:
        formset = inline.formset
        put(f"{formset.prefix}-", formset.management_form)
        for form in formset.forms:
            put(f"{form.prefix}-", form)
    return data


@pytest.fixture
def world(make_commitment, make_source, log_update):
    source = make_source()
    draft = make_commitment(published=False, made_in=source, slug="a-draft", title="A draft")
    once = make_commitment(
        published=False, made_in=source, slug="once-public", published_at=timezone.now()
    )
    public = make_commitment(published=True, made_in=source, slug="public", title="Public")
    update = log_update(public, sources=[source], description="The original entry.")
    flag = Flag.objects.create(
        commitment=public, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=timezone.now()
    )
    return {
        "source": source,
        "draft": draft,
        "once": once,
        "public": public,
        "update": update,
        "flag": flag,
    }


def change_payload(commitment, **changes):
    superuser = User.objects.create_superuser(f"reader-{commitment.pk}", "", "x")
    reader = Client()
    reader.force_login(superuser)
    data = payload(reader.get(f"{ADMIN}/commitment/{commitment.pk}/change/"))
    superuser.delete()
    data.update(changes)
    return data


def create_draft(client, world):
    add = f"{ADMIN}/commitment/add/"
    response = client.get(add)
    if response.status_code != 200:
        client.post(add, {"title": "New", "slug": "new-one"})
    else:
        data = payload(response)
        data.update(
            {
                "title": "New promise",
                "slug": "new-one",
                "summary": "Promised.",
                "made_on": "2025-07-10",
                "made_precision": "day",
                "deadline_precision": "day",
            }
        )
        assert client.post(add, data).status_code == 302
    return Commitment.objects.filter(slug="new-one", is_published=False).exists()


def edit(commitment):
    def action(client, world):
        target = world[commitment]
        data = change_payload(
            target,
            title="Edited title",
            # Asked only on a public record's form; ignored on a draft's.
            revision_kind="correction",
            revision_reason="The title misread the promise.",
        )
        client.post(f"{ADMIN}/commitment/{target.pk}/change/", data)
        target.refresh_from_db()
        return target.title == "Edited title"

    return action


def log_update(client, world):
    before = StatusUpdate.objects.count()
    client.post(
        f"{ADMIN}/statusupdate/add/",
        {
            "commitment": world["public"].pk,
            "status": "stalled",
            "effective_on": "2025-09-01",
            "effective_precision": "day",
            "description": "Nothing has moved.",
            "sources": [world["source"].pk],
        },
    )
    return StatusUpdate.objects.count() == before + 1


def publish(client, world):
    client.post(f"{ADMIN}/commitment/{world['draft'].pk}/publish/")
    return Commitment.objects.get(pk=world["draft"].pk).is_published


def publish_action(client, world):
    client.post(
        f"{ADMIN}/commitment/",
        {"action": "publish_selected", "_selected_action": [world["draft"].pk], "index": 0},
    )
    return Commitment.objects.get(pk=world["draft"].pk).is_published


def unpublish(client, world):
    client.post(f"{ADMIN}/commitment/{world['public'].pk}/unpublish/")
    return not Commitment.objects.get(pk=world["public"].pk).is_published


def delete(commitment):
    def action(client, world):
        target = world[commitment]
        client.post(f"{ADMIN}/commitment/{target.pk}/delete/", {"post": "yes"})
        return not Commitment.objects.filter(pk=target.pk).exists()

    return action


def bulk_delete_with_published(client, world):
    selected = [world["draft"].pk, world["public"].pk]
    client.post(
        f"{ADMIN}/commitment/",
        {"action": "delete_selected", "_selected_action": selected, "post": "yes"},
    )
    return Commitment.objects.filter(pk__in=selected).count() < 2


def edit_status_update(client, world):
    update = world["update"]
    client.post(
        f"{ADMIN}/statusupdate/{update.pk}/change/",
        {
            "commitment": update.commitment_id,
            "status": "kept",
            "effective_on": "2025-08-01",
            "effective_precision": "day",
            "description": "Rewritten.",
            "sources": [world["source"].pk],
        },
    )
    update.refresh_from_db()
    return update.description == "Rewritten." or update.status == "kept"


def delete_status_update(client, world):
    client.post(f"{ADMIN}/statusupdate/{world['update'].pk}/delete/", {"post": "yes"})
    return not StatusUpdate.objects.filter(pk=world["update"].pk).exists()


def bulk_delete_status_updates(client, world):
    client.post(
        f"{ADMIN}/statusupdate/",
        {
            "action": "delete_selected",
            "_selected_action": [world["update"].pk],
            "post": "yes",
            "index": 0,
        },
    )
    return not StatusUpdate.objects.filter(pk=world["update"].pk).exists()


def review_flag(action_name, field):
    def action(client, world):
        client.post(
            f"{ADMIN}/flag/",
            {
                "action": action_name,
                "_selected_action": [world["flag"].pk],
                "apply": "1",
                "note": "Checked with the desk.",
            },
        )
        return getattr(Flag.objects.get(pk=world["flag"].pk), field) is not None

    return action


def manage_users(client, world):
    client.post(
        "/admin/auth/user/add/",
        {
            "username": "new-reporter",
            "usable_password": "true",
            "password1": "a long pass phrase 42",
            "password2": "a long pass phrase 42",
        },
    )
    listing = client.get("/admin/auth/user/").status_code
    return User.objects.filter(username="new-reporter").exists() and listing == 200


#: action: (Editor, Publisher, Admin) may do it.
MATRIX = {
    "create draft commitment": (create_draft, (True, True, False)),
    "edit draft commitment": (edit("draft"), (True, True, False)),
    "edit published commitment": (edit("public"), (False, True, False)),
    "log status update": (log_update, (True, True, False)),
    "publish": (publish, (False, True, False)),
    "publish with the list action": (publish_action, (False, True, False)),
    "unpublish": (unpublish, (False, True, False)),
    "delete draft never published": (delete("draft"), (True, True, False)),
    "delete draft once published": (delete("once"), (False, True, False)),
    "delete published commitment": (delete("public"), (False, False, False)),
    "bulk delete including a published one": (bulk_delete_with_published, (False, False, False)),
    "edit status update": (edit_status_update, (False, False, False)),
    "delete status update": (delete_status_update, (False, False, False)),
    "bulk delete status updates": (bulk_delete_status_updates, (False, False, False)),
    "acknowledge flag": (review_flag("acknowledge_flags", "acknowledged_at"), (False, True, False)),
    "resolve flag": (review_flag("resolve_flags", "resolved_at"), (False, True, False)),
    "manage users": (manage_users, (False, False, True)),
}
CASES = [
    pytest.param(role, name, allowed[i], id=f"{role}-{name}")
    for name, (_action, allowed) in MATRIX.items()
    for i, role in enumerate(roles.ROLES)
]


@pytest.mark.parametrize(("role", "action_name", "allowed"), CASES)
def test_permission_matrix(role_client, world, role, action_name, allowed):
    action = MATRIX[action_name][0]
    assert action(role_client(role), world) is allowed


@pytest.mark.parametrize(
    "action_name",
    [
        "delete published commitment",
        "bulk delete including a published one",
        "edit status update",
        "delete status update",
        "bulk delete status updates",
    ],
)
def test_not_even_a_superuser_rewrites_the_public_record(admin_client, world, action_name):
    assert MATRIX[action_name][0](admin_client, world) is False


def test_the_bulk_delete_page_says_why_it_refuses(role_client, world):
    response = role_client("Publisher").post(
        f"{ADMIN}/commitment/",
        {"action": "delete_selected", "_selected_action": [world["public"].pk], "index": 0},
    )
    assert response.status_code == 200
    assert "is public; a publisher must unpublish what shows it first" in response.content.decode()


def test_a_public_source_cannot_be_deleted_but_an_unused_one_can(role_client, world, make_source):
    editor = role_client("Editor")
    used = world["source"]
    assert editor.post(f"{ADMIN}/source/{used.pk}/delete/", {"post": "yes"}).status_code == 403
    spare = make_source()
    assert editor.post(f"{ADMIN}/source/{spare.pk}/delete/", {"post": "yes"}).status_code == 302
    assert not type(spare).objects.filter(pk=spare.pk).exists()
    assert type(used).objects.filter(pk=used.pk).exists()


def test_editors_may_only_propose_changes_to_a_published_commitment(role_client, world):
    response = role_client("Editor").get(f"{ADMIN}/commitment/{world['public'].pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    # The form is there, with the revision's questions; saving proposes (test_revisions.py).
    assert 'name="title"' in html
    assert 'name="revision_reason"' in html
    assert "Log status update" in html
    assert "/publish/" not in html


def test_anonymous_and_non_staff_users_never_reach_the_admin(client, world, django_user_model):
    for url in [
        f"{ADMIN}/commitment/",
        f"{ADMIN}/commitment/{world['draft'].pk}/change/",
        f"{ADMIN}/commitment/{world['draft'].pk}/publish/",
        f"{ADMIN}/statusupdate/add/",
        f"{ADMIN}/flag/",
    ]:
        response = client.get(url)
        assert response.status_code == 302 and "/admin/login/" in response["Location"], url
    client.post(f"{ADMIN}/commitment/{world['draft'].pk}/publish/")
    assert not Commitment.objects.get(pk=world["draft"].pk).is_published
    reader = django_user_model.objects.create_user("reader", password="a long pass phrase")
    client.force_login(reader)
    assert "/admin/login/" in client.get(f"{ADMIN}/commitment/")["Location"]


def test_groups_are_created_by_migrate_and_syncing_is_idempotent():
    assert set(Group.objects.values_list("name", flat=True)) >= set(roles.ROLES)
    first = {
        g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()
    }
    accounts.roles_sync()
    accounts.roles_sync()
    again = {
        g.name: set(g.permissions.values_list("codename", flat=True)) for g in Group.objects.all()
    }
    assert first == again
    assert Group.objects.filter(name__in=roles.ROLES).count() == 3
    assert (
        "publish_commitment" in again["Publisher"] and "publish_commitment" not in again["Editor"]
    )
    assert "change_statusupdate" not in again["Publisher"] | again["Editor"]
    assert "delete_statusupdate" not in again["Publisher"] | again["Editor"]


def test_create_user_command_gives_the_role_and_admin_access(capsys):
    call_command("create_user", "maria", "--role", "publisher", "--email", "m@example.org")
    out = capsys.readouterr().out
    user = User.objects.get(username="maria")
    assert user.is_staff and not user.is_superuser
    assert list(user.groups.values_list("name", flat=True)) == ["Publisher"]
    assert user.has_perm("commitments.publish_commitment")
    password = out.split("Password (shown once): ")[1].strip()
    assert Client().login(username="maria", password=password)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["x1", "--role", "editor", "--password", "short"], "password:"),
        (["taken", "--role", "editor", "--password", "a long pass phrase"], "is taken"),
    ],
)
def test_create_user_command_refuses_with_the_field_and_reason(args, message):
    User.objects.create_user("taken")
    with pytest.raises(CommandError, match=message):
        call_command("create_user", *args)
    assert not User.objects.filter(username="x1").exists()
