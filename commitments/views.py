"""Public pages: read-only, small, one template per page; HTMX gets the page's fragment.

Every view answers GET and HEAD only (405 otherwise) and reads through ``selectors`` and
``filters``, so what the public may see is decided there.
"""

from __future__ import annotations

import csv
import datetime

from django.conf import settings
from django.core.paginator import Paginator
from django.core.serializers.json import DjangoJSONEncoder
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import add_never_cache_headers, patch_cache_control
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from . import selectors
from .dates import iso_vague_date
from .filters import commitment_filter
from .models import ActorRole, Commitment, Revision
from .safety import spreadsheet_cell

LIST_PAGE_SIZE = 20
CORRECTIONS_PAGE_SIZE = 50
MAX_PAGE = 10_000


class HtmxHttpRequest(HttpRequest):
    htmx: HtmxDetails


def wants_fragment(request: HtmxHttpRequest) -> bool:
    """An HTMX request for a fragment; a history restore (Back after a cache miss) gets
    the whole page, like a cold load."""
    return bool(request.htmx) and not request.htmx.history_restore_request


def page_number(value: str | None) -> int:
    """A page number from a query string: anything malformed is page 1."""
    try:
        number = int((value or "1").strip())
    except ValueError:
        return 1
    return min(max(number, 1), MAX_PAGE)


@require_safe
def home(request: HttpRequest):
    counts = selectors.status_counts()
    return render(
        request,
        "commitments/home.html",
        {
            "counts": counts,
            "total": sum(row["count"] for row in counts),
            "recent": selectors.recently_changed(10),
            "flags": selectors.open_flags(20),
            "indicators": selectors.indicators_with_observations(),
        },
    )


@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def commitment_list(request: HtmxHttpRequest):
    filterset = commitment_filter(request.GET)
    page = Paginator(filterset.qs, LIST_PAGE_SIZE).get_page(page_number(request.GET.get("page")))
    context = {"filter": filterset, "page": page, "commitments": page.object_list}
    template = (
        "commitments/list.html#results" if wants_fragment(request) else "commitments/list.html"
    )
    return render(request, template, context)


def _export_rows(request: HttpRequest):
    filterset = commitment_filter(request.GET)
    rows = []
    for commitment in filterset.qs:
        roles = list(commitment.roles.all())
        rows.append(
            {
                "title": commitment.title,
                "url": settings.SITE_URL + commitment.get_absolute_url(),
                "status": commitment.status,
                "status_label": str(commitment.get_status_display()),
                "status_since": iso_vague_date(
                    commitment.status_since, commitment.status_since_precision
                ),
                "made_on": iso_vague_date(commitment.made_on, commitment.made_precision),
                "made_by": [r.actor.name for r in roles if r.role == ActorRole.MADE_BY],
                "responsible": [r.actor.name for r in roles if r.role == ActorRole.RESPONSIBLE],
                "topics": [topic.name for topic in commitment.topics.all()],
                "deadline": iso_vague_date(commitment.deadline, commitment.deadline_precision),
                "open_flags": [flag.plain_words() for flag in commitment.open_flags],
                "summary": commitment.summary,
            }
        )
    return filterset, rows


def _export_name(generated_at, extension: str) -> str:
    return f"commitments-{generated_at:%Y%m%dT%H%M%SZ}.{extension}"


@require_safe
def commitment_export_csv(request: HttpRequest):
    generated_at = timezone.now().astimezone(datetime.UTC)
    filterset, rows = _export_rows(request)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{_export_name(generated_at, "csv")}"'
    response["X-Generated-At"] = generated_at.isoformat()
    writer = csv.writer(response)
    columns = [
        "title",
        "url",
        "status",
        "status_label",
        "status_since",
        "made_on",
        "made_by",
        "responsible",
        "topics",
        "deadline",
        "open_flags",
        "summary",
        "generated_at",
    ]
    writer.writerow(columns)
    for row in rows:
        # Editors' words never start a formula in the reader's spreadsheet.
        writer.writerow(
            [spreadsheet_cell("; ".join(v) if isinstance(v, list) else v) for v in row.values()]
            + [generated_at.isoformat()]
        )
    return response


