"""The list's filters, one definition for the page, its exports and the API.

A filter given a value it does not know is left out and named (``ignored``), so a reader
who follows a stale or mistyped link gets the list, not an error.
"""

from __future__ import annotations

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext_lazy as _

from . import selectors
from .models import Actor, Commitment, CommitmentActor, Status, Topic


class Sort:
    CHANGED = "changed"
    MADE = "made"
    DEADLINE = "deadline"
    CHOICES = [
        (CHANGED, _("Recently changed")),
        (MADE, _("Date made, newest first")),
        (DEADLINE, _("Deadline, soonest first")),
    ]
    #: Each sort's ``CommitmentQuerySet`` method, where the order itself is defined.
    ORDERING = {
        CHANGED: "recently_changed_first",
        MADE: "newest_made_first",
        DEADLINE: "soonest_deadline_first",
    }


class QuickSelect(forms.Select):
    """A ``<select>`` written in Python rather than through the widget templates: the same
    markup, without one template render per ``<option>`` (the list's actor menu has one
    per public actor, and through templates it was a third of the page's time)."""

    @staticmethod
    def _attrs(attrs: dict) -> str:
        """Attributes in their order, as Django's ``attrs.html`` writes them."""
        written = [
            format_html(" {}", name) if value is True else format_html(' {}="{}"', name, value)
            for name, value in attrs.items()
            if value is not False and value is not None
        ]
        return format_html_join("", "{}", ((item,) for item in written))

    def render(self, name, value, attrs=None, renderer=None):
        widget = self.get_context(name, value, attrs)["widget"]
        options = format_html_join(
            "",
            '\n  <option value="{}"{}>{}</option>',
            (
                (option["value"], self._attrs(option["attrs"]), option["label"])
                for _group, choices, _index in widget["optgroups"]
                for option in choices
            ),
        )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            widget["name"],
            self._attrs(widget["attrs"]),
            options,
        )


class CommitmentFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        label=_("Search"),
        method="search",
        widget=forms.TextInput(attrs={"type": "search", "placeholder": _("e.g. taxi boats")}),
    )
    status = django_filters.ChoiceFilter(
        label=_("Status"), choices=Status.choices, empty_label=_("Any status"), widget=QuickSelect
    )
    actor = django_filters.ModelChoiceFilter(
        label=_("Who"),
        field_name="roles__actor",
        to_field_name="slug",
        queryset=Actor.objects.public().order_by("name"),
        empty_label=_("Anyone"),
        method="filter_actor",
        widget=QuickSelect,
    )
    topic = django_filters.ModelChoiceFilter(
        label=_("Topic"),
        field_name="topics",
        to_field_name="slug",
        queryset=Topic.objects.public().order_by("name"),
        empty_label=_("Any topic"),
        method="filter_topic",
        widget=QuickSelect,
    )
    flagged = django_filters.ChoiceFilter(
        label=_("Flags"),
        choices=[("yes", _("Flagged by the machine")), ("no", _("Not flagged"))],
        empty_label=_("Flagged or not"),
        method="filter_flagged",
        widget=QuickSelect,
    )
    made_from = django_filters.DateFilter(
        label=_("Made on or after"),
        field_name="made_on",
        lookup_expr="gte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    made_to = django_filters.DateFilter(
        label=_("Made on or before"),
        field_name="made_on",
        lookup_expr="lte",
        widget=forms.DateInput(attrs={"type": "date"}),
    )
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=Sort.CHOICES,
        empty_label=None,
        method="order",
        widget=QuickSelect,
    )

    def search(self, queryset, name, value):
        return selectors.search_commitments(queryset, value)

    # Exists rather than a join and DISTINCT: no duplicates to remove, so a page of the
    # list is read in its sort order from the sort's index.
    def filter_actor(self, queryset, name, value):
        return queryset.filter(
            Exists(CommitmentActor.objects.filter(commitment=OuterRef("pk"), actor=value))
        )

    def filter_topic(self, queryset, name, value):
        through = Commitment.topics.through.objects
        return queryset.filter(Exists(through.filter(commitment=OuterRef("pk"), topic=value)))

    def filter_flagged(self, queryset, name, value):
        if value == "yes":
            return queryset.flagged()
        if value == "no":
            return queryset.not_flagged()
        return queryset

    def order(self, queryset, name, value):
        # Ordering is applied once, in ``filter_queryset``, so it holds with no ``sort``.
        return queryset

    def filter_queryset(self, queryset):
        queryset = super().filter_queryset(queryset)
        sort = self.form.cleaned_data.get("sort") or Sort.CHANGED
        return getattr(queryset, Sort.ORDERING[sort])()

    @property
    def ignored(self) -> list[dict]:
        """The filters left out, each with its label and why, for the page to say so."""
        return [
            {"name": name, "label": self.form.fields[name].label, "reason": " ".join(errors)}
            for name, errors in self.form.errors.items()
        ]

    @property
    def active(self) -> dict:
        """The filters in force, as query parameters (for links, exports and feeds)."""
        if not self.is_bound:
            return {}
        valid = self.form.cleaned_data
        return {
            name: self.data.get(name)
            for name in self.filters
            if valid.get(name) not in (None, "") and self.data.get(name)
        }


def commitment_filter(data) -> CommitmentFilter:
    """The list's filter over the published commitments, bound to ``data`` (a QueryDict)."""
    return CommitmentFilter(
        data if data is not None else {}, queryset=selectors.commitment_list_items()
    )
