"""Every change to public material leaves a public trace, and only a publisher makes it.

Through the services, the admin's real URLs (each route around the publisher: the change
forms, inlines, the history's revert form, the decision view, bulk actions) and the
public pages, on PostgreSQL. Each test is judged by the database state and the pages it
leaves."""

from __future__ import annotations

import datetime
import decimal
import re

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, InternalError, connection, transaction
from django.test import Client

from commitments import services
from commitments.models import (
    Commitment,
    CommitmentActor,
    Indicator,
    Observation,
    Revision,
    Statement,
)

from .test_editorial_roles import payload

pytestmark = pytest.mark.django_db

ADMIN = "/admin/commitments"
WHY = {"revision_kind": "correction", "revision_reason": "The quote was misheard."}


@pytest.fixture
def world(make_commitment, make_source, make_actor, make_topic, log_update):
    source = make_source(title="The original report")
    speaker = make_actor(name="Jane Minister")
    topic = make_topic(name="Returns")
    public = make_commitment(made_in=source, slug="public-one", title="Public promise")
    public.topics.add(topic)
    draft = make_commitment(published=False, made_in=source, slug="draft-one", title="A draft")
    log_update(public, sources=[source])
    statement = Statement.objects.create(
        text="We will stop the boats.",
        speaker=speaker,
        said_on=datetime.date(2025, 7, 10),
        source=source,
    )
    statement.commitments.add(public)
    draft_statement = Statement.objects.create(
        text="Draft words.", speaker=speaker, said_on=datetime.date(2025, 7, 10), source=source
    )
    draft_statement.commitments.add(draft)
    indicator = Indicator.objects.create(name="Arrivals", slug="arrivals", unit="people")
    indicator.commitments.add(public)
    observation = Observation.objects.create(
        indicator=indicator,
        observed_on=datetime.date(2025, 10, 1),
        value=decimal.Decimal("36956"),
        source=source,
    )
    return {
        "public": public,
        "draft": draft,
        "source": source,
        "speaker": speaker,
        "topic": topic,
        "statement": statement,
        "draft_statement": draft_statement,
        "indicator": indicator,
        "observation": observation,
    }


@pytest.fixture
def editor(role_client):
    return role_client("Editor")


@pytest.fixture
def publisher(role_client):
    return role_client("Publisher")


def propose(obj, by, **after):
    return services.revision_submit(
        obj=obj, after=after, kind="correction", reason="It was wrong.", by=by
    )


# --- Services ----------------------------------------------------------------------------


def test_an_editors_change_waits_and_a_publisher_applies_it(world, editor, publisher):
    statement = world["statement"]
    revision = propose(statement, editor.user, text="We will stop the small boats.")
    assert revision.state == Revision.State.PROPOSED
    statement.refresh_from_db()
    assert statement.text == "We will stop the boats."
    assert list(revision.commitments.all()) == [world["public"]]

    applied = services.revision_apply(revision=revision, by=publisher.user)
    statement.refresh_from_db()
    assert statement.text == "We will stop the small boats."
    assert applied.state == Revision.State.APPLIED
    assert (applied.proposed_role, applied.decided_role) == ("Editor", "Publisher")
    assert applied.changes == [
        {
            "field": "text",
            "label": "Text",
            "before": "We will stop the boats.",
            "after": "We will stop the small boats.",
            "before_text": "We will stop the boats.",
            "after_text": "We will stop the small boats.",
        }
    ]
    # simple-history's row carries the same reason.
    assert statement.history.first().history_change_reason.endswith("It was wrong.")


def test_a_publishers_own_change_is_applied_at_once_with_its_trace(world, publisher):
    revision = propose(world["observation"], publisher.user, value="36816")
    world["observation"].refresh_from_db()
    assert world["observation"].value == decimal.Decimal("36816")
    assert revision.state == Revision.State.APPLIED
    assert revision.changes[0]["before_text"] == "36956.00"
    assert revision.changes[0]["after_text"] == "36816.00"


