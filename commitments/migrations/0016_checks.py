"""Editors' checks ("checked, nothing new", issue 11): the table, the trigger that bumps the
public version when it is written (as migration 0009 gives every public table; the
commitment page shows "last checked"), and on PostgreSQL the trigger that keeps checks
append-only as status updates are (migration 0005): the one change allowed is
``recorded_by`` becoming NULL when an account is deleted."""

import importlib

import datetime
import django.core.validators
import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

_public_version = importlib.import_module("commitments.migrations.0009_public_version")
TABLE = "commitments_check"

APPEND_ONLY = """
CREATE OR REPLACE FUNCTION commitments_check_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'checks are append-only: record a new check instead'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - 'recorded_by_id') IS DISTINCT FROM (to_jsonb(OLD) - 'recorded_by_id')
       OR NEW.recorded_by_id IS NOT NULL AND NEW.recorded_by_id IS DISTINCT FROM OLD.recorded_by_id THEN
        RAISE EXCEPTION 'checks are append-only: record a new check instead'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER check_append_only
    BEFORE UPDATE OR DELETE ON commitments_check
    FOR EACH ROW EXECUTE FUNCTION commitments_check_append_only();
"""


def create_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(_public_version.PG_TRIGGER.format(table=TABLE))
        schema_editor.execute(APPEND_ONLY)
    elif vendor == "sqlite":
        for event in _public_version.SQLITE_EVENTS:
            schema_editor.execute(_public_version.SQLITE_TRIGGER.format(table=TABLE, event=event))


def drop_triggers(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    if vendor == "postgresql":
        schema_editor.execute(f"DROP TRIGGER IF EXISTS check_append_only ON {TABLE}")
        schema_editor.execute("DROP FUNCTION IF EXISTS commitments_check_append_only()")
        schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_public_version ON {TABLE}")
    elif vendor == "sqlite":
        for event in _public_version.SQLITE_EVENTS:
            schema_editor.execute(f"DROP TRIGGER IF EXISTS {TABLE}_public_version_{event}")


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0015_open_flags_newest_index"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.CreateModel(
            name="Check",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "checked_on",
                    models.DateField(
                        validators=[
                            django.core.validators.MinValueValidator(
                                datetime.date(1900, 1, 1),
                                message="The date checked cannot be before 1 January 1900.",
                            ),
                            django.core.validators.MaxValueValidator(
                                datetime.date(2200, 12, 31),
                                message="The date checked cannot be after 31 December 2200.",
                            ),
                        ],
                        verbose_name="date checked",
                    ),
                ),
                (
                    "note",
                    models.TextField(
                        help_text="What was looked at, and what it showed (or did not show).",
                        verbose_name="note",
                    ),
                ),
                (
                    "recorded_at",
                    models.DateTimeField(auto_now_add=True, verbose_name="recorded at"),
                ),
                (
                    "idempotency_key",
                    models.UUIDField(
                        blank=True, editable=False, null=True, verbose_name="form token"
                    ),
                ),
                (
                    "commitment",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks",
                        to="commitments.commitment",
                        verbose_name="commitment",
                    ),
                ),
                (
                    "recorded_by",
                    models.ForeignKey(
                        blank=True,
                        null=True,
                        on_delete=django.db.models.deletion.SET_NULL,
                        related_name="+",
                        to=settings.AUTH_USER_MODEL,
                        verbose_name="recorded by",
                    ),
                ),
                (
                    "source",
                    models.ForeignKey(
                        blank=True,
                        help_text="Optional: the source consulted, if one says nothing has changed.",
                        null=True,
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="checks",
                        to="commitments.source",
                        verbose_name="source",
                    ),
                ),
            ],
            options={
                "verbose_name": "check",
                "verbose_name_plural": "checks",
                "ordering": ["-checked_on", "-recorded_at", "-id"],
                "get_latest_by": ["checked_on", "recorded_at", "id"],
                "indexes": [
                    models.Index(fields=["commitment", "-checked_on"], name="check_latest")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(
                            ("checked_on__gte", datetime.date(1900, 1, 1)),
                            ("checked_on__lte", datetime.date(2200, 12, 31)),
                        ),
                        name="check_checked_on_range",
                        violation_error_code="out_of_range",
                        violation_error_message="The date checked must be between 1900 and 2200.",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("note", ""), _negated=True),
                        name="check_has_note",
                        violation_error_message="Say what was checked.",
                    ),
                    models.UniqueConstraint(
                        fields=("idempotency_key",),
                        name="check_idempotency_key_unique",
                        violation_error_message="This form was already recorded.",
                    ),
                ],
            },
        ),
        migrations.RunPython(create_triggers, drop_triggers),
    ]
