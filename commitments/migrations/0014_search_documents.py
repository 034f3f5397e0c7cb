"""Stored full-text documents for the public search (PostgreSQL; a NULL column elsewhere).

Until now the search matched ``to_tsvector(...)`` of the text columns, with GIN indexes on
that expression (0003). When a word is common the planner scans the table instead and
computes every row's document again for every search (1.3 s at 100,000 commitments, two
queries a page). Now each row keeps its document in ``search_document``, computed by a
trigger on every insert and update from exactly the same expression, so a search never
computes one: the GIN indexes (same names) are on the stored columns.
"""

import django.contrib.postgres.search
from django.db import migrations

#: (table, trigger function's expression of NEW, GIN index name), one per searched table.
DOCUMENTS = {
    "commitments_commitment": (
        "to_tsvector('english'::regconfig, COALESCE(NEW.title, '') || ' ' || "
        "COALESCE(NEW.summary, '') || ' ' || COALESCE(NEW.original_wording, ''))",
        "commitment_search_document",
    ),
    "commitments_statement": (
        "to_tsvector('english'::regconfig, COALESCE(NEW.text, ''))",
        "statement_search_document",
    ),
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for table, (expression, index) in DOCUMENTS.items():
        schema_editor.execute(
            f"""
CREATE OR REPLACE FUNCTION {table}_search_document() RETURNS trigger AS $$
BEGIN
    NEW.search_document := {expression};
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
CREATE TRIGGER {table}_search_document BEFORE INSERT OR UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_search_document();
"""
        )
        # Fill the rows there are. The statement-level public-version trigger bumps the
        # version once: cached pages are rebuilt, which is right after a migration.
        schema_editor.execute(f"UPDATE {table} SET search_document = NULL")
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
        schema_editor.execute(f'CREATE INDEX "{index}" ON {table} USING gin (search_document)')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    old = __import__("commitments.migrations.0003_search_indexes", fromlist=["INDEXES"])
    for table, (_expression, index) in DOCUMENTS.items():
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_document ON {table}")
        schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_search_document()")
        schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
        schema_editor.execute(
            f'CREATE INDEX "{index}" ON "{table}" USING gin (({old.INDEXES[index][1]}))'
        )


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0013_declare_job_indexes"),
    ]

    operations = [
        migrations.AddField(
            model_name="commitment",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="statement",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
