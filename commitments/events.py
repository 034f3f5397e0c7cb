"""What a follower is told: the payload of each outbox event, built from the change that
causes it, as the public record stands at that moment.

Owns the payload contract (read by the email templates and the webhook body): every event
has ``headline`` (one plain line: what happened), ``summary`` (the editor's words, or ""),
``url`` (the absolute permalink of the step), ``occurred_on``/``occurred_precision``/
``occurred_label`` (its date, as honestly as it is known), ``commitment``, ``actor`` and
``topic`` (each an object or null), ``sources`` and ``changes`` (lists, maybe empty); and,
by type, ``status_update``, ``flag`` or ``revision``. All text is plain: whoever outputs it
escapes it.

Two languages (issue 13): the keys above are in English (the site's language), as they
always were; ``translations`` holds, per other language (``{"fr": {...}}``), the same keys
in that language wherever the payload carries words or a page's address: ``headline``,
``summary``, ``url``, ``occurred_label``, and in ``commitment``/``actor``/``topic``/
``status_update``/``flag``/``revision`` their titles, names, labels, notes and addresses,
and in ``changes`` each changed field's name.
Our labels and headlines always have their French; an editor's words have it when the
editor wrote it, else "" (a reader then gets the English, marked: ``localized``). A source
says its ``language``. Addresses are absolute (``settings.SITE_URL``), since a mail or a newsroom's
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
from django.utils.translation import gettext as _

from .dates import DatePrecision, format_vague_date
from .languages import EXTRA_LANGUAGES, content_language, field_name, interface_language
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


def vague_label(day: datetime.date | None, precision: str | None, language: str) -> str:
    """A date as honestly as it is known, in ``language`` ("octobre 2025")."""
    with translation.override(language):
        return format_vague_date(day, precision)


def _occurred(day: datetime.date | None, precision: str | None) -> dict:
    if day is None:
        return {"occurred_on": None, "occurred_precision": None, "occurred_label": ""}
    return {
        "occurred_on": day.isoformat(),
        "occurred_precision": precision,
        "occurred_label": format_vague_date(day, precision),
    }


# --- The other languages -------------------------------------------------------------------


def _languages() -> tuple[str, ...]:
    """The interface codes of the languages a payload is translated into (``fr``)."""
    return tuple(interface_language(code) for code in EXTRA_LANGUAGES)


def in_language(language: str, build, *args, **kwargs):
    """``build(*args, **kwargs)`` with ``language`` active: our labels and addresses in it."""
    with translation.override(language):
        return build(*args, **kwargs)


def own_words(obj, name: str, language: str) -> str:
    """An editor's words in ``language`` exactly as written: "" when not translated (the
    reader's fallback is decided where it is shown, and marked there)."""
    return str(getattr(obj, field_name(name, language), "") or "")


def _commitment_words(commitment: Commitment | None, language: str) -> dict | None:
    if commitment is None:
        return None
    return {
        "title": own_words(commitment, "title", language),
        "url": in_language(language, lambda: absolute_url(commitment.get_absolute_url())),
        "status_label": in_language(language, status_label, commitment.status),
    }


def _named_words(thing, language: str) -> dict | None:
    """An actor's or a topic's name and page, in ``language``."""
    if thing is None:
        return None
    return {
        "name": own_words(thing, "name", language),
        "url": in_language(language, lambda: absolute_url(thing.get_absolute_url())),
    }


def translations(build_words, *, commitment=None, actor=None, topic=None, occurred=None) -> dict:
    """``{"fr": {...}}``: for each other language, ``build_words(language)`` (the
    headline, summary, url and the type's own words) with the subject's words and the
    date's label in that language."""
    out = {}
    for language in _languages():
        words = build_words(language)
        occurred_on = (occurred or {}).get("occurred_on")
        if occurred_on is not None:
            words["occurred_label"] = vague_label(
                datetime.date.fromisoformat(occurred_on), occurred["occurred_precision"], language
            )
        else:
            words["occurred_label"] = ""
        words["commitment"] = _commitment_words(commitment, language)
        words["actor"] = _named_words(actor, language)
        words["topic"] = _named_words(topic, language)
        out[content_language(language)] = words
    return out


