"""JSON Feeds beside the Atom feeds, and feeds per actor and per topic: the same entries in
both formats, only public material, 404 for what is not public, discovery links on the
pages, and a query count that does not grow with the entries."""

from __future__ import annotations

import datetime
import json

import feedparser
import pytest
from django.core.cache import cache
from django.urls import reverse

from commitments.models import CommitmentActor
from commitments.vocabulary import ActorRole

pytestmark = pytest.mark.django_db

SCRIPT = "<script>alert(2)</script>"
JSON_FEED_TYPE = "application/feed+json"


@pytest.fixture
def world(make_commitment, make_actor, make_topic, make_source, log_update):
    macron = make_actor(name="Emmanuel Macron", slug="emmanuel-macron")
    starmer = make_actor(name="Keir Starmer", slug="keir-starmer")
    topic = make_topic(name="Returns", slug="returns")
    other_topic = make_topic(name="Boats", slug="boats")
    source = make_source()
    intercept = make_commitment(actor=macron, title=f"Intercept boats {SCRIPT}")
    intercept.topics.add(topic)
    returns = make_commitment(actor=starmer, title="One in, one out")
    returns.topics.add(other_topic)
    # Macron is a partner on a second commitment: his feed has its steps too.
    shared = make_commitment(actor=starmer, title="Joint patrols")
    CommitmentActor.objects.create(commitment=shared, actor=macron, role=ActorRole.PARTNER)
    draft = make_commitment(actor=macron, title="Secret draft", published=False)
    draft.topics.add(topic)
    steps = {
        "intercept": log_update(
            intercept,
            sources=[source],
            status="stalled",
            description=f'Stalled {SCRIPT} & "more"',
            effective_on=datetime.date(2025, 10, 24),
        ),
        "returns": log_update(returns, sources=[source], effective_on=datetime.date(2025, 8, 6)),
        "shared": log_update(shared, sources=[source], effective_on=datetime.date(2025, 9, 1)),
        "draft": log_update(draft, sources=[source], effective_on=datetime.date(2025, 9, 2)),
    }
    return {
        "macron": macron,
        "starmer": starmer,
        "topic": topic,
        "intercept": intercept,
        "returns": returns,
        "shared": shared,
        "draft": draft,
        "steps": steps,
    }


def get_json(client, url) -> dict:
    response = client.get(url)
    assert response.status_code == 200, url
    assert response["Content-Type"].startswith(JSON_FEED_TYPE), url
    return json.loads(response.content)


def assert_json_feed_shape(data: dict):
    """JSON Feed 1.1: the required keys and an item's required id, with URLs absolute and
    dates RFC 3339."""
    assert data["version"] == "https://jsonfeed.org/version/1.1"
    assert isinstance(data["title"], str) and data["title"]
    assert data["home_page_url"].startswith("http://testserver/")
    assert data["feed_url"].startswith("http://testserver/feeds/")
    assert isinstance(data["items"], list)
    ids = [item["id"] for item in data["items"]]
    assert len(ids) == len(set(ids))
    for item in data["items"]:
        assert isinstance(item["id"], str) and item["id"]
        assert item["url"].startswith("http://testserver/")
        datetime.datetime.fromisoformat(item["date_published"])
        assert item["date_published"].endswith("+00:00") or item["date_published"][-6] in "+-"
        assert item["title"] and item["content_html"]


FEEDS = [
    ("feed_changes", "feed_changes_json", None),
    ("feed_commitment", "feed_commitment_json", "intercept"),
    ("feed_actor", "feed_actor_json", "macron"),
    ("feed_topic", "feed_topic_json", "topic"),
]


def _urls(world, atom_name, json_name, key):
    args = [world[key].slug] if key else []
    return (
        reverse(f"commitments:{atom_name}", args=args),
        reverse(f"commitments:{json_name}", args=args),
    )


