"""Sane ranges for every number and date an editor types (issue 9): a validator whose
message names the field, and a named CHECK constraint behind it; and the stall job keeps
going past one extreme row."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.db import DataError, IntegrityError, connection, transaction
from django.utils import timezone

from commitments import services
from commitments.models import (
    Commitment,
    FlagReason,
    Indicator,
    Observation,
    Statement,
    StatusUpdate,
)

pytestmark = pytest.mark.django_db

D = datetime.date
TOO_EARLY = D(1899, 12, 31)
TOO_LATE = D(2201, 1, 1)


@pytest.fixture
def editor(role_client):
    return role_client("Editor")


def refused_by(constraint: str, write) -> str:
    """Run ``write`` in a savepoint; return the database's error, which must name
    ``constraint``."""
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        write()
    assert constraint in str(caught.value), caught.value
    return str(caught.value)


# --- The database refuses, whoever writes (no validators on these paths) -----------------


@pytest.mark.parametrize(
    ("values", "constraint"),
    [
        ({"stall_after_days": 0}, "commitment_stall_after_days_range"),
        ({"stall_after_days": 3651}, "commitment_stall_after_days_range"),
        ({"stall_after_days": 2147483647}, "commitment_stall_after_days_range"),
        ({"made_on": TOO_EARLY}, "commitment_made_on_range"),
        ({"made_on": TOO_LATE, "deadline": None}, "commitment_made_on_range"),
        ({"deadline": TOO_LATE}, "commitment_deadline_range"),
    ],
)
def test_a_commitment_out_of_range_is_refused_by_a_named_constraint(
    make_commitment, values, constraint
):
    commitment = make_commitment()
    refused_by(constraint, lambda: Commitment.objects.filter(pk=commitment.pk).update(**values))


def test_in_range_extremes_are_stored(make_commitment):
    commitment = make_commitment()
    Commitment.objects.filter(pk=commitment.pk).update(
        stall_after_days=3650, made_on=D(1900, 1, 1), deadline=D(2200, 12, 31)
    )
    Commitment.objects.filter(pk=commitment.pk).update(stall_after_days=1)


def test_source_statement_update_and_observation_dates_are_held_by_named_constraints(
    make_commitment, make_source, log_update
):
    source = make_source()
    refused_by(
        "source_published_on_range",
        lambda: type(source).objects.filter(pk=source.pk).update(published_on=TOO_EARLY),
    )
    commitment = make_commitment()
    refused_by(
        "statement_said_on_range",
        lambda: Statement.objects.create(
            text="Words.", speaker_description="An official", said_on=TOO_LATE, source=source
        ),
    )
    refused_by(
        "status_update_effective_on_range",
        lambda: StatusUpdate.objects.create(
            commitment=commitment, status="in_progress", effective_on=TOO_EARLY, description="x"
        ),
    )
    indicator = Indicator.objects.create(name="Arrivals", slug="arrivals", unit="people")
    refused_by(
        "observation_observed_on_range",
        lambda: Observation.objects.create(
            indicator=indicator, observed_on=TOO_LATE, value=1, source=source
        ),
    )


def test_figures_are_held_within_a_trillion(make_source):
    source = make_source()
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT conname FROM pg_constraint WHERE conname IN "
            "('observation_value_range', 'indicator_comparison_value_range')"
        )
        assert {row[0] for row in cursor.fetchall()} == {
            "observation_value_range",
            "indicator_comparison_value_range",
        }
    indicator = Indicator(name="Arrivals", slug="arrivals", unit="people")
    indicator.comparison_value = Decimal("1000000000000")
    with pytest.raises(ValidationError) as caught:
        indicator.full_clean()
    assert "The comparison value must be less than one trillion" in str(
        caught.value.message_dict["comparison_value"]
    )
    # The model's own constraint check (what the admin runs) refuses it too, by name.
    with pytest.raises(ValidationError) as caught:
        indicator.validate_constraints()
    assert "The comparison value must lie between -10^12 and 10^12." in str(caught.value)
    indicator.comparison_value = Decimal("999999999999.99")
    indicator.full_clean()
    indicator.save()
    observation = Observation(
        indicator=indicator,
        observed_on=D(2025, 1, 1),
        value=Decimal("-1000000000000"),
        source=source,
    )
    with pytest.raises(ValidationError) as caught:
        observation.full_clean()
    assert "The value must be more than minus one trillion" in str(
        caught.value.message_dict["value"]
    )
    # 10^12 does not fit the column (numeric(14,2)): refused before the CHECK is reached.
    with pytest.raises((IntegrityError, DataError)), transaction.atomic():
        Observation.objects.create(
            indicator=indicator, observed_on=D(2025, 1, 1), value=Decimal("1e12"), source=source
        )


# --- Editors read a message beside the field -------------------------------------------------


def admin_post_data(client, url: str, **values) -> dict:
    """The add form's fields as the page offers them (inline formsets left empty)."""
    response = client.get(url)
    assert response.status_code == 200
    data = {}
    for inline in response.context["inline_admin_formsets"]:
        management = inline.formset.management_form
        data[f"{management.prefix}-TOTAL_FORMS"] = "0"
        data[f"{management.prefix}-INITIAL_FORMS"] = "0"
    data.update(values)
    return data


