"""The sitemap: the public pages and every published commitment, actor and topic."""

from __future__ import annotations

from django.contrib.sitemaps import Sitemap
from django.urls import reverse

from . import selectors
from .models import Actor, Topic


class PagesSitemap(Sitemap):
    changefreq = "daily"

    def items(self):
        return ["commitments:home", "commitments:commitment_list", "commitments:corrections"]

    def location(self, item):
        return reverse(item)


class CommitmentSitemap(Sitemap):
    changefreq = "weekly"

    def items(self):
        return selectors.public_commitments().order_by("slug")

    def lastmod(self, item):
        return item.updated_at


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
