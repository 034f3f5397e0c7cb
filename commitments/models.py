"""The domain: who promised what, where and when, and what has happened since.

Owns the tables: fields, named constraints (mirrored in ``clean()`` so an editor reads a
sentence rather than an IntegrityError), indexes and the ranges editors may type. Each
model's reads are its QuerySet in ``querysets.py`` (what is public, named orderings); the
choices (statuses, flag reasons, actor roles) are in ``vocabulary.py`` and re-exported
here.

Must not hold rules about how records are written (a status update needs a source, the
current status follows the latest update): those live in ``services/``. ``save()`` fills
derived fields, nothing more.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.postgres.search import SearchVectorField
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.text import capfirst, format_lazy
from django.utils.translation import gettext
from django.utils.translation import gettext_lazy as _
from simple_history.models import HistoricalRecords

from .dates import DatePrecision, format_vague_date, start_of_period
from .languages import BASE_LANGUAGE, language_code_validator
from .querysets import (
    NOT_FINAL,
    OPEN_FLAG,
    PENDING_DELIVERY,
    PUBLISHED,
    ActorQuerySet,
    CheckQuerySet,
    CommitmentQuerySet,
    DeliveryQuerySet,
    FlagQuerySet,
    IndicatorQuerySet,
    ObservationQuerySet,
    RevisionQuerySet,
    SourceQuerySet,
    StatementQuerySet,
    StatusUpdateQuerySet,
    TopicQuerySet,
)
from .safety import WEB_ADDRESS_REGEX
from .vocabulary import FINAL_STATUSES, ActorRole, FlagReason, Status  # noqa: F401 (re-exported)


def precision_field(verbose_name):
    """How precisely a date is known; ``verbose_name`` is marked for translation by the
    caller (``_("...")``), so the catalogue has it."""
    return models.CharField(
        verbose_name,
        max_length=5,
        choices=DatePrecision,
        default=DatePrecision.DAY,
        help_text=_("How precisely the date is known. A month or a year is shown as such."),
    )


def french_of(field: models.Field) -> models.Field:
    """The French version of a translated field (``languages.TRANSLATED_FIELDS``): the same
    kind and length, optional, labelled "<label> (French)". Blank until an editor writes it;
    readers then get the English, marked as such."""
    _name, _path, _args, kwargs = field.deconstruct()
    options = {key: kwargs[key] for key in ("max_length",) if key in kwargs}
    return type(field)(
        format_lazy(_("{field} (French)"), field=field.verbose_name),
        blank=True,
        default="",
        db_default="",  # rows written by SQL (jobs, benchmarks) need not name it
        **options,
    )


def language_field(verbose_name, default: str = BASE_LANGUAGE, **options) -> models.CharField:
    """The language a text was written or said in: a code such as en or fr."""
    return models.CharField(
        verbose_name,
        max_length=10,
        default=default,
        db_default=default,
        validators=[language_code_validator],
        help_text=_("The language it is written in: a code such as en or fr."),
        **options,
    )


def user_field(verbose_name=None):
    """Who did something (published, recorded, acknowledged, ...): kept as empty when the
    account is deleted, with no reverse accessor on the user."""
    return models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name=verbose_name,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )


class VagueDateMixin:
    """Stores each vague date at the start of its period, so dates still sort and compare."""

    vague_dates: tuple[tuple[str, str], ...] = ()

    def normalise_vague_dates(self):
        for date_field, precision_field_name in self.vague_dates:
            value = getattr(self, date_field)
            if value is not None:
                setattr(
                    self,
                    date_field,
                    start_of_period(value, getattr(self, precision_field_name)),
                )

    def vague(self, date_field: str) -> str:
        for name, precision_name in self.vague_dates:
            if name == date_field:
                return format_vague_date(getattr(self, name), getattr(self, precision_name))
        raise KeyError(date_field)


class TimelineStepMixin:
    """A step of a commitment's timeline (a status update, a statement, a figure): its
    anchor on the commitment page, ``update-12``, the one spelling every permalink,
    citation and feed link uses."""

    anchor_kind: str = ""

    @property
    def anchor(self) -> str:
        return f"{self.anchor_kind}-{self.pk}"


# --- Sane ranges for what editors type (issue 9) -----------------------------------------
# Each range is a validator on the field (the form shows its message beside the field) and
# a named CHECK constraint (nothing out of range is stored, whoever writes). The database
# holds fixed bounds; the rules relative to today (not after today, at most fifty years
# ahead) are checked in ``clean()`` and the services, since a CHECK must not depend on the
# day it runs.
EARLIEST_DATE = datetime.date(1900, 1, 1)
LATEST_DATE = datetime.date(2200, 12, 31)
#: How far ahead a deadline may be set, in years.
DEADLINE_YEARS_AHEAD = 50
STALL_AFTER_DAYS_MAX = 3650
#: Indicator figures (observations, comparison values) lie strictly within ±10^12.
FIGURE_LIMIT = Decimal("1000000000000")


def _range_validators(low, high, *, too_low, too_high, label) -> list:
    """A field's bounds as form-level validators whose messages name the field."""
    return [
        MinValueValidator(low, message=format_lazy(too_low, label=label)),
        MaxValueValidator(high, message=format_lazy(too_high, label=label)),
    ]


def _range_constraint(field: str, within: Q, name: str, message, label, *, nullable: bool):
    """A named CHECK holding ``field`` ``within`` its range (or NULL, if ``nullable``)."""
    return models.CheckConstraint(
        condition=(Q(**{f"{field}__isnull": True}) | within) if nullable else within,
        name=name,
        violation_error_code="out_of_range",
        violation_error_message=format_lazy(message, label=label),
    )


def date_range_validators(label: str) -> list:
    """Validators refusing a date before 1900 or after 2200, naming the field."""
    return _range_validators(
        EARLIEST_DATE,
        LATEST_DATE,
        too_low=_("{label} cannot be before 1 January 1900."),
        too_high=_("{label} cannot be after 31 December 2200."),
        label=label,
    )


def date_range_constraint(field: str, name: str, label: str, *, nullable: bool):
    """A named CHECK holding ``field`` between 1900-01-01 and 2200-12-31."""
    within = Q(**{f"{field}__gte": EARLIEST_DATE, f"{field}__lte": LATEST_DATE})
    message = _("{label} must be between 1900 and 2200.")
    return _range_constraint(field, within, name, message, label, nullable=nullable)


def figure_validators(label: str) -> list:
    return _range_validators(
        -FIGURE_LIMIT + Decimal("0.01"),
        FIGURE_LIMIT - Decimal("0.01"),
        too_low=_("{label} must be more than minus one trillion (-10^12)."),
        too_high=_("{label} must be less than one trillion (10^12)."),
        label=label,
    )


class FigureField(models.DecimalField):
    """A decimal an editor types, within ±10^12: its form names the field when the number
    has too many digits (the form's own digit check runs before the model's validators)."""

    def formfield(self, **kwargs):
        message = format_lazy(
            _("{label} must lie between -10^12 and 10^12."),
            label=capfirst(format_lazy(_("the {name}"), name=self.verbose_name)),
        )
        kwargs.setdefault(
            "error_messages",
            {"max_digits": message, "max_whole_digits": message},
        )
        return super().formfield(**kwargs)


