"""Atom feeds and JSON Feeds: the site's recent status changes and corrections, and one per
commitment, per actor and per topic, each in both formats.

Both formats are written from the same entries by the same ``Feed`` classes (titles, links
with their anchors, summaries, dates): a JSON Feed is the Atom feed's class with
``JSONFeed`` (JSON Feed 1.1, https://jsonfeed.org/version/1.1) as its generator.

An entry is a status update (a step, or a correction to one) or a correction to published
text (a ``Revision`` of kind correction); minor edits stay on the change history.

Two languages (issue 13): the feeds live inside the translated addresses, so
``/fr/feeds/...`` is the same feed in French: our titles and labels in French, the editors'
words in French where they wrote them (else the English, marked as such in the entry's
HTML), links to the ``/fr/`` pages, and ``language`` (Atom's ``xml:lang``, JSON Feed's
``language``) the active one, ``fr`` or ``en-gb`` (Django's ``Feed`` reads it).

Owns: the feeds' titles, links and entry order. Must not decide what is public (it reads
``selectors.feed_entries``) or hold site-level names (``settings.SITE_NAME``).
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.contrib.syndication.views import Feed
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.feedgenerator import Atom1Feed, SyndicationFeed, rfc3339_date
from django.utils.translation import gettext as _

from . import selectors
from .languages import translated
from .models import Revision, StatusUpdate

FEED_LENGTH = 50


def _rfc3339(value: datetime.datetime | None) -> str | None:
    """As the Atom feed writes it (to the second)."""
    return rfc3339_date(value) if value else None


class JSONFeed(SyndicationFeed):
    """JSON Feed 1.1 from what Django's syndication framework gives a feed generator: the
    same title, links, summary HTML (``content_html``, escaped by its template) and dates
    as the Atom feed."""

    content_type = "application/feed+json; charset=utf-8"
    version = "https://jsonfeed.org/version/1.1"

    def item_data(self, item: dict) -> dict:
        data = {
            "id": item["unique_id"] or item["link"],
            "url": item["link"],
            "title": item["title"],
            "content_html": item["description"].strip(),
            "date_published": _rfc3339(item["pubdate"]),
            "date_modified": _rfc3339(item["updateddate"] or item["pubdate"]),
        }
        if item["author_name"]:
            data["authors"] = [{"name": item["author_name"]}]
        return {key: value for key, value in data.items() if value is not None}

    def feed_data(self) -> dict:
        feed = self.feed
        data = {
            "version": self.version,
            "title": feed["title"],
            "home_page_url": feed["link"],
            "feed_url": feed["feed_url"],
            "description": feed["subtitle"] or feed["description"],
            "language": feed["language"],
            "items": [self.item_data(item) for item in self.items],
        }
        if feed["author_name"]:
            data["authors"] = [{"name": feed["author_name"]}]
        return {key: value for key, value in data.items() if value}  # "items" may be []

    def write(self, outfile, encoding):
        data = self.feed_data()
        data.setdefault("items", [])
        outfile.write(json.dumps(data, ensure_ascii=False, indent=1))


def _about(title: str, words: str) -> str:
    """ "<what it is about>: <what happened>"."""
    return _("%(title)s: %(words)s") % {"title": title, "words": words}


def _update_title(update: StatusUpdate, *, with_commitment: bool) -> str:
    words = _("%(status)s (%(date)s)") % {
        "status": update.get_status_display(),
        "date": update.vague("effective_on"),
    }
    if update.corrects_id:
        words = _("Correction: %(words)s") % {"words": words}
    return _about(translated(update.commitment, "title"), words) if with_commitment else words


def _revision_title(revision: Revision, commitment=None) -> str:
    words = _("Correction to %(record)s") % {"record": revision.object_label}
    if commitment is None:
        return words
    return _about(translated(commitment, "title"), words)


class _StatusUpdateFeed(Feed):
    """Titles, subtitles and author names are Atom text constructs (no ``type``): readers
    show them as text, and the feed generator escapes them for XML. The summary is HTML,
    built by a template with autoescape, so an editor's words are never markup."""

    feed_type = Atom1Feed
    with_commitment = True
    templates = {
        StatusUpdate: "commitments/_feed_status_update.html",
        Revision: "commitments/_feed_revision.html",
    }

    def _commitment_of(self, item: Revision):
        """The commitment whose change history an entry links to."""
        shown = list(item.commitments.all())
        return getattr(item, "feed_commitment", None) or (shown[0] if shown else None)

    def item_title(self, item) -> str:
        if isinstance(item, Revision):
            return _revision_title(
                item, self._commitment_of(item) if self.with_commitment else None
            )
        return _update_title(item, with_commitment=self.with_commitment)

    def item_description(self, item) -> str:
        return render_to_string(self.templates[type(item)], {"obj": item})

    def item_link(self, item) -> str:
        if isinstance(item, Revision):
            return item.public_url(self._commitment_of(item))
        return item.get_absolute_url()

    def item_pubdate(self, item) -> datetime.datetime:
        return item.decided_at if isinstance(item, Revision) else item.recorded_at

    def item_updateddate(self, item) -> datetime.datetime:
        return self.item_pubdate(item)

    def item_author_name(self, item) -> str:
        return settings.SITE_NAME