def test_a_change_needs_a_reason_and_a_kind_and_nothing_is_half_saved(world, publisher):
    with pytest.raises(ValidationError) as caught:
        services.revision_submit(
            obj=world["statement"], after={"text": "New"}, kind="", reason="  ", by=publisher.user
        )
    assert set(caught.value.message_dict) == {"kind", "reason"}
    assert "readers see the reason" in caught.value.message_dict["reason"][0]
    assert not Revision.objects.exists()
    world["statement"].refresh_from_db()
    assert world["statement"].text == "We will stop the boats."


def test_only_a_publisher_applies_or_rejects(world, editor, role_client):
    revision = propose(world["statement"], editor.user, text="Changed")
    for user in (editor.user, role_client("Editor").user, role_client("Admin").user):
        with pytest.raises(ValidationError, match="Only a publisher"):
            services.revision_apply(revision=revision, by=user)
        with pytest.raises(ValidationError, match="Only a publisher"):
            services.revision_reject(revision=revision, by=user, note="No.")
    revision.refresh_from_db()
    assert revision.state == Revision.State.PROPOSED
    world["statement"].refresh_from_db()
    assert world["statement"].text == "We will stop the boats."


def test_applying_twice_applies_once_and_a_double_proposal_records_once(world, editor, publisher):
    first = propose(world["statement"], editor.user, text="Changed")
    again = propose(world["statement"], editor.user, text="Changed")
    assert again.pk == first.pk
    assert Revision.objects.count() == 1
    services.revision_apply(revision=first, by=publisher.user)
    with pytest.raises(ValidationError, match="already applied"):
        services.revision_apply(revision=first, by=publisher.user)
    # Proposing what is now the text changes nothing and records nothing.
    assert propose(world["statement"], editor.user, text="Changed") is None
    assert Revision.objects.count() == 1


def test_a_proposal_overtaken_by_another_change_is_refused(world, editor, publisher):
    stale = propose(world["public"], editor.user, title="Editor's title")
    propose(world["public"], publisher.user, title="Publisher's title")
    with pytest.raises(ValidationError, match="Title changed after this was proposed"):
        services.revision_apply(revision=stale, by=publisher.user)
    world["public"].refresh_from_db()
    assert world["public"].title == "Publisher's title"


def test_rejecting_says_why_and_changes_nothing(world, editor, publisher):
    revision = propose(world["statement"], editor.user, text="Changed")
    with pytest.raises(ValidationError) as caught:
        services.revision_reject(revision=revision, by=publisher.user, note="")
    assert "decision_note" in caught.value.message_dict
    services.revision_reject(revision=revision, by=publisher.user, note="The tape says otherwise.")
    revision.refresh_from_db()
    assert revision.state == Revision.State.REJECTED
    world["statement"].refresh_from_db()
    assert world["statement"].text == "We will stop the boats."


def test_an_invalid_change_is_refused_when_applied(world, editor, publisher):
    revision = propose(world["statement"], editor.user, speaker=None, speaker_description="")
    with pytest.raises(ValidationError):
        services.revision_apply(revision=revision, by=publisher.user)
    revision.refresh_from_db()
    assert revision.state == Revision.State.PROPOSED
    world["statement"].refresh_from_db()
    assert world["statement"].speaker_id == world["speaker"].pk


def test_vague_dates_are_compared_as_they_would_be_saved(world, publisher):
    public = world["public"]
    Commitment.objects.filter(pk=public.pk).update(
        made_on=datetime.date(2025, 7, 1), made_precision="month"
    )
    public.refresh_from_db()
    # 15 July at month precision is July 2025: what is stored already.
    assert propose(public, publisher.user, made_on="2025-07-15") is None
    revision = propose(public, publisher.user, made_on="2025-08-20")
    public.refresh_from_db()
    assert public.made_on == datetime.date(2025, 8, 1)
    assert (revision.changes[0]["before_text"], revision.changes[0]["after_text"]) == (
        "July 2025",
        "August 2025",
    )


