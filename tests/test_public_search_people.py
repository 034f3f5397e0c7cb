"""The search finds people and places (issue 11): actors by name and role, sources by
outlet, title and author, French names with or without their accents; each result says
where it matched, the words in ``<mark>`` and everything editors typed escaped."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import connection, transaction

from commitments import selectors
from commitments.models import (
    Actor,
    ActorRole,
    Commitment,
    CommitmentActor,
    Source,
    Statement,
)
from commitments.safety import HIGHLIGHT_START, HIGHLIGHT_STOP, highlighted_html
from tests.test_public_search import assert_documents_stored_and_indexed, sqlite_seed_search

pytestmark = pytest.mark.django_db

HTMX = {"HTTP_HX_REQUEST": "true"}
migration = importlib.import_module("commitments.migrations.0017_search_people_and_sources")


def found(text: str) -> set[str]:
    return set(
        selectors.search_commitments(selectors.public_commitments(), text).values_list(
            "slug", flat=True
        )
    )


def page(client, query: str, **headers) -> str:
    response = client.get("/commitments/", {"q": query}, **headers)
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def test_seed_people_and_outlets_are_found(seeded):
    macron = Actor.objects.get(slug="emmanuel-macron")
    made = set(
        CommitmentActor.objects.filter(actor=macron, role=ActorRole.MADE_BY).values_list(
            "commitment__slug", flat=True
        )
    )
    assert made and made <= found("Macron")
    assert "intercept-taxi-boats" in found("macron")
    # Hewitt has no role on a commitment: he is found through what he said about them.
    hewitt_said = set(
        Statement.objects.filter(speaker__slug="martin-hewitt").values_list(
            "commitments__slug", flat=True
        )
    )
    assert hewitt_said == {"french-maritime-doctrine-shallow-waters", "intercept-taxi-boats"}
    assert found("Hewitt") == hewitt_said
    # By role: the post an actor holds.
    assert found("President of France") >= {"intercept-taxi-boats"}
    # An outlet finds every commitment one of its reports backs: where it was made, a step
    # citing it, a statement from it.
    gb_news = Source.objects.get(outlet="GB News")
    cited = (
        set(gb_news.commitments_made.values_list("slug", flat=True))
        | set(gb_news.status_updates.values_list("commitment__slug", flat=True))
        | set(gb_news.statements.values_list("commitments__slug", flat=True))
    )
    assert cited and found('"GB News"') == cited
    # An author is part of a source's document too.
    assert found("Andrew Harding") >= set(
        Source.objects.get(author="Andrew Harding").commitments_made.values_list("slug", flat=True)
    )
    assert found("zeppelin") == set()


def test_the_list_page_finds_macron_and_says_where(client, seeded):
    html = page(client, "Macron")
    assert "Intercept the" in html
    assert "Matched: actor Emmanuel <mark>Macron</mark>" in html
    html = page(client, "Hewitt")
    assert "Matched: actor Martin <mark>Hewitt</mark>" in html
    html = page(client, "GB News")
    assert "source: <mark>GB</mark> <mark>News</mark> - " in html


@pytest.mark.parametrize(
    "query", ["Gerald Darmanin", "Gérald Darmanin", "gerald", "GÉRALD", "darmanin", "Gérald"]
)
def test_french_names_match_with_or_without_accents(make_commitment, make_actor, query):
    darmanin = make_actor(name="Gérald Darmanin", role="Ministre de l'Intérieur", country="FR")
    commitment = make_commitment(title="A French promise", actor=darmanin)
    make_commitment(title="Another promise")
    assert found(query) == {commitment.slug}


def test_accented_text_is_found_unaccented_in_every_document(
    make_commitment, make_source, log_update
):
    promise = make_commitment(title="Renforcer la sécurité maritime")
    assert found("securite") == {promise.slug}
    cited = make_commitment(title="Cited")
    log_update(cited, sources=[make_source(outlet="Le Télégramme", title="Un été agité")])
    assert found("telegramme") == {cited.slug}
    assert found("été") == {cited.slug}


def test_search_follows_a_renamed_actor_and_a_changed_outlet(
    make_commitment, make_actor, make_source, log_update
):
    actor = make_actor(name="Jane Placeholder")
    by_actor = make_commitment(actor=actor)
    made_in = make_source(outlet="Morning Courier")
    by_made_in = make_commitment(made_in=made_in)
    cited = make_source(outlet="Evening Courier")
    by_step = make_commitment()
    log_update(by_step, sources=[cited])
    assert found("Placeholder") == {by_actor.slug}
    assert found("Courier") == {by_made_in.slug, by_step.slug}

    actor.name = "Jane Renamed"
    actor.save()
    made_in.outlet = "Daily Herald"
    made_in.save()
    Source.objects.filter(pk=cited.pk).update(outlet="Weekly Herald")  # a bulk write too
    assert found("Placeholder") == set()
    assert found("Renamed") == {by_actor.slug}
    assert found("Courier") == set()
    assert found("Herald") == {by_made_in.slug, by_step.slug}


def test_the_list_page_follows_a_renamed_actor_at_once(client, make_commitment, make_actor):
    """The page cache too: an actor's write bumps the public version (migration 0009)."""
    actor = make_actor(name="Jane Placeholder")
    make_commitment(actor=actor, title="Her promise")
    assert "Her promise" in page(client, "Placeholder")
    actor.name = "Jane Renamed"
    actor.save()
    assert "Her promise" not in page(client, "Placeholder")
    assert "Matched: actor Jane <mark>Renamed</mark>" in page(client, "Renamed")


