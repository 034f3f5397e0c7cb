"""The embedded default's Celery broker: kombu's filesystem transport, which makes its
folders (under ``VAR_DIR/broker``) when a worker or a producer first connects, rather
than the settings making them at import. Owns nothing else: which broker is used, and
where its folders are, is decided in settings."""

from pathlib import Path

from kombu.transport import filesystem

FOLDERS = ("data_folder_in", "data_folder_out", "control_folder", "processed_folder")


class FilesystemTransport(filesystem.Transport):
    def __init__(self, client, **kwargs):
        super().__init__(client, **kwargs)
        for name in FOLDERS:
            if name in client.transport_options:
                Path(client.transport_options[name]).mkdir(parents=True, exist_ok=True)
