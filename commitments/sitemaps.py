"""The sitemap: the public pages and every published commitment, actor and topic.

``/sitemap.xml`` is an index (``django.contrib.sitemaps.views.index``) of one sitemap per
section, each split into pages of at most ``limit`` addresses (the protocol's 50,000):
``/sitemap-commitments.xml``, ``/sitemap-commitments.xml?p=2``, ... so every published
commitment is in some page, however many there are.

Two languages (issue 13): every page is listed at its address in each language (English
unprefixed, French under ``/fr/``), each with its ``xhtml:link`` alternates in both and
``x-default`` (the English address): Django's ``i18n``, ``alternates`` and ``x_default``.
An address and its language count as one of the ``limit`` per file. The commitments are
paired with their languages lazily (``_InLanguages``), so a page of the sitemap reads only
its own slice of the table, as before.

Owns: which addresses are listed and how they are paged. Must not decide what is public
(``selectors``, the ``public()`` QuerySet methods) or spell a page's address (its URL
pattern, through ``reverse`` and ``schemas.commitment_path_prefix``).
"""

from __future__ import annotations

from collections.abc import Sequence

from django.conf import settings
from django.contrib.sitemaps import Sitemap
from django.db.models import Max
from django.urls import reverse
from django.utils import translation

from . import selectors
from .models import Actor, Topic
from .schemas import commitment_path_prefix


class _InLanguages(Sequence):
    """``(item, language)`` for each item of a queryset and each language, in that order,
    without reading the queryset: its length is a ``COUNT``, a slice reads only the items
    it needs (what Django's paginator asks of it)."""

    def __init__(self, queryset, languages):
        self.queryset = queryset
        self.languages = list(languages)

    def __len__(self):
        if not hasattr(self, "_count"):
            self._count = self.queryset.count()
        return self._count * len(self.languages)

    def count(self):
        return len(self)

    def __getitem__(self, index):
        n = len(self.languages)
        if isinstance(index, slice):
            start, stop, step = index.indices(len(self))
            if step != 1:
                return list(self)[index]
            first, last = start // n, -(-stop // n)
            pairs = [
                (item, language)
                for item in self.queryset[first:last]
                for language in self.languages
            ]
            return pairs[start - first * n : stop - first * n]
        if index < 0:
            index += len(self)
        if not 0 <= index < len(self):
            raise IndexError(index)
        return (self.queryset[index // n], self.languages[index % n])


class _BothLanguages(Sitemap):
    """Each address in English and in French, with the other as its alternate."""

    i18n = True
    alternates = True
    x_default = True

    def _items(self):
        items = self.items()
        if hasattr(items, "count") and hasattr(items, "query"):  # a queryset: stay lazy
            return _InLanguages(items, self._languages())
        return super()._items()


class PagesSitemap(_BothLanguages):
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


class CommitmentSitemap(_BothLanguages):
    changefreq = "weekly"
    #: The protocol's maximum per file; the index lists every page.
    limit = 50_000

    def items(self):
        return selectors.public_commitments().only("slug", "updated_at").order_by("slug")

    def location(self, item):
        # One reverse() per page and language rather than per address.
        language = translation.get_language() or settings.LANGUAGE_CODE
        prefixes = self.__dict__.setdefault("_prefixes", {})
        if language not in prefixes:
            prefixes[language] = commitment_path_prefix()
        return f"{prefixes[language]}{item.slug}/"

    def lastmod(self, item):
        return item.updated_at

    def get_latest_lastmod(self):
        # Django's default calls lastmod() on every item; the index needs only the newest.
        return selectors.public_commitments().aggregate(latest=Max("updated_at"))["latest"]


class ActorSitemap(_BothLanguages):
    changefreq = "weekly"

    def items(self):
        return Actor.objects.public().order_by("slug")


class TopicSitemap(_BothLanguages):
    changefreq = "weekly"

    def items(self):
        return Topic.objects.public().order_by("slug")


sitemaps = {
    "pages": PagesSitemap,
    "commitments": CommitmentSitemap,
    "actors": ActorSitemap,
    "topics": TopicSitemap,
}
