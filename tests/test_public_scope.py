"""What is public is defined once (the models' ``public()``), and every public output
reads through it; the timeline's evidence is never lost.

Material that only a draft uses (an actor, a topic, sources, an indicator and its
figures) stays off every public page, feed, export, sitemap and API answer, and its own
pages are 404. Once the draft is published through the service, the same outputs show
it: so these tests cannot pass because an output shows nothing at all.
"""

from __future__ import annotations

import datetime

import pytest
from django.core.management import call_command
from django.db import IntegrityError, connection, transaction
from django.utils import timezone

from commitments import services
from commitments.models import (
    Actor,
    Commitment,
    CommitmentRelation,
    Flag,
    FlagReason,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)
from commitments.services.accounts import user_create

pytestmark = pytest.mark.django_db

MARK = "Quokka"  # in the name of everything only the draft uses
ADMIN = "/admin/commitments"


def make_statement(commitment, source, *, speaker=None, text="Something was said."):
    statement = Statement.objects.create(
        text=text,
        speaker=speaker,
        speaker_description="" if speaker else "An official",
        said_on=datetime.date(2025, 8, 2),
        source=source,
    )
    statement.commitments.add(commitment)
    return statement


def make_indicator(commitment=None, *, name, comparison_source=None):
    indicator = Indicator.objects.create(
        name=name,
        slug=name.lower().replace(" ", "-"),
        unit="people",
        comparison_label="Whole of 2024",
        comparison_value=100,
        comparison_source=comparison_source,
    )
    if commitment is not None:
        indicator.commitments.add(commitment)
    return indicator


def make_observation(indicator, source, value=42):
    return Observation.objects.create(
        indicator=indicator, observed_on=datetime.date(2025, 9, 1), value=value, source=source
    )


@pytest.fixture
def publisher(db):
    return user_create(username="scope-publisher", role="Publisher", password="a long pass phrase")


@pytest.fixture
def scene(make_commitment, make_actor, make_topic, make_source, log_update):
    """A published commitment that shares nothing with a draft; a second published one
    related to the draft; and the draft, with everything only it uses named ``Quokka``."""
    public_topic = make_topic(name="Harbour patrols", slug="harbour-patrols")
    public_source = make_source(title="Public story", url="https://public.example.org/a")
    visible = make_commitment(
        title="Visible promise",
        slug="visible-promise",
        made_in=public_source,
        actor=make_actor(name="Visible Minister", slug="visible-minister"),
    )
    visible.topics.add(public_topic)
    log_update(visible, sources=[public_source], description="Visible step.")
    make_statement(visible, public_source, text="Visible words.")
    public_indicator = make_indicator(visible, name="Harbour arrivals")
    make_observation(public_indicator, public_source)

    sources = {
        kind: make_source(title=f"{MARK} {kind} source", url=f"https://quokka.example.org/{kind}")
        for kind in ("made-in", "update", "correction", "statement", "observation", "comparison")
    }
    actor = make_actor(name=f"{MARK} Actor", slug="quokka-actor")
    speaker = make_actor(name=f"{MARK} Speaker", slug="quokka-speaker")
    topic = make_topic(name=f"{MARK} Topic", slug="quokka-topic")
    indicator_topic = make_topic(name=f"{MARK} Indicator Topic", slug="quokka-indicator-topic")
    draft = make_commitment(
        title=f"{MARK} promise",
        slug="quokka-promise",
        published=False,
        made_in=sources["made-in"],
        actor=actor,
    )
    draft.topics.add(topic)
    entry = log_update(draft, sources=[sources["update"]], description=f"{MARK} step.")
    log_update(
        draft,
        sources=[sources["correction"]],
        corrects=entry,
        correction_note=f"{MARK} was wrong.",
        description=f"{MARK} corrected step.",
    )
    make_statement(draft, sources["statement"], speaker=speaker, text=f"{MARK} words.")
    indicator = make_indicator(
        draft, name=f"{MARK} Indicator", comparison_source=sources["comparison"]
    )
    indicator.topics.add(indicator_topic)
    make_observation(indicator, sources["observation"])
    Flag.objects.create(
        commitment=draft, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=timezone.now()
    )

    neighbour = make_commitment(
        title="Neighbour promise", slug="neighbour-promise", made_in=public_source
    )
    CommitmentRelation.objects.create(
        from_commitment=neighbour, to_commitment=draft, kind=CommitmentRelation.Kind.DEPENDS_ON
    )
    return {
        "visible": visible,
        "neighbour": neighbour,
        "draft": draft,
        "sources": sources,
        "actor": actor,
        "speaker": speaker,
        "topic": topic,
        "indicator_topic": indicator_topic,
        "indicator": indicator,
    }