def figure_constraint(field: str, name: str, label: str, *, nullable: bool):
    within = Q(**{f"{field}__gt": -FIGURE_LIMIT, f"{field}__lt": FIGURE_LIMIT})
    message = _("{label} must lie between -10^12 and 10^12.")
    return _range_constraint(field, within, name, message, label, nullable=nullable)


def _years_ahead(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def _refuse_future(instance, field: str, label: str) -> dict[str, str]:
    value = getattr(instance, field)
    if value is not None and value > timezone.localdate():
        return {field: format_lazy(_("{label} is after today."), label=label)}
    return {}


class Actor(models.Model):
    class Kind(models.TextChoices):
        PERSON = "person", _("Person")
        GOVERNMENT = "government", _("Government")
        MINISTRY = "ministry", _("Ministry or department")
        AGENCY = "agency", _("Agency or public body")
        OFFICIAL_ROLE = "office", _("Office or post")
        ORGANISATION = "organisation", _("Other organisation")

    name = models.CharField(_("name"), max_length=200)
    name_fr = french_of(name)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    country = models.CharField(
        _("country"),
        max_length=2,
        blank=True,
        help_text=_("ISO 3166 two-letter code, e.g. GB or FR. Empty for international bodies."),
    )
    role = models.CharField(
        _("role"),
        max_length=200,
        blank=True,
        help_text=_("For a person: the post held, e.g. 'Prime Minister'. Say 'former' if so."),
    )
    role_fr = french_of(role)
    parent = models.ForeignKey(
        "self",
        verbose_name=_("part of"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="children",
    )
    description = models.TextField(_("description"), blank=True)
    description_fr = french_of(description)
    #: What the public search reads of an actor: kept by PostgreSQL itself (a trigger,
    #: migrations 0017 and 0020) from the name and role, the English in
    #: ``search_document`` and the French in ``search_document_fr``; NULL on other
    #: databases.
    search_document = SearchVectorField(null=True, editable=False)
    search_document_fr = SearchVectorField(null=True, editable=False)

    objects = ActorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("actor")
        verbose_name_plural = _("actors")
        constraints = [
            models.CheckConstraint(
                condition=Q(country="") | Q(country__regex=r"^[A-Z]{2}$"),
                name="actor_country_iso_code",
                violation_error_message=_("Country must be a two-letter code such as GB."),
            ),
        ]

    def __str__(self):
        return f"{self.name} ({self.role})" if self.role else self.name

    def get_absolute_url(self):
        return reverse("commitments:actor_detail", kwargs={"slug": self.slug})


class Topic(models.Model):
    name = models.CharField(_("name"), max_length=200, unique=True)
    name_fr = french_of(name)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_fr = french_of(description)

    objects = TopicQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("topic")
        verbose_name_plural = _("topics")

    def __str__(self):
        return self.name

    def get_absolute_url(self):
        return reverse("commitments:topic_detail", kwargs={"slug": self.slug})


class Source(VagueDateMixin, models.Model):
    class Kind(models.TextChoices):
        NEWS_REPORT = "news_report", _("News report")
        OFFICIAL_STATEMENT = "official_statement", _("Official statement")
        PRESS_RELEASE = "press_release", _("Press release")
        PARLIAMENTARY_RECORD = "parliamentary_record", _("Parliamentary record")
        DATA_RELEASE = "data_release", _("Data release")

    class LinkStatus(models.TextChoices):
        UNCHECKED = "unchecked", _("Not checked yet")
        OK = "ok", _("Online")
        FAILING = "failing", _("Failing")
        UNAVAILABLE = "unavailable", _("Unavailable")
        NO_URL = "no_url", _("No web address")

    # NULL, not "", for "no address": the unique constraint then ignores address-less sources.
    url = models.URLField(  # noqa: DJ001
        _("web address"),
        max_length=1000,
        null=True,
        blank=True,
        help_text=_(
            "Stored normalised (lower-case host, no tracking parameters). Leave empty for a "
            "broadcast or print source whose address is not known."
        ),
    )
    title = models.CharField(_("title"), max_length=500)
    outlet = models.CharField(_("outlet"), max_length=200)
    author = models.CharField(_("author"), max_length=200, blank=True)
    published_on = models.DateField(
        _("publication date"),
        null=True,
        blank=True,
        validators=date_range_validators(_("The publication date")),
    )
    published_precision = precision_field(_("publication date precision"))
    kind = models.CharField(_("kind"), max_length=30, choices=Kind, default=Kind.NEWS_REPORT)
    language = language_field(_("language"))
    notes = models.TextField(
        _("notes"), blank=True, help_text=_("Anything a reader should know about this source.")
    )
    archive_url = models.URLField(_("archive address"), max_length=1000, blank=True)
    archived_at = models.DateTimeField(_("archived at"), null=True, blank=True)
    archive_requested_at = models.DateTimeField(
        _("archive last requested at"), null=True, blank=True
    )
    archive_attempts = models.PositiveSmallIntegerField(_("archive attempts"), default=0)
    archive_error = models.CharField(_("last archive error"), max_length=500, blank=True)
    link_status = models.CharField(
        _("link health"), max_length=12, choices=LinkStatus, default=LinkStatus.UNCHECKED
    )
    last_checked_at = models.DateTimeField(_("last checked at"), null=True, blank=True)
    last_http_status = models.PositiveSmallIntegerField(
        _("last HTTP status"), null=True, blank=True
    )
    final_url = models.URLField(_("address after redirects"), max_length=1000, blank=True)
    last_check_error = models.CharField(_("last check error"), max_length=500, blank=True)
    consecutive_failures = models.PositiveSmallIntegerField(_("failed checks in a row"), default=0)
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)
    #: What the public search reads of a source: kept by PostgreSQL itself (a trigger,
    #: migrations 0017 and 0020) from the outlet, title and author, in the document of the
    #: source's language (French in ``search_document_fr``, any other in
    #: ``search_document``); NULL on other databases.
    search_document = SearchVectorField(null=True, editable=False)
    search_document_fr = SearchVectorField(null=True, editable=False)

    # Editors' changes are history; what the background jobs keep (link health, archive)
    # and the search document (derived) are not.
    history = HistoricalRecords(
        excluded_fields=[
            "search_document",
            "search_document_fr",
            "archive_url",
            "archived_at",
            "archive_requested_at",
            "archive_attempts",
            "archive_error",
            "link_status",
            "last_checked_at",
            "last_http_status",
            "final_url",
            "last_check_error",
            "consecutive_failures",
        ]
    )
    objects = SourceQuerySet.as_manager()

    vague_dates = (("published_on", "published_precision"),)

    class Meta:
        ordering = ["-published_on", "title"]
        verbose_name = _("source")
        verbose_name_plural = _("sources")
        constraints = [
            models.UniqueConstraint(
                fields=["url"],
                condition=Q(url__isnull=False),
                name="source_unique_url",
                violation_error_message=_("A source with this web address already exists."),
            ),
            models.CheckConstraint(
                condition=~Q(url=""),
                name="source_url_null_not_blank",
                violation_error_message=_("An empty web address is stored as none."),
            ),
            # Stored addresses become links: only web addresses (never javascript: or data:).
            models.CheckConstraint(
                condition=Q(url__isnull=True) | Q(url__iregex=WEB_ADDRESS_REGEX),
                name="source_url_http",
                violation_error_code="url_scheme",
                violation_error_message=_("The web address must start with http:// or https://."),
            ),
            models.CheckConstraint(
                condition=Q(archive_url="") | Q(archive_url__iregex=WEB_ADDRESS_REGEX),
                name="source_archive_url_http",
                violation_error_code="url_scheme",
                violation_error_message=_(
                    "The archive address must start with http:// or https://."
                ),
            ),
            models.CheckConstraint(
                condition=Q(final_url="") | Q(final_url__iregex=WEB_ADDRESS_REGEX),
                name="source_final_url_http",
                violation_error_code="url_scheme",
                violation_error_message=_(
                    "The address after redirects must start with http:// or https://."
                ),
            ),
            date_range_constraint(
                "published_on",
                "source_published_on_range",
                _("The publication date"),
                nullable=True,
            ),
        ]

    def __str__(self):
        date = self.vague("published_on")
        return f"{self.outlet}: {self.title}" + (f" ({date})" if date else "")

    def clean(self):
        if self.url == "":
            self.url = None
        self.normalise_vague_dates()


class NullsLastIndex(models.Index):
    """An index whose ``desc(nulls_last=True)`` columns match an ``ORDER BY ... DESC NULLS
    LAST`` on PostgreSQL. SQLite refuses ``NULLS LAST`` in an index, and needs no such
    words: it sorts NULLs last in a descending order anyway."""

    def create_sql(self, model, schema_editor, using="", **kwargs):
        if schema_editor.connection.vendor == "postgresql":
            return super().create_sql(model, schema_editor, using=using, **kwargs)
        _path, args, options = self.deconstruct()
        args = [
            models.OrderBy(arg.expression, descending=arg.descending)
            if isinstance(arg, models.OrderBy)
            else arg
            for arg in args
        ]
        return models.Index(*args, **options).create_sql(
            model, schema_editor, using=using, **kwargs
        )


class Commitment(VagueDateMixin, models.Model):
    title = models.CharField(_("title"), max_length=300)
    title_fr = french_of(title)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    summary = models.TextField(_("summary"), help_text=_("What was promised, in plain words."))
    summary_fr = french_of(summary)
    original_wording = models.TextField(
        _("original wording"),
        blank=True,
        help_text=_("The promise as it was reported or said, quoted where the words are known."),
    )
    original_wording_language = language_field(_("language of the original wording"))
    original_wording_translation_en = models.TextField(
        _("our English translation of the original wording"), blank=True, default="", db_default=""
    )
    original_wording_translation_fr = models.TextField(
        _("our French translation of the original wording"), blank=True, default="", db_default=""
    )
    #: What the public search reads: kept by PostgreSQL itself (a trigger, migrations 0014,
    #: 0017 and 0020), the English words in ``search_document`` (title, summary, our English
    #: translation of the original wording) and the French in ``search_document_fr``
    #: (``title_fr``, ``summary_fr``, our French translation), the original wording in its
    #: own language's; NULL on other databases.
    search_document = SearchVectorField(null=True, editable=False)
    search_document_fr = SearchVectorField(null=True, editable=False)
    actors = models.ManyToManyField(
        Actor, through="CommitmentActor", related_name="commitments", verbose_name=_("actors")
    )
    topics = models.ManyToManyField(
        Topic, related_name="commitments", blank=True, verbose_name=_("topics")
    )
    made_on = models.DateField(_("date made"), validators=date_range_validators(_("The date made")))
    made_precision = precision_field(_("date made precision"))
    made_in = models.ForeignKey(
        Source,
        verbose_name=_("made in"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="commitments_made",
        help_text=_("The source that records where and when the promise was made."),
    )
    made_where = models.CharField(
        _("where it was made"),
        max_length=300,
        blank=True,
        help_text=_("The occasion, e.g. 'UK-France summit, London'."),
    )
    made_where_fr = french_of(made_where)
    deadline = models.DateField(
        _("deadline"),
        null=True,
        blank=True,
        validators=date_range_validators(_("The deadline")),
        help_text=_("At most fifty years ahead."),
    )
    deadline_precision = precision_field(_("deadline precision"))
    status = models.CharField(
        _("current status"), max_length=20, choices=Status, default=Status.NOT_STARTED
    )
    status_since = models.DateField(
        _("status since"),
        null=True,
        blank=True,
        help_text=_("Kept in step with the latest status update; not edited by hand."),
    )
    status_since_precision = precision_field(_("status since precision"))
    stall_after_days = models.PositiveIntegerField(
        _("stall after (days)"),
        null=True,
        blank=True,
        validators=[
            MinValueValidator(1, message=_("Stall after (days) must be at least 1 day.")),
            MaxValueValidator(
                STALL_AFTER_DAYS_MAX,
                message=_("Stall after (days) must be at most 3650 days (ten years)."),
            ),
        ],
        help_text=_(
            "Flag as stalled after this many days without progress (1 to 3650). "
            "Empty: site default."
        ),
    )
    is_published = models.BooleanField(_("published"), default=False)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    published_by = user_field(_("published by"))
    related = models.ManyToManyField(
        "self",
        through="CommitmentRelation",
        symmetrical=False,
        related_name="related_from",
        blank=True,
        verbose_name=_("related commitments"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    history = HistoricalRecords(
        excluded_fields=[
            "status",
            "status_since",
            "status_since_precision",
            "search_document",
            "search_document_fr",
        ]
    )
    objects = CommitmentQuerySet.as_manager()

    vague_dates = (
        ("made_on", "made_precision"),
        ("deadline", "deadline_precision"),
        ("status_since", "status_since_precision"),
    )

    class Meta:
        ordering = ["-made_on", "title"]
        verbose_name = _("commitment")
        verbose_name_plural = _("commitments")
        permissions = [("publish_commitment", _("Can publish and unpublish commitments"))]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="commitment_status_in_vocabulary",
                violation_error_message=_("Unknown status."),
            ),
            models.CheckConstraint(
                condition=Q(deadline__isnull=True) | Q(deadline__gte=models.F("made_on")),
                name="commitment_deadline_after_made",
                violation_error_message=_("The deadline cannot be before the date it was made."),
            ),
            models.CheckConstraint(
                condition=Q(stall_after_days__isnull=True)
                | Q(stall_after_days__gte=1, stall_after_days__lte=STALL_AFTER_DAYS_MAX),
                name="commitment_stall_after_days_range",
                violation_error_code="out_of_range",
                violation_error_message=_("Stall after (days) must be between 1 and 3650."),
            ),
            date_range_constraint(
                "made_on", "commitment_made_on_range", _("The date made"), nullable=False
            ),
            date_range_constraint(
                "deadline", "commitment_deadline_range", _("The deadline"), nullable=True
            ),
        ]
        indexes = [
            models.Index(fields=["is_published", "status"], name="commitment_pub_status"),
            # The public pages' sort orders, among published commitments only: the list's
            # three sorts (the default, "recently changed", also with a status filter, whose
            # COUNT reads this index alone), actor and topic pages (date made) and the home
            # page's "recently changed". Each ends in a unique column so a page is a range.
            NullsLastIndex(
                models.F("status_since").desc(nulls_last=True),
                "title",
                "id",
                name="commitment_pub_changed",
                condition=PUBLISHED,
            ),
            NullsLastIndex(
                "status",
                models.F("status_since").desc(nulls_last=True),
                "title",
                "id",
                name="commitment_pub_status_changed",
                condition=PUBLISHED,
            ),
            models.Index(
                fields=["-made_on", "title", "id"],
                name="commitment_pub_made",
                condition=PUBLISHED,
            ),
            models.Index(
                fields=["deadline", "title", "id"],
                name="commitment_pub_deadline",
                condition=PUBLISHED,
            ),
            models.Index(
                fields=["-status_since", "-updated_at"],
                name="commitment_pub_recent",
                condition=Q(is_published=True, status_since__isnull=False),
            ),
            # The flag job's rules read published, open commitments by id and only these
            # columns: with them in the index, a run with nothing to change reads the index
            # alone (index-only scans, merge joins in commitment order), never the wide
            # table. ``INCLUDE`` is PostgreSQL's; SQLite builds the index without it.
            models.Index(
                fields=["id"],
                include=[
                    "status_since",
                    "status_since_precision",
                    "made_on",
                    "made_precision",
                    "stall_after_days",
                    "deadline",
                    "deadline_precision",
                ],
                name="commitment_open_flag_rules",
                condition=PUBLISHED & NOT_FINAL,
            ),
        ]

    def __str__(self):
        return self.title

    def get_absolute_url(self):
        return reverse("commitments:commitment_detail", kwargs={"slug": self.slug})

    def clean(self):
        self.normalise_vague_dates()
        errors = {}
        today = timezone.localdate()
        if self.made_on and self.made_on > today:
            errors["made_on"] = _("This date is after today.")
        if self.deadline and self.deadline > _years_ahead(today, DEADLINE_YEARS_AHEAD):
            errors["deadline"] = _("The deadline cannot be more than fifty years ahead.")
        if errors:
            raise ValidationError(errors)


class CommitmentActor(models.Model):
    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="roles")
    actor = models.ForeignKey(Actor, on_delete=models.PROTECT, related_name="roles")
    role = models.CharField(_("role"), max_length=20, choices=ActorRole)

    class Meta:
        ordering = ["role", "actor__name"]
        verbose_name = _("actor's role")
        verbose_name_plural = _("actors and their roles")
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "actor", "role"],
                name="commitment_actor_role_unique",
                violation_error_message=_("This actor already has this role here."),
            ),
            models.CheckConstraint(
                condition=Q(role__in=ActorRole.values), name="commitment_actor_role_valid"
            ),
        ]

    def __str__(self):
        return f"{self.actor}: {self.get_role_display()}"


