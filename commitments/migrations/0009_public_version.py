"""The public version: one row that every write to a table the public reads bumps, in the
writing transaction (``commitments.caching`` keys its validators and server cache on it).

PostgreSQL: one statement-level trigger per table (BEFORE INSERT, UPDATE, DELETE and
TRUNCATE, FOR EACH STATEMENT), so writes the ORM's signals never see (the stall job's raw
SQL, ``queryset.update()``, ``bulk_create``) bump it too. SQLite (the embedded default):
row-level triggers, its only kind, doing the same.

The version is a number of microseconds since 1970, and at least one more than before, so
it never repeats, even after a rolled-back transaction. ``changed_at`` is whole seconds and
moves to a later second for every transaction that bumps it (on PostgreSQL once per
transaction, recognised by the row's ``xmin``; on SQLite once per row written), so two
committed states never share a ``Last-Modified``. A table added to the public's reads gets
its trigger in a new migration; ``tests/test_caching.py`` lists the tables that have none.
"""

from django.db import migrations, models

#: Every table a public page, fragment, feed, sitemap, export or API answer reads.
PUBLIC_TABLES = [
    "commitments_actor",
    "commitments_topic",
    "commitments_source",
    "commitments_commitment",
    "commitments_commitment_topics",
    "commitments_commitmentactor",
    "commitments_commitmentrelation",
    "commitments_statement",
    "commitments_statement_commitments",
    "commitments_statusupdate",
    "commitments_statusupdate_sources",
    "commitments_indicator",
    "commitments_indicator_commitments",
    "commitments_indicator_topics",
    "commitments_observation",
    "commitments_flag",
    "commitments_revision",
    "commitments_revision_commitments",
]

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION commitments_bump_public_version() RETURNS trigger AS $$
BEGIN
    INSERT INTO commitments_publicversion AS v (id, version, changed_at)
    VALUES (
        1,
        (extract(epoch FROM clock_timestamp()) * 1000000)::bigint,
        date_trunc('second', clock_timestamp())
    )
    ON CONFLICT (id) DO UPDATE SET
        version = greatest(v.version + 1, EXCLUDED.version),
        changed_at = CASE
            WHEN v.xmin = pg_current_xact_id()::xid THEN v.changed_at
            ELSE greatest(EXCLUDED.changed_at, v.changed_at + interval '1 second')
        END;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;
"""

# BEFORE the statement: the version row is locked before the statement locks any row of
# its own, so a transaction never waits for the version while holding rows another
# writer needs (services that lock rows with SELECT ... FOR UPDATE take it first too:
# ``commitments.caching.lock_public_version``).
PG_TRIGGER = """
CREATE TRIGGER {table}_public_version
    BEFORE INSERT OR UPDATE OR DELETE OR TRUNCATE ON {table}
    FOR EACH STATEMENT EXECUTE FUNCTION commitments_bump_public_version();
"""

SQLITE_NOW_US = "CAST((julianday('now') - 2440587.5) * 86400000000 AS INTEGER)"
SQLITE_NOW_S = "strftime('%Y-%m-%d %H:%M:%S', 'now')"
SQLITE_TRIGGER = f"""
CREATE TRIGGER {{table}}_public_version_{{event}}
    AFTER {{event}} ON {{table}} FOR EACH ROW
BEGIN
    INSERT INTO commitments_publicversion (id, version, changed_at)
    VALUES (1, {SQLITE_NOW_US}, {SQLITE_NOW_S})
    ON CONFLICT (id) DO UPDATE SET
        version = max(version + 1, excluded.version),
        changed_at = max(excluded.changed_at, strftime('%Y-%m-%d %H:%M:%S', changed_at, '+1 second'));
END;
"""
SQLITE_EVENTS = ("insert", "update", "delete")


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(PG_FUNCTION)
        for table in PUBLIC_TABLES:
            schema_editor.execute(PG_TRIGGER.format(table=table))
        schema_editor.execute(
            "INSERT INTO commitments_publicversion (id, version, changed_at) VALUES "
            "(1, (extract(epoch FROM clock_timestamp()) * 1000000)::bigint, "
            "date_trunc('second', clock_timestamp()))"
        )
    elif vendor == "sqlite":
        for table in PUBLIC_TABLES:
            for event in SQLITE_EVENTS:
                schema_editor.execute(SQLITE_TRIGGER.format(table=table, event=event))
        schema_editor.execute(
            "INSERT INTO commitments_publicversion (id, version, changed_at) "
            f"VALUES (1, {SQLITE_NOW_US}, {SQLITE_NOW_S})"
        )


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        for table in PUBLIC_TABLES:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_public_version ON {table}")
        schema_editor.execute("DROP FUNCTION IF EXISTS commitments_bump_public_version()")
    elif vendor == "sqlite":
        for table in PUBLIC_TABLES:
            for event in SQLITE_EVENTS:
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_public_version_{event}")


class Migration(migrations.Migration):
    dependencies = [("commitments", "0008_url_schemes")]

    operations = [
        migrations.CreateModel(
            name="PublicVersion",
            fields=[
                (
                    "id",
                    models.PositiveSmallIntegerField(default=1, primary_key=True, serialize=False),
                ),
                ("version", models.BigIntegerField(verbose_name="version")),
                ("changed_at", models.DateTimeField(verbose_name="changed at")),
            ],
            options={
                "verbose_name": "public version",
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("id", 1)), name="public_version_one_row"
                    )
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
