"""Full-text search: PostgreSQL's GIN indexes are built on the query's own expressions and
used; the embedded default (SQLite) searches with a plain fallback."""

from __future__ import annotations

import datetime
import importlib

import pytest
from django.db import connection, transaction

from commitments import selectors
from commitments.models import Commitment, Source, Statement
from tests.embedded import embedded_environment, manage

pytestmark = pytest.mark.django_db

migration = importlib.import_module("commitments.migrations.0014_search_documents")


def assert_documents_stored_and_indexed(rows, documents: dict):
    """Each ``(model, fields, pk)`` of ``rows`` keeps the search document the ORM's
    SearchVector of ``fields`` gives, and the GIN indexes a migration's ``documents``
    name are on the stored columns."""
    from django.contrib.postgres.search import SearchVector

    for model, fields, pk in rows:
        row = (
            model.objects.filter(pk=pk)
            .annotate(expected=SearchVector(*fields, config=selectors.SEARCH_CONFIG))
            .values("search_document", "expected")
            .get()
        )
        assert row["search_document"] and row["search_document"] == row["expected"], model
    names = [index for _expression, index in documents.values()]
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE indexname = ANY(%s)", [names]
        )
        indexes = dict(cursor.fetchall())
    assert set(indexes) == set(names)
    assert all("gin (search_document)" in definition for definition in indexes.values())


def test_stored_documents_are_the_search_expression_kept_on_every_write(
    make_commitment, make_source
):
    """PostgreSQL keeps each row's document itself (a trigger): the same document the
    ORM's SearchVector of the searched fields gives, after an insert and after an update,
    and the GIN indexes are on the stored columns."""
    commitment = make_commitment(title="A zeppelin promise", original_wording="We will fly.")
    statement = Statement.objects.create(
        text="Hovercraft first.",
        speaker_description="An official",
        said_on=datetime.date(2025, 1, 1),
        source=make_source(),
    )
    commitment.summary = "Now about ferries."
    commitment.save()
    statement.text = "Hovercraft later."
    statement.save()
    assert_documents_stored_and_indexed(
        [
            (Commitment, selectors.search_fields("Commitment", "en"), commitment.pk),
            (Statement, selectors.search_fields("Statement", "en"), statement.pk),
        ],
        migration.DOCUMENTS,
    )
    assert "ferri" in Commitment.objects.get(pk=commitment.pk).search_document


def fill(n: int):
    source = Source.objects.create(title="Filler", outlet="Filler News")
    words = ["border", "harbour", "ferry", "customs", "visa", "asylum", "coast", "patrol"]
    Commitment.objects.bulk_create(
        Commitment(
            title=f"Promise {i} about {words[i % 8]} and {words[(i * 3) % 8]}",
            slug=f"filler-{i}",
            summary=f"Summary {i}: {words[(i * 5) % 8]} {words[(i * 7) % 8]} policy.",
            original_wording="We will act.",
            made_on=datetime.date(2025, 1, 1),
            is_published=True,
        )
        for i in range(n)
    )
    Statement.objects.bulk_create(
        Statement(
            text=f"Statement {i} on {words[i % 8]}.",
            speaker_description="An official",
            said_on=datetime.date(2025, 1, 1),
            source=source,
        )
        for i in range(n)
    )
    rare = Commitment.objects.get(slug="filler-7")
    rare.summary = "A zeppelin will patrol the coast."
    rare.save()
    said = Statement.objects.order_by("pk")[11]
    said.text = "The zeppelin is grounded."
    said.save()
    said.commitments.add(Commitment.objects.get(slug="filler-11"))
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE commitments_commitment")
        cursor.execute("ANALYZE commitments_statement")


def test_search_uses_both_gin_indexes_on_a_larger_table():
    fill(5000)
    queryset = selectors.search_commitments(selectors.public_commitments(), "zeppelin")
    assert set(queryset.values_list("slug", flat=True)) == {"filler-7", "filler-11"}
    # The planner's choice between a small table's scan and the index shifts with load and
    # statistics; with sequential scans priced out, the plan still names the indexes only
    # if the query's expression is exactly the one they are built on.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")
        # A walk of a primary key with the stored document as a cheap filter is the other
        # way on a table this small: priced out as well.
        cursor.execute("SET LOCAL enable_indexscan = off")
        plan = queryset.explain()
    assert "commitment_search_document" in plan, plan
    assert "statement_search_document" in plan, plan


@pytest.mark.parametrize("text", ["", "   ", "\x00", "x" * 5000, "!!&|:*()", '"unclosed'])
def test_search_text_is_cleaned_before_use(text):
    cleaned = selectors.clean_search_text(text)
    assert "\x00" not in cleaned and len(cleaned) <= selectors.SEARCH_MAX_LENGTH
    list(selectors.search_commitments(Commitment.objects.all(), text))


def sqlite_seed_search(tmp_path, printed: str) -> str:
    """What the embedded default (no DATABASE_URL: SQLite, the plain fallback) prints for
    ``printed``, a Python expression over the seed data in which ``found(q)`` is the
    sorted slugs a search for ``q`` finds, ``s`` the selectors and ``connection`` Django's."""
    env = embedded_environment(tmp_path / "var")
    manage(env, "migrate", "--noinput")
    manage(env, "load_seeds")
    script = (
        "from django.db import connection; from commitments import selectors as s; "
        "found = lambda q: sorted(s.search_commitments(s.public_commitments(), q)"
        f".values_list('slug', flat=True)); print({printed})"
    )
    return manage(env, "shell", "--no-imports", "-c", script).strip()


def test_sqlite_fallback_searches_titles_summaries_and_statements(tmp_path):
    """The embedded default (no DATABASE_URL): the plain fallback, on the seed data."""
    out = sqlite_seed_search(
        tmp_path,
        "connection.vendor, found('TAXI'), found('disaster'), found('deter'), found('zeppelin')",
    )
    assert out == (
        "sqlite ['french-maritime-doctrine-shallow-waters', 'intercept-taxi-boats'] "
        "['french-maritime-doctrine-shallow-waters'] ['one-in-one-out-returns-deal'] []"
    )