class CommitmentRelation(models.Model):
    class Kind(models.TextChoices):
        PART_OF = "part_of", _("is part of")
        DEPENDS_ON = "depends_on", _("depends on")
        SUPERSEDES = "supersedes", _("supersedes")

    from_commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="relations_out"
    )
    to_commitment = models.ForeignKey(
        Commitment, on_delete=models.CASCADE, related_name="relations_in"
    )
    kind = models.CharField(_("relation"), max_length=20, choices=Kind)

    class Meta:
        verbose_name = _("related commitment")
        verbose_name_plural = _("related commitments")
        constraints = [
            models.UniqueConstraint(
                fields=["from_commitment", "to_commitment", "kind"],
                name="commitment_relation_unique",
            ),
            models.CheckConstraint(
                condition=~Q(from_commitment=models.F("to_commitment")),
                name="commitment_relation_not_self",
                violation_error_message=_("A commitment cannot be related to itself."),
            ),
        ]

    def __str__(self):
        return f"{self.from_commitment} {self.get_kind_display()} {self.to_commitment}"


class Statement(TimelineStepMixin, VagueDateMixin, models.Model):
    class Kind(models.TextChoices):
        QUOTE = "quote", _("Direct quote")
        PARAPHRASE = "paraphrase", _("Paraphrase")

    text = models.TextField(_("text"))
    language = language_field(_("language"))
    translation_en = models.TextField(
        _("our English translation"), blank=True, default="", db_default=""
    )
    translation_fr = models.TextField(
        _("our French translation"), blank=True, default="", db_default=""
    )
    #: The text as the public search reads it (see ``Commitment.search_document``): the
    #: text in its own language's document, each of our translations in its own.
    search_document = SearchVectorField(null=True, editable=False)
    search_document_fr = SearchVectorField(null=True, editable=False)
    kind = models.CharField(_("kind"), max_length=12, choices=Kind, default=Kind.QUOTE)
    speaker = models.ForeignKey(
        Actor,
        verbose_name=_("speaker"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="statements",
    )
    speaker_description = models.CharField(
        _("speaker description"),
        max_length=300,
        blank=True,
        help_text=_(
            "For an unnamed source, how the outlet described them, e.g. 'a figure closely "
            "linked to French maritime security'."
        ),
    )
    speaker_description_fr = french_of(speaker_description)
    said_on = models.DateField(_("date said"), validators=date_range_validators(_("The date said")))
    said_precision = precision_field(_("date said precision"))
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="statements"
    )
    commitments = models.ManyToManyField(
        Commitment, related_name="statements", verbose_name=_("about commitments")
    )
    created_at = models.DateTimeField(_("added at"), auto_now_add=True)

    history = HistoricalRecords(
        m2m_fields=[commitments], excluded_fields=["search_document", "search_document_fr"]
    )
    objects = StatementQuerySet.as_manager()

    vague_dates = (("said_on", "said_precision"),)
    anchor_kind = "statement"

    class Meta:
        ordering = ["said_on", "id"]
        verbose_name = _("statement")
        verbose_name_plural = _("statements")
        constraints = [
            models.CheckConstraint(
                condition=Q(speaker__isnull=False) | ~Q(speaker_description=""),
                name="statement_has_speaker",
                violation_error_message=_("Name the speaker, or describe an unnamed source."),
            ),
            date_range_constraint(
                "said_on", "statement_said_on_range", _("The date said"), nullable=False
            ),
        ]

    def __str__(self):
        who = self.speaker.name if self.speaker_id else self.speaker_description
        return f"{who}: {self.text[:80]}"

    @property
    def attribution(self) -> str:
        """The speaker as the source describes them: "A Home Office spokesman (Home
        Office)" when both are recorded."""
        if self.speaker_id and self.speaker_description:
            return f"{self.speaker_description} ({self.speaker.name})"
        if self.speaker_id:
            return str(self.speaker)
        return self.speaker_description

    def clean(self):
        self.normalise_vague_dates()
        errors = _refuse_future(self, "said_on", _("The date said"))
        if not self.speaker_id and not self.speaker_description.strip():
            errors["speaker_description"] = _("Name the speaker, or describe an unnamed source.")
        if errors:
            raise ValidationError(errors)


