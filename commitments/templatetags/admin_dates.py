"""``{% load admin_dates %}``: the admin's date drill-down for dates that may be vague.

Django's date hierarchy drills a list down to single days. Our list dates are vague
(``made_on``, ``effective_on``, ``said_on``, ``published_on``: "October 2025" is stored as
1 October), so a day level would file every month-precision record under the 1st. This
drill-down stops at the month ("October 2025", written by ``dates``). Owns that only:
no rule, no write.
"""

from __future__ import annotations

from django import template
from django.contrib.admin.templatetags.admin_list import date_hierarchy

from ..dates import DatePrecision, format_vague_date

register = template.Library()


def stops_at_month(cl) -> bool:
    """The list's date hierarchy is on a date kept with a precision."""
    return cl.date_hierarchy in dict(getattr(cl.model, "vague_dates", ()))


@register.inclusion_tag("admin/date_hierarchy.html")
def vague_date_hierarchy(cl):
    context = date_hierarchy(cl)
    if not context or not stops_at_month(cl):
        return context
    day_field = f"{cl.date_hierarchy}__day"
    if day_field in cl.params:
        return context  # a day asked for by address: shown as asked
    if any(day_field in (choice.get("link") or "") for choice in context["choices"]):
        # The month level: the month itself, not its days.
        months = cl.queryset.dates(cl.date_hierarchy, "month")
        context["choices"] = [
            {"title": format_vague_date(month, DatePrecision.MONTH)} for month in months
        ]
    return context