@require_safe
def commitment_export_json(request: HttpRequest):
    generated_at = timezone.now().astimezone(datetime.UTC)
    filterset, rows = _export_rows(request)
    response = JsonResponse(
        {
            "generated_at": generated_at.isoformat(),
            "source": settings.SITE_URL + reverse("commitments:commitment_list"),
            "filters": filterset.active,
            "ignored_filters": [
                {"name": item["name"], "reason": item["reason"]} for item in filterset.ignored
            ],
            "count": len(rows),
            "commitments": rows,
        },
        encoder=DjangoJSONEncoder,
        json_dumps_params={"ensure_ascii": False, "indent": 1},
    )
    response["Content-Disposition"] = f'inline; filename="{_export_name(generated_at, "json")}"'
    response["X-Generated-At"] = generated_at.isoformat()
    return response


def _commitment_or_preview(request: HttpRequest, slug: str) -> tuple[Commitment, bool]:
    """The published commitment, or for staff a draft at its future address (a preview)."""
    try:
        return selectors.public_commitment_or_404(slug), False
    except Http404:
        return selectors.commitment_preview_or_404(slug, request.user), True


def _preview_headers(response: HttpResponse) -> HttpResponse:
    """A draft preview is for staff only: never cached anywhere, never indexed."""
    add_never_cache_headers(response)
    patch_cache_control(response, private=True)
    response["X-Robots-Tag"] = "noindex, nofollow"
    return response


@require_safe
@vary_on_headers("HX-Request", "HX-History-Restore-Request")
def commitment_detail(request: HtmxHttpRequest, slug: str):
    commitment, preview = _commitment_or_preview(request, slug)
    if preview:
        return _preview_headers(_commitment_page(request, commitment, preview=True))
    return _commitment_page(request, commitment, preview=False)


def _commitment_page(request: HtmxHttpRequest, commitment: Commitment, *, preview: bool):
    fragment = wants_fragment(request)
    timeline = selectors.commitment_timeline(
        commitment, page=page_number(request.GET.get("page")), cumulative=not fragment
    )
    if fragment:
        return render(request, "commitments/detail.html#events", {"timeline": timeline})
    return render(
        request,
        "commitments/detail.html",
        {
            "commitment": commitment,
            "timeline": timeline,
            "related": selectors.related_commitments(commitment),
            "indicators": selectors.indicators_with_observations(commitment.indicators.all()),
            "page_url": settings.SITE_URL + commitment.get_absolute_url(),
            "revision_count": Revision.objects.public().filter(commitments=commitment).count(),
            "preview": preview,
        },
    )


@require_safe
def commitment_changes(request: HttpRequest, slug: str):
    """A commitment's change history: every applied revision of what its page shows, with
    what it said before, and every correction to its timeline."""
    commitment = selectors.public_commitment_or_404(slug)
    page = selectors.change_log_page(
        page=page_number(request.GET.get("page")),
        per_page=CORRECTIONS_PAGE_SIZE,
        commitment=commitment,
        corrections_only=False,
    )
    return render(
        request, "commitments/changes.html", {"commitment": commitment, "page": page}
    )


@require_safe
@xframe_options_exempt
def commitment_embed(request: HttpRequest, slug: str):
    """A small status card for an iframe: the only route that may be framed."""
    commitment = selectors.public_commitment_or_404(slug)
    return render(
        request,
        "commitments/embed.html",
        {"commitment": commitment, "page_url": settings.SITE_URL + commitment.get_absolute_url()},
    )


def _commitments_of(request: HttpRequest, template: str, name: str, owner, commitments):
    """An actor's or a topic's page: its published commitments and their status counts."""
    return render(
        request,
        template,
        {
            name: owner,
            "commitments": selectors.commitment_list_items(commitments).order_by(
                "-made_on", "title"
            ),
            "counts": selectors.status_counts(
                selectors.public_commitments().filter(pk__in=commitments.values("pk"))
            ),
        },
    )


@require_safe
def actor_detail(request: HttpRequest, slug: str):
    actor = selectors.public_actor_or_404(slug)
    commitments = selectors.public_commitments().filter(roles__actor=actor).distinct()
    return _commitments_of(request, "commitments/actor.html", "actor", actor, commitments)


@require_safe
def topic_detail(request: HttpRequest, slug: str):
    topic = selectors.public_topic_or_404(slug)
    commitments = selectors.public_commitments().filter(topics=topic)
    return _commitments_of(request, "commitments/topic.html", "topic", topic, commitments)


@require_safe
def corrections(request: HttpRequest):
    page = selectors.change_log_page(
        page=page_number(request.GET.get("page")),
        per_page=CORRECTIONS_PAGE_SIZE,
        corrections_only=True,
    )
    return render(request, "commitments/corrections.html", {"page": page})


@require_safe
def robots_txt(request: HttpRequest):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Allow: /",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