class RecentChangesFeed(_StatusUpdateFeed):
    def title(self) -> str:
        return _about(settings.SITE_NAME, _("recent status changes and corrections"))

    def subtitle(self) -> str:
        return _(
            "Every step recorded on a published commitment, and every correction to published "
            "text, newest first, with sources and what it said before."
        )

    def link(self):
        return reverse("commitments:commitment_list")

    def items(self):
        return selectors.feed_entries(FEED_LENGTH)


class CommitmentFeed(_StatusUpdateFeed):
    with_commitment = False

    def get_object(self, request, slug):
        return selectors.public_commitment_or_404(slug)

    def title(self, obj):
        return _about(translated(obj, "title"), _("status changes and corrections"))

    def subtitle(self, obj):
        return translated(obj, "summary")

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        entries = selectors.feed_entries(FEED_LENGTH, commitment=obj)
        for entry in entries:
            entry.feed_commitment = obj  # a correction links to this commitment's history
        return entries


class ActorFeed(_StatusUpdateFeed):
    """The steps and corrections of the published commitments an actor has a role in."""

    def get_object(self, request, slug):
        return selectors.public_actor_or_404(slug)

    def title(self, obj):
        return _about(translated(obj, "name"), _("status changes and corrections"))

    def subtitle(self, obj):
        return _("Every step recorded on the commitments of %(actor)s, newest first.") % {
            "actor": translated(obj, "name")
        }

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return selectors.feed_entries(FEED_LENGTH, actor=obj)


class TopicFeed(_StatusUpdateFeed):
    """The steps and corrections of the published commitments on a topic."""

    def get_object(self, request, slug):
        return selectors.public_topic_or_404(slug)

    def title(self, obj):
        return _about(translated(obj, "name"), _("status changes and corrections"))

    def subtitle(self, obj):
        return _("Every step recorded on the commitments on %(topic)s, newest first.") % {
            "topic": translated(obj, "name")
        }

    def link(self, obj):
        return obj.get_absolute_url()

    def items(self, obj):
        return selectors.feed_entries(FEED_LENGTH, topic=obj)


# The same feeds as JSON Feed 1.1.


class RecentChangesJSONFeed(RecentChangesFeed):
    feed_type = JSONFeed


class CommitmentJSONFeed(CommitmentFeed):
    feed_type = JSONFeed


class ActorJSONFeed(ActorFeed):
    feed_type = JSONFeed


class TopicJSONFeed(TopicFeed):
    feed_type = JSONFeed
