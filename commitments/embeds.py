"""Embedding a commitment elsewhere: the ``<iframe>`` snippet a newsroom pastes into its
CMS, the sizes the card is made for, and the oEmbed answer (https://oembed.com/, section
2) that hands the same snippet to a CMS asked for a commitment's address.

One function writes the snippet (``embed_snippet``), for the commitment page and the
oEmbed endpoint alike, so what a reader copies and what a CMS receives are the same
markup, escaped once, correctly, for an attribute.

Must not query the database (the views pass what they read through ``selectors``) and
must not decide what is public.
"""

from __future__ import annotations

import dataclasses
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.urls import Resolver404, resolve, reverse
from django.utils import translation
from django.utils.html import format_html
from django.utils.safestring import SafeString
from django.utils.translation import gettext_lazy as _

from . import languages

#: The fixed card: what the page offered from the start.
CARD_WIDTH, CARD_HEIGHT = 400, 220
#: The responsive card fills its column (300 to 700 px wide) at this fixed height; its
#: width attribute is what a CMS that strips ``style`` shows.
RESPONSIVE_HEIGHT = 260
RESPONSIVE_MIN_WIDTH, RESPONSIVE_MAX_WIDTH = 300, 700
#: The smallest card whose every part (title, status, flags, link) stays visible.
MIN_WIDTH, MIN_HEIGHT = 280, 200
#: How long an oEmbed consumer may keep an answer (seconds): the card itself is live.
OEMBED_CACHE_AGE = 24 * 60 * 60
#: The social preview image's size (commitments/previews.py draws it).
PREVIEW_WIDTH, PREVIEW_HEIGHT = 1200, 630


@dataclasses.dataclass(frozen=True)
class EmbedSize:
    key: str
    label: str
    width: int
    height: int
    responsive: bool


EMBED_SIZES = (
    EmbedSize("card", _("Card, 400 × 220 pixels"), CARD_WIDTH, CARD_HEIGHT, responsive=False),
    EmbedSize(
        "responsive",
        _("Responsive: the column's full width (300 to 700 pixels), 260 pixels high"),
        RESPONSIVE_MIN_WIDTH,
        RESPONSIVE_HEIGHT,
        responsive=True,
    ),
)


def embed_url(commitment) -> str:
    return settings.SITE_URL + reverse("commitments:commitment_embed", args=[commitment.slug])


def embed_snippet(commitment, *, width: int, height: int, responsive: bool = False) -> SafeString:
    """The ``<iframe>`` to paste: every value escaped for a double-quoted attribute (the
    title may hold quotes, apostrophes, ``<`` and ``&``). A fixed card never grows past
    its column (``max-width: 100%``); a responsive one takes the column's width at a
    fixed height, and ``width`` is then only the fallback where styles are stripped."""
    style = f"border:0;width:100%;height:{height}px" if responsive else "border:0;max-width:100%"
    return format_html(
        '<iframe src="{}" width="{}" height="{}" title="{}" style="{}" loading="lazy"></iframe>',
        embed_url(commitment),
        int(width),
        int(height),
        languages.translated(commitment, "title"),
        style,
    )


def embed_choices(commitment) -> list[dict]:
    """Each offered size with its snippet, for the page's "Embed this" section."""
    return [
        {
            "size": size,
            "snippet": embed_snippet(
                commitment, width=size.width, height=size.height, responsive=size.responsive
            ),
        }
        for size in EMBED_SIZES
    ]


# --- oEmbed ---------------------------------------------------------------------------


class OEmbedError(Exception):
    """A request the endpoint answers with ``status`` and a plain message."""

    def __init__(self, status: int, message: str):
        super().__init__(message)
        self.status = status
        self.message = message


def oembed_discovery_url(page_url: str) -> str:
    """The oEmbed address a page names in its ``<link rel="alternate">`` (unescaped:
    the template escapes it)."""
    query = urlencode({"url": page_url, "format": "json"})
    return f"{settings.SITE_URL}{reverse('commitments:oembed')}?{query}"


