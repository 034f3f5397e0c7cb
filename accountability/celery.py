"""The Celery application. Settings come from Django's, under the ``CELERY_`` namespace,
and the tasks from each app's ``tasks.py``.

Owns the app object only: no task, schedule or broker option lives here (the tasks are in
``commitments/tasks.py``, the one beat schedule and the broker's timeouts in settings, and
code that queues work goes through ``commitments/queueing.py``).
"""

import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

app = Celery("accountability")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()