class StatusUpdate(TimelineStepMixin, VagueDateMixin, models.Model):
    """One step on a commitment's timeline. Append-only: mistakes get a correction entry."""

    commitment = models.ForeignKey(
        Commitment, on_delete=models.PROTECT, related_name="status_updates"
    )
    status = models.CharField(_("new status"), max_length=20, choices=Status)
    effective_on = models.DateField(
        _("date it took effect"),
        validators=date_range_validators(_("The date it took effect")),
    )
    effective_precision = precision_field(_("date precision"))
    description = models.TextField(_("what happened"))
    description_fr = french_of(description)
    sources = models.ManyToManyField(
        Source, related_name="status_updates", verbose_name=_("sources")
    )
    recorded_by = user_field(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    corrects = models.ForeignKey(
        "self",
        verbose_name=_("corrects"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text=_("The earlier entry this one corrects. Both stay visible."),
    )
    correction_note = models.TextField(
        _("what was wrong"),
        blank=True,
        help_text=_("For a correction: what the earlier entry got wrong."),
    )
    correction_note_fr = french_of(correction_note)
    # The one-time token of the form that logged it: the same form posted twice (a retry, a
    # double click) finds its update already recorded and records nothing more.
    idempotency_key = models.UUIDField(_("form token"), null=True, blank=True, editable=False)

    objects = StatusUpdateQuerySet.as_manager()

    vague_dates = (("effective_on", "effective_precision"),)
    anchor_kind = "update"

    class Meta:
        ordering = list(StatusUpdateQuerySet.TIMELINE)
        get_latest_by = list(StatusUpdateQuerySet.TIMELINE)
        verbose_name = _("status update")
        verbose_name_plural = _("status updates")
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=Status.values),
                name="status_update_status_in_vocabulary",
                violation_error_message=_("Unknown status."),
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_note=""),
                name="status_update_correction_says_why",
                violation_error_message=_("A correction must say what was wrong."),
            ),
            models.CheckConstraint(
                condition=~Q(corrects=models.F("id")),
                name="status_update_not_self_correction",
            ),
            date_range_constraint(
                "effective_on",
                "status_update_effective_on_range",
                _("The date it took effect"),
                nullable=False,
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="status_update_idempotency_key_unique",
                violation_error_message=_("This form was already recorded."),
            ),
        ]
        indexes = [
            models.Index(
                fields=["commitment", "effective_on", "recorded_at"],
                name="status_update_timeline",
            ),
            # The changes feed and the API's recent changes: newest recorded first.
            models.Index(fields=["-recorded_at", "-id"], name="status_update_recorded"),
        ]

    def __str__(self):
        return f"{self.commitment}: {self.get_status_display()} ({self.vague('effective_on')})"

    def get_absolute_url(self):
        return f"{self.commitment.get_absolute_url()}#{self.anchor}"


