"""Sources on the web: checking that their addresses still answer, and asking the Wayback
Machine's Save Page Now to archive them.

Neither talks to the network inside a database transaction: the requests are made first,
then the results are written in one short transaction per batch. Both endpoints are
settings (tests point them at a local server).
"""

from __future__ import annotations

import datetime
import logging
import re
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urljoin

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from ..caching import lock_public_version
from ..models import FlagReason, Source
from ..safety import is_web_address, same_site

logger = logging.getLogger(__name__)

ERROR_LENGTH = 500
SNAPSHOT_PATH = re.compile(r"/web/\d{14}[^/]*/")


# --- Link checks ------------------------------------------------------------------------


@dataclass(frozen=True)
class LinkCheckResult:
    ok: bool
    status: int | None = None
    final_url: str = ""
    error: str = ""


def _client(*, timeout: float, concurrency: int = 1) -> httpx.Client:
    return httpx.Client(
        timeout=timeout,
        follow_redirects=True,
        headers={"User-Agent": settings.LINK_CHECK_USER_AGENT},
        limits=httpx.Limits(max_connections=max(concurrency, 1)),
    )


def link_check(url: str, *, client: httpx.Client) -> LinkCheckResult:
    """Request one address: HEAD, and GET when HEAD is refused or answered with an error
    (many sites answer HEAD badly). Redirects are followed. 2xx after redirects is online."""
    timeout = client.timeout.read
    try:
        response = client.head(url)
        status, final_url = response.status_code, str(response.url)
        head_error = ""
    except httpx.TimeoutException:
        return LinkCheckResult(ok=False, error=f"No answer within {timeout:g} seconds.")
    except httpx.HTTPError as exc:
        status, final_url, head_error = None, "", _describe(exc)
    if status is None or status >= 400:
        try:
            with client.stream("GET", url) as response:  # the body is not downloaded
                status, final_url = response.status_code, str(response.url)
        except httpx.TimeoutException:
            return LinkCheckResult(ok=False, error=f"No answer within {timeout:g} seconds.")
        except httpx.HTTPError as exc:
            return LinkCheckResult(ok=False, error=_describe(exc) or head_error)
    if not is_web_address(final_url):
        final_url = ""  # only a web address is kept (and may become a link)
    if 200 <= status < 300:
        return LinkCheckResult(ok=True, status=status, final_url=final_url)
    return LinkCheckResult(
        ok=False, status=status, final_url=final_url, error=f"The site answered HTTP {status}."
    )


def _describe(exc: Exception) -> str:
    if isinstance(exc, httpx.TooManyRedirects):
        return "Too many redirects."
    if isinstance(exc, httpx.ConnectError):
        return f"Could not connect: {exc}"[:ERROR_LENGTH]
    return f"{type(exc).__name__}: {exc}"[:ERROR_LENGTH]


def links_check(
    urls: Iterable[str], *, concurrency: int | None = None
) -> dict[str, LinkCheckResult]:
    """Check many addresses, at most ``concurrency`` at a time."""
    urls = list(dict.fromkeys(urls))
    concurrency = concurrency or settings.LINK_CHECK_CONCURRENCY
    with (
        _client(timeout=settings.LINK_CHECK_TIMEOUT_SECONDS, concurrency=concurrency) as client,
        ThreadPoolExecutor(max_workers=max(1, min(concurrency, len(urls) or 1))) as pool,
    ):
        return dict(
            zip(urls, pool.map(lambda url: link_check(url, client=client), urls), strict=True)
        )


@dataclass
class LinkCheckReport:
    checked: int = 0
    ok: int = 0
    failing: int = 0
    unavailable: int = 0
    flags_raised: int = 0
    flags_resolved: int = 0
    by_source: dict[int, LinkCheckResult] = field(default_factory=dict, repr=False)

    def __str__(self) -> str:
        return (
            f"{self.checked} checked: {self.ok} online, {self.failing} failing, "
            f"{self.unavailable} unavailable; sources-unavailable flags: "
            f"{self.flags_raised} raised, {self.flags_resolved} resolved"
        )


