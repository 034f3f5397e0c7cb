"""``{% load tracker %}``: how the templates write what the models store: a vague date at
its precision ("July 2025") and as ISO 8601, a stored address only when it may be a link,
a figure with its thousands separated.

Owns these filters only: no queries, no charts (``charts``), no rules about what is
public (``querysets.py``).
"""

import datetime
from decimal import Decimal

from django import template
from django.contrib.humanize.templatetags.humanize import intcomma
from django.utils.safestring import mark_safe

from .. import safety
from ..dates import iso_vague_date

register = template.Library()


@register.filter
def vague(obj, field_name: str) -> str:
    """``{{ commitment|vague:"made_on" }}`` -> "July 2025", at the date's own precision."""
    return obj.vague(field_name)


@register.filter
def vague_iso(obj, field_name: str) -> str:
    """The same date as ISO 8601 at its precision, for ``<time datetime>``."""
    for name, precision in obj.vague_dates:
        if name == field_name:
            return iso_vague_date(getattr(obj, name), getattr(obj, precision))
    return ""


@register.filter
def iso_datetime(value) -> str:
    """A moment (a datetime, or one written as ISO 8601) for ``<time datetime>``: to the
    second, with its offset. HTML allows at most three digits of a second, Python's
    ``isoformat()`` writes six. "" for anything that is not a moment."""
    if isinstance(value, str):
        try:
            value = datetime.datetime.fromisoformat(value)
        except ValueError:
            return ""
    if not isinstance(value, datetime.datetime):
        return ""
    return value.replace(microsecond=0).isoformat()


@register.filter
def highlighted(value) -> str:
    """A search headline with its matched words in ``<mark>``, everything else escaped
    (``safety.highlighted_html``): ``{{ match.text|highlighted }}``."""
    return mark_safe(safety.highlighted_html(str(value or "")))  # noqa: S308 (escaped first)


@register.filter
def safe_href(value) -> str:
    """A stored address only when it may be a link: http(s), else "" (see ``safety``).
    ``{% if source.url|safe_href %}<a href="{{ source.url|safe_href }}">``."""
    return safety.safe_href(value)


@register.filter
def number(value) -> str:
    """1234.00 -> "1,234"; 12.50 -> "12.5"."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else value.normalize()
    return intcomma(value)
