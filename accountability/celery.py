"""The Celery application. Settings come from Django's, under the ``CELERY_`` namespace,
and the tasks from each app's ``tasks.py``.

Owns the app object, and the filesystem broker's folders (the embedded default, under
``VAR_DIR/broker``), made when the app first reads its settings rather than when the
settings are imported. No task, schedule or broker option lives here (the tasks are in
``commitments/tasks.py``, the one beat schedule and the broker's timeouts in settings, and
code that queues work goes through ``commitments/queueing.py``).
"""

import os
from pathlib import Path

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

app = Celery("accountability")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

FILESYSTEM_BROKER_FOLDERS = (
    "data_folder_in",
    "data_folder_out",
    "control_folder",
    "processed_folder",
)


@app.on_after_configure.connect
def make_broker_folders(sender, source, **kwargs):
    """kombu's filesystem transport expects its folders to exist; a worker or a web
    process reaching the broker first makes them."""
    if not str(source.broker_url or "").startswith("filesystem://"):
        return
    options = source.broker_transport_options or {}
    for name in FILESYSTEM_BROKER_FOLDERS:
        if name in options:
            Path(options[name]).mkdir(parents=True, exist_ok=True)
