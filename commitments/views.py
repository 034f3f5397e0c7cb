"""Public pages: read-only, small, one template per page; HTMX gets the page's fragment.

Every view answers GET and HEAD only (405 otherwise) and reads through ``selectors`` and
``filters``, so what the public may see is decided there. The exports' views only stream
what ``exports`` writes: a row's fields are ``schemas.CommitmentRow``'s.

Must not write, and must not filter by hand what the public may see.
"""

from __future__ import annotations

import dataclasses
import datetime

from django.conf import settings
from django.core.paginator import Page, Paginator
from django.http import (
    FileResponse,
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
    StreamingHttpResponse,
)
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone, translation
from django.utils.cache import (
    add_never_cache_headers,
    get_conditional_response,
    patch_cache_control,
)
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe
from django.views.decorators.vary import vary_on_headers
from django_htmx.middleware import HtmxDetails

from . import citations, embeds, exports, previews, selectors
from .caching import per_version
from .dates import format_vague_date
from .filters import commitment_filter
from .models import ActorRole, Commitment, Revision
from .services import snapshots
from .vocabulary import FLAG_DEFINITIONS, STATUS_DEFINITIONS, FlagReason, Status

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
    commitments = _with_search_matches(page.object_list, request.GET.get("q"))
    context = {"filter": filterset, "page": page, "commitments": commitments}
    template = (
        "commitments/list.html#results" if wants_fragment(request) else "commitments/list.html"
    )
    return render(request, template, context)


def _with_search_matches(commitments, text: str | None):
    """A page of search results, each with ``search_match`` (where ``text`` matched it,
    ``selectors.search_matches``: one query for the page); the page as it is without a
    search."""
    if not selectors.clean_search_text(text):
        return commitments
    commitments = list(commitments)
    matches = selectors.search_matches(commitments, text)
    for commitment in commitments:
        commitment.search_match = matches.get(commitment.pk)
    return commitments


def _export_name(generated_at, extension: str) -> str:
    return f"commitments-{generated_at:%Y%m%dT%H%M%SZ}.{extension}"


def _export_response(pieces, *, content_type: str, disposition: str, generated_at):
    """A streamed export: rows leave as they are read from a server-side cursor, so the
    first bytes go out at once and memory stays flat whatever the number of rows."""
    response = StreamingHttpResponse(pieces, content_type=content_type)
    response["Content-Disposition"] = disposition
    response["X-Generated-At"] = generated_at.isoformat()
    return response


@require_safe
def commitment_export_csv(request: HttpRequest):
    generated_at = timezone.now().astimezone(datetime.UTC)
    rows = exports.commitment_rows(commitment_filter(request.GET).qs)
    return _export_response(
        exports.csv_pieces(rows, generated_at.isoformat()),
        content_type="text/csv; charset=utf-8",
        disposition=f'attachment; filename="{_export_name(generated_at, "csv")}"',
        generated_at=generated_at,
    )


