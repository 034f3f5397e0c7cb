"""Link checks: whether each source's address still answers, recorded on the source, and
the *sources unavailable* flags brought in step afterwards through the flags service.

Owns the check of one address, of many at once, and a source's link-health fields. It never
talks to the network inside a database transaction (the requests are made first, then the
results are written in one short transaction per batch); it does not archive
(``services/archiving.py``) or decide a flag rule (``services/flags.py``). The user agent
and timeouts are settings (tests point the checks at a local server).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

import httpx
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from ..caching import lock_public_version
from ..http import ERROR_LENGTH, describe_error, web_client
from ..models import FlagReason, Source
from ..safety import is_web_address
from .flags import flags_refresh


@dataclass(frozen=True)
class LinkCheckResult:
    ok: bool
    status: int | None = None
    final_url: str = ""
    error: str = ""


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
        status, final_url, head_error = None, "", describe_error(exc)
    if status is None or status >= 400:
        try:
            with client.stream("GET", url) as response:  # the body is not downloaded
                status, final_url = response.status_code, str(response.url)
        except httpx.TimeoutException:
            return LinkCheckResult(ok=False, error=f"No answer within {timeout:g} seconds.")
        except httpx.HTTPError as exc:
            return LinkCheckResult(ok=False, error=describe_error(exc) or head_error)
    if not is_web_address(final_url):
        final_url = ""  # only a web address is kept (and may become a link)
    if 200 <= status < 300:
        return LinkCheckResult(ok=True, status=status, final_url=final_url)
    return LinkCheckResult(
        ok=False, status=status, final_url=final_url, error=f"The site answered HTTP {status}."
    )


def links_check(
    urls: Iterable[str], *, concurrency: int | None = None
) -> dict[str, LinkCheckResult]:
    """Check many addresses, at most ``concurrency`` at a time."""
    urls = list(dict.fromkeys(urls))
    concurrency = concurrency or settings.LINK_CHECK_CONCURRENCY
    with (
        web_client(timeout=settings.LINK_CHECK_TIMEOUT_SECONDS, concurrency=concurrency) as client,
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
    *sources unavailable* flags in step (``flags.flags_refresh``, that rule only)."""
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
