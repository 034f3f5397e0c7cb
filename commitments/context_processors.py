"""Template context every page gets: the site's name and public address.

Owns: handing settings to templates. Must not define them: ``SITE_NAME`` and ``SITE_URL``
live in settings, where the API, the feeds and the exports read them too.
"""

from django.conf import settings


def site(request):
    return {"SITE_NAME": settings.SITE_NAME, "SITE_URL": settings.SITE_URL}


def _in_language(path: str, code: str) -> str:
    """``path`` (with its query string) in language ``code``: Django's ``translate_url``
    for an address that resolves, else the same address under the other prefix (a 404)."""
    from django.urls import translate_url

    from .middleware import path_without_language

    translated = translate_url(path, code)
    if translated != path or code == get_language():
        return translated
    bare = path_without_language(path)
    return bare if code == settings.LANGUAGE_CODE else f"/{code}{bare}"


def get_language():
    from django.utils.translation import get_language as active

    return active() or settings.LANGUAGE_CODE


def languages(request):
    """The language switch and the alternates every page links (issue 13): for each
    language, this same page's address in it (``url``: the query string kept, so a
    filtered list stays filtered) and its canonical address (``absolute_url``, for
    ``hreflang``); ``og_locale`` for Open Graph. Pages outside the translated addresses
    (the API) get the unprefixed address."""
    from django.utils.text import capfirst
    from django.utils.translation import get_language_info

    current = get_language()
    full_path = request.get_full_path() if request is not None else "/"
    path = request.path if request is not None else "/"
    links = []
    for code, _name in settings.LANGUAGES:
        links.append(
            {
                "code": code,
                "name": capfirst(get_language_info(code.split("-")[0])["name_local"]),
                "url": _in_language(full_path, code),
                "absolute_url": settings.SITE_URL.rstrip("/") + _in_language(path, code),
                "current": code == current,
                "og_locale": OG_LOCALES.get(code, code.replace("-", "_")),
            }
        )
    return {
        "LANGUAGE_LINKS": links,
        "OG_LOCALE": OG_LOCALES.get(current, current.replace("-", "_")),
    }


#: Open Graph names locales language_TERRITORY.
OG_LOCALES = {"en-gb": "en_GB", "fr": "fr_FR"}
