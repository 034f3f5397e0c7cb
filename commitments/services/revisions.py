"""Revisions: published material changes only under a publisher's eye, and always leaves a
public trace.

Once something is public (a published commitment, or anything one shows: its statements,
sources, actors, topics, indicators and their figures), a change to it is not saved
directly. ``revision_submit`` compares the stored record with the proposed values and
writes a ``Revision``: each changed field with what it said before and what it says now,
as readers will see them, plus who (by role), when, why, and whether it is a correction
or a minor edit. An editor's revision waits for a publisher (``revision_apply`` or
``revision_reject``); a publisher's own is applied at once. Applying checks that nothing
changed in between, validates the record as the form would, and saves it with the reason
on django-simple-history's row, so the admin's full-row history and the public change
history tell the same story.

Why a ``Revision`` row and not simple-history alone: simple-history keeps full rows per
model after the fact; it has no place for a change that is not yet applied, for who
approved it, for its kind, or for the actors and related commitments of a commitment
(rows of other tables). The revision is the editorial record and the public one;
simple-history stays the complete audit trail behind it, and its own "revert" form is
closed (``admin.NoRevertMixin``), so it is no route around the publisher.

Status updates are append-only, and a mistake is a correction entry; only their French
(our translation of the step's words, not evidence) may change, and only through a revision
(``REVISED_FIELDS[StatusUpdate]``), which migration 0019's trigger lets through.

Both languages are revised alike (issue 13): every ``<field>_fr`` of
``languages.TRANSLATED_FIELDS`` and the quotes' language and translations are revised
fields, so a change to the French leaves the same public trace as one to the English,
labelled by the field's verbose name ("Title (French)").
"""

from __future__ import annotations

import copy
import decimal
from typing import Any

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import FieldDoesNotExist, ValidationError
from django.db import models, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.text import capfirst
from django.utils.translation import gettext as _

from .. import events, roles
from ..caching import lock_public_version
from ..dates import format_vague_date
from ..languages import TRANSLATED_FIELDS, field_name
from ..models import (
    Actor,
    ActorRole,
    Commitment,
    CommitmentActor,
    CommitmentRelation,
    EventType,
    Indicator,
    Observation,
    Revision,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)
from .outbox import event_record
from .publishing import PUBLISH_PERMISSION, commitment_publish_errors

#: What readers see of each kind of record, field by field, in English. ``roles`` and
#: ``relations`` are a commitment's actors (with their roles) and its related commitments.
_ENGLISH_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    Commitment: (
        "title",
        "slug",
        "summary",
        "original_wording",
        "original_wording_language",
        "original_wording_translation_en",
        "original_wording_translation_fr",
        "made_on",
        "made_precision",
        "made_in",
        "made_where",
        "deadline",
        "deadline_precision",
        "topics",
        "roles",
        "relations",
    ),
    Statement: (
        "text",
        "language",
        "translation_en",
        "translation_fr",
        "kind",
        "speaker",
        "speaker_description",
        "said_on",
        "said_precision",
        "source",
        "commitments",
    ),
    Observation: ("indicator", "observed_on", "observed_precision", "value", "source", "note"),
    Source: (
        "url",
        "title",
        "outlet",
        "author",
        "published_on",
        "published_precision",
        "kind",
        "language",
        "notes",
    ),
    Indicator: (
        "name",
        "slug",
        "description",
        "unit",
        "comparison_label",
        "comparison_value",
        "comparison_source",
        "commitments",
        "topics",
    ),
    Actor: ("name", "slug", "kind", "country", "role", "parent", "description"),
    Topic: ("name", "slug", "description"),
}


def _with_french(model, names: tuple[str, ...]) -> tuple[str, ...]:
    """``names`` with each translated field's French version right after it."""
    translated = TRANSLATED_FIELDS.get(model.__name__, ())
    out: list[str] = []
    for name in names:
        out.append(name)
        if name in translated:
            out.append(field_name(name, "fr"))
    return tuple(out)


#: What readers see of each kind of record, field by field, in both languages. A status
#: update is revised only in French: its English words are evidence, corrected by a new
#: entry; the French is our translation (the append-only trigger lets exactly these
#: columns change, migration 0019).
REVISED_FIELDS: dict[type[models.Model], tuple[str, ...]] = {
    **{model: _with_french(model, names) for model, names in _ENGLISH_FIELDS.items()},
    StatusUpdate: ("description_fr", "correction_note_fr"),
}

