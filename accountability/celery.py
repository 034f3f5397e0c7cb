"""The Celery application. Settings come from Django's, under the ``CELERY_`` namespace.

Owns the app and what it needs before its first message: the filesystem broker's folders
(the embedded default, under ``VAR_DIR/broker``), made once the app reads its settings,
not when the settings are imported. Must hold no task and no setting of its own.
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
