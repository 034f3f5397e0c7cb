"""The editors' digest: one email to the publishers, flags raised and resolved since the
last digest, nothing sent when nothing is new."""

from __future__ import annotations

import datetime

import pytest
from django.contrib.auth.models import Group
from django.core import mail
from django.core.management import call_command
from django.utils import timezone

from commitments.models import EditorsDigest, Flag
from commitments.services import editors_digest_send, flags_refresh
from commitments.tasks import send_editors_digest

pytestmark = pytest.mark.django_db

D = datetime.date


@pytest.fixture
def publishers(django_user_model):
    group, _ = Group.objects.get_or_create(name="Publisher")
    made = []
    for name in ("alice", "bob"):
        user = django_user_model.objects.create_user(name, f"{name}@newsroom.example", "pw")
        user.groups.add(group)
        made.append(user)
    # Not publishers, or no address, or gone: not recipients.
    django_user_model.objects.create_user("carol", "carol@newsroom.example", "pw")
    django_user_model.objects.create_user("dave", "", "pw").groups.add(group)
    gone = django_user_model.objects.create_user("erin", "erin@newsroom.example", "pw")
    gone.groups.add(group)
    gone.is_active = False
    gone.save()
    return made


def test_nothing_new_sends_nothing(publishers):
    assert editors_digest_send() is None
    assert mail.outbox == []
    assert not EditorsDigest.objects.exists()


def test_one_email_to_the_publishers_listing_raised_and_resolved(
    publishers, make_commitment, make_source, log_update, settings
):
    settings.SITE_URL = "https://tracker.example"
    quiet = make_commitment(title="Build the new patrol boats", made_on=D(2025, 1, 1))
    late = make_commitment(
        title="Open the returns centre", made_on=D(2025, 1, 1), deadline=D(2025, 3, 1)
    )
    flags_refresh(today=D(2025, 7, 1))

    digest = editors_digest_send()
    assert digest.raised_count == 3 and digest.resolved_count == 0
    assert len(mail.outbox) == 1
    email = mail.outbox[0]
    assert sorted(email.to) == ["alice@newsroom.example", "bob@newsroom.example"]
    assert email.subject == "Tracker digest: 3 flags raised, 0 resolved"
    assert "Build the new patrol boats: No recorded progress since 1 January 2025" in email.body
    assert "Open the returns centre: Deadline passed (1 March 2025) without delivery" in email.body
    assert f"https://tracker.example{quiet.get_absolute_url()}" in email.body
    assert "first digest" in email.body

    # A second digest straight away: nothing new, nothing sent.
    assert editors_digest_send() is None
    assert len(mail.outbox) == 1

    # Progress resolves one: the next digest lists only that.
    log_update(late, sources=[make_source()], status="kept", effective_on=D(2025, 6, 1))
    flags_refresh(today=D(2025, 7, 1))
    second = editors_digest_send()
    assert (second.raised_count, second.resolved_count) == (0, 2)
    assert second.covers_from == digest.covers_until
    body = mail.outbox[1].body
    assert "Flags resolved (2):" in body and "Flags raised" not in body
    assert "reached a final status" in body
    assert "Build the new patrol boats" not in body


def test_no_publisher_means_no_email_and_the_period_stays_open(make_commitment):
    make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 7, 1))
    assert editors_digest_send() is None
    assert mail.outbox == [] and not EditorsDigest.objects.exists()


def test_a_flag_raised_after_the_digest_waits_for_the_next_one(publishers, make_commitment):
    make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 7, 1))
    editors_digest_send()
    later = make_commitment(title="Later promise", made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 7, 1), now=timezone.now() + datetime.timedelta(seconds=1))
    assert Flag.objects.filter(commitment=later).exists()
    editors_digest_send(now=timezone.now() + datetime.timedelta(seconds=2))
    assert len(mail.outbox) == 2
    assert "Later promise" in mail.outbox[1].body
    assert mail.outbox[1].subject == "Tracker digest: 1 flag raised, 0 resolved"


def test_the_task_and_the_command_send_it(publishers, make_commitment, capsys):
    make_commitment(made_on=D(2025, 1, 1))
    flags_refresh(today=D(2025, 7, 1))
    call_command("send_digest")
    assert "Sent to alice@newsroom.example, bob@newsroom.example: 1 raised" in (
        capsys.readouterr().out
    )
    assert send_editors_digest.apply().get() == "nothing new"
    assert len(mail.outbox) == 1
