"""Bad input never gets a 500 or an HTML error from the API: out-of-range numbers are 422,
pages past the data and unknown things 404, a NUL byte in an address 400, each as JSON
``{"detail": ...}``; the OpenAPI description lists every status each operation answers.
The public pages answer odd query strings without a 5xx too."""

from __future__ import annotations

import pytest
import schemathesis
from django.core.signals import request_finished, request_started
from django.db import close_old_connections
from hypothesis import HealthCheck, given, settings
from schemathesis import GenerationMode
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

pytestmark = pytest.mark.django_db

HUGE = "100000000000000000000"


def _json_error(response, status):
    assert response.status_code == status, response.content[:300]
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert set(body) == {"detail"} and body["detail"]
    return body["detail"]


@pytest.mark.parametrize(
    "path",
    [
        f"/api/commitments?page={HUGE}",
        f"/api/sources?page={HUGE}",
        "/api/commitments?page=0",
        "/api/commitments?page=-1",
        "/api/commitments?page=abc",
        f"/api/commitments/intercept-taxi-boats/timeline?page={HUGE}",
        "/api/commitments/intercept-taxi-boats/timeline?page=0",
    ],
)
def test_a_page_number_out_of_range_is_422_naming_the_parameter(client, seeded, path):
    detail = _json_error(client.get(path), 422)
    assert [problem["loc"][-1] for problem in detail] == ["page"]


@pytest.mark.parametrize(
    "path",
    [
        "/api/commitments?page=2",
        "/api/commitments?page=100000",
        "/api/sources?page=50",
        "/api/commitments/intercept-taxi-boats/timeline?page=500",
    ],
)
def test_a_page_past_the_data_is_404(client, seeded, path):
    assert "page" in _json_error(client.get(path), 404)


def test_the_first_page_of_an_empty_list_is_still_200(client, db):
    assert client.get("/api/commitments").json() == {"items": [], "count": 0}


@pytest.mark.parametrize(
    "path",
    [
        "/api/commitments/no-such-promise",
        "/api/commitments/no-such-promise/timeline",
        "/api/actors/nobody",
        "/api/sources/999999",
        f"/api/sources/{HUGE}",
        "/api/commitments/%C3%BC%F0%9F%99%82",
        "/api/commitments/%FF%FE",  # not UTF-8
        "/api/actors/%E2%80%AE%0A",
        "/api/commitments/" + "x" * 3000,
    ],
)
def test_unknown_things_are_404_json(client, seeded, path):
    response = client.get(path)
    if response.status_code == 422:  # a source id beyond any integer column
        _json_error(response, 422)
    else:
        _json_error(response, 404)


@pytest.mark.parametrize(
    "path",
    [
        "/api/commitments/%00",
        "/api/commitments/taxi%00boats/timeline",
        "/api/actors/%00",
        "/api/commitments?q=%00",
        "/api/commitments?actor=%00",
        "/api/commitments?%00=1",
        "/api/sources?page=1%00",
    ],
)
def test_a_nul_byte_in_the_address_is_400_json(client, seeded, path):
    assert "NUL" in _json_error(client.get(path), 400)


@pytest.mark.parametrize(
    "path",
    [
        "/commitments/%00/",
        "/commitments/?q=%00",
        "/commitments/?actor=%00",
        "/commitments.csv?topic=%00",
        "/feeds/commitments/%00/",
        "/?%00",
    ],
)
def test_a_nul_byte_anywhere_on_the_site_is_400(client, seeded, path):
    response = client.get(path)
    assert response.status_code == 400
    assert b"NUL" in response.content


def test_the_openapi_description_lists_every_status_with_an_error_schema(client):
    spec = client.get("/api/openapi.json").json()
    error = spec["components"]["schemas"]["ErrorOut"]
    assert error["required"] == ["detail"]
    lookups = {"/api/commitments/{slug}", "/api/commitments/{slug}/timeline"}
    lookups |= {"/api/actors/{slug}", "/api/sources/{source_id}"}
    paged = {"/api/commitments", "/api/sources", "/api/revisions"}
    paged |= {"/api/commitments/{slug}/changes"}
    for path, methods in spec["paths"].items():
        responses = methods["get"]["responses"]
        expected = {"200", "400", "422"} | ({"404"} if path in lookups | paged else set())
        assert set(responses) == expected, path
        for status in expected - {"200"}:
            schema = responses[status]["content"]["application/json"]["schema"]
            assert schema["$ref"].rsplit("/", 1)[-1] in {"ErrorOut", "ValidationErrorOut"}
    page = next(
        p for p in spec["paths"]["/api/commitments"]["get"]["parameters"] if p["name"] == "page"
    )
    assert page["schema"]["minimum"] == 1 and page["schema"]["maximum"] == 100_000


