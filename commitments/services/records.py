"""Sources and the timeline: recording a source, logging a status update, recording an
editor's check ("checked, nothing new").

Owns the rules for a new source (one per address), for a status update (its sources,
its dates, once per form: the idempotency token) and for a check (a note, a date not
after today, once per form). Must not queue tasks itself except
through ``queueing.py``, and must not render anything.
"""

from __future__ import annotations

import datetime
import uuid
from collections.abc import Iterable
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from django.core.exceptions import ValidationError
from django.core.validators import URLValidator
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from .. import events
from ..caching import lock_public_version
from ..dates import DatePrecision, end_of_period, format_vague_date, start_of_period
from ..models import Check, Commitment, EventType, Source, Status, StatusUpdate
from .archiving import source_archive_enqueue
from .outbox import event_record

# Query parameters that track a reader rather than name a page.
TRACKING_PARAMETERS = frozenset(
    {
        "fbclid",
        "gclid",
        "dclid",
        "msclkid",
        "mc_cid",
        "mc_eid",
        "igshid",
        "ocid",
        "at_medium",
        "at_campaign",
        "at_custom1",
        "at_custom2",
        "at_custom3",
        "at_custom4",
        "at_link_id",
        "at_link_origin",
        "at_link_type",
        "at_bbc_team",
        "at_format",
        "at_ptr_name",
        "at_ptr_type",
        "_ga",
        "cmpid",
        "ito",
        "xtor",
        "share",
        "ref_src",
        "smid",
    }
)
DEFAULT_PORTS = {"http": 80, "https": 443}


def normalise_url(url: str) -> str:
    """One spelling per page: lower-case scheme and host, no default port, no fragment,
    no tracking parameters, no trailing slash (but the root path is ``/``)."""
    url = (url or "").strip()
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError as exc:
        raise ValidationError(
            {
                "url": _("“%(url)s” is not a web address starting with http:// or https://.")
                % {"url": url[:200]}
            }
        ) from exc
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    host = (parts.hostname or "").lower().rstrip(".")
    port = parts.port
    netloc = host if port in (None, DEFAULT_PORTS.get(scheme)) else f"{host}:{port}"
    if parts.username:
        netloc = f"{parts.username}{':' + parts.password if parts.password else ''}@{netloc}"
    path = parts.path or "/"
    if len(path) > 1:
        path = path.rstrip("/") or "/"
    query = urlencode(
        [
            (key, value)
            for key, value in parse_qsl(parts.query, keep_blank_values=True)
            if not key.lower().startswith("utm_") and key.lower() not in TRACKING_PARAMETERS
        ]
    )
    return urlunsplit((scheme, netloc, path, query, ""))


@transaction.atomic
def source_get_or_create(
    *,
    url: str | None = None,
    title: str,
    outlet: str,
    author: str = "",
    published_on: datetime.date | None = None,
    published_precision: str = DatePrecision.DAY,
    kind: str = Source.Kind.NEWS_REPORT,
    language: str = "en",
    notes: str = "",
) -> tuple[Source, bool]:
    """The source at this address, or a new one. A source without an address (a broadcast
    or print item) is matched by outlet and title instead.

    Returns ``(source, created)``. An existing source is returned as it is: its details
    are not overwritten by a second, possibly less careful, description of it.
    """
    normalised = normalise_url(url) if url and url.strip() else None
    if normalised:
        existing = Source.objects.filter(url=normalised).first()
    else:
        existing = Source.objects.filter(
            url__isnull=True, outlet__iexact=outlet.strip(), title__iexact=title.strip()
        ).first()
    if existing:
        return existing, False
    source = Source(
        url=normalised,
        title=title.strip(),
        outlet=outlet.strip(),
        author=author.strip(),
        published_on=published_on,
        published_precision=published_precision,
        kind=kind,
        language=language,
        notes=notes,
        link_status=Source.LinkStatus.UNCHECKED if normalised else Source.LinkStatus.NO_URL,
    )
    source.full_clean()
    # A concurrent insert of the same address loses to the unique constraint; take the winner.
    try:
        with transaction.atomic():
            source.save()
    except IntegrityError:
        if normalised and (winner := Source.objects.filter(url=normalised).first()):
            return winner, False
        raise
    if normalised:
        # Archived by the Wayback Machine once this transaction commits; never a failure
        # the editor sees (see services/archiving.py).
        source_archive_enqueue(source.pk)
    return source, True