@require_safe
def commitment_export_json(request: HttpRequest):
    generated_at = timezone.now().astimezone(datetime.UTC)
    filterset = commitment_filter(request.GET)
    rows = exports.commitment_rows(filterset.qs)  # validates the filters, for the header
    return _export_response(
        exports.json_pieces(rows, exports.json_header(filterset, generated_at)),
        content_type="application/json",
        disposition=f'inline; filename="{_export_name(generated_at, "json")}"',
        generated_at=generated_at,
    )


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
    # The citations' "accessed" day: the day of rendering (the page cache rolls over at
    # midnight, see caching.py).
    accessed = citations.accessed_on()
    if fragment:
        return render(
            request,
            "commitments/detail.html#events",
            {"timeline": timeline, "commitment": commitment, "accessed": accessed},
        )
    last_changed = selectors.commitment_last_changed(commitment)
    return render(
        request,
        "commitments/detail.html",
        {
            "commitment": commitment,
            "timeline": timeline,
            "related": selectors.related_commitments(commitment),
            "indicators": selectors.indicators_with_observations(commitment.indicators.all()),
            "page_url": settings.SITE_URL + commitment.get_absolute_url(),
            **_embed_context(commitment),
            "revision_count": Revision.objects.public().filter(commitments=commitment).count(),
            "preview": preview,
            "accessed": accessed,
            "last_changed_on": last_changed,
            "last_changed": format_vague_date(*last_changed) if last_changed else "",
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
    return render(request, "commitments/changes.html", {"commitment": commitment, "page": page})


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


def _embed_context(commitment: Commitment) -> dict:
    """What the commitment page offers for embedding and link previews: the snippets for
    each size, the oEmbed discovery address and the preview image's absolute address."""
    page_url = settings.SITE_URL + commitment.get_absolute_url()
    return {
        "embed_choices": embeds.embed_choices(commitment),
        "oembed_url": embeds.oembed_discovery_url(page_url),
        "preview_image_url": settings.SITE_URL
        + reverse("commitments:commitment_preview_image", args=[commitment.slug]),
        "preview_image_size": (embeds.PREVIEW_WIDTH, embeds.PREVIEW_HEIGHT),
    }


def _plain_error(status: int, message: str) -> HttpResponse:
    return HttpResponse(message, status=status, content_type="text/plain; charset=utf-8")


@require_safe
def oembed(request: HttpRequest):
    """oEmbed (https://oembed.com/, section 2) for a commitment page's address: a "rich"
    answer whose ``html`` is the page's own embed snippet, sized within ``maxwidth`` and
    ``maxheight``. JSON only (``format=xml`` is the spec's 501); a malformed size is a
    400, an address that is not a public commitment a 404."""
    response_format = request.GET.get("format", "json").strip().lower() or "json"
    if response_format != "json":
        return _plain_error(501, "Only format=json is available.")
    url = request.GET.get("url", "").strip()
    if not url:
        return _plain_error(400, "The url parameter is required: a commitment's address.")
    try:
        max_width, max_height = embeds.max_dimensions(
            request.GET.get("maxwidth"), request.GET.get("maxheight")
        )
        slug = embeds.slug_from_url(url)
        try:
            commitment = selectors.public_commitment_or_404(slug)
        except Http404:
            raise embeds.OEmbedError(404, "No public commitment has this address.") from None
        # The card in the language of the address asked about: /fr/... gets the French card.
        with translation.override(embeds.url_language(url)):
            payload = embeds.oembed_payload(commitment, max_width=max_width, max_height=max_height)
    except embeds.OEmbedError as error:
        return _plain_error(error.status, error.message)
    response = JsonResponse(payload, json_dumps_params={"ensure_ascii": False})
    response["Content-Language"] = embeds.url_language(url)
    response["Access-Control-Allow-Origin"] = "*"
    return response


@require_safe
def commitment_preview_image(request: HttpRequest, slug: str):
    """The commitment's social preview image (``previews``): its ETag is the fingerprint
    of what it draws, so a repeat gets a 304 until the status, the title or the flags
    change. The view answers it (the page cache leaves answers with their own ETag)."""
    commitment = selectors.public_commitment_or_404(slug)
    facts = previews.preview_facts(commitment)
    digest = previews.fingerprint(facts)
    etag = f'"{digest}"'
    response = get_conditional_response(request, etag=etag)
    if response is None or response.status_code != 304:
        png = previews.preview_png(facts, digest)
        response = HttpResponse(png, content_type="image/png")
    response["ETag"] = etag
    patch_cache_control(response, public=True, max_age=settings.PUBLIC_MAX_AGE)
    return response


def _owner_page(kind: str, find_owner, owner_commitments, *, by_role: bool = False):
    """The view of an actor's or a topic's page (``kind``): the owner ``find_owner(slug)``
    gives (404 unless public), its published commitments (``owner_commitments(owner)``),
    20 to a page like the list, and their status counts. HTMX gets the ``results``
    fragment. ``by_role`` (an actor): the commitments in one group per role the actor has
    (``_role_groups``), and what the actor said."""

    @require_safe
    @vary_on_headers("HX-Request", "HX-History-Restore-Request")
    def view(request: HtmxHttpRequest, slug: str):
        owner = find_owner(slug)
        commitments = owner_commitments(owner)
        context = {"kind": kind, "owner": owner}
        if by_role:
            context["groups"] = _role_groups(request, owner)
        else:
            page = Paginator(
                selectors.commitment_list_items(commitments).newest_made_first(),
                LIST_PAGE_SIZE,
            ).get_page(page_number(request.GET.get("page")))
            context.update(page=page, commitments=page.object_list)
        if wants_fragment(request):
            return render(request, "commitments/owner.html#results", context)
        context["counts"] = selectors.status_counts(commitments)
        if by_role:
            statements = selectors.actor_statements(owner)
            context["statements"] = statements[: selectors.ACTOR_STATEMENTS_SHOWN]
            context["statement_count"] = statements.count()
        return render(request, "commitments/owner.html", context)

    view.__name__ = view.__qualname__ = f"{kind}_detail"
    return view


#: An actor's page: a group per role, its heading and its page number's query parameter.
ROLE_GROUPS = (
    (ActorRole.MADE_BY, _("Promises made"), "made_page"),
    (ActorRole.RESPONSIBLE, _("Responsible for delivering"), "responsible_page"),
    (ActorRole.PARTNER, pgettext_lazy("actor role heading", "Partner"), "partner_page"),
)


@dataclasses.dataclass(frozen=True)
class RoleGroup:
    role: str
    heading: str
    page: Page
    previous_url: str
    next_url: str


def _role_groups(request: HttpRequest, actor) -> list[RoleGroup]:
    """An actor's published commitments, one group per role they have (none for a role
    they do not), each 20 to a page with its own page number in the query string, so one
    group's pages leave the others where they were. Counts come from one query for all
    the groups; each group's rows are one query and its prefetches."""
    counts = selectors.actor_role_counts(actor)
    groups = []
    for role, heading, parameter in ROLE_GROUPS:
        if not counts[role]:
            continue
        paginator = Paginator(
            selectors.commitment_list_items(
                selectors.actor_commitments(actor, role=role)
            ).newest_made_first(),
            LIST_PAGE_SIZE,
        )
        paginator.count = counts[role]  # known already: no COUNT of its own
        page = paginator.get_page(page_number(request.GET.get(parameter)))

        def url(number, parameter=parameter):
            query = request.GET.copy()
            query[parameter] = str(number)
            return "?" + query.urlencode()

        groups.append(
            RoleGroup(
                role=role,
                heading=heading,
                page=page,
                previous_url=url(page.number - 1) if page.has_previous() else "",
                next_url=url(page.number + 1) if page.has_next() else "",
            )
        )
    return groups


actor_detail = _owner_page(
    "actor", selectors.public_actor_or_404, selectors.actor_commitments, by_role=True
)
topic_detail = _owner_page("topic", selectors.public_topic_or_404, selectors.topic_commitments)


@require_safe
def actor_list(request: HttpRequest):
    """Every public actor, grouped by kind, with their numbers of commitments and
    statements: one query, once per public version in each process (its counts read every
    role; ``per_version``), so even an uncached page skips it until the next write."""
    actors = per_version("actor-index", lambda: list(selectors.actor_index()))
    return render(request, "commitments/actor_list.html", {"actors": actors})


@require_safe
def topic_list(request: HttpRequest):
    """Every public topic with its number of published commitments: one query, once per
    public version in each process, like the actors'."""
    topics = per_version("topic-index", lambda: list(selectors.topic_index()))
    return render(request, "commitments/topic_list.html", {"topics": topics})


@require_safe
def corrections(request: HttpRequest):
    page = selectors.change_log_page(
        page=page_number(request.GET.get("page")),
        per_page=CORRECTIONS_PAGE_SIZE,
        corrections_only=True,
    )
    return render(request, "commitments/corrections.html", {"page": page})


#: A dated snapshot file never changes: a year, and ``immutable``.
SNAPSHOT_MAX_AGE = 365 * 24 * 60 * 60


@require_safe
def data_snapshots(request: HttpRequest):
    """The dated snapshots of the public data, newest first, with sizes and checksums."""
    return render(request, "commitments/data.html", {"snapshots": snapshots.snapshot_list()})


@require_safe
def data_snapshot_file(request: HttpRequest, day: str, name: str):
    """One file of a dated snapshot, as it was written (only names its manifest lists)."""
    path = snapshots.snapshot_file(day, name)
    if path is None:
        raise Http404("No such snapshot file.")
    content_type = {
        ".csv": "text/csv; charset=utf-8",
        ".json": "application/json",
    }.get(path.suffix, "application/octet-stream")
    response = FileResponse(
        path.open("rb"), content_type=content_type, as_attachment=path.suffix == ".csv"
    )
    patch_cache_control(response, public=True, max_age=SNAPSHOT_MAX_AGE, immutable=True)
    return response


def flag_rule_numbers() -> dict[str, object]:
    """The flag rules' numbers as the site runs them, read from the settings now (the
    methodology page fills ``FLAG_DEFINITIONS``' placeholders with them)."""
    return {
        "stall_after_days": settings.STALL_AFTER_DAYS,
        "unavailable_after": settings.LINK_CHECK_UNAVAILABLE_AFTER,
        "check_sources_every_days": number_text(settings.CHECK_SOURCES_EVERY_DAYS),
        "flag_every_hours": number_text(settings.FLAG_STALLED_EVERY_HOURS),
    }


def number_text(value) -> str:
    """A setting that may be a decimal, as a reader writes it: 24, 0.5."""
    return f"{value:g}" if isinstance(value, float) else str(value)


@require_safe
def methodology(request: HttpRequest):
    """How we rate, flag, source and correct: every status and every flag rule, read from
    the vocabulary, with the rules' numbers from the settings."""
    numbers = flag_rule_numbers()
    statuses = [
        {"value": value, "label": label, "meaning": STATUS_DEFINITIONS[value]}
        for value, label in Status.choices
    ]
    flags = [
        {
            "value": value,
            "label": label,
            "definition": _filled(FLAG_DEFINITIONS[value].definition, numbers),
            "example": _filled(FLAG_DEFINITIONS[value].example, numbers),
        }
        for value, label in FlagReason.choices
    ]
    return render(
        request,
        "commitments/methodology.html",
        {
            "statuses": statuses,
            "flag_rules": flags,
            "numbers": numbers,
            "archive_on_create": settings.ARCHIVE_ON_CREATE,
            **_publisher(),
        },
    )


def _filled(text, numbers: dict) -> str:
    """A translated definition with the rule's numbers in place."""
    return str(text) % numbers


@require_safe
def about(request: HttpRequest):
    """What the tracker is, who runs it, how to reach them and ask for a correction."""
    return render(request, "commitments/about.html", _publisher())


def _publisher() -> dict[str, str]:
    return {"publisher": settings.SITE_PUBLISHER, "contact_email": settings.SITE_CONTACT_EMAIL}


@require_safe
def robots_txt(request: HttpRequest):
    lines = [
        "User-agent: *",
        "Disallow: /admin/",
        "Allow: /",
        f"Sitemap: {request.build_absolute_uri(reverse('sitemap'))}",
    ]
    return HttpResponse("\n".join(lines) + "\n", content_type="text/plain; charset=utf-8")