#: A commitment's pseudo fields: the rows behind them as (model, owner, first, second).
ROW_FIELDS = {
    "roles": (CommitmentActor, "commitment", "actor_id", "role"),
    "relations": (CommitmentRelation, "from_commitment", "to_commitment_id", "kind"),
}


PSEUDO_FIELDS = Revision.PSEUDO_FIELDS


def role_label(user) -> str:
    """Who made or approved a change, as the public reads it: by role, never by name."""
    if user is not None and user.has_perm(PUBLISH_PERMISSION):
        return roles.PUBLISHER
    return roles.EDITOR


# --- Which published commitments show a record ------------------------------------------


def commitments_showing(obj) -> QuerySet[Commitment]:
    """The published commitments whose pages show ``obj``: their change histories list
    its revisions, and a record shown by none is a draft's business, changed freely."""
    published = Commitment.objects.public()
    model = type(obj)
    if model is Commitment:
        return published.filter(pk=obj.pk)
    if model is Statement:
        return published.filter(statements=obj)
    if model is StatusUpdate:
        return published.filter(status_updates=obj)
    if model is Observation:
        return published.filter(indicators__observations=obj)
    if model is Indicator:
        return published.filter(indicators=obj)
    if model is Topic:
        return published.filter(topics=obj)
    if model is Actor:
        return published.filter(
            pk__in=Commitment.objects.filter(
                Q(roles__actor=obj) | Q(statements__speaker=obj)
            ).values("pk")
        )
    if model is Source:
        return published.filter(
            pk__in=Commitment.objects.filter(
                Q(made_in=obj)
                | Q(status_updates__sources=obj)
                | Q(statements__source=obj)
                | Q(indicators__observations__source=obj)
                | Q(indicators__comparison_source=obj)
            ).values("pk")
        )
    return published.none()


def revision_needed(obj) -> bool:
    """Whether a change to ``obj`` must go through a revision: it is public."""
    if obj is None or obj.pk is None or type(obj) not in REVISED_FIELDS:
        return False
    return type(obj).objects.public().filter(pk=obj.pk).exists()


# --- Values as stored, and as shown ------------------------------------------------------


def _json(field, value) -> Any:
    if value is None:
        return None
    if isinstance(field, models.DecimalField):
        quantum = decimal.Decimal(1).scaleb(-field.decimal_places)
        return format(decimal.Decimal(value).quantize(quantum), "f")
    if isinstance(field, models.DateField):
        return value.isoformat()
    if isinstance(value, models.Model):
        return value.pk
    return value


def stored_value(obj, name: str) -> Any:
    """The JSON value of one revised field of ``obj`` as it is in the database now."""
    if name in ROW_FIELDS:
        model, owner, first, second = ROW_FIELDS[name]
        return sorted(
            [list(pair) for pair in model.objects.filter(**{owner: obj}).values_list(first, second)]
        )
    field = obj._meta.get_field(name)
    if field.many_to_many:
        return sorted(getattr(obj, name).values_list("pk", flat=True))
    return _json(field, getattr(obj, field.attname))


def proposed_value(field_or_name, value) -> Any:
    """The JSON value of a value typed in a form (a model instance, a queryset, a date)."""
    if field_or_name in PSEUDO_FIELDS:
        return sorted([_pk(a), str(b)] for a, b in value)
    field = field_or_name
    if field.many_to_many:
        return sorted(_pk(item) for item in value)
    if field.is_relation:
        return _pk(value)
    if isinstance(field, (models.CharField, models.TextField)) and value is None:
        return None if field.null else ""
    return _json(field, value)


def _pk(value):
    return value.pk if isinstance(value, models.Model) else value


def _precision_of(model, date_field: str) -> str | None:
    for name, precision in getattr(model, "vague_dates", ()):
        if name == date_field:
            return precision
    return None


def _display(model, name: str, value: Any, side: dict[str, Any]) -> str:
    """``value`` as a reader would see it; ``side`` holds the other values of the same
    version (a date is shown at its own precision)."""
    if value in (None, "", []):
        return "—"
    if name == "roles":
        actors = Actor.objects.in_bulk([actor_id for actor_id, _role in value])
        return "; ".join(
            f"{actors[a].name if a in actors else a} ({ActorRole(role).label})" for a, role in value
        )
    if name == "relations":
        titles = dict(
            Commitment.objects.filter(pk__in=[c for c, _k in value]).values_list("pk", "title")
        )
        labels = dict(CommitmentRelation.Kind.choices)
        return "; ".join(f"{labels.get(kind, kind)} {titles.get(c, c)}" for c, kind in value)
    field = model._meta.get_field(name)
    if field.many_to_many:
        related = field.related_model.objects.in_bulk(value)
        return "; ".join(str(related.get(pk, pk)) for pk in value)
    if field.is_relation:
        related = field.related_model.objects.filter(pk=value).first()
        return str(related) if related is not None else str(value)
    if field.choices:
        return str(dict(field.flatchoices).get(value, value))
    if isinstance(field, models.DateField):
        import datetime

        precision_field = _precision_of(model, name)
        precision = side.get(precision_field) if precision_field else None
        return format_vague_date(datetime.date.fromisoformat(value), precision or "day")
    return str(value)