class Check(models.Model):
    """An editor's "checked, nothing new": on ``checked_on`` the editors looked for news of
    the commitment and found no progress. Shown as "last checked" beside "as of"; it never
    changes the status nor resolves a *no recent progress* flag (only progress does).
    Append-only, like the timeline: written by ``services.check_record``, never edited."""

    commitment = models.ForeignKey(
        Commitment,
        verbose_name=_("commitment"),
        on_delete=models.PROTECT,
        related_name="checks",
    )
    checked_on = models.DateField(
        _("date checked"), validators=date_range_validators(_("The date checked"))
    )
    note = models.TextField(
        _("note"), help_text=_("What was looked at, and what it showed (or did not show).")
    )
    source = models.ForeignKey(
        Source,
        verbose_name=_("source"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="checks",
        help_text=_("Optional: the source consulted, if one says nothing has changed."),
    )
    recorded_by = user_field(_("recorded by"))
    recorded_at = models.DateTimeField(_("recorded at"), auto_now_add=True)
    # The one-time token of the form that recorded it (as for status updates): the same
    # form posted twice records one check.
    idempotency_key = models.UUIDField(_("form token"), null=True, blank=True, editable=False)

    objects = CheckQuerySet.as_manager()

    class Meta:
        ordering = ["-checked_on", "-recorded_at", "-id"]
        get_latest_by = ["checked_on", "recorded_at", "id"]
        verbose_name = _("check")
        verbose_name_plural = _("checks")
        constraints = [
            date_range_constraint(
                "checked_on", "check_checked_on_range", _("The date checked"), nullable=False
            ),
            models.CheckConstraint(
                condition=~Q(note=""),
                name="check_has_note",
                violation_error_message=_("Say what was checked."),
            ),
            models.UniqueConstraint(
                fields=["idempotency_key"],
                name="check_idempotency_key_unique",
                violation_error_message=_("This form was already recorded."),
            ),
        ]
        indexes = [
            # "Last checked": a commitment's newest check, read by its page and list rows.
            models.Index(fields=["commitment", "-checked_on"], name="check_latest"),
        ]

    def __str__(self):
        return gettext("%(commitment)s: checked %(date)s") % {
            "commitment": self.commitment,
            "date": date_format(self.checked_on),
        }

    def clean(self):
        errors = _refuse_future(self, "checked_on", _("The date checked"))
        if errors:
            raise ValidationError(errors)


class Indicator(models.Model):
    name = models.CharField(_("name"), max_length=200)
    name_fr = french_of(name)
    slug = models.SlugField(_("slug"), max_length=200, unique=True)
    description = models.TextField(_("description"), blank=True)
    description_fr = french_of(description)
    unit = models.CharField(_("unit"), max_length=50, help_text=_("e.g. 'people'."))
    unit_fr = french_of(unit)
    comparison_label = models.CharField(
        _("comparison label"),
        max_length=200,
        blank=True,
        help_text=_("What the comparison value is, e.g. 'Whole of 2024'."),
    )
    comparison_label_fr = french_of(comparison_label)
    comparison_value = FigureField(
        _("comparison value"),
        max_digits=14,
        decimal_places=2,
        null=True,
        blank=True,
        validators=figure_validators(_("The comparison value")),
    )
    comparison_source = models.ForeignKey(
        Source,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        verbose_name=_("comparison source"),
    )
    commitments = models.ManyToManyField(
        Commitment, related_name="indicators", blank=True, verbose_name=_("commitments")
    )
    topics = models.ManyToManyField(Topic, related_name="indicators", blank=True)

    objects = IndicatorQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        verbose_name = _("indicator")
        verbose_name_plural = _("indicators")
        constraints = [
            figure_constraint(
                "comparison_value",
                "indicator_comparison_value_range",
                _("The comparison value"),
                nullable=True,
            ),
        ]

    def __str__(self):
        return self.name


class Observation(TimelineStepMixin, VagueDateMixin, models.Model):
    indicator = models.ForeignKey(Indicator, on_delete=models.CASCADE, related_name="observations")
    observed_on = models.DateField(
        _("date"), validators=date_range_validators(_("The date of the observation"))
    )
    observed_precision = precision_field(_("date precision"))
    value = FigureField(
        _("value"),
        max_digits=14,
        decimal_places=2,
        validators=figure_validators(_("The value")),
    )
    source = models.ForeignKey(
        Source, verbose_name=_("source"), on_delete=models.PROTECT, related_name="observations"
    )
    note = models.CharField(_("note"), max_length=300, blank=True)
    note_fr = french_of(note)

    objects = ObservationQuerySet.as_manager()

    vague_dates = (("observed_on", "observed_precision"),)
    anchor_kind = "observation"

    class Meta:
        ordering = ["indicator", "observed_on"]
        verbose_name = _("observation")
        verbose_name_plural = _("observations")
        constraints = [
            models.UniqueConstraint(
                fields=["indicator", "observed_on", "source"],
                name="observation_unique_per_source_date",
                violation_error_message=_("This source already gives a value for that date."),
            ),
            figure_constraint("value", "observation_value_range", _("The value"), nullable=False),
            date_range_constraint(
                "observed_on",
                "observation_observed_on_range",
                _("The date of the observation"),
                nullable=False,
            ),
        ]

    def __str__(self):
        return f"{self.indicator}: {self.value} ({self.vague('observed_on')})"

    def clean(self):
        self.normalise_vague_dates()
        errors = _refuse_future(self, "observed_on", _("The date of the observation"))
        if errors:
            raise ValidationError(errors)


class Flag(models.Model):
    """Raised and resolved by the background jobs, never by hand: the machine's observation."""

    commitment = models.ForeignKey(Commitment, on_delete=models.CASCADE, related_name="flags")
    reason = models.CharField(_("reason"), max_length=30, choices=FlagReason)
    raised_at = models.DateTimeField(_("raised at"))
    since = models.DateField(
        _("since"),
        null=True,
        blank=True,
        help_text=_("The date the condition dates from: last progress, or the deadline."),
    )
    since_precision = precision_field(_("since precision"))
    details = models.TextField(_("details"), blank=True)
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = user_field()
    acknowledgement_note = models.TextField(_("acknowledgement note"), blank=True)
    resolved_at = models.DateTimeField(_("resolved at"), null=True, blank=True)
    resolved_by = user_field()
    resolution_note = models.TextField(_("resolution note"), blank=True)

    objects = FlagQuerySet.as_manager()

    class Meta:
        ordering = ["-raised_at"]
        verbose_name = _("flag")
        verbose_name_plural = _("flags")
        permissions = [("resolve_flag", _("Can acknowledge and resolve flags"))]
        constraints = [
            models.UniqueConstraint(
                fields=["commitment", "reason"],
                condition=OPEN_FLAG,
                name="flag_one_open_per_reason",
                violation_error_message=_(
                    "This commitment already has an open flag for this reason."
                ),
            ),
            models.CheckConstraint(
                condition=Q(reason__in=FlagReason.values), name="flag_reason_valid"
            ),
            models.CheckConstraint(
                condition=Q(resolved_at__isnull=True) | Q(resolved_at__gte=models.F("raised_at")),
                name="flag_resolved_after_raised",
            ),
        ]
        indexes = [
            # The home page: the newest open flags, read in order until twenty are found
            # on published commitments (not every open flag sorted).
            models.Index(fields=["-raised_at"], name="flag_open_newest", condition=OPEN_FLAG),
            # The flag job: open flags by reason and commitment, with what its resolve step
            # reads, so it never visits the table.
            models.Index(
                fields=["reason", "commitment"],
                include=["since", "since_precision", "id"],
                name="flag_open_by_reason",
                condition=OPEN_FLAG,
            ),
        ]

    def __str__(self):
        return f"{self.commitment}: {self.get_reason_display()}"

    def plain_words(self) -> str:
        since = format_vague_date(self.since, self.since_precision) if self.since else ""
        if self.reason == FlagReason.NO_RECENT_PROGRESS:
            if since:
                return gettext("No recorded progress since %(date)s") % {"date": since}
            return gettext("No recorded progress")
        if self.reason == FlagReason.DEADLINE_PASSED:
            if since:
                return gettext("Deadline passed (%(date)s) without delivery") % {"date": since}
            return gettext("Deadline passed")
        return gettext("The sources for its current status are no longer online")


class EditorsDigest(models.Model):
    """One row per digest email sent to the publishers: what it covered and to whom."""

    sent_at = models.DateTimeField(_("sent at"))
    covers_from = models.DateTimeField(_("covers from"), null=True, blank=True)
    covers_until = models.DateTimeField(_("covers until"))
    raised_count = models.PositiveIntegerField(_("flags raised"), default=0)
    resolved_count = models.PositiveIntegerField(_("flags resolved"), default=0)
    recipients = models.TextField(_("recipients"), blank=True)

    class Meta:
        ordering = ["-sent_at"]
        get_latest_by = "covers_until"
        verbose_name = _("editors' digest")
        verbose_name_plural = _("editors' digests")

    def __str__(self):
        return gettext("Digest of %(moment)s") % {"moment": f"{self.covers_until:%Y-%m-%d %H:%M}"}


class Revision(models.Model):
    """A change to published material other than a status update: what it said, what it
    says, who (by role), when and why.

    An editor's change is *proposed* and changes nothing public until a publisher applies
    it; a publisher's own change is applied at once. Either way the row stays: applied
    revisions are the public change history (``/commitments/<slug>/changes/``), and those
    of kind "correction" are also listed with the corrections, in the feeds and the API.
    Rows are written only by ``services.revisions``; in PostgreSQL a trigger refuses to
    delete one or to change one that has been decided.
    """

    class Kind(models.TextChoices):
        CORRECTION = "correction", _("Correction: the public record said something wrong")
        MINOR = "minor", _("Minor edit: spelling, formatting, nothing of substance")

    class State(models.TextChoices):
        PROPOSED = "proposed", _("Waiting for a publisher")
        APPLIED = "applied", _("Applied")
        REJECTED = "rejected", _("Rejected")

    content_type = models.ForeignKey(
        "contenttypes.ContentType", on_delete=models.PROTECT, related_name="+"
    )
    object_id = models.PositiveBigIntegerField(_("object id"))
    object_label = models.CharField(_("what was changed"), max_length=300)
    changes = models.JSONField(
        _("changes"),
        help_text=_("One entry per field: its label, the value before and after, as shown."),
    )
    kind = models.CharField(_("kind of change"), max_length=12, choices=Kind)
    reason = models.TextField(_("reason"))
    reason_fr = french_of(reason)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PROPOSED)
    proposed_by = user_field()
    proposed_role = models.CharField(_("proposed by (role)"), max_length=30)
    proposed_at = models.DateTimeField(_("proposed at"))
    decided_by = user_field()
    decided_role = models.CharField(_("decided by (role)"), max_length=30, blank=True)
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_note = models.TextField(_("publisher's note"), blank=True)
    commitments = models.ManyToManyField(
        Commitment,
        related_name="revisions",
        blank=True,
        verbose_name=_("commitments that show it"),
    )

    objects = RevisionQuerySet.as_manager()

    class Meta:
        ordering = ["-decided_at", "-proposed_at", "-id"]
        verbose_name = _("revision")
        verbose_name_plural = _("revisions")
        constraints = [
            models.CheckConstraint(
                condition=Q(kind__in=["correction", "minor"]), name="revision_kind_valid"
            ),
            models.CheckConstraint(
                condition=Q(state__in=["proposed", "applied", "rejected"]),
                name="revision_state_valid",
            ),
            models.CheckConstraint(
                condition=~Q(reason=""),
                name="revision_has_reason",
                violation_error_message=_("Say why this change is made."),
            ),
            models.CheckConstraint(
                condition=Q(state="proposed") | Q(decided_at__isnull=False),
                name="revision_decided_has_date",
            ),
        ]
        indexes = [
            models.Index(fields=["content_type", "object_id", "state"], name="revision_object"),
            models.Index(fields=["state", "-decided_at"], name="revision_state_decided"),
        ]

    def __str__(self):
        return f"{self.object_label} ({self.get_state_display()})"

    def public_url(self, commitment: Commitment) -> str:
        """Its entry on the change history of one of the commitments that show it."""
        return (
            reverse("commitments:commitment_changes", kwargs={"slug": commitment.slug})
            + f"#revision-{self.pk}"
        )

    @property
    def public_kind_label(self) -> str:
        return _("Correction") if self.kind == self.Kind.CORRECTION else _("Minor edit")

    #: Changes that are not to one field of the model: a commitment's actors and related
    #: commitments (rows of other tables).
    PSEUDO_FIELDS = {
        "roles": _("actors and their roles"),
        "relations": _("related commitments"),
    }

    @classmethod
    def field_label(cls, model, name: str) -> str:
        """A revised field's label in the active language: "Title (French)" on English
        pages, "Titre (en français)" on French ones."""
        if name in cls.PSEUDO_FIELDS:
            return capfirst(str(cls.PSEUDO_FIELDS[name]))
        return capfirst(str(model._meta.get_field(name).verbose_name))

    def change_label(self, change: dict) -> str:
        """One of ``changes``' labels in the active language (a change stores its label in
        the site's language when it is made); the stored label for a field since removed.
        No query: content types are cached."""
        from django.contrib.contenttypes.models import ContentType
        from django.core.exceptions import FieldDoesNotExist

        try:
            model = ContentType.objects.get_for_id(self.content_type_id).model_class()
            return self.field_label(model, change["field"])
        except (FieldDoesNotExist, KeyError, AttributeError, ContentType.DoesNotExist):
            return change.get("label") or change.get("field", "")


