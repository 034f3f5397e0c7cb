"""Vague dates in the list's date filters (issue 11): a date known to the month or the year
matches a filter when its period overlaps the filter's range, on the list page, in the
exports and in the API alike (one filterset), at the exact edges of the period."""

from __future__ import annotations

import datetime
import json

import pytest
from django.http import QueryDict

from commitments.filters import commitment_filter
from commitments.models import Commitment

pytestmark = pytest.mark.django_db

D = datetime.date


def matches(query: str) -> set[str]:
    return set(commitment_filter(QueryDict(query)).qs.values_list("slug", flat=True))


def api_matches(client, query: str) -> set[str]:
    response = client.get(f"/api/commitments?{query}")
    assert response.status_code == 200, response.content
    return {row["slug"] for row in response.json()["items"]}


@pytest.fixture
def dated(make_commitment):
    """One commitment per precision: made on 15 July 2025, in July 2025, in 2025; and
    deadlines likewise in 2026."""
    return {
        "day": make_commitment(
            slug="day", made_on=D(2025, 7, 15), deadline=D(2026, 7, 15), deadline_precision="day"
        ),
        "month": make_commitment(
            slug="month",
            made_on=D(2025, 7, 1),
            made_precision="month",
            deadline=D(2026, 7, 1),
            deadline_precision="month",
        ),
        "year": make_commitment(
            slug="year",
            made_on=D(2025, 1, 1),
            made_precision="year",
            deadline=D(2026, 1, 1),
            deadline_precision="year",
        ),
        "none": make_commitment(slug="none", made_on=D(2020, 1, 1)),
    }


def test_the_issue_example_a_promise_made_2025(dated):
    # "2025" runs from 1 January to 31 December: within "from 1 March" and "up to 30 June".
    assert "year" in matches("made_from=2025-03-01")
    assert "year" in matches("made_to=2025-06-30")
    assert "year" in matches("made_from=2025-03-01&made_to=2025-06-30")


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        # Day precision: compared as it is.
        ("made_from=2025-07-15", {"day", "month", "year"}),
        ("made_from=2025-07-16", {"month", "year"}),
        ("made_to=2025-07-15", {"day", "month", "year", "none"}),
        ("made_to=2025-07-14", {"month", "year", "none"}),
        # Month precision (July 2025): from its last day includes, from the day after
        # excludes; up to its first day includes, up to the day before excludes.
        ("made_from=2025-07-31", {"month", "year"}),
        ("made_from=2025-08-01", {"year"}),
        ("made_to=2025-07-01", {"month", "year", "none"}),
        ("made_to=2025-06-30", {"year", "none"}),
        # Year precision (2025): the same at the year's edges.
        ("made_from=2025-12-31", {"year"}),
        ("made_from=2026-01-01", set()),
        ("made_to=2025-01-01", {"year", "none"}),
        ("made_to=2024-12-31", {"none"}),
        # A range inside the period matches it.
        ("made_from=2025-07-10&made_to=2025-07-12", {"month", "year"}),
        ("made_from=2025-02-01&made_to=2025-02-28", {"year"}),
    ],
)
def test_made_filters_at_the_edges_of_each_precision(dated, client, query, expected):
    assert matches(query) == expected
    # The API reads the same filterset: the same answer.
    assert api_matches(client, query) == expected


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("deadline_from=2026-07-15", {"day", "month", "year"}),
        ("deadline_from=2026-07-16", {"month", "year"}),
        ("deadline_from=2026-07-31", {"month", "year"}),
        ("deadline_from=2026-08-01", {"year"}),
        ("deadline_from=2026-12-31", {"year"}),
        ("deadline_from=2027-01-01", set()),
        ("deadline_to=2026-07-15", {"day", "month", "year"}),
        ("deadline_to=2026-07-14", {"month", "year"}),
        ("deadline_to=2026-07-01", {"month", "year"}),
        ("deadline_to=2026-06-30", {"year"}),
        ("deadline_to=2026-01-01", {"year"}),
        ("deadline_to=2025-12-31", set()),
    ],
)
def test_deadline_filters_use_the_same_rule(dated, client, query, expected):
    # "none" has no deadline: no deadline filter matches it.
    assert matches(query) == expected
    assert api_matches(client, query) == expected


def test_list_page_and_json_export_use_the_rule(dated, client):
    html = client.get("/commitments/?made_from=2025-12-31").content.decode()
    assert 'href="/commitments/year/"' in html and 'href="/commitments/month/"' not in html
    response = client.get("/commitments.json?made_from=2025-08-01")
    assert response.status_code == 200
    body = b"".join(response.streaming_content) if response.streaming else response.content
    slugs = {row["url"].rstrip("/").rsplit("/", 1)[-1] for row in json.loads(body)["commitments"]}
    assert slugs == {"year"}


def test_february_of_a_leap_year_ends_on_the_29th(make_commitment):
    make_commitment(slug="feb", made_on=D(2024, 2, 1), made_precision="month")
    assert matches("made_from=2024-02-29") == {"feb"}
    assert matches("made_from=2024-03-01") == set()


def test_a_stray_day_inside_a_stored_vague_period_still_ends_with_its_period(make_commitment):
    # Written past the model's normalisation (an old row, a raw update): "July 2025" stored
    # as 15 July still ends on 31 July, as the stall rule reads it.
    commitment = make_commitment(slug="stray", made_on=D(2025, 7, 1), made_precision="month")
    Commitment.objects.filter(pk=commitment.pk).update(made_on=D(2025, 7, 15))
    assert matches("made_from=2025-07-31") == {"stray"}
    assert matches("made_from=2025-08-01") == set()


@pytest.mark.parametrize(
    "query",
    [
        "made_from=9999-12-31",
        "made_from=0001-01-01&made_to=0001-01-01",
        "deadline_from=9999-12-31&deadline_to=0001-01-01",
        "deadline_from=2025-02-30",
        "made_to=not-a-date",
    ],
)
def test_extreme_or_bad_dates_never_break_the_list_or_the_api(dated, client, query):
    assert client.get(f"/commitments/?{query}").status_code == 200
    assert client.get(f"/api/commitments?{query}").status_code == 200
    assert client.get(f"/commitments.csv?{query}").status_code == 200
