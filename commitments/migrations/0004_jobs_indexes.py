"""Narrow covering indexes for the flag job, on PostgreSQL only (a no-op on SQLite).

The job compares the open commitments with the open flags, rule by rule, every day. With
these two partial indexes holding every column it reads, a run with nothing to change
reads the indexes only (index-only scans, merge joins in commitment order), not the wide
commitments table and its text:

- ``commitment_open_flag_rules``: published commitments not in a final status, by id,
  with the dates, precisions and thresholds the rules need;
- ``flag_open_by_reason``: open flags by reason and commitment, with the date they stand
  for and their id (the resolve step finds the flags to resolve by id).

Built here by hand on PostgreSQL only (SQLite, the embedded default with small data, does
not need them); declared on the models since migration 0013, which changes the state
only. The predicates must imply the
job's filters (``is_published``, ``status NOT IN (kept, broken)``, ``resolved_at IS
NULL``) for the planner to use them. ``python manage.py bench_flag_stalled`` shows the
effect on 1,000,000 commitments.
"""

from django.db import migrations

INDEXES = {
    "commitment_open_flag_rules": (
        "commitments_commitment",
        '("id") INCLUDE ("status_since", "status_since_precision", "made_on", '
        '"made_precision", "stall_after_days", "deadline", "deadline_precision") '
        "WHERE \"is_published\" AND \"status\" NOT IN ('kept', 'broken')",
    ),
    "flag_open_by_reason": (
        "commitments_flag",
        '("reason", "commitment_id") INCLUDE ("since", "since_precision", "id") '
        'WHERE "resolved_at" IS NULL',
    ),
}


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, (table, definition) in INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "{table}" {definition}')


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0003_search_indexes"),
    ]

    operations = [
        migrations.RunPython(create_indexes, drop_indexes, elidable=False),
    ]