class PublicVersion(models.Model):
    """One row: a number that changes with every write to anything the public reads, and
    the second it last changed. Never written by the app: database triggers (migration
    0009) bump it inside the writing transaction, so a new version becomes visible exactly
    when the change does. ``commitments.caching`` builds validators and cache keys on it."""

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    version = models.BigIntegerField(_("version"))
    changed_at = models.DateTimeField(_("changed at"))

    class Meta:
        verbose_name = _("public version")
        constraints = [models.CheckConstraint(condition=Q(id=1), name="public_version_one_row")]

    def __str__(self):
        return f"Public version {self.version} ({self.changed_at:%Y-%m-%d %H:%M:%S})"


# --- Following a promise: the outbox, email alerts and webhooks (issue 12) ----------------


class EventType(models.TextChoices):
    """What a follower is told about. The value is the event's ``type`` in a webhook body
    and names its email template (``alerts/events/<value>.txt``)."""

    STATUS_UPDATE = "status_update.created", _("New status update")
    CORRECTION = "status_update.corrected", _("Correction to the timeline")
    FLAG_RAISED = "flag.raised", _("Flag raised")
    FLAG_RESOLVED = "flag.resolved", _("Flag resolved")
    REVISION = "revision.applied", _("Revision of published text")
    PUBLISHED = "commitment.published", _("Commitment published")
    TEST = "webhook.test", _("Test event (one endpoint)")


