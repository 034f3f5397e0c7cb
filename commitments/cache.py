"""A Redis cache that degrades to no cache when Redis fails.

Django's ``RedisCache`` raises when Redis is down or frozen, which would turn every cached
page into a 500. This subclass catches redis-py's errors (connection refused, socket
timeouts, a server answering errors), logs them, and answers as an empty cache would: a
read misses, a write is dropped. After a failure Redis is not tried again for
``retry_after`` seconds (``CACHE_RETRY_AFTER_SECONDS``), so a frozen Redis costs one socket
timeout per process per period, not one per request. Chosen over django-redis's
``IGNORE_EXCEPTIONS`` to keep Django's own backend (no new dependency) and to get the
pause after a failure, which django-redis does not have.
"""

from __future__ import annotations

import functools
import logging
import threading
import time

from django.core.cache.backends.redis import RedisCache
from redis.exceptions import RedisError

logger = logging.getLogger(__name__)


def _forgiving(answer_when_down):
    """Run the method; on a Redis error (or while paused after one) return
    ``answer_when_down(args, kwargs)``."""

    def wrap(method):
        @functools.wraps(method)
        def guarded(self, *args, **kwargs):
            if time.monotonic() < self._down_until:
                return answer_when_down(args, kwargs)
            try:
                return method(self, *args, **kwargs)
            except RedisError as exc:
                self._went_down(method.__name__, exc)
                return answer_when_down(args, kwargs)

        return guarded

    return wrap


def _default(args, kwargs):
    """What ``get`` answers on a miss: its ``default`` argument."""
    if "default" in kwargs:
        return kwargs["default"]
    return args[1] if len(args) > 1 else None


def _none(args, kwargs):
    return None


def _false(args, kwargs):
    return False


def _empty(args, kwargs):
    return {}


def _all_keys_failed(args, kwargs):
    data = args[0] if args else kwargs.get("data", {})
    return list(data)


def _missing_key(args, kwargs):
    raise ValueError("Key not found: the cache is unavailable.")


class ForgivingRedisCache(RedisCache):
    def __init__(self, server, params):
        params = dict(params)
        options = dict(params.get("OPTIONS") or {})
        self.retry_after = float(options.pop("retry_after", 10))
        params["OPTIONS"] = options
        super().__init__(server, params)
        self._down_until = 0.0
        self._lock = threading.Lock()

    def _went_down(self, operation: str, exc: Exception) -> None:
        with self._lock:
            if time.monotonic() < self._down_until:
                return
            self._down_until = time.monotonic() + self.retry_after
        logger.warning(
            "Redis cache unavailable (%s: %s: %s); serving without a cache for %g s.",
            operation,
            type(exc).__name__,
            exc,
            self.retry_after,
        )

    get = _forgiving(_default)(RedisCache.get)
    get_many = _forgiving(_empty)(RedisCache.get_many)
    set = _forgiving(_none)(RedisCache.set)
    set_many = _forgiving(_all_keys_failed)(RedisCache.set_many)
    add = _forgiving(_false)(RedisCache.add)
    touch = _forgiving(_false)(RedisCache.touch)
    delete = _forgiving(_false)(RedisCache.delete)
    delete_many = _forgiving(_none)(RedisCache.delete_many)
    has_key = _forgiving(_false)(RedisCache.has_key)
    incr = _forgiving(_missing_key)(RedisCache.incr)
    clear = _forgiving(_false)(RedisCache.clear)
