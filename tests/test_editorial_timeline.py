"""Logging sourced status updates and corrections in the admin; the append-only rule."""

from __future__ import annotations

import datetime

import pytest
from django.core.exceptions import ValidationError

from commitments import services
from commitments.models import Commitment, Source, StatusUpdate

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/commitments/statusupdate/add/"


def form(commitment, **overrides):
    data = {
        "commitment": commitment.pk,
        "status": "stalled",
        "effective_on": "2025-10-01",
        "effective_precision": "month",
        "description": "The prefecture says the taxi-boat doctrine is still being studied.",
        "sources": [],
        "new_source_published_precision": "day",
        "new_source_kind": "news_report",
    }
    data.update(overrides)
    return data


@pytest.fixture
def editor(role_client):
    return role_client("Editor")


@pytest.fixture
def taxi_boats(seeded):
    return Commitment.objects.get(slug="intercept-taxi-boats")


def test_an_editor_logs_an_update_citing_a_source_added_on_the_spot(editor, taxi_boats):
    sources_before = Source.objects.count()
    response = editor.post(
        ADD_URL,
        form(
            taxi_boats,
            new_source_url="https://WWW.Example.org/news/taxi-boats/?utm_source=x#top",
            new_source_title="Taxi-boat doctrine still under study",
            new_source_outlet="Example Daily",
            new_source_published_on="2025-10-30",
        ),
    )
    assert response.status_code == 302
    assert response["Location"] == f"/admin/commitments/commitment/{taxi_boats.pk}/change/"
    source = Source.objects.get(url="https://www.example.org/news/taxi-boats")
    assert Source.objects.count() == sources_before + 1
    update = taxi_boats.status_updates.latest()
    assert list(update.sources.all()) == [source]
    assert update.recorded_by == editor.user
    taxi_boats.refresh_from_db()
    assert (taxi_boats.status, taxi_boats.vague("status_since")) == ("stalled", "October 2025")
    page = editor.get(response["Location"]).content.decode()
    assert "is now Stalled" in page


def test_a_known_address_is_reused_not_duplicated(editor, taxi_boats, make_source):
    known = make_source(url="https://example.org/known-story", title="Known")
    count = Source.objects.count()
    response = editor.post(
        ADD_URL,
        form(taxi_boats, new_source_url="https://EXAMPLE.org/known-story/?fbclid=abc"),
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert Source.objects.count() == count
    assert list(taxi_boats.status_updates.latest().sources.all()) == [known]


def test_picked_and_new_sources_are_both_cited(editor, taxi_boats):
    bbc = Source.objects.get(outlet="BBC News")
    editor.post(
        ADD_URL,
        form(
            taxi_boats,
            sources=[bbc.pk],
            new_source_title="Radio bulletin",
            new_source_outlet="France Inter",
        ),
    )
    cited = taxi_boats.status_updates.latest().sources.all()
    assert {s.outlet for s in cited} == {"BBC News", "France Inter"}
    assert cited.get(outlet="France Inter").url is None


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"new_source_url": "not a web address"}, "new_source_url", "is not a web address"),
        (
            {"new_source_url": "https://example.org/new", "new_source_title": "T"},
            "new_source_outlet",
            "Give the outlet that published the new source.",
        ),
        (
            {
                "new_source_outlet": "Example",
                "new_source_title": "T",
                "new_source_published_on": "2099-01-01",
            },
            "new_source_published_on",
            "This date is after today.",
        ),
        (
            {
                "new_source_url": "https://example.org/fine",
                "new_source_title": "Fine",
                "new_source_outlet": "Example",
                "effective_on": "2099-01-01",
                "effective_precision": "day",
            },
            "effective_on",
            "This date is after today.",
        ),
    ],
)
def test_a_refused_update_saves_nothing_not_even_the_new_source(
    editor, taxi_boats, overrides, field, message
):
    counts = (Source.objects.count(), StatusUpdate.objects.count())
    response = editor.post(ADD_URL, form(taxi_boats, **overrides))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert (Source.objects.count(), StatusUpdate.objects.count()) == counts


def test_the_service_rolls_back_a_new_source_when_the_update_is_refused(taxi_boats):
    with pytest.raises(ValidationError) as refused:
        services.status_update_create(
            commitment=taxi_boats,
            status="stalled",
            effective_on=datetime.date(2099, 1, 1),
            description="Too early.",
            new_sources=[{"url": "https://example.org/rollback", "title": "T", "outlet": "O"}],
        )
    assert refused.value.message_dict == {"effective_on": ["This date is after today."]}
    assert not Source.objects.filter(url="https://example.org/rollback").exists()
    with pytest.raises(ValidationError) as refused:
        services.status_update_create(
            commitment=taxi_boats,
            status="stalled",
            effective_on=datetime.date(2025, 10, 1),
            description="No source at all.",
        )
    assert refused.value.message_dict == {"sources": ["A status update needs at least one source."]}


