"""The editors' side. Writes with rules go through ``services``: the forms here ask the
services what is wrong and show it beside the field; saving calls the services.

Roles are in ``roles.py``. On top of the model permissions, this module refuses, object
by object: editing a published commitment without the publish permission, deleting
anything public (``services.deletion_refusals``, asked for single and bulk deletes
alike), and editing or deleting a status update (for everyone: corrections instead).
"""

from __future__ import annotations

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import widgets
from django.contrib.admin.options import IS_POPUP_VAR
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Count, Max, Q
from django.shortcuts import get_object_or_404, redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import services
from .dates import DatePrecision
from .models import (
    Actor,
    Commitment,
    CommitmentActor,
    CommitmentRelation,
    Flag,
    Indicator,
    Observation,
    Source,
    Statement,
    StatusUpdate,
    Topic,
)
from .services.publishing import PUBLISH_PERMISSION
from .services.review import RESOLVE_PERMISSION

admin.site.site_header = _("Commitment tracker: editors")
admin.site.site_title = _("Commitment tracker")
admin.site.index_title = _("Newsroom desk")


class ViewOnlyMixin:
    """Records written only by the services or the jobs: shown, never added, edited or
    deleted here."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


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


@admin.register(Actor)
class ActorAdmin(PublicRecordMixin, admin.ModelAdmin):
    list_display = ["name", "kind", "role", "country", "parent"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "role", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


@admin.register(Topic)
class TopicAdmin(PublicRecordMixin, admin.ModelAdmin):
    list_display = ["name", "slug"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}


class SourceForm(forms.ModelForm):
    class Meta:
        model = Source
        fields = [
            "url",
            "title",
            "outlet",
            "author",
            "kind",
            "language",
            "notes",
            "published_on",
            "published_precision",
        ]

    def clean_url(self):
        url = self.cleaned_data.get("url")
        if not url:
            return None
        try:
            normalised = services.normalise_url(url)
        except ValidationError as exc:  # the service names the field; this is that field
            raise ValidationError(exc.message_dict["url"]) from exc
        clash = Source.objects.filter(url=normalised).exclude(pk=self.instance.pk).first()
        if clash:
            raise ValidationError(
                _("This address is already recorded as “%(source)s”; cite that source instead."),
                params={"source": clash},
            )
        return normalised


@admin.register(Source)
class SourceAdmin(PublicRecordMixin, SimpleHistoryAdmin):
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
    model = CommitmentActor
    extra = 1
    autocomplete_fields = ["actor"]


class CommitmentRelationInline(admin.TabularInline):
    model = CommitmentRelation
    fk_name = "from_commitment"
    extra = 0
    autocomplete_fields = ["to_commitment"]
    verbose_name = _("related commitment")


class StatusUpdateInline(ViewOnlyMixin, admin.TabularInline):
    """The status history on the commitment's page: past entries are read-only. New
    entries go through "Log status update", and a mistake through "Correct", both of
    which call the service."""

    model = StatusUpdate
    fk_name = "commitment"
    extra = 0
    can_delete = False
    show_change_link = True
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


class FlagInline(ViewOnlyMixin, admin.TabularInline):
    model = Flag
    extra = 0
    can_delete = False
    fields = ["reason", "since", "raised_at", "acknowledged_at", "resolved_at", "details"]
    readonly_fields = fields


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
        from django.conf import settings

        if self.value() == "yes":
            return queryset.needs_attention(quiet_days=settings.STALL_AFTER_DAYS)
        return queryset


class CommitmentForm(forms.ModelForm):
    class Meta:
        model = Commitment
        # The admin builds the real field list from the fieldsets; these are the edited ones.
        fields = [
            "title",
            "slug",
            "summary",
            "original_wording",
            "topics",
            "made_on",
            "made_precision",
            "made_in",
            "made_where",
            "deadline",
            "deadline_precision",
            "stall_after_days",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.is_published and "made_in" in self.fields:
            # A published commitment may not lose the source for where it was made.
            candidate = Commitment(made_in=cleaned.get("made_in"))
            for field, message in services.commitment_publish_errors(commitment=candidate).items():
                self.add_error(field, message)
        return cleaned


@admin.register(Commitment)
class CommitmentAdmin(PublicRecordMixin, SimpleHistoryAdmin):
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
        (None, {"fields": ["title", "slug", "summary", "original_wording", "topics"]}),
        (
            _("Where and when it was made"),
            {"fields": [("made_on", "made_precision"), "made_in", "made_where"]},
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
    inlines = [CommitmentActorInline, CommitmentRelationInline, StatusUpdateInline, FlagInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("published_by", "made_in")
            .annotate(
                _last_change=Max("status_updates__recorded_at"),
                _open_flags=Count(
                    "flags", filter=Q(flags__resolved_at__isnull=True), distinct=True
                ),
            )
        )

    def has_publish_permission(self, request):
        return request.user.has_perm(PUBLISH_PERMISSION)

    def has_change_permission(self, request, obj=None):
        if not super().has_change_permission(request, obj):
            return False
        # Editors edit drafts; what is public changes only under a publisher's eye.
        return obj is None or not obj.is_published or self.has_publish_permission(request)

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
        }
        return super().change_view(request, object_id, form_url, extra_context)

    def _publishing_view(self, request, object_id, *, publish: bool):
        if not self.has_publish_permission(request):
            raise PermissionDenied
        commitment = get_object_or_404(Commitment, pk=object_id)
        change_url = reverse("admin:commitments_commitment_change", args=[commitment.pk])
        if request.method == "POST":
            try:
                if publish:
                    services.commitment_publish(commitment=commitment, published_by=request.user)
                else:
                    services.commitment_unpublish(
                        commitment=commitment, unpublished_by=request.user
                    )
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

    def _publish_many(self, request, queryset, *, publish: bool):
        done, refused = 0, []
        for commitment in queryset:
            try:
                if publish:
                    services.commitment_publish(commitment=commitment, published_by=request.user)
                else:
                    services.commitment_unpublish(
                        commitment=commitment, unpublished_by=request.user
                    )
                done += 1
            except ValidationError as exc:
                refused.append(f"{commitment.title}: {' '.join(exc.messages)}")
        if done:
            self.message_user(
                request,
                (_("%(n)d published.") if publish else _("%(n)d unpublished.")) % {"n": done},
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
            return format_html("{} ({})", url, _("a draft: not public until published"))
        return format_html('<a href="{}" target="_blank">{}</a>', url, url)

    @admin.display(description=_("new step"))
    def log_update_link(self, obj):
        if not obj.pk:
            return _("Save the commitment first.")
        url = reverse("admin:commitments_statusupdate_add") + f"?commitment={obj.pk}"
        return format_html('<a class="button" href="{}">{}</a>', url, _("Log status update"))


NEW_SOURCE_FIELDS = ["url", "title", "outlet", "published_on", "published_precision", "kind"]


class StatusUpdateForm(forms.ModelForm):
    new_source_url = forms.CharField(
        label=_("web address"),
        required=False,
        max_length=1000,
        help_text=_(
            "If the address is already recorded, that source is cited; nothing is duplicated."
        ),
    )
    new_source_title = forms.CharField(label=_("title"), required=False, max_length=500)
    new_source_outlet = forms.CharField(label=_("outlet"), required=False, max_length=200)
    new_source_published_on = forms.DateField(
        label=_("publication date"), required=False, widget=widgets.AdminDateWidget
    )
    new_source_published_precision = forms.ChoiceField(
        label=_("known to the"),
        choices=DatePrecision.choices,
        initial=DatePrecision.DAY,
        required=False,
    )
    new_source_kind = forms.ChoiceField(
        label=_("kind"),
        choices=Source.Kind.choices,
        initial=Source.Kind.NEWS_REPORT,
        required=False,
    )

    class Meta:
        model = StatusUpdate
        fields = [
            "commitment",
            "status",
            "effective_on",
            "effective_precision",
            "description",
            "sources",
            "corrects",
            "correction_note",
        ]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service says why a missing source is refused; let its message stand.
        if "sources" in self.fields:
            self.fields["sources"].required = False
            self.fields["sources"].help_text = _(
                "Type to find a recorded source, or describe a new one below."
            )

    def new_source(self) -> dict | None:
        """The source described on the spot, or None when those fields are empty."""
        values = {name: self.cleaned_data.get(f"new_source_{name}") for name in NEW_SOURCE_FIELDS}
        if not any(values[name] for name in ("url", "title", "outlet", "published_on")):
            return None
        values["url"] = (values["url"] or "").strip() or None
        values["title"] = values["title"] or ""
        values["outlet"] = values["outlet"] or ""
        values["published_precision"] = values["published_precision"] or DatePrecision.DAY
        values["kind"] = values["kind"] or Source.Kind.NEWS_REPORT
        return values

    def clean(self):
        cleaned = super().clean()
        described = self.new_source()
        if described:
            for field, message in services.source_description_errors(**described).items():
                self.add_error(f"new_source_{field}", message)
        commitment = cleaned.get("commitment")
        if commitment is None:
            return cleaned
        errors = services.status_update_errors(
            commitment=commitment,
            status=cleaned.get("status") or self.data.get("status", ""),
            effective_on=cleaned.get("effective_on"),
            effective_precision=cleaned.get("effective_precision") or "day",
            description=cleaned.get("description") or "",
            sources=list(cleaned.get("sources") or []),
            corrects=cleaned.get("corrects"),
            correction_note=cleaned.get("correction_note") or "",
        )
        if described:
            errors.pop("sources", None)
        for field, message in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
            elif field not in self.fields:
                self.add_error(None, message)
        return cleaned


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
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
                    "description",
                ]
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
            {"fields": ["corrects", "correction_note"]},
        ),
    ]

    def get_fieldsets(self, request, obj=None):
        if obj is not None:
            # A saved entry is shown read-only, with what it cites.
            return [fs for fs in self.fieldsets if "new_source_url" not in fs[1]["fields"]]
        return self.fieldsets

    def get_queryset(self, request):
        # One select_related for all: the change list skips list_select_related if set.
        return (
            super()
            .get_queryset(request)
            .select_related("commitment", "recorded_by", "corrects__commitment")
        )

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("effective_precision", "day")
        corrected = StatusUpdate.objects.filter(pk=request.GET.get("corrects") or None).first()
        if corrected is not None:
            # A correction starts from the entry it corrects; the editor changes what was wrong.
            initial.setdefault("commitment", corrected.commitment_id)
            initial.setdefault("status", corrected.status)
            initial.setdefault("effective_on", corrected.effective_on)
            initial["effective_precision"] = corrected.effective_precision
            initial.setdefault("description", corrected.description)
            initial.setdefault("sources", list(corrected.sources.values_list("pk", flat=True)))
        return initial

    @admin.display(description=_("took effect"), ordering="effective_on")
    def effective_display(self, obj):
        return obj.vague("effective_on")

    @admin.display(description=_("correction"), boolean=True)
    def is_correction(self, obj):
        return obj.corrects_id is not None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        described = form.new_source()
        created = services.status_update_log(
            commitment=data["commitment"],
            status=data["status"],
            effective_on=data["effective_on"],
            effective_precision=data["effective_precision"],
            description=data["description"],
            sources=data["sources"],
            new_sources=[described] if described else [],
            recorded_by=request.user,
            corrects=data.get("corrects"),
            correction_note=data.get("correction_note", ""),
        )
        form.instance = created
        obj.pk = created.pk
        obj.commitment_id = created.commitment_id

    def save_related(self, request, form, formsets, change):
        # The service saved the sources with the entry, in one transaction.
        pass

    def response_add(self, request, obj, post_url_continue=None):
        if IS_POPUP_VAR in request.POST or "_addanother" in request.POST:
            return super().response_add(request, obj, post_url_continue)
        commitment = Commitment.objects.get(pk=obj.commitment_id)
        self.message_user(
            request,
            _("Logged: “%(title)s” is now %(status)s.")
            % {"title": commitment.title, "status": commitment.get_status_display()},
            messages.SUCCESS,
        )
        return redirect(reverse("admin:commitments_commitment_change", args=[commitment.pk]))


@admin.register(Statement)
class StatementAdmin(PublicRecordMixin, SimpleHistoryAdmin):
    list_display = ["short_text", "attribution", "kind", "said_display", "source"]
    list_filter = ["kind", "said_precision"]
    list_select_related = ["speaker", "source"]
    search_fields = ["text", "speaker__name", "speaker_description", "source__title"]
    date_hierarchy = "said_on"
    autocomplete_fields = ["speaker", "source", "commitments"]

    @admin.display(description=_("text"))
    def short_text(self, obj):
        return obj.text[:100]

    @admin.display(description=_("said"), ordering="said_on")
    def said_display(self, obj):
        return obj.vague("said_on")


class ObservationInline(admin.TabularInline):
    model = Observation
    extra = 1
    autocomplete_fields = ["source"]


@admin.register(Indicator)
class IndicatorAdmin(PublicRecordMixin, admin.ModelAdmin):
    list_display = ["name", "unit", "comparison_label", "comparison_value"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["commitments", "topics", "comparison_source"]
    inlines = [ObservationInline]


@admin.register(Observation)
class ObservationAdmin(PublicRecordMixin, admin.ModelAdmin):
    list_display = ["indicator", "value", "observed_display", "source"]
    list_filter = ["indicator"]
    list_select_related = ["indicator", "source"]
    search_fields = ["indicator__name", "note", "source__title"]
    autocomplete_fields = ["indicator", "source"]

    @admin.display(description=_("date"), ordering="observed_on")
    def observed_display(self, obj):
        return obj.vague("observed_on")


class ReviewNoteForm(forms.Form):
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


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


@admin.register(Flag)
class FlagAdmin(ViewOnlyMixin, admin.ModelAdmin):
    """The flag queue. Flags are raised by the background jobs; a publisher acknowledges
    one ("we are on it") or resolves it ("dealt with, and how"), each with a note."""

    list_display = [
        "commitment",
        "reason",
        "plain_words",
        "raised_at",
        "acknowledged_at",
        "resolved_at",
    ]
    list_filter = [FlagStateFilter, "reason"]
    list_select_related = ["commitment"]
    search_fields = ["commitment__title", "details", "acknowledgement_note", "resolution_note"]
    readonly_fields = [f.name for f in Flag._meta.fields]
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

    @admin.action(description=_("Acknowledge selected flags, with a note"), permissions=["resolve"])
    def acknowledge_flags(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=services.flag_acknowledge,
            action="acknowledge_flags",
            title=_("Acknowledge these flags"),
            done_message=_("%(n)d flags acknowledged."),
        )

    @admin.action(description=_("Resolve selected flags, with a note"), permissions=["resolve"])
    def resolve_flags(self, request, queryset):
        return self._review(
            request,
            queryset,
            service=services.flag_resolve,
            action="resolve_flags",
            title=_("Resolve these flags: say how each was dealt with"),
            done_message=_("%(n)d flags resolved."),
        )
