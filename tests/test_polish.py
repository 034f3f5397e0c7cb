"""Small things people notice: the API's front door, the product's own 403 pages, plurals
in the admin's messages, the admin's lists at 1280 px."""

from __future__ import annotations

import pytest
from django.urls import reverse

from commitments.api import api

pytestmark = pytest.mark.django_db


# --- /api/ --------------------------------------------------------------------------------


def test_the_api_root_links_to_the_docs_the_description_and_every_endpoint(
    client, settings, django_assert_max_num_queries
):
    with django_assert_max_num_queries(2):
        response = client.get("/api/")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    data = response.json()
    assert data["docs"] == settings.SITE_URL + "/api/docs"
    assert data["openapi"] == settings.SITE_URL + "/api/openapi.json"
    paths = set(api.get_openapi_schema()["paths"])
    assert {endpoint["path"] for endpoint in data["endpoints"]} == paths
    assert "/api/commitments/{slug}" in paths
    for endpoint in data["endpoints"]:
        assert endpoint["url"] == settings.SITE_URL + endpoint["path"]
        assert endpoint["summary"]
    for link in (data["docs"], data["openapi"]):
        assert client.get(link.removeprefix(settings.SITE_URL)).status_code == 200


def test_the_api_root_is_described_in_the_openapi_description(client):
    spec = client.get("/api/openapi.json").json()
    operation = spec["paths"]["/api/"]["get"]
    schema = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert schema["$ref"].endswith("/ApiIndexOut")
    assert reverse("api:index") == "/api/"


def test_the_api_docs_load_swagger_ui_from_this_site(client):
    html = client.get("/api/docs").content.decode()
    assert "/static/ninja/swagger-ui-bundle" in html
    assert "/static/ninja/swagger-ui.css" in html or "/static/ninja/swagger-ui." in html
    assert "cdn" not in html.lower()


# --- The list's folding filters -------------------------------------------------------------


def test_the_filter_form_folds_in_a_details_element_that_counts_the_filters(
    client, seeded, django_assert_max_num_queries
):
    with django_assert_max_num_queries(12):
        html = client.get("/commitments/?status=stalled&topic=channel-crossings&sort=changed")
    html = html.content.decode()
    assert '<details class="filter-panel no-print" open data-collapse-below="40rem">' in html
    summary = '<summary class="filter-panel__summary" id="filter-summary">'
    assert f"{summary}Filters (2)</summary>" in html
    assert 'data-filter-summary="Filters (2)"' in html
    plain = client.get("/commitments/?sort=title").content.decode()
    assert f"{summary}Filters</summary>" in plain


def test_htmx_results_carry_the_new_filter_count(client, seeded):
    fragment = client.get("/commitments/?status=stalled", HTTP_HX_REQUEST="true")
    html = fragment.content.decode()
    assert "<html" not in html and "<summary" not in html
    assert 'data-filter-summary="Filters (1)"' in html


# --- The product's own 403 pages ----------------------------------------------------------


@pytest.fixture
def draft(make_commitment):
    return make_commitment(published=False, slug="a-draft", title="A draft")


def test_an_editor_refused_a_publishers_action_gets_the_products_403_page(role_client, draft):
    response = role_client("Editor").post(f"/admin/commitments/commitment/{draft.pk}/publish/")
    assert response.status_code == 403
    html = response.content.decode()
    assert "You may not do this" in html
    assert "Nothing was changed" in html
    assert 'href="/admin/"' in html
    assert "<h1>403 Forbidden</h1>" not in html
    draft.refresh_from_db()
    assert not draft.is_published


def test_a_refused_admin_page_gets_the_products_403_page(role_client):
    response = role_client("Editor").get("/admin/auth/user/")
    assert response.status_code == 403
    assert "You may not do this" in response.content.decode()


