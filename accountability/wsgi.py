"""WSGI entry point: what granian (``Procfile``, compose) serves.

Must not configure anything: settings come from ``accountability.settings`` alone.
"""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "accountability.settings")

application = get_wsgi_application()
