"""The editors' side: the admin's registrations, list filters, publish and review views
and bulk actions. Writes go through ``services`` and forms live in ``forms.py`` (they
show what the services say); this module must not restate a service's rule, nor name a
role or permission except through ``roles.py``.

On top of the model permissions, this module refuses, object by object: editing a
published commitment without the publish permission, deleting anything public
(``services.deletion_refusals``, asked for single and bulk deletes alike), and editing or
deleting a status update (for everyone: corrections instead).
"""

from __future__ import annotations

from django.contrib import admin, messages
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, OuterRef, Subquery
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.text import Truncator
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext, ngettext_lazy
from simple_history.admin import SimpleHistoryAdmin

from . import models, services
from .dates import format_vague_date
from .forms import (
    REVISION_FIELD_NAMES,
    REVISION_FIELDS,
    WEBHOOK_ENDPOINT_FIELDS,
    BilingualModelForm,
    CheckForm,
    CommitmentForm,
    ReviewNoteForm,
    RevisionDecisionForm,
    SourceForm,
    StatusUpdateForm,
    StatusUpdateFrenchForm,
    WebhookEndpointForm,
    revision_form,
    show_service_errors,
)
from .languages import TRANSLATED_FIELDS, field_name
from .querysets import open_flag_through
from .roles import PUBLISH_PERMISSION, RESOLVE_PERMISSION, RETRY_WEBHOOKS_PERMISSION

admin.site.site_header = _("Commitment tracker: editors")
admin.site.site_title = _("Commitment tracker")
admin.site.index_title = _("Newsroom desk")
# The model list beside every page took 300 px of a 1280 px screen from the lists; the
# breadcrumbs and the desk's home page lead everywhere it did.
admin.site.enable_nav_sidebar = False


#: Said above the fields of every form with French beside the English.
FRENCH_NOTE = _(
    "Each text in English has its French beside it. The French may be left blank: readers "
    "of the French pages then get the English, marked as not yet translated."
)


def bilingual(model_name: str, rows) -> list:
    """A fieldset's rows with each translated field (``languages.TRANSLATED_FIELDS``) and
    its French on one row: ``"title"`` becomes ``("title", "title_fr")``, which the admin
    shows side by side (two columns: ``templates/admin/base_site.html``)."""
    translated = TRANSLATED_FIELDS.get(model_name, ())
    return [
        (row, field_name(row, "fr")) if isinstance(row, str) and row in translated else row
        for row in rows
    ]


def _row_names(row) -> tuple:
    return row if isinstance(row, (tuple, list)) else (row,)


