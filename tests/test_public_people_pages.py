"""Find people and places (issue 11): the ``/actors/`` and ``/topics/`` index pages, and
an actor's page grouped by role (made, responsible, partner) with what the actor said;
each in a number of queries that does not grow with the data."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from commitments.models import Actor, ActorRole, CommitmentActor, Statement, Topic

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}


def html_of(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def section(html: str, heading: str) -> str:
    """The HTML of the ``<section>`` whose heading starts with ``heading``."""
    for part in html.split("<section")[1:]:
        body = part.split("</section>")[0]
        if re.search(r"<h2[^>]*>\s*" + re.escape(heading), body):
            return body
    raise AssertionError(f"no section {heading!r}")


def rows(html: str) -> int:
    return html.count('class="commitment-row"')


# --- /actors/ and /topics/ ------------------------------------------------------------------


def test_actor_index_lists_every_public_actor_by_kind_with_counts(client, seeded):
    assert reverse("commitments:actor_list") == "/actors/"
    html = html_of(client.get("/actors/"))
    public = Actor.objects.public()
    assert public.count() >= 8
    for actor in public:
        assert f'href="/actors/{actor.slug}/"' in html, actor.slug
    people = section(html, "Person")
    assert "Emmanuel Macron" in people and "President of France" in people
    assert "Home Office" not in people and "Home Office" in section(html, "Ministry or department")
    macron = people.split("Emmanuel Macron")[1].split("</li>")[0]
    assert "1 commitment" in macron and "commitments" not in macron
    hewitt = people.split("Martin Hewitt")[1].split("</li>")[0]
    assert "0 commitments · 1 statement" in hewitt
    starmer_made = CommitmentActor.objects.filter(actor__slug="keir-starmer").values("commitment")
    starmer = people.split("Keir Starmer")[1].split("</li>")[0]
    assert f"{starmer_made.distinct().count()} commitments" in starmer
    # The vocabulary's order of kinds (Actor.Kind): people first, then governments, ...
    assert html.index(">Person<") < html.index(">Government<")
    assert html.index(">Government<") < html.index(">Ministry or department<")


def test_index_pages_leave_out_what_is_not_public(client, make_commitment, make_actor, make_topic):
    hidden, shown = make_actor(name="Draft-only Person"), make_actor(name="Shown Person")
    make_commitment(actor=hidden, published=False).topics.add(make_topic(name="Draft topic"))
    public = make_commitment(actor=shown)
    make_commitment(actor=shown, published=False)  # not counted
    CommitmentActor.objects.create(commitment=public, actor=shown, role=ActorRole.RESPONSIBLE)
    public.topics.add(make_topic(name="Shown topic"))
    actors = html_of(client.get("/actors/"))
    assert "Shown Person" in actors and "Draft-only Person" not in actors
    # Two roles on one published commitment, one draft: one commitment.
    assert "1 commitment<" in actors.split("Shown Person")[1].split("</li>")[0] + "<"
    topics = html_of(client.get("/topics/"))
    assert "Shown topic" in topics and "Draft topic" not in topics


def test_topic_index_lists_every_public_topic_with_its_count(client, seeded):
    assert reverse("commitments:topic_list") == "/topics/"
    html = html_of(client.get("/topics/"))
    for topic in Topic.objects.public():
        published = topic.commitments.filter(is_published=True).count()
        item = html.split(f'href="/topics/{topic.slug}/"')[1].split("</li>")[0]
        assert f"{published} commitment" in item, topic.slug


def test_index_pages_escape_names(client, make_commitment, make_actor, make_topic):
    actor = make_actor(name="<script>alert(1)</script>", role='"><b>x</b>')
    make_commitment(actor=actor).topics.add(make_topic(name="<i>topic</i>"))
    actors = html_of(client.get("/actors/"))
    assert "<script>alert(1)" not in actors and "&lt;script&gt;alert(1)" in actors
    assert "<b>x</b>" not in actors
    topics = html_of(client.get("/topics/"))
    assert "<i>topic</i>" not in topics and "&lt;i&gt;topic&lt;/i&gt;" in topics


def test_navigation_and_sitemap_link_the_index_pages(client, seeded):
    html = html_of(client.get("/"))
    nav = html.split('<nav aria-label="Main">')[1].split("</nav>")[0]
    assert 'href="/actors/"' in nav and 'href="/topics/"' in nav
    assert 'href="/actors/" aria-current="page"' in html_of(client.get("/actors/"))
    sitemap = client.get("/sitemap-pages.xml").content.decode()
    assert "/actors/</loc>" in sitemap and "/topics/</loc>" in sitemap


def test_index_page_query_counts_do_not_grow(
    client, make_commitment, make_actor, make_topic, make_source, django_assert_max_num_queries
):
    source = make_source()

    def add(n):
        for _ in range(n):
            actor = make_actor()
            commitment = make_commitment(actor=actor)
            commitment.topics.add(make_topic())
            Statement.objects.create(
                text="Words.", speaker=actor, said_on=datetime.date(2025, 7, 1), source=source
            ).commitments.add(commitment)

    def counts():
        found = {}
        for url in ("/actors/", "/topics/"):
            with django_assert_max_num_queries(6) as captured:
                html_of(client.get(url))
            found[url] = len(captured)
        return found

    add(1)
    small = counts()
    add(40)
    assert counts() == small
    assert html_of(client.get("/actors/")).count('class="index-list__item"') == 41


def test_index_pages_are_counted_once_per_public_version_and_follow_every_write(
    client, make_commitment, make_actor, make_topic, settings, django_assert_max_num_queries
):
    settings.PUBLIC_CACHE = False  # every request renders: the index's own memo is tested
    make_commitment(actor=make_actor(name="Early Actor", slug="early-actor")).topics.add(
        make_topic(name="Early Topic", slug="early-topic")
    )

    def render(url):
        with django_assert_max_num_queries(6) as captured:
            html = html_of(client.get(url))
        counted = sum(
            '"commitments_actor"' in q["sql"] or '"commitments_topic"' in q["sql"]
            for q in captured.captured_queries
        )
        return html, counted

    for url, name in (("/actors/", "Early Actor"), ("/topics/", "Early Topic")):
        html, counted = render(url)
        assert name in html and counted == 1, url
        html, counted = render(url)  # nothing public changed: the counts are reused
        assert name in html and counted == 0, url

    make_commitment(actor=make_actor(name="Late Actor", slug="late-actor")).topics.add(
        make_topic(name="Late Topic", slug="late-topic")
    )
    for url, name in (("/actors/", "Late Actor"), ("/topics/", "Late Topic")):
        html, counted = render(url)  # a public write: counted again, with the newcomer
        assert name in html and counted == 1, url


# --- An actor's page ------------------------------------------------------------------------


def test_macrons_page_shows_his_promises_under_made(client, seeded):
    html = html_of(client.get("/actors/emmanuel-macron/"))
    made = section(html, "Promises made")
    for commitment in CommitmentActor.objects.filter(
        actor__slug="emmanuel-macron", role=ActorRole.MADE_BY
    ).select_related("commitment"):
        assert commitment.commitment.get_absolute_url() in made
    assert "Intercept the &quot;taxi boats&quot;" in made
    assert "Responsible for delivering" not in html  # he has no such role
    # The French government: responsible for one, partner on another.
    government = html_of(client.get("/actors/french-government/"))
    assert "/commitments/intercept-taxi-boats/" in section(government, "Responsible for delivering")
    assert "/commitments/one-in-one-out-returns-deal/" in section(government, "Partner")
    assert government.index("Promises made") < government.index("Responsible for delivering")
    assert government.index("Responsible for delivering") < government.index(">Partner")


def test_an_actors_page_lists_what_they_said(client, seeded):
    html = html_of(client.get("/actors/martin-hewitt/"))
    said = section(html, "What Martin Hewitt said")
    assert "1 statement" in said
    assert "expressed frustration" in said
    assert '<time datetime="2025-10">October 2025</time>' in said
    assert "Statement (paraphrased)" in said
    statement = Statement.objects.get(speaker__slug="martin-hewitt")
    for commitment in statement.commitments.all():
        assert f'{commitment.get_absolute_url()}#statement-{statement.pk}"' in said
    assert "BBC News: France backing away from pledge" in said
    # No role on any commitment: no empty status counts, no link to an empty list.
    assert "No published commitments name Martin Hewitt" in html
    assert "By status" not in html and "?actor=martin-hewitt" not in html
    assert "By status" in html_of(client.get("/actors/emmanuel-macron/"))


def test_statements_newest_first_quoted_capped_and_public_only(
    client, make_commitment, make_actor, make_source
):
    actor = make_actor(name="Talkative Minister")
    public, draft = make_commitment(actor=actor), make_commitment(actor=actor, published=False)
    source = make_source(outlet="The <Courier>")
    for day in range(1, 26):
        Statement.objects.create(
            text=f"Remark number {day:02d} <b>loud</b>",
            kind=Statement.Kind.QUOTE,
            speaker=actor,
            said_on=datetime.date(2025, 1, day),
            source=source,
        ).commitments.add(public)
    Statement.objects.create(
        text="Said about a draft only",
        speaker=actor,
        said_on=datetime.date(2025, 2, 1),
        source=source,
    ).commitments.add(draft)
    html = html_of(client.get(actor.get_absolute_url()))
    said = section(html, "What Talkative Minister said")
    assert "25 statements, the 20 newest shown" in said
    assert said.count('class="statement-list__item"') == 20
    assert said.index("Remark number 25") < said.index("Remark number 24")
    assert "Remark number 05" not in said and "draft only" not in said
    # A quote in <q> (the browser adds the quotation marks of the page's language).
    assert '<q lang="en">Remark number 25 &lt;b&gt;loud&lt;/b&gt;</q>' in said
    assert "The &lt;Courier&gt;" in said and "<b>loud</b>" not in said


def test_each_role_group_pages_on_its_own(client, make_commitment, make_actor):
    actor = make_actor(name="Busy Person", slug="busy-person")
    for i in range(25):
        make_commitment(title=f"Made promise {i:03d}", actor=actor)
    for i in range(3):
        commitment = make_commitment(title=f"Delivered promise {i:03d}")
        CommitmentActor.objects.create(
            commitment=commitment, actor=actor, role=ActorRole.RESPONSIBLE
        )
    html = html_of(client.get("/actors/busy-person/"))
    made = section(html, "Promises made")
    assert "(25)" in made and rows(made) == 20 and "Page 1 of 2" in made
    assert 'href="?made_page=2"' in made and 'data-hx-get="?made_page=2"' in made
    responsible = section(html, "Responsible for delivering")
    assert "(3)" in responsible and rows(responsible) == 3 and "Page 1" not in responsible

    page_two = html_of(client.get("/actors/busy-person/?made_page=2"))
    assert rows(section(page_two, "Promises made")) == 5
    assert rows(section(page_two, "Responsible for delivering")) == 3
    first = set(re.findall(r"Made promise \d+", made))
    second = set(re.findall(r"Made promise \d+", section(page_two, "Promises made")))
    assert len(first | second) == 25 and not first & second

    fragment = html_of(client.get("/actors/busy-person/?made_page=2", **HTMX))
    assert "<html" not in fragment and rows(fragment) == 8
    assert "What Busy Person said" not in fragment
    # Malformed and too-large page numbers are pages 1 and last.
    assert (
        rows(section(html_of(client.get("/actors/busy-person/?made_page=x")), "Promises made"))
        == 20
    )
    assert "Page 2 of 2" in html_of(client.get("/actors/busy-person/?made_page=99"))


def test_actor_page_query_count_does_not_grow(
    client, make_commitment, make_actor, make_source, django_assert_max_num_queries
):
    actor = make_actor(name="Growing Person", slug="growing-person")
    source = make_source()

    def add(n):
        for _ in range(n):
            for role in ActorRole.values:
                commitment = make_commitment()
                CommitmentActor.objects.create(commitment=commitment, actor=actor, role=role)
                Statement.objects.create(
                    text="Words.", speaker=actor, said_on=datetime.date(2025, 7, 1), source=source
                ).commitments.add(commitment)

    def counts():
        found = {}
        for suffix, headers in (("", {}), ("?partner_page=2", {}), ("?made_page=2", HTMX)):
            with django_assert_max_num_queries(22) as captured:
                html_of(client.get("/actors/growing-person/" + suffix, **headers))
            found[(suffix, bool(headers))] = len(captured)
        return found

    add(1)
    small = counts()
    add(30)
    assert counts() == small


def test_an_actors_role_groups_and_statements_are_served_by_indexes():
    """Each role group's page and the actor's statements, with sequential scans priced
    out, read the indexes built for them (as ``tests/test_public_indexes.py`` does for the
    other public pages)."""
    from django.db import connection, transaction

    from commitments import selectors
    from tests.test_public_indexes import fill_public

    fill_public(3000)
    actor = Actor.objects.get(slug="filler-actor-7")
    queries = {
        "made group": (
            selectors.actor_commitments(actor, role=ActorRole.MADE_BY).newest_made_first()[:20],
            ("commitment_pub_made", "commitments_commitmentactor_actor_id"),
        ),
        "role counts": (
            CommitmentActor.objects.filter(actor=actor, commitment__is_published=True)
            .order_by()
            .values("role"),
            "commitments_commitmentactor_actor_id",
        ),
        "statements": (
            selectors.actor_statements(actor)[:20],
            "commitments_statement_speaker_id",
        ),
    }
    assert selectors.actor_role_counts(actor)[ActorRole.MADE_BY] == (
        selectors.actor_commitments(actor, role=ActorRole.MADE_BY).count()
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, (queryset, index) in queries.items():
            plan = queryset.explain()
            names = (index,) if isinstance(index, str) else index
            assert any(index in plan for index in names), f"{name}: {index} not used\n{plan}"
            assert "Seq Scan" not in plan, f"{name}\n{plan}"


@pytest.mark.parametrize(
    "query",
    [
        "made_page=-1",
        "made_page=99999999999999999999",
        "responsible_page=%FF&partner_page=1e3",
        "made_page=&made_page=2",
        "page=x&q=<script>",
        "made_page=2%27%22",
    ],
)
def test_people_pages_never_fail_whatever_the_query_string(client, seeded, query):
    for path in ("/actors/", "/topics/", "/actors/french-government/", "/actors/martin-hewitt/"):
        for headers in ({}, HTMX):
            response = client.get(f"{path}?{query}", **headers)
            assert response.status_code == 200, (path, query, response.status_code)
            assert "<script>" not in response.content.decode().replace("<script src=", "")
