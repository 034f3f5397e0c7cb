"""Requests no page of this site can answer, refused before any view runs."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest, JsonResponse

NUL_MESSAGE = "The address contains a NUL character (%00), which no page or parameter here uses."


def refuse_nul_bytes(get_response):
    """Answer 400 for a NUL byte anywhere in the path or the query string (raw or
    percent-encoded). PostgreSQL refuses NUL in text, so such a value would otherwise
    reach a lookup and fail there with a 500. The API's callers get JSON, as from every
    other API error; everyone else gets plain text."""

    def middleware(request):
        query = request.META.get("QUERY_STRING", "")
        if "\x00" in request.path_info or b"\x00" in unquote_to_bytes(query):
            if request.path_info.startswith("/api/"):
                return JsonResponse({"detail": NUL_MESSAGE}, status=400)
            return HttpResponseBadRequest(NUL_MESSAGE, content_type="text/plain; charset=utf-8")
        return get_response(request)

    return middleware
