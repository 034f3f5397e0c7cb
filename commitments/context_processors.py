"""Template context every page gets: the site's name and public address.

Owns: handing settings to templates. Must not define them: ``SITE_NAME`` and ``SITE_URL``
live in settings, where the API, the feeds and the exports read them too.
"""

from django.conf import settings


def site(request):
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}