def slug_from_url(url: str) -> str:
    """The slug of the commitment a ``url`` names: this site's address of a commitment
    page (or its embed card), absolute on SITE_URL's host or a bare path. Anything else
    is an ``OEmbedError`` 404 (the spec's "no response for this url")."""
    try:
        parts = urlsplit(url.strip())
    except ValueError:  # e.g. "http://[" (an unclosed IPv6 host)
        raise OEmbedError(404, "The url is not an address on this site.") from None
    site = urlsplit(settings.SITE_URL)
    if parts.scheme or parts.netloc:
        if parts.scheme not in ("http", "https") or parts.netloc.lower() != site.netloc.lower():
            raise OEmbedError(404, "The url is not an address on this site.")
    path = parts.path or "/"
    prefix = site.path.rstrip("/")
    if prefix:
        if not path.startswith(prefix + "/"):
            raise OEmbedError(404, "The url is not an address on this site.")
        path = path[len(prefix) :]
    try:
        # A French address resolves only with French active (i18n_patterns' prefix).
        with translation.override(url_language(path)):
            match = resolve(path)
    except Resolver404:
        raise OEmbedError(404, "The url is not a commitment's page.") from None
    if match.view_name not in ("commitments:commitment_detail", "commitments:commitment_embed"):
        raise OEmbedError(404, "The url is not a commitment's page.")
    return match.kwargs["slug"]


def url_language(url: str) -> str:
    """The interface language of one of this site's addresses: French under ``/fr/``,
    else the default (English)."""
    try:
        path = urlsplit(url.strip()).path or "/"
    except ValueError:
        return settings.LANGUAGE_CODE
    prefix = urlsplit(settings.SITE_URL).path.rstrip("/")
    if prefix and path.startswith(prefix + "/"):
        path = path[len(prefix) :]
    return translation.get_language_from_path(path) or settings.LANGUAGE_CODE


def _dimension(name: str, value: str | None) -> int | None:
    if value is None or value.strip() == "":
        return None
    try:
        number = int(value.strip())
    except ValueError:
        raise OEmbedError(400, f"{name} must be a whole number of pixels.") from None
    if number <= 0:
        raise OEmbedError(400, f"{name} must be a positive number of pixels.")
    return number


def max_dimensions(maxwidth: str | None, maxheight: str | None) -> tuple[int | None, int | None]:
    """The consumer's ``maxwidth`` and ``maxheight`` (query strings): None when absent, an
    ``OEmbedError`` 400 when not a positive whole number."""
    return _dimension("maxwidth", maxwidth), _dimension("maxheight", maxheight)


def oembed_size(max_width: int | None, max_height: int | None) -> tuple[int, int]:
    """The card's size within ``max_width`` x ``max_height``: the 400 x 220 card when it
    fits, else as wide as allowed with the responsive height, never larger than asked
    (the spec) nor smaller than the card can show whole (then a 404: no response)."""
    width = CARD_WIDTH if max_width is None else min(CARD_WIDTH, max_width)
    height = CARD_HEIGHT if width >= CARD_WIDTH else RESPONSIVE_HEIGHT
    if max_height is not None:
        height = min(height, max_height)
    if width < MIN_WIDTH or height < MIN_HEIGHT:
        raise OEmbedError(
            404,
            f"No card fits in {width} x {height} pixels: it needs at least "
            f"{MIN_WIDTH} x {MIN_HEIGHT}.",
        )
    return width, height


def oembed_payload(commitment, *, max_width: int | None, max_height: int | None) -> dict:
    """The oEmbed "rich" answer for a commitment, sized by ``oembed_size``. The thumbnail
    (the social preview image) is named only when it fits the consumer's maximum size, as
    the spec asks of thumbnails."""
    width, height = oembed_size(max_width, max_height)
    payload = {
        "type": "rich",
        "version": "1.0",
        "title": str(languages.translated(commitment, "title")),
        "provider_name": settings.SITE_NAME,
        "provider_url": settings.SITE_URL + "/",
        "cache_age": OEMBED_CACHE_AGE,
        "html": str(embed_snippet(commitment, width=width, height=height)),
        "width": width,
        "height": height,
    }
    fits = (max_width is None or PREVIEW_WIDTH <= max_width) and (
        max_height is None or PREVIEW_HEIGHT <= max_height
    )
    if fits:
        payload |= {
            "thumbnail_url": settings.SITE_URL
            + reverse("commitments:commitment_preview_image", args=[commitment.slug]),
            "thumbnail_width": PREVIEW_WIDTH,
            "thumbnail_height": PREVIEW_HEIGHT,
        }
    return payload
