"""GIN indexes for the public full-text search, on PostgreSQL only (a no-op on SQLite).

Each index is built on exactly the expression the search query uses
(as the ORM wrote it; replaced by stored documents in 0014), so the planner
can use it. Not declared in the models' ``Meta.indexes``: the expression indexes would
need PostgreSQL-only functions on every backend.
"""

from django.db import migrations

INDEXES = {
    "commitment_search_document": (
        "commitments_commitment",
        "to_tsvector('english'::regconfig, "
        "COALESCE(\"commitments_commitment\".\"title\", '') || ' ' || "
        "COALESCE(\"commitments_commitment\".\"summary\", '') || ' ' || "
        "COALESCE(\"commitments_commitment\".\"original_wording\", ''))",
    ),
    "statement_search_document": (
        "commitments_statement",
        "to_tsvector('english'::regconfig, COALESCE(\"commitments_statement\".\"text\", ''))",
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, expression) in INDEXES.items():
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" USING gin (({expression}))'
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0002_editorial_and_job_fields"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