def test_a_public_permission_denied_gets_the_public_403_page(rf):
    from django.core.exceptions import PermissionDenied
    from django.views import defaults

    request = rf.get("/commitments/")
    response = defaults.permission_denied(request, PermissionDenied())
    html = response.content.decode()
    assert response.status_code == 403
    assert "This page is not open to you" in html
    assert 'href="/commitments/"' in html


def test_a_failed_csrf_check_gets_a_clear_page(client, django_user_model):
    from django.test import Client

    user = django_user_model.objects.create_superuser("csrf-check", "", "a long pass phrase")
    strict = Client(enforce_csrf_checks=True)
    strict.force_login(user)
    response = strict.post("/admin/commitments/topic/add/", {"name": "T", "slug": "t"})
    assert response.status_code == 403
    html = response.content.decode()
    assert "This form could not be checked, so nothing was saved" in html
    assert 'href="/admin/"' in html


# --- Plurals and doubled labels in the admin ------------------------------------------------


def _messages(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


@pytest.mark.parametrize(
    ("action", "note", "done_field", "expected"),
    [
        ("acknowledge_flags", "On it.", "acknowledged_at", "1 flag acknowledged."),
        ("acknowledge_flags", "On it.", "acknowledged_at", "2 flags acknowledged."),
        ("resolve_flags", "Dealt with.", "resolved_at", "1 flag resolved."),
        ("resolve_flags", "Dealt with.", "resolved_at", "2 flags resolved."),
    ],
)
def test_reviewing_flags_says_how_many_in_good_english(
    role_client, make_commitment, action, note, done_field, expected
):
    from django.utils import timezone

    from commitments.models import Flag, FlagReason

    count = int(expected.split()[0])
    flags = [
        Flag.objects.create(
            commitment=make_commitment(),
            reason=FlagReason.NO_RECENT_PROGRESS,
            raised_at=timezone.now(),
        )
        for _ in range(count)
    ]
    response = role_client("Publisher").post(
        "/admin/commitments/flag/",
        {
            "action": action,
            "_selected_action": [flag.pk for flag in flags],
            "apply": "1",
            "note": note,
        },
        follow=True,
    )
    assert expected in _messages(response)
    assert Flag.objects.filter(**{f"{done_field}__isnull": False}).count() == count


@pytest.mark.parametrize(
    ("count", "expected"),
    [(1, "1 commitment published."), (2, "2 commitments published.")],
)
def test_publishing_from_the_list_says_how_many_in_good_english(
    role_client, make_commitment, make_source, count, expected
):
    from commitments.models import Commitment

    source = make_source()
    drafts = [make_commitment(published=False, made_in=source) for _ in range(count)]
    response = role_client("Publisher").post(
        "/admin/commitments/commitment/",
        {"action": "publish_selected", "_selected_action": [d.pk for d in drafts], "index": 0},
        follow=True,
    )
    assert expected in _messages(response)
    assert Commitment.objects.filter(pk__in=[d.pk for d in drafts], is_published=True).count() == (
        count
    )


def test_a_status_update_row_has_one_link_not_view_view_on_site(
    role_client, make_commitment, make_source, log_update
):
    import re

    commitment = make_commitment()
    log_update(commitment, sources=[make_source()])
    html = role_client("Editor").get(f"/admin/commitments/commitment/{commitment.pk}/change/")
    html = html.content.decode()
    text = re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))
    assert "View View on site" not in text
    assert 'class="inlineviewlink"' in html
    # The commitment itself keeps its "View on site" among the page's tools.
    assert html.count("View on site") == 1


@pytest.mark.parametrize(("count", "expected"), [(1, "1 source tried."), (2, "2 sources tried.")])
def test_the_archiving_command_counts_in_good_english(fake_web, make_source, count, expected):
    from io import StringIO

    from django.core.management import call_command

    for number in range(count):
        make_source(url=fake_web.url(f"/ok/story-{number}"))
    out = StringIO()
    call_command("archive_sources", stdout=out)
    assert out.getvalue().splitlines()[-1] == expected