def localized(payload: dict, language: str | None) -> dict:
    """A payload as a reader of ``language`` gets it: each text of ``translations`` over
    the English, where it has one; where an editor's words have none, the English stays and
    ``<key>_fallback`` says so (``summary_fallback``, ``commitment.title_fallback``), so the
    mail can mark it. A payload from before ``translations`` existed stays as it is."""
    payload = dict(payload) if isinstance(payload, dict) else {}
    words = (payload.get("translations") or {}).get(content_language(language) if language else "")
    if not isinstance(words, dict):
        return payload
    return _overlay(payload, words)


def _overlay(base: dict, words: dict) -> dict:
    out = dict(base)
    for key, value in words.items():
        if isinstance(value, dict) and isinstance(base.get(key), dict):
            out[key] = _overlay(base[key], value)
        elif (
            isinstance(value, list)
            and isinstance(base.get(key), list)
            and len(value) == len(base[key])
        ):  # a list of the same things (the changes), item by item
            out[key] = [
                _overlay(item, other)
                if isinstance(item, dict) and isinstance(other, dict)
                else item
                for item, other in zip(base[key], value, strict=True)
            ]
        elif isinstance(value, str):
            if value.strip():
                out[key] = value
            elif str(base.get(key) or "").strip():
                out[f"{key}_fallback"] = True
    return out


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
        "language": source.language or "",
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
    words=None,
    **extra,
) -> dict:
    """The contract's keys; ``words(language)`` gives the type's words in another language
    (``translations``)."""
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
        "translations": translations(
            words or (lambda language: {}),
            commitment=commitment,
            actor=actor,
            topic=topic,
            occurred=occurred,
        ),
    }


# --- Status updates ----------------------------------------------------------------------


def status_update_headline(update: StatusUpdate, *, status_before: str | None) -> str:
    """What a status update did to the commitment: a correction; a new current status; the
    same status, with news; or an earlier step filled in (it is not the current one)."""
    label = {"status": status_label(update.status)}
    if update.corrects_id:
        return _("Correction to the timeline")
    if update.commitment.status != update.status:
        return _("Earlier step recorded: %(status)s") % label
    if status_before is not None and status_before == update.status:
        return _("New update, status still %(status)s") % label
    return _("Status changed to %(status)s") % label


