"""schema.org JSON-LD for a commitment page: the promise as a ``Claim`` (its words, who made
it, when, where it appeared) reviewed by the site in a ``ClaimReview`` whose rating is the
editors' current verdict, dated by the commitment's last change.

Owns the shape of that data and its safe writing inside ``<script>``. Must not query:
it reads what the page already fetched (roles with their actors, ``made_in``), and the
last change comes from ``selectors.commitment_last_changed``.

The script is a data block (``type="application/ld+json"``): browsers never run it, so the
Content-Security-Policy (``script-src 'self'``, no nonce) does not apply to it.
"""

from __future__ import annotations

import datetime
import json

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.utils import timezone
from django.utils.html import format_html
from django.utils.safestring import SafeString

from . import languages, safety
from .dates import iso_vague_date
from .models import Actor, Commitment
from .schemas import absolute_url
from .vocabulary import ActorRole

#: What would let text end the ``<script>`` element or open a comment in it, written as
#: JSON escapes instead (the same as Django's ``json_script``).
_SCRIPT_ESCAPES = {ord(">"): "\\u003E", ord("<"): "\\u003C", ord("&"): "\\u0026"}


def _actor(actor: Actor) -> dict:
    kind = "Person" if actor.kind == Actor.Kind.PERSON else "Organization"
    data = {
        "@type": kind,
        "name": str(languages.translated(actor, "name")),
        "url": absolute_url(actor.get_absolute_url()),
    }
    if kind == "Person" and actor.role:
        data["jobTitle"] = str(languages.translated(actor, "role"))
    return data


def commitment_claim_review(
    commitment: Commitment, *, last_changed: tuple[datetime.date, str] | None
) -> dict:
    """The ``ClaimReview`` of ``commitment`` as a dict ready for JSON."""
    page_url = absolute_url(commitment.get_absolute_url())
    made = iso_vague_date(commitment.made_on, commitment.made_precision)
    title = str(languages.translated(commitment, "title"))
    claim = {
        "@type": "Claim",
        "name": title,
        # The promise's own words, in the language they were given in, else our summary.
        "text": commitment.original_wording or str(languages.translated(commitment, "summary")),
        "author": [
            _actor(role.actor) for role in commitment.roles.all() if role.role == ActorRole.MADE_BY
        ],
        "datePublished": made,
        "dateCreated": made,
    }
    if commitment.original_wording and commitment.original_wording_language:
        claim["inLanguage"] = commitment.original_wording_language
    source = commitment.made_in
    if source is not None:
        appearance = {"@type": "CreativeWork", "name": source.title}
        if safety.safe_href(source.url):
            appearance["url"] = source.url
        if source.outlet:
            appearance["publisher"] = {"@type": "Organization", "name": source.outlet}
        claim["appearance"] = appearance
    review = {
        "@context": "https://schema.org",
        "@type": "ClaimReview",
        "url": page_url,
        "inLanguage": languages.content_language(),
        "claimReviewed": title,
        "itemReviewed": claim,
        "author": {"@type": "Organization", "name": settings.SITE_NAME, "url": settings.SITE_URL},
        "reviewRating": {
            "@type": "Rating",
            "alternateName": str(commitment.get_status_display()),
        },
    }
    if commitment.published_at:
        review["datePublished"] = timezone.localtime(commitment.published_at).date().isoformat()
    if last_changed is not None:
        review["dateModified"] = iso_vague_date(*last_changed)
    return review


def json_ld_script(data: dict) -> SafeString:
    """``data`` in a ``<script type="application/ld+json">``, with ``<``, ``>`` and ``&``
    escaped so nothing an editor typed can end the element."""
    text = json.dumps(data, cls=DjangoJSONEncoder, ensure_ascii=False, indent=None)
    return format_html(
        '<script type="application/ld+json">{}</script>',
        SafeString(text.translate(_SCRIPT_ESCAPES)),
    )
