"""The editors' side. Writes with rules go through ``services.py``: the forms here ask the
services what is wrong and show it beside the field; saving calls the services."""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.db.models import Count, Max, Q
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from simple_history.admin import SimpleHistoryAdmin

from . import services
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

admin.site.site_header = _("Commitment tracker: editors")
admin.site.site_title = _("Commitment tracker")
admin.site.index_title = _("Newsroom desk")


@admin.register(Actor)
class ActorAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "role", "country", "parent"]
    list_filter = ["kind", "country"]
    search_fields = ["name", "role", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["parent"]


@admin.register(Topic)
class TopicAdmin(admin.ModelAdmin):
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
        normalised = services.normalise_url(url)
        clash = Source.objects.filter(url=normalised).exclude(pk=self.instance.pk).first()
        if clash:
            raise ValidationError(
                _("This address is already recorded as “%(source)s”; cite that source instead."),
                params={"source": clash},
            )
        return normalised


@admin.register(Source)
class SourceAdmin(SimpleHistoryAdmin):
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


class StatusUpdateInline(admin.TabularInline):
    """The status history on the commitment's page: past entries are read-only. New
    entries go through "Log status update", which calls the service."""

    model = StatusUpdate
    fk_name = "commitment"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["effective_display", "status", "description", "cited", "corrects", "recorded_by"]
    readonly_fields = fields
    ordering = ["-effective_on", "-recorded_at"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .select_related("recorded_by", "corrects")
            .prefetch_related("sources")
        )

    @admin.display(description=_("took effect"))
    def effective_display(self, obj):
        return obj.vague("effective_on")

    @admin.display(description=_("sources"))
    def cited(self, obj):
        return "; ".join(f"{source.outlet}: {source.title}" for source in obj.sources.all())


class FlagInline(admin.TabularInline):
    model = Flag
    extra = 0
    can_delete = False
    fields = ["reason", "since", "raised_at", "resolved_at", "details"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Commitment)
class CommitmentAdmin(SimpleHistoryAdmin):
    list_display = [
        "title",
        "status",
        "status_since_display",
        "last_change",
        "open_flags",
        "is_published",
    ]
    list_filter = ["status", "is_published", "topics", "roles__actor"]
    search_fields = ["title", "summary", "original_wording", "made_in__title", "made_in__outlet"]
    date_hierarchy = "made_on"
    prepopulated_fields = {"slug": ["title"]}
    autocomplete_fields = ["made_in", "topics"]
    readonly_fields = [
        "status",
        "status_since_display",
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
            _("Publishing"),
            {"fields": ["is_published", "published_at", "published_by", "public_page"]},
        ),
    ]
    inlines = [CommitmentActorInline, CommitmentRelationInline, StatusUpdateInline, FlagInline]

    def get_queryset(self, request):
        return (
            super()
            .get_queryset(request)
            .annotate(
                _last_change=Max("status_updates__recorded_at"),
                _open_flags=Count(
                    "flags", filter=Q(flags__resolved_at__isnull=True), distinct=True
                ),
            )
        )

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
        return format_html(
            '<a href="{}" target="_blank">{}</a>', obj.get_absolute_url(), obj.get_absolute_url()
        )

    @admin.display(description=_("new step"))
    def log_update_link(self, obj):
        if not obj.pk:
            return _("Save the commitment first.")
        url = reverse("admin:commitments_statusupdate_add") + f"?commitment={obj.pk}"
        return format_html('<a class="button" href="{}">{}</a>', url, _("Log status update"))


class StatusUpdateForm(forms.ModelForm):
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

    def clean(self):
        cleaned = super().clean()
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
        for field, message in errors.items():
            if field in self.fields and field not in self.errors:
                self.add_error(field, message)
            elif field not in self.fields:
                self.add_error(None, message)
        return cleaned


@admin.register(StatusUpdate)
class StatusUpdateAdmin(admin.ModelAdmin):
    """Adding only: saved entries are never edited or deleted here."""

    form = StatusUpdateForm
    list_display = [
        "commitment",
        "status",
        "effective_display",
        "recorded_by",
        "recorded_at",
        "is_correction",
    ]
    list_filter = ["status", "effective_precision"]
    list_select_related = ["commitment", "recorded_by"]
    search_fields = ["commitment__title", "description", "sources__title", "sources__outlet"]
    date_hierarchy = "effective_on"
    autocomplete_fields = ["commitment", "sources", "corrects"]

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_changeform_initial_data(self, request):
        initial = super().get_changeform_initial_data(request)
        initial.setdefault("effective_precision", "day")
        return initial

    @admin.display(description=_("took effect"), ordering="effective_on")
    def effective_display(self, obj):
        return obj.vague("effective_on")

    @admin.display(description=_("correction"), boolean=True)
    def is_correction(self, obj):
        return obj.corrects_id is not None

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        created = services.status_update_create(
            commitment=data["commitment"],
            status=data["status"],
            effective_on=data["effective_on"],
            effective_precision=data["effective_precision"],
            description=data["description"],
            sources=data["sources"],
            recorded_by=request.user,
            corrects=data.get("corrects"),
            correction_note=data.get("correction_note", ""),
        )
        form.instance = created
        obj.pk = created.pk

    def save_related(self, request, form, formsets, change):
        # The service saved the sources with the entry, in one transaction.
        pass


@admin.register(Statement)
class StatementAdmin(SimpleHistoryAdmin):
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
class IndicatorAdmin(admin.ModelAdmin):
    list_display = ["name", "unit", "comparison_label", "comparison_value"]
    search_fields = ["name", "description"]
    prepopulated_fields = {"slug": ["name"]}
    autocomplete_fields = ["commitments", "topics", "comparison_source"]
    inlines = [ObservationInline]


@admin.register(Observation)
class ObservationAdmin(admin.ModelAdmin):
    list_display = ["indicator", "value", "observed_display", "source"]
    list_filter = ["indicator"]
    list_select_related = ["indicator", "source"]
    search_fields = ["indicator__name", "note", "source__title"]
    autocomplete_fields = ["indicator", "source"]

    @admin.display(description=_("date"), ordering="observed_on")
    def observed_display(self, obj):
        return obj.vague("observed_on")


@admin.register(Flag)
class FlagAdmin(admin.ModelAdmin):
    """Flags are raised and resolved by the background jobs; editors read them here."""

    list_display = ["commitment", "reason", "since", "raised_at", "acknowledged_at", "resolved_at"]
    list_filter = ["reason", ("resolved_at", admin.EmptyFieldListFilter)]
    list_select_related = ["commitment"]
    search_fields = ["commitment__title", "details"]
    readonly_fields = [f.name for f in Flag._meta.fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