HTMX = {"HTTP_HX_REQUEST": "true"}

#: Every public output that lists things, with what each must show once the draft is
#: published (``None``: the draft's material never shows there).
LISTINGS = {
    "/": [f"{MARK} promise", f"{MARK} Indicator"],
    "/commitments/": [f"{MARK} promise", 'value="quokka-actor"', 'value="quokka-topic"'],
    "/commitments/?q=promise": [f"{MARK} promise"],
    "/commitments/ HX": [f"{MARK} promise"],
    "/commitments/visible-promise/": None,
    "/commitments/visible-promise/embed/": None,
    "/commitments/neighbour-promise/": [f"{MARK} promise"],
    "/actors/visible-minister/": None,
    "/topics/harbour-patrols/": None,
    "/corrections/": [f"{MARK} promise", f"{MARK} was wrong."],
    "/feeds/changes/": [f"{MARK} step.", f"{MARK} update source"],
    "/feeds/commitments/visible-promise/": None,
    "/sitemap.xml": None,
    "/sitemap-commitments.xml": ["/commitments/quokka-promise/"],
    "/sitemap-actors.xml": ["/actors/quokka-actor/"],
    "/sitemap-topics.xml": ["/topics/quokka-topic/"],
    "/commitments.csv": [f"{MARK} promise", f"{MARK} Actor", f"{MARK} Topic"],
    "/commitments.json": [f"{MARK} promise", f"{MARK} Actor", f"{MARK} Topic"],
    "/api/commitments": [f"{MARK} promise", f"{MARK} Actor", f"{MARK} Topic"],
    "/api/commitments/visible-promise": None,
    "/api/commitments/visible-promise/timeline": None,
    "/api/actors": [f"{MARK} Actor", f"{MARK} Speaker"],
    "/api/sources": [f"{MARK} {kind} source" for kind in ("made-in", "update", "observation")]
    + [f"{MARK} statement source", f"{MARK} comparison source", f"{MARK} correction source"],
    "/api/indicators": [f"{MARK} Indicator"],
}


def get(client, url):
    if url.endswith(" HX"):
        response = client.get(url.removesuffix(" HX"), **HTMX)
        assert "<html" not in response.content.decode()
        return response
    return client.get(url)


def own_pages(scene) -> list[str]:
    """The draft-only material's own addresses: 404 while only the draft uses it."""
    return [
        "/commitments/quokka-promise/",
        "/commitments/quokka-promise/embed/",
        "/commitments/quokka-promise/preview.png",
        "/oembed/?url=/commitments/quokka-promise/",
        "/feeds/commitments/quokka-promise/",
        "/actors/quokka-actor/",
        "/actors/quokka-speaker/",
        "/topics/quokka-topic/",
        "/api/commitments/quokka-promise",
        "/api/commitments/quokka-promise/timeline",
        "/api/actors/quokka-actor",
        "/api/actors/quokka-speaker",
    ] + [f"/api/sources/{source.pk}" for source in scene["sources"].values()]


def test_draft_only_material_is_on_no_public_output_until_the_draft_is_published(
    client, scene, publisher
):
    for url in LISTINGS:
        response = get(client, url)
        assert response.status_code == 200, url
        assert MARK not in response.getvalue().decode(), url
        assert "quokka" not in response.getvalue().decode(), url
    for url in own_pages(scene):
        assert client.get(url).status_code == 404, url

    services.commitment_publish(commitment=scene["draft"], published_by=publisher)

    for url, expected in LISTINGS.items():
        body = get(client, url).getvalue().decode()
        if expected is None:
            assert MARK not in body, url
        for text in expected or []:
            assert text in body, (url, text)
    for url in own_pages(scene):
        assert client.get(url).status_code == 200, url
    # An indicator's topic alone is not a reason to show the topic.
    assert client.get("/topics/quokka-indicator-topic/").status_code == 404