def _label(model, name: str) -> str:
    return Revision.field_label(model, name)


def _is_related(model, name: str) -> bool:
    return name in PSEUDO_FIELDS or model._meta.get_field(name).many_to_many


def object_label(obj) -> str:
    """What the change is to, as a reader would name it: "Direct quote by ...",
    "Figure: Arrivals, October 2025", "Source: BBC News: ..."."""
    if isinstance(obj, Statement):
        label = f"{obj.get_kind_display()} by {obj.attribution}"
    elif isinstance(obj, Observation):
        label = f"Figure: {obj.indicator.name}, {obj.vague('observed_on')}"
    elif isinstance(obj, Source):
        label = f"Source: {obj.outlet}: {obj.title}"
    elif isinstance(obj, StatusUpdate):
        label = f"Status update, {obj.vague('effective_on')}: {obj.commitment.title}"
    else:
        label = f"{str(type(obj)._meta.verbose_name).capitalize()}: {obj}"
    return label[:300]


def revision_changes(*, obj, after: dict[str, Any]) -> list[dict[str, Any]]:
    """Each revised field whose proposed JSON value differs from what is stored, with both
    values as readers see them. ``after`` maps field names to ``proposed_value``s; fields
    it leaves out are unchanged."""
    model = type(obj)
    names = [name for name in REVISED_FIELDS[model] if name in after]
    before = {name: stored_value(obj, name) for name in REVISED_FIELDS[model]}
    # Proposed values as they would be saved: vague dates at the start of their period.
    candidate = copy.copy(obj)
    _set_values(candidate, {name: after[name] for name in names})
    if hasattr(candidate, "normalise_vague_dates"):
        candidate.normalise_vague_dates()
    proposed = {
        **before,
        **{
            name: after[name] if _is_related(model, name) else stored_value(candidate, name)
            for name in names
        },
    }
    # Stored in the site's language (as ``object_label``), whichever language the editor
    # works in; a page in another language labels a change again from its ``field``.
    with translation.override(settings.LANGUAGE_CODE):
        return _changes_list(model, names, before, proposed)


def _changes_list(model, names, before, proposed) -> list[dict[str, Any]]:
    return [
        {
            "field": name,
            "label": _label(model, name),
            "before": before[name],
            "after": proposed[name],
            "before_text": _display(model, name, before[name], before),
            "after_text": _display(model, name, proposed[name], proposed),
        }
        for name in names
        if before[name] != proposed[name]
    ]


# --- Writing -----------------------------------------------------------------------------


def _named(exc: ValidationError, model) -> ValidationError:
    """``exc`` with each message saying which field it is about ("Language: Use a language
    code such as en or fr."), still keyed by field so a form shows it beside the field."""
    if not hasattr(exc, "error_dict"):
        return exc
    named = {}
    for name, messages in exc.message_dict.items():
        try:
            label = str(model._meta.get_field(name).verbose_name)
        except FieldDoesNotExist:  # NON_FIELD_ERRORS, or a name that is not a field
            named[name] = messages
            continue
        named[name] = [
            _("%(label)s: %(message)s") % {"label": capfirst(label), "message": message}
            for message in messages
        ]
    return ValidationError(named)


def _check_fields(obj, changes: list[dict[str, Any]]) -> None:
    """Each changed field's proposed value as the field itself judges it (its length, its
    choices, a language code's form), before anything is written. Rules across fields are
    the record's own ``clean`` and wait for ``revision_apply``."""
    candidate = copy.copy(obj)
    names = [c["field"] for c in changes if not _is_related(type(obj), c["field"])]
    _set_values(candidate, {c["field"]: c["after"] for c in changes if c["field"] in names})
    exclude = [f.name for f in type(obj)._meta.concrete_fields if f.name not in names]
    try:
        candidate.clean_fields(exclude=exclude)
    except ValidationError as exc:
        raise _named(exc, type(obj)) from exc