COMMITMENT = {
    "title": "Ranges",
    "slug": "ranges",
    "summary": "A promise.",
    "made_on": "2025-07-10",
    "made_precision": "day",
    "deadline_precision": "day",
    "original_wording_language": "en",
}


@pytest.mark.parametrize(
    ("values", "field", "message"),
    [
        (
            {"stall_after_days": "2147483647"},
            "stall_after_days",
            "Stall after (days) must be at most 3650 days (ten years).",
        ),
        ({"stall_after_days": "0"}, "stall_after_days", "Stall after (days) must be at least 1"),
        ({"made_on": "1850-01-01"}, "made_on", "The date made cannot be before 1 January 1900."),
        ({"deadline": "2990-01-01"}, "deadline", "The deadline cannot be after 31 December 2200."),
        ({"deadline": "2150-01-01"}, "deadline", "cannot be more than fifty years ahead."),
    ],
)
def test_the_commitment_form_names_the_field_out_of_range(editor, values, field, message):
    url = "/admin/commitments/commitment/add/"
    response = editor.post(url, admin_post_data(editor, url, **{**COMMITMENT, **values}))
    assert response.status_code == 200
    assert message in " ".join(response.context["adminform"].form.errors[field])
    assert not Commitment.objects.filter(slug="ranges").exists()


def test_a_commitment_ten_years_patient_is_accepted(editor):
    url = "/admin/commitments/commitment/add/"
    data = admin_post_data(
        editor, url, **COMMITMENT, stall_after_days="3650", deadline="2060-01-01"
    )
    response = editor.post(url, data)
    assert response.status_code == 302, response.context["adminform"].form.errors
    assert Commitment.objects.get(slug="ranges").stall_after_days == 3650


def test_the_observation_form_names_the_field_out_of_range(editor, make_source):
    source = make_source()
    indicator = Indicator.objects.create(name="Arrivals", slug="arrivals", unit="people")
    url = "/admin/commitments/observation/add/"
    tomorrow = timezone.localdate() + datetime.timedelta(days=1)
    response = editor.post(
        url,
        {
            "indicator": indicator.pk,
            "observed_on": tomorrow.isoformat(),
            "observed_precision": "day",
            "value": "1000000000000",
            "source": source.pk,
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "The value must lie between -10^12 and 10^12." in " ".join(errors["value"])
    assert "The date of the observation is after today." in " ".join(errors["observed_on"])
    assert not Observation.objects.exists()


def test_a_new_source_dated_before_1900_is_refused_beside_its_field(editor, seeded):
    commitment = Commitment.objects.get(slug="intercept-taxi-boats")
    response = editor.post(
        "/admin/commitments/statusupdate/add/",
        {
            "commitment": commitment.pk,
            "status": "stalled",
            "effective_on": "2025-10-01",
            "effective_precision": "month",
            "description": "Still studied.",
            "new_source_title": "Old",
            "new_source_outlet": "Gazette",
            "new_source_published_on": "1850-01-01",
            "new_source_published_precision": "day",
            "new_source_kind": "news_report",
        },
    )
    assert response.status_code == 200
    errors = response.context["adminform"].form.errors
    assert "before 1 January 1900" in " ".join(errors["new_source_published_on"])


# --- One bad row never stops the stall job for the others --------------------------------------


class _RollBack(Exception):
    pass


@pytest.mark.django_db(transaction=True)
def test_the_stall_job_survives_an_extreme_threshold(make_commitment):
    """Written before the constraint (here: with it dropped inside a transaction that is
    rolled back), a threshold of 2^31-1 days once made ``date + days`` overflow and the
    whole run fail ('date out of range'). The job clamps it: the others are flagged."""
    extreme = make_commitment(made_on=D(2025, 1, 1))
    ordinary = make_commitment(made_on=D(2025, 1, 1), stall_after_days=10)
    with pytest.raises(_RollBack), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(
                "ALTER TABLE commitments_commitment "
                "DROP CONSTRAINT commitment_stall_after_days_range"
            )
            cursor.execute(
                "UPDATE commitments_commitment SET stall_after_days = 2147483647 WHERE id = %s",
                [extreme.pk],
            )
        report = services.flags_refresh(today=D(2026, 1, 1))
        assert report.raised[FlagReason.NO_RECENT_PROGRESS] == 1
        assert ordinary.flags.open().filter(reason=FlagReason.NO_RECENT_PROGRESS).exists()
        assert not extreme.flags.exists()
        raise _RollBack
    # The constraint is back.
    refused_by(
        "commitment_stall_after_days_range",
        lambda: Commitment.objects.filter(pk=extreme.pk).update(stall_after_days=2147483647),
    )


def test_an_extreme_site_threshold_does_not_stop_the_job(settings, make_commitment):
    """The site's STALL_AFTER_DAYS is clamped the same way."""
    settings.STALL_AFTER_DAYS = 2147483647
    default = make_commitment(made_on=D(2025, 1, 1))
    quick = make_commitment(made_on=D(2025, 1, 1), stall_after_days=10)
    report = services.flags_refresh(today=D(2026, 1, 1))
    assert report.raised[FlagReason.NO_RECENT_PROGRESS] == 1
    assert quick.flags.open().exists() and not default.flags.exists()