@in_site_language
def status_update_payload(
    update: StatusUpdate, *, sources, status_before: str | None = None
) -> dict:
    """A status update (or a correction) with its sources. ``update.commitment`` carries
    its current status after the update; ``status_before`` is the status before it."""
    commitment = update.commitment
    corrects = update.corrects if update.corrects_id else None

    def words(language: str) -> dict:
        return {
            "headline": in_language(
                language, status_update_headline, update, status_before=status_before
            ),
            "summary": own_words(update, "description", language),
            "url": in_language(language, lambda: absolute_url(update.get_absolute_url())),
            "status_update": {
                "status_label": in_language(language, status_label, update.status),
                "corrects_url": in_language(
                    language, lambda: absolute_url(corrects.get_absolute_url())
                )
                if corrects
                else None,
                "correction_note": own_words(update, "correction_note", language),
            },
        }

    return _payload(
        headline=status_update_headline(update, status_before=status_before),
        summary=update.description,
        url=absolute_url(update.get_absolute_url()),
        occurred=_occurred(update.effective_on, update.effective_precision),
        commitment=commitment,
        sources=sources,
        words=words,
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
    label = {"reason": reason_label(reason).lower()}
    if resolved:
        return _("Flag resolved: %(reason)s") % label
    return _("Flag raised: %(reason)s") % label


def flag_url(commitment: Commitment) -> str:
    """Flags are shown at the top of the commitment's page, with no anchor of their own."""
    return absolute_url(commitment.get_absolute_url())


@in_site_language
def flag_payload(flag: Flag, *, resolved: bool) -> dict:
    """A flag raised or resolved (by the job or by a publisher); ``flag.commitment`` is read."""
    moment = flag.resolved_at if resolved else flag.raised_at

    def words(language: str) -> dict:
        # The flag's details and notes are the job's or a publisher's, in English only.
        return {
            "headline": in_language(language, flag_headline, flag.reason, resolved=resolved),
            "summary": "",
            "url": in_language(language, flag_url, flag.commitment),
            "flag": {"reason_label": in_language(language, reason_label, flag.reason)},
        }

    return _payload(
        headline=flag_headline(flag.reason, resolved=resolved),
        words=words,
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


def _commitment_page(slug, language: str | None = None) -> Concat:
    """The absolute address of a commitment's page from its slug column (in ``language``:
    ``/fr/...``)."""
    marker = "slug-marker"
    with translation.override(language or translation.get_language()):
        page = absolute_url(reverse("commitments:commitment_detail", args=[marker]))
    before, after = page.split(marker)
    return Concat(_text(before), slug, _text(after), output_field=TextField())


def _status_label_expression(status, language: str | None = None) -> Case:
    if language is not None:
        return in_language(language, _status_label_expression, status)
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
    day = timezone.localdate(now)
    translated = {}
    for language in _languages():
        other_page = _commitment_page(F("commitment__slug"), language)
        translated[content_language(language)] = JSONObject(
            headline=_text(in_language(language, flag_headline, reason, resolved=resolved)),
            summary=_text(""),
            url=other_page,
            flag=JSONObject(reason_label=_text(in_language(language, reason_label, reason))),
            occurred_label=_text(vague_label(day, DatePrecision.DAY, language)),
            commitment=JSONObject(
                title=F(f"commitment__{field_name('title', language)}"),
                url=other_page,
                status_label=_status_label_expression(F("commitment__status"), language),
            ),
            actor=_text(None),
            topic=_text(None),
        )
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
        translations=JSONObject(**translated),
    )


# --- Revisions ------------------------------------------------------------------------------


def _change_label(revision: Revision, change: dict) -> str:
    return revision.change_label(change)


def revision_headline(revision: Revision) -> str:
    if revision.kind == Revision.Kind.CORRECTION:
        return _("Published text corrected")
    return _("Published text revised")


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

    def page() -> str:
        if commitment is not None:
            return absolute_url(revision.public_url(commitment))
        return absolute_url((actor or topic).get_absolute_url())

    url = page()

    def words(language: str) -> dict:
        return {
            "headline": in_language(language, revision_headline, revision),
            "summary": own_words(revision, "reason", language),
            "url": in_language(language, page),
            "revision": {
                "kind_label": in_language(language, lambda: str(revision.public_kind_label)),
                "reason": own_words(revision, "reason", language),
            },
            "changes": [
                {"field": in_language(language, _change_label, revision, change)}
                for change in revision.changes
            ],
        }

    return _payload(
        headline=revision_headline(revision),
        summary=revision.reason,
        url=url,
        occurred=_on_the_day(revision.decided_at or timezone.now()),
        commitment=commitment,
        actor=actor,
        topic=topic,
        words=words,
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

    def words(language: str) -> dict:
        return {
            "headline": in_language(language, _, "Commitment published"),
            "summary": own_words(commitment, "summary", language),
            "url": in_language(language, lambda: absolute_url(commitment.get_absolute_url())),
        }

    return _payload(
        headline=_("Commitment published"),
        words=words,
        summary=commitment.summary,
        url=absolute_url(commitment.get_absolute_url()),
        occurred=_occurred(commitment.made_on, commitment.made_precision),
        commitment=commitment,
        sources=sources,
    )