def test_a_statement_match_is_labelled(client, make_commitment, make_source):
    commitment = make_commitment(title="Quiet title")
    Statement.objects.create(
        text="We will build a zeppelin port.",
        speaker_description="An official",
        said_on=datetime.date(2025, 7, 1),
        source=make_source(),
    ).commitments.add(commitment)
    html = page(client, "zeppelin")
    assert "Statement: We will build a <mark>zeppelin</mark> port." in html
    # A long statement is cut to the words around the match.
    before = " ".join(f"before{i}" for i in range(200))
    after = " ".join(f"after{i}" for i in range(200))
    Statement.objects.create(
        text=f"{before} the hovercraft promise {after}",
        speaker_description="An official",
        said_on=datetime.date(2025, 7, 1),
        source=make_source(),
    ).commitments.add(commitment)
    snippet = page(client, "hovercraft").split("Statement: ")[1].split("</p>")[0]
    assert "<mark>hovercraft</mark>" in snippet
    assert "before0 " not in snippet and "after199" not in snippet
    assert len(snippet.split()) < 60


def test_drafts_are_never_found_through_their_actors_or_sources(make_commitment, make_actor):
    secret = make_actor(name="Secretive Person")
    make_commitment(actor=secret, published=False)
    assert found("Secretive") == set()


def test_stored_actor_and_source_documents_are_the_search_expression(make_actor, make_source):
    actor = make_actor(name="Élisabeth Borne", role="Première ministre")
    source = make_source(outlet="Le Monde", title="Un titre", author="Une autrice")
    assert_documents_stored_and_indexed(
        [
            (Actor, selectors.search_fields("Actor", "en"), actor.pk),
            (Source, selectors.search_fields("Source", "en"), source.pk),
        ],
        migration.DOCUMENTS,
    )
    assert "elisabeth" in Actor.objects.get(pk=actor.pk).search_document


def test_matches_are_highlighted_and_editors_text_stays_escaped(
    client, make_commitment, make_actor, make_source, log_update
):
    make_commitment(
        title='<script>alert("x")</script> Zeppelin & co',
        summary="A <b>bold</b> zeppelin promise.",
    )
    speaker = make_actor(name="<img src=x onerror=alert(1)> Zeppelinist")
    make_commitment(actor=speaker, title="Plain")
    html = page(client, "zeppelin")
    assert "<mark>Zeppelin</mark>" in html and "<mark>zeppelin</mark>" in html
    assert "<script>alert" not in html and "&lt;script&gt;alert(&quot;x&quot;)" in html
    assert "<b>bold</b>" not in html and "&lt;b&gt;bold&lt;/b&gt;" in html
    assert "<img src=x" not in html and "&lt;img src=x onerror=alert(1)&gt;" in html
    assert html.count("<mark>") == html.count("</mark>")
    # Both ways of asking: the HTMX fragment holds the same highlighted results.
    fragment = page(client, "zeppelin", **HTMX)
    assert "<html" not in fragment and "<mark>zeppelin</mark>" in fragment
    assert "&lt;script&gt;" in fragment and "<script>alert" not in fragment


def test_highlighting_is_balanced_whatever_the_markers():
    start, stop = HIGHLIGHT_START, HIGHLIGHT_STOP
    assert highlighted_html(f"a {start}<b>{stop} c") == "a <mark>&lt;b&gt;</mark> c"
    assert highlighted_html(f"{stop}x{start}y{start}z{stop}") == "xy<mark>z</mark>"
    assert highlighted_html(f"{start}{start}") == ""


