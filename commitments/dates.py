"""Dates known only to the month or the year, stored at the start of their period.

Owns the arithmetic and the wording of vague dates (start, end, display, ISO). It must
not read the database or import the app's models: models and templates call it.
"""

from __future__ import annotations

import datetime

from django.db import models
from django.utils import dateformat
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext


class DatePrecision(models.TextChoices):
    DAY = "day", _("Day")
    MONTH = "month", _("Month")
    YEAR = "year", _("Year")


def start_of_period(value: datetime.date, precision: str) -> datetime.date:
    if precision == DatePrecision.YEAR:
        return value.replace(month=1, day=1)
    if precision == DatePrecision.MONTH:
        return value.replace(day=1)
    return value


def end_of_period(value: datetime.date, precision: str) -> datetime.date:
    """The last day a vague date could mean: 31 July 2025 for 'July 2025'."""
    if precision == DatePrecision.YEAR:
        return value.replace(month=12, day=31)
    if precision == DatePrecision.MONTH:
        next_month = (value.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
        return next_month - datetime.timedelta(days=1)
    return value


#: How a vague date is written at each precision, in Django's date format syntax: month
#: names come from Django's catalogues in the active language ("24 octobre 2025").
VAGUE_DATE_FORMATS = {DatePrecision.DAY: "j F Y", DatePrecision.MONTH: "F Y"}


def format_vague_date(value: datetime.date | None, precision: str) -> str:
    """'24 October 2025', 'October 2025' or '2025', as honestly as the date is known, in
    the active language ('24 octobre 2025', 'juillet 2025' on a French page)."""
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{value.year}"
    if precision != DatePrecision.MONTH and value.day == 1:
        # French writes the first of the month as an ordinal: "1er août 2025".
        return dateformat.format(value, pgettext("the first day of a month", "j F Y"))
    return dateformat.format(value, VAGUE_DATE_FORMATS.get(precision, "j F Y"))


def iso_vague_date(value: datetime.date | None, precision: str) -> str:
    """ISO 8601 at the known precision: 2025-10-24, 2025-10 or 2025."""
    if value is None:
        return ""
    if precision == DatePrecision.YEAR:
        return f"{value.year:04d}"
    if precision == DatePrecision.MONTH:
        return f"{value.year:04d}-{value.month:02d}"
    return value.isoformat()
