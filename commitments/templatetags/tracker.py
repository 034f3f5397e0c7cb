from django import template

from ..dates import format_vague_date, iso_vague_date

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


@register.simple_tag
def vague_date(value, precision) -> str:
    return format_vague_date(value, precision)
