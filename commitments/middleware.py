"""Requests no page of this site can answer, refused before any view runs; the API's
errors as JSON, whoever answered them (the URL resolver's 404, a 405); and a plain 503
when the database is unavailable."""

from __future__ import annotations

import logging
from urllib.parse import unquote_to_bytes

from django.conf import settings
from django.db import DEFAULT_DB_ALIAS, InterfaceError, OperationalError, connections
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse

from .db_watchdog import Watchdog

logger = logging.getLogger(__name__)

API_PREFIX = "/api/"

NUL_MESSAGE = "The address contains a NUL character (%00), which no page or parameter here uses."


def refuse_nul_bytes(get_response):
    """Answer 400 for a NUL byte anywhere in the path or the query string (raw or
    percent-encoded). PostgreSQL refuses NUL in text, so such a value would otherwise
    reach a lookup and fail there with a 500. The API's callers get JSON, as from every
    other API error; everyone else gets plain text."""

    def middleware(request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or b"\x00" in unquote_to_bytes(query):
            if request.path_info.startswith(API_PREFIX):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware


def api_errors_as_json(get_response):
    """An error answered under ``/api/`` by something other than the API itself (no such
    address, a method other than GET) is turned into the API's own shape,
    ``{"detail": ...}``, with the same status and ``Allow`` header."""

    def middleware(request):
        response = get_response(request)
        if (
            request.path_info.startswith(API_PREFIX)
            and response.status_code >= 400
            and not response.get("Content-Type", "").startswith("application/json")
        ):
            json = JsonResponse({"detail": response.reason_phrase}, status=response.status_code)
            if response.has_header("Allow"):
                json["Allow"] = response["Allow"]
            return json
        return response

    return middleware


DATABASE_UNAVAILABLE_HTML = b"""<!doctype html>
<html lang="en">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
<meta name="robots" content="noindex"><title>Temporarily unavailable</title></head>
<body style="font-family: sans-serif; max-width: 36em; margin: 3em auto; padding: 0 1em">
<h1>Temporarily unavailable</h1>
<p>The commitment tracker cannot reach its database just now. Nothing is lost: please try
again in a minute.</p>
</body>
</html>
"""
#: Seconds a client is asked to wait before trying again.
RETRY_AFTER_SECONDS = 30


class DatabaseDeadlineMiddleware:
    """First of all: a request still waiting on the database after
    ``DB_REQUEST_DEADLINE_SECONDS`` has its connection cut (``db_watchdog``), so a server
    frozen under an open connection fails the request fast (the 503 below) instead of
    holding it, and its worker, for ever."""

    def __init__(self, get_response):
        self.get_response = get_response
        seconds = settings.DB_REQUEST_DEADLINE_SECONDS
        self.watchdog = Watchdog(seconds) if seconds > 0 else None

    def __call__(self, request):
        if self.watchdog is None:
            return self.get_response(request)
        token = self.watchdog.arm(connections[DEFAULT_DB_ALIAS])
        try:
            return self.get_response(request)
        finally:
            self.watchdog.disarm(token)


class DatabaseUnavailableMiddleware:
    """A database that is down, frozen (the connect timeout expired) or too slow (the
    statement timeout cancelled a query) gives a fast, plain 503 with ``Retry-After``,
    not a 500: a small static page, no template and no query. Static files never get here
    (whitenoise answers them earlier, without the database). The next request connects
    afresh (a broken connection is dropped: ``CONN_HEALTH_CHECKS``), so the site recovers
    by itself when the database does."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        if not isinstance(exception, (OperationalError, InterfaceError)):
            return None
        return database_unavailable(request, exception)


def database_unavailable(request, exception: Exception) -> HttpResponse:
    """The plain 503 for a request that met an unavailable database (logged): JSON under
    the API, a small static page elsewhere, with ``Retry-After`` and never cached."""
    logger.error(
        "Database unavailable for %s %s: %s: %s",
        request.method,
        request.path,
        type(exception).__name__,
        exception,
    )
    if request.path_info.startswith(API_PREFIX):
        response = JsonResponse(
            {"detail": "The database is unavailable; try again shortly."}, status=503
        )
    else:
        response = HttpResponse(
            DATABASE_UNAVAILABLE_HTML, status=503, content_type="text/html; charset=utf-8"
        )
    response["Retry-After"] = str(RETRY_AFTER_SECONDS)
    response["Cache-Control"] = "no-store"
    return response


def path_without_language(path: str) -> str:
    """``/fr/admin/`` -> ``/admin/``: the address as the default language writes it, for
    rules that name a part of the site (the admin is private in every language)."""
    from django.utils.translation import get_language_from_path

    language = get_language_from_path(path)
    if language and path.startswith(f"/{language}/"):
        return path[len(language) + 1 :]
    return path


class UrlLanguageMiddleware:
    """The language of every answer comes from its address alone: ``/fr/...`` is French,
    anything else English (``LANGUAGE_CODE``). First in ``MIDDLEWARE``, so the page cache's
    keys and ETags are made in the language the page is rendered in.

    Django's ``LocaleMiddleware`` also reads Accept-Language and a cookie and then adds
    ``Vary: Accept-Language``, which would split every cached public page by browser
    settings; here the address decides, so the same address is always the same page and
    readers choose with the language switch on every page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        from django.utils import translation

        language = translation.get_language_from_path(request.path_info) or (settings.LANGUAGE_CODE)
        translation.activate(language)
        request.LANGUAGE_CODE = language
        try:
            response = self.get_response(request)
            response.headers.setdefault("Content-Language", language)
            if response.streaming and not response.is_async:
                # A streamed body (an export) is written after this returns: in its language.
                response.streaming_content = _in_language(language, response.streaming_content)
            return response
        finally:
            # Nothing of this request's language stays on the thread for whatever runs next
            # on it (a test, a task run eagerly).
            translation.deactivate()


def _in_language(language: str, chunks):
    from django.utils import translation

    with translation.override(language):
        yield from chunks
