"""Two editors logging updates on the same commitment at once, on two real database
connections: the second waits on the first's row lock, both land, and the current status
is the latest by the date it took effect, whichever committed last."""

from __future__ import annotations

import datetime

import pytest

from commitments import services
from commitments.models import Commitment, StatusUpdate
from tests.concurrency import second_waits_for_first

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_editors_at_once_both_land_in_a_consistent_order(make_commitment, make_source):
    commitment = make_commitment(made_on=datetime.date(2025, 7, 10))
    source = make_source()

    def first_editor():
        services.status_update_create(
            commitment=Commitment.objects.get(pk=commitment.pk),
            status="stalled",
            effective_on=datetime.date(2025, 10, 1),
            description="First editor: stalled since October.",
            sources=[source],
        )

    def second_editor():
        services.status_update_create(
            commitment=Commitment.objects.get(pk=commitment.pk),
            status="in_progress",
            effective_on=datetime.date(2025, 9, 1),
            description="Second editor: progress in September.",
            sources=[source],
        )

    def nothing_landed_yet(second):
        # The second editor's connection waits on the first's lock on the commitment row.
        assert second.is_alive()
        assert StatusUpdate.objects.filter(commitment=commitment).count() == 0

    second_waits_for_first(first_editor, second_editor, while_second_waits=nothing_landed_yet)

    updates = list(StatusUpdate.objects.filter(commitment=commitment).order_by("recorded_at"))
    assert [u.description.split(":")[0] for u in updates] == ["First editor", "Second editor"]
    commitment.refresh_from_db()
    # The second committed last, but the first took effect later: it is the current status.
    assert commitment.status == "stalled"
    assert commitment.status_since == datetime.date(2025, 10, 1)
