"""HTTP caching of everything public, always right: one middleware, first in the stack.

Every public answer (pages, HTMX fragments, feeds, sitemap, robots.txt, exports, the API)
that is a 200 gets ``Cache-Control: public, max-age=PUBLIC_MAX_AGE,
stale-while-revalidate=PUBLIC_STALE_WHILE_REVALIDATE``, a weak ``ETag`` and a
``Last-Modified``, and a conditional repeat (``If-None-Match``, ``If-Modified-Since``) is
answered 304 before any view runs. Rendered pages are kept in Django's cache (Redis, or
the file cache every process shares: see settings), except downloads, streams and big
bodies.

Freshness comes from one number, the public version (``PublicVersion``): database
triggers (migration 0009) bump it in the same transaction as any write to a table the
public reads. Each request reads it (one query), and both the ETag and the server cache
key contain it, so a committed write makes the next request on every process miss, with
no cache deletes. ``PUBLIC_VERSION_SECONDS`` (default 0: read on every request) lets a
process reuse the number it read for that many seconds: then a write shows up to that
many seconds late on that process.

Never cached, anywhere: requests from a signed-in session or carrying messages (staff:
``Cache-Control: private, no-store``, no validators, the cache neither read nor written),
answers that set a cookie, answers a view marked private or no-store (a draft preview),
anything but GET and HEAD, anything under ``/admin/`` or the static files, any status but
200.

A day is part of every answer's identity too (``public_day``): the commitment page's
citations say "accessed <today>", so the ETag, the server cache key and Last-Modified
(never before the day's midnight, in ``TIME_ZONE``) roll over at midnight, and a page kept
from yesterday is never served or revalidated as today's.
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import time
from contextvars import ContextVar

from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError, InterfaceError, OperationalError
from django.http import HttpRequest, HttpResponse
from django.utils import timezone
from django.utils.cache import (
    get_cache_key,
    get_conditional_response,
    learn_cache_key,
    patch_cache_control,
    patch_vary_headers,
)
from django.utils.http import http_date
from django.utils.translation import get_language

from .middleware import database_unavailable, path_without_language

logger = logging.getLogger(__name__)

#: Request headers a public answer may depend on besides its address: HTMX asks the same
#: address for a fragment. Every public answer names them in ``Vary``.
VARY_ON = ("HX-Request", "HX-History-Restore-Request")
#: Never public: the editors' side and the static files (whitenoise has its own headers).
PRIVATE_PREFIXES = ("/admin/",)
#: The server cache keeps a rendered answer this long; a write makes it unreachable
#: earlier (its key holds the version).
SERVER_CACHE_SECONDS = 60 * 60
#: Bodies over this size are not kept in the server cache (exports; they stream).
SERVER_CACHE_MAX_BYTES = 1024 * 1024
KEY_PREFIX = "public"


# --- The version ----------------------------------------------------------------------


class _Memo:
    """The last version this process read (shared by its threads)."""

    value: tuple[int, datetime.datetime] | None = None
    read_at: float = 0.0


_memo = _Memo()

#: The version a public request read first, kept for the rest of that request: its ETag,
#: its cache key and what it renders (``per_version``) agree, at one query a request.
_pinned: ContextVar[tuple[int, datetime.datetime] | None] = ContextVar("pinned", default=None)


def public_version() -> tuple[int, datetime.datetime] | None:
    """The current public version and when it last changed; None when the row is missing
    (a database just emptied: nothing is cached until the next write creates it)."""
    from .models import PublicVersion

    pinned = _pinned.get()
    if pinned is not None:
        return pinned
    seconds = settings.PUBLIC_VERSION_SECONDS
    now = time.monotonic()
    if seconds > 0 and _memo.value is not None and now - _memo.read_at < seconds:
        return _memo.value
    value = PublicVersion.objects.filter(pk=1).values_list("version", "changed_at").first()
    _memo.value, _memo.read_at = value, now
    return value


_by_version: dict[str, tuple[tuple, object]] = {}


def per_version(key: str, compute):
    """``compute()`` once per public version in this process, then its value until the
    next public write: for what every page shows the same way whoever asks (the list's
    actor and topic menus), so a page that is not cached still skips rebuilding it.
    The version's number and time together are the key, so a rolled-back write (a test's
    transaction) never serves another write's value."""
    version = public_version()
    if version is None:
        return compute()
    key = f"{key}:{get_language()}"  # names and labels are in the reader's language
    hit = _by_version.get(key)
    if hit is not None and hit[0] == version:
        return hit[1]
    value = compute()
    _by_version[key] = (version, value)
    return value


