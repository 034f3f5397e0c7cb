"""The admin under deadline: needs-attention filter, search across sources, and query
counts that do not grow with the number of status updates or commitments."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from commitments.models import Flag, FlagReason

pytestmark = pytest.mark.django_db


def count_queries(client, url):
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


@pytest.fixture
def timeline(make_commitment, make_source, log_update):
    """A commitment whose timeline grows: ``grow(n)`` logs n more sourced updates, with
    corrections among them."""
    commitment = make_commitment(made_on=datetime.date(2024, 1, 1))
    sources = [make_source() for _ in range(3)]

    def grow(n):
        for i in range(n):
            update = log_update(
                commitment,
                sources=sources[: 1 + i % 3],
                effective_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=i),
            )
            if i % 4 == 0:
                log_update(
                    commitment,
                    sources=sources[:1],
                    effective_on=update.effective_on,
                    corrects=update,
                    correction_note="Wrong status.",
                )
        Flag.objects.get_or_create(
            commitment=commitment,
            reason=FlagReason.DEADLINE_PASSED,
            defaults={"raised_at": timezone.now()},
        )
        return commitment

    return grow


@pytest.mark.parametrize(
    "page",
    [
        "/admin/commitments/commitment/{pk}/change/",
        "/admin/commitments/commitment/",
        "/admin/commitments/commitment/?attention=yes",
        "/admin/commitments/statusupdate/",
        "/admin/commitments/statusupdate/add/?commitment={pk}",
        "/admin/commitments/flag/",
    ],
)
@pytest.mark.parametrize("role", ["Editor", "Publisher"])
def test_admin_pages_query_count_does_not_grow(
    role_client, timeline, django_assert_max_num_queries, page, role
):
    client = role_client(role)
    commitment = timeline(2)
    small = count_queries(client, page.format(pk=commitment.pk))
    timeline(40)
    with django_assert_max_num_queries(small):
        assert client.get(page.format(pk=commitment.pk)).status_code == 200


def test_needs_attention_is_flagged_or_quiet_for_too_long(
    role_client, make_commitment, make_source, log_update, settings
):
    settings.STALL_AFTER_DAYS = 30
    today = timezone.localdate()
    source = make_source()
    flagged = make_commitment(title="Flagged one", made_on=today)
    Flag.objects.create(
        commitment=flagged, reason=FlagReason.DEADLINE_PASSED, raised_at=timezone.now()
    )
    quiet = make_commitment(title="Quiet one", made_on=today - datetime.timedelta(days=100))
    log_update(quiet, sources=[source], effective_on=today - datetime.timedelta(days=40))
    make_commitment(title="Never updated", made_on=today - datetime.timedelta(days=31))
    recent = make_commitment(title="Recently moved", made_on=today - datetime.timedelta(days=100))
    log_update(recent, sources=[source], effective_on=today - datetime.timedelta(days=3))
    kept = make_commitment(title="Kept long ago", made_on=today - datetime.timedelta(days=100))
    log_update(
        kept, sources=[source], status="kept", effective_on=today - datetime.timedelta(days=90)
    )
    response = role_client("Editor").get("/admin/commitments/commitment/?attention=yes")
    shown = {c.title for c in response.context["cl"].result_list}
    assert shown == {"Flagged one", "Quiet one", "Never updated"}
    assert "no change in 30 days" in response.content.decode()


def test_search_finds_commitments_by_the_sources_of_their_updates(
    role_client, make_commitment, make_source, log_update
):
    wanted = make_commitment(title="Returns deal")
    make_commitment(title="Something else")
    log_update(wanted, sources=[make_source(outlet="Le Monde", title="Accord sur les retours")])
    log_update(wanted, sources=[make_source(outlet="Le Monde", title="Suite")])
    response = role_client("Editor").get("/admin/commitments/commitment/?q=le+monde")
    assert [c.title for c in response.context["cl"].result_list] == ["Returns deal"]
    response = role_client("Editor").get("/admin/commitments/statusupdate/?q=retours")
    assert len(response.context["cl"].result_list) == 1


def test_the_commitment_list_shows_status_last_change_and_open_flags(
    role_client, make_commitment, make_source, log_update
):
    commitment = make_commitment(title="Listed")
    log_update(commitment, sources=[make_source()], status="stalled")
    Flag.objects.create(
        commitment=commitment, reason=FlagReason.DEADLINE_PASSED, raised_at=timezone.now()
    )
    response = role_client("Editor").get("/admin/commitments/commitment/")
    row = response.context["cl"].result_list[0]
    assert (row.status, row._open_flags) == ("stalled", 1)
    assert row._last_change is not None
    html = response.content.decode()
    for header in ("Current status", "Last update logged", "Open flags"):
        assert header in html
