"""The admin's forms: what editors fill in, and the services' answers shown beside the
fields. A form here asks a service what is wrong (``services.*_errors``, or the
``ValidationError`` a service raises) and shows it through ``show_service_errors``; it
never restates a rule itself, and never saves: the admin (``admin.py``,
``admin_accounts.py``) calls the services with what the form cleaned.
"""

from __future__ import annotations

import uuid

from django import forms
from django.contrib.admin import widgets
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.core.exceptions import ValidationError
from django.utils.text import capfirst
from django.utils.translation import gettext_lazy as _

from . import roles, services
from .dates import DatePrecision
from .models import (
    Check,
    Commitment,
    EventType,
    Revision,
    Source,
    StatusUpdate,
    WebhookEndpoint,
)
from .services.revisions import REVISED_FIELDS, ROW_FIELDS


def show_service_errors(form, errors, *, prefix: str = "") -> None:
    """Show what a service refused on ``form``: each message beside its field (named
    ``prefix`` + the service's key), unless that field already shows an error; a message
    for a field the form does not have goes at the top. ``errors`` is the service's
    ``{field: message}`` or the ``ValidationError`` it raised."""
    if isinstance(errors, ValidationError):
        errors = errors.message_dict if hasattr(errors, "error_dict") else {None: errors.messages}
    for key, messages in errors.items():
        field = f"{prefix}{key}" if key is not None else None
        for message in [messages] if isinstance(messages, str) else messages:
            if field in form.fields:
                if field not in form.errors:
                    form.add_error(field, message)
            else:
                form.add_error(None, message)


def names_its_field(name: str) -> bool:
    """A field whose refusal says which field it is: the French of a translated field (two
    boxes side by side look alike) and a language code."""
    return name.endswith("_fr") or name == "language" or name.endswith("_language")


#: A refusal that says which field it is about.
LABELLED = _("%(label)s: %(message)s")


class BilingualModelForm(forms.ModelForm):
    """A record's form with French beside the English (issue 13): a refused French text
    or language code says which field it is ("Title (French): Ensure this value has at
    most 300 characters"), beside the field and in the list at the top alike."""

    def _named(self, name: str, errors) -> list[ValidationError]:
        label = capfirst(self.fields[name].label or name)
        messages = errors.messages if isinstance(errors, ValidationError) else [errors]
        if isinstance(errors, list):
            messages = [m for e in errors for m in ValidationError(e).messages]
        return [ValidationError(LABELLED, params={"label": label, "message": m}) for m in messages]

    def add_error(self, field, error):
        named = lambda name: name in self.fields and names_its_field(name)  # noqa: E731
        if field is None and isinstance(error, ValidationError) and hasattr(error, "error_dict"):
            for name in list(error.error_dict):
                if named(name):
                    error.error_dict[name] = self._named(name, error.error_dict[name])
        elif isinstance(field, str) and named(field):
            error = ValidationError(self._named(field, error))
        super().add_error(field, error)


# --- Revisions of public material -------------------------------------------------------

REVISION_FIELDS = ["revision_kind", ("revision_reason", "revision_reason_fr")]
#: The same, one name each (a form's fields, not a fieldset's rows).
REVISION_FIELD_NAMES = ["revision_kind", "revision_reason", "revision_reason_fr"]


class RevisionFields(forms.Form):
    """Asked on the change form of anything public: the kind of change and why."""

    revision_kind = forms.ChoiceField(
        label=_("kind of change"),
        choices=Revision.Kind.choices,
        widget=forms.RadioSelect,
        help_text=_("A correction is listed on the public corrections page and in the feeds."),
    )
    revision_reason = forms.CharField(
        label=_("reason (shown publicly)"),
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Why the change is made, in a sentence readers will understand."),
    )
    revision_reason_fr = forms.CharField(
        label=_("reason in French (optional)"),
        max_length=2000,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("May be left blank: readers of the French pages then get the English."),
    )


def revision_form(form_class):
    """``form_class`` asking, as well, what kind of change this is and why."""
    return type(f"Revised{form_class.__name__}", (RevisionFields, form_class), {})


