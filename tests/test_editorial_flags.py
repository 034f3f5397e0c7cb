"""The flag queue: a publisher acknowledges and resolves flags with a note."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from commitments import services
from commitments.models import Flag, FlagReason

pytestmark = pytest.mark.django_db

QUEUE = "/admin/commitments/flag/"


@pytest.fixture
def flags(make_commitment):
    return [
        Flag.objects.create(
            commitment=make_commitment(),
            reason=FlagReason.DEADLINE_PASSED,
            raised_at=timezone.now(),
        )
        for _ in range(2)
    ]


def test_resolving_records_who_when_and_the_note(role_client, flags):
    publisher = role_client("Publisher")
    flag = flags[0]
    services.flag_acknowledge(flag=flag, by=publisher.user, note="Asking the ministry.")
    resolved = services.flag_resolve(flag=flag, by=publisher.user, note="Ministry confirmed.")
    flag.refresh_from_db()
    assert flag.acknowledged_by == publisher.user
    assert flag.acknowledgement_note == "Asking the ministry."
    assert (flag.resolved_by, flag.resolution_note) == (publisher.user, "Ministry confirmed.")
    assert flag.resolved_at == resolved.resolved_at >= flag.acknowledged_at
    assert set(Flag.objects.open()) == {flags[1]}


@pytest.mark.parametrize(
    ("role", "note", "expected"),
    [
        (
            "Editor",
            "Fine.",
            {"resolved_by": ["Only a publisher can acknowledge or resolve a flag."]},
        ),
        ("Publisher", "  ", {"resolution_note": ["Say how the flag was dealt with."]}),
    ],
)
def test_resolving_refuses_with_the_field_and_reason(role_client, flags, role, note, expected):
    user = role_client(role).user
    with pytest.raises(ValidationError) as refused:
        services.flag_resolve(flag=flags[0], by=user, note=note)
    assert refused.value.message_dict == expected
    flags[0].refresh_from_db()
    assert flags[0].resolved_at is None


def test_a_resolved_flag_cannot_be_resolved_again(role_client, flags):
    user = role_client("Publisher").user
    services.flag_resolve(flag=flags[0], by=user, note="Done.")
    with pytest.raises(ValidationError, match="already resolved"):
        services.flag_resolve(flag=flags[0], by=user, note="Again.")


def test_the_queue_resolves_selected_flags_with_a_note(role_client, flags):
    publisher = role_client("Publisher")
    ids = [f.pk for f in flags]
    queue = publisher.get(QUEUE + "?state=new").content.decode()
    assert "Resolve selected flags, with a note" in queue
    assert "Deadline passed" in queue
    ask = publisher.post(QUEUE, {"action": "resolve_flags", "_selected_action": ids, "index": 0})
    assert ask.status_code == 200
    assert 'name="note"' in ask.content.decode()
    assert Flag.objects.open().count() == 2
    missing = publisher.post(
        QUEUE, {"action": "resolve_flags", "_selected_action": ids, "apply": 1}
    )
    assert "Say how the flag was dealt with." in missing.content.decode()
    assert Flag.objects.open().count() == 2
    done = publisher.post(
        QUEUE,
        {"action": "resolve_flags", "_selected_action": ids, "apply": 1, "note": "Checked."},
    )
    assert done.status_code == 302
    assert Flag.objects.open().count() == 0
    assert set(Flag.objects.values_list("resolution_note", flat=True)) == {"Checked."}


def test_editors_see_the_queue_without_the_actions(role_client, flags):
    editor = role_client("Editor")
    html = editor.get(QUEUE).content.decode()
    assert "Deadline passed" in html
    assert "resolve_flags" not in html