class ViewOnlyMixin:
    """Records written only by the services or the jobs: shown, never added, edited or
    deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class NoRevertMixin:
    """django-simple-history's "revert" form saves an old version on POST after checking
    only the view permission: a route around the publisher. Here the history stays
    readable and the form never saves; to restore earlier wording, an editor proposes it
    through the normal form, with a reason (``RevisedRecordMixin``)."""

    def revert_disabled(self, request, obj=None):
        return True

    def history_form_view(self, request, object_id, version_id, extra_context=None):
        if request.method not in ("GET", "HEAD"):
            raise PermissionDenied(
                _("Earlier versions cannot be restored from the history; edit the record.")
            )
        return super().history_form_view(request, object_id, version_id, extra_context)


def _revision_needed(request, obj) -> bool:
    """``services.revision_needed``, asked once per record and request (the admin asks it
    for every permission check, form and fieldset)."""
    if obj is None or obj.pk is None:
        return False
    cache = request.__dict__.setdefault("_revision_needed", {})
    key = (type(obj), obj.pk)
    if key not in cache:
        cache[key] = services.revision_needed(obj)
    return cache[key]


class RevisedRecordMixin:
    """Public material changes only through a revision (``services.revisions``).

    On the change form of anything public the editor says what kind of change it is and
    why; saving then proposes the change (an editor) or applies it with its public trace
    (a publisher). The record itself is not saved here. Inlines that hold public material
    (a commitment's actors and related commitments) are part of the revision; others may
    only add new rows (``AddOnlyWhenPublicInline``)."""

    #: Inline formsets whose rows are revised as a pseudo field: name -> (inline, fields).
    revised_inlines: dict[str, tuple[type, tuple[str, str]]] = {}

    def _is_public(self, request, obj) -> bool:
        return _revision_needed(request, obj)

    def get_form(self, request, obj=None, change=False, **kwargs):
        if self._is_public(request, obj):
            kwargs["form"] = revision_form(kwargs.get("form", self.form))
        return super().get_form(request, obj, change, **kwargs)

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if not self._is_public(request, obj):
            return fieldsets
        kept = []
        for name, options in fieldsets:
            fields = [
                f for f in options["fields"] if not set(_row_names(f)) <= set(REVISION_FIELD_NAMES)
            ]
            if fields:
                kept.append((name, {**options, "fields": fields}))
        return [
            *kept,
            (
                _("Why this change? It is shown on the public change history"),
                {
                    "fields": REVISION_FIELDS,
                    "description": _(
                        "This record is public. A publisher's change is applied at once; an "
                        "editor's waits for a publisher to approve it."
                    ),
                },
            ),
        ]

    def save_model(self, request, obj, form, change):
        if change and self._is_public(request, obj):
            return  # saved, if at all, by the revision service in save_related
        super().save_model(request, obj, form, change)

    def _proposed_values(self, form, formsets) -> dict:
        revised = services.revisions.REVISED_FIELDS[self.model]
        after = {}
        for name in revised:
            if name in form.fields and name not in REVISION_FIELD_NAMES:
                field = self.model._meta.get_field(name)
                if field.many_to_many:
                    value = form.cleaned_data.get(name) or []
                else:
                    value = getattr(form.instance, field.attname)
                after[name] = services.revisions.proposed_value(field, value)
        for formset in formsets:
            for name, (inline, (first, second)) in self.revised_inlines.items():
                if formset.model is inline.model:
                    rows = [
                        (f.cleaned_data[first], f.cleaned_data[second])
                        for f in formset.forms
                        if f.cleaned_data
                        and not f.cleaned_data.get("DELETE")
                        and f.cleaned_data.get(first)
                        and f.cleaned_data.get(second)
                    ]
                    after[name] = services.revisions.proposed_value(name, rows)
        return after

    def save_related(self, request, form, formsets, change):
        if not (change and self._is_public(request, form.instance)):
            return super().save_related(request, form, formsets, change)
        try:
            revision = services.revision_submit(
                obj=form.instance,
                after=self._proposed_values(form, formsets),
                kind=form.cleaned_data["revision_kind"],
                reason=form.cleaned_data["revision_reason"],
                reason_fr=form.cleaned_data.get("revision_reason_fr", ""),
                by=request.user,
            )
        except ValidationError as exc:
            request._revision_outcome = ("refused", exc.messages)
            return None
        # New rows of add-only inlines (e.g. a new figure for a public indicator).
        for formset in formsets:
            if getattr(formset, "add_only", False):
                self.save_formset(request, form, formset, change=True)
        request._revision_outcome = (
            ("none", None) if revision is None else (revision.state, revision)
        )
        return None

    def change_view(self, request, object_id, form_url="", extra_context=None):
        if request.method == "GET":
            obj = self.get_object(request, object_id)
            waiting = models.Revision.objects.proposed().for_object(obj).count() if obj else 0
            if waiting:
                self.message_user(
                    request,
                    format_html(
                        '{} <a href="{}?state=proposed&amp;q={}">{}</a>',
                        _("Changes to this record wait for a publisher: %(n)d.") % {"n": waiting},
                        reverse("admin:commitments_revision_changelist"),
                        str(obj)[:40],
                        _("See them"),
                    ),
                    messages.WARNING,
                )
        return super().change_view(request, object_id, form_url, extra_context)

    def construct_change_message(self, request, form, formsets, add=False):
        if getattr(request, "_revision_outcome", None) is not None:
            # The inlines were not saved (the revision holds them): log the form's fields.
            formsets = [f for f in formsets if getattr(f, "add_only", False)]
        return super().construct_change_message(request, form, formsets, add)

    def response_change(self, request, obj):
        outcome = getattr(request, "_revision_outcome", None)
        if outcome is None:
            return super().response_change(request, obj)
        state, detail = outcome
        if state == "refused":
            for message in detail:
                self.message_user(request, message, messages.ERROR)
        else:
            tell_revision_outcome(self, request, None if state == "none" else detail)
        return redirect(request.path)


def tell_revision_outcome(model_admin, request, revision) -> None:
    """What became of a change submitted as a revision, in the editor's message bar:
    nothing changed, applied at once (a publisher's), or proposed with a link to it."""
    if revision is None:
        model_admin.message_user(request, _("Nothing public changed."), messages.INFO)
    elif revision.state == models.Revision.State.APPLIED:
        model_admin.message_user(
            request,
            _("Changed. The change and its reason are on the public change history."),
            messages.SUCCESS,
        )
    else:
        model_admin.message_user(
            request,
            format_html(
                '{} <a href="{}">{}</a>',
                _(
                    "Your change is proposed and waits for a publisher; the public "
                    "pages still show the earlier version."
                ),
                reverse("admin:commitments_revision_change", args=[revision.pk]),
                _("See the proposal"),
            ),
            messages.SUCCESS,
        )


class AddOnlyWhenPublicInline(admin.TabularInline):
    """Rows of a public record's inline that are themselves public: new ones may be added
    (new evidence, dated and sourced); existing ones change on their own page, through a
    revision."""

    show_change_link = True
    view_on_site = False  # one link per row, not "View View on site" (StatusUpdateInline)

    def _parent_public(self, request, obj):
        return _revision_needed(request, obj)

    def has_change_permission(self, request, obj=None):
        if self._parent_public(request, obj):
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if self._parent_public(request, obj):
            return False
        return super().has_delete_permission(request, obj)

    def get_formset(self, request, obj=None, **kwargs):
        formset = super().get_formset(request, obj, **kwargs)
        formset.add_only = self._parent_public(request, obj)
        return formset


class PublicRecordMixin:
    """Refuses to delete what is public, whether from the object's page or with the
    bulk "delete selected" action: both ask ``get_deleted_objects`` first."""

    def _refusals(self, request, objs):
        queryset = self.model._default_manager.filter(pk__in=[obj.pk for obj in objs])
        return services.deletion_refusals(queryset=queryset, user=request.user)

    def has_delete_permission(self, request, obj=None):
        if not super().has_delete_permission(request, obj):
            return False
        return obj is None or not self._refusals(request, [obj])

    def get_deleted_objects(self, objs, request):
        deleted, counts, perms_needed, protected = super().get_deleted_objects(objs, request)
        refusals = self._refusals(request, objs)
        if refusals:
            # Shown as "protected": the page then says why, and nothing can be deleted.
            lacking = [
                _("Your account may not delete %(things)s.") % {"things": name}
                for name in sorted(perms_needed)
            ]
            return deleted, counts, set(), [*protected, *refusals, *lacking]
        return deleted, counts, perms_needed, protected

    def delete_model(self, request, obj):
        if self._refusals(request, [obj]):
            raise PermissionDenied
        super().delete_model(request, obj)

    def delete_queryset(self, request, queryset):
        if self._refusals(request, queryset):
            raise PermissionDenied
        super().delete_queryset(request, queryset)


@admin.register(models.Actor)
class ActorAdmin(RevisedRecordMixin, PublicRecordMixin, admin.ModelAdmin):
    form = BilingualModelForm
    list_display = ["name", "kind", "role", "country", "parent"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "name_fr", "role", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]
    fieldsets = [
        (
            None,
            {
                "fields": bilingual(
                    "Actor", ["name", "slug", "kind", "country", "role", "parent", "description"]
                ),
                "description": FRENCH_NOTE,
            },
        )
    ]


@admin.register(models.Topic)
class TopicAdmin(RevisedRecordMixin, PublicRecordMixin, admin.ModelAdmin):
    form = BilingualModelForm
    list_display = ["name", "slug"]
    search_fields = ["name", "name_fr", "description"]
    prepopulated_fields = {"slug": ["name"]}
    fieldsets = [
        (
            None,
            {
                "fields": bilingual("Topic", ["name", "slug", "description"]),
                "description": FRENCH_NOTE,
            },
        )
    ]


@admin.register(models.Source)
class SourceAdmin(RevisedRecordMixin, NoRevertMixin, PublicRecordMixin, SimpleHistoryAdmin):
    form = SourceForm
    list_display = ["title", "outlet", "published_display", "kind", "link_status", "archived"]
    list_filter = ["kind", "link_status", "outlet", "language"]
    search_fields = ["title", "outlet", "author", "url"]
    date_hierarchy = "published_on"
    readonly_fields = [
        "archive_url",
        "archived_at",
        "link_status",
        "last_checked_at",
        "last_http_status",
        "final_url",
        "consecutive_failures",
        "created_at",
    ]
    fieldsets = [
        (None, {"fields": ["url", "title", "outlet", "author", "kind", "language", "notes"]}),
        (_("Publication date"), {"fields": [("published_on", "published_precision")]}),
        (
            _("Link health and archive (kept by the background jobs)"),
            {"fields": readonly_fields, "classes": ["collapse"]},
        ),
    ]

    @admin.display(description=_("published"), ordering="published_on")
    def published_display(self, obj):
        return obj.vague("published_on")

    @admin.display(description=_("archived"), boolean=True)
    def archived(self, obj):
        return bool(obj.archive_url)

    def save_model(self, request, obj, form, change):
        if change:
            super().save_model(request, obj, form, change)
            return
        source, _created = services.source_get_or_create(
            url=form.cleaned_data.get("url"),
            title=obj.title,
            outlet=obj.outlet,
            author=obj.author,
            published_on=obj.published_on,
            published_precision=obj.published_precision,
            kind=obj.kind,
            language=obj.language,
            notes=obj.notes,
        )
        form.instance = source
        obj.pk = source.pk


class CommitmentActorInline(admin.TabularInline):
    model = models.CommitmentActor
    extra = 1
    autocomplete_fields = ["actor"]


class CommitmentRelationInline(admin.TabularInline):
    model = models.CommitmentRelation
    fk_name = "from_commitment"
    extra = 0
    autocomplete_fields = ["to_commitment"]
    verbose_name = _("related commitment")


class StatusUpdateInline(ViewOnlyMixin, admin.TabularInline):
    """The status history on the commitment's page: past entries are read-only. New
    entries go through "Log status update", and a mistake through "Correct", both of
    which call the service."""

    model = models.StatusUpdate
    fk_name = "commitment"
    extra = 0
    can_delete = False
    show_change_link = True
    # Beside the "View" link, Django's "View on site" read "View View on site": one link
    # per row (the entry's own page, which links to its public permalink).
    view_on_site = False
    fields = [
        "effective_display",
        "status",
        "description",
        "cited",
        "corrects",
        "recorded_by",
        "correct_link",
    ]
    readonly_fields = fields
    ordering = ["-effective_on", "-recorded_at", "-id"]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("recorded_by", "corrects__commitment", "commitment")
            .prefetch_related("sources")
        )

    @admin.display(description=_("took effect"))
    def effective_display(self, obj):
        return obj.vague("effective_on")

    @admin.display(description=_("sources"))
    def cited(self, obj):
        return "; ".join(f"{source.outlet}: {source.title}" for source in obj.sources.all())

    @admin.display(description=_("mistake?"))
    def correct_link(self, obj):
        url = reverse("admin:commitments_statusupdate_add")
        return format_html(
            '<a href="{}?commitment={}&amp;corrects={}">{}</a>',
            url,
            obj.commitment_id,
            obj.pk,
            _("Correct"),
        )


class FlagSinceMixin:
    @admin.display(description=_("since"), ordering="since")
    def since_display(self, obj):
        """A flag's date at its own precision ("October 2025", never "1 Oct 2025")."""
        return format_vague_date(obj.since, obj.since_precision) or "—"


class FlagInline(FlagSinceMixin, ViewOnlyMixin, admin.TabularInline):
    model = models.Flag
    extra = 0
    can_delete = False
    fields = ["reason", "since_display", "raised_at", "acknowledged_at", "resolved_at", "details"]
    readonly_fields = fields


class CheckInline(ViewOnlyMixin, admin.TabularInline):
    """The editors' checks ("checked, nothing new") on the commitment's page, read-only;
    new ones go through "Record check"."""

    model = models.Check
    extra = 0
    can_delete = False
    fields = ["checked_on", "note", "source", "recorded_by", "recorded_at"]
    readonly_fields = fields
    verbose_name_plural = _("checks (checked, nothing new)")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("source", "recorded_by")


class NeedsAttentionFilter(admin.SimpleListFilter):
    title = _("needs attention")
    parameter_name = "attention"

    def lookups(self, request, model_admin):
        from django.conf import settings

        return [
            (
                "yes",
                _("Flagged, or no change in %(days)s days") % {"days": settings.STALL_AFTER_DAYS},
            )
        ]

    def queryset(self, request, queryset):
        if self.value() == "yes":
            return queryset.needs_attention()
        return queryset


@admin.register(models.Commitment)
class CommitmentAdmin(RevisedRecordMixin, NoRevertMixin, PublicRecordMixin, SimpleHistoryAdmin):
    form = CommitmentForm
    list_display = [
        "title",
        "status",
        "status_since_display",
        "last_change",
        "open_flags",
        "is_published",
    ]
    list_filter = [NeedsAttentionFilter, "status", "is_published", "topics", "roles__actor"]
    search_fields = [
        "title",
        "title_fr",
        "summary",
        "original_wording",
        "made_in__title",
        "made_in__outlet",
        "made_in__url",
        "status_updates__sources__title",
        "status_updates__sources__outlet",
        "status_updates__sources__url",
    ]
    date_hierarchy = "made_on"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["made_in", "topics"]
    actions = ["publish_selected", "unpublish_selected"]
    readonly_fields = [
        "status",
        "status_since_display",
        "is_published",
        "published_at",
        "published_by",
        "public_page",
        "log_update_link",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": bilingual("Commitment", ["title", "slug", "summary", "topics"]),
                "description": FRENCH_NOTE,
            },
        ),
        (
            _("The promise in its own words"),
            {
                "fields": [
                    "original_wording",
                    "original_wording_language",
                    ("original_wording_translation_en", "original_wording_translation_fr"),
                ],
                "description": _(
                    "Keep the words as they were said or reported, in their language. A "
                    "translation is ours, shown beside the original and marked as such; fill "
                    "in the one into the other language."
                ),
            },
        ),
        (
            _("Where and when it was made"),
            {
                "fields": bilingual(
                    "Commitment", [("made_on", "made_precision"), "made_in", "made_where"]
                )
            },
        ),
        (
            _("Deadline and stall threshold"),
            {"fields": [("deadline", "deadline_precision"), "stall_after_days"]},
        ),
        (
            _("Status (follows the latest status update)"),
            {"fields": ["status", "status_since_display", "log_update_link"]},
        ),
        (
            _("Publishing (a publisher uses the Publish button above)"),
            {"fields": ["is_published", "published_at", "published_by", "public_page"]},
        ),
    ]
    inlines = [
        CommitmentActorInline,
        CommitmentRelationInline,
        StatusUpdateInline,
        CheckInline,
        FlagInline,
    ]
    revised_inlines = {
        "roles": (CommitmentActorInline, ("actor", "role")),
        "relations": (CommitmentRelationInline, ("to_commitment", "kind")),
    }

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("published_by", "made_in")
            .annotate(
                _last_change=Max("status_updates__recorded_at"),
                _open_flags=Count("flags", filter=open_flag_through("flags"), distinct=True),
            )
        )

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/publish/",
                view(self.publish_view),
                name="commitments_commitment_publish",
            ),
            path(
                "<path:object_id>/unpublish/",
                view(self.unpublish_view),
                name="commitments_commitment_unpublish",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        extra_context = {
            **(extra_context or {}),
            "can_publish": self.has_publish_permission(request),
            "log_update_url": reverse("admin:commitments_statusupdate_add")
            + f"?commitment={object_id}",
            "record_check_url": reverse("admin:commitments_check_add") + f"?commitment={object_id}",
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _publishing_view(self, request, object_id, *, publish: bool):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        commitment = get_object_or_404(models.Commitment, pk=object_id)
        change_url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
        if request.method == "POST":
            try:
                self._set_published(commitment, request.user, publish=publish)
            except ValidationError as exc:
                for message in exc.messages:
                    self.message_user(request, message, messages.ERROR)
            else:
                self.message_user(
                    request,
                    (
                        _("“%(title)s” is published.")
                        if publish
                        else _("“%(title)s” is a draft again.")
                    )
                    % {"title": commitment.title},
                    messages.SUCCESS,
                )
            return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("Publish “%(title)s”?") % {"title": commitment.title}
            if publish
            else _("Unpublish “%(title)s”?") % {"title": commitment.title},
            "original": commitment,
            "publish": publish,
            "problems": services.commitment_publish_errors(commitment=commitment).values()
            if publish
            else [],
            "change_url": change_url,
        }
        return TemplateResponse(
            request, "admin/commitments/commitment/publish_confirm.html", context
        )

    def publish_view(self, request, object_id):
        return self._publishing_view(request, object_id, publish=True)

    def unpublish_view(self, request, object_id):
        return self._publishing_view(request, object_id, publish=False)

    @staticmethod
    def _set_published(commitment, user, *, publish: bool) -> None:
        if publish:
            services.commitment_publish(commitment=commitment, published_by=user)
        else:
            services.commitment_unpublish(commitment=commitment, unpublished_by=user)

    def _publish_many(self, request, queryset, *, publish: bool):
        done, refused = 0, []
        for commitment in queryset:
            try:
                self._set_published(commitment, request.user, publish=publish)
                done += 1
            except ValidationError as exc:
                refused.append(f"{commitment.title}: {' '.join(exc.messages)}")
        if done:
            self.message_user(
                request,
                (
                    ngettext("%(n)d commitment published.", "%(n)d commitments published.", done)
                    if publish
                    else ngettext(
                        "%(n)d commitment unpublished.", "%(n)d commitments unpublished.", done
                    )
                )
                % {"n": done},
                messages.SUCCESS,
            )
        for message in refused:
            self.message_user(request, message, messages.ERROR)

    @admin.action(description=_("Publish selected commitments"), permissions=["publish"])
    def publish_selected(self, request, queryset):
        self._publish_many(request, queryset, publish=True)

    @admin.action(description=_("Unpublish selected commitments"), permissions=["publish"])
    def unpublish_selected(self, request, queryset):
        self._publish_many(request, queryset, publish=False)

    @admin.display(description=_("status since"), ordering="status_since")
    def status_since_display(self, obj):
        return obj.vague("status_since") or "—"

    @admin.display(description=_("last update logged"), ordering="_last_change")
    def last_change(self, obj):
        return obj._last_change

    @admin.display(description=_("open flags"), ordering="_open_flags")
    def open_flags(self, obj):
        return obj._open_flags

    @admin.display(description=_("public page"))
    def public_page(self, obj):
        if not obj.pk:
            return "—"
        url = obj.get_absolute_url()
        if not obj.is_published:
            return format_html(
                '<a href="{}" target="_blank">{}</a> ({})',
                url,
                _("Preview the draft at its future address"),
                _("staff only: not public until published"),
            )
        return format_html('<a href="{}" target="_blank">{}</a>', url, url)

    @admin.display(description=_("new step"))
    def log_update_link(self, obj):
        if not obj.pk:
            return _("Save the commitment first.")
        url = reverse("admin:commitments_statusupdate_add") + f"?commitment={obj.pk}"
        check_url = reverse("admin:commitments_check_add") + f"?commitment={obj.pk}"
        return format_html(
            '<a class="button" href="{}">{}</a> <a class="button" href="{}">{}</a>',
            url,
            _("Log status update"),
            check_url,
            _("Record check (checked, nothing new)"),
        )


class RecordedOnceAdmin(admin.ModelAdmin):
    """An append-only entry on a commitment's record (a status update, a check), added
    through its service once per form token and never edited or deleted. The subclass
    says how to record it (``record``) and what to tell the editor; the same form posted
    twice (a retry, a double click) records nothing the second time, logs nothing, and
    says so. Either way the editor lands back on the commitment."""

    def record(self, request, form) -> tuple[object, bool]:
        """Call the service: (the entry, whether this post recorded it)."""
        raise NotImplementedError

    def recorded_message(self, obj, commitment) -> str:
        raise NotImplementedError

    def already_recorded_message(self, commitment) -> str:
        raise NotImplementedError

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        created, recorded = self.record(request, form)
        form.instance = created
        obj.pk = created.pk
        obj.commitment_id = created.commitment_id
        request.already_recorded = not recorded

    def log_addition(self, request, obj, message):
        if getattr(request, "already_recorded", False):
            return None
        return super().log_addition(request, obj, message)

    def save_related(self, request, form, formsets, change):
        # The service saved what goes with the entry (its sources), in one transaction.
        pass

    def response_add(self, request, obj, post_url_continue=None):
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        commitment = models.Commitment.objects.get(pk=obj.commitment_id)
        if getattr(request, "already_recorded", False):
            self.message_user(request, self.already_recorded_message(commitment), messages.WARNING)
        else:
            self.message_user(request, self.recorded_message(obj, commitment), messages.SUCCESS)
        return redirect(reverse("admin:commitments_commitment_change", args=[commitment.pk]))


@admin.register(models.StatusUpdate)
class StatusUpdateAdmin(RecordedOnceAdmin):
    """Adding only: saved entries are never edited or deleted here, by anyone. A mistake
    is fixed by a correction: a new entry that points at the one it corrects."""

    form = StatusUpdateForm
    list_display = [
        "commitment",
        "status",
        "effective_display",
        "recorded_by",
        "recorded_at",
        "is_correction",
    ]
    list_filter = ["status", "effective_precision", ("corrects", admin.EmptyFieldListFilter)]
    list_select_related = ["commitment", "recorded_by"]
    search_fields = [
        "commitment__title",
        "description",
        "description_fr",
        "correction_note",
        "sources__title",
        "sources__outlet",
        "sources__url",
    ]
    date_hierarchy = "effective_on"
    autocomplete_fields = ["commitment", "sources", "corrects"]
    fieldsets = [
        (
            _("What changed"),
            {
                "fields": [
                    "commitment",
                    "status",
                    ("effective_on", "effective_precision"),
                    ("description", "description_fr"),
                    "form_token",
                ],
                "description": FRENCH_NOTE,
            },
        ),
        (_("Sources: pick recorded ones"), {"fields": ["sources"]}),
        (
            _("…or add a new source by its address"),
            {
                "fields": [
                    "new_source_url",
                    ("new_source_title", "new_source_outlet"),
                    ("new_source_published_on", "new_source_published_precision"),
                    "new_source_kind",
                ]
            },
        ),
        (
            _("Correction: only when this entry fixes an earlier one"),
            {"fields": ["corrects", ("correction_note", "correction_note_fr")]},
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            # A saved entry is shown read-only, with what it cites, its date at its
            # precision ("October 2025") in place of the date and the precision.
            dated = ("effective_on", "effective_precision")
            return [
                (
                    name,
                    {
                        **options,
                        "fields": [
                            "effective_display" if f == dated else f
                            for f in [*options["fields"], *self._french_row(options)]
                            if f != "form_token"
                        ],
                    },
                )
                for name, options in self.fieldsets
                if "new_source_url" not in options["fields"]
            ]
        return self.fieldsets

    @staticmethod
    def _french_row(options) -> list:
        """On a saved step, the way to its French, under the words."""
        return ["french_link"] if "form_token" in options["fields"] else []

    def get_readonly_fields(self, request, obj=None):
        readonly = super().get_readonly_fields(request, obj)
        return [*readonly, "effective_display", "french_link"] if obj is not None else readonly

    def get_urls(self):
        return [
            path(
                "<path:object_id>/french/",
                self.admin_site.admin_view(self.french_view),
                name="commitments_statusupdate_french",
            ),
            *super().get_urls(),
        ]

    @admin.display(description=_("French"))
    def french_link(self, obj):
        return format_html(
            '<a class="button" href="{}">{}</a>',
            reverse("admin:commitments_statusupdate_french", args=[obj.pk]),
            _("Propose or change the French"),
        )

    def french_view(self, request, object_id):
        """The French of a saved step, changed through a revision (``services.revisions``):
        a publisher's change is applied at once, an editor's waits for a publisher. The
        English words never change here: a mistake in them is a correction entry."""
        if not self.has_add_permission(request):
            raise PermissionDenied
        update = get_object_or_404(
            models.StatusUpdate.objects.select_related("commitment"), pk=object_id
        )
        change_url = reverse("admin:commitments_statusupdate_change", args=[update.pk])
        form = StatusUpdateFrenchForm(
            request.POST if request.method == "POST" else None, update=update
        )
        if form.is_bound and form.is_valid():
            names = [n for n in ("description_fr", "correction_note_fr") if n in form.fields]
            try:
                revision = services.revision_submit(
                    obj=update,
                    after={name: form.cleaned_data[name].strip() for name in names},
                    kind=form.cleaned_data["revision_kind"],
                    reason=form.cleaned_data["revision_reason"],
                    reason_fr=form.cleaned_data.get("revision_reason_fr", ""),
                    by=request.user,
                )
            except ValidationError as exc:
                show_service_errors(form, exc, prefix="")
            else:
                tell_revision_outcome(self, request, revision)
                return redirect(change_url)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": _("The French of this step"),
            "update": update,
            "form": form,
            "change_url": change_url,
        }
        return TemplateResponse(request, "admin/commitments/statusupdate/french.html", context)

    def get_queryset(self, request):
        # One select_related for all: the change list skips list_select_related if set.
        return (
            super()
            .get_queryset(request)
            .select_related("commitment", "recorded_by", "corrects__commitment")
        )

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("effective_precision", "day")
        corrected = models.StatusUpdate.objects.filter(
            pk=request.GET.get("corrects") or None
        ).first()
        if corrected is not None:
            # A correction starts from the entry it corrects; the editor changes what was wrong.
            initial.setdefault("commitment", corrected.commitment_id)
            initial.setdefault("status", corrected.status)
            initial.setdefault("effective_on", corrected.effective_on)
            initial["effective_precision"] = corrected.effective_precision
            initial.setdefault("description", corrected.description)
            initial.setdefault("description_fr", corrected.description_fr)
            initial.setdefault("sources", list(corrected.sources.values_list("pk", flat=True)))
        return initial

    @admin.display(description=_("took effect"), ordering="effective_on")
    def effective_display(self, obj):
        return obj.vague("effective_on")

    @admin.display(description=_("correction"), boolean=True)
    def is_correction(self, obj):
        return obj.corrects_id is not None

    def record(self, request, form):
        data = form.cleaned_data
        described = form.new_source()
        return services.status_update_create_once(
            idempotency_key=data.get("form_token"),
            commitment=data["commitment"],
            status=data["status"],
            effective_on=data["effective_on"],
            effective_precision=data["effective_precision"],
            description=data["description"],
            description_fr=data.get("description_fr", ""),
            sources=data["sources"],
            new_sources=[described] if described else [],
            recorded_by=request.user,
            corrects=data.get("corrects"),
            correction_note=data.get("correction_note", ""),
            correction_note_fr=data.get("correction_note_fr", ""),
        )

    def recorded_message(self, obj, commitment):
        return _("Logged: “%(title)s” is now %(status)s.") % {
            "title": commitment.title,
            "status": commitment.get_status_display(),
        }

    def already_recorded_message(self, commitment):
        return _(
            "Already recorded: this form was sent before and its update is on "
            "“%(title)s”'s timeline; nothing was added."
        ) % {"title": commitment.title}


@admin.register(models.Check)
class CheckAdmin(RecordedOnceAdmin):
    """An editor's "checked, nothing new": added here (through ``services.check_record``),
    never edited or deleted. It shows as "last checked" on the public page and leaves the
    status and the flags alone."""

    form = CheckForm
    list_display = ["commitment", "checked_on", "note", "source", "recorded_by", "recorded_at"]
    list_select_related = ["commitment", "source", "recorded_by"]
    search_fields = ["commitment__title", "note"]
    date_hierarchy = "checked_on"
    autocomplete_fields = ["commitment", "source"]
    fields = ["commitment", "checked_on", "note", "source", "form_token"]

    def get_fields(self, request, obj=None):
        if obj is not None:
            return ["commitment", "checked_on", "note", "source", "recorded_by", "recorded_at"]
        return self.fields

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("checked_on", timezone.localdate())
        return initial

    def record(self, request, form):
        data = form.cleaned_data
        return services.check_record_once(
            idempotency_key=data.get("form_token"),
            commitment=data["commitment"],
            checked_on=data["checked_on"],
            note=data["note"],
            source=data.get("source"),
            recorded_by=request.user,
        )

    def recorded_message(self, obj, commitment):
        return _("Check recorded: “%(title)s” was last checked on %(date)s.") % {
            "title": commitment.title,
            "date": date_format(obj.checked_on),
        }

    def already_recorded_message(self, commitment):
        return _(
            "Already recorded: this form was sent before and its check is on "
            "“%(title)s”; nothing was added."
        ) % {"title": commitment.title}


@admin.register(models.Statement)
class StatementAdmin(RevisedRecordMixin, NoRevertMixin, PublicRecordMixin, SimpleHistoryAdmin):
    form = BilingualModelForm
    list_display = ["short_text", "attribution", "kind", "said_display", "source"]
    list_filter = ["kind", "said_precision"]
    list_select_related = ["speaker", "source"]
    search_fields = ["text", "speaker__name", "speaker_description", "source__title"]
    date_hierarchy = "said_on"
    autocomplete_fields = ["speaker", "source", "commitments"]
    fieldsets = [
        (
            _("The words, in the language they were said"),
            {
                "fields": ["text", "language", ("translation_en", "translation_fr")],
                "description": _(
                    "The text stays as it was said or written, in its own language. Our "
                    "translation is shown beside it, marked as ours: fill in the one into "
                    "the other language, or leave it blank."
                ),
            },
        ),
        (
            _("Who said it, when and where"),
            {
                "fields": bilingual(
                    "Statement",
                    [
                        "kind",
                        "speaker",
                        "speaker_description",
                        ("said_on", "said_precision"),
                        "source",
                        "commitments",
                    ],
                ),
                "description": FRENCH_NOTE,
            },
        ),
    ]

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return Truncator(obj.text).chars(100)

    @admin.display(description=_("said"), ordering="said_on")
    def said_display(self, obj):
        return obj.vague("said_on")


class ObservationInline(AddOnlyWhenPublicInline):
    model = models.Observation
    extra = 1
    autocomplete_fields = ["source"]


@admin.register(models.Indicator)
class IndicatorAdmin(RevisedRecordMixin, PublicRecordMixin, admin.ModelAdmin):
    form = BilingualModelForm
    list_display = ["name", "unit", "comparison_label", "comparison_value"]
    search_fields = ["name", "name_fr", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["commitments", "topics", "comparison_source"]
    inlines = [ObservationInline]
    fieldsets = [
        (
            None,
            {
                "fields": bilingual(
                    "Indicator",
                    [
                        "name",
                        "slug",
                        "description",
                        "unit",
                        "comparison_label",
                        "comparison_value",
                        "comparison_source",
                        "commitments",
                        "topics",
                    ],
                ),
                "description": FRENCH_NOTE,
            },
        )
    ]


@admin.register(models.Observation)
class ObservationAdmin(RevisedRecordMixin, PublicRecordMixin, admin.ModelAdmin):
    form = BilingualModelForm
    list_display = ["indicator", "value", "observed_display", "source"]
    list_filter = ["indicator"]
    list_select_related = ["indicator", "source"]
    search_fields = ["indicator__name", "note", "source__title"]
    autocomplete_fields = ["indicator", "source"]
    fieldsets = [
        (
            None,
            {
                "fields": bilingual(
                    "Observation",
                    ["indicator", ("observed_on", "observed_precision"), "value", "source", "note"],
                ),
                "description": FRENCH_NOTE,
            },
        )
    ]

    @admin.display(description=_("date"), ordering="observed_on")
    def observed_display(self, obj):
        return obj.vague("observed_on")


class FlagStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("new", _("Open, not yet acknowledged")),
            ("open", _("Open")),
            ("resolved", _("Resolved")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "new":
            return queryset.unacknowledged()
        if self.value() == "open":
            return queryset.open()
        if self.value() == "resolved":
            return queryset.resolved()
        return queryset


#: The flag queue's answers, as bulk actions: name -> (service, the action's label, the
#: title of the page asking for a note, the message once done).
FLAG_REVIEWS = {
    "acknowledge_flags": (
        services.flag_acknowledge,
        _("Acknowledge selected flags, with a note"),
        _("Acknowledge these flags"),
        ngettext_lazy("%(n)d flag acknowledged.", "%(n)d flags acknowledged.", "n"),
    ),
    "resolve_flags": (
        services.flag_resolve,
        _("Resolve selected flags, with a note"),
        _("Resolve these flags: say how each was dealt with"),
        ngettext_lazy("%(n)d flag resolved.", "%(n)d flags resolved.", "n"),
    ),
}


def _review_action(name):
    """One of ``FLAG_REVIEWS`` as an action: the service applied to each selected open
    flag, with one note asked for first (``FlagAdmin._review``)."""
    service, description, title, done_message = FLAG_REVIEWS[name]

    @admin.action(description=description, permissions=["resolve"])
    def action(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=service,
            action=name,
            title=title,
            done_message=done_message,
        )

    action.__name__ = name
    return action


@admin.register(models.Flag)
class FlagAdmin(FlagSinceMixin, ViewOnlyMixin, admin.ModelAdmin):
    """The flag queue. Flags are raised by the background jobs; a publisher acknowledges
    one ("we are on it") or resolves it ("dealt with, and how"), each with a note."""

    # The reason is in the plain words (and the filter beside the list): one column, so the
    # list fits 1280 px.
    list_display = [
        "commitment",
        "plain_words",
        "raised_at",
        "acknowledged_at",
        "resolved_at",
    ]
    list_filter = [FlagStateFilter, "reason"]
    list_select_related = ["commitment"]
    search_fields = ["commitment__title", "details", "acknowledgement_note", "resolution_note"]
    # Every field, the date shown at its precision in place of the date and its precision.
    fields = readonly_fields = [
        "since_display" if f.name == "since" else f.name
        for f in models.Flag._meta.fields
        if f.name not in ("id", "since_precision")
    ]
    actions = ["acknowledge_flags", "resolve_flags"]

    def has_resolve_permission(self, request):
        return request.user.has_perm(RESOLVE_PERMISSION)

    @admin.display(description=_("in plain words"))
    def plain_words(self, obj):
        return obj.plain_words()

    def _review(self, request, queryset, *, service, action, title, done_message):
        flags = list(queryset.open().select_related("commitment"))
        form = ReviewNoteForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            try:
                with transaction.atomic():
                    for flag in flags:
                        service(flag=flag, by=request.user, note=form.cleaned_data["note"])
            except ValidationError as exc:
                for message in exc.messages:
                    form.add_error("note", message)
            else:
                self.message_user(request, done_message % {"n": len(flags)}, messages.SUCCESS)
                return None
        if not flags:
            self.message_user(request, _("None of the selected flags is open."), messages.WARNING)
            return None
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": title,
            "flags": flags,
            "form": form,
            "action": action,
        }
        return TemplateResponse(request, "admin/commitments/flag/review_note.html", context)

    acknowledge_flags = _review_action("acknowledge_flags")
    resolve_flags = _review_action("resolve_flags")


class RevisionStateFilter(admin.SimpleListFilter):
    """Opens on what waits for a publisher."""

    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [*models.Revision.State.choices, ("all", _("All"))]

    def choices(self, changelist):
        value = self.value() or models.Revision.State.PROPOSED
        for lookup, title in self.lookup_choices:
            yield {
                "selected": value == lookup,
                "query_string": changelist.get_query_string({self.parameter_name: lookup}),
                "display": title,
            }

    def queryset(self, request, queryset):
        value = self.value() or models.Revision.State.PROPOSED
        return queryset if value == "all" else queryset.filter(state=value)


@admin.register(models.Revision)
class RevisionAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The publishers' queue: every change to public material, proposed, applied or
    rejected, with its before and after. Written only by ``services.revisions``."""

    list_display = [
        "object_label",
        "kind",
        "state",
        "proposed_role",
        "proposed_at",
        "decided_at",
    ]
    list_filter = [RevisionStateFilter, "kind", "content_type"]
    list_select_related = ["content_type"]
    search_fields = ["object_label", "reason"]
    fields = [
        "object_label",
        "changes_table",
        "kind",
        "reason",
        "state",
        "proposed_by",
        "proposed_role",
        "proposed_at",
        "decided_by",
        "decided_at",
        "decision_note",
        "commitments",
    ]
    readonly_fields = fields

    @staticmethod
    def _label(revision, change) -> str:
        """A change's field in the page's language (it is stored in the site's)."""
        return revision.change_label(change)

    @admin.display(description=_("changes"))
    def changes_table(self, obj):
        from django.utils.html import format_html_join

        rows = format_html_join(
            "",
            "<tr><th scope='row'>{}</th><td><del>{}</del></td><td><ins>{}</ins></td></tr>",
            ((self._label(obj, c), c["before_text"], c["after_text"]) for c in obj.changes),
        )
        return format_html(
            '<table class="revision-changes"><thead><tr><th>{}</th><th>{}</th><th>{}</th>'
            "</tr></thead><tbody>{}</tbody></table>",
            _("field"),
            _("before"),
            _("after"),
            rows,
        )

    def get_urls(self):
        return [
            path(
                "<path:object_id>/decide/",
                self.admin_site.admin_view(self.decide_view),
                name="commitments_revision_decide",
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        revision = models.Revision.objects.filter(pk=object_id).first()
        extra_context = {
            **(extra_context or {}),
            "can_decide": revision is not None
            and revision.state == models.Revision.State.PROPOSED
            and request.user.has_perm(PUBLISH_PERMISSION),
            "decision_form": RevisionDecisionForm(),
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def decide_view(self, request, object_id):
        """POST only, publishers only: apply or reject one proposal."""
        if request.method != "POST":
            return redirect(reverse("admin:commitments_revision_change", args=[object_id]))
        if not request.user.has_perm(PUBLISH_PERMISSION):
            raise PermissionDenied
        revision = get_object_or_404(models.Revision, pk=object_id)
        form = RevisionDecisionForm(request.POST)
        note = form.cleaned_data["note"] if form.is_valid() else ""
        try:
            if "_apply" in request.POST:
                services.revision_apply(revision=revision, by=request.user, note=note)
                self.message_user(request, _("Applied: the change is public."), messages.SUCCESS)
            elif "_reject" in request.POST:
                services.revision_reject(revision=revision, by=request.user, note=note)
                self.message_user(request, _("Rejected; nothing changed."), messages.SUCCESS)
            else:
                self.message_user(request, _("Choose Apply or Reject."), messages.ERROR)
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
            return redirect(reverse("admin:commitments_revision_change", args=[object_id]))
        return redirect(reverse("admin:commitments_revision_changelist"))


# --- Webhooks (issue 12) -------------------------------------------------------------------


@admin.register(models.WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    """A newsroom's endpoint, saved through ``services.webhook_endpoint_create`` and
    ``webhook_endpoint_save`` (their refusals beside the fields). The change page shows
    the secret to hand to the newsroom, and buttons to rotate it and to send a test event.
    Switched off rather than deleted, so its delivery log stays."""

    form = WebhookEndpointForm
    list_display = ["url", "description", "follows", "types", "is_active", "created_at"]
    list_filter = ["is_active"]
    search_fields = ["url", "description"]
    raw_id_fields = ["commitment"]
    readonly_fields = ["secret_display", "delivery_log", "created_by", "created_at"]

    def get_fields(self, request, obj=None):
        fields = list(WEBHOOK_ENDPOINT_FIELDS)
        return fields + (self.readonly_fields if obj else [])

    def get_readonly_fields(self, request, obj=None):
        return self.readonly_fields if obj else []

    @admin.display(description=_("follows"))
    def follows(self, obj):
        return obj.subject_label

    @admin.display(description=_("event types"))
    def types(self, obj):
        labels = dict(models.EventType.choices)
        return ", ".join(str(labels.get(t, t)) for t in obj.event_types) or _("every type")

    @admin.display(description=_("signing secret"))
    def secret_display(self, obj):
        return format_html(
            "<code>{}</code><br>{}",
            obj.secret,
            _(
                "Give it to the receiving newsroom: it verifies each webhook's signature "
                "with it (Standard Webhooks)."
            ),
        )

    @admin.display(description=_("delivery log"))
    def delivery_log(self, obj):
        return format_html(
            '<a href="{}?endpoint__id__exact={}">{}</a>',
            reverse("admin:commitments_webhookdelivery_changelist"),
            obj.pk,
            _("Deliveries to this endpoint"),
        )

    def save_model(self, request, obj, form, change):
        values = {name: form.cleaned_data.get(name) for name in WEBHOOK_ENDPOINT_FIELDS}
        if change:
            saved = services.webhook_endpoint_save(endpoint=obj, **values)
        else:
            saved = services.webhook_endpoint_create(created_by=request.user, **values)
        obj.pk, obj.secret = saved.pk, saved.secret
        form.instance = saved

    def get_urls(self):
        view = self.admin_site.admin_view
        return [
            path(
                "<path:object_id>/send-test/",
                view(self.send_test_view),
                name="commitments_webhookendpoint_send_test",
            ),
            path(
                "<path:object_id>/rotate-secret/",
                view(self.rotate_secret_view),
                name="commitments_webhookendpoint_rotate_secret",
            ),
        ] + super().get_urls()

    def _endpoint_for_change(self, request, object_id):
        if request.method != "POST":
            raise PermissionDenied(_("Use the button on the endpoint's page."))
        endpoint = get_object_or_404(models.WebhookEndpoint, pk=object_id)
        if not self.has_change_permission(request, endpoint):
            raise PermissionDenied
        return endpoint

    def send_test_view(self, request, object_id):
        endpoint = self._endpoint_for_change(request, object_id)
        try:
            event = services.webhook_test_event_send(endpoint=endpoint, by=request.user)
        except ValidationError as exc:
            for message in exc.messages:
                self.message_user(request, message, messages.ERROR)
        else:
            self.message_user(
                request,
                _("Test event %(id)s queued for this endpoint; see its delivery log.")
                % {"id": event.webhook_id},
                messages.SUCCESS,
            )
        return redirect(reverse("admin:commitments_webhookendpoint_change", args=[endpoint.pk]))

    def rotate_secret_view(self, request, object_id):
        endpoint = self._endpoint_for_change(request, object_id)
        services.webhook_endpoint_rotate_secret(endpoint=endpoint, by=request.user)
        self.message_user(
            request,
            _("New secret made: give it to the newsroom. Webhooks are signed with it from now on."),
            messages.WARNING,
        )
        return redirect(reverse("admin:commitments_webhookendpoint_change", args=[endpoint.pk]))


class DeliveryStateFilter(admin.SimpleListFilter):
    title = _("state")
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [
            ("pending", _("Pending")),
            ("delivered", _("Delivered")),
            ("failed", _("Given up")),
        ]

    def queryset(self, request, queryset):
        if self.value() == "pending":
            return queryset.pending()
        if self.value() == "delivered":
            return queryset.delivered()
        if self.value() == "failed":
            return queryset.given_up()
        return queryset


class WebhookAttemptInline(ViewOnlyMixin, admin.TabularInline):
    model = models.WebhookAttempt
    fields = readonly_fields = [
        "attempted_at",
        "status_code",
        "duration_ms",
        "error",
        "response_excerpt",
    ]
    extra = 0
    can_delete = False


@admin.register(models.WebhookDelivery)
class WebhookDeliveryAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The delivery log: each event to each endpoint, its state and every attempt. Nothing
    here is editable; "retry now" makes failed or pending deliveries due at once."""

    list_display = [
        "event",
        "endpoint",
        "state_display",
        "attempts",
        "next_attempt_at",
        "last_status",
        "last_error_short",
        "created_at",
    ]
    list_filter = [DeliveryStateFilter, "endpoint"]
    list_select_related = ["event", "endpoint"]
    search_fields = ["endpoint__url", "endpoint__description", "event__key"]
    fields = readonly_fields = [
        "event",
        "endpoint",
        "state_display",
        "attempts",
        "created_at",
        "next_attempt_at",
        "sent_at",
        "failed_at",
        "last_error",
    ]
    inlines = [WebhookAttemptInline]
    actions = ["retry_now"]

    def get_queryset(self, request):
        last = models.WebhookAttempt.objects.filter(delivery=OuterRef("pk")).order_by(
            "-attempted_at", "-id"
        )
        return (
            super()
            .get_queryset(request)
            .annotate(last_status_code=Subquery(last.values("status_code")[:1]))
        )

    def has_retry_permission(self, request):
        return request.user.has_perm(RETRY_WEBHOOKS_PERMISSION)

    @admin.display(description=_("state"))
    def state_display(self, obj):
        return {"delivered": _("Delivered"), "failed": _("Given up"), "pending": _("Pending")}[
            obj.state
        ]

    @admin.display(description=_("last HTTP status"), ordering="last_status_code")
    def last_status(self, obj):
        return obj.last_status_code

    @admin.display(description=_("last error"))
    def last_error_short(self, obj):
        return Truncator(obj.last_error).chars(80)

    @admin.action(description=_("Retry now"), permissions=["retry"])
    def retry_now(self, request, queryset):
        count = services.webhook_deliveries_retry(deliveries=queryset, by=request.user)
        self.message_user(
            request,
            ngettext(
                "%(n)d delivery will be tried again now.",
                "%(n)d deliveries will be tried again now.",
                count,
            )
            % {"n": count},
            messages.SUCCESS if count else messages.WARNING,
        )


# --- Email subscribers (issue 12): personal data, so seen and deleted, never added or edited -


class SubscriptionInline(admin.TabularInline):
    model = models.Subscription
    fields = ["subject_label", "frequency", "created_at", "confirmed_at"]
    readonly_fields = fields
    extra = 0
    can_delete = False

    @admin.display(description=_("follows"))
    def subject_label(self, obj):
        return obj.subject_label

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class PersonalDataAdmin(admin.ModelAdmin):
    """Readers' addresses: an Admin may see and delete them (through the services, which
    delete an address with its last subscription); nobody adds or edits them here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        actions = super().get_actions(request)
        return {name: action for name, action in actions.items() if name == "delete_selected"}

    def get_deleted_objects(self, objs, request):
        """Deleting an address takes what hangs on it (its subscriptions, its alerts not
        yet sent) whatever the Admin may do with those elsewhere: the service decides."""
        deleted, counts, _perms_needed, protected = super().get_deleted_objects(objs, request)
        return deleted, counts, set(), protected


@admin.register(models.Subscriber)
class SubscriberAdmin(PersonalDataAdmin):
    list_display = ["email", "created_at", "confirmation_sent_at", "following"]
    search_fields = ["email"]
    fields = ["email", "created_at", "confirmation_sent_at"]
    readonly_fields = fields
    inlines = [SubscriptionInline]

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(following_count=Count("subscriptions"))

    @admin.display(description=_("follows"), ordering="following_count")
    def following(self, obj):
        return obj.following_count

    def delete_model(self, request, obj):
        services.subscriber_delete(subscriber=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for subscriber in queryset:
                services.subscriber_delete(subscriber=subscriber)


class ConfirmedFilter(admin.SimpleListFilter):
    title = _("confirmed")
    parameter_name = "confirmed"

    def lookups(self, request, model_admin):
        return [("yes", _("Confirmed")), ("no", _("Waiting for confirmation"))]

    def queryset(self, request, queryset):
        if self.value() in ("yes", "no"):
            return queryset.filter(confirmed_at__isnull=self.value() == "no")
        return queryset


@admin.register(models.Subscription)
class SubscriptionAdmin(PersonalDataAdmin):
    list_display = ["subscriber", "subject_label", "frequency", "created_at", "confirmed_at"]
    list_filter = [ConfirmedFilter, "frequency"]
    list_select_related = ["subscriber", "commitment", "actor", "topic"]
    search_fields = ["subscriber__email"]
    fields = [
        "subscriber", "subject_label", "frequency", "created_at", "confirmed_at",
    ]  # fmt: skip
    readonly_fields = fields

    @admin.display(description=_("follows"))
    def subject_label(self, obj):
        return obj.subject_label

    def delete_model(self, request, obj):
        services.subscription_delete(subscription=obj)

    def delete_queryset(self, request, queryset):
        with transaction.atomic():
            for subscription in queryset:
                services.subscription_delete(subscription=subscription)


# Users and groups, limited to the newsroom roles for non-superusers.
from . import admin_accounts  # noqa: E402, F401
