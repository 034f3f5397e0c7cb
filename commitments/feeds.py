"""Atom feeds: the site's recent status changes, and one per commitment."""

from __future__ import annotations

import datetime

from django.contrib.syndication.views import Feed
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed

from . import selectors
from .context_processors import SITE_NAME
from .models import StatusUpdate

FEED_LENGTH = 50


def _update_title(update: StatusUpdate, *, with_commitment: bool) -> str:
    words = f"{update.get_status_display()} ({update.vague('effective_on')})"
    if update.corrects_id:
        words = f"Correction: {words}"
    return f"{update.commitment.title}: {words}" if with_commitment else words


class _StatusUpdateFeed(Feed):
    """Titles, subtitles and author names are Atom text constructs (no ``type``): readers
    show them as text, and the feed generator escapes them for XML. The summary is HTML,
    built by a template with autoescape, so an editor's words are never markup."""

    feed_type = Atom1Feed
    with_commitment = True
    description_template = "commitments/_feed_status_update.html"

    def item_title(self, item: StatusUpdate) -> str:
        return _update_title(item, with_commitment=self.with_commitment)

    def item_link(self, item: StatusUpdate) -> str:
        return item.get_absolute_url()

    def item_pubdate(self, item: StatusUpdate) -> datetime.datetime:
        return item.recorded_at

    def item_updateddate(self, item: StatusUpdate) -> datetime.datetime:
        return item.recorded_at

    def item_author_name(self, item: StatusUpdate) -> str:
        return SITE_NAME


class RecentChangesFeed(_StatusUpdateFeed):
    title = f"{SITE_NAME}: recent status changes"
    subtitle = "Every step recorded on a published commitment, newest first, with its sources."

    def link(self):
        return reverse("commitments:commitment_list")

    def items(self):
        return selectors.recent_status_changes(FEED_LENGTH)


class CommitmentFeed(_StatusUpdateFeed):
    with_commitment = False

    def get_object(self, request, slug):
        return selectors.public_commitment_or_404(slug)

    def title(self, obj):
        return f"{obj.title}: status changes"

    def subtitle(self, obj):
        return obj.summary

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return selectors.recent_status_changes(FEED_LENGTH, commitment=obj)
