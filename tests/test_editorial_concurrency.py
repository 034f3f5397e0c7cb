"""Two editors logging updates on the same commitment at once, on two real database
connections: the second waits on the first's row lock, both land, and the current status
is the latest by the date it took effect, whichever committed last."""

from __future__ import annotations

import datetime
import threading
import time

import pytest
from django.db import connection, connections, transaction

from commitments import services
from commitments.models import Commitment, StatusUpdate

pytestmark = pytest.mark.django_db(transaction=True)


def waiting_on_a_lock() -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def test_two_editors_at_once_both_land_in_a_consistent_order(make_commitment, make_source):
    commitment = make_commitment(made_on=datetime.date(2025, 7, 10))
    source = make_source()
    first_holds_lock = threading.Event()
    let_first_commit = threading.Event()
    errors: list[BaseException] = []

    def first_editor():
        try:
            with transaction.atomic():
                services.status_update_create(
                    commitment=Commitment.objects.get(pk=commitment.pk),
                    status="stalled",
                    effective_on=datetime.date(2025, 10, 1),
                    description="First editor: stalled since October.",
                    sources=[source],
                )
                first_holds_lock.set()
                assert let_first_commit.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def second_editor():
        try:
            services.status_update_create(
                commitment=Commitment.objects.get(pk=commitment.pk),
                status="in_progress",
                effective_on=datetime.date(2025, 9, 1),
                description="Second editor: progress in September.",
                sources=[source],
            )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)
        finally:
            connections.close_all()

    first = threading.Thread(target=first_editor)
    first.start()
    assert first_holds_lock.wait(10)
    second = threading.Thread(target=second_editor)
    second.start()
    # The second editor's connection waits on the first's lock on the commitment row.
    deadline = time.monotonic() + 10
    while waiting_on_a_lock() < 1:
        assert time.monotonic() < deadline, "the second editor never waited for the lock"
        time.sleep(0.05)
    assert second.is_alive()
    assert StatusUpdate.objects.filter(commitment=commitment).count() == 0
    let_first_commit.set()
    first.join(10)
    second.join(10)
    assert not errors, errors

    updates = list(StatusUpdate.objects.filter(commitment=commitment).order_by("recorded_at"))
    assert [u.description.split(":")[0] for u in updates] == ["First editor", "Second editor"]
    commitment.refresh_from_db()
    # The second committed last, but the first took effect later: it is the current status.
    assert commitment.status == "stalled"
    assert commitment.status_since == datetime.date(2025, 10, 1)