def _check_kind_and_reason(kind: str, reason: str) -> dict[str, str]:
    errors = {}
    if kind not in Revision.Kind.values:
        errors["kind"] = _("Say whether this is a correction or a minor edit.")
    if not reason:
        errors["reason"] = _(
            "Say why this change is made: readers see the reason beside the change."
        )
    elif len(reason) > 2000:
        errors["reason"] = _("Keep the reason under 2,000 characters.")
    return errors


#: The permission that lets one propose a change, when it is not ``change_<model>``: who may
#: log a step may translate one (no one may change a step otherwise).
_REVISE_ACTION = {StatusUpdate: "add"}


def _may_change(user, model) -> bool:
    opts = model._meta
    action = _REVISE_ACTION.get(model, "change")
    return user is not None and user.has_perm(f"{opts.app_label}.{action}_{opts.model_name}")


@transaction.atomic
def revision_submit(
    *, obj, after: dict[str, Any], kind: str, reason: str, by, reason_fr: str = ""
) -> Revision | None:
    """Record a change to a public record: proposed when ``by`` is an editor, applied at
    once when ``by`` is a publisher. Returns None when nothing would change, and the
    waiting revision when the same editor proposes the same change twice. ``reason_fr``:
    the reason in French, optional (French readers get the English one, marked)."""
    reason = (reason or "").strip()
    reason_fr = (reason_fr or "").strip()
    model = type(obj)
    errors = _check_kind_and_reason(kind, reason)
    if len(reason_fr) > 2000:
        errors["reason_fr"] = _("Keep the reason in French under 2,000 characters.")
    if model not in REVISED_FIELDS:
        errors["__all__"] = _("This kind of record is not revised here.")
    elif not _may_change(by, model):
        errors["__all__"] = _("Your account may not change %(things)s.") % {
            "things": model._meta.verbose_name_plural
        }
    if errors:
        raise ValidationError(errors)
    lock_public_version()
    stored = model._default_manager.select_for_update().get(pk=obj.pk)
    changes = revision_changes(obj=stored, after=after)
    if not changes:
        return None
    _check_fields(stored, changes)
    content_type = ContentType.objects.get_for_model(model)
    waiting = Revision.objects.proposed().filter(
        content_type=content_type, object_id=stored.pk, proposed_by=by, changes=changes
    )
    if by.has_perm(PUBLISH_PERMISSION) is False and waiting.exists():
        return waiting.first()
    revision = Revision.objects.create(
        content_type=content_type,
        object_id=stored.pk,
        object_label=object_label(stored),
        changes=changes,
        kind=kind,
        reason=reason,
        reason_fr=reason_fr,
        proposed_by=by,
        proposed_role=role_label(by),
        proposed_at=timezone.now(),
    )
    revision.commitments.set(commitments_showing(stored))
    if by.has_perm(PUBLISH_PERMISSION):
        return revision_apply(revision=revision, by=by)
    return revision


def _only_publishers(user) -> None:
    if user is None or not user.has_perm(PUBLISH_PERMISSION):
        raise ValidationError(
            {"state": _("Only a publisher can apply or reject a proposed change.")}
        )


def _lock_proposed(revision: Revision) -> Revision:
    lock_public_version()
    locked = Revision.objects.select_for_update().get(pk=revision.pk)
    if locked.state != Revision.State.PROPOSED:
        raise ValidationError(
            {
                "state": _("This change was already %(state)s.")
                % {"state": locked.get_state_display().lower()}
            }
        )
    return locked


def _set_values(obj, values: dict[str, Any]) -> dict[str, Any]:
    """Set the concrete fields; return the rest (many-to-many and pseudo fields)."""
    later = {}
    for name, value in values.items():
        if name in PSEUDO_FIELDS:
            later[name] = value
            continue
        field = obj._meta.get_field(name)
        if field.many_to_many:
            later[name] = value
        else:
            setattr(obj, field.attname, field.to_python(value) if value is not None else None)
    return later


def _set_related(obj, values: dict[str, Any]) -> None:
    """Many-to-many fields are set; pseudo fields' rows are deleted or added to match."""
    for name, value in values.items():
        if name not in ROW_FIELDS:
            getattr(obj, name).set(value)
            continue
        model, owner, first, second = ROW_FIELDS[name]
        wanted = {(a, b) for a, b in value}
        existing = {
            (getattr(row, first), getattr(row, second)): row
            for row in model.objects.filter(**{owner: obj})
        }
        for key, row in existing.items():
            if key not in wanted:
                row.delete()
        model.objects.bulk_create(
            [model(**{owner: obj, first: a, second: b}) for a, b in wanted - set(existing)]
        )


