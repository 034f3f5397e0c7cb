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
