"""The CSV and JSON exports stream: rows leave as they are read from a server-side cursor,
and the memory the export holds stays flat however many commitments there are."""

from __future__ import annotations

import csv
import datetime
import io
import json
import tracemalloc

import pytest
from django.db import connection
from django.http import StreamingHttpResponse
from django.utils import timezone

from commitments.models import Actor, ActorRole, Commitment, CommitmentActor, Topic

pytestmark = pytest.mark.django_db

ROWS = 20_000
#: What one export may hold at its peak, in bytes, over 20,000 rows (tracemalloc). Measured:
#: about 6 MB streaming in chunks of 2,000 rows; building the rows in a list first (the
#: exports before they streamed) peaks at 217 MB (CSV) and 258 MB (JSON).
PEAK_BOUND = 20 * 1024 * 1024


@pytest.fixture
def many_commitments(db):
    actor = Actor.objects.create(name="Minister", slug="minister", kind=Actor.Kind.PERSON)
    topic = Topic.objects.create(name="Crossings", slug="crossings")
    now = timezone.now()
    commitments = Commitment.objects.bulk_create(
        Commitment(
            title=f"Commitment number {n} with a title of ordinary length",
            slug=f"commitment-{n}",
            summary=f"What was promised, number {n}, in a sentence or two of plain words. " * 2,
            made_on=datetime.date(2025, 1, 1) + datetime.timedelta(days=n % 300),
            is_published=True,
            published_at=now,
        )
        for n in range(ROWS)
    )
    CommitmentActor.objects.bulk_create(
        CommitmentActor(commitment=c, actor=actor, role=ActorRole.MADE_BY) for c in commitments
    )
    Commitment.topics.through.objects.bulk_create(
        Commitment.topics.through(commitment=c, topic=topic) for c in commitments
    )
    return commitments


def _consume_with_peak(response) -> tuple[int, int, int]:
    """Read the streamed body piece by piece, keeping none of it: (pieces, bytes, peak)."""
    pieces = size = 0
    tracemalloc.start()
    try:
        for piece in response.streaming_content:
            pieces += 1
            size += len(piece)
        _current, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    return pieces, size, peak


@pytest.mark.parametrize("url", ["/commitments.csv", "/commitments.json"])
def test_the_export_streams_in_flat_memory_over_20000_rows(client, many_commitments, url):
    tracemalloc.start()
    try:
        response = client.get(url)
        _current, view_peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert response.status_code == 200
    assert isinstance(response, StreamingHttpResponse)
    assert view_peak < PEAK_BOUND  # the view itself reads no rows

    pieces, size, peak = _consume_with_peak(response)
    assert size > 20_000 * 150  # every row went out...
    assert pieces > 50  # ...in many pieces, not one
    assert peak < PEAK_BOUND, f"peak {peak / 1e6:.1f} MB while streaming {size / 1e6:.1f} MB"


def test_the_rows_come_from_a_server_side_cursor(client, many_commitments):
    assert not connection.settings_dict.get("DISABLE_SERVER_SIDE_CURSORS")
    response = client.get("/commitments.csv")
    pieces = iter(response.streaming_content)
    next(pieces), next(pieces)  # the header and the first rows: the cursor is open
    with connection.cursor() as cursor:
        cursor.execute("SELECT count(*) FROM pg_cursors")
        (open_cursors,) = cursor.fetchone()
    assert open_cursors >= 1
    rest = b"".join(pieces)
    assert rest.count(b"\n") > ROWS - 500


def test_the_streamed_csv_and_json_hold_every_row_with_the_same_columns(client, many_commitments):
    table = list(csv.DictReader(io.StringIO(client.get("/commitments.csv").getvalue().decode())))
    assert len(table) == ROWS
    assert len({row["url"] for row in table}) == ROWS
    assert table[0]["made_by"] == "Minister" and table[0]["topics"] == "Crossings"

    data = json.loads(client.get("/commitments.json").getvalue())
    assert data["count"] == ROWS == len(data["commitments"])
    assert list(data)[:4] == ["generated_at", "source", "filters", "ignored_filters"]
    first = data["commitments"][0]
    assert list(first) == [
        "title",
        "url",
        "status",
        "status_label",
        "status_since",
        "made_on",
        "made_by",
        "responsible",
        "topics",
        "deadline",
        "open_flags",
        "summary",
        "last_checked",
        # Issue 13: the French at the end.
        "title_fr",
        "summary_fr",
        "status_label_fr",
        "url_fr",
        "made_by_fr",
        "responsible_fr",
        "topics_fr",
    ]
    assert first["made_by"] == ["Minister"] and first["status_label"] == "Not started"
    assert {row["url"] for row in data["commitments"]} == {row["url"] for row in table}
