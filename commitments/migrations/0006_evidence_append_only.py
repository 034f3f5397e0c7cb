"""The timeline's evidence is append-only too (PostgreSQL; a no-op on SQLite).

Migration 0005 keeps each status update from being rewritten or deleted row by row. This
one closes the other ways evidence could go:

- the link between a status update and the sources it cites
  (``commitments_statusupdate_sources``) refuses UPDATE and DELETE: a cited source stays
  cited (deleting the source would delete the link, so that is refused as well);
- TRUNCATE of ``commitments_statusupdate`` or of the link table is refused (a statement
  trigger: row triggers never see a TRUNCATE, nor a ``TRUNCATE ... CASCADE`` from the
  commitments table).

Adding a link (a new status update citing its sources) is an INSERT and stays allowed.
Deleting a user account still works: ``recorded_by`` becomes NULL, an UPDATE of the status
update that 0005 allows, and the link table is not touched.

Purging on purpose (a test database, a demo, a legal order): these are ordinary triggers,
which PostgreSQL does not fire while ``session_replication_role`` is ``replica``. An
operator with the right to set it (a superuser or a role granted
``SET ON PARAMETER session_replication_role``; the app's own role should have neither)
runs, in one transaction::

    BEGIN;
    SET LOCAL session_replication_role = replica;
    TRUNCATE commitments_statusupdate_sources, commitments_statusupdate ... CASCADE;
    COMMIT;

The test suite's flush does the same (``tests/conftest.py``).
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION commitments_evidence_append_only() RETURNS trigger AS $$
BEGIN
    RAISE EXCEPTION USING
        MESSAGE = TG_OP || ' on ' || TG_TABLE_NAME
            || ' refused: the timeline''s evidence is append-only; record a correction instead',
        ERRCODE = 'integrity_constraint_violation';
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER statusupdate_sources_append_only
    BEFORE UPDATE OR DELETE ON commitments_statusupdate_sources
    FOR EACH ROW EXECUTE FUNCTION commitments_evidence_append_only();

CREATE TRIGGER statusupdate_sources_no_truncate
    BEFORE TRUNCATE ON commitments_statusupdate_sources
    FOR EACH STATEMENT EXECUTE FUNCTION commitments_evidence_append_only();

CREATE TRIGGER statusupdate_no_truncate
    BEFORE TRUNCATE ON commitments_statusupdate
    FOR EACH STATEMENT EXECUTE FUNCTION commitments_evidence_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS statusupdate_no_truncate ON commitments_statusupdate;
DROP TRIGGER IF EXISTS statusupdate_sources_no_truncate ON commitments_statusupdate_sources;
DROP TRIGGER IF EXISTS statusupdate_sources_append_only ON commitments_statusupdate_sources;
DROP FUNCTION IF EXISTS commitments_evidence_append_only();
"""


def create_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_triggers(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("commitments", "0005_status_update_append_only")]

    operations = [migrations.RunPython(create_triggers, drop_triggers)]
