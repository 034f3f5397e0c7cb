"""The sitemap: the public pages and every published commitment, actor and topic.

``/sitemap.xml`` is an index (``django.contrib.sitemaps.views.index``) of one sitemap per
section, each split into pages of at most ``limit`` addresses (the protocol's 50,000):
``/sitemap-commitments.xml``, ``/sitemap-commitments.xml?p=2``, ... so every published
commitment is in some page, however many there are.

Owns: which addresses are listed and how they are paged. Must not decide what is public
(``selectors``, the ``public()`` QuerySet methods) or spell a page's address (its URL
pattern, through ``reverse`` and ``schemas.commitment_path_prefix``).
"""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse

from . import selectors
from .models import Actor, Topic
from .schemas import commitment_path_prefix


class PagesSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return [
            "commitments:home",
            "commitments:commitment_list",
            "commitments:actor_list",
            "commitments:topic_list",
            "commitments:corrections",
            "commitments:methodology",
            "commitments:about",
        ]

    def location(self, item):
        return reverse(item)


class CommitmentSitemap(Sitemap):
    changefreq = "weekly"
    #: The protocol's maximum per file; the index lists every page.
    limit = 50_000

    def items(self):
        return selectors.public_commitments().only("slug", "updated_at").order_by("slug")

    def location(self, item):
        # One reverse() per page rather than per address.
        if not hasattr(self, "_prefix"):
            self._prefix = commitment_path_prefix()
        return f"{self._prefix}{item.slug}/"

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        # Django's default calls lastmod() on every item; the index needs only the newest.
        return selectors.public_commitments().aggregate(latest=Max("updated_at"))["latest"]


class ActorSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Actor.objects.public().order_by("slug")


class TopicSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return Topic.objects.public().order_by("slug")


sitemaps = {
    "pages": PagesSitemap,
    "commitments": CommitmentSitemap,
    "actors": ActorSitemap,
    "topics": TopicSitemap,
}