def test_no_highlight_block_without_a_search(client, make_commitment):
    make_commitment(title="Zeppelin")
    html = client.get("/commitments/").content.decode()
    assert "search-match" not in html and "<mark>" not in html


@pytest.mark.parametrize(
    "query",
    [
        "!!&|:*()",
        '"unclosed',
        "\x00",
        "a" * 5000,
        "-",
        "<script>",
        "' OR 1=1 --",
        "é\u0301\ue000\ue001",
        "🙂 & ! |",
        "%00%ff",
    ],
)
def test_a_garbage_query_never_fails(client, seeded, query):
    for headers in ({}, HTMX):
        response = client.get("/commitments/", {"q": query}, **headers)
        # A NUL byte is refused before any view (middleware.py); nothing else is an error.
        assert response.status_code == (400 if "\x00" in query else 200), response.status_code
        assert 'value="<script>' not in response.content.decode()


def test_search_page_query_count_does_not_grow(
    client, make_commitment, make_actor, make_source, log_update, django_assert_max_num_queries
):
    actor = make_actor(name="Countable Person")
    source = make_source(outlet="Countable Gazette")

    def add(n):
        for _ in range(n):
            commitment = make_commitment(actor=actor, made_in=source)
            Statement.objects.create(
                text="Countable words.",
                speaker=actor,
                said_on=datetime.date(2025, 7, 1),
                source=source,
            ).commitments.add(commitment)

    def counts():
        result = {}
        for headers in ({}, HTMX):
            with django_assert_max_num_queries(12) as captured:
                assert client.get("/commitments/", {"q": "countable"}, **headers).status_code == 200
            result[bool(headers)] = len(captured)
        return result

    add(1)
    small = counts()
    add(30)
    assert counts() == small


def test_the_highlights_of_a_page_are_one_query(
    make_commitment, make_actor, django_assert_num_queries
):
    actor = make_actor(name="Highlighted Person")
    for _ in range(20):
        make_commitment(actor=actor, summary="A highlighted promise.")
    page_rows = list(selectors.search_commitments(selectors.public_commitments(), "highlighted"))
    assert len(page_rows) == 20
    with django_assert_num_queries(1):
        matches = selectors.search_matches(page_rows, "highlighted")
    assert set(matches) == {row.pk for row in page_rows}
    assert all(
        f"{HIGHLIGHT_START}highlighted{HIGHLIGHT_STOP}" in match.text
        and not match.said
        and f"{HIGHLIGHT_START}Highlighted{HIGHLIGHT_STOP}" in match.actor
        for match in matches.values()
    )


def test_search_reads_the_actor_and_source_gin_indexes(make_actor, make_source):
    """With sequential scans priced out, the plan of a search names the new documents'
    indexes: the query's arms are written on the stored columns they are built on."""
    Actor.objects.bulk_create(
        Actor(name=f"Filler person {i}", slug=f"filler-person-{i}", kind="person")
        for i in range(2000)
    )
    Source.objects.bulk_create(
        Source(title=f"Filler story {i}", outlet="Filler News", url=f"https://f.example/{i}")
        for i in range(2000)
    )
    make_actor(name="Unique Zeppelinova")
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commitments_actor")
        cursor.execute("ANALYZE commitments_source")
    queryset = selectors.search_commitments(selectors.public_commitments(), "Zeppelinova")
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()
    for index in ("commitment_search_document", "statement_search_document"):
        assert index in plan, plan
    assert "actor_search_document" in plan, plan
    assert "source_search_document" in plan, plan
    assert "Seq Scan" not in plan, plan
    assert Commitment.objects.count() == 0


def test_sqlite_fallback_finds_people_and_outlets(tmp_path):
    """The embedded default (no DATABASE_URL), on the seed data: actors, outlets and
    authors by plain matching (accents not folded), and the list page answers without
    highlights."""
    out = sqlite_seed_search(
        tmp_path,
        "connection.vendor, found('Macron'), found('hewitt'), len(found('\"GB News\"')), "
        "found('Andrew Harding'), s.search_matches(list(s.public_commitments()), 'Macron')",
    )
    assert out == (
        "sqlite ['intercept-taxi-boats'] "
        "['french-maritime-doctrine-shallow-waters', 'intercept-taxi-boats'] 4 "
        "['french-maritime-doctrine-shallow-waters', 'intercept-taxi-boats'] {}"
    )
