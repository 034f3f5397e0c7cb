"""Requests no page of this site can answer, refused before any view runs; and the API's
errors as JSON, whoever answered them (the URL resolver's 404, a 405)."""

from __future__ import annotations

from urllib.parse import unquote_to_bytes

from django.http import HttpResponseBadRequest, JsonResponse

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
