"""Archiving sources: asking the Wayback Machine's Save Page Now to keep a copy of each
source's page, and recording the snapshot's address (or why there is none) on the source.

Owns the conversation with Save Page Now and the archive fields of a source. It never
talks to the network inside a database transaction, and it queues work only through
``queueing.py`` (never by importing ``tasks.py``). The endpoint is a setting (tests point
it at a local server).
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx
from django.conf import settings
from django.db.models import F, Q
from django.utils import timezone

from .. import queueing
from ..http import ERROR_LENGTH, describe_error, web_client
from ..models import Source
from ..safety import same_site

SNAPSHOT_PATH = re.compile(r"/web/\d{14}[^/]*/")


@dataclass(frozen=True)
class ArchiveOutcome:
    archive_url: str = ""
    error: str = ""
    #: Seconds to wait before trying again; None when trying again would not help.
    retry_after: float | None = None

    @property
    def archived(self) -> bool:
        return bool(self.archive_url)


def _snapshot_address(response: httpx.Response, save_url: str) -> str:
    """Where Save Page Now put the snapshot: its Content-Location header, a redirect to
    /web/<timestamp>/..., or a memento Link header."""
    candidates = [response.headers.get("content-location", "")]
    candidates += [r.headers.get("location", "") for r in response.history]
    candidates.append(str(response.url))
    link = response.headers.get("link", "")
    candidates += re.findall(r"<([^>]+)>;[^,]*rel=\"?[^\",]*memento", link)
    for candidate in candidates:
        if candidate and SNAPSHOT_PATH.search(candidate):
            return urljoin(save_url, candidate)
    return ""


def _retry_after(response: httpx.Response, default: float) -> float:
    value = response.headers.get("retry-after", "")
    try:
        return max(float(value), 1.0)
    except ValueError:
        return default


def wayback_save(url: str) -> ArchiveOutcome:
    """Ask Save Page Now to archive ``url``. Never raises for the service's answers."""
    save_url = settings.WAYBACK_SAVE_URL
    try:
        with web_client(timeout=settings.WAYBACK_TIMEOUT_SECONDS) as client:
            response = client.get(save_url + url)
    except httpx.TimeoutException:
        return ArchiveOutcome(
            error=f"The Wayback Machine did not answer within "
            f"{settings.WAYBACK_TIMEOUT_SECONDS} seconds.",
            retry_after=60,
        )
    except httpx.HTTPError as exc:
        return ArchiveOutcome(
            error=f"Could not reach the Wayback Machine: {describe_error(exc)}", retry_after=60
        )
    if response.status_code == 429:
        wait = _retry_after(response, 60)
        return ArchiveOutcome(
            error=f"The Wayback Machine asked us to slow down (HTTP 429); trying again in "
            f"{wait:g} seconds.",
            retry_after=wait,
        )
    if response.status_code >= 500:
        return ArchiveOutcome(
            error=f"The Wayback Machine had a problem (HTTP {response.status_code}).",
            retry_after=_retry_after(response, 120),
        )
    if response.status_code >= 400:
        return ArchiveOutcome(
            error=f"The Wayback Machine refused to archive this address "
            f"(HTTP {response.status_code})."
        )
    snapshot = _snapshot_address(response, save_url)
    if not snapshot:
        return ArchiveOutcome(
            error="The Wayback Machine accepted the request but gave no snapshot address yet.",
            retry_after=300,
        )
    if not same_site(snapshot, save_url) or len(snapshot) > 1000:
        # Only a web address on the archive's own site becomes the "archived copy" link.
        return ArchiveOutcome(
            error=f"The Wayback Machine's answer named a snapshot address that is not a web "
            f"address on its own site ({snapshot[:200]!r}); it was not stored."
        )
    return ArchiveOutcome(archive_url=snapshot)


def source_archive(
    *, source_id: int, now: datetime.datetime | None = None
) -> ArchiveOutcome | None:
    """Archive one source and record the outcome on it: the snapshot's address, or the
    error and the attempt. None when there is nothing to do (gone, no address, archived)."""
    source = Source.objects.filter(pk=source_id).only("pk", "url", "archive_url").first()
    if source is None or not source.url or source.archive_url:
        return None
    outcome = wayback_save(source.url)
    now = now or timezone.now()
    values = {
        "archive_requested_at": now,
        "archive_attempts": F("archive_attempts") + 1,
        "archive_error": outcome.error[:ERROR_LENGTH],
    }
    if outcome.archived:
        values.update(archive_url=outcome.archive_url, archived_at=now)
    # One statement, and only while the source is not archived by a concurrent attempt.
    Source.objects.filter(pk=source_id, archive_url="").update(**values)
    return outcome


def sources_pending_archive(*, now: datetime.datetime | None = None, limit: int = 100):
    """Ids of sources with an address and no archive, not asked about in the last day."""
    now = now or timezone.now()
    return list(
        Source.objects.with_url()
        .filter(archive_url="")
        .filter(
            Q(archive_requested_at__isnull=True)
            | Q(archive_requested_at__lt=now - datetime.timedelta(days=1))
        )
        .order_by("archive_requested_at", "pk")
        .values_list("pk", flat=True)[:limit]
    )


def source_archive_enqueue(source_id: int) -> None:
    """After the current transaction commits, enqueue archiving. The editor's save never
    waits on the broker: publishing has short timeouts (``CELERY_BROKER_SOCKET_TIMEOUT``)
    and a failure is logged, not raised. The source then still has no archive and was
    never asked about (``archive_requested_at`` empty), so the archive sweep
    (``sources_pending_archive``, run by beat every ``ARCHIVE_SWEEP_EVERY_HOURS``) queues it."""
    if settings.ARCHIVE_ON_CREATE:
        _queue(source_id, on_commit=True)


def source_archive_queue(source_id: int) -> bool:
    """Queue archiving of one source now; False (logged) when the broker is unreachable."""
    return _queue(source_id, on_commit=False)


def _queue(source_id: int, *, on_commit: bool):
    send = queueing.enqueue_on_commit if on_commit else queueing.enqueue_now
    return send(
        queueing.ARCHIVE_SOURCE,
        source_id,
        what=f"archiving of source {source_id}",
        fallback="the archive sweep will",
    )
