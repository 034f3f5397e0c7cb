"""Issue 13: each translated field's French version beside it (``<name>_fr``), the language
a quote was said in with our translations of it, the language a subscriber reads, and
status updates' translations made revisable.

Status updates stay append-only (0005): the trigger now lets exactly one more thing change,
the French version of a step's words (``description_fr``, ``correction_note_fr``), which
is our translation, not evidence. Such a change goes through a revision like any other
(``services/revisions.py``), so it leaves a public trace.
"""

import django.core.validators
from django.db import migrations, models

TRIGGER = """
CREATE OR REPLACE FUNCTION commitments_statusupdate_append_only() RETURNS trigger AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        RAISE EXCEPTION 'status updates are append-only: record a correction instead'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    IF (to_jsonb(NEW) - %(free)s) IS DISTINCT FROM (to_jsonb(OLD) - %(free)s)
       OR NEW.recorded_by_id IS NOT NULL AND NEW.recorded_by_id IS DISTINCT FROM OLD.recorded_by_id THEN
        RAISE EXCEPTION 'status updates are append-only: record a correction instead'
            USING ERRCODE = 'integrity_constraint_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""
#: What may change on a saved status update: who recorded it (NULL when the account goes),
#: and, from now on, its French version.
FREE = "ARRAY['recorded_by_id', 'description_fr', 'correction_note_fr']"
FREE_BEFORE = "'recorded_by_id'"


def trigger(free):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            schema_editor.execute(TRIGGER % {"free": free})

    return run


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0018_alerts_and_webhooks"),
    ]

    operations = [
        migrations.AddField(
            model_name="actor",
            name="description_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="description (French)"
            ),
        ),
        migrations.AddField(
            model_name="actor",
            name="name_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="name (French)"
            ),
        ),
        migrations.AddField(
            model_name="actor",
            name="role_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="role (French)"
            ),
        ),
        migrations.AddField(
            model_name="commitment",
            name="original_wording_language",
            field=models.CharField(
                db_default="en",
                default="en",
                help_text="The language it is written in: a code such as en or fr.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z]{2,3}(-[a-z]{2})?$", "Use a language code such as en or fr."
                    )
                ],
                verbose_name="language of the original wording",
            ),
        ),
        migrations.AddField(
            model_name="commitment",
            name="original_wording_translation_en",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                verbose_name="our English translation of the original wording",
            ),
        ),
        migrations.AddField(
            model_name="commitment",
            name="original_wording_translation_fr",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                verbose_name="our French translation of the original wording",
            ),
        ),
        migrations.AddField(
            model_name="commitment",
            name="summary_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="summary (French)"
            ),
        ),
        migrations.AddField(
            model_name="commitment",
            name="title_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=300, verbose_name="title (French)"
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitment",
            name="original_wording_language",
            field=models.CharField(
                db_default="en",
                default="en",
                help_text="The language it is written in: a code such as en or fr.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z]{2,3}(-[a-z]{2})?$", "Use a language code such as en or fr."
                    )
                ],
                verbose_name="language of the original wording",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitment",
            name="original_wording_translation_en",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                verbose_name="our English translation of the original wording",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitment",
            name="original_wording_translation_fr",
            field=models.TextField(
                blank=True,
                db_default="",
                default="",
                verbose_name="our French translation of the original wording",
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitment",
            name="summary_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="summary (French)"
            ),
        ),
        migrations.AddField(
            model_name="historicalcommitment",
            name="title_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=300, verbose_name="title (French)"
            ),
        ),
        migrations.AddField(
            model_name="historicalstatement",
            name="language",
            field=models.CharField(
                db_default="en",
                default="en",
                help_text="The language it is written in: a code such as en or fr.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z]{2,3}(-[a-z]{2})?$", "Use a language code such as en or fr."
                    )
                ],
                verbose_name="language",
            ),
        ),
        migrations.AddField(
            model_name="historicalstatement",
            name="speaker_description_fr",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=300,
                verbose_name="speaker description (French)",
            ),
        ),
        migrations.AddField(
            model_name="historicalstatement",
            name="translation_en",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="our English translation"
            ),
        ),
        migrations.AddField(
            model_name="historicalstatement",
            name="translation_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="our French translation"
            ),
        ),
        migrations.AddField(
            model_name="indicator",
            name="comparison_label_fr",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=200,
                verbose_name="comparison label (French)",
            ),
        ),
        migrations.AddField(
            model_name="indicator",
            name="description_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="description (French)"
            ),
        ),
        migrations.AddField(
            model_name="indicator",
            name="name_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="name (French)"
            ),
        ),
        migrations.AddField(
            model_name="indicator",
            name="unit_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=50, verbose_name="unit (French)"
            ),
        ),
        migrations.AddField(
            model_name="observation",
            name="note_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=300, verbose_name="note (French)"
            ),
        ),
        migrations.AddField(
            model_name="revision",
            name="reason_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="reason (French)"
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="language",
            field=models.CharField(
                db_default="en",
                default="en",
                help_text="The language it is written in: a code such as en or fr.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z]{2,3}(-[a-z]{2})?$", "Use a language code such as en or fr."
                    )
                ],
                verbose_name="language",
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="speaker_description_fr",
            field=models.CharField(
                blank=True,
                db_default="",
                default="",
                max_length=300,
                verbose_name="speaker description (French)",
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="translation_en",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="our English translation"
            ),
        ),
        migrations.AddField(
            model_name="statement",
            name="translation_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="our French translation"
            ),
        ),
        migrations.AddField(
            model_name="statusupdate",
            name="correction_note_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="what was wrong (French)"
            ),
        ),
        migrations.AddField(
            model_name="statusupdate",
            name="description_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="what happened (French)"
            ),
        ),
        migrations.AddField(
            model_name="subscriber",
            name="language",
            field=models.CharField(
                choices=[("en-gb", "English"), ("fr", "French")],
                db_default="en-gb",
                default="en-gb",
                max_length=10,
                verbose_name="language of the emails",
            ),
        ),
        migrations.AddField(
            model_name="topic",
            name="description_fr",
            field=models.TextField(
                blank=True, db_default="", default="", verbose_name="description (French)"
            ),
        ),
        migrations.AddField(
            model_name="topic",
            name="name_fr",
            field=models.CharField(
                blank=True, db_default="", default="", max_length=200, verbose_name="name (French)"
            ),
        ),
        migrations.AlterField(
            model_name="historicalsource",
            name="language",
            field=models.CharField(
                db_default="en",
                default="en",
                help_text="The language it is written in: a code such as en or fr.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z]{2,3}(-[a-z]{2})?$", "Use a language code such as en or fr."
                    )
                ],
                verbose_name="language",
            ),
        ),
        migrations.AlterField(
            model_name="source",
            name="language",
            field=models.CharField(
                db_default="en",
                default="en",
                help_text="The language it is written in: a code such as en or fr.",
                max_length=10,
                validators=[
                    django.core.validators.RegexValidator(
                        "^[a-z]{2,3}(-[a-z]{2})?$", "Use a language code such as en or fr."
                    )
                ],
                verbose_name="language",
            ),
        ),
        migrations.RunPython(trigger(FREE), trigger(FREE_BEFORE)),
    ]
