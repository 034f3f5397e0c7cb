"""ASGI entry point (Django's own handler). Production serves WSGI through granian; this is
kept for the measured comparison in bench/idle_clients.py (uvicorn).

Must not grow middleware or routes of its own: it serves what ``settings`` and ``urls``
declare, like ``wsgi.py``.
"""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

application = get_asgi_application()