@pytest.mark.parametrize(("atom_name", "json_name", "key"), FEEDS)
def test_each_json_feed_has_the_atom_feeds_entries(client, world, atom_name, json_name, key):
    atom_url, json_url = _urls(world, atom_name, json_name, key)
    atom = feedparser.parse(client.get(atom_url).content)
    assert not atom.bozo, atom.get("bozo_exception")
    data = get_json(client, json_url)
    assert_json_feed_shape(data)
    assert data["feed_url"] == f"http://testserver{json_url}"
    assert data["title"] == atom.feed.title
    assert [(e.link, e.title, e.id) for e in atom.entries] == [
        (item["url"], item["title"], item["id"]) for item in data["items"]
    ]
    assert [e.summary for e in atom.entries] == [item["content_html"] for item in data["items"]]
    published = [datetime.datetime.fromisoformat(i["date_published"]) for i in data["items"]]
    assert [at.replace(microsecond=0) for at in published] == [
        datetime.datetime(*e.published_parsed[:6], tzinfo=datetime.UTC) for e in atom.entries
    ]
    assert atom.entries, atom_url
    text = json.dumps(data)
    assert "Secret draft" not in text


def test_json_items_link_to_the_step_and_escape_what_editors_typed(client, world):
    data = get_json(client, reverse("commitments:feed_changes_json"))
    step = world["steps"]["intercept"]
    [item] = [i for i in data["items"] if i["url"].endswith(f"#update-{step.pk}")]
    assert (
        item["url"] == f"http://testserver/commitments/{world['intercept'].slug}/#update-{step.pk}"
    )
    assert SCRIPT not in item["content_html"]
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in item["content_html"]
    # A title is text: JSON carries it as it is, for the reader to escape.
    assert item["title"].startswith(f"Intercept boats {SCRIPT}: Stalled")
    assert item["authors"] == [{"name": "Commitment Tracker"}]


def test_an_actors_feed_has_only_the_steps_of_that_actors_public_commitments(client, world):
    steps = world["steps"]
    for url in _urls(world, "feed_actor", "feed_actor_json", "macron"):
        body = client.get(url).content.decode()
        assert f"#update-{steps['intercept'].pk}" in body
        assert f"#update-{steps['shared'].pk}" in body  # partner
        assert f"#update-{steps['returns'].pk}" not in body
        assert f"#update-{steps['draft'].pk}" not in body
    starmer = get_json(client, reverse("commitments:feed_actor_json", args=["keir-starmer"]))
    assert {item["url"].rsplit("#", 1)[1] for item in starmer["items"]} == {
        f"update-{steps['returns'].pk}",
        f"update-{steps['shared'].pk}",
    }
    assert starmer["title"] == "Keir Starmer: status changes and corrections"
    assert starmer["home_page_url"] == "http://testserver/actors/keir-starmer/"


def test_a_topics_feed_has_only_that_topics_public_commitments(client, world):
    data = get_json(client, reverse("commitments:feed_topic_json", args=["returns"]))
    assert [item["url"].rsplit("#", 1)[1] for item in data["items"]] == [
        f"update-{world['steps']['intercept'].pk}"
    ]


def test_unknown_or_non_public_owners_and_drafts_have_no_feed(
    client, world, make_actor, make_topic
):
    hidden_actor = make_actor(slug="nobody-public")  # no role on anything published
    hidden_topic = make_topic(slug="draft-only")
    world["draft"].topics.add(hidden_topic)
    CommitmentActor.objects.filter(commitment=world["draft"]).update(actor=hidden_actor)
    for url in (
        "/feeds/actors/no-such-actor/",
        "/feeds/actors/no-such-actor/json/",
        "/feeds/actors/nobody-public/",
        "/feeds/actors/nobody-public/json/",
        "/feeds/topics/no-such-topic/",
        "/feeds/topics/draft-only/json/",
        f"/feeds/commitments/{world['draft'].slug}/json/",
    ):
        assert client.get(url).status_code == 404, url
    assert client.post("/feeds/changes/json/").status_code == 405


