"""The public addresses: pages, fragments, feeds, exports, the API, the sitemap and the
``/data/`` snapshots.

No logic here: each address names the view that owns it.
"""

from django.contrib.sitemaps.views import index as sitemap_index
from django.contrib.sitemaps.views import sitemap
from django.urls import path
from django.views.decorators.http import require_safe

from . import alert_views, views
from .feeds import (
    ActorFeed,
    ActorJSONFeed,
    CommitmentFeed,
    CommitmentJSONFeed,
    RecentChangesFeed,
    RecentChangesJSONFeed,
    TopicFeed,
    TopicJSONFeed,
)
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
    path(
        "commitments/<slug:slug>/preview.png",
        views.commitment_preview_image,
        name="commitment_preview_image",
    ),
    path("oembed/", views.oembed, name="oembed"),
    path("actors/", views.actor_list, name="actor_list"),
    path("actors/<slug:slug>/", views.actor_detail, name="actor_detail"),
    path("topics/", views.topic_list, name="topic_list"),
    path("topics/<slug:slug>/", views.topic_detail, name="topic_detail"),
    path("corrections/", views.corrections, name="corrections"),
    path("methodology/", views.methodology, name="methodology"),
    path("about/", views.about, name="about"),
    path("data/", views.data_snapshots, name="data"),
    path("data/<str:day>/<str:name>", views.data_snapshot_file, name="data_file"),
    # Following a promise by email (issue 12): the links in the emails carry a signed token.
    path("alerts/subscribe/", alert_views.subscribe, name="alerts_subscribe"),
    path("alerts/confirm/<str:token>/", alert_views.confirm, name="alerts_confirm"),
    path("alerts/manage/<str:token>/", alert_views.manage, name="alerts_manage"),
    path("alerts/unsubscribe/<str:token>/", alert_views.unsubscribe, name="alerts_unsubscribe"),
    path("feeds/changes/", require_safe(RecentChangesFeed()), name="feed_changes"),
    path(
        "feeds/commitments/<slug:slug>/",
        require_safe(CommitmentFeed()),
        name="feed_commitment",
    ),
    # JSON Feed 1.1 beside each Atom feed, and feeds per actor and per topic (issue 11).
    path("feeds/changes/json/", require_safe(RecentChangesJSONFeed()), name="feed_changes_json"),
    path(
        "feeds/commitments/<slug:slug>/json/",
        require_safe(CommitmentJSONFeed()),
        name="feed_commitment_json",
    ),
    path("feeds/actors/<slug:slug>/", require_safe(ActorFeed()), name="feed_actor"),
    path("feeds/actors/<slug:slug>/json/", require_safe(ActorJSONFeed()), name="feed_actor_json"),
    path("feeds/topics/<slug:slug>/", require_safe(TopicFeed()), name="feed_topic"),
    path("feeds/topics/<slug:slug>/json/", require_safe(TopicJSONFeed()), name="feed_topic_json"),
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
