"""Drafts and publishing; history that records the user; drafts hidden everywhere public."""

from __future__ import annotations

import re

import pytest
from django.core.exceptions import ValidationError
from django.urls import URLPattern, URLResolver, get_resolver

from commitments import services
from commitments.models import Commitment, Source, Statement

pytestmark = pytest.mark.django_db

ADMIN = "/admin/commitments/commitment"


def test_only_a_publisher_can_publish_and_it_records_who_and_when(
    role_client, make_commitment, make_source
):
    draft = make_commitment(published=False, made_in=make_source())
    editor, publisher = role_client("Editor").user, role_client("Publisher").user
    with pytest.raises(ValidationError) as refused:
        services.commitment_publish(commitment=draft, published_by=editor)
    assert refused.value.message_dict == {
        "is_published": ["Only a publisher can publish or unpublish a commitment."]
    }
    draft.refresh_from_db()
    assert not draft.is_published and draft.published_by is None
    services.commitment_publish(commitment=draft, published_by=publisher)
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by == publisher
    assert draft.published_at is not None
    latest = draft.history.latest()
    assert latest.is_published and latest.history_user == publisher


def test_no_publishing_without_a_source_for_where_it_was_made(role_client, make_commitment):
    publisher = role_client("Publisher")
    draft = make_commitment(published=False)
    with pytest.raises(ValidationError) as refused:
        services.commitment_publish(commitment=draft, published_by=publisher.user)
    message = "A commitment cannot be published without a source for where it was made."
    assert refused.value.message_dict == {"made_in": [message]}
    confirm = publisher.get(f"{ADMIN}/{draft.pk}/publish/")
    assert message in confirm.content.decode()
    response = publisher.post(f"{ADMIN}/{draft.pk}/publish/", follow=True)
    assert message in response.content.decode()
    draft.refresh_from_db()
    assert not draft.is_published


def test_publishing_and_unpublishing_from_the_commitments_page(
    role_client, make_commitment, make_source
):
    publisher = role_client("Publisher")
    draft = make_commitment(published=False, made_in=make_source())
    page = publisher.get(f"{ADMIN}/{draft.pk}/change/").content.decode()
    assert f"{ADMIN}/{draft.pk}/publish/" in page
    assert "Preview the draft at its future address" in page
    assert "Yes, publish" in publisher.get(f"{ADMIN}/{draft.pk}/publish/").content.decode()
    response = publisher.post(f"{ADMIN}/{draft.pk}/publish/")
    assert response.status_code == 302
    draft.refresh_from_db()
    assert draft.is_published and draft.published_by == publisher.user
    page = publisher.get(f"{ADMIN}/{draft.pk}/change/").content.decode()
    assert f'href="{draft.get_absolute_url()}"' in page
    assert f"{ADMIN}/{draft.pk}/unpublish/" in page
    publisher.post(f"{ADMIN}/{draft.pk}/unpublish/")
    draft.refresh_from_db()
    assert not draft.is_published
    assert draft.published_by == publisher.user  # the last publication stays on record
    assert [h.is_published for h in draft.history.order_by("history_id")][-2:] == [True, False]


def test_a_published_commitment_cannot_lose_its_source(role_client, make_commitment, make_source):
    from tests.test_editorial_roles import change_payload

    publisher = role_client("Publisher")
    public = make_commitment(published=True, made_in=make_source())
    data = change_payload(public)
    data.pop("made_in")
    response = publisher.post(f"{ADMIN}/{public.pk}/change/", data)
    assert response.status_code == 200
    assert (
        "A commitment cannot be published without a source for where it was made."
        in response.context["adminform"].form.errors["made_in"]
    )
    public.refresh_from_db()
    assert public.made_in_id is not None


def test_new_commitments_start_as_drafts_even_from_a_publisher(role_client):
    from tests.test_editorial_roles import create_draft

    assert create_draft(role_client("Publisher"), {})
    assert not Commitment.objects.get(slug="new-one").is_published


