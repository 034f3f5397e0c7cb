import datetime

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from commitments import services
from commitments.models import Commitment, Source, StatusUpdate

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        (
            "https://WWW.BBC.co.uk/news/world-europe-123/",
            "https://www.bbc.co.uk/news/world-europe-123",
        ),
        ("HTTPS://example.org", "https://example.org/"),
        ("https://example.org/", "https://example.org/"),
        (
            "https://example.org:443/a?utm_source=tw&utm_medium=social&id=7",
            "https://example.org/a?id=7",
        ),
        ("http://example.org:8080/a/#section", "http://example.org:8080/a"),
        ("https://example.org/a?fbclid=xyz&gclid=abc", "https://example.org/a"),
        ("  https://example.org/a?b=2&a=1  ", "https://example.org/a?b=2&a=1"),
    ],
)
def test_normalise_url(given, expected):
    assert services.normalise_url(given) == expected


@pytest.mark.parametrize("bad", ["not a url", "ftp://example.org/file", "javascript:alert(1)"])
def test_normalise_url_refuses_what_is_not_a_web_address(bad):
    with pytest.raises(ValidationError) as excinfo:
        services.normalise_url(bad)
    assert "url" in excinfo.value.message_dict


def test_a_url_differing_in_host_case_slash_or_tracking_resolves_to_the_existing_source():
    first, created = services.source_get_or_create(
        url="https://www.example.org/news/story", title="Story", outlet="Example"
    )
    assert created
    for variant in [
        "https://WWW.Example.org/news/story",
        "https://www.example.org/news/story/",
        "https://www.example.org/news/story?utm_source=newsletter&utm_campaign=x",
        "HTTPS://www.example.org:443/news/story/#top",
    ]:
        again, created = services.source_get_or_create(
            url=variant, title="Other title", outlet="Other"
        )
        assert not created
        assert again.pk == first.pk
    assert Source.objects.count() == 1
    assert Source.objects.get().title == "Story"


def test_sources_without_a_url_are_matched_by_outlet_and_title():
    a, created_a = services.source_get_or_create(
        url=None, title="Evening bulletin", outlet="BBC Radio 4"
    )
    b, created_b = services.source_get_or_create(
        url="", title="evening bulletin", outlet="bbc radio 4"
    )
    c, created_c = services.source_get_or_create(
        url=None, title="Morning bulletin", outlet="BBC Radio 4"
    )
    assert created_a and not created_b and created_c
    assert a.pk == b.pk != c.pk
    assert a.url is None
    assert a.link_status == Source.LinkStatus.NO_URL


def test_status_update_keeps_current_status_in_step(make_commitment, make_source):
    commitment = make_commitment()
    assert commitment.status == "not_started"
    source = make_source()
    services.status_update_create(
        commitment=commitment,
        status="in_progress",
        effective_on=datetime.date(2025, 8, 1),
        description="Patrols began.",
        sources=[source],
    )
    commitment.refresh_from_db()
    assert (commitment.status, commitment.status_since) == (
        "in_progress",
        datetime.date(2025, 8, 1),
    )

    # A later step moves the status; a back-dated step recorded afterwards does not.
    services.status_update_create(
        commitment=commitment,
        status="stalled",
        effective_on=datetime.date(2025, 10, 1),
        effective_precision="month",
        description="Nothing since.",
        sources=[source],
    )
    services.status_update_create(
        commitment=commitment,
        status="not_started",
        effective_on=datetime.date(2025, 7, 20),
        description="Back-dated note of the announcement.",
        sources=[source],
    )
    commitment.refresh_from_db()
    assert commitment.status == "stalled"
    assert commitment.status_since == datetime.date(2025, 10, 1)
    assert commitment.status_since_precision == "month"
    assert commitment.vague("status_since") == "October 2025"


def test_month_precision_is_stored_at_the_start_of_the_month(make_commitment, make_source):
    commitment = make_commitment(made_on=datetime.date(2025, 7, 10))
    update = services.status_update_create(
        commitment=commitment,
        status="in_progress",
        # The same month as the promise, though the 1st is before the 10th: allowed.
        effective_on=datetime.date(2025, 7, 25),
        effective_precision="month",
        description="Later that month.",
        sources=[make_source()],
    )
    assert update.effective_on == datetime.date(2025, 7, 1)
    assert update.vague("effective_on") == "July 2025"


def _refused(commitment, **overrides):
    values = {
        "commitment": commitment,
        "status": "in_progress",
        "effective_on": datetime.date(2025, 8, 1),
        "description": "Something happened.",
        "sources": [],
    }
    values.update(overrides)
    with pytest.raises(ValidationError) as excinfo:
        services.status_update_create(**values)
    assert StatusUpdate.objects.count() == 0
    commitment.refresh_from_db()
    assert commitment.status == "not_started"
    return excinfo.value.message_dict


def test_a_status_update_without_a_source_is_refused(make_commitment):
    errors = _refused(make_commitment())
    assert errors["sources"] == ["A status update needs at least one source."]


def test_a_status_update_in_the_future_is_refused(make_commitment, make_source):
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    errors = _refused(make_commitment(), effective_on=tomorrow, sources=[make_source()])
    assert errors["effective_on"] == ["This date is after today."]


def test_a_status_update_before_the_commitment_was_made_is_refused(make_commitment, make_source):
    commitment = make_commitment(made_on=datetime.date(2025, 7, 1), made_precision="month")
    errors = _refused(commitment, effective_on=datetime.date(2025, 6, 30), sources=[make_source()])
    assert errors["effective_on"] == ["This date is before the commitment was made (July 2025)."]


def test_a_status_update_with_an_unknown_status_is_refused(make_commitment, make_source):
    errors = _refused(make_commitment(), status="mostly_done", sources=[make_source()])
    assert "Unknown status" in errors["status"][0]


def test_every_reason_is_given_at_once(make_commitment):
    errors = _refused(
        make_commitment(),
        status="bogus",
        effective_on=timezone.localdate() + datetime.timedelta(days=30),
        description="  ",
    )
    assert set(errors) == {"status", "sources", "effective_on", "description"}


def test_a_correction_replaces_the_entry_it_corrects_for_the_current_status(
    make_commitment, make_source
):
    commitment = make_commitment()
    source = make_source()
    wrong = services.status_update_create(
        commitment=commitment,
        status="kept",
        effective_on=datetime.date(2025, 9, 1),
        description="Declared kept.",
        sources=[source],
    )
    assert Commitment.objects.get(pk=commitment.pk).status == "kept"
    services.status_update_create(
        commitment=commitment,
        status="in_progress",
        effective_on=datetime.date(2025, 9, 1),
        description="Still under way.",
        sources=[source],
        corrects=wrong,
        correction_note="The report we cited described a trial, not the full deployment.",
    )
    commitment.refresh_from_db()
    assert commitment.status == "in_progress"
    # Both entries stay.
    assert commitment.status_updates.count() == 2


def test_a_correction_must_say_what_was_wrong(make_commitment, make_source):
    commitment = make_commitment()
    first = services.status_update_create(
        commitment=commitment,
        status="kept",
        effective_on=datetime.date(2025, 9, 1),
        description="Declared kept.",
        sources=[make_source()],
    )
    with pytest.raises(ValidationError) as excinfo:
        services.status_update_create(
            commitment=commitment,
            status="in_progress",
            effective_on=datetime.date(2025, 9, 1),
            description="Still under way.",
            sources=[make_source()],
            corrects=first,
        )
    assert excinfo.value.message_dict["correction_note"] == [
        "A correction must say what was wrong."
    ]
    assert commitment.status_updates.count() == 1
