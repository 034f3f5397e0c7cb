"""Feeds, exports, the JSON API, the sitemap and robots.txt, checked by parsing them."""

from __future__ import annotations

import csv
import datetime
import io
import json
import xml.etree.ElementTree as ET

import pytest

from commitments.models import Commitment, StatusUpdate

pytestmark = pytest.mark.django_db

ATOM = "{http://www.w3.org/2005/Atom}"
SITEMAP = "{http://www.sitemaps.org/schemas/sitemap/0.9}"


# --- Atom feeds -----------------------------------------------------------------------------


def test_recent_changes_feed_is_atom_with_every_published_step(client, seeded):
    response = client.get("/feeds/changes/")
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == StatusUpdate.objects.public().count() == 5
    titles = [entry.findtext(f"{ATOM}title") for entry in entries]
    assert any(t.startswith('Intercept the "taxi boats"') and "Stalled" in t for t in titles)
    links = {entry.find(f"{ATOM}link").get("href") for entry in entries}
    for update in StatusUpdate.objects.all():
        assert (
            f"http://testserver{update.commitment.get_absolute_url()}#update-{update.pk}" in links
        )
    summary = entries[0].findtext(f"{ATOM}summary")
    assert "Sources:" in summary


def test_commitment_feed_lists_its_steps_and_corrections(
    client, make_commitment, make_source, log_update
):
    commitment = make_commitment(title="Feed promise")
    other = make_commitment(title="Other promise")
    source = make_source(title="Feed source")
    entry = log_update(commitment, sources=[source], description="First step.")
    log_update(commitment, sources=[source], corrects=entry, correction_note="Wrong day.")
    log_update(other, sources=[source])
    feed = ET.fromstring(client.get(f"/feeds/commitments/{commitment.slug}/").content)
    assert feed.findtext(f"{ATOM}title") == "Feed promise: status changes and corrections"
    entries = feed.findall(f"{ATOM}entry")
    assert len(entries) == 2
    assert entries[0].findtext(f"{ATOM}title").startswith("Correction:")
    assert "What was wrong: Wrong day." in entries[0].findtext(f"{ATOM}summary")
    assert "Example News: Feed source" in entries[1].findtext(f"{ATOM}summary")


def test_pages_link_their_feeds(client, seeded):
    html = client.get("/").content.decode()
    assert '<link rel="alternate" type="application/atom+xml"' in html
    assert 'href="/feeds/changes/"' in html


# --- Exports --------------------------------------------------------------------------------


def test_csv_export_follows_the_list_filters_and_is_stamped(client, seeded):
    response = client.get("/commitments.csv?status=stalled&sort=made")
    assert response["Content-Type"].startswith("text/csv")
    disposition = response["Content-Disposition"]
    assert disposition.startswith('attachment; filename="commitments-') and ".csv" in disposition
    stamp = datetime.datetime.fromisoformat(response["X-Generated-At"])
    assert abs((datetime.datetime.now(datetime.UTC) - stamp).total_seconds()) < 60
    table = list(csv.DictReader(io.StringIO(response.getvalue().decode())))
    assert [row["status"] for row in table] == ["stalled", "stalled"]
    assert {row["title"] for row in table} == {
        c.title for c in Commitment.objects.filter(status="stalled")
    }
    assert all(row["generated_at"] == response["X-Generated-At"] for row in table)
    taxi = next(row for row in table if "taxi" in row["title"])
    assert taxi["made_on"] == "2025-07" and taxi["status_since"] == "2025-10"
    assert taxi["made_by"] == "Emmanuel Macron; Keir Starmer"


def test_json_export_follows_the_list_filters_and_names_ignored_ones(client, seeded):
    response = client.get("/commitments.json?topic=returns-agreements&status=bogus")
    data = json.loads(response.getvalue())
    assert datetime.datetime.fromisoformat(data["generated_at"])
    assert data["filters"] == {"topic": "returns-agreements"}
    assert [item["name"] for item in data["ignored_filters"]] == ["status"]
    assert data["count"] == 1 == len(data["commitments"])
    assert data["commitments"][0]["url"].endswith("/commitments/one-in-one-out-returns-deal/")


# --- API against its OpenAPI description ------------------------------------------------------


def _resolve(schema, spec):
    while "$ref" in schema:
        name = schema["$ref"].split("/")[-1]
        schema = spec["components"]["schemas"][name]
    return schema


