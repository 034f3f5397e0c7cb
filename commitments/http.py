"""Outgoing HTTP for the jobs (link checks, Save Page Now): one client with its timeout,
user agent, redirects and connection limit, and plain-words descriptions of its errors.

Owns how we talk to other sites; it must not read or write the database or decide what
an answer means (``services/links.py`` and ``services/archiving.py`` do).
"""

from __future__ import annotations

import httpx
from django.conf import settings

#: The longest error text kept on a source.
ERROR_LENGTH = 500


def web_client(*, timeout: float, concurrency: int = 1) -> httpx.Client:
    """A client that follows redirects, says who we are and gives up after ``timeout``."""
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": settings.LINK_CHECK_USER_AGENT},
        limits=httpx.Limits(max_connections=max(concurrency, 1)),
    )


def describe_error(exc: Exception) -> str:
    """A network failure in plain words, at most ``ERROR_LENGTH`` characters."""
    if isinstance(exc, httpx.TooManyRedirects):
        return "Too many redirects."
    if isinstance(exc, httpx.ConnectError):
        return f"Could not connect: {exc}"[:ERROR_LENGTH]
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]
