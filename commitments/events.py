"""What a follower is told: the payload of each outbox event, built from the change that
causes it, as the public record stands at that moment.

Owns the payload contract (read by the email templates and the webhook body): every event
has ``headline`` (one plain line: what happened), ``summary`` (the editor's words, or ""),
``url`` (the absolute permalink of the step), ``occurred_on``/``occurred_precision``/
``occurred_label`` (its date, as honestly as it is known), ``commitment``, ``actor`` and
``topic`` (each an object or null), ``sources`` and ``changes`` (lists, maybe empty); and,
by type, ``status_update``, ``flag`` or ``revision``. All text is plain: whoever outputs it
escapes it. Addresses are absolute (``settings.SITE_URL``), since a mail or a newsroom's
tool has no page to be relative to.

Reads only, and only what it is handed or a constant number of queries: it must not write
(the services record events through ``services.outbox.event_record``, in their own
transaction), send anything, or import the services. ``flag_payload_expression`` is the
same contract for a flag written as one SQL expression, for the flag job's set-based
``INSERT ... SELECT`` (``services/flags.py``); ``flag_payload`` is its Python twin, and a
test holds the two equal.
"""

from __future__ import annotations

import datetime
import functools

from django.conf import settings
from django.db.models import Case, F, Func, TextField, Value, When
from django.db.models.functions import Cast, Concat, JSONObject
from django.urls import reverse
from django.utils import timezone, translation

from .dates import DatePrecision, format_vague_date
from .models import (
    Actor,
    Commitment,
    Flag,
    FlagReason,
    Revision,
    Source,
    Status,
    StatusUpdate,
    Topic,
)
from .schemas import absolute_url
from .sql import EmptyJSONArray, IsoTimestamp

# --- Pieces -----------------------------------------------------------------------------


def in_site_language(builder):
    """A payload is frozen once, for every follower: its labels and addresses are the
    site's language (``LANGUAGE_CODE``), whatever language the editor's request was in."""

    @functools.wraps(builder)
    def build(*args, **kwargs):
        with translation.override(settings.LANGUAGE_CODE):
            return builder(*args, **kwargs)

    return build


def iso_timestamp(value: datetime.datetime | None) -> str | None:
    """A moment as ISO 8601 in UTC with microseconds (``sql.IsoTimestamp`` in SQL)."""
    if value is None:
        return None
    return value.astimezone(datetime.UTC).isoformat(timespec="microseconds")


def _occurred(day: datetime.date | None, precision: str | None) -> dict:
    if day is None:
        return {"occurred_on": None, "occurred_precision": None, "occurred_label": ""}
    return {
        "occurred_on": day.isoformat(),
        "occurred_precision": precision,
        "occurred_label": format_vague_date(day, precision),
    }


def _on_the_day(moment: datetime.datetime) -> dict:
    """The date of something done at ``moment`` (a flag raised, a revision applied)."""
    return _occurred(timezone.localdate(moment), DatePrecision.DAY)


def status_label(status: str) -> str:
    return str(Status(status).label) if status in Status.values else status


def reason_label(reason: str) -> str:
    return str(FlagReason(reason).label) if reason in FlagReason.values else reason


def commitment_data(commitment: Commitment | None) -> dict | None:
    if commitment is None:
        return None
    return {
        "slug": commitment.slug,
        "title": commitment.title,
        "url": absolute_url(commitment.get_absolute_url()),
        "status": commitment.status,
        "status_label": status_label(commitment.status),
    }


def actor_data(actor: Actor | None) -> dict | None:
    if actor is None:
        return None
    return {"slug": actor.slug, "name": actor.name, "url": absolute_url(actor.get_absolute_url())}


def topic_data(topic: Topic | None) -> dict | None:
    if topic is None:
        return None
    return {"slug": topic.slug, "name": topic.name, "url": absolute_url(topic.get_absolute_url())}


def source_data(source: Source) -> dict:
    """A cited source; "" for an address it lacks (a broadcast, or not archived yet)."""
    return {
        "title": source.title,
        "outlet": source.outlet,
        "url": source.url or "",
        "archive_url": source.archive_url or "",
    }


def _payload(
    *,
    headline: str,
    summary: str,
    url: str,
    occurred: dict,
    commitment: Commitment | None = None,
    actor: Actor | None = None,
    topic: Topic | None = None,
    sources=(),
    changes=(),
    **extra,
) -> dict:
    return {
        "headline": headline,
        "summary": summary or "",
        "url": url,
        **occurred,
        "commitment": commitment_data(commitment),
        "actor": actor_data(actor),
        "topic": topic_data(topic),
        "sources": [source_data(source) for source in sources],
        "changes": list(changes),
        **extra,
    }


# --- Status updates ----------------------------------------------------------------------


def status_update_headline(update: StatusUpdate, *, status_before: str | None) -> str:
    """What a status update did to the commitment: a correction; a new current status; the
    same status, with news; or an earlier step filled in (it is not the current one)."""
    label = status_label(update.status)
    if update.corrects_id:
        return "Correction to the timeline"
    if update.commitment.status != update.status:
        return f"Earlier step recorded: {label}"
    if status_before is not None and status_before == update.status:
        return f"New update, status still {label}"
    return f"Status changed to {label}"


@in_site_language
def status_update_payload(
    update: StatusUpdate, *, sources, status_before: str | None = None
) -> dict:
    """A status update (or a correction) with its sources. ``update.commitment`` carries
    its current status after the update; ``status_before`` is the status before it."""
    commitment = update.commitment
    corrects = update.corrects if update.corrects_id else None
    return _payload(
        headline=status_update_headline(update, status_before=status_before),
        summary=update.description,
        url=absolute_url(update.get_absolute_url()),
        occurred=_occurred(update.effective_on, update.effective_precision),
        commitment=commitment,
        sources=sources,
        status_update={
            "id": update.pk,
            "status": update.status,
            "status_label": status_label(update.status),
            "corrects_url": absolute_url(corrects.get_absolute_url()) if corrects else None,
            "correction_note": update.correction_note,
        },
    )


