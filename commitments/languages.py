"""One record, read in two languages (issue 13): which languages there are, how a field's
French version is named, and which version a reader gets.

The design, and why not django-modeltranslation:

- English is the record's base: each translated field keeps its name (``title``) and holds
  the English; the French sits beside it in ``<name>_fr`` (``title_fr``), blank until an
  editor writes it. Forms, services, revisions and django-simple-history see two ordinary
  columns, so the change history (issue 6) covers both languages with no extra code.
- Reading is explicit: ``translated(commitment, "title")`` gives the text in the active
  language and says whether it fell back to the other one, so a page can mark it
  ("in English: not yet translated"). modeltranslation's descriptors swap the value
  silently, which is what a reader must not get here, and rewrite querysets at start-up.
- Quotes are not translated fields: a statement keeps the words as they were said, in the
  language they were said (``Statement.language``), and an editor may add a translation
  per language (``translation_en``, ``translation_fr``), shown beside the original and
  marked as ours. A commitment's original wording is kept the same way.

Interface languages are Django's codes (``en-gb``, ``fr``); content languages are ISO 639-1
(``en``, ``fr``): ``content_language`` maps one to the other. This module reads no
database and imports no model: models, templates and services call it.
"""

from __future__ import annotations

from django.conf import settings
from django.core.validators import RegexValidator
from django.utils import translation
from django.utils.translation import gettext_lazy as _

#: The content languages a record is written in, with their names.
CONTENT_LANGUAGES = (("en", _("English")), ("fr", _("French")))
#: The base language: its text is in the field itself; others in ``<field>_<code>``.
BASE_LANGUAGE = "en"
#: Languages with a ``<field>_<code>`` column beside each translated field.
EXTRA_LANGUAGES = tuple(code for code, _name in CONTENT_LANGUAGES if code != BASE_LANGUAGE)

#: The fields with a French version, per model (by name, so this module imports no model).
#: Admin forms, revisions, the API and the seeds read this one list.
TRANSLATED_FIELDS: dict[str, tuple[str, ...]] = {
    "Actor": ("name", "role", "description"),
    "Topic": ("name", "description"),
    "Commitment": ("title", "summary", "made_where"),
    "Statement": ("speaker_description",),
    "StatusUpdate": ("description", "correction_note"),
    "Indicator": ("name", "description", "unit", "comparison_label"),
    "Observation": ("note",),
    "Revision": ("reason",),
}

#: A language code as stored on a source or a statement: ISO 639-1, optionally a region.
language_code_validator = RegexValidator(
    r"^[a-z]{2,3}(-[a-z]{2})?$",
    _("Use a language code such as en or fr."),
)


def content_language(code: str | None = None) -> str:
    """The content language of an interface language (``en-gb`` -> ``en``); the active one
    when ``code`` is None."""
    code = (code or translation.get_language() or settings.LANGUAGE_CODE).lower()
    return code.split("-")[0]


def interface_language(code: str) -> str:
    """The interface language serving a content language (``en`` -> ``en-gb``)."""
    for ui_code, _name in settings.LANGUAGES:
        if content_language(ui_code) == code:
            return ui_code
    return settings.LANGUAGE_CODE


def field_name(name: str, language: str) -> str:
    """``title`` in English, ``title_fr`` in French."""
    language = content_language(language)
    return name if language == BASE_LANGUAGE else f"{name}_{language}"


def language_name(code: str | None) -> str:
    """A content language's name in the active language ("French", "anglais"); the code
    itself when Django does not know it."""
    code = (code or "").lower()
    names = dict(CONTENT_LANGUAGES)
    if code.split("-")[0] in names:
        return str(names[code.split("-")[0]])
    try:
        return translation.get_language_info(code)["name_translated"]
    except KeyError:
        return code


class Translated(str):
    """Text in one language, knowing which, and whether it is a fallback: the reader asked
    for another language and it was missing. ``str`` everywhere else (escaped as usual)."""

    language: str
    fallback: bool

    def __new__(cls, text: str, language: str, fallback: bool = False):
        value = super().__new__(cls, text)
        value.language = language
        value.fallback = fallback
        return value


def translated(obj, name: str, language: str | None = None) -> Translated:
    """``obj.<name>`` in ``language`` (the active one by default), else in the other
    language, marked as a fallback. Empty (and no fallback) when neither has text."""
    wanted = content_language(language)
    order = [wanted] + [code for code, _name in CONTENT_LANGUAGES if code != wanted]
    for code in order:
        text = getattr(obj, field_name(name, code), "") or ""
        if str(text).strip():
            return Translated(str(text), code, fallback=code != wanted)
    return Translated("", wanted)


def original_and_translation(
    text: str, language: str | None, translations: dict[str, str], wanted: str | None = None
) -> tuple[Translated, Translated | None]:
    """A quote as a reader of ``wanted`` gets it: the original in its own language, and our
    translation into ``wanted`` when the quote is in another language and one exists."""
    wanted = content_language(wanted)
    language = content_language(language or BASE_LANGUAGE)
    original = Translated(text or "", language, fallback=False)
    if language == wanted:
        return original, None
    ours = (translations.get(wanted) or "").strip()
    return original, (Translated(ours, wanted) if ours else None)