@pytest.mark.parametrize(
    ("key", "after", "shown_before"),
    [
        ("public", {"summary": "A new summary."}, "What was promised"),
        ("public", {"deadline": "2026-01-01"}, "—"),
        ("statement", {"speaker_description": "a Home Office source"}, "—"),
        ("observation", {"observed_on": "2025-10-20"}, "1 October 2025"),
        ("source", {"title": "A better title"}, "The original report"),
        ("indicator", {"unit": "crossings"}, "people"),
        ("speaker", {"role": "Home Secretary"}, "—"),
        ("topic", {"description": "Deals to return people."}, "—"),
    ],
)
def test_everything_a_public_page_shows_is_revised(world, editor, key, after, shown_before):
    obj = world[key]
    assert services.revision_needed(obj)
    revision = propose(obj, editor.user, **after)
    assert revision.state == Revision.State.PROPOSED
    assert revision.changes[0]["before_text"].startswith(shown_before)
    assert world["public"] in revision.commitments.all()
    fresh = type(obj).objects.get(pk=obj.pk)
    for name in after:
        assert getattr(fresh, name) == getattr(obj, name)


def test_draft_only_material_is_not_revised(world):
    assert not services.revision_needed(world["draft"])
    assert not services.revision_needed(world["draft_statement"])


def test_actors_of_a_commitment_are_revised_as_one_field(world, editor, publisher, make_actor):
    partner = make_actor(name="Partner body")
    current = [[r.actor_id, r.role] for r in world["public"].roles.all()]
    revision = propose(world["public"], editor.user, roles=[*current, [partner.pk, "partner"]])
    assert not CommitmentActor.objects.filter(actor=partner).exists()
    services.revision_apply(revision=revision, by=publisher.user)
    assert CommitmentActor.objects.filter(
        commitment=world["public"], actor=partner, role="partner"
    ).exists()
    assert "Partner body (Partner)" in revision.changes[0]["after_text"]


def test_decided_revisions_are_kept_by_the_database(world, publisher):
    revision = propose(world["statement"], publisher.user, text="Changed")
    for sql in (
        "UPDATE commitments_revision SET reason = 'rewritten' WHERE id = %s",
        "DELETE FROM commitments_revision WHERE id = %s",
    ):
        with pytest.raises((IntegrityError, InternalError)), transaction.atomic():
            with connection.cursor() as cursor:
                cursor.execute(sql, [revision.pk])
    revision.refresh_from_db()
    assert revision.reason == "It was wrong."


# --- The admin: every route around the publisher -----------------------------------------


def _form(client, url, **changes):
    response = client.get(url)
    assert response.status_code == 200
    data = payload(response)
    data.update(changes)
    return data


def test_an_editors_change_form_proposes_and_the_public_page_keeps_the_old_words(
    world, editor, client
):
    statement = world["statement"]
    url = f"{ADMIN}/statement/{statement.pk}/change/"
    response = editor.post(url, _form(editor, url, text="Stop the boats, now.", **WHY))
    assert response.status_code == 302
    statement.refresh_from_db()
    assert statement.text == "We will stop the boats."
    revision = Revision.objects.get()
    assert revision.state == Revision.State.PROPOSED
    assert revision.proposed_role == "Editor"
    page = client.get(world["public"].get_absolute_url()).content.decode()
    assert "We will stop the boats." in page and "Stop the boats, now." not in page


def test_a_change_without_a_reason_is_refused_on_the_form(world, editor):
    statement = world["statement"]
    url = f"{ADMIN}/statement/{statement.pk}/change/"
    response = editor.post(url, _form(editor, url, text="Changed words."))
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "revision_reason" in errors and "revision_kind" in errors
    assert not Revision.objects.exists()
    statement.refresh_from_db()
    assert statement.text == "We will stop the boats."


def test_a_publishers_change_form_applies_with_its_trace(world, publisher, client):
    source = world["source"]
    url = f"{ADMIN}/source/{source.pk}/change/"
    publisher.post(url, _form(publisher, url, title="The corrected report", **WHY))
    source.refresh_from_db()
    assert source.title == "The corrected report"
    history = client.get(f"/commitments/{world['public'].slug}/changes/").content.decode()
    assert "The original report" in history and "The corrected report" in history
    assert "The quote was misheard." in history