def test_pages_link_their_feeds_in_the_head_and_in_the_page(client, world):
    intercept = world["intercept"]
    html = client.get(intercept.get_absolute_url()).content.decode()
    assert (
        f'<link rel="alternate" type="application/feed+json" title="Intercept boats '
        f'&lt;script&gt;alert(2)&lt;/script&gt;: status changes (JSON Feed)" '
        f'href="/feeds/commitments/{intercept.slug}/json/">'
    ) in html
    assert f'href="/feeds/commitments/{intercept.slug}/json/">JSON Feed</a>' in html
    assert 'type="application/feed+json" title="Commitment Tracker: recent status changes' in html
    for kind, slug in (("actors", "emmanuel-macron"), ("topics", "returns")):
        page = client.get(f"/{kind}/{slug}/").content.decode()
        assert 'type="application/atom+xml" title="' in page
        assert f'href="/feeds/{kind}/{slug}/"' in page, kind
        assert 'type="application/feed+json" title="' in page
        assert f'href="/feeds/{kind}/{slug}/json/"' in page, kind
        assert f'<a href="/feeds/{kind}/{slug}/">Atom feed</a>' in page
        assert f'<a href="/feeds/{kind}/{slug}/json/">JSON Feed</a>' in page


def _queries(client, django_assert_max_num_queries, url):
    cache.clear()
    with django_assert_max_num_queries(12) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_feed_query_counts_do_not_grow_with_entries(
    client, world, make_commitment, make_source, log_update, django_assert_max_num_queries
):
    urls = [
        "/feeds/changes/json/",
        f"/feeds/commitments/{world['intercept'].slug}/json/",
        "/feeds/actors/emmanuel-macron/",
        "/feeds/actors/emmanuel-macron/json/",
        "/feeds/topics/returns/",
        "/feeds/topics/returns/json/",
    ]
    few = {url: _queries(client, django_assert_max_num_queries, url) for url in urls}
    sources = [make_source(), make_source()]
    for i in range(30):
        commitment = make_commitment(actor=world["macron"])
        commitment.topics.add(world["topic"])
        log_update(commitment, sources=sources, effective_on=datetime.date(2025, 8, 1 + i % 28))
        log_update(world["intercept"], sources=sources, effective_on=datetime.date(2025, 9, 1))
    many = {url: _queries(client, django_assert_max_num_queries, url) for url in urls}
    assert few == many
    assert len(get_json(client, "/feeds/actors/emmanuel-macron/json/")["items"]) == 50


def test_corrections_of_published_text_reach_the_feeds_of_their_actors_and_topics(
    client, world, role_client, make_source
):
    from commitments import services
    from commitments.models import Revision, Statement

    statement = Statement.objects.create(
        text="We will intercept the boats.",
        speaker=world["macron"],
        said_on=datetime.date(2025, 7, 10),
        source=make_source(),
    )
    statement.commitments.add(world["intercept"])
    publisher = role_client("Publisher")
    services.revision_submit(
        obj=statement,
        after={"text": "We will <em>try</em> to intercept the boats."},
        kind="correction",
        reason="Misquoted.",
        by=publisher.user,
    )
    revision = Revision.objects.get(kind="correction")
    assert revision.state == Revision.State.APPLIED
    anchor = f"/commitments/{world['intercept'].slug}/changes/#revision-{revision.pk}"

    def revision_items(url):
        return [i for i in get_json(client, url)["items"] if i["url"].endswith(anchor)]

    for url in ("/feeds/actors/emmanuel-macron/json/", "/feeds/topics/returns/json/"):
        [item] = revision_items(url)
        assert item["title"].startswith("Intercept boats")
        assert "&lt;em&gt;try&lt;/em&gt;" in item["content_html"]
        assert "<em>" not in item["content_html"]
    assert revision_items("/feeds/actors/keir-starmer/json/") == []
    assert revision_items("/feeds/topics/boats/json/") == []
    atom = feedparser.parse(client.get("/feeds/actors/emmanuel-macron/").content)
    assert any(entry.link.endswith(anchor) for entry in atom.entries)