def validate(value, schema, spec, path="$"):
    """A small JSON Schema check for the parts OpenAPI 3.1 uses here: types, required
    properties, no unknown properties in our schemas, arrays and anyOf."""
    schema = _resolve(schema, spec)
    if "anyOf" in schema:
        errors = []
        for option in schema["anyOf"]:
            try:
                validate(value, option, spec, path)
                return
            except AssertionError as exc:
                errors.append(str(exc))
        raise AssertionError(f"{path}: matches none of anyOf: {errors}")
    kind = schema.get("type")
    checks = {
        "object": lambda v: isinstance(v, dict),
        "array": lambda v: isinstance(v, list),
        "string": lambda v: isinstance(v, str),
        "integer": lambda v: isinstance(v, int) and not isinstance(v, bool),
        "number": lambda v: isinstance(v, int | float) and not isinstance(v, bool),
        "boolean": lambda v: isinstance(v, bool),
        "null": lambda v: v is None,
    }
    if kind:
        assert checks[kind](value), f"{path}: {value!r} is not {kind}"
    if kind == "object":
        properties = schema.get("properties", {})
        for name in schema.get("required", []):
            assert name in value, f"{path}: missing {name}"
        # A map (``dict[str, str]``, e.g. ``status_labels`` by language, issue 13) says the
        # type of its values in ``additionalProperties``; other objects allow no unknown name.
        extra = schema.get("additionalProperties")
        for name, item in value.items():
            if name not in properties and isinstance(extra, dict):
                validate(item, extra, spec, f"{path}.{name}")
                continue
            assert name in properties, f"{path}: {name} is not in the schema"
            validate(item, properties[name], spec, f"{path}.{name}")
    if kind == "array":
        for index, item in enumerate(value):
            validate(item, schema.get("items", {}), spec, f"{path}[{index}]")


@pytest.fixture
def openapi(client):
    spec = client.get("/api/openapi.json").json()
    assert spec["openapi"].startswith("3.")
    return spec


def response_schema(spec, path):
    operation = spec["paths"][path]["get"]
    return operation["responses"]["200"]["content"]["application/json"]["schema"]


@pytest.mark.parametrize(
    ("url", "path"),
    [
        ("/api/commitments", "/api/commitments"),
        ("/api/commitments?status=stalled&q=doctrine", "/api/commitments"),
        ("/api/commitments/intercept-taxi-boats", "/api/commitments/{slug}"),
        ("/api/commitments/intercept-taxi-boats/timeline", "/api/commitments/{slug}/timeline"),
        ("/api/actors", "/api/actors"),
        ("/api/actors/keir-starmer", "/api/actors/{slug}"),
        ("/api/sources", "/api/sources"),
        ("/api/indicators", "/api/indicators"),
    ],
)
def test_api_responses_match_the_openapi_description(client, seeded, openapi, url, path):
    response = client.get(url)
    assert response.status_code == 200
    validate(response.json(), response_schema(openapi, path), openapi)


def test_api_source_detail_matches_the_openapi_description(client, seeded, openapi):
    source_id = client.get("/api/sources").json()["items"][0]["id"]
    data = client.get(f"/api/sources/{source_id}").json()
    validate(data, response_schema(openapi, "/api/sources/{source_id}"), openapi)


def test_validator_rejects_a_wrong_shape(openapi):
    schema = response_schema(openapi, "/api/commitments/{slug}")
    with pytest.raises(AssertionError):
        validate({"slug": 3}, schema, openapi)


def test_api_content_filters_and_timeline(client, seeded, make_source, log_update):
    data = client.get("/api/commitments?status=stalled").json()
    assert data["count"] == 2
    assert {item["status"] for item in data["items"]} == {"stalled"}
    assert client.get("/api/commitments?status=nonsense").json()["count"] == 4
    taxi = client.get("/api/commitments/intercept-taxi-boats").json()
    assert taxi["status_since"] == "2025-10" and taxi["made_on"] == "2025-07"
    # Each actor also has its French name (issue 13), whatever the seeds give it.
    assert {"slug": "keir-starmer", "name": "Keir Starmer", "role": "made_by"} in [
        {key: actor[key] for key in ("slug", "name", "role")} for actor in taxi["actors"]
    ]
    assert all(isinstance(actor["name_fr"], str) for actor in taxi["actors"])

    commitment = Commitment.objects.get(slug="intercept-taxi-boats")
    first = commitment.status_updates.order_by("effective_on").first()
    log_update(
        commitment,
        sources=[make_source()],
        corrects=first,
        correction_note="Wrong month.",
        effective_on=first.effective_on,
        effective_precision="month",
        status="in_progress",
    )
    timeline = client.get("/api/commitments/intercept-taxi-boats/timeline").json()
    kinds = [event["kind"] for event in timeline["events"]]
    assert set(kinds) == {"update", "statement", "observation"}
    dates = [event["date"] for event in timeline["events"]]
    assert dates == sorted(dates, reverse=True)
    corrected = next(e for e in timeline["events"] if e["id"] == first.pk and e["kind"] == "update")
    assert corrected["corrections"][0]["correction_note"] == "Wrong month."
    assert corrected["url"].endswith(f"#update-{first.pk}")
    assert all(
        e["kind"] != "update" or e["id"] != corrected["corrections"][0]["id"]
        for e in timeline["events"]
    )
    indicators = client.get("/api/indicators").json()
    arrivals = next(i for i in indicators if i["slug"] == "small-boat-arrivals-2025")
    assert arrivals["comparison_value"] == 36816
    assert arrivals["observations"][0] == {
        "date": "2025-10",
        "value": 36956,
        "source_id": arrivals["observations"][0]["source_id"],
        "note": arrivals["observations"][0]["note"],
        "note_fr": arrivals["observations"][0]["note_fr"],  # issue 13, as the seeds give it
    }