# --- Properties: no 5xx, whatever is asked ------------------------------------------------------


API_OPERATIONS = [
    "GET /api/",
    "GET /api/commitments",
    "GET /api/commitments/{slug}",
    "GET /api/commitments/{slug}/timeline",
    "GET /api/commitments/{slug}/changes",
    "GET /api/revisions",
    "GET /api/actors",
    "GET /api/actors/{slug}",
    "GET /api/sources",
    "GET /api/sources/{source_id}",
    "GET /api/indicators",
]


def test_the_property_test_covers_every_operation(client):
    spec = client.get("/api/openapi.json").json()
    described = {f"{m.upper()} {path}" for path, ms in spec["paths"].items() for m in ms}
    assert described == set(API_OPERATIONS)


@pytest.fixture
def wsgi_app():
    """The project's WSGI application, called in-process. As Django's test client does, the
    request signals leave the test's database connection (and its transaction) open."""
    from accountability.wsgi import application

    request_started.disconnect(close_old_connections)
    request_finished.disconnect(close_old_connections)
    yield application
    request_started.connect(close_old_connections)
    request_finished.connect(close_old_connections)


# Invalid input can be generated only where a parameter has a type or a range to break.
NEGATIVE = [
    "GET /api/commitments",
    "GET /api/commitments/{slug}/timeline",
    "GET /api/sources",
    "GET /api/sources/{source_id}",
]


@pytest.mark.parametrize(
    "label, mode",
    [(label, GenerationMode.POSITIVE) for label in API_OPERATIONS]
    + [(label, GenerationMode.NEGATIVE) for label in NEGATIVE],
)
def test_the_api_never_answers_5xx(seeded, wsgi_app, label, mode):
    """schemathesis, in-process against the WSGI app: valid and invalid parameters for
    each operation. Never a 5xx; every error is JSON with a ``detail``; every answer
    conforms to the operation's description (status documented, body matching)."""
    api = schemathesis.openapi.from_wsgi("/api/openapi.json", wsgi_app)
    operation = api.find_operation_by_label(label)

    @given(case=operation.as_strategy(generation_mode=mode))
    @settings(
        max_examples=25,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    def check(case):
        # schemathesis asks for gzip (requests' default) but its in-process WSGI transport
        # never decodes it; public answers are compressed, so ask for them plain.
        response = case.call(headers={"Accept-Encoding": "identity"})
        assert response.status_code < 500, (case.formatted_path, case.query)
        if response.status_code >= 400:
            assert response.headers["content-type"][0].startswith("application/json")
            assert "detail" in response.json()
        case.validate_response(
            response,
            checks=[
                not_a_server_error,
                status_code_conformance,
                content_type_conformance,
                response_schema_conformance,
            ],
        )

    check()


ODD_QUERIES = [
    "page=" + HUGE,
    "page=-" + HUGE,
    "page=1e9",
    "page=%FF%FE",
    "q=%F0%9F%99%82" * 50,
    "q=%ED%A0%80",  # a lone surrogate, not valid UTF-8
    "status=stalled&status=kept&status=",
    "actor=" + "x" * 3000,
    "made_from=99999-01-01&made_to=0000-00-00",
    "sort=%3Cscript%3E",
    "flagged=yes&flagged=no",
    "topic[]=1&q[]=2",
    "%FF=%FF",
    "&&&==&",
]


@pytest.mark.parametrize("path", ["/", "/commitments/", "/commitments.csv", "/feeds/changes/"])
@pytest.mark.parametrize("query", ODD_QUERIES)
def test_public_pages_answer_odd_query_strings_without_5xx(client, seeded, path, query):
    response = client.get(f"{path}?{query}")
    assert response.status_code < 500
    assert client.get(f"{path}?{query}", HTTP_HX_REQUEST="true").status_code < 500


@pytest.mark.parametrize("path", ["/api/nothing-here", "/api/commitments/a/b/c", "/api/x/"])
def test_an_unknown_api_address_is_404_json(client, path):
    assert _json_error(client.get(path), 404) == "Not Found"


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
def test_a_method_the_api_does_not_take_is_405_json(client, method):
    response = getattr(client, method)("/api/commitments")
    assert _json_error(response, 405) == "Method Not Allowed"
    assert "GET" in response["Allow"]


def test_the_html_pages_keep_their_html_errors(client, db):
    response = client.get("/commitments/no-such-promise/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