def test_an_editor_cannot_apply_a_proposal_by_posting_to_the_decision_view(world, editor):
    revision = propose(world["statement"], editor.user, text="Changed")
    url = f"{ADMIN}/revision/{revision.pk}/decide/"
    assert editor.post(url, {"_apply": "1"}).status_code == 403
    assert editor.post(url, {"_reject": "1", "note": "x"}).status_code == 403
    revision.refresh_from_db()
    assert revision.state == Revision.State.PROPOSED
    # The queue itself is read-only for everyone: no add, change or delete.
    delete = editor.post(f"{ADMIN}/revision/{revision.pk}/delete/", {"post": "yes"})
    assert delete.status_code == 403
    assert Revision.objects.filter(pk=revision.pk).exists()


def test_a_publisher_applies_from_the_queue(world, editor, publisher):
    revision = propose(world["statement"], editor.user, text="Changed")
    queue = publisher.get(f"{ADMIN}/revision/").content.decode()
    assert "Direct quote by Jane Minister" in queue
    page = publisher.get(f"{ADMIN}/revision/{revision.pk}/change/").content.decode()
    assert "We will stop the boats." in page and "Apply this change" in page
    response = publisher.post(f"{ADMIN}/revision/{revision.pk}/decide/", {"_apply": "1"})
    assert response.status_code == 302
    world["statement"].refresh_from_db()
    assert world["statement"].text == "Changed"


@pytest.mark.parametrize("role", ["Editor", "Publisher"])
@pytest.mark.parametrize(
    ("model", "key", "field", "old"),
    [
        ("statement", "statement", "text", "Rewritten by reverting"),
        ("commitment", "public", "title", "Rewritten by reverting"),
        ("source", "source", "title", "Rewritten by reverting"),
    ],
)
def test_the_history_revert_form_never_saves(world, role_client, role, model, key, field, old):
    client = role_client(role)
    obj = world[key]
    before = getattr(obj, field)
    history_id = obj.history.first().history_id
    url = f"{ADMIN}/{model}/{obj.pk}/history/{history_id}/"
    assert client.get(url).status_code == 200  # still readable
    data = _form(client, f"{ADMIN}/{model}/{obj.pk}/change/", **{field: old}, **WHY)
    assert client.post(url, data).status_code == 403
    obj.refresh_from_db()
    assert getattr(obj, field) == before
    assert not Revision.objects.exists()


def test_unpublishing_through_the_history_is_refused(world, editor):
    public = world["public"]
    public.is_published = False
    public._history_user = editor.user
    # A history row with is_published False, as if it had been a draft before.
    public.history.create(
        id=public.pk,
        title=public.title,
        slug=public.slug,
        summary=public.summary,
        original_wording="",
        made_on=public.made_on,
        made_precision="day",
        made_where="",
        deadline_precision="day",
        is_published=False,
        created_at=public.created_at,
        updated_at=public.updated_at,
        history_date=public.updated_at,
        history_type="~",
    )
    history_id = public.history.order_by("-history_id").first().history_id
    url = f"{ADMIN}/commitment/{public.pk}/history/{history_id}/"
    data = _form(editor, f"{ADMIN}/commitment/{public.pk}/change/")
    assert editor.post(url, data).status_code == 403
    assert Commitment.objects.get(pk=public.pk).is_published


def test_inline_actor_changes_on_a_published_commitment_are_proposed(world, editor, make_actor):
    public = world["public"]
    url = f"{ADMIN}/commitment/{public.pk}/change/"
    data = _form(editor, url, **WHY)
    data["roles-0-DELETE"] = "on"  # remove the only actor
    response = editor.post(url, data)
    assert response.status_code == 302
    assert public.roles.count() == 1
    revision = Revision.objects.get()
    assert revision.changes[0]["field"] == "roles"
    assert revision.changes[0]["after_text"] == "—"


def test_figures_of_a_public_indicator_change_only_on_their_own_page(world, editor):
    indicator, observation = world["indicator"], world["observation"]
    url = f"{ADMIN}/indicator/{indicator.pk}/change/"
    data = _form(editor, url, **WHY)
    data["observations-0-value"] = "1"
    data["observations-0-DELETE"] = "on"
    editor.post(url, data)
    observation.refresh_from_db()
    assert observation.value == decimal.Decimal("36956")
    # On its own page, the change is a proposal.
    own = f"{ADMIN}/observation/{observation.pk}/change/"
    editor.post(own, _form(editor, own, value="1", **WHY))
    observation.refresh_from_db()
    assert observation.value == decimal.Decimal("36956")
    assert Revision.objects.get().changes[0]["after"] == "1.00"


