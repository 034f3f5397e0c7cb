"""Status updates are append-only in the database itself (PostgreSQL; a no-op on SQLite).

The admin and the services never edit or delete a saved status update; this trigger
refuses it from anywhere else too (a shell, a script, a bulk ``queryset.update()``). A
mistake is fixed by a correction entry. The one change allowed is the one Django makes
when a user account is deleted: ``recorded_by`` becomes NULL.
"""

from django.db import migrations

CREATE = """
CREATE OR REPLACE FUNCTION commitments_statusupdate_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'status updates are append-only: record a correction instead'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - 'recorded_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'recorded_by_id')
       OR NEW.recorded_by_id IS NOT NULL AND NEW.recorded_by_id IS DISTINCT FROM OLD.recorded_by_id THEN
        RAISE EXCEPTION 'status updates are append-only: record a correction instead'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER statusupdate_append_only
    BEFORE UPDATE OR DELETE ON commitments_statusupdate
    FOR EACH ROW EXECUTE FUNCTION commitments_statusupdate_append_only();
"""

DROP = """
DROP TRIGGER IF EXISTS statusupdate_append_only ON commitments_statusupdate;
DROP FUNCTION IF EXISTS commitments_statusupdate_append_only();
"""


def create_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(CREATE)


def drop_trigger(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(DROP)


class Migration(migrations.Migration):
    dependencies = [("commitments", "0004_jobs_indexes")]

    operations = [migrations.RunPython(create_trigger, drop_trigger)]