# --- Flags --------------------------------------------------------------------------------


def flag_headline(reason: str, *, resolved: bool) -> str:
    return f"Flag {'resolved' if resolved else 'raised'}: {reason_label(reason).lower()}"


def flag_url(commitment: Commitment) -> str:
    """Flags are shown at the top of the commitment's page, with no anchor of their own."""
    return absolute_url(commitment.get_absolute_url())


@in_site_language
def flag_payload(flag: Flag, *, resolved: bool) -> dict:
    """A flag raised or resolved (by the job or by a publisher); ``flag.commitment`` is read."""
    moment = flag.resolved_at if resolved else flag.raised_at
    return _payload(
        headline=flag_headline(flag.reason, resolved=resolved),
        summary=flag.resolution_note if resolved else flag.details,
        url=flag_url(flag.commitment),
        occurred=_on_the_day(moment),
        commitment=flag.commitment,
        flag={
            "id": flag.pk,
            "reason": flag.reason,
            "reason_label": reason_label(flag.reason),
            "details": flag.details,
            "raised_at": iso_timestamp(flag.raised_at),
            "resolved_at": iso_timestamp(flag.resolved_at),
            "resolution_note": flag.resolution_note,
        },
    )


def _text(value: str | None) -> Func:
    """A constant as SQL text (typed, so ``jsonb_build_object`` knows what it holds)."""
    return Cast(Value(value), output_field=TextField())


def _commitment_page(slug) -> Concat:
    """The absolute address of a commitment's page from its slug column."""
    marker = "slug-marker"
    page = absolute_url(reverse("commitments:commitment_detail", args=[marker]))
    before, after = page.split(marker)
    return Concat(_text(before), slug, _text(after), output_field=TextField())


def _status_label_expression(status) -> Case:
    return Case(
        *[When(**{status.name: value}, then=_text(str(label))) for value, label in Status.choices],
        default=Cast(status, output_field=TextField()),
        output_field=TextField(),
    )


@in_site_language
def flag_payload_expression(*, reason: str, resolved: bool, now: datetime.datetime) -> JSONObject:
    """``flag_payload`` as one SQL expression over a ``Flag`` queryset (the commitment read
    by a join), for flags of ``reason`` raised or resolved at ``now`` by the flag job."""
    page = _commitment_page(F("commitment__slug"))
    summary = F("resolution_note") if resolved else F("details")
    return JSONObject(
        headline=_text(flag_headline(reason, resolved=resolved)),
        summary=summary,
        url=page,
        occurred_on=_text(timezone.localdate(now).isoformat()),
        occurred_precision=_text(DatePrecision.DAY),
        occurred_label=_text(format_vague_date(timezone.localdate(now), DatePrecision.DAY)),
        commitment=JSONObject(
            slug=F("commitment__slug"),
            title=F("commitment__title"),
            url=page,
            status=F("commitment__status"),
            status_label=_status_label_expression(F("commitment__status")),
        ),
        actor=_text(None),
        topic=_text(None),
        sources=EmptyJSONArray(),
        changes=EmptyJSONArray(),
        flag=JSONObject(
            id=F("pk"),
            reason=F("reason"),
            reason_label=_text(reason_label(reason)),
            details=F("details"),
            raised_at=IsoTimestamp(F("raised_at")),
            resolved_at=_text(iso_timestamp(now)) if resolved else _text(None),
            resolution_note=F("resolution_note"),
        ),
    )


# --- Revisions ------------------------------------------------------------------------------


def revision_headline(revision: Revision) -> str:
    if revision.kind == Revision.Kind.CORRECTION:
        return "Published text corrected"
    return "Published text revised"


@in_site_language
def revision_payload(
    revision: Revision,
    *,
    commitment: Commitment | None = None,
    actor: Actor | None = None,
    topic: Topic | None = None,
) -> dict:
    """An applied revision, told to the followers of one commitment that shows it (its url
    the revision's entry on that commitment's change history), or of the actor or topic
    revised (its url that actor's or topic's page). ``changes`` are the fields as readers
    see them, before and after."""
    if commitment is not None:
        url = absolute_url(revision.public_url(commitment))
    else:
        url = absolute_url((actor or topic).get_absolute_url())
    return _payload(
        headline=revision_headline(revision),
        summary=revision.reason,
        url=url,
        occurred=_on_the_day(revision.decided_at or timezone.now()),
        commitment=commitment,
        actor=actor,
        topic=topic,
        changes=[
            {
                "field": change.get("label") or change["field"],
                "before": change.get("before_text", ""),
                "after": change.get("after_text", ""),
            }
            for change in revision.changes
        ],
        revision={
            "id": revision.pk,
            "kind": revision.kind,
            "kind_label": str(revision.public_kind_label),
            "reason": revision.reason,
            "object": revision.object_label,
        },
    )


# --- Publishing ------------------------------------------------------------------------------


@in_site_language
def commitment_published_payload(commitment: Commitment, *, sources=()) -> dict:
    """A commitment made public: its summary, and the source for where it was made. Its
    date is the promise's (when it was made); the event's own time is the publication."""
    return _payload(
        headline="Commitment published",
        summary=commitment.summary,
        url=absolute_url(commitment.get_absolute_url()),
        occurred=_occurred(commitment.made_on, commitment.made_precision),
        commitment=commitment,
        sources=sources,
    )
