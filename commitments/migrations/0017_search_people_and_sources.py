"""The public search finds people and sources, with or without accents (PostgreSQL; stored
NULL columns elsewhere).

- ``unaccent`` (a trusted extension) and a text search configuration ``english_unaccent``:
  PostgreSQL's ``english`` with every word unaccented before it is stemmed, so "Gerald
  Darmanin" and "Gérald Darmanin" give the same lexemes, in stored documents and in queries
  alike. A configuration, unlike the ``unaccent()`` function, may be used by a stored
  document's trigger and by an index without an immutable wrapper.
- The commitments' and statements' documents (0014) are rebuilt with it.
- Actors (name and role) and sources (outlet, title and author) keep their own stored
  document, by the same kind of trigger, each with a GIN index. The search joins them to
  commitments through their links (roles, statements' speakers, where a promise was made,
  the sources a step or a statement cites), so when an actor's name or a source's outlet
  changes, only that row's document is computed again and the search follows at once.
"""

import django.contrib.postgres.search
from django.contrib.postgres.operations import UnaccentExtension
from django.db import migrations

CONFIG = "english_unaccent"

#: (table, trigger function's expression of NEW, GIN index name), one per searched table.
DOCUMENTS = {
    "commitments_commitment": (
        f"to_tsvector('{CONFIG}'::regconfig, COALESCE(NEW.title, '') || ' ' || "
        "COALESCE(NEW.summary, '') || ' ' || COALESCE(NEW.original_wording, ''))",
        "commitment_search_document",
    ),
    "commitments_statement": (
        f"to_tsvector('{CONFIG}'::regconfig, COALESCE(NEW.text, ''))",
        "statement_search_document",
    ),
    "commitments_actor": (
        f"to_tsvector('{CONFIG}'::regconfig, COALESCE(NEW.name, '') || ' ' || "
        "COALESCE(NEW.role, ''))",
        "actor_search_document",
    ),
    "commitments_source": (
        f"to_tsvector('{CONFIG}'::regconfig, COALESCE(NEW.outlet, '') || ' ' || "
        "COALESCE(NEW.title, '') || ' ' || COALESCE(NEW.author, ''))",
        "source_search_document",
    ),
}
#: The tables whose documents 0014 kept (with the ``english`` configuration).
OLD_TABLES = ("commitments_commitment", "commitments_statement")


def _trigger(table: str, expression: str) -> str:
    return f"""
CREATE OR REPLACE FUNCTION {table}_search_document() RETURNS trigger AS $$
BEGIN
    NEW.search_document := {expression};
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
DROP TRIGGER IF EXISTS {table}_search_document ON {table};
CREATE TRIGGER {table}_search_document BEFORE INSERT OR UPDATE ON {table}
    FOR EACH ROW EXECUTE FUNCTION {table}_search_document();
"""


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(
        f"""
DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG};
CREATE TEXT SEARCH CONFIGURATION {CONFIG} (COPY = english);
ALTER TEXT SEARCH CONFIGURATION {CONFIG}
    ALTER MAPPING FOR hword, hword_part, word WITH unaccent, english_stem;
"""
    )
    for table, (expression, index) in DOCUMENTS.items():
        schema_editor.execute(_trigger(table, expression))
        # Fill (or rebuild) the rows there are. The public-version trigger bumps the version
        # once per table: cached pages are rebuilt, which is right after a migration.
        schema_editor.execute(f"UPDATE {table} SET search_document = NULL")
        schema_editor.execute(
            f'CREATE INDEX IF NOT EXISTS "{index}" ON {table} USING gin (search_document)'
        )


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    old = __import__("commitments.migrations.0014_search_documents", fromlist=["DOCUMENTS"])
    for table, (_expression, index) in DOCUMENTS.items():
        if table in OLD_TABLES:
            schema_editor.execute(_trigger(table, old.DOCUMENTS[table][0]))
            schema_editor.execute(f"UPDATE {table} SET search_document = NULL")
        else:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_search_document ON {table}")
            schema_editor.execute(f"DROP FUNCTION IF EXISTS {table}_search_document()")
            schema_editor.execute(f'DROP INDEX IF EXISTS "{index}"')
    schema_editor.execute(f"DROP TEXT SEARCH CONFIGURATION IF EXISTS {CONFIG}")


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0016_checks"),
    ]

    operations = [
        UnaccentExtension(),
        migrations.AddField(
            model_name="actor",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.AddField(
            model_name="source",
            name="search_document",
            field=django.contrib.postgres.search.SearchVectorField(editable=False, null=True),
        ),
        migrations.RunPython(create, drop, elidable=False),
    ]