def test_unpublishing_takes_the_material_off_again(client, scene, publisher):
    draft = scene["draft"]
    services.commitment_publish(commitment=draft, published_by=publisher)
    assert client.get("/actors/quokka-actor/").status_code == 200
    services.commitment_unpublish(commitment=draft, unpublished_by=publisher)
    for url in own_pages(scene):
        assert client.get(url).status_code == 404, url
    for url in [
        "/",
        "/api/sources",
        "/api/indicators",
        "/sitemap-commitments.xml",
        "/commitments/",
    ]:
        assert MARK not in client.get(url).content.decode(), url


def test_list_filter_choices_are_the_public_actors_and_topics(client, scene):
    form = client.get("/commitments/").context["filter"].form
    actors = {actor.slug for actor in form.fields["actor"].queryset}
    topics = {topic.slug for topic in form.fields["topic"].queryset}
    assert actors == set(Actor.objects.public().values_list("slug", flat=True))
    assert "visible-minister" in actors and "quokka-actor" not in actors
    assert topics == {"harbour-patrols"}
    # A filter naming a draft-only actor or topic is ignored, not obeyed.
    body = client.get("/commitments/?actor=quokka-actor&topic=quokka-topic").content.decode()
    assert "Visible promise" in body


# --- Each public() ----------------------------------------------------------------------


def slugs(queryset, field="slug"):
    values = list(queryset.values_list(field, flat=True))
    assert len(values) == len(set(values)), "public() must not repeat rows"
    return set(values)


def test_commitment_public_is_published(scene):
    assert slugs(Commitment.objects.public()) == {"visible-promise", "neighbour-promise"}


def test_actor_public_has_a_role_on_or_speaks_about_a_published_commitment(
    scene, make_commitment, make_actor, make_source, publisher
):
    busy = make_actor(name="Busy", slug="busy")
    for _ in range(3):  # three published commitments: still one row
        make_commitment(actor=busy, made_in=make_source())
    make_actor(name="Idle", slug="idle")
    assert slugs(Actor.objects.public()) == {"visible-minister", "busy"} | {
        role.actor.slug for role in scene["neighbour"].roles.all()
    }
    services.commitment_publish(commitment=scene["draft"], published_by=publisher)
    assert {"quokka-actor", "quokka-speaker"} <= slugs(Actor.objects.public())
    assert "idle" not in slugs(Actor.objects.public())
    assert slugs(Actor.objects.public().filter(slug__startswith="quokka")) == {
        "quokka-actor",
        "quokka-speaker",
    }


def test_topic_public_is_a_topic_of_a_published_commitment_not_of_an_indicator(scene, publisher):
    assert slugs(Topic.objects.public()) == {"harbour-patrols"}
    services.commitment_publish(commitment=scene["draft"], published_by=publisher)
    assert slugs(Topic.objects.public()) == {"harbour-patrols", "quokka-topic"}


def test_indicator_and_observation_public_through_a_published_commitment(scene):
    assert slugs(Indicator.objects.public()) == {"harbour-arrivals"}
    assert slugs(Observation.objects.public(), "indicator__slug") == {"harbour-arrivals"}
    Indicator.objects.create(name="Loose", slug="loose", unit="boats")
    scene["indicator"].commitments.add(scene["visible"])  # now public through the visible one
    assert slugs(Indicator.objects.public()) == {"harbour-arrivals", "quokka-indicator"}
    assert slugs(Observation.objects.public(), "source__title") == {
        "Public story",
        f"{MARK} observation source",
    }