def test_a_correction_from_the_commitments_page(editor, taxi_boats):
    wrong = taxi_boats.status_updates.latest()
    page = editor.get(f"/admin/commitments/commitment/{taxi_boats.pk}/change/").content.decode()
    link = f"{ADD_URL}?commitment={taxi_boats.pk}&amp;corrects={wrong.pk}"
    assert link in page
    start = editor.get(link.replace("&amp;", "&"))
    initial = start.context["adminform"].form.initial
    assert initial["corrects"] == str(wrong.pk)
    assert initial["status"] == wrong.status and initial["description"] == wrong.description
    before = {f.name: getattr(wrong, f.attname) for f in StatusUpdate._meta.concrete_fields}
    response = editor.post(
        ADD_URL,
        form(
            taxi_boats,
            status="unclear",
            effective_on=wrong.effective_on.isoformat(),
            effective_precision=wrong.effective_precision,
            sources=[s.pk for s in wrong.sources.all()],
            corrects=wrong.pk,
            correction_note="The earlier entry misread who said it.",
        ),
    )
    assert response.status_code == 302, response.content.decode()[:800]
    correction = StatusUpdate.objects.get(corrects=wrong)
    assert correction.correction_note == "The earlier entry misread who said it."
    assert correction.recorded_by == editor.user
    wrong.refresh_from_db()
    assert {f.name: getattr(wrong, f.attname) for f in StatusUpdate._meta.concrete_fields} == before
    assert set(StatusUpdate.objects.corrections()) == {correction}
    taxi_boats.refresh_from_db()
    assert taxi_boats.status == "unclear"


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"correction_note": ""}, "correction_note", "A correction must say what was wrong."),
        ({"corrects": ""}, "corrects", "Choose the entry this correction corrects."),
    ],
)
def test_a_correction_must_say_what_it_corrects_and_why(
    editor, taxi_boats, overrides, field, message
):
    wrong = taxi_boats.status_updates.latest()
    data = form(
        taxi_boats,
        sources=[s.pk for s in wrong.sources.all()],
        corrects=wrong.pk,
        correction_note="Wrong date.",
    )
    data.update(overrides)
    count = StatusUpdate.objects.count()
    response = editor.post(ADD_URL, data)
    assert response.status_code == 200
    assert message in response.context["adminform"].form.errors[field]
    assert StatusUpdate.objects.count() == count


def test_a_correction_cannot_point_at_another_commitments_entry(editor, seeded):
    taxi, other = Commitment.objects.order_by("pk")[:2]
    foreign = other.status_updates.first()
    response = editor.post(
        ADD_URL,
        form(
            taxi,
            sources=[s.pk for s in foreign.sources.all()],
            corrects=foreign.pk,
            correction_note="Wrong one.",
        ),
    )
    assert (
        "A correction must correct an entry of the same commitment."
        in (response.context["adminform"].form.errors["corrects"])
    )


def test_the_services_offer_no_way_to_rewrite_or_delete_an_entry(taxi_boats, log_update):
    """Append-only through the services: the only write is appending."""
    writers = [name for name in dir(services) if name.startswith("status_update_")]
    assert sorted(writers) == [
        "status_update_create",
        "status_update_create_once",
        "status_update_errors",
    ]
    entry = taxi_boats.status_updates.latest()
    snapshot = {f.name: getattr(entry, f.attname) for f in StatusUpdate._meta.concrete_fields}
    sources = list(entry.sources.all())
    log_update(
        taxi_boats,
        sources=sources,
        status="broken",
        effective_on=entry.effective_on,
        effective_precision=entry.effective_precision,
        corrects=entry,
        correction_note="Status was wrong.",
    )
    entry.refresh_from_db()
    assert {
        f.name: getattr(entry, f.attname) for f in StatusUpdate._meta.concrete_fields
    } == snapshot
    assert list(entry.sources.all()) == sources


def test_a_saved_entry_reads_as_a_page_without_a_form(editor, taxi_boats):
    entry = taxi_boats.status_updates.latest()
    response = editor.get(f"/admin/commitments/statusupdate/{entry.pk}/change/")
    assert response.status_code == 200
    html = response.content.decode()
    assert entry.description in html
    assert 'name="description"' not in html
    assert "new_source_url" not in html
    assert "Delete" not in html
