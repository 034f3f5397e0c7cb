"""Dates in the admin at their precision (issue 11): a month-precision date reads
"October 2025" on every admin page that shows it, never as its stored first day."""

from __future__ import annotations

import datetime
import re

import pytest
from django.utils import timezone

from commitments.models import Flag, FlagReason, Indicator, Observation

pytestmark = pytest.mark.django_db

#: The stored first day of "October 2025" as Django would write it as a plain date, in any
#: of the formats the admin may use (en, en-GB, ISO).
EXACT_DAY = re.compile(r"\b1 Oct|Oct(ober|\.)? 1\b|2025-10-01|01/10/2025|10/01/2025")


def shown(html: str) -> str:
    """The page's text, tags and attribute values left out (an input's value is not shown
    as a date of the record)."""
    return re.sub(r"<[^>]*>", " ", html)


@pytest.fixture
def vague_record(make_commitment, make_source, log_update):
    commitment = make_commitment(
        title="Build ten patrol boats",
        made_on=datetime.date(2025, 3, 1),
        made_precision="month",
    )
    source = make_source(title="Boats report", outlet="Harbour News")
    update = log_update(
        commitment,
        sources=[source],
        status="stalled",
        effective_on=datetime.date(2025, 10, 1),
        effective_precision="month",
    )
    flag = Flag.objects.create(
        commitment=commitment,
        reason=FlagReason.NO_RECENT_PROGRESS,
        raised_at=timezone.now(),
        since=datetime.date(2025, 10, 1),
        since_precision="month",
    )
    indicator = Indicator.objects.create(name="Boats built", slug="boats-built", unit="boats")
    observation = Observation.objects.create(
        indicator=indicator,
        observed_on=datetime.date(2025, 10, 1),
        observed_precision="month",
        value=2,
        source=source,
    )
    commitment.refresh_from_db()
    return {
        "commitment": commitment,
        "update": update,
        "flag": flag,
        "observation": observation,
    }


@pytest.mark.parametrize(
    "page",
    [
        "/admin/commitments/commitment/",
        "/admin/commitments/commitment/{commitment}/change/",
        "/admin/commitments/statusupdate/",
        "/admin/commitments/statusupdate/{update}/change/",
        "/admin/commitments/flag/",
        "/admin/commitments/flag/{flag}/change/",
        "/admin/commitments/observation/",
    ],
)
def test_month_precision_dates_read_as_the_month(editor_client, vague_record, page):
    url = page.format(**{name: obj.pk for name, obj in vague_record.items()})
    response = editor_client.get(url)
    assert response.status_code == 200, url
    text = shown(response.content.decode())
    assert "October 2025" in text, url
    assert not EXACT_DAY.search(text), (url, EXACT_DAY.search(text).group(0))


def test_the_flag_page_shows_since_once_at_its_precision(editor_client, vague_record):
    html = editor_client.get(
        f"/admin/commitments/flag/{vague_record['flag'].pk}/change/"
    ).content.decode()
    # One "Since" line, with the month; the precision is not a separate line any more.
    assert re.search(r"Since:?\s*</label>\s*<div class=\"readonly\">October 2025</div>", html)
    assert "Since precision" not in html


def test_a_saved_status_update_shows_its_date_once_at_its_precision(editor_client, vague_record):
    html = editor_client.get(
        f"/admin/commitments/statusupdate/{vague_record['update'].pk}/change/"
    ).content.decode()
    assert re.search(r"Took effect:?\s*</label>\s*<div class=\"readonly\">October 2025</div>", html)
    assert "Date precision" not in html


@pytest.mark.parametrize(
    "page",
    [
        "/admin/commitments/statusupdate/",
        "/admin/commitments/statusupdate/?effective_on__year=2025",
        "/admin/commitments/statusupdate/?effective_on__year=2025&effective_on__month=10",
        "/admin/commitments/commitment/?made_on__year=2025&made_on__month=3",
    ],
)
def test_the_date_drill_down_stops_at_the_month(editor_client, vague_record, page):
    html = editor_client.get(page).content.decode()
    nav = re.search(r'<nav class="toplinks">.*?</nav>', html, re.S).group(0)
    assert "__day=" not in nav
    assert not EXACT_DAY.search(shown(nav)) and not re.search(r"\b1 March|March 1\b", nav)
    assert "October" in nav or "March 2025" in nav