def _validate_effective_date(
    commitment: Commitment, effective_on: datetime.date | None, precision: str
) -> dict[str, str]:
    errors: dict[str, str] = {}
    if effective_on is None:
        return {"effective_on": _("Give the date the change took effect.")}
    if precision not in DatePrecision.values:
        return {
            "effective_precision": _("Unknown date precision “%(precision)s”.")
            % {"precision": precision}
        }
    today = timezone.localdate()
    # A vague date is refused only when every day it could mean is wrong.
    if start_of_period(effective_on, precision) > today:
        errors["effective_on"] = _("This date is after today.")
    elif commitment.made_on and end_of_period(effective_on, precision) < commitment.made_on:
        made = format_vague_date(commitment.made_on, commitment.made_precision)
        errors["effective_on"] = _("This date is before the commitment was made (%(made)s).") % {
            "made": made
        }
    return errors


def _refresh_current_status(commitment: Commitment) -> None:
    """Keep the commitment's status and its date in step with its latest standing update
    (latest by effective date, then by when it was recorded)."""
    latest = StatusUpdate.objects.filter(commitment=commitment).standing().latest_first().first()
    if latest is None:
        commitment.status = Status.NOT_STARTED
        commitment.status_since = None
        commitment.status_since_precision = DatePrecision.DAY
    else:
        commitment.status = latest.status
        commitment.status_since = latest.effective_on
        commitment.status_since_precision = latest.effective_precision
    Commitment.objects.filter(pk=commitment.pk).update(
        status=commitment.status,
        status_since=commitment.status_since,
        status_since_precision=commitment.status_since_precision,
    )


def status_update_errors(
    *,
    commitment: Commitment,
    status: str,
    effective_on: datetime.date | None,
    effective_precision: str,
    description: str,
    sources: list[Source],
    new_sources: Iterable[dict] = (),
    corrects: StatusUpdate | None = None,
    correction_note: str = "",
    correction_note_fr: str = "",
) -> dict[str, str]:
    """Every reason a status update would be refused, keyed by field. The admin's form
    shows these beside the fields; ``status_update_create`` refuses on any of them.
    ``new_sources``: sources described on the spot, recorded and cited on saving."""
    errors: dict[str, str] = {}
    if status not in Status.values:
        known = ", ".join(str(label) for label in Status.labels)
        errors["status"] = _("Unknown status “%(status)s”. Choose one of: %(known)s.") % {
            "status": status,
            "known": known,
        }
    if not sources and not new_sources:
        errors["sources"] = _("A status update needs at least one source.")
    elif any(source.pk is None for source in sources):
        errors["sources"] = _("Save each source before citing it.")
    if not (description or "").strip():
        errors["description"] = _("Say what happened, in your own words.")
    errors.update(_validate_effective_date(commitment, effective_on, effective_precision))
    if corrects is not None:
        if corrects.commitment_id != commitment.pk:
            errors["corrects"] = _("A correction must correct an entry of the same commitment.")
        if not (correction_note or "").strip():
            errors["correction_note"] = _("A correction must say what was wrong.")
    elif (correction_note or "").strip() or (correction_note_fr or "").strip():
        errors["corrects"] = _("Choose the entry this correction corrects.")
    return errors