#: Event types a follower may choose; the test event goes to one endpoint only.
FOLLOWED_EVENT_TYPES = tuple(t for t in EventType.values if t != EventType.TEST)


def _subject_fields(*, indexed=True):
    """What an event, a subscription or a webhook endpoint is about: a commitment, an
    actor, a topic, or (all three empty) everything public. ``indexed=False``: no plain
    index on the columns (the model declares partial ones where the column is set)."""
    return {
        name: models.ForeignKey(
            model,
            verbose_name=label,
            null=True,
            blank=True,
            on_delete=models.CASCADE,
            related_name="+",
            db_index=indexed,
        )
        for name, model, label in (
            ("commitment", "Commitment", _("commitment")),
            ("actor", "Actor", _("actor")),
            ("topic", "Topic", _("topic")),
        )
    }


#: At most one of commitment, actor and topic: a follow is about one thing, or everything.
ONE_SUBJECT = (
    Q(commitment__isnull=True, actor__isnull=True)
    | Q(commitment__isnull=True, topic__isnull=True)
    | Q(actor__isnull=True, topic__isnull=True)
)


class SubjectMixin:
    """What a follow (subscription, endpoint) or an event is about, in words and as a link."""

    @property
    def subject(self):
        return self.commitment or self.actor or self.topic

    @property
    def subject_label(self) -> str:
        subject = self.subject
        return str(subject) if subject is not None else str(_("every change on the tracker"))

    @property
    def subject_url(self) -> str:
        subject = self.subject
        return subject.get_absolute_url() if subject is not None else reverse("commitments:home")