def test_publishing_actions_stay_closed_to_editors(world, editor):
    for action in ("publish_selected", "unpublish_selected"):
        editor.post(
            f"{ADMIN}/commitment/",
            {"action": action, "_selected_action": [world["draft"].pk, world["public"].pk]},
        )
    assert not Commitment.objects.get(pk=world["draft"].pk).is_published
    assert Commitment.objects.get(pk=world["public"].pk).is_published


def test_drafts_are_edited_freely(world, editor):
    draft_statement = world["draft_statement"]
    url = f"{ADMIN}/statement/{draft_statement.pk}/change/"
    response = editor.get(url)
    assert 'name="revision_reason"' not in response.content.decode()
    editor.post(url, _form(editor, url, text="Draft words, edited."))
    draft_statement.refresh_from_db()
    assert draft_statement.text == "Draft words, edited."
    assert not Revision.objects.exists()


# --- Public pages --------------------------------------------------------------------------


def test_the_change_history_shows_before_and_after_escaped(world, publisher, client):
    services.revision_submit(
        obj=world["statement"],
        after={"text": "<img src=x onerror=alert(1)>"},
        kind="minor",
        reason="<script>alert(2)</script>",
        by=publisher.user,
    )
    page = client.get(f"/commitments/{world['public'].slug}/")
    assert "1 change since publication" in page.content.decode()
    history = client.get(f"/commitments/{world['public'].slug}/changes/").content.decode()
    assert "We will stop the boats." in history
    assert "&lt;img src=x onerror=alert(1)&gt;" in history and "<img src=x" not in history
    assert "&lt;script&gt;" in history and "<script>alert" not in history
    assert "Minor edit" in history
    # Valid HTML dates: no fraction of a second beyond three digits (the Nu checker's rule).
    stamps = re.findall(r'<time datetime="([^"]+)"', history)
    stamp = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d[+-]\d{4}")
    assert stamps and all(stamp.fullmatch(s) for s in stamps)
    # A minor edit is not a correction.
    assert "We will stop the boats." not in client.get("/corrections/").content.decode()


def test_corrections_list_timeline_and_text_corrections_newest_first(world, publisher, client):
    propose(world["source"], publisher.user, title="Second title")
    page = client.get("/corrections/").content.decode()
    assert "The original report" in page and "Second title" in page
    assert f'href="/commitments/{world["public"].slug}/changes/#revision-' in page


def test_change_history_of_a_draft_is_not_public(world, client):
    assert client.get(f"/commitments/{world['draft'].slug}/changes/").status_code == 404


