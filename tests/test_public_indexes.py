"""Every sort order and filter a public page offers is served by an index (migration
0009 and the earlier ones): with sequential scans priced out, each public query's plan
names the index built for it. ``bench/explain_public.py`` runs the same queries with
EXPLAIN ANALYZE at 100,000 commitments."""

from __future__ import annotations

import datetime

import pytest
from django.db import connection, transaction
from django.db.models import Count
from django.http import QueryDict
from django.utils import timezone

from commitments import selectors
from commitments.filters import commitment_filter
from commitments.models import Actor, Commitment, Source, Statement, Topic

pytestmark = pytest.mark.django_db

STATUSES = ["not_started", "in_progress", "stalled", "partially_kept", "kept", "broken"]


def fill_public(n: int) -> None:
    """``n`` commitments (every 20th a draft) with statuses, dates, deadlines, 50 actors,
    10 topics, a status update or two each, open flags on every 10th, and ``n``
    statements; one commitment and one statement mention "zeppelin". Written with
    INSERT ... SELECT for speed; ANALYZE at the end."""
    source = Source.objects.create(title="Filler", outlet="Filler News")
    now = timezone.now()
    words = ["border", "harbour", "ferry", "customs", "visa", "asylum", "coast", "patrol"]
    Commitment.objects.bulk_create(
        (
            Commitment(
                title=f"Promise {i} about {words[i % 8]} and {words[(i * 3) % 8]}",
                slug=f"filler-{i}",
                summary=f"Summary {i}: {words[(i * 5) % 8]} {words[(i * 7) % 8]} policy.",
                original_wording="We will act.",
                made_on=datetime.date(2024, 1, 1) + datetime.timedelta(days=i % 600),
                deadline=(
                    datetime.date(2026, 1, 1) + datetime.timedelta(days=i % 900) if i % 3 else None
                ),
                status=STATUSES[i % len(STATUSES)],
                status_since=(
                    datetime.date(2024, 6, 1) + datetime.timedelta(days=(i * 7) % 500)
                    if i % 4
                    else None
                ),
                is_published=i % 20 != 0,
                published_at=now,
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    Actor.objects.bulk_create(
        Actor(name=f"Filler actor {a}", slug=f"filler-actor-{a}", kind="body", country="GB")
        for a in range(50)
    )
    Topic.objects.bulk_create(
        Topic(name=f"Filler topic {t}", slug=f"filler-topic-{t}") for t in range(10)
    )
    Statement.objects.bulk_create(
        (
            Statement(
                text=f"Statement {i} on {words[i % 8]}.",
                speaker_description="An official",
                said_on=datetime.date(2025, 1, 1),
                source=source,
            )
            for i in range(n)
        ),
        batch_size=5000,
    )
    with connection.cursor() as cursor:
        cursor.execute(
            """
            INSERT INTO commitments_commitmentactor (commitment_id, actor_id, role)
            SELECT c.id, a.id, 'made_by' FROM commitments_commitment c
            JOIN commitments_actor a ON a.slug = 'filler-actor-' || abs(hashtext(c.slug) %% 50)
            WHERE c.slug LIKE 'filler-%%';
            INSERT INTO commitments_commitment_topics (commitment_id, topic_id)
            SELECT c.id, t.id FROM commitments_commitment c JOIN commitments_topic t
                ON t.slug = 'filler-topic-' || abs(hashtext(c.slug || 't') %% 10)
            WHERE c.slug LIKE 'filler-%%';
            INSERT INTO commitments_statusupdate (commitment_id, status, effective_on,
                effective_precision, description, recorded_at, correction_note,
                description_fr, correction_note_fr)
            SELECT c.id, c.status, c.made_on, 'day', 'Filler step.',
                   %s - (c.id * 37 + s) * interval '1 minute', '', '', ''
            FROM commitments_commitment c CROSS JOIN generate_series(1, 2) s
            WHERE c.slug LIKE 'filler-%%';
            INSERT INTO commitments_flag (commitment_id, reason, raised_at, since_precision,
                details, acknowledgement_note, resolution_note)
            SELECT c.id, 'no_recent_progress', %s, 'day', '', '', ''
            FROM commitments_commitment c WHERE c.slug LIKE 'filler-%%' AND c.id %% 10 = 0;
            """,
            [now, now],
        )
    rare = Commitment.objects.get(slug="filler-7")
    rare.summary = "A zeppelin will patrol the coast."
    rare.save()
    said = Statement.objects.order_by("pk")[11]
    said.text = "The zeppelin is grounded."
    said.save()
    said.commitments.add(Commitment.objects.get(slug="filler-11"))
    with connection.cursor() as cursor:
        for table in (
            "commitment",
            "commitmentactor",
            "commitment_topics",
            "statement",
            "statusupdate",
            "flag",
        ):
            cursor.execute(f"ANALYZE commitments_{table}")


def _list(query: str):
    """The list page's query for a query string, as the page runs it (first page)."""
    return commitment_filter(QueryDict(query)).qs


def public_queries() -> dict:
    """Each public page's query (as the page builds it, a page of rows where it pages),
    with the index that should serve it."""
    actor = Actor.objects.get(slug="filler-actor-7")
    topic = Topic.objects.get(slug="filler-topic-3")
    return {
        "list, recently changed (default)": (_list("")[:20], "commitment_pub_changed"),
        "list, date made": (_list("sort=made")[:20], "commitment_pub_made"),
        "list, deadline": (_list("sort=deadline")[:20], "commitment_pub_deadline"),
        "list, status filter": (_list("status=stalled")[:20], "commitment_pub_status_changed"),
        "list, status filter, the paginator's rows to COUNT": (
            _list("status=stalled").order_by().values("pk"),
            ("commitment_pub_status", "commitment_pub_status_changed"),
        ),
        "list, made from/to": (
            _list("made_from=2024-03-01&made_to=2024-03-31&sort=made")[:20],
            "commitment_pub_made",
        ),
        "list, flagged": (
            _list("flagged=yes")[:20],
            ("commitments_flag_commitment_id", "flag_one_open_per_reason", "flag_open_by_reason"),
        ),
        "list, actor filter": (
            _list("actor=filler-actor-7")[:20],
            ("commitment_pub_changed", "commitments_commitmentactor_actor_id"),
        ),
        "list, topic filter": (
            _list("topic=filler-topic-3")[:20],
            ("commitment_pub_changed", "commitments_commitment_topics_topic_id"),
        ),
        "list, search": (_list("q=zeppelin")[:20], "commitment_search_document"),
        "list, search (statements)": (
            _list("q=zeppelin")[:20],
            # Through the text's GIN index, or from the few statements linked to a commitment.
            ("statement_search_document", "commitments_statement_commitments_statement_id"),
        ),
        "actor page": (
            selectors.actor_commitments(actor).order_by("-made_on", "title", "pk")[:20],
            ("commitment_pub_made", "commitments_commitmentactor_actor_id"),
        ),
        "topic page": (
            selectors.topic_commitments(topic).order_by("-made_on", "title", "pk")[:20],
            ("commitment_pub_made", "commitments_commitment_topics_topic_id"),
        ),
        "home, recently changed": (selectors.recently_changed(10), "commitment_pub_recent"),
        "home, open flags": (selectors.open_flags(20), "flag_open_newest"),
        "home, status counts": (
            selectors.public_commitments().order_by().values("status").annotate(n=Count("id")),
            "commitment_pub_status",
        ),
        "changes feed": (selectors.recent_status_changes(50), "status_update_recorded"),
    }


def test_every_public_sort_and_filter_is_served_by_an_index():
    fill_public(3000)
    queries = public_queries()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        for name, (queryset, index) in queries.items():
            # The search reads stored documents (migration 0014): on tables this small a
            # walk of a primary key with the document as a cheap filter costs less than
            # the GIN index, so plain index scans are priced out too: the plan then shows
            # whether the GIN index can serve the query at all.
            searching = name.startswith("list, search")
            cursor.execute(f"SET LOCAL enable_indexscan = {'off' if searching else 'on'}")
            plan = queryset.explain()
            names = (index,) if isinstance(index, str) else index
            assert any(index in plan for index in names), f"{name}: {index} not used\n{plan}"
            assert "Seq Scan" not in plan, f"{name}\n{plan}"
    # The results are the ones the pages show (the indexes change plans, not answers).
    assert set(queries["list, search"][0].values_list("slug", flat=True)) == {
        "filler-7",
        "filler-11",
    }
    assert all(c.is_published for c in queries["list, status filter"][0])