def test_admin_edits_are_history_with_the_user(role_client, make_commitment, make_source):
    from tests.test_editorial_roles import change_payload

    editor = role_client("Editor")
    draft = make_commitment(published=False, made_in=make_source(), title="Before")
    response = editor.post(f"{ADMIN}/{draft.pk}/change/", change_payload(draft, title="After"))
    assert response.status_code == 302
    record = draft.history.latest()
    assert (record.title, record.history_user, record.history_type) == ("After", editor.user, "~")
    assert record.diff_against(record.prev_record).changed_fields == ["title"]
    history = editor.get(f"{ADMIN}/{draft.pk}/history/").content.decode()
    assert editor.user.username in history

    source = draft.made_in
    response = editor.post(
        f"/admin/commitments/source/{source.pk}/change/",
        {
            "url": source.url,
            "title": "Corrected headline",
            "outlet": source.outlet,
            "kind": source.kind,
            "language": "en",
            "published_on": "2025-07-01",
            "published_precision": "day",
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    assert source.history.latest().history_user == editor.user
    assert source.history.latest().title == "Corrected headline"


def test_statement_edits_are_history_with_the_user(role_client, make_commitment, make_source):
    editor = role_client("Editor")
    draft = make_commitment(published=False)
    source = make_source()
    response = editor.post(
        "/admin/commitments/statement/add/",
        {
            "text": "The doctrine is still being studied.",
            "language": "en",  # the language it was said in (issue 13)
            "kind": "quote",
            "speaker_description": "a figure close to French maritime security",
            "said_on": "2025-10-01",
            "said_precision": "month",
            "source": source.pk,
            "commitments": [draft.pk],
        },
    )
    assert response.status_code == 302, response.content.decode()[:500]
    statement = Statement.objects.get()
    assert statement.history.latest().history_user == editor.user


# --- Drafts hidden everywhere public ----------------------------------------------------

MARK = "Zanzibarquux"


def public_routes(patterns=None, prefix=""):
    for entry in patterns if patterns is not None else get_resolver().url_patterns:
        route = prefix + str(entry.pattern)
        if route.startswith("admin/"):
            continue
        if isinstance(entry, URLResolver):
            yield from public_routes(entry.url_patterns, route)
        elif isinstance(entry, URLPattern):
            yield route


def fill(route, values):
    def value(match):
        name = match.group(2)
        if name == "slug":
            if "actor" in route:
                return values["actor"]
            if "topic" in route:
                return values["topic"]
            return values["commitment"]
        return values.get(name)

    filled = re.sub(r"<(?:(\w+):)?(\w+)>", lambda m: str(value(m)), route)
    return None if "None" in filled or "^" in filled or "(" in filled else "/" + filled


def test_drafts_are_hidden_on_every_public_url(
    client, make_commitment, make_source, make_actor, make_topic, log_update
):
    """Every URL outside the admin, including feeds, exports, the API and the sitemap,
    asked for the draft by its slug and id and searched for its words (a shortened search
    term, so a page echoing the search box does not count)."""
    source = make_source(title=f"{MARK} source")
    actor, topic = make_actor(), make_topic()
    public = make_commitment(published=True, made_in=make_source(), title="A public one")
    public.topics.add(topic)
    draft = make_commitment(
        published=False, made_in=source, actor=actor, title=f"{MARK} draft", slug="draft-x"
    )
    draft.topics.add(topic)
    log_update(draft, sources=[source], description=f"{MARK} happened")
    Statement.objects.create(
        text=f"{MARK} quote", speaker=actor, said_on="2025-07-11", source=source
    ).commitments.add(draft)
    values = {
        "commitment": draft.slug,
        "actor": actor.slug,
        "topic": topic.slug,
        "source_id": source.pk,
        "id": draft.pk,
        "pk": draft.pk,
        "page": 1,
        "section": "commitments",
    }
    visited = []
    for route in public_routes():
        url = fill(route, values)
        if url is None:
            continue
        for query in ("", f"?q={MARK[:-3]}", "?format=json"):
            response = client.get(url + query)
            assert response.status_code < 500, url + query
            body = b"".join(response) if response.streaming else response.content
            assert MARK.encode() not in body, url + query
            visited.append(url)
    assert {"/", "/commitments/", f"/commitments/{draft.slug}/"} <= set(visited)
    assert client.get(f"/commitments/{draft.slug}/").status_code == 404
    assert Source.objects.filter(title__contains=MARK).exists()