@pytest.mark.parametrize("count", [1, 30])
def test_change_pages_query_count_does_not_grow(
    world, publisher, client, django_assert_max_num_queries, count
):
    for n in range(count):
        propose(world["statement"], publisher.user, text=f"Version {n}")
    with django_assert_max_num_queries(8):
        assert client.get(f"/commitments/{world['public'].slug}/changes/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get("/corrections/").status_code == 200


def test_staff_preview_a_draft_at_its_future_address(world, editor, client, django_user_model):
    url = world["draft"].get_absolute_url()
    assert client.get(url).status_code == 404
    reader = Client()
    reader.force_login(django_user_model.objects.create_user("reader", password="x" * 20))
    assert reader.get(url).status_code == 404
    response = editor.get(url)
    assert response.status_code == 200
    html = response.content.decode()
    assert "Draft preview" in html
    assert '<meta name="robots" content="noindex, nofollow">' in html
    assert response["X-Robots-Tag"] == "noindex, nofollow"
    assert "no-store" in response["Cache-Control"] and "private" in response["Cache-Control"]
    # A published page is not marked as a preview.
    public = editor.get(world["public"].get_absolute_url())
    assert "Draft preview" not in public.content.decode()
    assert "X-Robots-Tag" not in public


def test_the_change_form_says_what_waits_for_a_publisher(world, editor):
    url = f"{ADMIN}/statement/{world['statement'].pk}/change/"
    assert "wait for a publisher" not in editor.get(url).content.decode()
    propose(world["statement"], editor.user, text="Changed")
    assert "Changes to this record wait for a publisher: 1." in editor.get(url).content.decode()


# --- Feeds and API -------------------------------------------------------------------------


def test_corrections_of_published_text_are_in_the_feeds_escaped_and_minor_edits_are_not(
    world, publisher, client
):
    import feedparser

    services.revision_submit(
        obj=world["statement"],
        after={"text": "<img src=x onerror=alert(1)> new words"},
        kind="correction",
        reason="Misquoted <b>badly</b>.",
        by=publisher.user,
    )
    propose(world["source"], publisher.user, title="Tidier title")  # a correction too
    services.revision_submit(
        obj=world["topic"], after={"description": "Tidied."}, kind="minor", reason="Typo.",
        by=publisher.user,
    )
    slug = world["public"].slug
    for url in ("/feeds/changes/", f"/feeds/commitments/{slug}/"):
        raw = client.get(url).content.decode()
        feed = feedparser.parse(raw)
        titles = [entry.title for entry in feed.entries]
        corrections = [e for e in feed.entries if "Correction to Direct quote" in e.title]
        assert len(corrections) == 1, titles
        entry = corrections[0]
        quote_fix = Revision.objects.filter(kind="correction").order_by("pk").first()
        assert entry.link.endswith(f"/commitments/{slug}/changes/#revision-{quote_fix.pk}")
        assert "We will stop the boats." in entry.summary
        assert "<img" not in entry.summary and "&lt;img" in entry.summary
        assert "&lt;b&gt;badly" in entry.summary
        assert any("Correction to Source" in t for t in titles)
        assert not any("Topic" in t for t in titles)


def test_the_api_lists_revisions_with_before_and_after(world, publisher, client):
    propose(world["statement"], publisher.user, text="New words")
    services.revision_submit(
        obj=world["topic"], after={"description": "Tidied."}, kind="minor", reason="Typo.",
        by=publisher.user,
    )
    every = client.get("/api/revisions").json()
    assert every["count"] == 2
    corrections = client.get("/api/revisions?kind=correction").json()["items"]
    assert [r["kind"] for r in corrections] == ["correction"]
    item = corrections[0]
    assert item["changes"] == [
        {
            "field": "text",
            "label": "Text",
            "before": "We will stop the boats.",
            "after": "New words",
        }
    ]
    assert item["commitments"] == [world["public"].slug]
    assert (item["proposed_by_role"], item["applied_by_role"]) == ("Publisher", "Publisher")
    anchor = f"/commitments/{world['public'].slug}/changes/#revision-{item['id']}"
    assert item["url"].endswith(anchor)
    mine = client.get(f"/api/commitments/{world['public'].slug}/changes").json()
    assert mine["count"] == 2
    assert client.get(f"/api/commitments/{world['draft'].slug}/changes").status_code == 404
    assert client.get("/api/revisions?kind=other").status_code == 422


def test_proposals_and_rejections_are_never_public(world, editor, publisher, client):
    waiting = propose(world["statement"], editor.user, text="Waiting words")
    rejected = propose(world["source"], editor.user, title="Rejected title")
    services.revision_reject(revision=rejected, by=publisher.user, note="No.")
    assert client.get("/api/revisions").json()["count"] == 0
    for url in (
        f"/commitments/{world['public'].slug}/changes/",
        "/corrections/",
        "/feeds/changes/",
    ):
        body = client.get(url).content.decode()
        assert "Waiting words" not in body and "Rejected title" not in body, url
    assert waiting.state == Revision.State.PROPOSED


def test_revisions_of_a_commitment_that_is_unpublished_leave_the_public_record(
    world, publisher, client
):
    propose(world["statement"], publisher.user, text="New words")
    assert client.get("/api/revisions").json()["count"] == 1
    services.commitment_unpublish(commitment=world["public"], unpublished_by=publisher.user)
    assert client.get("/api/revisions").json()["count"] == 0
    assert "New words" not in client.get("/corrections/").content.decode()
