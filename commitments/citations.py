"""Citation text: a commitment's, and one per step of its timeline (a status change, a
correction, a statement, a figure), written once here so the page, its HTMX fragments and
the tests read the same words.

Each citation names the outlet (``settings.SITE_NAME``), the commitment, the step's date at
its precision and what it says, the permalink (``settings.SITE_URL`` + the commitment's
address + the step's anchor) and the day it was accessed (the day the page is rendered, in
``settings.TIME_ZONE``; the page cache rolls over at midnight for that reason, see
``caching.py``).

Returns plain text: the templates escape it like anything else editors typed. Must not
query: everything it reads is on the objects the timeline already fetched.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone
from django.utils.text import Truncator
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from . import languages
from .dates import DatePrecision, format_vague_date
from .models import Commitment, Statement, StatusUpdate
from .templatetags.tracker import number

#: Words of an editor's description kept in a step's citation.
SUMMARY_WORDS = 30


def accessed_on() -> datetime.date:
    """Today in the site's time zone: the "accessed" date of a citation rendered now."""
    return timezone.localdate()


def _one_line(text: str) -> str:
    return " ".join(str(text).split())


def _short(text: str) -> str:
    """An editor's text on one line, cut after ``SUMMARY_WORDS`` words (with an ellipsis)."""
    return Truncator(_one_line(text)).words(SUMMARY_WORDS, truncate="…")


def _day(value: datetime.date) -> str:
    return format_vague_date(value, DatePrecision.DAY)


def step_date(obj) -> str:
    """The step's date at its precision: "24 October 2025", "July 2025" or "2025"."""
    date_field, _precision = obj.vague_dates[0]
    return obj.vague(date_field)


def step_summary(obj) -> str:
    """What the step says, in one line."""
    if isinstance(obj, StatusUpdate):
        words = _("Status changed to %(status)s: %(what)s") % {
            "status": obj.get_status_display(),
            "what": _short(languages.translated(obj, "description")),
        }
        if obj.corrects_id:
            words = _("Correction (%(note)s). %(words)s") % {
                "note": _short(languages.translated(obj, "correction_note")),
                "words": words,
            }
        return words
    if isinstance(obj, Statement):
        if obj.kind == Statement.Kind.QUOTE:
            return _("%(who)s: “%(text)s”") % {
                "who": _one_line(_attribution(obj)),
                "text": _short(obj.text),
            }
        return _("%(who)s (paraphrased): %(text)s") % {
            "who": _one_line(_attribution(obj)),
            "text": _short(obj.text),
        }
    indicator = obj.indicator
    name = _one_line(languages.translated(indicator, "name"))
    unit = _one_line(languages.translated(indicator, "unit"))
    return (
        _("%(name)s: %(value)s %(unit)s") % {"name": name, "value": number(obj.value), "unit": unit}
    ).strip()


def _attribution(statement: Statement) -> str:
    """Who said it, in the page's language (``Statement.attribution``, translated)."""
    description = languages.translated(statement, "speaker_description")
    if statement.speaker_id:
        name = languages.translated(statement.speaker, "name")
        return f"{description} ({name})" if description else str(name)
    return str(description)


def _sentence(text: str) -> str:
    """Text ending with one full stop, unless it ends a quotation or a cut text already."""
    text = text.rstrip(". ")
    return text if text.endswith(("…", "!", "?", "”")) else f"{text}."


def permalink(commitment: Commitment, obj=None) -> str:
    url = settings.SITE_URL + commitment.get_absolute_url()
    return f"{url}#{obj.anchor}" if obj is not None else url


def step_citation(commitment: Commitment, obj, accessed: datetime.date) -> str:
    """One step's citation: outlet, commitment, date and summary, permalink, accessed."""
    return _("%(site)s, “%(title)s”, %(date)s: %(summary)s %(url)s (accessed %(accessed)s)") % {
        "site": settings.SITE_NAME,
        "title": _one_line(languages.translated(commitment, "title")),
        "date": step_date(obj),
        "summary": _sentence(step_summary(obj)),
        "url": permalink(commitment, obj),
        "accessed": _day(accessed),
    }


def commitment_citation(
    commitment: Commitment, *, last_changed: str, accessed: datetime.date
) -> str:
    """The whole commitment's citation: its status, when it last changed (``last_changed``,
    worded by ``selectors.commitment_last_changed``), the permalink and the access date."""
    status = commitment.get_status_display()
    if commitment.status_since:
        wording = (
            pgettext("a date known to the day", "%(status)s, as of %(date)s")
            if commitment.status_since_precision == DatePrecision.DAY
            else _("%(status)s, as of %(date)s")
        )
        status = wording % {
            "status": status,
            "date": commitment.vague("status_since"),
        }
    if last_changed:
        when = _("last changed %(changed)s; accessed %(accessed)s") % {
            "changed": last_changed,
            "accessed": _day(accessed),
        }
    else:
        when = _("accessed %(accessed)s") % {"accessed": _day(accessed)}
    return _("%(title)s. Status: %(status)s. %(site)s. %(url)s (%(when)s)") % {
        "title": _one_line(languages.translated(commitment, "title")),
        "status": status,
        "site": settings.SITE_NAME,
        "url": permalink(commitment),
        "when": when,
    }
