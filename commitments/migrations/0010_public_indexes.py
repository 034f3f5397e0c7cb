"""Indexes for every sort order and filter a public page offers (issue 9): the list's
sorts among published commitments (partial indexes ending in a unique column), the
status filter with the default sort, the home page's "recently changed" and the changes
feed's ``recorded_at DESC, id DESC``. Declared in the models' ``Meta.indexes``.
``bench/explain_public.py`` prints each query's plan at 100,000 commitments."""

from django.db import migrations, models

import commitments.models


class Migration(migrations.Migration):

    dependencies = [
        ('commitments', '0009_public_version'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='commitment',
            index=commitments.models.NullsLastIndex(models.OrderBy(models.F('status_since'), descending=True, nulls_last=True), models.F('title'), models.F('id'), condition=models.Q(('is_published', True)), name='commitment_pub_changed'),
        ),
        migrations.AddIndex(
            model_name='commitment',
            index=commitments.models.NullsLastIndex(models.F('status'), models.OrderBy(models.F('status_since'), descending=True, nulls_last=True), models.F('title'), models.F('id'), condition=models.Q(('is_published', True)), name='commitment_pub_status_changed'),
        ),
        migrations.AddIndex(
            model_name='commitment',
            index=models.Index(condition=models.Q(('is_published', True)), fields=['-made_on', 'title', 'id'], name='commitment_pub_made'),
        ),
        migrations.AddIndex(
            model_name='commitment',
            index=models.Index(condition=models.Q(('is_published', True)), fields=['deadline', 'title', 'id'], name='commitment_pub_deadline'),
        ),
        migrations.AddIndex(
            model_name='commitment',
            index=models.Index(condition=models.Q(('is_published', True), ('status_since__isnull', False)), fields=['-status_since', '-updated_at'], name='commitment_pub_recent'),
        ),
        migrations.AddIndex(
            model_name='statusupdate',
            index=models.Index(fields=['-recorded_at', '-id'], name='status_update_recorded'),
        ),
    ]
