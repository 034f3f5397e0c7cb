"""The rules that must always hold are the database's own: a write that bypasses the
services and the models' validation is still refused."""

import datetime

import pytest
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commitments.models import Commitment, Flag, FlagReason, Source, Statement, StatusUpdate

pytestmark = pytest.mark.django_db


def test_suite_runs_on_postgresql():
    assert connection.vendor == "postgresql"


def test_two_sources_cannot_share_a_url(make_source):
    source = make_source(url="https://example.org/a")
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(url=source.url, title="Copy", outlet="Elsewhere")


def test_many_sources_may_have_no_url():
    Source.objects.create(url=None, title="Radio bulletin", outlet="BBC Radio 4")
    Source.objects.create(url=None, title="Print edition", outlet="Le Monde")
    assert Source.objects.filter(url__isnull=True).count() == 2


def test_an_empty_url_is_refused_rather_than_stored():
    with pytest.raises(IntegrityError), transaction.atomic():
        Source.objects.create(url="", title="Blank", outlet="Nowhere")


def test_one_open_flag_per_commitment_and_reason(make_commitment):
    commitment = make_commitment()
    now = timezone.now()
    Flag.objects.create(commitment=commitment, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=now)
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(
            commitment=commitment, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=now
        )
    # Another reason, or a resolved flag for the same reason, is allowed.
    Flag.objects.create(commitment=commitment, reason=FlagReason.DEADLINE_PASSED, raised_at=now)
    Flag.objects.filter(reason=FlagReason.NO_RECENT_PROGRESS).update(resolved_at=now)
    Flag.objects.create(commitment=commitment, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=now)
    assert Flag.objects.filter(commitment=commitment).count() == 3
    assert Flag.objects.open().filter(commitment=commitment).count() == 2


def test_commitment_status_must_be_in_the_vocabulary(make_commitment):
    commitment = make_commitment()
    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).update(status="sort_of_done")


def test_status_update_status_must_be_in_the_vocabulary(make_commitment, make_source, log_update):
    commitment = make_commitment()
    update = log_update(commitment, sources=[make_source()])
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).update(status="promised-harder")


def test_flag_reason_must_be_known(make_commitment):
    with pytest.raises(IntegrityError), transaction.atomic():
        Flag.objects.create(commitment=make_commitment(), reason="vibes", raised_at=timezone.now())


def test_deadline_cannot_precede_the_promise(make_commitment):
    commitment = make_commitment()
    with pytest.raises(IntegrityError), transaction.atomic():
        Commitment.objects.filter(pk=commitment.pk).update(deadline=datetime.date(2020, 1, 1))


def test_a_statement_needs_a_speaker_or_a_description(make_source):
    with pytest.raises(IntegrityError), transaction.atomic():
        Statement.objects.create(
            text="Anonymous and undescribed",
            said_on=datetime.date(2025, 10, 1),
            source=make_source(),
        )


def test_a_correction_must_say_what_was_wrong(make_commitment, make_source, log_update):
    commitment = make_commitment()
    first = log_update(commitment, sources=[make_source()])
    with pytest.raises(IntegrityError), transaction.atomic():
        StatusUpdate.objects.create(
            commitment=commitment,
            status="stalled",
            effective_on=datetime.date(2025, 8, 1),
            description="Corrected",
            corrects=first,
            correction_note="",
        )


def test_status_updates_cannot_be_rewritten_or_deleted_even_bypassing_the_services(
    make_commitment, make_source, log_update
):
    update = log_update(make_commitment(), sources=[make_source()], description="As first logged.")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).update(description="Quietly rewritten.")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).update(status="kept")
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).delete()
    update.refresh_from_db()
    assert (update.description, update.status) == ("As first logged.", "in_progress")


def test_deleting_an_editor_account_keeps_their_status_updates(
    make_commitment, make_source, log_update, django_user_model
):
    editor = django_user_model.objects.create_user("leaving-editor")
    other = django_user_model.objects.create_user("other-editor")
    update = log_update(make_commitment(), sources=[make_source()], recorded_by=editor)
    # Pointing an entry at someone else is still a rewrite.
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        StatusUpdate.objects.filter(pk=update.pk).update(recorded_by=other)
    editor.delete()
    update.refresh_from_db()
    assert update.recorded_by is None
    assert update.description == "Something happened."