@transaction.atomic
def status_update_create(
    *,
    commitment: Commitment,
    status: str,
    effective_on: datetime.date,
    effective_precision: str = DatePrecision.DAY,
    description: str,
    description_fr: str = "",
    sources: Iterable[Source] = (),
    new_sources: Iterable[dict] = (),
    recorded_by=None,
    corrects: StatusUpdate | None = None,
    correction_note: str = "",
    correction_note_fr: str = "",
    idempotency_key: uuid.UUID | None = None,
) -> StatusUpdate:
    """Append a step to a commitment's timeline and bring its current status into step.

    It cites ``sources`` picked from the record and ``new_sources`` described on the spot
    (``source_get_or_create`` arguments; a known address is reused; errors about them are
    keyed ``new_source_<field>``). One transaction: if the update is refused, no new
    source is left behind.

    The commitment's row is locked for the length of the transaction, so two editors
    logging updates at once both land, one after the other, and the current status is
    computed from both. On a published commitment its followers are told (an outbox event,
    ``status_update.created`` or ``status_update.corrected``) in the same transaction.

    ``description_fr`` and ``correction_note_fr``: the French, optional (French readers
    then get the English, marked). Once saved, the French changes only through a revision
    (``services.revisions``); the English never does.
    """
    sources = _cited_sources(sources, new_sources)
    given = commitment
    # Lock first: the checks below read the commitment's state.
    lock_public_version()
    commitment = Commitment.objects.select_for_update().get(pk=commitment.pk)
    errors = status_update_errors(
        commitment=commitment,
        status=status,
        effective_on=effective_on,
        effective_precision=effective_precision,
        description=description,
        sources=sources,
        corrects=corrects,
        correction_note=correction_note,
        correction_note_fr=correction_note_fr,
    )
    if errors:
        raise ValidationError(errors)

    update = StatusUpdate(
        commitment=commitment,
        status=status,
        effective_on=start_of_period(effective_on, effective_precision),
        effective_precision=effective_precision,
        description=description.strip(),
        description_fr=(description_fr or "").strip(),
        recorded_by=recorded_by,
        corrects=corrects,
        correction_note=(correction_note or "").strip(),
        correction_note_fr=(correction_note_fr or "").strip(),
        idempotency_key=idempotency_key,
    )
    update.full_clean(exclude=["sources"])
    update.save()
    update.sources.set(sources)
    status_before = commitment.status
    _refresh_current_status(commitment)
    if commitment.is_published:
        # Told in this transaction: the event stands or falls with the update.
        event_record(
            type=EventType.CORRECTION if corrects is not None else EventType.STATUS_UPDATE,
            key=f"status_update:{update.pk}",
            payload=events.status_update_payload(
                update, sources=sources, status_before=status_before
            ),
            commitment=commitment,
        )
    for field in ("status", "status_since", "status_since_precision"):
        setattr(given, field, getattr(commitment, field))
    return update


def _cited_sources(sources: Iterable[Source], new_sources: Iterable[dict]) -> list[Source]:
    """The sources picked, then those described on the spot, recorded (or found by address)
    once every description is valid."""
    cited = list(sources or [])
    described = [dict(item) for item in new_sources or []]
    errors: dict[str, str] = {}
    for item in described:
        for field, message in source_description_errors(**item).items():
            errors.setdefault(f"new_source_{field}", message)
    if errors:
        raise ValidationError(errors)
    for item in described:
        source, _created = source_get_or_create(**item)
        if source not in cited:
            cited.append(source)
    return cited


def source_description_errors(
    *,
    url: str | None = None,
    title: str = "",
    outlet: str = "",
    published_on: datetime.date | None = None,
    published_precision: str = DatePrecision.DAY,
    **_other,
) -> dict[str, str]:
    """Why a source described on the spot (while logging an update) would be refused,
    keyed by ``Source`` field. A known address needs nothing more: that source is reused."""
    errors: dict[str, str] = {}
    known = False
    if url and url.strip():
        try:
            known = Source.objects.filter(url=normalise_url(url)).exists()
        except ValidationError as exc:
            errors["url"] = exc.message_dict["url"][0]
    if not known:
        if not (title or "").strip():
            errors["title"] = _("Give the new source's title.")
        if not (outlet or "").strip():
            errors["outlet"] = _("Give the outlet that published the new source.")
    if published_on and start_of_period(published_on, published_precision) > timezone.localdate():
        errors["published_on"] = _("This date is after today.")
    elif published_on:
        try:
            Source._meta.get_field("published_on").run_validators(published_on)
        except ValidationError as exc:
            errors["published_on"] = " ".join(exc.messages)
    return errors