# --- Sitemap and robots.txt -----------------------------------------------------------------


def sitemap_locations(client) -> list[str]:
    """Every address in the sitemap: the index, then each page it lists."""
    index = ET.fromstring(client.get("/sitemap.xml").content)
    assert index.tag == f"{SITEMAP}sitemapindex"
    locations = []
    for page in index.findall(f"{SITEMAP}sitemap"):
        url = page.findtext(f"{SITEMAP}loc").removeprefix("http://testserver")
        root = ET.fromstring(client.get(url).content)
        locations += [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]
    return locations


def test_sitemap_lists_published_pages(client, seeded, make_commitment):
    draft = make_commitment(published=False)
    locations = set(sitemap_locations(client))
    for commitment in Commitment.objects.public():
        assert f"http://testserver{commitment.get_absolute_url()}" in locations
    assert f"http://testserver{draft.get_absolute_url()}" not in locations
    assert "http://testserver/actors/keir-starmer/" in locations
    assert "http://testserver/topics/returns-agreements/" in locations
    assert "http://testserver/corrections/" in locations


def test_the_sitemap_is_an_index_of_pages_holding_every_commitment(
    client, make_commitment, monkeypatch
):
    from commitments.sitemaps import CommitmentSitemap

    assert CommitmentSitemap.limit == 50_000  # the protocol's maximum per file
    monkeypatch.setattr(CommitmentSitemap, "limit", 3)
    commitments = [make_commitment(slug=f"promise-{n}") for n in range(5)]
    make_commitment(slug="promise-draft", published=False)

    index = ET.fromstring(client.get("/sitemap.xml").content)
    pages = [page.findtext(f"{SITEMAP}loc") for page in index.findall(f"{SITEMAP}sitemap")]
    # Issue 13: each commitment is listed in English and in French, 10 addresses in all.
    assert "http://testserver/sitemap-commitments.xml" in pages
    assert "http://testserver/sitemap-commitments.xml?p=4" in pages
    assert "http://testserver/sitemap-commitments.xml?p=5" not in pages

    def page(number):
        root = ET.fromstring(client.get(f"/sitemap-commitments.xml?p={number}").content)
        return [url.findtext(f"{SITEMAP}loc") for url in root.findall(f"{SITEMAP}url")]

    pieces = [page(number) for number in (1, 2, 3, 4)]
    assert [len(piece) for piece in pieces] == [3, 3, 3, 1]
    assert sorted(sum(pieces, [])) == sorted(
        f"http://testserver{prefix}{c.get_absolute_url()}"
        for c in commitments
        for prefix in ("", "/fr")
    )
    assert client.get("/sitemap-commitments.xml?p=5").status_code == 404
    assert sorted(sitemap_locations(client)) == sorted(set(sitemap_locations(client)))


def test_robots_txt_points_at_the_sitemap(client):
    response = client.get("/robots.txt")
    assert response["Content-Type"].startswith("text/plain")
    text = response.content.decode()
    assert "Disallow: /admin/" in text
    assert "Sitemap: http://testserver/sitemap.xml" in text


def test_openapi_description_documents_every_endpoint(openapi):
    assert set(openapi["paths"]) == {
        "/api/",
        "/api/commitments",
        "/api/commitments/{slug}",
        "/api/commitments/{slug}/timeline",
        "/api/commitments/{slug}/changes",
        "/api/revisions",
        "/api/actors",
        "/api/actors/{slug}",
        "/api/sources",
        "/api/sources/{source_id}",
        "/api/indicators",
    }
    assert all(set(methods) == {"get"} for methods in openapi["paths"].values())
    assert json.dumps(openapi)  # serialisable as it is served