def lock_public_version() -> None:
    """Lock the public version's row until the transaction ends (PostgreSQL).

    Every write to a public table locks it (its trigger runs before the statement), and a
    writer holds it until commit. A transaction that locks rows itself
    (``select_for_update``) and writes afterwards calls this first: locks are then always
    taken version first, and two writers wait for each other instead of deadlocking
    (an editor's save locking a commitment while the stall job, holding the version,
    checks a flag's reference to that commitment)."""
    from django.db import connection

    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1 FROM commitments_publicversion WHERE id = 1 FOR UPDATE")


# --- The middleware -------------------------------------------------------------------


def is_public(request: HttpRequest) -> bool:
    path = path_without_language(request.path_info)
    return (
        request.method in ("GET", "HEAD")
        and not path.startswith(PRIVATE_PREFIXES)
        and not path.startswith("/" + settings.STATIC_URL.lstrip("/"))
    )


def is_staff_request(request: HttpRequest) -> bool:
    """A signed-in session (only staff have accounts) or pending messages: never served
    from a cache, never stored. Decided from the cookies, so an anonymous reader costs no
    session query."""
    return (
        settings.SESSION_COOKIE_NAME in request.COOKIES
        or getattr(settings, "MESSAGES_COOKIE_NAME", "messages") in request.COOKIES
    )


def private_no_store(response: HttpResponse) -> HttpResponse:
    for header in ("ETag", "Last-Modified", "Expires"):
        if header in response:
            del response[header]
    response["Cache-Control"] = "private, no-store"
    return response


def public_day() -> tuple[str, int]:
    """Today in ``TIME_ZONE``, for the validators and the cache key, and its midnight as a
    timestamp: what a page renders may name today's date (a citation's access date)."""
    today = timezone.localdate()
    midnight = timezone.make_aware(datetime.datetime.combine(today, datetime.time.min))
    return f"{today:%Y%m%d}", int(midnight.timestamp())


def version_stamp(version: int, changed_at: datetime.datetime) -> str:
    """The public version as caches name it: its number and the moment it was bumped. The
    number alone could come round again (a database restored from a backup, or emptied
    and filled again, as each test run does), and a cache or a browser would then take
    an old page for the current one."""
    return f"{version}.{int(changed_at.timestamp() * 1_000_000):x}"


def etag_for(request: HttpRequest, version: str) -> str:
    """A weak ETag: the version's stamp and this answer's identity (address, the headers public
    answers vary on, the language). Weak, because exports stamp the time they were made
    and compression may change the bytes: the same version means the same content."""
    identity = "\n".join(
        [
            request.build_absolute_uri(),
            *(request.headers.get(name, "") for name in VARY_ON),
            get_language() or "",
        ]
    )
    digest = hashlib.blake2b(identity.encode(), digest_size=8).hexdigest()
    return f'W/"{version}-{digest}"'


