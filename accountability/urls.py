"""The project's address book: the app's public pages (``commitments.urls``), the admin
and its sign-in pages, and, for a benchmark run only, the bare reference view.

No view is written here; each address points at the module that owns it.
"""

from django.conf import settings
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from commitments.api import api
from commitments.sign_in import two_factor
from commitments.urls import site_urlpatterns

urlpatterns = [
    path("admin/two-factor/", two_factor, name="two_factor"),
    path("admin/", admin.site.urls),
    path("api/", api.urls),
    *site_urlpatterns,
    path("", include("commitments.urls")),
]

if settings.BENCH_BARE_VIEW:
    # The benchmark's reference (bench/web.py): a view that does nothing, on the same server.
    urlpatterns.insert(0, path("__bench__/bare/", lambda request: HttpResponse(b"ok")))