@transaction.atomic
def revision_apply(*, revision: Revision, by, note: str = "") -> Revision:
    """A publisher applies a proposed change: the record is checked (nothing changed since
    it was proposed), validated as the form would, saved with its reason in the history,
    and the revision is marked applied. Applying twice applies once. The followers of what
    it changed are told (``revision.applied`` events) in the same transaction."""
    _only_publishers(by)
    locked = _lock_proposed(revision)
    model = locked.content_type.model_class()
    lock_public_version()
    obj = model._default_manager.select_for_update().filter(pk=locked.object_id).first()
    if obj is None:
        raise ValidationError({"state": _("The record this change is to has been deleted.")})
    moved = [c["label"] for c in locked.changes if stored_value(obj, c["field"]) != c["before"]]
    if moved:
        raise ValidationError(
            {
                "state": _(
                    "%(fields)s changed after this was proposed. Reject it and propose the "
                    "change again from the current version."
                )
                % {"fields": ", ".join(moved)}
            }
        )
    showing_before = set(commitments_showing(obj).values_list("pk", flat=True))
    related = _set_values(obj, {c["field"]: c["after"] for c in locked.changes})
    try:
        obj.full_clean()
    except ValidationError as exc:
        raise _named(exc, model) from exc
    if model is Commitment and obj.is_published:
        errors = commitment_publish_errors(commitment=obj)
        if errors:
            raise ValidationError(errors)
    obj._change_reason = f"{locked.get_kind_display()}: {locked.reason}"[:100]
    obj._history_user = by
    if model is StatusUpdate:
        # Append-only: only the revised columns (its French) are written, which is all the
        # table's trigger lets change on a saved step.
        obj.save(update_fields=[c["field"] for c in locked.changes])
    else:
        obj.save()
    _set_related(obj, related)
    locked.state = Revision.State.APPLIED
    locked.decided_by = by
    locked.decided_role = role_label(by)
    locked.decided_at = timezone.now()
    locked.decision_note = (note or "").strip()
    locked.object_label = object_label(obj)
    locked.save()
    showing = showing_before | set(commitments_showing(obj).values_list("pk", flat=True))
    locked.commitments.set(showing)
    _revision_events_record(locked, obj=obj, showing=showing)
    return locked


def _revision_events_record(revision: Revision, *, obj, showing: set[int]) -> None:
    """Tell the followers of each published commitment that shows the revised record
    (one ``revision.applied`` event each, linking to its entry on that commitment's change
    history). An actor or a topic is told once, in one event about it: its fan-out reaches
    the followers of the actor or topic and of the commitments it shows
    (``outbox.followers_of``), each address once, where an event per commitment would tell
    a follower of the actor once per commitment. In the applying transaction; nothing for a
    record no published commitment shows."""
    if not showing:
        return
    if isinstance(obj, (Actor, Topic)):
        subject = "actor" if isinstance(obj, Actor) else "topic"
        event_record(
            type=EventType.REVISION,
            key=f"revision:{revision.pk}:{subject}",
            payload=events.revision_payload(revision, **{subject: obj}),
            **{subject: obj},
        )
        return
    for commitment in Commitment.objects.filter(pk__in=showing).order_by("pk"):
        event_record(
            type=EventType.REVISION,
            key=f"revision:{revision.pk}:{commitment.pk}",
            payload=events.revision_payload(revision, commitment=commitment),
            commitment=commitment,
        )


@transaction.atomic
def revision_reject(*, revision: Revision, by, note: str) -> Revision:
    """A publisher turns a proposed change down, saying why; the record stays as it is."""
    _only_publishers(by)
    note = (note or "").strip()
    if not note:
        raise ValidationError({"decision_note": _("Say why the change is rejected.")})
    locked = _lock_proposed(revision)
    locked.state = Revision.State.REJECTED
    locked.decided_by = by
    locked.decided_role = role_label(by)
    locked.decided_at = timezone.now()
    locked.decision_note = note
    locked.save()
    return locked


def change_label(model, name: str) -> str:
    """The label of a revised field in the active language ("Title (French)", "Titre (en
    français)"): a change stores its label in the site's language; a page in another
    language labels it again from the change's ``field`` with this."""
    return _label(model, name)