def public_headers(response: HttpResponse, etag: str, last_modified: int) -> HttpResponse:
    patch_vary_headers(response, VARY_ON)
    patch_cache_control(
        response,
        public=True,
        max_age=settings.PUBLIC_MAX_AGE,
        stale_while_revalidate=settings.PUBLIC_STALE_WHILE_REVALIDATE,
    )
    if not response.has_header("ETag"):
        response["ETag"] = etag  # a view's own ETag (a content hash: the preview image) stays
    # Never later than the answer itself (RFC 9110, 8.8.2.1); while changed_at is ahead of
    # the clock (many writes in a few seconds) the date sent is now, which only means
    # fewer 304s.
    response["Last-Modified"] = http_date(min(last_modified, int(time.time())))
    return response


def _storable(response: HttpResponse) -> bool:
    """Kept in the server cache: whole pages, not streams, downloads or big bodies."""
    return not (
        response.streaming
        or response.has_header("Content-Disposition")
        or len(response.content) > SERVER_CACHE_MAX_BYTES
    )


def _cache_call(method, *args):
    """The cache is an optimisation: when it fails, the page is rendered as if it missed."""
    try:
        return method(*args)
    except Exception:  # noqa: BLE001 (any backend's error degrades to no cache)
        logger.warning("Page cache unavailable", exc_info=True)
        return None


class PublicCacheMiddleware:
    """First in ``MIDDLEWARE``: it sees the final answer, cookies and all, and a cached
    answer skips everything below it."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not is_public(request):
            return self.get_response(request)
        if is_staff_request(request):
            response = self.get_response(request)
            if response.status_code < 400:
                private_no_store(response)
            return response

        try:
            current = public_version()
        except (OperationalError, InterfaceError) as exc:
            # Down or frozen: the plain 503 now, rather than a second wait for the same
            # database in the view below.
            return database_unavailable(request, exc)
        except DatabaseError:
            current = None  # e.g. not migrated yet: no cache, the view decides
        if current is None:
            return self.get_response(request)
        token = _pinned.set(current)
        try:
            return self._answer(request, current)
        finally:
            _pinned.reset(token)

    def _answer(self, request: HttpRequest, current: tuple) -> HttpResponse:
        version, changed_at = current
        day, midnight = public_day()
        stamp = f"{version_stamp(version, changed_at)}.{day}"
        etag = etag_for(request, stamp)
        last_modified = max(int(changed_at.timestamp()), midnight)

        if request.headers.get("If-None-Match", "").strip() != "*":
            conditional = get_conditional_response(request, etag=etag, last_modified=last_modified)
            if conditional is not None:
                if conditional.status_code == 304:
                    public_headers(conditional, etag, last_modified)
                return conditional

        key_prefix = f"{KEY_PREFIX}.{stamp}"
        use_cache = settings.PUBLIC_CACHE
        key = _cache_call(get_cache_key, request, key_prefix, "GET", cache) if use_cache else None
        if key is not None:
            cached = _cache_call(cache.get, key)
            if cached is not None:
                cached["X-Cache"] = "hit"
                return cached

        response = self.get_response(request)
        if response.status_code != 200:
            return response
        cache_control = response.get("Cache-Control", "")
        if "immutable" in cache_control:
            return response  # a dated file (a /data/ snapshot) keeps its own long lifetime
        if response.cookies or "private" in cache_control or "no-store" in cache_control:
            return private_no_store(response)
        # A view's own ETag (the preview image's content hash): it answers If-None-Match
        # itself and keeps its own cache, so the page cache leaves it alone.
        own_etag = response.has_header("ETag")
        public_headers(response, etag, last_modified)
        if use_cache and request.method == "GET" and not own_etag and _storable(response):
            if hasattr(response, "render") and callable(response.render):
                response.render()
            # One chunk, not one per write() (a feed is written in thousands of pieces, and
            # each hit would hand the server every piece on its own).
            response.content = response.content
            key = _cache_call(
                learn_cache_key, request, response, SERVER_CACHE_SECONDS, key_prefix, cache
            )
            if key is not None:
                _cache_call(cache.set, key, response, SERVER_CACHE_SECONDS)
        response["X-Cache"] = "miss"
        return response