@transaction.atomic
def source_link_results_record(
    *, results: dict[int, LinkCheckResult], now: datetime.datetime
) -> list[Source]:
    """Write check results (by source id) in one statement. A source failing
    ``LINK_CHECK_UNAVAILABLE_AFTER`` checks in a row becomes unavailable; one success
    makes it online again."""
    lock_public_version()
    sources = list(Source.objects.select_for_update().filter(pk__in=results).order_by("pk"))
    for source in sources:
        result = results[source.pk]
        source.last_checked_at = now
        source.last_http_status = result.status
        source.final_url = result.final_url[:1000] if is_web_address(result.final_url) else ""
        source.last_check_error = result.error[:ERROR_LENGTH]
        if result.ok:
            source.consecutive_failures = 0
            source.link_status = Source.LinkStatus.OK
        else:
            source.consecutive_failures = min(source.consecutive_failures + 1, 32767)
            source.link_status = (
                Source.LinkStatus.UNAVAILABLE
                if source.consecutive_failures >= settings.LINK_CHECK_UNAVAILABLE_AFTER
                else Source.LinkStatus.FAILING
            )
    Source.objects.bulk_update(
        sources,
        [
            "last_checked_at",
            "last_http_status",
            "final_url",
            "last_check_error",
            "consecutive_failures",
            "link_status",
        ],
    )
    return sources


def sources_due_for_check(*, now: datetime.datetime):
    recheck = datetime.timedelta(hours=settings.LINK_CHECK_RECHECK_AFTER_HOURS)
    return (
        Source.objects.with_url()
        .filter(Q(last_checked_at__isnull=True) | Q(last_checked_at__lt=now - recheck))
        .order_by("pk")
    )


def sources_check_links(
    *,
    source_ids: Iterable[int] | None = None,
    now: datetime.datetime | None = None,
    batch_size: int = 50,
) -> LinkCheckReport:
    """Check every source with an address that is due (or the given ones), in batches,
    each written when done: a run cut short resumes where it stopped. Then bring the
    *sources unavailable* flags in step."""
    from .flags import flags_refresh

    report = LinkCheckReport()
    started = now or timezone.now()
    if source_ids is not None:
        queryset = Source.objects.with_url().filter(pk__in=list(source_ids)).order_by("pk")
    else:
        queryset = sources_due_for_check(now=started)
    last_pk = 0
    while True:
        batch = list(queryset.filter(pk__gt=last_pk).values_list("pk", "url")[:batch_size])
        if not batch:
            break
        last_pk = batch[-1][0]
        by_url = links_check(url for _pk, url in batch)
        results = {pk: by_url[url] for pk, url in batch}
        for source in source_link_results_record(results=results, now=now or timezone.now()):
            report.checked += 1
            report.by_source[source.pk] = results[source.pk]
            if source.link_status == Source.LinkStatus.OK:
                report.ok += 1
            elif source.link_status == Source.LinkStatus.FAILING:
                report.failing += 1
            else:
                report.unavailable += 1
    flags = flags_refresh(reasons=[FlagReason.SOURCES_UNAVAILABLE])
    report.flags_raised = flags.raised[FlagReason.SOURCES_UNAVAILABLE]
    report.flags_resolved = flags.resolved[FlagReason.SOURCES_UNAVAILABLE]
    return report


# --- Archiving --------------------------------------------------------------------------


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
        with _client(timeout=settings.WAYBACK_TIMEOUT_SECONDS) as client:
            response = client.get(save_url + url)
    except httpx.TimeoutException:
        return ArchiveOutcome(
            error=f"The Wayback Machine did not answer within "
            f"{settings.WAYBACK_TIMEOUT_SECONDS} seconds.",
            retry_after=60,
        )
    except httpx.HTTPError as exc:
        return ArchiveOutcome(
            error=f"Could not reach the Wayback Machine: {_describe(exc)}", retry_after=60
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
    if not settings.ARCHIVE_ON_CREATE:
        return
    transaction.on_commit(lambda: _archive_enqueue_now(source_id), robust=True)


def _archive_enqueue_now(source_id: int) -> bool:
    from ..tasks import archive_source

    try:
        archive_source.delay(source_id)
    except Exception as exc:  # noqa: BLE001 - kombu and redis-py raise many kinds
        logger.warning(
            "Could not queue archiving of source %s (%s: %s); the archive sweep will.",
            source_id,
            type(exc).__name__,
            exc,
        )
        return False
    return True
