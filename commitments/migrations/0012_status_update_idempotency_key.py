# One-time form tokens for status updates (issue 9): a form posted twice records once.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0011_ranges'),
    ]

    operations = [
        migrations.AddField(
            model_name='statusupdate',
            name='idempotency_key',
            field=models.UUIDField(blank=True, editable=False, null=True, verbose_name='form token'),
        ),
        migrations.AddConstraint(
            model_name='statusupdate',
            constraint=models.UniqueConstraint(fields=('idempotency_key',), name='status_update_idempotency_key_unique', violation_error_message='This form was already recorded.'),
        ),
    ]
