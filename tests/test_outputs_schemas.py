"""A commitment is serialised once (``commitments/schemas.py``): the exports' row has the
API's values, flattened, and its fast path gives what ninja's validation would."""

from __future__ import annotations

import csv
import datetime
import io
import json

import pytest
from django.utils import timezone

from commitments import selectors
from commitments.exports import CSV_COLUMNS
from commitments.models import ActorRole, CommitmentActor, Flag, FlagReason
from commitments.schemas import CommitmentRow

pytestmark = pytest.mark.django_db


@pytest.fixture
def commitment(make_commitment, make_actor, make_topic):
    commitment = make_commitment(
        title="Row and API agree",
        status="in_progress",
        status_since=datetime.date(2025, 9, 1),
        status_since_precision="month",
        deadline=datetime.date(2025, 12, 31),
        made_on=datetime.date(2025, 1, 1),
        made_precision="year",
    )
    CommitmentActor.objects.create(
        commitment=commitment, actor=make_actor(name="Delivery body"), role=ActorRole.RESPONSIBLE
    )
    commitment.topics.add(make_topic(name="Crossings"))
    Flag.objects.create(
        commitment=commitment, reason=FlagReason.NO_RECENT_PROGRESS, raised_at=timezone.now()
    )
    return commitment


def test_the_csv_columns_and_json_keys_are_the_row_schemas_fields(client, commitment):
    fields = list(CommitmentRow.model_fields)
    assert CSV_COLUMNS == [*fields, "generated_at"]
    header = next(csv.reader(io.StringIO(client.get("/commitments.csv").getvalue().decode())))
    assert header == CSV_COLUMNS
    (row,) = json.loads(client.get("/commitments.json").getvalue())["commitments"]
    assert list(row) == fields


def test_the_export_row_has_the_apis_values_flattened(client, commitment):
    (api,) = client.get("/api/commitments").json()["items"]
    (row,) = json.loads(client.get("/commitments.json").getvalue())["commitments"]
    for name in ("title", "url", "status", "status_label", "made_on", "open_flags", "summary"):
        assert row[name] == api[name], name
    assert row["status_since"] == api["status_since"] == "2025-09"
    assert row["deadline"] == api["deadline"] == "2025-12-31"
    assert row["open_flags"] == ["No recorded progress"]
    for role in ("made_by", "responsible"):
        assert row[role] == [a["name"] for a in api["actors"] if a["role"] == role]
    assert row["topics"] == [t["name"] for t in api["topics"]] == ["Crossings"]


def test_a_date_not_known_is_null_in_the_api_and_empty_in_the_export(client, make_commitment):
    make_commitment(title="No deadline")
    (api,) = client.get("/api/commitments").json()["items"]
    (row,) = json.loads(client.get("/commitments.json").getvalue())["commitments"]
    assert api["deadline"] is None and api["status_since"] is None
    assert row["deadline"] == "" and row["status_since"] == ""


def test_the_rows_fast_path_gives_what_validating_the_schema_gives(commitment, make_commitment):
    make_commitment(title="Second", status="kept")
    records = list(selectors.commitment_export_rows(selectors.commitment_list_items()))
    fast = list(CommitmentRow.rows(records))
    validated = [CommitmentRow.from_orm(record).model_dump() for record in records]
    assert fast == validated
    assert [list(row) for row in fast] == [list(row) for row in validated]
