"""The project's address book: the app's public pages (``commitments.urls``), the admin
and its sign-in pages, and, for a benchmark run only, the bare reference view.

No view is written here; each address points at the module that owns it.
"""

from django.conf import settings
from django.conf.urls.i18n import i18n_patterns
from django.contrib import admin
from django.http import HttpResponse
from django.urls import include, path

from commitments.api import api
from commitments.sign_in import two_factor
from commitments.urls import site_urlpatterns

# Language-neutral: the API (codes, ISO dates, labels in both languages), the sitemap (it
# lists every page in both, with alternates) and robots.txt.
urlpatterns = [
    path("api/", api.urls),
    *site_urlpatterns,
]
# Everything people read, in English at today's addresses and in French under /fr/.
urlpatterns += i18n_patterns(
    path("admin/two-factor/", two_factor, name="two_factor"),
    path("admin/", admin.site.urls),
    path("", include("commitments.urls")),
    prefix_default_language=False,
)

if settings.BENCH_BARE_VIEW:
    # The benchmark's reference (bench/web.py): a view that does nothing, on the same server.
    urlpatterns.insert(0, path("__bench__/bare/", lambda request: HttpResponse(b"ok")))