def test_source_public_is_cited_by_something_public(scene, make_source, publisher):
    make_source(title="Unused story")
    assert slugs(Source.objects.public(), "title") == {"Public story"}
    services.commitment_publish(commitment=scene["draft"], published_by=publisher)
    assert slugs(Source.objects.public(), "title") == {"Public story"} | {
        source.title for source in scene["sources"].values()
    }


def cite(kind, source, commitment, log_update):
    """Make ``commitment`` cite ``source`` in one way only."""
    if kind == "made-in":
        Commitment.objects.filter(pk=commitment.pk).update(made_in=source)
    elif kind == "update":
        log_update(commitment, sources=[source])
    elif kind == "statement":
        make_statement(commitment, source)
    elif kind == "observation":
        make_observation(make_indicator(commitment, name="Cited figures"), source)
    elif kind == "comparison":
        make_indicator(commitment, name="Cited comparison", comparison_source=source)


@pytest.mark.parametrize("kind", ["made-in", "update", "statement", "observation", "comparison"])
def test_each_way_of_citing_a_source_makes_it_public_on_its_own(
    kind, make_commitment, make_source, log_update, publisher
):
    draft = make_commitment(published=False, made_in=make_source(title="Where it was made"))
    source = make_source(title="Cited once")
    cite(kind, source, draft, log_update)
    assert not Source.objects.public().filter(pk=source.pk).exists()
    services.commitment_publish(commitment=draft, published_by=publisher)
    assert Source.objects.public().filter(pk=source.pk).count() == 1
    services.commitment_unpublish(commitment=draft, unpublished_by=publisher)
    assert not Source.objects.public().exists()


def test_statement_status_update_and_flag_public_on_a_published_commitment(scene, publisher):
    assert slugs(Statement.objects.public(), "text") == {"Visible words."}
    assert slugs(StatusUpdate.objects.public(), "description") == {"Visible step."}
    assert not Flag.objects.public().exists()
    both = make_statement(scene["visible"], scene["sources"]["statement"], text="Shared words.")
    both.commitments.add(scene["draft"])  # about a draft and a published one: once
    assert slugs(Statement.objects.public(), "text") == {"Visible words.", "Shared words."}
    services.commitment_publish(commitment=scene["draft"], published_by=publisher)
    assert f"{MARK} words." in slugs(Statement.objects.public(), "text")
    assert slugs(StatusUpdate.objects.public().corrections(), "description") == {
        f"{MARK} corrected step."
    }
    assert Flag.objects.open().public().count() == 1


# --- Deleting evidence ---------------------------------------------------------------------


@pytest.fixture
def cited_by_a_draft(make_commitment, make_source, log_update):
    """A source that only a draft's status update cites: not public, still evidence."""
    draft = make_commitment(published=False, made_in=make_source())
    source = make_source(title="Evidence of a draft step")
    log_update(draft, sources=[source])
    return source


def bulk_delete(client, source, **extra):
    return client.post(
        f"{ADMIN}/source/",
        {"action": "delete_selected", "_selected_action": [source.pk], **extra},
    )


@pytest.mark.parametrize("role", ["Editor", "Publisher"])
def test_a_source_a_status_update_cites_is_never_deleted_in_the_admin(
    role_client, role, cited_by_a_draft, make_source
):
    client = role_client(role)
    source = cited_by_a_draft
    assert not Source.objects.public().filter(pk=source.pk).exists()
    assert client.post(f"{ADMIN}/source/{source.pk}/delete/", {"post": "yes"}).status_code == 403
    page = bulk_delete(client, source).content.decode()
    assert f"“{source}” is cited by a status update; the timeline keeps its evidence." in page
    bulk_delete(client, source, post="yes")
    assert Source.objects.filter(pk=source.pk).exists()
    assert source.status_updates.count() == 1
    # The same role deletes a source nothing cites: the refusal is about the evidence.
    spare = make_source(title="Spare")
    assert client.post(f"{ADMIN}/source/{spare.pk}/delete/", {"post": "yes"}).status_code == 302
    other = make_source(title="Other spare")
    bulk_delete(client, other, post="yes")
    assert not Source.objects.filter(pk__in=[spare.pk, other.pk]).exists()