class RevisionDecisionForm(forms.Form):
    note = forms.CharField(
        label=_("note (required to reject; shown to the editor)"),
        required=False,
        max_length=2000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


# --- Sources, commitments, status updates -----------------------------------------------


class SourceForm(BilingualModelForm):
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


class CommitmentForm(BilingualModelForm):
    class Meta:
        model = Commitment
        # The admin builds the real field list from the fieldsets; these are the edited
        # ones: what readers see (a revision's fields, less the inline rows) and the
        # stall threshold.
        fields = [
            *(name for name in REVISED_FIELDS[Commitment] if name not in ROW_FIELDS),
            "stall_after_days",
        ]

    def clean(self):
        cleaned = super().clean()
        if self.instance.pk and self.instance.is_published and "made_in" in self.fields:
            # A published commitment may not lose the source for where it was made.
            candidate = Commitment(made_in=cleaned.get("made_in"))
            show_service_errors(self, services.commitment_publish_errors(commitment=candidate))
        return cleaned


NEW_SOURCE_FIELDS = ["url", "title", "outlet", "published_on", "published_precision", "kind"]


class StatusUpdateForm(BilingualModelForm):
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
    # A one-time token, new each time the form is shown (and kept when it is shown again
    # with errors): posting the same form twice records one update.
    form_token = forms.UUIDField(initial=uuid.uuid4, required=False, widget=forms.HiddenInput)

    class Meta:
        model = StatusUpdate
        fields = [
            "commitment",
            "status",
            "effective_on",
            "effective_precision",
            "description",
            "description_fr",
            "sources",
            "corrects",
            "correction_note",
            "correction_note_fr",
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
        described = [source for source in [self.new_source()] if source]
        for source in described:
            show_service_errors(
                self, services.source_description_errors(**source), prefix="new_source_"
            )
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
            new_sources=described,
            corrects=cleaned.get("corrects"),
            correction_note=cleaned.get("correction_note") or "",
            correction_note_fr=cleaned.get("correction_note_fr") or "",
        )
        show_service_errors(self, errors)
        return cleaned


class StatusUpdateFrenchForm(RevisionFields):
    """The French of a saved step (its words in French, and for a correction what was
    wrong), changed only through a revision: the English is evidence and never changes."""

    description_fr = forms.CharField(
        label=StatusUpdate._meta.get_field("description_fr").verbose_name,
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
    )
    correction_note_fr = forms.CharField(
        label=StatusUpdate._meta.get_field("correction_note_fr").verbose_name,
        required=False,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, update: StatusUpdate, **kwargs):
        kwargs.setdefault(
            "initial",
            {
                "description_fr": update.description_fr,
                "correction_note_fr": update.correction_note_fr,
            },
        )
        super().__init__(*args, **kwargs)
        self.update = update
        if update.corrects_id is None:
            del self.fields["correction_note_fr"]


class CheckForm(forms.ModelForm):
    """An editor's "checked, nothing new" (``services.check_record``)."""

    # A one-time token, as on the status update form: posting it twice records one check.
    form_token = forms.UUIDField(initial=uuid.uuid4, required=False, widget=forms.HiddenInput)

    class Meta:
        model = Check
        fields = ["commitment", "checked_on", "note", "source"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The service says why a missing date or note is refused; let its message stand.
        for name in ("checked_on", "note"):
            if name in self.fields:
                self.fields[name].required = False

    def clean(self):
        cleaned = super().clean()
        if "commitment" in self.errors:
            return cleaned
        show_service_errors(
            self,
            services.check_errors(
                commitment=cleaned.get("commitment"),
                checked_on=cleaned.get("checked_on"),
                note=cleaned.get("note") or "",
                source=cleaned.get("source"),
            ),
        )
        return cleaned

    def _post_clean(self):
        # The service's messages above are the model's rules said once; the instance is
        # filled in but not validated again (the service validates it when it records it).
        self.instance = forms.models.construct_instance(
            self, self.instance, self._meta.fields, self._meta.exclude
        )


# --- Flags ------------------------------------------------------------------------------


class ReviewNoteForm(forms.Form):
    note = forms.CharField(
        label=_("note"), required=False, widget=forms.Textarea(attrs={"rows": 3})
    )


# --- Accounts (``admin_accounts.py``) ---------------------------------------------------

ROLE_CHOICES = [("", _("No role (no access to the admin)"))] + [(r, _(r)) for r in roles.ROLES]


def role_field():
    return forms.ChoiceField(
        label=_("Role"),
        choices=ROLE_CHOICES,
        required=False,
        help_text=_(
            "Editor: drafts and status updates. Publisher: also publishes and reviews flags. "
            "Admin: manages accounts. A role gives access to the admin; no role takes it away."
        ),
    )


class RoleUserChangeForm(UserChangeForm):
    role = role_field()

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["role"].initial = roles.user_role(self.instance)


class RoleUserCreationForm(AdminUserCreationForm):
    role = role_field()


# --- Webhook endpoints (issue 12) ----------------------------------------------------------

#: The endpoint's fields the form edits and the services take, by the same names.
WEBHOOK_ENDPOINT_FIELDS = [
    "url",
    "description",
    "event_types",
    "commitment",
    "actor",
    "topic",
    "is_active",
]


class WebhookEndpointForm(forms.ModelForm):
    """An endpoint as an Admin registers it. The address and the event types are judged
    by ``services.webhook_endpoint_errors`` (https, a public address, known types, at most
    one subject), whose messages show beside the fields."""

    # The service judges the address as typed: no scheme is added, nothing normalised.
    url = forms.CharField(
        label=_("URL"),
        max_length=500,
        help_text=_("The newsroom's https address that receives the events."),
    )
    event_types = forms.MultipleChoiceField(
        label=_("event types"),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        choices=[(value, label) for value, label in EventType.choices if value != EventType.TEST],
        help_text=_("Tick none for every type."),
    )

    class Meta:
        model = WebhookEndpoint
        fields = WEBHOOK_ENDPOINT_FIELDS

    def clean(self):
        cleaned = super().clean()
        if "url" in cleaned:
            show_service_errors(
                self,
                services.webhook_endpoint_errors(
                    url=cleaned.get("url", ""),
                    event_types=cleaned.get("event_types") or [],
                    description=cleaned.get("description", ""),
                    commitment=cleaned.get("commitment"),
                    actor=cleaned.get("actor"),
                    topic=cleaned.get("topic"),
                ),
            )
        return cleaned