def _record_once(model, create, idempotency_key, fields: dict):
    """``create(**fields)`` at most once per one-time form token, stored on ``model``'s
    ``idempotency_key`` under a unique constraint: ``(new entry, True)``, or the entry the
    first post with this token recorded and ``False``. Without a token it records every
    time. Two posts at once: the second's savepoint is rolled back when it meets the
    first's token (the constraint's check, or the insert), and the first's entry returned."""
    if idempotency_key is None:
        return create(**fields), True
    if not isinstance(idempotency_key, uuid.UUID):
        try:
            idempotency_key = uuid.UUID(str(idempotency_key))
        except ValueError as exc:
            raise ValidationError({"idempotency_key": _("The form's token is damaged.")}) from exc
    existing = model.objects.filter(idempotency_key=idempotency_key).first()
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            return create(idempotency_key=idempotency_key, **fields), True
    except (IntegrityError, ValidationError):
        # The token's unique constraint, met in full_clean() or on insert: the first call won.
        existing = model.objects.filter(idempotency_key=idempotency_key).first()
        if existing is None:
            raise
        return existing, False


def status_update_create_once(
    *, idempotency_key: uuid.UUID | None, **fields
) -> tuple[StatusUpdate, bool]:
    """``status_update_create``, at most once per one-time form token.

    The token is stored with the update, in the same transaction, under a unique
    constraint. A second call with a token already used records nothing and returns the
    update the first recorded: ``(update, False)``; otherwise ``(new update, True)``. Two
    calls at once with the same token: the second waits on the commitment's row lock, then
    meets the first's token (the constraint's check, or the insert); its savepoint is
    rolled back (nothing it wrote, not even a new source, survives) and the first's update
    is returned.
    Without a token (a caller that has none) it records every time.
    """
    return _record_once(StatusUpdate, status_update_create, idempotency_key, fields)


# --- Checks: "checked, nothing new" ----------------------------------------------------------


def check_errors(
    *, commitment: Commitment | None, checked_on: datetime.date | None, note: str, source=None
) -> dict[str, str]:
    """Every reason a check would be refused, keyed by field (the admin's form shows them
    beside the fields; ``check_record`` refuses on any of them)."""
    errors: dict[str, str] = {}
    if commitment is None:
        errors["commitment"] = _("Choose the commitment that was checked.")
    if checked_on is None:
        errors["checked_on"] = _("Give the date the commitment was checked.")
    elif checked_on > timezone.localdate():
        errors["checked_on"] = _("The date checked is after today.")
    else:
        try:
            Check._meta.get_field("checked_on").run_validators(checked_on)
        except ValidationError as exc:
            errors["checked_on"] = " ".join(exc.messages)
    if not (note or "").strip():
        errors["note"] = _("Say what was checked and what it showed.")
    if source is not None and source.pk is None:
        errors["source"] = _("Save the source before citing it.")
    return errors


@transaction.atomic
def check_record(
    *,
    commitment: Commitment,
    checked_on: datetime.date,
    note: str,
    source: Source | None = None,
    recorded_by=None,
    idempotency_key: uuid.UUID | None = None,
) -> Check:
    """Record an editor's "checked, nothing new" on ``commitment``.

    The commitment page then shows "last checked" beside "as of". A check is not progress:
    it changes neither the status nor its date, and the flag job keeps a *no recent
    progress* flag open (``quiet.py`` reads only the status's date). The insert bumps the
    public version in this transaction (the table's trigger, migration 0016), so cached
    pages show the new date at once.
    """
    errors = check_errors(commitment=commitment, checked_on=checked_on, note=note, source=source)
    if errors:
        raise ValidationError(errors)
    lock_public_version()
    check = Check(
        commitment=commitment,
        checked_on=checked_on,
        note=note.strip(),
        source=source,
        recorded_by=recorded_by,
        idempotency_key=idempotency_key,
    )
    check.full_clean()
    check.save()
    return check


def check_record_once(*, idempotency_key: uuid.UUID | None, **fields) -> tuple[Check, bool]:
    """``check_record``, at most once per one-time form token (as
    ``status_update_create_once``): a form posted twice (a retry, a double click) records
    one check and returns ``(check, False)`` the second time; ``(new check, True)``
    otherwise. Without a token it records every time."""
    return _record_once(Check, check_record, idempotency_key, fields)
