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
from django.utils import timezone
from django.utils.html import conditional_escape, format_html
from django.utils.safestring import mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import pgettext

from .. import languages, safety
from ..dates import DatePrecision, format_vague_date, iso_vague_date

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
def day(value) -> str:
    """A day (a date, or a moment in the site's time zone) written in full in the page's
    language, as a vague date known to the day is: "1 August 2025", "1er août 2025"."""
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date() if timezone.is_aware(value) else value.date()
    if not isinstance(value, datetime.date):
        return ""
    return format_vague_date(value, DatePrecision.DAY)


@register.filter
def as_of(obj, field_name: str) -> str:
    """The "as of" before ``obj``'s vague date, as the page's language writes it at that
    precision: "as of" in English; "depuis le" before a day in French, "depuis" before a
    month or a year. ``{{ commitment|as_of:"status_since" }} <time>...</time>``."""
    for name, precision in obj.vague_dates:
        if name == field_name and getattr(obj, precision) == DatePrecision.DAY:
            return pgettext("before a date known to the day", "as of")
    return _("as of")


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
    """1234.00 -> "1,234"; 12.50 -> "12.5"; in the active language's format, so a French
    page reads "1\u00a0234" (Django's French thousands separator is a no-break space)
    and "12,5"."""
    if value is None:
        return ""
    if isinstance(value, Decimal):
        value = int(value) if value == value.to_integral_value() else value.normalize()
    return intcomma(value)


# --- Two languages (issue 13; the rules are in ``languages``) ---------------------------


@register.filter
def tr(obj, field_name: str) -> languages.Translated:
    """``{{ commitment|tr:"title" }}``: the field in the page's language, else in the other
    one (plain text, escaped as usual: for attributes, titles, alt text). In the page's
    body use ``tr_marked``, which says when it fell back."""
    if obj is None:
        return languages.Translated("", languages.content_language())
    return languages.translated(obj, field_name)


def _marked(value: languages.Translated) -> str:
    if not value.fallback:
        return conditional_escape(value)
    return format_html(
        '<span lang="{}">{}</span> <small class="untranslated">{}</small>',
        value.language,
        value,
        _("(in %(language)s, not yet translated)")
        % {"language": languages.language_name(value.language)},
    )


@register.filter
def tr_marked(obj, field_name: str) -> str:
    """``{{ commitment|tr_marked:"title" }}``: as ``tr``, and a text that fell back to the
    other language is marked: wrapped in its own ``lang`` and followed by "(in English,
    not yet translated)"."""
    return _marked(tr(obj, field_name))


@register.filter
def marked_words(value, count) -> str:
    """``{{ commitment|tr:"summary"|marked_words:40 }}``: a translated text cut to
    ``count`` words, marked as ``tr_marked`` marks it when it fell back."""
    from django.utils.text import Truncator

    if not isinstance(value, languages.Translated):
        return conditional_escape(Truncator(str(value or "")).words(int(count)))
    cut = Truncator(str(value)).words(int(count))
    return _marked(languages.Translated(cut, value.language, value.fallback))


@register.filter
def attribution(statement) -> str:
    """Who said it, as the source describes them, in the page's language: "A Home Office
    spokesman (Home Office)" when both are recorded; a description that fell back to the
    other language is marked."""
    if statement is None:
        return ""
    description = tr(statement, "speaker_description")
    if statement.speaker_id and description:
        return format_html("{} ({})", _marked(description), tr(statement.speaker, "name"))
    if statement.speaker_id:
        return tr_marked(statement.speaker, "name")
    return _marked(description)


@register.filter
def without_language(path) -> str:
    """``/fr/admin/`` -> ``/admin/``: an address as the default language writes it, for a
    template that asks which part of the site it is on (``{% if request.path|without_language
    |slice:":7" == "/admin/" %}``)."""
    from ..middleware import path_without_language

    return path_without_language(str(path or ""))


@register.filter
def in_language(code) -> str:
    """``{{ source.language|in_language }}``: "(in French)" on an English page when the
    source is French, and the reverse; "" when it is in the page's language."""
    code = (code or "").lower()
    if not code or code.split("-")[0] == languages.content_language():
        return ""
    return _("(in %(language)s)") % {"language": languages.language_name(code)}


@register.simple_tag
def quote(obj, field_name: str = "text") -> str:
    """A quote in its own words and language, and beside it our translation into the
    page's language when there is one, marked as ours. ``{% quote statement %}`` (``text``,
    ``language``, ``translation_en``, ``translation_fr``) or ``{% quote commitment
    "original_wording" %}`` (``original_wording_language``,
    ``original_wording_translation_fr``, ...)."""
    prefix = "" if field_name == "text" else f"{field_name}_"
    original, ours = languages.original_and_translation(
        getattr(obj, field_name, ""),
        getattr(obj, f"{prefix}language", ""),
        {
            code: getattr(obj, f"{prefix}translation_{code}", "")
            for code, _name in languages.CONTENT_LANGUAGES
        },
    )
    own = original.language == languages.content_language()
    # Quotation marks only round words said as they were said: a paraphrase is ours, and an
    # original wording carries its own marks where it quotes.
    said = field_name == "text" and getattr(obj, "kind", "quote") == "quote"
    element = "q" if said else "span"
    html = format_html(
        '<{} lang="{}">{}</{}>{}',
        element,
        original.language,
        original,
        element,
        ""
        if own
        else format_html(
            ' <small class="quote-language">{}</small>', in_language(original.language)
        ),
    )
    if ours:
        html += format_html(
            ' <span class="our-translation" lang="{}">{} <{}>{}</{}></span>',
            ours.language,
            _("Our translation:"),
            element,
            ours,
            element,
        )
    return html


@register.filter
def change_label(revision, change) -> str:
    """``{{ revision|change_label:change }}``: a revised field's name in the page's
    language (``Revision.change_label``)."""
    return revision.change_label(change)