class OutboxEvent(SubjectMixin, models.Model):
    """Something a follower is told about, written in the same transaction as the change
    that causes it (``services.outbox.event_record``), never edited after. Its payload is
    frozen then: an alert says what happened, as the record stood at that moment.

    ``key`` names the change (``status_update:12``, ``flag:7:resolved``): the unique
    constraint keeps a change from being told twice, whichever code path records it.
    ``fanned_out_at`` is set once its recipients (email alerts and webhook deliveries) are
    written, by one set-based insert each (``services.outbox.event_fan_out``); the
    periodic sweep fans out any event left behind."""

    uuid = models.UUIDField(_("public id"), unique=True, editable=False)
    type = models.CharField(_("type"), max_length=40, choices=EventType)
    key = models.CharField(_("change"), max_length=120, unique=True)
    occurred_at = models.DateTimeField(_("occurred at"), default=timezone.now)
    payload = models.JSONField(_("payload"))
    # A test event goes to this endpoint only, never to subscribers.
    endpoint = models.ForeignKey(
        "WebhookEndpoint",
        verbose_name=_("only to endpoint"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="test_events",
        db_index=False,
    )
    fanned_out_at = models.DateTimeField(_("recipients written at"), null=True, blank=True)

    # Written by the thousand in a flag job's run: only the indexes it needs, the columns
    # that are nearly always empty indexed where set (their cascading deletes use them).
    locals().update(_subject_fields(indexed=False))

    class Meta:
        ordering = ["-occurred_at", "-id"]
        verbose_name = _("outbox event")
        verbose_name_plural = _("outbox events")
        constraints = [
            models.CheckConstraint(
                condition=Q(type__in=EventType.values), name="outbox_event_type_valid"
            ),
            models.CheckConstraint(condition=ONE_SUBJECT, name="outbox_event_one_subject"),
        ]
        indexes = [
            # The sweep: events whose recipients are not written yet.
            models.Index(
                fields=["occurred_at"],
                name="outbox_event_pending",
                condition=Q(fanned_out_at__isnull=True),
            ),
            models.Index(fields=["commitment"], name="outbox_event_commitment"),
            *(
                models.Index(
                    fields=[column],
                    name=f"outbox_event_{column}",
                    condition=Q(**{f"{column}__isnull": False}),
                )
                for column in ("actor", "topic", "endpoint")
            ),
        ]

    def __str__(self):
        return f"{self.get_type_display()}: {self.payload.get('headline', self.key)}"

    @property
    def webhook_id(self) -> str:
        """The Standard Webhooks message id: the same on every retry."""
        return f"msg_{self.uuid.hex}"


class Subscriber(models.Model):
    """An email address following something, and nothing else about its owner. Deleted with
    its last subscription. ``key`` is mixed into every signed link sent to it, so deleting
    the address (or rotating the key) makes every old link dead."""

    email = models.EmailField(_("email address"), max_length=254)
    key = models.CharField(_("link key"), max_length=32, editable=False)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    confirmation_sent_at = models.DateTimeField(
        _("confirmation last sent at"), null=True, blank=True
    )
    language = models.CharField(
        _("language of the emails"),
        max_length=10,
        choices=settings.LANGUAGES,
        default="en-gb",
        db_default="en-gb",
    )

    class Meta:
        ordering = ["email"]
        verbose_name = _("subscriber")
        verbose_name_plural = _("subscribers")
        constraints = [
            models.UniqueConstraint(
                models.functions.Lower("email"),
                name="subscriber_email_unique",
                violation_error_message=_("This address is already registered."),
            ),
        ]

    def __str__(self):
        return self.email


class Subscription(SubjectMixin, models.Model):
    """One address following one commitment, actor or topic (or everything), each change or
    in a daily digest. Nothing is sent before ``confirmed_at`` (double opt-in)."""

    class Frequency(models.TextChoices):
        EACH = "each", _("Each change")
        DAILY = "daily", _("Daily digest")

    subscriber = models.ForeignKey(
        Subscriber,
        verbose_name=_("subscriber"),
        on_delete=models.CASCADE,
        related_name="subscriptions",
    )
    frequency = models.CharField(
        _("how often"), max_length=5, choices=Frequency, default=Frequency.EACH
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    confirmed_at = models.DateTimeField(_("confirmed at"), null=True, blank=True)

    locals().update(_subject_fields())

    class Meta:
        ordering = ["subscriber", "-created_at"]
        verbose_name = _("subscription")
        verbose_name_plural = _("subscriptions")
        constraints = [
            models.CheckConstraint(condition=ONE_SUBJECT, name="subscription_one_subject"),
            models.CheckConstraint(
                condition=Q(frequency__in=["each", "daily"]), name="subscription_frequency_valid"
            ),
            models.UniqueConstraint(
                fields=["subscriber", "commitment"],
                condition=Q(commitment__isnull=False),
                name="subscription_once_per_commitment",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "actor"],
                condition=Q(actor__isnull=False),
                name="subscription_once_per_actor",
            ),
            models.UniqueConstraint(
                fields=["subscriber", "topic"],
                condition=Q(topic__isnull=False),
                name="subscription_once_per_topic",
            ),
            models.UniqueConstraint(
                fields=["subscriber"],
                condition=Q(commitment__isnull=True, actor__isnull=True, topic__isnull=True),
                name="subscription_once_to_everything",
            ),
        ]
        indexes = [
            # Fan-out: the confirmed followers of one thing.
            models.Index(
                fields=["commitment"],
                name="subscription_commitment",
                condition=Q(confirmed_at__isnull=False),
            ),
            models.Index(
                fields=["actor"],
                name="subscription_actor",
                condition=Q(confirmed_at__isnull=False),
            ),
            models.Index(
                fields=["topic"],
                name="subscription_topic",
                condition=Q(confirmed_at__isnull=False),
            ),
        ]

    def __str__(self):
        return gettext("%(subscriber)s follows %(subject)s") % {
            "subscriber": self.subscriber,
            "subject": self.subject_label,
        }


class DeliveryMixin(models.Model):
    """One event to one recipient: pending until sent, retried with backoff, and at most
    once per recipient (the unique pair is the idempotency key)."""

    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    attempts = models.PositiveIntegerField(_("attempts"), default=0)
    sent_at = models.DateTimeField(_("delivered at"), null=True, blank=True)
    failed_at = models.DateTimeField(
        _("given up at"),
        null=True,
        blank=True,
        help_text=_("Set when delivery was abandoned: a permanent refusal, or retries ran out."),
    )
    last_error = models.TextField(_("last error"), blank=True)

    class Meta:
        abstract = True

    @property
    def state(self) -> str:
        if self.sent_at:
            return "delivered"
        if self.failed_at:
            return "failed"
        return "pending"


class Alert(DeliveryMixin):
    """One event for one email address: sent on its own, or (``digest``) in the daily
    digest. The email's Message-ID is built from the pair, so a mail that had to be sent
    again carries the same id."""

    # Indexed by the unique pair (event, subscriber), which starts with it: a fan-out
    # writes 100,000 rows at once, and each index less is a write less per row.
    event = models.ForeignKey(
        OutboxEvent,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="alerts",
        db_index=False,
    )
    subscriber = models.ForeignKey(
        Subscriber, verbose_name=_("subscriber"), on_delete=models.CASCADE, related_name="alerts"
    )
    digest = models.BooleanField(_("in the daily digest"), default=False)

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("email alert")
        verbose_name_plural = _("email alerts")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "subscriber"], name="alert_once_per_subscriber"
            ),
        ]
        indexes = [
            models.Index(
                fields=["digest", "next_attempt_at"],
                name="alert_pending",
                condition=PENDING_DELIVERY,
            ),
        ]

    def __str__(self):
        return gettext("%(event)s to %(recipient)s") % {
            "event": self.event,
            "recipient": self.subscriber,
        }


class WebhookEndpoint(SubjectMixin, models.Model):
    """A newsroom's URL that receives events as signed JSON (Standard Webhooks), registered
    by an Admin. ``event_types`` empty means every type."""

    url = models.URLField(_("URL"), max_length=500)
    description = models.CharField(_("description"), max_length=200, blank=True)
    event_types = models.JSONField(
        _("event types"),
        default=list,
        blank=True,
        help_text=_("Leave empty for every type."),
    )
    secret = models.CharField(
        _("signing secret"),
        max_length=100,
        editable=False,
        help_text=_("Standard Webhooks secret (whsec_…): give it to the receiving newsroom."),
    )
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    created_by = user_field(_("created by"))

    locals().update(_subject_fields())

    class Meta:
        ordering = ["url"]
        verbose_name = _("webhook endpoint")
        verbose_name_plural = _("webhook endpoints")
        constraints = [
            models.CheckConstraint(condition=ONE_SUBJECT, name="webhook_endpoint_one_subject"),
        ]

    def __str__(self):
        return self.description or self.url


class WebhookDelivery(DeliveryMixin):
    """One event for one endpoint; each try is a ``WebhookAttempt`` (the delivery log)."""

    # Indexed by the unique pair (event, endpoint), which starts with it.
    event = models.ForeignKey(
        OutboxEvent,
        verbose_name=_("event"),
        on_delete=models.CASCADE,
        related_name="webhook_deliveries",
        db_index=False,
    )
    endpoint = models.ForeignKey(
        WebhookEndpoint,
        verbose_name=_("endpoint"),
        on_delete=models.CASCADE,
        related_name="deliveries",
    )

    objects = DeliveryQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-id"]
        verbose_name = _("webhook delivery")
        verbose_name_plural = _("webhook deliveries")
        constraints = [
            models.UniqueConstraint(
                fields=["event", "endpoint"], name="webhook_delivery_once_per_endpoint"
            ),
        ]
        indexes = [
            models.Index(
                fields=["next_attempt_at"],
                name="webhook_delivery_pending",
                condition=PENDING_DELIVERY,
            ),
        ]

    def __str__(self):
        return gettext("%(event)s to %(recipient)s") % {
            "event": self.event,
            "recipient": self.endpoint,
        }


class WebhookAttempt(models.Model):
    """One POST of a delivery: when, what came back, how long it took."""

    delivery = models.ForeignKey(
        WebhookDelivery,
        verbose_name=_("delivery"),
        on_delete=models.CASCADE,
        related_name="attempt_log",
    )
    attempted_at = models.DateTimeField(_("attempted at"), default=timezone.now)
    status_code = models.PositiveSmallIntegerField(_("HTTP status"), null=True, blank=True)
    duration_ms = models.PositiveIntegerField(_("duration (ms)"), default=0)
    error = models.TextField(_("error"), blank=True)
    response_excerpt = models.TextField(_("response (first 500 characters)"), blank=True)

    class Meta:
        ordering = ["-attempted_at", "-id"]
        verbose_name = _("webhook attempt")
        verbose_name_plural = _("webhook attempts")

    def __str__(self):
        return f"{self.delivery}: {self.status_code or self.error[:40]}"
