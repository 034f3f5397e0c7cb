"""The public addresses: pages, fragments, feeds, exports, the API, the sitemap and the
``/data/`` snapshots.

No logic here: each address names the view that owns it.
"""

from django.contrib.sitemaps.views import index as sitemap_index
from django.contrib.sitemaps.views import sitemap
from django.urls import path
from django.views.decorators.http import require_safe

from . import views
from .feeds import CommitmentFeed, RecentChangesFeed
from .sitemaps import sitemaps

app_name = "commitments"

urlpatterns = [
    path("", views.home, name="home"),
    path("commitments/", views.commitment_list, name="commitment_list"),
    path("commitments.csv", views.commitment_export_csv, name="commitment_export_csv"),
    path("commitments.json", views.commitment_export_json, name="commitment_export_json"),
    path("commitments/<slug:slug>/", views.commitment_detail, name="commitment_detail"),
    path("commitments/<slug:slug>/changes/", views.commitment_changes, name="commitment_changes"),
    path("commitments/<slug:slug>/embed/", views.commitment_embed, name="commitment_embed"),
    path("actors/", views.actor_list, name="actor_list"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor_detail"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("corrections/", views.corrections, name="corrections"),
    path("data/", views.data_snapshots, name="data"),
    path("data/<str:day>/<str:name>", views.data_snapshot_file, name="data_file"),
    path("feeds/changes/", require_safe(RecentChangesFeed()), name="feed_changes"),
    path(
        "feeds/commitments/<slug:slug>/",
        require_safe(CommitmentFeed()),
        name="feed_commitment",
    ),
]

# Outside the namespace: django.contrib.sitemaps and robots.txt look for these names.
site_urlpatterns = [
    path(
        "sitemap.xml",
        require_safe(sitemap_index),
        {"sitemaps": sitemaps, "sitemap_url_name": "sitemap_section"},
        name="sitemap",
    ),
    path(
        "sitemap-<section>.xml",
        require_safe(sitemap),
        {"sitemaps": sitemaps},
        name="sitemap_section",
    ),
    path("robots.txt", views.robots_txt, name="robots_txt"),
]
