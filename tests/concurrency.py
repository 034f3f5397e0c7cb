"""Two database sessions at once, for tests of what happens when writes meet: the first
holds its transaction (and its row locks) open until the second is seen waiting on a
lock, then commits; errors in either thread are reported to the test."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection, connections, transaction


def waiting_on_a_lock() -> int:
    """How many sessions of the test database wait on a lock now."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM pg_stat_activity "
            "WHERE datname = current_database() AND wait_event_type = 'Lock'"
        )
        return cursor.fetchone()[0]


def second_waits_for_first(
    first: Callable[[], object],
    second: Callable[[], object],
    *,
    while_second_waits: Callable[[threading.Thread], None] | None = None,
) -> None:
    """Run ``first()`` in a transaction kept open until ``second()``, started in another
    thread, is waiting on a lock (``while_second_waits`` may check the world then); then
    let the first commit and both finish. Fails if the second never waits or if either
    raised."""
    holds_lock, let_commit = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def run_first():
        try:
            with transaction.atomic():
                first()
                holds_lock.set()
                assert let_commit.wait(10)
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    def run_second():
        try:
            second()
        except BaseException as exc:  # noqa: BLE001 - reported to the main thread
            errors.append(exc)
        finally:
            connections.close_all()

    one = threading.Thread(target=run_first)
    one.start()
    assert holds_lock.wait(10), errors
    two = threading.Thread(target=run_second)
    two.start()
    deadline = time.monotonic() + 10
    while waiting_on_a_lock() < 1:
        assert time.monotonic() < deadline, "the second call never waited for the first's lock"
        time.sleep(0.05)
    if while_second_waits is not None:
        while_second_waits(two)
    let_commit.set()
    one.join(10)
    two.join(10)
    assert not errors, errors
