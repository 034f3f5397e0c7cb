from django.contrib import admin
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
