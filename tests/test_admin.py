import pytest
from django.urls import reverse

from commitments.models import (
    Actor,
    Commitment,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)

pytestmark = pytest.mark.django_db

ADD_URL = "/admin/commitments/statusupdate/add/"


def form_data(commitment, **overrides):
    data = {
        "commitment": commitment.pk,
        "status": "stalled",
        "effective_on": "2025-10-01",
        "effective_precision": "month",
        "description": "The prefecture says the doctrine is still being studied.",
        "sources": [],
        "corrects": "",
        "correction_note": "",
    }
    data.update(overrides)
    return data


def test_logging_a_status_update_through_the_admin_uses_the_service(editor_client, seeded):
    commitment = Commitment.objects.get(slug="one-in-one-out-returns-deal")
    before = commitment.status_updates.count()
    source = Source.objects.get(outlet="BBC News")
    response = editor_client.post(
        ADD_URL, form_data(commitment, sources=[source.pk], effective_on="2025-11-01")
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    commitment.refresh_from_db()
    assert commitment.status_updates.count() == before + 1
    update = commitment.status_updates.latest()
    assert update.recorded_by == editor_client.user
    assert list(update.sources.all()) == [source]
    assert commitment.status == "stalled"
    assert commitment.vague("status_since") == "November 2025"


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({}, "A status update needs at least one source."),
        ({"effective_on": "2099-01-01", "effective_precision": "day"}, "This date is after today."),
        (
            {"effective_on": "2024-01-01", "effective_precision": "day"},
            "This date is before the commitment was made",
        ),
        ({"status": "mostly_done"}, "Select a valid choice"),
    ],
)
def test_the_admin_refuses_bad_status_updates_with_a_message(
    editor_client, seeded, overrides, message
):
    commitment = Commitment.objects.get(slug="intercept-taxi-boats")
    if "sources" not in overrides and message != "A status update needs at least one source.":
        overrides["sources"] = [Source.objects.get(outlet="BBC News").pk]
    before = StatusUpdate.objects.count()
    status_before = commitment.status
    response = editor_client.post(ADD_URL, form_data(commitment, **overrides))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert StatusUpdate.objects.count() == before
    commitment.refresh_from_db()
    assert commitment.status == status_before


def test_past_status_updates_cannot_be_edited_or_deleted_in_the_admin(editor_client, seeded):
    update = StatusUpdate.objects.first()
    change_url = reverse("admin:commitments_statusupdate_change", args=[update.pk])
    response = editor_client.post(change_url, {"description": "rewritten"})
    assert response.status_code in (403, 200)
    update.refresh_from_db()
    assert update.description != "rewritten"
    delete_url = reverse("admin:commitments_statusupdate_delete", args=[update.pk])
    assert editor_client.post(delete_url, {"post": "yes"}).status_code == 403
    assert StatusUpdate.objects.filter(pk=update.pk).exists()


def test_commitment_admin_page_shows_history_inline_and_the_log_link(editor_client, seeded):
    commitment = Commitment.objects.get(slug="intercept-taxi-boats")
    response = editor_client.get(
        reverse("admin:commitments_commitment_change", args=[commitment.pk])
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert "Log status update" in html
    assert f"{ADD_URL}?commitment={commitment.pk}" in html
    for update in commitment.status_updates.all():
        assert update.description[:40] in html


def test_adding_a_source_in_the_admin_reuses_a_normalised_url(editor_client):
    Source.objects.create(url="https://example.org/story", title="Story", outlet="Example")
    response = editor_client.post(
        "/admin/commitments/source/add/",
        {
            "url": "https://EXAMPLE.org/story/?utm_source=x",
            "title": "Same story",
            "outlet": "Example",
            "kind": "news_report",
            "language": "en",
            "published_precision": "day",
        },
    )
    assert response.status_code == 200
    assert "already recorded" in response.content.decode()
    assert Source.objects.count() == 1


@pytest.mark.parametrize(
    "model", [Actor, Topic, Source, Commitment, StatusUpdate, Statement, Indicator, Observation]
)
def test_every_admin_list_and_search_loads(editor_client, seeded, model):
    name = model._meta.model_name
    assert editor_client.get(f"/admin/commitments/{name}/").status_code == 200
    assert editor_client.get(f"/admin/commitments/{name}/?q=France").status_code == 200
    obj = model.objects.first()
    assert editor_client.get(f"/admin/commitments/{name}/{obj.pk}/change/").status_code == 200


def test_autocomplete_finds_sources_and_actors(editor_client, seeded):
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "term": "BBC",
            "app_label": "commitments",
            "model_name": "statusupdate",
            "field_name": "sources",
        },
    )
    assert response.status_code == 200
    assert any("BBC" in r["text"] for r in response.json()["results"])
    response = editor_client.get(
        "/admin/autocomplete/",
        {
            "term": "Starmer",
            "app_label": "commitments",
            "model_name": "commitmentactor",
            "field_name": "actor",
        },
    )
    assert [r["text"] for r in response.json()["results"]] == ["Keir Starmer (Prime Minister)"]


def test_anonymous_visitors_are_sent_to_log_in(client):
    response = client.get("/admin/commitments/commitment/")
    assert response.status_code == 302
    assert "/admin/login/" in response["Location"]
