"""The list's filters, one definition for the page, its exports and the API.

A filter given a value it does not know is left out and named (``ignored``), so a reader
who follows a stale or mistyped link gets the list, not an error.
"""

from __future__ import annotations

import unicodedata

import django_filters
from django import forms
from django.db.models import Exists, OuterRef
from django.utils.html import escape, format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext_lazy as _

from . import languages, selectors
from .caching import per_version
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
        # A flat menu: one pass over the choices, one escaped string per option, the first
        # option whose value is the chosen one selected (as Django's Select does).
        chosen = set(self.format_value(value))
        options = []
        for option_value, label in self.choices:
            option_value = "" if option_value is None else str(option_value)
            selected = option_value in chosen
            if selected:
                chosen = set()
            options.append(
                f'\n  <option value="{escape(option_value)}"'
                f"{' selected' if selected else ''}>{escape(label)}</option>"
            )
        return format_html(
            '<select name="{}"{}>{}\n</select>',
            name,
            self._attrs(self.build_attrs(self.attrs, attrs)),
            mark_safe("".join(options)),  # each piece escaped above
        )


def dated_filter(label, field_name: str, method: str) -> django_filters.DateFilter:
    """A date box over a date that may be vague: ``method`` is ``filter_dated_from`` or
    ``filter_dated_to`` (a vague date matches when its period overlaps the range)."""
    return django_filters.DateFilter(
        label=label,
        field_name=field_name,
        method=method,
        widget=forms.DateInput(attrs={"type": "date"}),
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
    made_from = dated_filter(_("Made on or after"), "made_on", "filter_dated_from")
    made_to = dated_filter(_("Made on or before"), "made_on", "filter_dated_to")
    deadline_from = dated_filter(_("Deadline on or after"), "deadline", "filter_dated_from")
    deadline_to = dated_filter(_("Deadline on or before"), "deadline", "filter_dated_to")
    sort = django_filters.ChoiceFilter(
        label=_("Sort by"),
        choices=Sort.CHOICES,
        empty_label=None,
        method="order",
        widget=QuickSelect,
    )

    #: The menus built from the database: the same for every reader until the next public
    #: write, so built once per public version in each process (``per_version``), not
    #: on every page.
    MENUS = ("actor", "topic")

    @property
    def form(self):
        form = super().form
        if not getattr(self, "_menus_ready", False):
            self._menus_ready = True
            for name in self.MENUS:
                field = form.fields[name]
                menu = per_version(f"filter-menu:{name}", lambda field=field: _menu(field))
                field.widget.choices = [("", field.empty_label), *menu]
        return form

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

    # Every date filter: a vague date ("2025", "July 2025") matches when its period
    # overlaps the range asked for (``dated_within``), not as the first day of its period.
    # (A method filter is given its ``field_name`` as ``name``.)
    def filter_dated_from(self, queryset, name, value):
        return queryset.dated_within(name, start=value)

    def filter_dated_to(self, queryset, name, value):
        return queryset.dated_within(name, end=value)

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

    @property
    def narrowing(self) -> int:
        """How many filters in force narrow the list (the sort order does not): the
        "Filters (2)" on the folded form."""
        return len(set(self.active) - {"sort"})


def _menu_label(obj) -> str:
    """An actor or a topic as its menu names it, in the page's language (the other
    language's name when it has none in this one): "Home Office (UK government
    department)" for an actor with a role."""
    name = languages.translated(obj, "name")
    role = languages.translated(obj, "role") if hasattr(obj, "role") else ""
    return f"{name} ({role})" if role else str(name)


def _menu(field: forms.ModelChoiceField) -> list[tuple[str, str]]:
    """A model menu's options as plain (value, label) pairs, from the field's own queryset,
    labelled and sorted by name in the page's language, so the menu offers exactly what
    the filter accepts."""
    options = [(getattr(obj, field.to_field_name), _menu_label(obj)) for obj in field.queryset]
    return sorted(options, key=lambda option: (_sort_key(option[1]), option[0]))


def _sort_key(text: str) -> str:
    """Accents do not move a name to the end of the menu: "Élysée" sorts among the e's."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char)).casefold()


def commitment_filter(data) -> CommitmentFilter:
    """The list's filter over the published commitments, bound to ``data`` (a QueryDict)."""
    return CommitmentFilter(
        data if data is not None else {}, queryset=selectors.commitment_list_items()
    )
