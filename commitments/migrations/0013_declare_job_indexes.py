"""The flag job's two covering indexes, made by hand in migration 0004, declared on the
models (``Commitment.Meta.indexes``, ``Flag.Meta.indexes``) with the same names and the
same SQL. State only: a database migrated through 0004 already holds them (PostgreSQL;
SQLite never needed them), so nothing is built or renamed here, and a fresh database and
an old one end with the same indexes."""

from django.db import migrations, models

import commitments.querysets


class Migration(migrations.Migration):
    dependencies = [
        ("commitments", "0012_status_update_idempotency_key"),
    ]

    operations = [
        migrations.SeparateDatabaseAndState(
            state_operations=[
                migrations.AddIndex(
                    model_name="commitment",
                    index=models.Index(
                        condition=models.Q(
                            ("is_published", True),
                            commitments.querysets.NotIn(models.F("status"), ["kept", "broken"]),
                        ),
                        fields=["id"],
                        include=(
                            "status_since",
                            "status_since_precision",
                            "made_on",
                            "made_precision",
                            "stall_after_days",
                            "deadline",
                            "deadline_precision",
                        ),
                        name="commitment_open_flag_rules",
                    ),
                ),
                migrations.AddIndex(
                    model_name="flag",
                    index=models.Index(
                        condition=models.Q(("resolved_at__isnull", True)),
                        fields=["reason", "commitment"],
                        include=("since", "since_precision", "id"),
                        name="flag_open_by_reason",
                    ),
                ),
            ],
            database_operations=[],
        ),
    ]