@pytest.mark.parametrize("role", ["Editor", "Publisher"])
def test_a_source_only_a_public_indicator_cites_is_not_deleted(role_client, role, scene):
    source = Source.objects.get(title="Public story")
    comparison = scene["sources"]["comparison"]
    scene["indicator"].commitments.add(scene["visible"])
    client = role_client(role)
    page = bulk_delete(client, comparison).content.decode()
    assert f"“{comparison}” is public" in page
    bulk_delete(client, comparison, post="yes")
    assert client.post(f"{ADMIN}/source/{source.pk}/delete/", {"post": "yes"}).status_code == 403
    assert Source.objects.filter(pk__in=[source.pk, comparison.pk]).count() == 2


def test_deletion_refusals_names_each_source_and_why(cited_by_a_draft, scene, make_source):
    spare = make_source(title="Spare")
    refusals = services.deletion_refusals(
        queryset=Source.objects.filter(
            pk__in=[cited_by_a_draft.pk, spare.pk, Source.objects.get(title="Public story").pk]
        ),
        user=None,
    )
    assert sorted(refusals) == sorted(
        [
            f"“{cited_by_a_draft}” is cited by a status update; the timeline keeps its evidence.",
            f"“{Source.objects.get(title='Public story')}” is cited by a status update; the "
            "timeline keeps its evidence.",
        ]
    )


# --- The database keeps the evidence (migration 0006) ---------------------------------------


postgresql_only = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="the evidence triggers are PostgreSQL's"
)


def refused(sql, params=()):
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            # Check the deferred foreign keys of this test's rows now: PostgreSQL will not
            # TRUNCATE a table with such checks pending, and the refusal must be the trigger's.
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
            cursor.execute(sql, params)


@postgresql_only
def test_the_link_between_a_step_and_its_sources_cannot_be_removed_or_rewritten(
    make_commitment, make_source, log_update
):
    cited, other = make_source(), make_source()
    update = log_update(make_commitment(), sources=[cited])
    refused("DELETE FROM commitments_statusupdate_sources WHERE statusupdate_id = %s", [update.pk])
    refused(
        "UPDATE commitments_statusupdate_sources SET source_id = %s WHERE statusupdate_id = %s",
        [other.pk, update.pk],
    )
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        update.sources.clear()
    with pytest.raises(IntegrityError, match="append-only"), transaction.atomic():
        cited.delete()  # the ORM deletes the links first: refused, the source stays
    assert list(update.sources.all()) == [cited]


@postgresql_only
@pytest.mark.parametrize(
    "sql",
    [
        "TRUNCATE commitments_statusupdate_sources",
        "TRUNCATE commitments_statusupdate CASCADE",
        "TRUNCATE commitments_commitment CASCADE",
    ],
)
def test_the_timeline_cannot_be_truncated(make_commitment, make_source, log_update, sql):
    log_update(make_commitment(), sources=[make_source()])
    refused(sql)
    assert StatusUpdate.objects.count() == 1
    assert StatusUpdate.sources.through.objects.count() == 1


@postgresql_only
def test_deleting_an_account_keeps_its_steps_and_their_sources(
    make_commitment, make_source, log_update, django_user_model
):
    editor = django_user_model.objects.create_user("leaving")
    source = make_source()
    update = log_update(make_commitment(), sources=[source], recorded_by=editor)
    editor.delete()
    update.refresh_from_db()
    assert update.recorded_by is None
    assert list(update.sources.all()) == [source]


@postgresql_only
@pytest.mark.django_db(transaction=True)
def test_the_test_suites_flush_empties_the_timeline_and_leaves_the_triggers_on(
    make_commitment, make_source, log_update
):
    log_update(make_commitment(), sources=[make_source()])
    call_command("flush", interactive=False, verbosity=0)
    assert not StatusUpdate.objects.exists()
    assert not StatusUpdate.sources.through.objects.exists()
    with connection.cursor() as cursor:
        cursor.execute("SHOW session_replication_role")
        assert cursor.fetchone() == ("origin",)
    refused("TRUNCATE commitments_statusupdate CASCADE")
